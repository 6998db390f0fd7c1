"""Errors a user can act on: one line naming the input, what was seen and the fix."""


class MatvizError(Exception):
    """Base of every error matviz raises on purpose. The CLI prints it as one line and exits 2."""


class ShapeError(MatvizError):
    """Operands whose shapes do not fit (inner dimensions, 1-D, empty)."""


class ValueProblem(MatvizError):
    """Values matviz cannot draw (NaN, Inf)."""


class SourceError(MatvizError):
    """A file or spec that cannot be turned into a matrix."""


class OutputError(MatvizError):
    """An output path that cannot be written (unknown extension, unwritable directory)."""


class BudgetError(MatvizError):
    """A problem too large to hold in memory even before aggregation, or a budget that allows no
    interior at all (``budget < 1``)."""


class OptionError(MatvizError, ValueError):
    """A keyword option with a value matviz does not know (``interior=``, ``aggregate=``, a
    transform name, ``how=``). Also a ``ValueError``, which is what such an option raised before."""


class ExpressionError(MatvizError):
    """An expression that cannot be parsed or evaluated. The message ends with the expression and
    a caret line under the offending token, so it is the one multi-line MatvizError."""


class MissingDependency(MatvizError):
    """An optional extra (torch, transformers) that a feature needs is not installed."""


class ModelError(MatvizError):
    """A model that is not available offline, or a layer/head/text it cannot take."""
