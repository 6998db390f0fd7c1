"""Core speed: the exact interior aggregates and the whole scene build, as ratios to numpy's A @ B.

python benchmarks/bench_core.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Row, interleaved, table  # noqa: E402

import matviz  # noqa: E402
from matviz.core.products import DEFAULT_BUDGET, block_sums, plan_blocks  # noqa: E402

SIZES = (256, 1024, 2048)


def repeats_for(n: int) -> int:
    return 41 if n <= 256 else 9 if n <= 1024 else 5


def run(sizes=SIZES) -> list[Row]:
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.standard_normal((n, n))  # (m, k)
        b = rng.standard_normal((n, n))  # (k, n)
        reps = repeats_for(n)

        def aggregates():
            return block_sums(a, b, plan_blocks(n, n, n, DEFAULT_BUDGET))

        # sanity: the aggregates add up to the total of the result (exactness, not speed)
        assert np.isclose(aggregates().sum(), (a @ b).sum(), rtol=1e-6, atol=1e-6 * n)
        t = interleaved({"numpy": lambda: a @ b, "agg": aggregates, "scene": lambda: matviz.matmul(a, b)}, reps)
        t_np, t_agg, t_scene = t["numpy"], t["agg"], t["scene"]
        grid = "x".join(map(str, plan_blocks(n, n, n).shape))
        rows.append(Row(f"core {n}³: plan_blocks + block_sums (grid {grid})", t_agg, t_np, "numpy A@B"))
        rows.append(Row(f"core {n}³: matviz.matmul scene build", t_scene, t_np, "numpy A@B"))
    return rows


if __name__ == "__main__":
    print(table(run()))
