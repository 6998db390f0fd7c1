"""Element-wise and row/column normalizations used on operands (Mishka, JuliaCon 2021).

Axis words, used everywhere in matviz:
  * ``"rows"`` — normalize *each row*: the values of one row sum to 1 (numpy axis 1).
  * ``"cols"`` — normalize *each column*: the values of one column sum to 1 (numpy axis 0).
Mishka's pictures use softmax over the rows of the left operand and over the columns of the right.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np

from matviz.errors import ShapeError, ValueProblem

Axis = Literal["rows", "cols"]
_AXES = {"rows": 1, "row": 1, "cols": 0, "col": 0, "columns": 0, "column": 0}


def axis_number(axis: str) -> int:
    """numpy axis to reduce over so that each row (``"rows"``) or column (``"cols"``) sums to 1."""
    try:
        return _AXES[axis]
    except KeyError:
        raise ValueProblem(
            f"unknown axis {axis!r}: use 'rows' (each row sums to 1) or 'cols' (each column sums to 1)"
        ) from None


def check_matrix(x, name: str = "matrix") -> np.ndarray:
    """Return ``x`` as a finite, non-empty 2-D float64 array or raise a one-line MatvizError."""
    a = np.asarray(x)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise ValueProblem(f"{name} has dtype {a.dtype}, not numbers: pass a numeric array")
    if np.iscomplexobj(a):
        raise ValueProblem(f"{name} is complex: pass real values (e.g. abs or real part)")
    a = a.astype(np.float64, copy=False)
    if a.ndim != 2:
        hint = "reshape it to (rows, cols), e.g. x[None, :] for one row" if a.ndim == 1 else "pass a 2-D matrix"
        raise ShapeError(f"{name} must be 2-D but has shape {a.shape} ({a.ndim}-D): {hint}")
    if a.size == 0:
        raise ShapeError(f"{name} is empty (shape {a.shape}): it needs at least one row and one column")
    bad = ~np.isfinite(a)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(a[r, c]) else "Inf"
        raise ValueProblem(
            f"{name} (shape {a.shape}) has {int(bad.sum())} non-finite value(s), first {what} at [{r}, {c}]: "
            "replace them (e.g. numpy.nan_to_num) before drawing"
        )
    return a


def minmax(x: np.ndarray) -> np.ndarray:
    """Min-max normalize to [0, 1]; a constant matrix maps to zeros."""
    x = np.asarray(x, dtype=np.float64)
    lo, hi = x.min(), x.max()
    if hi == lo:
        return np.zeros_like(x)
    if not np.isfinite(hi - lo):  # a span beyond the largest float: halve everything first
        return (x / 2 - lo / 2) / (hi / 2 - lo / 2)
    return (x - lo) / (hi - lo)


def signed_minmax(x: np.ndarray) -> np.ndarray:
    """Mishka's signed normalization: min-max to [-1, 1] (``2·minmax(x) − 1``)."""
    return 2.0 * minmax(x) - 1.0


def softmax(x: np.ndarray, axis: Axis = "rows", temperature: float = 1.0) -> np.ndarray:
    """``exp(x/T) / Σ exp(x/T)`` along ``axis`` (each row or each column sums to 1)."""
    if not temperature > 0:
        raise ValueProblem(f"softmax temperature must be > 0, got {temperature}")
    ax = axis_number(axis)
    x = np.asarray(x, dtype=np.float64)
    z = (x - x.max(axis=ax, keepdims=True)) / temperature  # shift first: stable, and x/T cannot overflow
    e = np.exp(z)
    return e / e.sum(axis=ax, keepdims=True)


def causal_keep(shape: tuple[int, int]) -> np.ndarray:
    """(m, n) bool: True where j <= i, the top-left aligned lower triangle a causal mask keeps
    (as torch's ``scaled_dot_product_attention(is_causal=True)``)."""
    return np.tri(shape[0], shape[1], dtype=bool)


def masked_softmax(
    x: np.ndarray, axis: Axis = "rows", temperature: float = 1.0, keep: np.ndarray | None = None
) -> np.ndarray:
    """``softmax`` with the entries where ``keep`` is False set to -inf first, so they come out 0.

    ``keep`` is an (m, n) bool mask, e.g. ``causal_keep(x.shape)``; None keeps everything. A row
    (column, for ``axis="cols"``) with nothing kept cannot be normalized: ``ValueProblem``.
    """
    x = np.asarray(x, dtype=np.float64)
    if keep is None:
        return softmax(x, axis, temperature)
    keep = np.asarray(keep, dtype=bool)
    if keep.shape != x.shape:
        raise ShapeError(f"the mask has shape {keep.shape} but the matrix has {x.shape}: give one flag per entry")
    ax = axis_number(axis)
    alive = keep.any(axis=ax)
    if not alive.all():
        which = "row" if ax == 1 else "column"
        raise ValueProblem(
            f"{which} {int(np.flatnonzero(~alive)[0])} is entirely masked, so it cannot be normalized: keep at "
            f"least one entry per {which}"
        )
    return softmax(np.where(keep, x, -np.inf), axis, temperature)


_F: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "exp": np.exp,
    "y+1": lambda y: y + 1.0,
}


def generalized_normalize(
    x: np.ndarray, f: str | Callable[[np.ndarray], np.ndarray] = "y+1", axis: Axis = "rows"
) -> np.ndarray:
    """``f(x) / Σ f(x)`` along ``axis``; ``f="exp"`` is softmax, ``f="y+1"`` is Mishka's variant.

    ``f`` must give non-negative values with a positive sum along the axis, so that every row (or
    column) becomes a distribution; otherwise this raises with the offending row/column.
    """
    if isinstance(f, str):
        if f == "exp":
            return softmax(x, axis)
        try:
            fn = _F[f]
        except KeyError:
            raise ValueProblem(f"unknown f {f!r}: use one of {sorted(_F)} or pass a function") from None
    else:
        fn = f
    ax = axis_number(axis)
    fx = np.asarray(fn(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    if (fx < 0).any():
        raise ValueProblem(f"f(x) is negative somewhere (min {fx.min():.3g}): min-max normalize x first so f(x) >= 0")
    total = fx.sum(axis=ax, keepdims=True)
    if (total == 0).any():
        which = "row" if ax == 1 else "column"
        idx = int(np.argwhere(total.ravel() == 0)[0][0])
        raise ValueProblem(f"f(x) sums to 0 in {which} {idx}: that {which} cannot be normalized")
    return fx / total
