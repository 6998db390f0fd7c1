"""Helpers shared by the benchmarks: timing, result rows, and the Markdown table."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    """One line of the results table: matviz's time against a baseline measured in the same run."""

    name: str
    matviz: float  # seconds
    baseline: float  # seconds
    baseline_name: str

    @property
    def ratio(self) -> float:
        return self.matviz / self.baseline if self.baseline > 0 else float("inf")


@dataclass
class Target:
    """One target row of issue 10: what matviz measured, the baseline beside it, the figure the
    target is about, the target, and whether it is met (None: no target, for information)."""

    figure: str
    matviz: str
    baseline: str
    measured: str
    target: str
    met: bool | None
    note: str = ""


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls (time.perf_counter), after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median wall time of each function, measured round-robin so that load from other processes
    on the machine falls on matviz and its baseline alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


LAUNCH = """
import atexit, os, runpy, sys
out = sys.argv[1]
def report():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(out, "w").write(str(int(line.split()[1]) * 1024))
atexit.register(report)
if sys.argv[2] == "-c":
    code, sys.argv = sys.argv[3], ["-c", *sys.argv[4:]]
    exec(compile(code, "<bench>", "exec"), {"__name__": "__main__"})
else:  # -m module args...
    mod, sys.argv = sys.argv[3], [sys.argv[3], *sys.argv[4:]]
    runpy.run_module(mod, run_name="__main__", alter_sys=True)
"""


def run_measured(args: list[str], cwd=None) -> tuple[float, int, str]:
    """Run ``python <args>`` (``["-c", code, ...]`` or ``["-m", module, ...]``) in a fresh process:
    (wall seconds, peak RSS in bytes of that process alone, stdout). The peak is the child's own
    VmHWM read at exit: ru_maxrss would not do, a forked child starts with its parent's high-water
    mark and exec keeps it."""
    hwm = f"/tmp/matviz-bench-{os.getpid()}.hwm"
    if os.path.exists(hwm):
        os.remove(hwm)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", LAUNCH, hwm, *args], capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)[:200]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    peak = int(open(hwm).read())
    os.remove(hwm)
    return wall, peak, proc.stdout


def self_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.0f} MiB"


def table(rows: list[Row]) -> str:
    lines = ["| benchmark | matviz | baseline | ratio |", "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r.name} | {fmt_time(r.matviz)} | {fmt_time(r.baseline)} ({r.baseline_name}) | {r.ratio:.2f}× |"
        )
    return "\n".join(lines)


def target_table(rows: list[Target]) -> str:
    lines = ["| figure | matviz | baseline | measured | target | met |", "|---|---:|---:|---:|---|:---:|"]
    for r in rows:
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        note = f" ({r.note})" if r.note else ""
        lines.append(f"| {r.figure}{note} | {r.matviz} | {r.baseline} | {r.measured} | {r.target} | {met} |")
    return "\n".join(lines)
