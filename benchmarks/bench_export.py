"""Export speed: ``matviz.export(scene, x.mp4, "sweep", frames=60)`` against bare pipelines in the same run.

Rows per scene:
* export vs (matviz frames rendered on their own + bare imageio writing them): the cost of the
  export machinery itself (timeline, writer protocol, temp file + rename); ffmpeg runs in its own
  process, so overlapping encode with rendering can put this below 1.
* export vs (bare pyvista plane rendered for the same frames + bare imageio writing them).
* matviz's Mp4Writer vs bare ``imageio.v2.get_writer(path, fps=30, codec="libx264")`` on the same frames.

    python benchmarks/bench_export.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, table  # noqa: E402
from bench_render import SIZE, scenes, time_bare  # noqa: E402

import imageio.v2 as iio2  # noqa: E402
import imageio_ffmpeg  # noqa: E402

import matviz  # noqa: E402
from matviz.animate.timeline import make_timeline  # noqa: E402
from matviz.animate.writers import open_writer  # noqa: E402
from matviz.graphics import offscreen  # noqa: E402

FRAMES = 60
SCENES = ("textbook 2x3@3x2", "cubes 32x32@32x32")


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bare_write(path: Path, frames: list[np.ndarray]) -> None:
    w = iio2.get_writer(path, fps=30, codec="libx264")
    for f in frames:
        w.append_data(f)
    w.close()


def matviz_write(path: Path, frames: list[np.ndarray]) -> None:
    with open_writer(path, 30.0, len(frames)) as w:
        for f in frames:
            w.write_frame(f)


def run(n: int = FRAMES, names=SCENES) -> list[Row]:
    rows = []
    all_scenes = scenes()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # warm-up: EGL context, VTK pipelines, the ffmpeg binary (not part of any measurement)
        matviz.export(all_scenes[names[0]], tmp / "warmup.mp4", "sweep", frames=2, size=SIZE)
        bare_write(tmp / "warmup-bare.mp4", [np.zeros((SIZE[1], SIZE[0], 3), np.uint8)] * 2)
        for name in names:
            scene = all_scenes[name]
            t_export, _ = timed(lambda: matviz.export(scene, tmp / "export.mp4", "sweep", frames=n, size=SIZE))
            count, _ = imageio_ffmpeg.count_frames_and_secs(str(tmp / "export.mp4"))
            if count != n:
                raise RuntimeError(f"export wrote {count} frames, expected {n}")
            states = make_timeline("sweep", scene).sample(n)
            t_render, frames = timed(lambda: list(offscreen.frames(scene, states, SIZE)))
            if np.array_equal(frames[0], frames[-1]):
                raise RuntimeError(f"{name}: first and last sweep frames are identical")
            t_bare_write, _ = timed(lambda: bare_write(tmp / "bare.mp4", frames))
            t_mv_write, _ = timed(lambda: matviz_write(tmp / "writer.mp4", frames))
            bare_frame, _ = time_bare(min(n, 20))
            rows.append(
                Row(
                    f"export {name}: sweep {n} frames mp4 vs matviz render + bare write",
                    t_export,
                    t_render + t_bare_write,
                    "render + imageio",
                )
            )
            rows.append(
                Row(
                    f"export {name}: sweep {n} frames mp4 vs bare pyvista + bare write",
                    t_export,
                    bare_frame * n + t_bare_write,
                    "pyvista + imageio",
                )
            )
            rows.append(
                Row(
                    f"export {name}: Mp4Writer, {n} pre-rendered frames",
                    t_mv_write,
                    t_bare_write,
                    "bare imageio libx264",
                )
            )
    return rows


if __name__ == "__main__":
    print(table(run()))
