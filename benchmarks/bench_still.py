"""A big still, whole process: ``matviz.export(matviz.matmul(A, B), "x.png")`` in a fresh Python
against numpy ``A @ B`` + bare pyvista drawing the same display grid (faces as block means in
textured quads, the interior's block sums as a volume) in a fresh Python, alternating. Both
processes make the same random float64 operands (seed 0), so that cost is on both sides. Peak RSS
is each child's own ru_maxrss (os.wait4).

    python benchmarks/bench_still.py [4096 [8192]]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Target, fmt_mib, fmt_time, run_measured  # noqa: E402

MATVIZ = """
import sys, numpy as np
import matviz
n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n)); b = rng.standard_normal((n, n))
matviz.export(matviz.matmul(a, b), out, "still", size=(1280, 720))
"""

BARE = """
import os, sys
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
import numpy as np, pyvista as pv, imageio.v2 as iio
n, out, g, f = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])  # interior grid g³, faces f²
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n)); b = rng.standard_normal((n, n))
c = a @ b
def means(x, r, s):  # block means, cheapest: a reshape (n divisible by r and s here)
    return x.reshape(r, x.shape[0] // r, s, x.shape[1] // s).mean(axis=(1, 3))
# interior block sums S[I,K,J] = sum_k (sum_i A[i,k]) (sum_j B[k,j]) over the blocks
ar = a.reshape(g, n // g, n).sum(1)            # (g, n): rows of A summed per i-block
bc = b.reshape(n, g, n // g).sum(2)            # (n, g): columns of B summed per j-block
s = np.einsum("ikt,ktj->ikj", ar.reshape(g, g, n // g), bc.reshape(g, n // g, g))
def texture(v):
    lo, hi = np.percentile(v, [1, 99]); x = np.clip((v - lo) / ((hi - lo) or 1), 0, 1)
    t = pv.Texture((np.stack([x] * 3, -1) * 255).astype(np.uint8)); t.interpolate = False; t.mipmap = False
    return t
def quad(p0, du, dv):
    p0, du, dv = map(np.asarray, (p0, du, dv))
    q = pv.PolyData(np.array([p0, p0 + du, p0 + du + dv, p0 + dv], float), [4, 0, 1, 2, 3])
    q.active_texture_coordinates = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    return q
p = pv.Plotter(off_screen=True, window_size=[1280, 720]); p.disable_anti_aliasing(); p.set_background("white")
gap = 0.06 * n
grid = pv.ImageData(dimensions=(g, g, g), spacing=(n / g,) * 3, origin=(n / g / 2, -n + n / g / 2, -n + n / g / 2))
grid.point_data["values"] = s[::-1, ::-1, :].transpose(1, 0, 2).ravel()
r = float(np.percentile(np.abs(s), 99))
vol = p.add_volume(grid, scalars="values", cmap="RdBu_r", clim=(-r, r), opacity=[0.6, 0.15, 0.0, 0.15, 0.6],
                   show_scalar_bar=False, opacity_unit_distance=n / 8.0)
vol.prop.interpolation_type = "nearest"
p.add_mesh(quad((-gap, -n, 0), (0, 0, -n), (0, n, 0)), texture=texture(means(a, f, f)), lighting=False)
p.add_mesh(quad((0, gap, 0), (n, 0, 0), (0, 0, -n)), texture=texture(means(b, f, f)), lighting=False)
p.add_mesh(quad((0, -n, -n - gap), (n, 0, 0), (0, n, 0)), texture=texture(means(c, f, f)), lighting=False)
p.camera_position = [(1.6 * n, -1.6 * n, 2.2 * n), (n / 2, -n / 2, -n / 2), (0, 1, 0)]
iio.imwrite(out, np.asarray(p.screenshot(return_img=True))[..., :3])
p.close()
"""


def shapes(n: int) -> tuple[int, int]:
    """(interior grid side, face side) of matviz's display grid for an n² @ n² product."""
    from matviz.core.products import plan_blocks
    from matviz.scene import FACE_MAX

    g = plan_blocks(n, n, n).shape
    assert g[0] == g[1] == g[2], g
    return g[0], min(n, FACE_MAX)


def run(sizes=(4096,), repeats: int = 3) -> list[Target]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:  # the floor: interpreter, numpy, VTK, EGL, a 64² still
        _, floor, _ = run_measured(["-c", MATVIZ, "64", f"{tmp}/floor.png"])
    for n in sizes:
        g, f = shapes(n)
        reps = repeats if n <= 4096 else min(repeats, 2)
        mv_t, mv_rss, bare_t, bare_rss = [], [], [], []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(reps):  # alternating, so load falls on both
                t, rss, _ = run_measured(["-c", MATVIZ, str(n), f"{tmp}/mv.png"])
                mv_t.append(t), mv_rss.append(rss)
                t, rss, _ = run_measured(["-c", BARE, str(n), f"{tmp}/bare.png", str(g), str(f)])
                bare_t.append(t), bare_rss.append(rss)
        operands = 2 * n * n * 8
        tm, tb = statistics.median(mv_t), statistics.median(bare_t)
        ratio, ratio_min = tm / tb, min(mv_t) / min(bare_t)
        target = 1.3 if n <= 4096 else 1.15
        over = max(mv_rss) - floor - operands
        rows.append(
            Target(
                f"{n}²@{n}² still PNG, whole process (grid {g}³, faces {f}²), median of {reps}",
                fmt_time(tm),
                f"{fmt_time(tb)} (numpy A@B + bare volume + textured faces)",
                f"{ratio:.2f}× (by min {ratio_min:.2f}×)",
                f"≤ {target}×",
                ratio <= target,
            )
        )
        rows.append(
            Target(
                f"{n}²@{n}² still: peak RSS (operands A, B: {fmt_mib(operands)}; floor = the same "
                f"process drawing a 64² still: {fmt_mib(floor)})",
                fmt_mib(max(mv_rss)),
                f"{fmt_mib(max(bare_rss))} (numpy + bare, holds C too)",
                f"floor + operands + {fmt_mib(over)}",
                "≤ operands + 150 MiB (over the floor)",
                over <= 150 * 2**20,
            )
        )
    return rows


if __name__ == "__main__":
    from _common import target_table

    print(target_table(run(tuple(int(a) for a in sys.argv[1:]) or (4096,))))
