"""Export: ``matviz.export(scene, x.mp4, "sweep", frames=N)`` against the same frames (rendered by
``offscreen.frames``, the exporter's own renderer) streamed into bare
``imageio.v2.get_writer(path, fps=30, codec="libx264")``, alternating run by run. The ratio is the
cost of the export machinery (timeline, writer protocol, temp file + rename, progress), which
should be nothing. Rendering itself is measured against bare pyvista in bench_render.

    python benchmarks/bench_export.py [--quick]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Target, fmt_time  # noqa: E402
from bench_render import random_cube  # noqa: E402

import imageio.v2 as iio2  # noqa: E402
import imageio_ffmpeg  # noqa: E402

import matviz  # noqa: E402
from matviz.animate.export import sample_states  # noqa: E402
from matviz.graphics import offscreen  # noqa: E402
from matviz.outputs import load_scene  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1280, 720)


def bare_export(scene, path: Path, n: int) -> None:
    states = sample_states(scene, "sweep", fps=30.0, frames=n, duration=None)
    w = iio2.get_writer(path, fps=30, codec="libx264")
    for f in offscreen.frames(scene, states, SIZE, aa=n == 1):
        w.append_data(f)
    w.close()


def run(quick: bool = False) -> list[Target]:
    n = 30 if quick else 60
    reps = 2 if quick else 3
    rows = []
    scenes = {"textbook 2x3@3x2": load_scene(ROOT / "matviz" / "scenes" / "textbook.py"), "cubes 32³": random_cube(32)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bare_export(scenes["textbook 2x3@3x2"], tmp / "warm.mp4", 2)  # EGL, pipelines, the ffmpeg binary
        for name, scene in scenes.items():
            mv, bare = [], []
            for r in range(reps):
                for who in (("mv", "bare") if r % 2 == 0 else ("bare", "mv")):
                    t0 = time.perf_counter()
                    if who == "mv":
                        matviz.export(scene, tmp / "mv.mp4", "sweep", frames=n, size=SIZE)
                        mv.append(time.perf_counter() - t0)
                    else:
                        bare_export(scene, tmp / "bare.mp4", n)
                        bare.append(time.perf_counter() - t0)
            for p in ("mv.mp4", "bare.mp4"):
                count, _ = imageio_ffmpeg.count_frames_and_secs(str(tmp / p))
                if count != n:
                    raise RuntimeError(f"{p} has {count} frames, expected {n}")
            tm, tb = statistics.median(mv), statistics.median(bare)
            rows.append(
                Target(
                    f"MP4 export, {name}, sweep {n} frames 1280×720, median of {reps}",
                    fmt_time(tm),
                    f"{fmt_time(tb)} (same frames → bare imageio libx264)",
                    f"{tm / tb:.2f}×",
                    "≤ 1.05×",
                    tm / tb <= 1.05,
                )
            )
    return rows


if __name__ == "__main__":
    from _common import target_table

    print(target_table(run("--quick" in sys.argv[1:])))
