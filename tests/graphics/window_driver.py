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


def k_done(window) -> int:
    """k-blocks summed in the shown step (``matviz.story.k_done`` of its cube)."""
    from matviz import story

    return story.k_done(window.highlighted_cube(), window.state)


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
    res["k_initial"] = k_done(window)
    press(window, "Left")
    res["k_after_left"] = k_done(window)
    res["visible_slices_after_left"] = [bool(a.GetVisibility()) for a in window.view.views[0].interior.slices]
    press(window, "End")
    res["k_after_end"] = k_done(window)
    shown = window.state.show_interior
    press(window, "i")
    res["interior_toggled"] = [shown, window.state.show_interior]
    res["visible_slices_after_i"] = [bool(a.GetVisibility()) for a in window.view.views[0].interior.slices]
    press(window, "i")
    res["interior_toggled"].append(window.state.show_interior)

    # space plays the sweep from the start; ticks with fake times advance k to the end
    press(window, "space")
    res["playing_after_space"] = window.playing
    ks = []
    now = 1000.0
    while window.playing and len(ks) < 200:
        window.tick(now)
        ks.append(k_done(window))
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
    framed = np.array([list(v) for v in plotter.camera_position])
    plotter.camera.azimuth += 35
    plotter.render()
    res["numbers_off_anchor_after_orbit"] = numbers_off_anchor(window)
    camera = np.array([list(v) for v in plotter.camera_position])
    press(window, "Left")
    res["camera_kept_by_key"] = bool(np.allclose([list(v) for v in plotter.camera_position], camera))
    res["numbers_off_anchor_after_key"] = numbers_off_anchor(window)
    press(window, "Right")  # back to the state that was framed; the orbited camera stays
    res["camera_kept_on_return"] = bool(np.allclose([list(v) for v in plotter.camera_position], camera))
    press(window, "c")  # ... until c hands the framing back to the view
    res["reframed_like_before_the_orbit"] = bool(np.allclose([list(v) for v in plotter.camera_position], framed))
    press(window, "Left")  # and keys frame each state again
    res["framed_after_reframe"] = not window.user_camera
    plotter.close()
    res["chain"] = chain_checks()
    res["heads"] = heads_checks(outdir)
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
        second_slices.append(sum(bool(a.GetVisibility()) for a in window.view.views[1].interior.slices))
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


HEADS_TEXT, HEADS_START = "The cat sat on the mat because it was tired", (1, 3)  # test_window.py's oracle too


class XKeys:
    """Real key presses through the X server (libXtst), as a keyboard sends them: the window gets
    them from X like any other key, so this checks the keysyms VTK reports under X."""

    def __init__(self):
        import ctypes

        x11, xtst = ctypes.cdll.LoadLibrary("libX11.so.6"), ctypes.cdll.LoadLibrary("libXtst.so.6")
        x11.XOpenDisplay.restype, x11.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
        x11.XStringToKeysym.restype, x11.XStringToKeysym.argtypes = ctypes.c_ulong, [ctypes.c_char_p]
        x11.XKeysymToKeycode.restype, x11.XKeysymToKeycode.argtypes = ctypes.c_ubyte, [ctypes.c_void_p, ctypes.c_ulong]
        x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_ulong]
        self.x11, self.xtst = x11, xtst
        self.dpy = x11.XOpenDisplay(None)
        assert self.dpy, "cannot open the X display"

    def press(self, window, keysym: str, shift: bool = False) -> None:
        import time

        x11, xtst, dpy = self.x11, self.xtst, self.dpy
        xtst.XTestFakeMotionEvent(dpy, -1, 200, 200, 0)  # the pointer over the window: it has the focus
        code = x11.XKeysymToKeycode(dpy, x11.XStringToKeysym(keysym.encode()))
        shift_code = x11.XKeysymToKeycode(dpy, x11.XStringToKeysym(b"Shift_L"))
        assert code, keysym
        if shift:
            xtst.XTestFakeKeyEvent(dpy, shift_code, 1, 0)
        xtst.XTestFakeKeyEvent(dpy, code, 1, 0)
        xtst.XTestFakeKeyEvent(dpy, code, 0, 0)
        if shift:
            xtst.XTestFakeKeyEvent(dpy, shift_code, 0, 0)
        x11.XSync(dpy, 0)
        for _ in range(10):
            window.plotter.iren.process_events()
            time.sleep(0.02)


def heads_checks(outdir: Path) -> dict:
    """A model's attention (all-MiniLM-L6-v2, run once for every head): real keys switch head and
    layer in the same window, a right-click on a token label of the flat panel outlines its row
    or column of the probabilities in both views. Screenshots: heads.png, heads_token.png."""
    import imageio.v3 as iio

    from matviz.animate.timeline import make_timeline
    from matviz.graphics.window import HeadSource, Window

    source = HeadSource.from_model(HEADS_TEXT, None, *HEADS_START)
    chain = source.chain()
    echoed: list[str] = []
    window = Window(chain, make_timeline("sweep", chain), size=(1280, 720), echo=echoed.append, heads=source)
    plotter = window.plotter
    plotter.show(interactive_update=True, auto_close=False)
    keysyms: list[str] = []
    plotter.iren.interactor.AddObserver("KeyPressEvent", lambda obj, _e: keysyms.append(obj.GetKeySym()))
    keys = XKeys()
    renderer = plotter.renderer

    def shown() -> dict:
        view = window.view
        return {
            "layer_head": [source.layer, source.head],
            "title": view.chain.title,
            "window_title": plotter.ren_win.GetWindowName(),
            "panel": np.asarray(view.panel.values, dtype=float).tolist(),
            "probs_3d": np.asarray(view.views[0].stage_faces[-1].values, dtype=float).tolist(),
            "same_plotter": window.plotter is plotter and plotter.renderer is renderer,
            "props": renderer.GetViewProps().GetNumberOfItems(),
        }

    res: dict = {"start": shown()}
    moves = []
    for keysym, shift in (("bracketright", False), ("bracketleft", False), ("braceright", True), ("braceleft", True),
                          ("Next", False), ("Prior", False)):
        keys.press(window, keysym, shift)
        moves.append({"keysym": keysym, **shown()})
    res["moves"], res["keysyms"] = moves, keysyms
    keys.press(window, "bracketright")  # layer 1 head 4 for the screenshot
    plotter.render()
    iio.imwrite(outdir / "heads.png", np.asarray(plotter.screenshot(return_img=True))[..., :3])

    # the step of the story is kept across a switch
    press(window, "Home")
    for _ in range(3):
        press(window, "Right")
    before = [window.state.cube, window.state.k_done, window.state.post]
    press(window, "bracketleft")
    res["step_kept"] = [before, [window.state.cube, window.state.k_done, window.state.post]]
    press(window, "End")

    # right-click the token labels: the query "it" (row 8), then the key "cat" (column 2)
    view = window.view
    face = view.views[0]
    clicks = {}
    for axis, index in (("rows", 8), ("columns", 2)):
        x, y = window.token_point(axis, index)
        right_click(window, int(round(x)), int(round(y)))
        plotter.render()
        panel = window.view.panel
        outline = np.array(panel.token_poly.GetBounds()[:4]) if panel.token_poly.GetNumberOfPoints() else None
        actor = plotter.actors.get("token-highlight")
        m, n = face.layout.result.shape
        if axis == "rows":
            quad = [face.layout.result.point(index, 0), face.layout.result.point(index + 1, n)]
        else:
            quad = [face.layout.result.point(0, index), face.layout.result.point(m, index + 1)]
        ends = face.cp.world(np.array(quad))
        clicks[axis] = {
            "at": [x, y],
            "token": None if window.token is None else list(window.token),
            "panel_rect": view.panel.rect.tolist(),
            "side": float(view.panel.side),
            "outline": None if outline is None else outline.tolist(),
            "bold_label": bool(view.pen.texts[f"panel-{axis}-{index:03d}"].actor.GetTextProperty().GetBold()),
            "actor_bounds": None if actor is None else list(actor.GetBounds()),
            "expected_lo": ends.min(axis=0).tolist(),
            "expected_hi": ends.max(axis=0).tolist(),
            "gap": float(face.layout.gap),
        }
        if axis == "rows":
            iio.imwrite(outdir / "heads_token.png", np.asarray(plotter.screenshot(return_img=True))[..., :3])
    res["clicks"] = clicks
    keys.press(window, "bracketright")  # the picked token stays picked on the next head
    res["token_after_switch"] = [list(window.token) if window.token else None,
                                 plotter.actors.get("token-highlight") is not None]
    x, y = window.token_point("columns", 2)
    right_click(window, int(round(x)), int(round(y)))  # the same token again: cleared
    res["token_after_second_click"] = [window.token, plotter.actors.get("token-highlight") is not None,
                                       window.view.panel.token_poly.GetNumberOfPoints()]
    res["echo"] = "\n".join(echoed)
    plotter.close()
    return res


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    results = main(out)
    (out / "results.json").write_text(json.dumps(results, indent=1))
