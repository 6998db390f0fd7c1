"""The operand vocabulary: a named matrix and how to colour it, its transforms, and the stages a
product's result face goes through.

Pure numpy. ``sources/`` turns the outside world into these, ``core/expr`` records ``Stage``s, and
the model (``matviz.scene``) builds cubes from them; all three import this module, so there is one
word for each idea.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from matviz.core import ops
from matviz.errors import BudgetError, OptionError, ShapeError

__all__ = [
    "MAX_ELEMENTS",
    "TRANSFORMS",
    "Kind",
    "Operand",
    "Stage",
    "operand",
    "stage_kind",
    "transform",
    "value_kind",
]

Kind = Literal["image", "signed", "nonneg"]
MAX_ELEMENTS = 2**26  # per matrix (512 MiB of float64); larger inputs must be resized first


@dataclass(frozen=True)
class Operand:
    """A named matrix and how to colour it."""

    name: str
    values: np.ndarray  # (rows, cols) float64, finite
    kind: Kind
    row_labels: tuple[str, ...] | None = None  # e.g. tokens, drawn along the face when few enough
    col_labels: tuple[str, ...] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape  # type: ignore[return-value]

    @property
    def T(self) -> Operand:
        """The transpose, labels swapped, named ``name.T``."""
        return Operand(f"{self.name}.T", self.values.T, self.kind, self.col_labels, self.row_labels)

    def labelled(self, rows=None, cols=None) -> Operand:
        """The same matrix with row/column labels (checked against the shape)."""
        for what, labels, size in (("row", rows, self.shape[0]), ("column", cols, self.shape[1])):
            if labels is not None and len(labels) != size:
                raise ShapeError(f"{self.name} has {size} {what}s but {len(labels)} {what} labels were given")
        return replace(
            self,
            row_labels=tuple(rows) if rows is not None else None,
            col_labels=tuple(cols) if cols is not None else None,
        )


def value_kind(values: np.ndarray) -> Kind:
    """``"signed"`` if any value is negative, else ``"nonneg"``."""
    return "signed" if float(values.min()) < 0 else "nonneg"


def operand(values, name: str, kind: Kind | None = None) -> Operand:
    """Validate ``values`` (finite, non-empty 2-D) and wrap them; ``kind`` defaults from the data."""
    if isinstance(values, Operand):
        return replace(values, name=name or values.name)
    a = ops.check_matrix(values, name)
    if a.size > MAX_ELEMENTS:
        raise BudgetError(
            f"{name} has shape {a.shape} ({a.size:,} elements, more than {MAX_ELEMENTS:,}): "
            "resize it first, e.g. matviz.load(..., max_side=1024)"
        )
    return Operand(name, a, kind or value_kind(a))


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


TRANSFORMS = ("none", "minmax", "signed", "softmax-rows", "softmax-cols", "ynorm-rows", "ynorm-cols")


def transform(op: Operand, how: str = "none", temperature: float = 1.0) -> Operand:
    """Apply one of ``TRANSFORMS`` to an operand (Mishka's experiments), renaming it accordingly.

    ``softmax-rows``: each row becomes a distribution (softmax with ``temperature``);
    ``ynorm-rows``: the same with ``f(y) = y + 1`` in place of exp; ``minmax`` → [0, 1];
    ``signed`` → [-1, 1]. ``-cols`` variants normalize each column.
    """
    if how == "none":
        return op
    if how == "minmax":
        values, label = ops.minmax(op.values), f"minmax({op.name})"
    elif how == "signed":
        values, label = ops.signed_minmax(op.values), f"signed({op.name})"
    elif how.startswith(("softmax-", "ynorm-")):
        fn, _, axis = how.partition("-")
        ops.axis_number(axis)  # an unknown axis word: ValueProblem naming the allowed ones
        if fn == "softmax":
            values = ops.softmax(op.values, axis, temperature)
            label = f"softmax({op.name},{axis}" + (f",T={temperature:g})" if temperature != 1 else ")")
        else:
            values, label = ops.generalized_normalize(op.values, "y+1", axis), f"ynorm({op.name},{axis})"
    else:
        raise OptionError(f"unknown transform {how!r}: use one of {', '.join(TRANSFORMS)}")
    kind = value_kind(values)
    if op.kind == "image" and kind == "nonneg":
        kind = "image"  # a normalized photograph is still drawn as a photograph
    return Operand(label, values, kind)
