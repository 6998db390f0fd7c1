"""Run every benchmark and print one Markdown table (also written to benchmarks/results.md).

    python benchmarks/run.py

Each row is matviz's time and a baseline measured in the same process (numpy ``A @ B``, bare
pyvista, bare imageio); the ratio is the number to compare across machines, not the seconds.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_core  # noqa: E402
import bench_export  # noqa: E402
import bench_render  # noqa: E402
from _common import table  # noqa: E402


def machine() -> str:
    import numpy
    import pyvista
    import vtk

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}, numpy {numpy.__version__}, pyvista {pyvista.__version__}, VTK {vtk.vtkVersion.GetVTKVersion()}"
    )


def main() -> None:
    t0 = time.perf_counter()
    rows = []
    for name, mod in (("core", bench_core), ("render", bench_render), ("export", bench_export)):
        t = time.perf_counter()
        rows += mod.run()
        print(f"[{name}: {time.perf_counter() - t:.1f} s]", file=sys.stderr, flush=True)
    text = (
        table(rows) + "\n\n" + f"_{machine()}; total {time.perf_counter() - t0:.0f} s. "
        "Ratio = matviz / baseline (lower is faster); medians of repeats via time.perf_counter._\n"
    )
    print(text)
    (HERE / "results.md").write_text(text)


if __name__ == "__main__":
    main()
