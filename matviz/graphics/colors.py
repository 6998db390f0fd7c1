"""Colour maps and ranges, one per matrix: gray for images, diverging for signed, sequential else."""

from __future__ import annotations

import numpy as np

CMAPS = {"image": "gray", "signed": "RdBu_r", "nonneg": "viridis"}
HIGHLIGHT = "#ff7f0e"  # the dot-product outline; chosen to stand out from all three maps
TEXT = "black"
MASKED = "#bbbbbb"  # cells a causal mask leaves out
FORMULA_FONT = "courier"  # VTK's built-in "arial" draws [ ] like ( ), which would misstate A[i,k]


def cmap(kind: str) -> str:
    return CMAPS[kind]


def clim(values: np.ndarray, kind: str) -> tuple[float, float]:
    """The colour range of one matrix: symmetric about 0 for signed data, min..max otherwise."""
    lo, hi = float(np.min(values)), float(np.max(values))
    if kind == "signed":
        r = max(abs(lo), abs(hi)) or 1.0
        return (-r, r)
    if hi == lo:
        return (lo - 0.5, hi + 0.5) if lo != 0 else (0.0, 1.0)
    return (lo, hi)


def fmt(v: float) -> str:
    """A value as written on a cell: short, exact for small integers."""
    if float(v).is_integer() and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


def rgb(color) -> tuple[float, float, float]:
    """``color`` (a name or "#rrggbb") as three floats in 0..1, as VTK properties take it."""
    import matplotlib.colors as mc

    return tuple(float(v) for v in mc.to_rgb(color))


def is_dark(values: np.ndarray, kind: str, lim: tuple[float, float]) -> np.ndarray:
    """Which values get a dark colour under ``kind``'s map (so their numbers are written in white)."""
    import matplotlib

    lo, hi = lim
    rgba = matplotlib.colormaps[cmap(kind)](np.clip((values - lo) / ((hi - lo) or 1.0), 0, 1))
    luminance = rgba[:, :3] @ np.array([0.2126, 0.7152, 0.0722])
    return luminance < 0.45
