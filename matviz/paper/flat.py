"""Flat output: a result matrix alone as a full-resolution grayscale PNG, one pixel per entry.

``mv.flat(value, "c.png", bits=8|16)``; ``matviz render ... --flat [--bits 16] -o c.png``.

The gray level is the min-max normalization of the matrix, as in Mishka's poster: the smallest
entry is black, the largest white, ``round((x - min) / (max - min) · (2^bits - 1))`` in between.
A constant matrix has no range: it is written mid-gray (``round(0.5 · (2^bits - 1))``: 128 or
32768) with a note, never a division by zero. Row 0 is the top row of the picture, column 0 the
left column. The PNG is written to a hidden temporary file and renamed when complete, so an error
or Ctrl-C never leaves a half-written picture.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from matviz.errors import MatvizError, OutputError, param

BITS = (8, 16)


def result_matrix(value) -> np.ndarray:
    """The matrix a flat picture shows: an array, an Operand, a Cube's or Chain's result (the
    expression's value) or an ``Evaluation``'s value, as (m, n) float64."""
    from matviz.core.expr import Evaluation
    from matviz.scene import Chain, Cube, Operand, as_chain

    if isinstance(value, list):
        raise MatvizError("a grid of heads has no single result matrix: flatten one head (one Chain) at a time")
    if isinstance(value, Evaluation):
        value = value.value
    elif isinstance(value, (Cube, Chain)):
        value = as_chain(value).result.values
    elif isinstance(value, Operand):
        value = value.values
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise MatvizError(f"cannot draw a {type(value).__name__} flat: give a 2-D matrix, a Cube or a Chain") from None
    if x.ndim != 2 or 0 in x.shape:
        raise MatvizError(f"a flat picture needs a non-empty 2-D matrix, got shape {x.shape}")
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        raise MatvizError(f"the matrix has {bad} non-finite entries (inf or nan): min-max has no range to map")
    return x


def gray(values, bits: int = 8) -> tuple[np.ndarray, str | None]:
    """``(picture, note)``: the min-max gray levels of ``values`` as uint8 (``bits=8``) or uint16
    (``bits=16``), and a note when the matrix is constant (drawn mid-gray), else None."""
    if bits not in BITS:
        raise OutputError(f"{param('bits')} must be 8 or 16, got {bits!r}")
    x = result_matrix(values)
    top = (1 << bits) - 1
    lo, hi = float(x.min()), float(x.max())
    note = None
    if hi > lo:
        from matviz.core.ops import minmax

        unit = minmax(x)
    else:
        unit = np.full(x.shape, 0.5)
        note = f"the result is constant ({lo:g} everywhere): min-max has no range, so it is drawn mid-gray"
    picture = np.round(unit * top).astype(np.uint8 if bits == 8 else np.uint16)
    return picture, note


def flat(
    value,
    path: str | os.PathLike,
    bits: int = 8,
    *,
    note: Callable[[str], None] | None = None,
) -> Path:
    """Write the result matrix of ``value`` (array, Operand, Cube, Chain, Evaluation) as a
    full-resolution grayscale PNG at ``path``, 8- or 16-bit, min-max normalized (see the module
    docstring). A constant matrix is written mid-gray and ``note`` is told why (default: a
    ``UserWarning``). Returns the path."""
    from matviz.animate.writers import PngWriter, check_output

    if bits not in BITS:
        raise OutputError(f"{param('bits')} must be 8 or 16, got {bits!r}")
    path = check_output(path, create=False)
    if path.suffix.lower() != ".png":
        raise OutputError(f"a flat picture is a .png, got {path.name}: choose another {param('path')}")
    picture, said = gray(value, bits)
    path = check_output(path)
    with PngWriter(path, 1) as writer:
        writer.write_frame(picture)
    if said:
        if note is None:
            warnings.warn(said, UserWarning, stacklevel=2)
        else:
            note(said)
    return path

