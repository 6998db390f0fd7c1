"""Run every benchmark and print one Markdown table of issue 10's target rows (also written to
benchmarks/results.md).

    python benchmarks/run.py            # every row (~6-10 minutes on 2 cores with software GL)
    python benchmarks/run.py --quick    # fewer frames and repeats, no n = 1024 orbit, no 8192² still

Every render row races matviz against the same content drawn the cheapest way bare pyvista can
(benchmarks/bare.py), frame by frame; the whole-process rows run matviz and its baseline in fresh
processes, alternating. Compare ratios across machines, not seconds.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import fmt_time, table, target_table  # noqa: E402


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gl_renderer() -> str:
    import matviz.graphics  # noqa: F401  (EGL)
    import pyvista as pv

    info = pv.GPUInfo()
    return f"{info.renderer}, OpenGL {info.version}"


def code_version() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True).stdout.rstrip()

    dirty = [line[3:] for line in git("status", "--short", "--", "matviz").splitlines() if line.strip()]
    return git("rev-parse", "--short", "HEAD") + (f" + uncommitted edits to {', '.join(dirty)}" if dirty else "")


def free_mib() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable"):
            return int(line.split()[1]) // 1024
    return 0


def main() -> None:
    import numpy
    import pyvista
    import vtk

    quick = "--quick" in sys.argv[1:]
    import bench_core
    import bench_export
    import bench_memory
    import bench_render
    import bench_still
    import bench_window

    t0 = time.perf_counter()
    start = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    loads = [os.getloadavg()[0]]
    rows, renders, skipped = [], [], []

    def step(name, fn):
        t = time.perf_counter()
        out = fn()
        loads.append(os.getloadavg()[0])
        print(f"[{name}: {time.perf_counter() - t:.0f} s, load {loads[-1]:.1f}]", file=sys.stderr, flush=True)
        return out

    rows += step("render", lambda: bench_render.run(quick, renders))
    rows.append(bench_render.renders_row(renders))
    rows += step("window", lambda: bench_window.run(quick))
    rows += step("export", lambda: bench_export.run(quick))
    sizes = [4096]
    if not quick:
        need = 2 * 3 * 8192 * 8192 * 8 // 2**20 + 1024  # A, B, C in one child at a time, twice over, + slack
        if free_mib() >= need:
            sizes.append(8192)
        else:
            skipped.append(f"8192² still skipped: {free_mib()} MiB available, {need} MiB wanted")
    else:
        skipped.append("8192² still, n = 1024 orbit: not in --quick")
    rows += step("still", lambda: bench_still.run(tuple(sizes), repeats=1 if quick else 3))
    rows += step("memory", bench_memory.run)
    core = [] if quick else step("core", bench_core.run)

    machine = (
        f"{start}; {cpu_model()}, {os.cpu_count()} cores, {gl_renderer()}; Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, pyvista {pyvista.__version__}, VTK {vtk.vtkVersion.GetVTKVersion()}; "
        f"matviz at {code_version()}; load average {min(loads):.1f}–{max(loads):.1f} during the run; "
        f"total {fmt_time(time.perf_counter() - t0)}{' (--quick)' if quick else ''}"
    )
    text = target_table(rows) + "\n\n_" + machine + "._\n"
    if skipped:
        text += "\n" + "\n".join(f"* {s}" for s in skipped) + "\n"
    if core:
        text += "\nCore (no target; information):\n\n" + table(core) + "\n"
    print(text)
    (HERE / "results.md").write_text(text)  # git-ignored


if __name__ == "__main__":
    main()
