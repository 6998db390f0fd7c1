"""Helpers shared by the benchmarks: timing, result rows, and the Markdown table."""

from __future__ import annotations

import statistics
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


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def table(rows: list[Row]) -> str:
    lines = ["| benchmark | matviz | baseline | ratio |", "|---|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r.name} | {fmt_time(r.matviz)} | {fmt_time(r.baseline)} ({r.baseline_name}) | {r.ratio:.2f}× |"
        )
    return "\n".join(lines)
