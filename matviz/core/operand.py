"""The operand vocabulary: a named matrix and how to colour it, its transforms, and the stages a
product's result face goes through.

Pure numpy. ``sources/`` turns the outside world into these and the model (``matviz.scene``)
builds cubes from them; both import this module, so there is one word for each idea. ``Kind``,
``MAX_ELEMENTS`` and ``Stage`` live in ``core/values`` (``core/expr`` records stages too) and are
re-exported here. The named transforms (``TRANSFORMS``) are shorthands for expressions and are
evaluated by ``core/expr``, so there is also one implementation of each; the arrow runs one way,
operand → expr → values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from matviz.core import expr, ops
from matviz.core.values import MAX_ELEMENTS, Kind, Stage, stage_kind, value_kind
from matviz.errors import BudgetError, ExpressionError, OptionError, ShapeError, ValueProblem

__all__ = [
    "MAX_ELEMENTS",
    "TRANSFORMS",
    "Kind",
    "Operand",
    "Stage",
    "operand",
    "stage_kind",
    "transform",
    "transform_expression",
    "value_kind",
]

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


TRANSFORMS = ("none", "minmax", "signed", "softmax-rows", "softmax-cols", "ynorm-rows", "ynorm-cols")


def transform_expression(how: str) -> str:
    """The expression (``matviz.core.expr``) that transform ``how`` stands for, on the matrix ``X``
    with temperature ``T``: ``softmax-rows`` is ``softmax(X, rows, temperature=T)``, ``ynorm-cols``
    is ``norm(X, "y+1", cols)``, ``minmax`` is ``normalize(X)``, ``signed`` is ``signed(X)`` and
    ``none`` is ``X``. Unknown names raise ``OptionError``."""
    if how not in TRANSFORMS:
        raise OptionError(f"unknown transform {how!r}: use one of {', '.join(TRANSFORMS)}")
    if how == "none":
        return "X"
    if how == "minmax":
        return "normalize(X)"
    if how == "signed":
        return "signed(X)"
    fn, _, axis = how.partition("-")
    return f"softmax(X, {axis}, temperature=T)" if fn == "softmax" else f'norm(X, "y+1", {axis})'


def _transform_label(name: str, how: str, temperature: float) -> str:
    """The name of ``transform(op, how, temperature)``'s result, e.g. ``softmax(moon,rows,T=0.25)``."""
    if how in ("minmax", "signed"):
        return f"{how}({name})"
    fn, _, axis = how.partition("-")
    if fn == "softmax":
        return f"softmax({name},{axis}" + (f",T={temperature:g})" if temperature != 1 else ")")
    return f"ynorm({name},{axis})"


def transform(op: Operand, how: str = "none", temperature: float = 1.0) -> Operand:
    """Apply one of ``TRANSFORMS`` to an operand (Mishka's experiments), renaming it accordingly.

    ``softmax-rows``: each row becomes a distribution (softmax with ``temperature``);
    ``ynorm-rows``: the same with ``f(y) = y + 1`` in place of exp; ``minmax`` → [0, 1];
    ``signed`` → [-1, 1]. ``-cols`` variants normalize each column.

    Each name is a shorthand for an expression (``transform_expression``), evaluated by
    ``matviz.core.expr`` with ``X`` bound to the operand and ``T`` to ``temperature``: the CLI's
    ``--left-transform`` and an expression's ``softmax(A, rows, temperature=T)`` share one
    implementation. An image stays an image when its transform is non-negative.
    """
    text = transform_expression(how)
    if how == "none":
        return op
    if how.startswith("softmax-") and not (temperature > 0 and np.isfinite(temperature)):
        raise ValueProblem(f"softmax temperature must be a finite number > 0, got {temperature}")
    try:
        values = expr.evaluate(text, {"X": op.values, "T": temperature}).value
    except ExpressionError as err:
        # the expression is ours, not the user's: report the problem against the transform they named
        problem = str(err).split("\n", 1)[0].removeprefix(f"{text}: ")
        raise ValueProblem(f"{how} of {op.name}: {problem}") from None
    kind = value_kind(values)
    if op.kind == "image" and kind == "nonneg":
        kind = "image"  # a normalized photograph is still drawn as a photograph
    return Operand(_transform_label(op.name, how, temperature), values, kind)
