"""Image transforms of the expression language (``matviz.core.expr``), as plain numpy formulas.

Each function takes a finite (m, n) float64 matrix and returns a new float64 matrix; none reads or
writes its input in place. The formulas are written out (no hidden library defaults) so that a torch
twin can follow them line by line; only ``resize`` calls scikit-image (imported lazily), to be the
same anti-aliased resize as the operand sources' ``--resize``.

Axis words follow the rest of matviz: ``"rows"`` acts on *each row* (along numpy axis 1),
``"cols"`` on *each column* (along numpy axis 0).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SELU_ALPHA", "SELU_SCALE", "blur", "flip", "gaussian_kernel", "relu", "resize", "roll", "rot90", "selu", "tanh", "warp"]

# torch.nn.SELU's constants (Klambauer et al. 2017)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def warp(x: np.ndarray, amplitude: float, wavelength: float, axis: str = "rows") -> np.ndarray:
    """Oscillatory warp: each row (``axis="rows"``) or column (``"cols"``) is shifted along itself.

    For ``axis="rows"`` and x of shape (m, n), row i is shifted by
    ``s_i = amplitude · sin(2π · i / wavelength)`` pixels (towards larger column indices when
    ``s_i > 0``), linearly interpolated, with the edges clamped::

        p      = clip(j − s_i, 0, n − 1)
        out[i, j] = (1 − t) · x[i, ⌊p⌋] + t · x[i, min(⌊p⌋ + 1, n − 1)],   t = p − ⌊p⌋

    ``axis="cols"`` is the same on the transpose: column j is shifted down by
    ``amplitude · sin(2π · j / wavelength)``. ``amplitude = 0`` returns x exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    if axis == "cols":
        return np.ascontiguousarray(warp(x.T, amplitude, wavelength, "rows").T)
    m, n = x.shape
    shift = amplitude * np.sin(2.0 * np.pi * np.arange(m) / wavelength)  # (m,)
    p = np.clip(np.arange(n)[None, :] - shift[:, None], 0.0, n - 1.0)  # (m, n) source positions
    lo = np.floor(p).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    t = p - lo
    left = np.take_along_axis(x, lo, axis=1)
    right = np.take_along_axis(x, hi, axis=1)
    return (1.0 - t) * left + t * right


def flip(x: np.ndarray, direction: str) -> np.ndarray:
    """``"h"``: mirror left-right (``x[:, ::-1]``); ``"v"``: mirror upside down (``x[::-1, :]``)."""
    x = np.asarray(x, dtype=np.float64)
    return np.ascontiguousarray(x[:, ::-1] if direction == "h" else x[::-1, :])


def rot90(x: np.ndarray, k: int = 1) -> np.ndarray:
    """Rotate by k·90° counter-clockwise (``numpy.rot90``); (m, n) becomes (n, m) for odd k."""
    return np.ascontiguousarray(np.rot90(np.asarray(x, dtype=np.float64), int(k)))


def roll(x: np.ndarray, shift: int, axis: str = "rows") -> np.ndarray:
    """Cyclic shift by ``shift`` entries: each row along itself (``"rows"``: out[i, j] = x[i, j − shift
    mod n]) or each column (``"cols"``: out[i, j] = x[i − shift mod m, j])."""
    return np.roll(np.asarray(x, dtype=np.float64), int(shift), axis=1 if axis == "rows" else 0)


def gaussian_kernel(sigma: float) -> np.ndarray:
    """``exp(−t²/(2σ²))`` for t = −r..r, r = ⌊4σ + 0.5⌋ (scipy's truncate=4), summing to 1: the
    kernel of ``blur``, public so the torch twin (``matviz.learning.fit_torch``) uses the same one."""
    r = int(4.0 * sigma + 0.5)
    t = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (sigma > 0): the separable kernel of
    ``gaussian_kernel`` along columns then rows, edges clamped (as
    ``scipy.ndimage.gaussian_filter(x, sigma, mode="nearest")``)."""
    out = np.asarray(x, dtype=np.float64)
    g = gaussian_kernel(sigma)
    r = (len(g) - 1) // 2
    for ax in (0, 1):
        n = out.shape[ax]
        idx = np.clip(np.arange(-r, n + r), 0, n - 1)  # clamped edges
        padded = np.take(out, idx, axis=ax)
        acc = np.zeros_like(out)
        for s, w in enumerate(g):
            acc += w * np.take(padded, np.arange(s, s + n), axis=ax)
        out = acc
    return out


def resize(x: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Anti-aliased bilinear resize to (rows, cols), as the operand sources' ``--resize``
    (``skimage.transform.resize(..., anti_aliasing=True, preserve_range=True, order=1)``)."""
    from skimage.transform import resize as sk_resize  # lazily: only resize needs scikit-image

    x = np.asarray(x, dtype=np.float64)
    if x.shape == (rows, cols):
        return x.copy()
    return np.asarray(sk_resize(x, (rows, cols), anti_aliasing=True, preserve_range=True, order=1), dtype=np.float64)


def relu(x):
    """``max(x, 0)`` entrywise."""
    return np.maximum(x, 0.0)


def tanh(x):
    """``tanh(x)`` entrywise."""
    return np.tanh(x)


def selu(x):
    """``scale · (x if x > 0 else alpha · (exp(x) − 1))`` entrywise, torch's SELU constants."""
    x = np.asarray(x, dtype=np.float64)
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))
