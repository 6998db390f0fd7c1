"""The words for a matrix's values that operands and expressions share: how to colour them
(``Kind``), the most entries one matrix may hold (``MAX_ELEMENTS``), and the ``Stage`` a product's
result face goes through.

Pure numpy. ``core/operand`` and ``core/expr`` both import this module and neither imports the
other back for it: ``operand`` evaluates its transforms with ``expr``, ``expr`` records ``Stage``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["MAX_ELEMENTS", "Kind", "Stage", "stage_kind", "value_kind"]

Kind = Literal["image", "signed", "nonneg"]
MAX_ELEMENTS = 2**26  # per matrix (512 MiB of float64); larger inputs must be resized first


def value_kind(values: np.ndarray) -> Kind:
    """``"signed"`` if any value is negative, else ``"nonneg"``."""
    return "signed" if float(values.min()) < 0 else "nonneg"


def stage_kind(values: np.ndarray) -> Kind:
    """The colour kind of a stage's matrix: by its finite entries (masked -inf ones left out)."""
    finite = values[np.isfinite(values)]
    return value_kind(finite) if finite.size else "nonneg"


@dataclass(frozen=True)
class Stage:
    """A step the result face goes through after the sum over k (scale, mask, softmax...).

    ``values`` is the matrix AFTER the step, with masked entries as -inf (drawn in gray);
    ``kind`` says how to colour it (``stage_kind``). ``rowwise`` ("rows"/"cols") marks a step that
    normalizes each row/column: the animation applies it one row (column) at a time.
    """

    label: str  # e.g. "/ sqrt(d)", "causal mask", "softmax(rows)", "* 2", "normalize"
    values: np.ndarray  # (m, n) float64
    kind: Kind
    rowwise: str | None = None

    @classmethod
    def of(cls, label: str, values: np.ndarray, rowwise: str | None = None) -> Stage:
        """A stage whose ``kind`` comes from its values."""
        return cls(label, values, stage_kind(values), rowwise)
