"""The interactive window (issue 10): orbiting with the mouse, and a key press.

* **Orbit while the mouse moves**: matviz's real ``Window`` (off screen), with the mouse's own VTK
  path (the trackball style's ``StartRotate``, which raises the render window's desired update rate
  so that a volume interior is drawn coarser, ``EndRotate`` when the button comes up). Each frame
  turns the camera and renders, as a mouse drag does. Beside it: the same window's full frames
  (after the button is released) and bare pyvista's full frame of the same content
  (``bare.Bare``), both without reading pixels back, as a window does not.
* **A key press** (→, one step of the sum over k): ``Window.step(+1)`` against one bare render of
  the same content at the same camera. No target; the count of renders per key press is a test
  (``tests/graphics/test_renders.py``).

    python benchmarks/bench_window.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Target, fmt_time  # noqa: E402
from _harness import SIZE  # noqa: E402
from bare import Bare  # noqa: E402
from bench_render import MM_FPS, ORBIT_TARGET, attention_chain, random_cube  # noqa: E402

from matviz.animate.timeline import make_timeline  # noqa: E402
from matviz.graphics.window import Window  # noqa: E402

SETTLE = 3  # moving frames VTK takes to learn what a frame costs (not timed)


def _window(scene) -> Window:
    w = Window(scene, make_timeline("sweep", scene), size=SIZE, off_screen=True, echo=lambda _: None)
    w.plotter.show(auto_close=False)
    return w


def _timed_render(plotter) -> float:
    t0 = time.perf_counter()
    plotter.render_window.Render()
    return time.perf_counter() - t0


def orbit(n: int, frames: int) -> dict[str, float]:
    """Median seconds per frame: matviz moving (level of detail), matviz still, bare still."""
    w = _window(random_cube(n))
    bare = Bare(w.view, SIZE)
    cam = w.plotter.renderer.GetActiveCamera()
    style = w.plotter.iren.interactor.GetInteractorStyle()
    moving, still, bare_t = [], [], []
    try:
        bare.frame(cam)  # bare's setup frame
        for f in range(frames + SETTLE):
            style.StartRotate()  # the button goes down: the mapper may coarsen
            cam.Azimuth(3.0)
            t = _timed_render(w.plotter)
            if f >= SETTLE:
                moving.append(t)
        style.EndRotate()
        for _ in range(max(3, frames // 3)):
            cam.Azimuth(3.0)
            still.append(_timed_render(w.plotter))
            bare.plotter.renderer.GetActiveCamera().DeepCopy(cam)
            bare_t.append(_timed_render(bare.plotter))
    finally:
        bare.close()
        w.plotter.close()
    return {"moving": statistics.median(moving), "still": statistics.median(still), "bare": statistics.median(bare_t)}


def key_press(scene, presses: int) -> dict[str, float]:
    """Median seconds per → key press (one step) against one bare render of the same content."""
    w = _window(scene)
    bare = Bare(w.view, SIZE)
    cam = w.plotter.renderer.GetActiveCamera()
    keys, bare_t = [], []
    try:
        w.goto(0)
        bare.frame(cam)
        for _ in range(presses):
            if w.position >= len(w.beats) - 1:
                w.goto(0)
            t0 = time.perf_counter()
            w.step(+1)
            keys.append(time.perf_counter() - t0)
            bare.plotter.renderer.GetActiveCamera().DeepCopy(cam)
            bare_t.append(_timed_render(bare.plotter))
    finally:
        bare.close()
        w.plotter.close()
    return {"key": statistics.median(keys), "bare": statistics.median(bare_t)}


def run(quick: bool = False) -> list[Target]:
    frames = 8 if quick else 20
    rows = []
    for n in (64, 256) if quick else (64, 256, 1024):
        r = orbit(n, frames if n < 1024 else max(6, frames // 2))
        fps = 1.0 / r["moving"]
        rows.append(
            Target(
                f"window orbit while the mouse moves (level of detail), n = {n} (64³ volume), 1280×720",
                f"{fps:.1f} fps",
                f"full frames: matviz {1 / r['still']:.1f} fps, bare {1 / r['bare']:.1f} fps; mm {MM_FPS[n]:g} fps",
                f"{fps:.1f} fps",
                f"≥ {ORBIT_TARGET[n]:g} fps",
                fps >= ORBIT_TARGET[n],
            )
        )
    r = orbit(32, frames)
    rows.append(
        Target(
            "window orbit while the mouse moves (level of detail), cube 32³ (32,768 interior cubes, merged 2×2×2), 1280×720",
            f"{1 / r['moving']:.1f} fps",
            f"full frames: matviz {1 / r['still']:.1f} fps, bare {1 / r['bare']:.1f} fps",
            f"{1 / r['moving']:.1f} fps ({r['still'] / r['moving']:.1f}× the full frame's rate)",
            "no target (the targets are for volumes)",
            None,
        )
    )
    for name, scene in (("textbook 2×3 @ 3×2", _textbook()), ("two-cube chain 12×32 attention", attention_chain()),
                        ("cube 32³ (cubes interior)", random_cube(32))):
        r = key_press(scene, 8 if quick else 20)
        rows.append(
            Target(
                f"window key press (→, one step), {name}, 1280×720",
                f"{fmt_time(r['key'])}/press",
                f"{fmt_time(r['bare'])}/render (bare, same content)",
                f"{r['key'] / r['bare']:.2f}×",
                "no target (1 render per press is a test)",
                None,
                "bare draws the whole interior; a step draws the blocks summed so far, and the labels",
            )
        )
    return rows


def _textbook():
    import numpy as np

    import matviz

    return matviz.matmul(np.arange(1, 7.0).reshape(2, 3), np.arange(1, 7.0).reshape(3, 2))


if __name__ == "__main__":
    from _common import target_table

    print(target_table(run("--quick" in sys.argv[1:])))
