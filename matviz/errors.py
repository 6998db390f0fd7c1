"""Errors a user can act on: one line naming the input, what was seen and the fix.

A message names the parameters it is about as data, not as the words of one front end: write
``param("frames")`` where the message names the parameter. ``str(error)`` says ``frames`` (the keyword a
Python user passed); the CLI says ``--frames`` (its one table maps parameter names to flags), and
``error.params`` lists the names.

    raise OptionError(f"{param('frames')} must be at least 1, got {n}")
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Callable

_MARK = "\x1f"  # the ASCII unit separator: never typed by a user, never in a path matviz prints
_VALUE = "\x1e"  # between a parameter's name and the value the message proposes for it
_PARAM = re.compile(_MARK + r"([A-Za-z_][A-Za-z0-9_]*)(?:" + _VALUE + r"([^" + _MARK + r"]*))?" + _MARK)


def param(name: str, value: object = None) -> str:
    """A parameter's name inside an error message, for each front end to say in its own words; with
    ``value``, a setting to propose (``budget=4096`` to a Python user, ``--budget 4096`` in the CLI)."""
    return f"{_MARK}{name}{'' if value is None else _VALUE + str(value)}{_MARK}"


class MatvizError(Exception):
    """Base of every error matviz raises on purpose. The CLI prints it as one line and exits 2.

    ``params`` are the parameter names the message marks with ``param(name)``, in order;
    ``say(name_of, assign)`` is the message with each written as ``name_of(name)``, and a proposed
    setting as ``name_of(name) + assign + value``."""

    def __init__(self, message: object = "", *args: object) -> None:
        self.template = str(message)
        self.params = tuple(m.group(1) for m in _PARAM.finditer(self.template))
        super().__init__(self.say(lambda name: name), *args)

    def say(self, name_of: Callable[[str], str], assign: str = "=") -> str:
        def written(m: re.Match) -> str:
            name = name_of(m.group(1))
            return name if m.group(2) is None else f"{name}{assign}{m.group(2)}"

        return _PARAM.sub(written, self.template)


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


DISTRIBUTION = "matviz3d"  # our name on the package index ("matviz" there is another project); import and command stay matviz
CPU_TORCH = "pip install torch --index-url https://download.pytorch.org/whl/cpu"  # the ~190 MB CPU wheel, not the CUDA build


def install_hint(extra: str) -> str:
    """How to install an optional extra, e.g. ``install_hint("models")``; extras that bring torch say
    how to get the CPU-only build first."""
    hint = f"pip install '{DISTRIBUTION}[{extra}]'"
    if extra in ("models", "digits", "fit"):
        hint += f" (for the CPU-only torch, first: {CPU_TORCH})"
    return hint


# ---- notes: what a user should know about a result that is not an error (logger "matviz") ----

LOG = logging.getLogger("matviz")


class _NoteHandler(logging.StreamHandler):
    """The default: ``matviz: note: ...`` on the stderr of the moment (pytest and notebooks swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("matviz: note: %(message)s"))

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ sets it; the property always reads sys.stderr
        pass


NOTES = _NoteHandler()
LOG.addHandler(NOTES)  # remove it (LOG.removeHandler(NOTES)) or raise the level to silence or redirect notes
LOG.setLevel(logging.INFO)
LOG.propagate = False  # a user's root handler would print every note twice


def note(text: str) -> None:
    """Tell the user something about a result (``d was not set, so d = 4``), at level INFO of the logger
    ``matviz``: ``logging.getLogger("matviz").setLevel(logging.WARNING)`` silences notes."""
    LOG.info(text)
