"""The real interactive window (matviz.graphics.window.Window) in a true X window under Xvfb.

pytest itself runs headless, so window_driver.py runs in a subprocess under ``xvfb-run -a`` (or
directly when a DISPLAY exists): it opens the window, presses keys, plays the sweep, right-clicks a
result cell and saves a screenshot of the real window. Here we check what it recorded.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from matviz.graphics import colors

DRIVER = Path(__file__).resolve().parent / "window_driver.py"
XVFB_MISSING = "the window test needs Xvfb: apt-get install -y xvfb"


def driver_command(outdir: Path) -> list[str] | None:
    """How to run the driver: directly with a display, else under xvfb-run; None if neither exists."""
    cmd = [sys.executable, str(DRIVER), str(outdir)]
    if os.environ.get("DISPLAY"):
        return cmd
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        return None
    return [xvfb, "-a", "-s", "-screen 0 1280x1024x24", *cmd]


@pytest.fixture(scope="module")
def window_run(tmp_path_factory):
    """Run the driver once: ``(results dict, screenshot array)``, or None without Xvfb and display."""
    out = tmp_path_factory.mktemp("window")
    cmd = driver_command(out)
    if cmd is None:
        return None
    env = dict(os.environ)
    # importing matviz.graphics headless set this in *our* environment; the child has a display
    env.pop("VTK_DEFAULT_OPENGL_WINDOW", None)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, (
        f"window driver failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
    results = json.loads((out / "results.json").read_text())
    results["outdir"] = str(out)  # the head window's screenshots are there too
    return results, iio.imread(out / "window.png")[..., :3]


def need(run):
    """The driver's results; without Xvfb or a display the test fails (not skips): the window is a feature."""
    if run is None:
        pytest.fail(XVFB_MISSING)
    return run


def test_is_a_real_x_window(window_run):
    res, img = need(window_run)
    assert "XOpenGL" in res["render_window"]
    assert res["off_screen"] is False
    assert res["window_size"] == [640, 480]
    assert img.shape == (480, 640, 3) == tuple(res["screenshot_shape"])


def test_keys_step_k_and_toggle_the_interior(window_run):
    res, _ = need(window_run)
    k = res["k_steps"]
    assert k == 3
    assert res["k_initial"] == k  # opens on the finished picture
    assert res["k_after_left"] == k - 1
    assert res["visible_slices_after_left"] == [True] * (k - 1) + [False]
    assert res["k_after_end"] == k
    assert res["interior_toggled"] == [True, False, True]
    assert res["visible_slices_after_i"] == [False] * k


def test_space_plays_the_sweep_from_zero_to_the_end(window_run):
    res, _ = need(window_run)
    ks = res["k_sequence"]
    assert res["playing_after_space"] is True
    assert ks[0] == 0 and ks[-1] == res["k_steps"]
    assert all(b >= a for a, b in zip(ks, ks[1:])), ks
    assert sorted(set(ks)) == list(range(res["k_steps"] + 1)), ks  # every k-block shown on the way
    assert res["playing_at_end"] is False and res["t_at_end"] == pytest.approx(res["duration"])


def test_right_click_picks_and_reports_the_dot_product(window_run):
    res, _ = need(window_run)
    assert res["highlight_initial"] is None
    assert res["cell_under_click"] == [1, 0]
    assert res["highlight"] == [1, 0]
    echo = res["echo"]
    assert "sum = 49" in echo
    for k, (a, b) in enumerate([(4, 1), (5, 3), (6, 5)]):  # A[1, k] * B[k, 0]
        assert re.search(rf"k={k}\s+{a}\s+\*\s+{b}\s+=\s+{a * b}\b", echo), echo


def test_window_screenshot_shows_the_scene_and_highlight(window_run):
    res, img = need(window_run)
    px = img.astype(int)
    hl = np.array([int(colors.HIGHLIGHT[i : i + 2], 16) for i in (1, 3, 5)])
    orange = np.all(np.abs(px - hl) <= 30, axis=-1)
    assert orange.sum() > 300, f"only {orange.sum()} highlight-coloured pixels in the window"
    painted = np.abs(px - 255).max(-1) > 30  # background is white
    assert 0.15 < painted.mean() < 0.9, f"{painted.mean():.0%} of the window is drawn"
    # the clicked cell C[1,0] = 49 is the top of the result's range: yellow around the click point
    x, y = res["click_at"]
    row, col = img.shape[0] - 1 - y, x
    patch = px[row - 15 : row + 16, col - 15 : col + 16]
    yellow = np.all(np.abs(patch - np.array([253, 231, 37])) <= 10, axis=-1)
    assert yellow.mean() > 0.5, f"the clicked cell is not drawn in C's top colour ({yellow.mean():.0%})"
    # orange outline around the picked cell, near the click
    around = orange[row - 60 : row + 61, col - 60 : col + 61]
    assert around.sum() > 50


def test_numbers_follow_the_users_camera_and_keys_keep_it(window_run):
    res, _ = need(window_run)
    assert res["numbers_off_anchor_after_orbit"] < 1.0  # placed again for the orbited camera
    assert res["camera_kept_by_key"] is True  # once the mouse moved it, the camera is the user's
    assert res["numbers_off_anchor_after_key"] < 1.0
    assert res["camera_kept_on_return"] is True


def test_c_frames_the_scene_again_after_the_user_moved_the_camera(window_run):
    res, _ = need(window_run)
    assert res["reframed_like_before_the_orbit"] is True  # the same state framed the same way again
    assert res["framed_after_reframe"] is True  # the next key frames its state (the camera is the view's)


# ---------------------------------------------------------------- a chain of two cubes (attention)


def test_chain_window_steps_from_the_first_cube_to_the_second(window_run):
    res, _ = need(window_run)
    ch = res["chain"]
    assert ch["off_screen"] is False
    beats = [tuple(p) for p in ch["beats"]]
    visited = [tuple(p) for p in ch["visited"]]
    # Right visits every beat once, in order, and stops at the finished picture
    assert visited[: len(beats)] == beats
    assert visited[len(beats) :] == [beats[-1]] * 2
    cubes = [c for c, _, _ in visited[:-1] if c is not None]
    assert cubes[0] == 0 and cubes[-1] == 1
    assert cubes == sorted(cubes) and set(cubes) == {0, 1}  # 0 -> 1, never back
    first_k = [k for c, k, _ in visited if c == 0 and k is not None]
    assert first_k == list(range(4 + 1))  # the first cube sums over k = d = 4
    # the second cube's interior: empty while the first cube is built, then one slice per step, then all
    gk = ch["second_cube_k_steps"]
    assert gk == 6  # its k is the sequence length
    expected = [0 if c == 0 else gk if c is None else k for c, k, _ in visited[1:]]
    assert ch["second_cube_slices_visible"] == expected
    assert [k for c, k, _ in visited if c == 1] == list(range(gk))


def test_chain_window_picks_cells_on_both_cubes(window_run):
    res, _ = need(window_run)
    picks = res["chain"]["picks"]
    for key, hit in picks.items():
        cube, cell = key.split(":")
        assert hit == [int(cube), [int(x) for x in cell.split(",")]], (key, hit)
    assert res["chain"]["panel_pick"] == [0, [2, 5]]  # the flat panel of the probabilities


def test_chain_window_right_click_on_the_first_cube_reports_its_dot_product(window_run):
    from window_driver import CHAIN_D, CHAIN_SEED, CHAIN_SEQ

    res, _ = need(window_run)
    after = res["chain"]["after_click"]
    assert after["cube"] == 0 and after["highlight"] == [2, 5]
    rng = np.random.default_rng(CHAIN_SEED)
    q, k, _ = (rng.standard_normal((CHAIN_SEQ, CHAIN_D)) for _ in range(3))
    total = float(q[2] @ k[5])  # (Q @ K.T)[2, 5]
    m = re.search(r"sum = (\S+)", after["echo"])
    assert m and float(m.group(1)) == pytest.approx(total, rel=1e-8), after["echo"]
    assert after["echo"].count("k=") == CHAIN_D


# ---------------------------------------------------------------- a model's heads (matviz show --attention)


@pytest.fixture(scope="module")
def model_probs():
    """The oracle: the probabilities of any (layer, head) as ``model_heads`` draws them, in this process."""
    from matviz.chain import model_heads
    from window_driver import HEADS_TEXT

    chains = model_heads(HEADS_TEXT, None, "all", "all")
    n_heads = 12
    return lambda layer, head: np.asarray(chains[layer * n_heads + head].cubes[0].stages[-1].values)


def test_head_and_layer_keys_switch_the_drawn_head(window_run, model_probs):
    from window_driver import HEADS_START

    res, _ = need(window_run)
    heads = res["heads"]
    # the keys as X delivers them (real key presses through the server): ] [ } { PageDown PageUp
    assert [k for k in heads["keysyms"] if k != "Shift_L"][:6] == [
        "bracketright", "bracketleft", "braceright", "braceleft", "Next", "Prior"]
    start = heads["start"]
    assert start["layer_head"] == list(HEADS_START)
    expected = [[1, 4], [1, 3], [2, 3], [1, 3], [2, 3], [1, 3]]
    assert [m["layer_head"] for m in heads["moves"]] == expected
    for shown in [start, *heads["moves"]]:
        layer, head = shown["layer_head"]
        probs = model_probs(layer, head)
        np.testing.assert_allclose(shown["panel"], probs, atol=1e-12)  # the flat panel shows the new head
        np.testing.assert_allclose(shown["probs_3d"], probs, atol=1e-12)  # ... and so does the 3D face
        assert f"layer {layer} head {head}" in shown["title"]
        if shown is not start:  # (the driver opened the window without Window.show's title)
            assert shown["window_title"].startswith(f"matviz: {shown['title']}")
            assert shown["same_plotter"] is True  # the same window, drawn again
            assert shown["props"] == heads["moves"][0]["props"]  # the old head's actors are gone: none pile up
    assert not np.allclose(model_probs(1, 3), model_probs(1, 4))  # the switch is visible
    assert "layer 1 head 4 (of 6 layers x 12 heads)" in heads["echo"].splitlines()[0]


def test_head_switch_keeps_the_step_of_the_story(window_run):
    res, _ = need(window_run)
    before, after = res["heads"]["step_kept"]
    assert before == after and before[1] not in (None, 0)


def test_right_click_on_a_token_outlines_its_row_or_column_in_both_views(window_run):
    res, _ = need(window_run)
    clicks = res["heads"]["clicks"]
    for axis, index in (("rows", 8), ("columns", 2)):
        c = clicks[axis]
        assert c["token"] == [axis, index]
        assert c["bold_label"] is True
        gx0, gx1, gy0, gy1 = c["panel_rect"]
        side = c["side"]
        x0, x1, y0, y1 = c["outline"]
        if axis == "rows":  # the whole row of query 8, from the top
            want = (gx0, gx1, gy1 - (index + 1) * side, gy1 - index * side)
        else:  # the whole column of key 2
            want = (gx0 + index * side, gx0 + (index + 1) * side, gy0, gy1)
        np.testing.assert_allclose([x0, x1, y0, y1], want, atol=3)
        # in 3D: on the probability face (the first cube's result face), around the same row/column
        lo, hi = np.array(c["expected_lo"]), np.array(c["expected_hi"])
        b = np.array(c["actor_bounds"])
        np.testing.assert_allclose(b[0::2], lo, atol=0.05 * c["gap"])
        np.testing.assert_allclose(b[1::2], hi, atol=0.05 * c["gap"])
    echo = res["heads"]["echo"]
    assert "query 'it' (row 8): attends most to" in echo and "key 'cat' (column 2): attended most by" in echo


def test_picked_token_survives_a_head_switch_and_a_second_click_clears_it(window_run):
    res, _ = need(window_run)
    assert res["heads"]["token_after_switch"] == [["columns", 2], True]
    assert res["heads"]["token_after_second_click"] == [None, False, 0]


def test_token_click_screenshot_shows_the_outline(window_run):
    res, _ = need(window_run)
    img = iio.imread(Path(res["outdir"]) / "heads_token.png")[..., :3]
    px = img.astype(int)
    hl = np.array([int(colors.HIGHLIGHT[i : i + 2], 16) for i in (1, 3, 5)])
    orange = np.all(np.abs(px - hl) <= 30, axis=-1)
    c = res["heads"]["clicks"]["rows"]
    x0, x1, y0, y1 = c["outline"]
    H = img.shape[0]
    top, bottom = H - 1 - int(y1), H - 1 - int(y0)
    band = orange[top - 3 : bottom + 4, int(x0) : int(x1)]
    assert band.sum() > 2 * (x1 - x0), f"{band.sum()} orange pixels around the picked row"
    inside = orange[top + 4 : bottom - 3, int(x0) + 4 : int(x1) - 4]
    assert inside.mean() < 0.05  # an outline, not a fill: the row's colours stay readable


def test_bad_heads_are_refused_as_before():
    """Out of range or several heads: the same one-line errors as ``model_heads``, before any window."""
    from matviz.chain import model_heads
    from matviz.errors import MatvizError
    from matviz.graphics.window import HeadSource

    for layer, head in ((6, 0), (0, 12), ("x", 0)):
        with pytest.raises(MatvizError) as want:
            model_heads("The cat", None, layer, head)
        with pytest.raises(MatvizError) as got:
            HeadSource.from_model("The cat", None, layer, head)
        assert str(got.value) == str(want.value)
    with pytest.raises(MatvizError, match="the window shows one head"):
        HeadSource.from_model("The cat", None, 0, "all")
    with pytest.raises(MatvizError, match="empty"):
        HeadSource.from_model("   ", None, 0, 0)


def test_switching_to_a_sink_head_echoes_its_note():
    """The head switch names a sink head with its note, read from the chain's head record
    (``chain.head.sink``), and says nothing more for a head that is not one (offscreen window)."""
    from matviz.animate.timeline import make_timeline
    from matviz.graphics.window import HeadSource, Window

    source = HeadSource.from_model("The cat sat on the mat because it was tired", None, 3, 4)
    chain = source.chain()
    echoed: list[str] = []
    w = Window(chain, make_timeline("sweep", chain), size=(640, 360), off_screen=True, echo=echoed.append,
               heads=source)
    try:
        w.plotter.show(auto_close=False)
        text = w.switch_head(0, 1)  # layer 3 head 5: most of its attention on [CLS]
        head = w.chain.head
        assert (head.layer, head.head, head.sink) == (3, 5, True)
        assert head.sink_note.startswith("layer 3 head 5 is an attention sink: ")
        assert text == echoed[-1] and text.splitlines()[1:] == [f"  {head.sink_note}"]
        w.switch_head(2, 6)  # layer 5 head 11 relates words: no sink
        assert (w.chain.head.layer, w.chain.head.head, w.chain.head.sink) == (5, 11, False)
        assert len(echoed[-1].splitlines()) == 1
    finally:
        w.plotter.close()
