"""Render speed: steady frame time of SceneView + screenshot while orbiting, as a ratio to bare
pyvista (same window size, no anti-aliasing, one ImageData plane, same camera moves and screenshots).
The chain rows time a two-cube attention chain through ``offscreen.frames``, the exporter's path,
for an orbit (camera only) and a sweep (k-blocks and stages change every frame).

    python benchmarks/bench_render.py            # every row
    python benchmarks/bench_render.py --chain    # only the chain rows (see BASELINE_chain.md)
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, table  # noqa: E402

import matviz  # noqa: E402
import matviz.graphics  # noqa: E402,F401  (selects the EGL window before pyvista makes one)
from matviz.graphics import offscreen  # noqa: E402
from matviz.graphics.view import SceneView  # noqa: E402
from matviz.scripts import load_scene  # noqa: E402

import pyvista as pv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1280, 720)
FRAMES = 20


def scenes() -> dict[str, matviz.Scene]:
    rng = np.random.default_rng(0)
    return {
        "textbook 2x3@3x2": load_scene(ROOT / "scenes" / "textbook.py"),
        "cubes 32x32@32x32": matviz.matmul(rng.standard_normal((32, 32)), rng.standard_normal((32, 32))),
        "image 256²@256² (volume)": matviz.matmul(
            matviz.load("sample:camera", shape=(256, 256)), matviz.load("sample:moon", shape=(256, 256))
        ),
    }


def azimuths(n: int, start: float = 0.0) -> list[float]:
    return [start + 360.0 * f / n for f in range(n)]


def time_scene(scene: matviz.Scene, n: int = FRAMES, size=SIZE) -> tuple[float, float, list[np.ndarray]]:
    """(setup seconds, median seconds per frame, [first, middle] frames) for an orbit of ``scene``."""
    t0 = time.perf_counter()
    plotter = offscreen.make_plotter(size)
    view = SceneView(plotter, scene)
    base = scene.initial_state()
    offscreen.screenshot(plotter)  # first frame: pipeline set-up, not steady state
    setup = time.perf_counter() - t0
    times, keep = [], []
    try:
        for f, az in enumerate(azimuths(n, base.azimuth + 360.0 / (2 * n))):
            t0 = time.perf_counter()
            view.apply(replace(base, azimuth=az))
            img = offscreen.screenshot(plotter)
            times.append(time.perf_counter() - t0)
            if f in (0, n // 2):
                keep.append(img)
    finally:
        plotter.close()
    return setup, statistics.median(times), keep


def time_bare(n: int = FRAMES, size=SIZE) -> tuple[float, list[np.ndarray]]:
    """Median seconds per frame for bare pyvista: one plane, camera orbit, render + screenshot."""
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    plotter.disable_anti_aliasing()
    plane = pv.ImageData(dimensions=(65, 65, 1), spacing=(1.0, 1.0, 1.0))
    plane.point_data["values"] = np.arange(plane.n_points, dtype=float)
    plotter.add_mesh(plane, scalars="values", show_scalar_bar=False)
    plotter.render()
    plotter.screenshot(return_img=True)
    times, keep = [], []
    try:
        for f, az in enumerate(azimuths(n, 10.0)):
            t0 = time.perf_counter()
            a = np.radians(az)
            plotter.camera_position = [(32 + 120 * np.cos(a), 32 + 120 * np.sin(a), 80.0), (32.0, 32.0, 0.0), (0, 0, 1)]
            plotter.render()
            img = np.asarray(plotter.screenshot(return_img=True))[..., :3]
            times.append(time.perf_counter() - t0)
            if f in (0, n // 2):
                keep.append(img)
    finally:
        plotter.close()
    return statistics.median(times), keep


def _check_moving(frames: list[np.ndarray], what: str) -> None:
    if len(frames) == 2 and np.array_equal(frames[0], frames[1]):
        raise RuntimeError(f"{what}: frames of the orbit are identical, the timing measured stale frames")


def attention_chain() -> matviz.Chain:
    """softmax(Q Kᵀ/√d) V on random 12×32 Q, K, V: two linked cubes, the first with two stages."""
    from matviz.chain import attention

    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((12, 32)) for _ in range(3))
    return attention(q, k, v)


def bare_stream(size=SIZE):
    """Frames of bare pyvista (one plane, camera orbiting in 20 steps), one per ``next``."""
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    plotter.disable_anti_aliasing()
    plane = pv.ImageData(dimensions=(65, 65, 1), spacing=(1.0, 1.0, 1.0))
    plane.point_data["values"] = np.arange(plane.n_points, dtype=float)
    plotter.add_mesh(plane, scalars="values", show_scalar_bar=False)
    try:
        f = 0
        while True:
            a = np.radians(10.0 + 360.0 * f / FRAMES)
            plotter.camera_position = [(32 + 120 * np.cos(a), 32 + 120 * np.sin(a), 80.0), (32.0, 32.0, 0.0), (0, 0, 1)]
            plotter.render()
            yield np.asarray(plotter.screenshot(return_img=True))[..., :3]
            f += 1
    finally:
        plotter.close()


def time_frames(scene, animation: str, n: int = FRAMES, size=SIZE) -> tuple[float, float, float, list, list]:
    """(setup seconds, median seconds per frame, bare pyvista's median, [first, middle] frames of
    each) for ``n`` frames of ``animation`` rendered by ``offscreen.frames`` (what ``export``
    streams to its writer). matviz's and bare pyvista's frames alternate, so load from other
    processes falls on both alike."""
    from matviz.animate.timeline import make_timeline

    states = make_timeline(animation, scene).sample(n + 1)
    stream = offscreen.frames(scene, states, size, aa=False)
    bare = bare_stream(size)
    t0 = time.perf_counter()
    next(stream)  # first frame: building the view and the pipeline, not steady state
    setup = time.perf_counter() - t0
    next(bare)
    times, bare_times, keep, bare_keep = [], [], [], []
    try:
        for f in range(n):
            t0 = time.perf_counter()
            img = next(stream)
            t1 = time.perf_counter()
            bare_img = next(bare)
            t2 = time.perf_counter()
            times.append(t1 - t0)
            bare_times.append(t2 - t1)
            if f in (0, n // 2):
                keep.append(img)
                bare_keep.append(bare_img)
    finally:
        stream.close()
        bare.close()
    return setup, statistics.median(times), statistics.median(bare_times), keep, bare_keep


def run_chain(n: int = FRAMES) -> list[Row]:
    """The two-cube attention chain: an orbit and a sweep, frame by frame against bare pyvista."""
    rows = []
    chain = attention_chain()
    for animation in ("orbit", "sweep"):
        setup, per_frame, bare, frames, bare_frames = time_frames(chain, animation, n)
        _check_moving(bare_frames, "bare pyvista")
        _check_moving(frames, f"attention chain {animation}")
        rows.append(
            Row(
                f"render attention chain 12x32 (2 cubes): {animation} frame ({SIZE[0]}x{SIZE[1]}, setup {setup:.2f} s)",
                per_frame,
                bare,
                "bare pyvista plane, interleaved",
            )
        )
    return rows


def run(n: int = FRAMES) -> list[Row]:
    rows = []
    for name, scene in scenes().items():
        bare, bare_frames = time_bare(n)  # measured next to each scene, so drift hits both
        setup, per_frame, frames = time_scene(scene, n)
        _check_moving(bare_frames, "bare pyvista")
        _check_moving(frames, name)
        rows.append(
            Row(
                f"render {name}: frame (orbit, {SIZE[0]}x{SIZE[1]}, setup {setup:.2f} s)",
                per_frame,
                bare,
                "bare pyvista plane",
            )
        )
    return rows + run_chain(n)


if __name__ == "__main__":
    print(table(run_chain() if "--chain" in sys.argv[1:] else run()))
