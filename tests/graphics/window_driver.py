"""Drive the real interactive window (run under Xvfb by test_window.py): keys, playing, a pick.

    xvfb-run -a python tests/graphics/window_driver.py OUTDIR

Writes OUTDIR/results.json and OUTDIR/window.png. Any failed check raises, so the exit status is
non-zero and the traceback is on stderr.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np


def press(window, key: str) -> None:
    it = window.plotter.iren.interactor
    it.SetKeySym(key)
    it.InvokeEvent("KeyPressEvent")


def right_click(window, x: int, y: int) -> None:
    it = window.plotter.iren.interactor
    it.SetEventInformation(x, y)
    it.InvokeEvent("RightButtonPressEvent")
    it.InvokeEvent("RightButtonReleaseEvent")


def numbers_off_anchor(window) -> float:
    """Largest distance in pixels between a drawn number and its cell's centre under the current
    camera (the numbers are 2D texts: they must be placed again when the camera moves)."""
    pen = window.view.pen
    drawn = [t for t in pen.texts.values() if t.role == "number" and t.drawn]
    assert drawn, "no number drawn"
    where = pen.to_display(np.array([t.anchor for t in drawn]))
    return float(max(np.hypot(x - t.pos[0], y - t.pos[1]) for t, (x, y) in zip(drawn, where)))


def main(outdir: Path) -> dict:
    if not os.environ.get("DISPLAY"):
        raise SystemExit("window_driver.py needs a display (run it under xvfb-run -a)")
    import matviz as mv
    from matviz.animate.timeline import make_timeline
    from matviz.graphics.window import Window

    scene = mv.matmul([[1, 2, 3], [4, 5, 6]], [[1, -2], [3, 4], [5, 6]])
    echoed: list[str] = []
    window = Window(scene, make_timeline("sweep", scene), size=(640, 480), echo=echoed.append)
    plotter = window.plotter
    plotter.show(interactive_update=True, auto_close=False)
    res: dict = {
        "render_window": type(plotter.ren_win).__name__,
        "off_screen": bool(plotter.off_screen),
        "window_size": list(plotter.window_size),
        "k_steps": scene.k_steps,
    }
    assert "XOpenGL" in res["render_window"], res["render_window"]
    assert res["off_screen"] is False

    # keys: Left steps back one k-block, End restores all, i toggles the interior
    res["highlight_initial"] = window.state.highlight
    res["k_initial"] = window.k_done
    press(window, "Left")
    res["k_after_left"] = window.k_done
    res["visible_slices_after_left"] = [bool(a.GetVisibility()) for a in window.view.views[0].slices]
    press(window, "End")
    res["k_after_end"] = window.k_done
    shown = window.state.show_interior
    press(window, "i")
    res["interior_toggled"] = [shown, window.state.show_interior]
    res["visible_slices_after_i"] = [bool(a.GetVisibility()) for a in window.view.views[0].slices]
    press(window, "i")
    res["interior_toggled"].append(window.state.show_interior)

    # space plays the sweep from the start; ticks with fake times advance k to the end
    press(window, "space")
    res["playing_after_space"] = window.playing
    ks = []
    now = 1000.0
    while window.playing and len(ks) < 200:
        window.tick(now)
        ks.append(window.k_done)
        now += 0.25
    res["k_sequence"] = ks
    res["playing_at_end"] = window.playing
    res["t_at_end"] = window.t
    res["duration"] = window.timeline.duration

    # right click on result cell C[1,0]
    plotter.render()
    x, y = window.display_point(1, 0)
    res["click_at"] = [x, y]
    res["cell_under_click"] = window.cell_at(x, y)
    right_click(window, x, y)
    res["highlight"] = list(window.state.highlight) if window.state.highlight is not None else None
    res["echo"] = "\n".join(echoed)

    plotter.render()
    img = np.asarray(plotter.screenshot(return_img=True))[..., :3]
    import imageio.v3 as iio

    iio.imwrite(outdir / "window.png", img)
    res["screenshot_shape"] = list(img.shape)

    # the user orbits: the numbers follow the camera, and a key keeps the user's camera
    plotter.camera.azimuth += 35
    plotter.render()
    res["numbers_off_anchor_after_orbit"] = numbers_off_anchor(window)
    camera = np.array([list(v) for v in plotter.camera_position])
    press(window, "Left")
    res["camera_kept_by_key"] = bool(np.allclose([list(v) for v in plotter.camera_position], camera))
    res["numbers_off_anchor_after_key"] = numbers_off_anchor(window)
    plotter.close()
    res["chain"] = chain_checks()
    return res


CHAIN_SEED, CHAIN_SEQ, CHAIN_D = 0, 6, 4  # test_window.py rebuilds the same Q, K, V for its oracle


def chain_checks() -> dict:
    """A 2-cube attention chain in a real window: step through it with Right, pick on both cubes."""
    from matviz.animate.timeline import make_timeline
    from matviz.chain import attention
    from matviz.graphics.window import Window

    rng = np.random.default_rng(CHAIN_SEED)
    q, k, v = (rng.standard_normal((CHAIN_SEQ, CHAIN_D)) for _ in range(3))
    chain = attention(q, k, v)
    echoed: list[str] = []
    window = Window(chain, make_timeline("sweep", chain), size=(640, 480), echo=echoed.append)
    plotter = window.plotter
    plotter.show(interactive_update=True, auto_close=False)
    # what the step keys walk: the ViewState fields of each beat of the story
    beats = [[b.cube, b.k_done, b.post] for b in window.beats]
    res: dict = {"off_screen": bool(plotter.off_screen), "beats": beats}

    # Home, then Right through every beat and twice past the end (which stays there)
    press(window, "Home")
    visited = [[window.state.cube, window.state.k_done, window.state.post]]
    second_slices = []
    for _ in range(len(window.beats) + 1):
        press(window, "Right")
        visited.append([window.state.cube, window.state.k_done, window.state.post])
        second_slices.append(sum(bool(a.GetVisibility()) for a in window.view.views[1].slices))
    res["visited"] = visited
    res["second_cube_slices_visible"] = second_slices
    res["second_cube_k_steps"] = chain.cubes[1].k_steps

    # a scripted pick on the last cube's result face, and one on the first cube's (shared) face
    plotter.render()
    picks = {}
    for cube, (i, j) in ((1, (4, 2)), (1, (0, 3)), (0, (2, 5))):
        x, y = window.display_point(i, j, cube=cube)
        hit = window.pick(x, y)
        picks[f"{cube}:{i},{j}"] = None if hit is None else [hit[0], list(hit[1])]
    res["picks"] = picks
    # the flat panel (the probabilities beside the chain) picks too: its cell (2, 5) is the first cube's
    x0, x1, y0, y1 = window.view.panel.rect
    side = window.view.panel.side
    res["panel_pick"] = window.pick(x0 + 5.5 * side, y1 - 2.5 * side)
    # right-click the first cube's cell from the finished picture: the window goes to that step
    x, y = window.display_point(2, 5, cube=0)
    right_click(window, x, y)
    res["after_click"] = {
        "cube": window.state.cube,
        "highlight": None if window.state.highlight is None else list(window.state.highlight),
        "echo": "\n".join(echoed),
    }
    plotter.close()
    return res


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    results = main(out)
    (out / "results.json").write_text(json.dumps(results, indent=1))
