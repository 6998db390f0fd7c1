"""What the language has: its functions and their parameters, the axis and other words, and the
arithmetic operators. Shared by the checker, both evaluators (numpy here, torch in
``matviz.learning.fit_torch``) and the node keys that find shared sub-expressions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

import numpy as np

from matviz.core.expr.record import Value
from matviz.core.expr.spans import count, error, source

__all__ = [
    "ARITHMETIC",
    "AXES",
    "BIND_HINT",
    "FLIPS",
    "FUNCTIONS",
    "GRAMMAR",
    "NORM_FS",
    "SIGNATURES",
    "SUBSPACE_FUNCTIONS",
    "WORD_DEFAULTS",
    "WORD_PARAMS",
    "Signature",
    "bind",
    "read_word",
]

FUNCTIONS = (
    "sqrt",
    "exp",
    "softmax",
    "norm",
    "normalize",
    "signed",
    "relu",
    "tanh",
    "selu",
    "warp",
    "flip",
    "rot90",
    "roll",
    "blur",
    "resize",
    "t_product",
    "svd",
    "pinv",
    "proj_row",
    "residual",
)
AXES = ("rows", "cols")
NORM_FS = ("y+1", "exp")
FLIPS = ("h", "v")
BIND_HINT = "CLI: --set X=file.npy; API: X=array"
GRAMMAR = (
    "use names, numbers, @ + - * /, unary -, .T, slices x[a:b, c:d], parentheses, bindings "
    "(let X = ... in ...) and " + ", ".join(FUNCTIONS)
)
SUBSPACE_FUNCTIONS = ("svd", "pinv", "proj_row", "residual")

# the elementwise operators: their symbol and what they do to numpy values (matrix or number)
ARITHMETIC: dict[type, tuple[str, Callable[[Value, Value], Value]]] = {
    ast.Add: ("+", np.add),
    ast.Sub: ("-", np.subtract),
    ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide),
}


# ---------------------------------------------------------------- function signatures


@dataclass(frozen=True)
class Signature:
    """The parameters of a function after its matrix ``x`` (always the first positional)."""

    positional: tuple[str, ...]  # parameters that may follow x by position, in order
    keywords: tuple[str, ...]  # parameters that may be given as name=
    usage: str  # shown in errors
    required: tuple[str, ...] = ()  # parameters without a default


SIGNATURES = {
    "sqrt": Signature((), (), "sqrt(x)"),
    "exp": Signature((), (), "exp(x)"),
    "normalize": Signature((), (), "normalize(x)"),
    "signed": Signature((), (), "signed(x)"),
    "softmax": Signature(
        ("axis",), ("axis", "temperature", "causal"), "softmax(x, axis=rows, temperature=1.0, causal=False)"
    ),
    "norm": Signature(("f", "axis"), ("f", "axis", "causal"), 'norm(x, f="y+1", axis=rows, causal=False)'),
    "relu": Signature((), (), "relu(x)"),
    "tanh": Signature((), (), "tanh(x)"),
    "selu": Signature((), (), "selu(x)"),
    "t_product": Signature((), (), "t_product(x)"),
    "warp": Signature(
        ("amplitude", "wavelength", "axis"),
        ("amplitude", "wavelength", "axis"),
        "warp(x, amplitude, wavelength, axis=rows)",
        ("amplitude", "wavelength"),
    ),
    "flip": Signature(("direction",), ("direction",), 'flip(x, "h") or flip(x, "v")', ("direction",)),
    "rot90": Signature(("k",), ("k",), "rot90(x, k=1)"),
    "roll": Signature(("shift", "axis"), ("shift", "axis"), "roll(x, shift, axis=rows)", ("shift",)),
    "blur": Signature(("sigma",), ("sigma",), "blur(x, sigma)", ("sigma",)),
    "resize": Signature(("rows", "cols"), ("rows", "cols"), "resize(x, rows, cols)", ("rows", "cols")),
    "svd": Signature((), (), "svd(W)"),
    "pinv": Signature((), (), "pinv(W)"),
    "proj_row": Signature(("input",), ("input",), "proj_row(W, x) with x an n×1 column", ("input",)),
    "residual": Signature(("input",), ("input",), "residual(W, x) with x an n×1 column", ("input",)),
}

# parameters given as a word, a string or True/False (read by read_word), not as an expression
WORD_PARAMS = ("axis", "causal", "f", "direction")
WORD_DEFAULTS = {"axis": "rows", "causal": False, "f": "y+1"}  # direction (flip) is required

# what each axis word means, per function, for the error that lists them
_AXIS_MEANING = {
    "warp": "rows (shift each row along itself) or cols (shift each column)",
    "roll": "rows (roll each row along itself) or cols (roll each column)",
}
_AXIS_DEFAULT_MEANING = "rows (each row sums to 1) or cols (each column sums to 1)"


def _looks_like_axis(node: ast.AST) -> bool:
    """A bare word or an axis string: what ``norm`` takes as a positional axis."""
    return isinstance(node, ast.Name) or (isinstance(node, ast.Constant) and node.value in AXES)


def bind(text: str, call: ast.Call) -> dict[str, ast.expr]:
    """Map each parameter of a known function to its argument node (``"x"`` is the matrix)."""
    name = call.func.id
    sig = SIGNATURES[name]
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            raise error(text, arg, f"*unpacking in {name}(...) is not supported: write the arguments out, {sig.usage}")
    for kw in call.keywords:
        if kw.arg is None:
            raise error(text, kw, f"**unpacking in {name}(...) is not supported: write the arguments out, {sig.usage}")
    if not call.args:
        raise error(text, call, f"{name} needs the matrix as its first argument: {sig.usage}")
    bound: dict[str, ast.expr] = {"x": call.args[0]}
    extra = call.args[1:]
    if len(extra) > len(sig.positional):
        most = count(1 + len(sig.positional), "positional argument")
        raise error(text, extra[len(sig.positional)], f"{name} takes at most {most}: {sig.usage}")
    order = sig.positional
    if name == "norm" and extra and _looks_like_axis(extra[0]):
        order = ("axis", "f")
    for param, arg in zip(order, extra):
        bound[param] = arg
    for kw in call.keywords:
        if kw.arg not in sig.keywords:
            allowed = ", ".join(f"{k}=" for k in sig.keywords) or "no keywords"
            raise error(text, kw, f"unknown keyword {kw.arg}= for {name}: it takes {allowed} ({sig.usage})")
        if kw.arg in bound:
            raise error(text, kw, f"{kw.arg} is given twice to {name}: give it once ({sig.usage})")
        bound[kw.arg] = kw.value
    missing = [p for p in sig.required if p not in bound]
    if missing:
        raise error(text, call, f"{name} needs {' and '.join(missing)}: {sig.usage}")
    return bound


# ---------------------------------------------------------------- words


def read_word(text: str, param: str, node: ast.AST, fname: str) -> str | bool:
    """The value of a word parameter (one of ``WORD_PARAMS``) of ``fname``: ``rows``/``cols``
    for ``axis``, ``True``/``False`` for ``causal``, ``"y+1"``/``"exp"`` for ``f``, ``"h"``/``"v"``
    for ``direction``; anything else is an error pointing at ``node``."""
    if param == "axis":
        return _axis_word(text, node, fname)
    if param == "causal":
        return _causal_flag(text, node)
    if param == "f":
        return _norm_f(text, node)
    return _flip_direction(text, node)


def _axis_word(text: str, node: ast.AST, fname: str) -> str:
    """``rows`` or ``cols`` from a bare word or a string; anything else is an error."""
    word = node.id if isinstance(node, ast.Name) else getattr(node, "value", None)
    if word in AXES:
        return word
    hint = f'; f is a string, f="{word}"' if word in NORM_FS and fname == "norm" else ""
    meaning = _AXIS_MEANING.get(fname, _AXIS_DEFAULT_MEANING)
    raise error(text, node, f"unknown axis {source(text, node)} for {fname}: use {meaning}{hint}")


def _flip_direction(text: str, node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and node.value in FLIPS:
        return node.value
    word = node.id if isinstance(node, ast.Name) else None
    hint = f' (a string: flip(x, "{word}"))' if word in FLIPS else ""
    raise error(
        text,
        node,
        f'unknown direction {source(text, node)} for flip: use "h" (mirror left-right) or "v" (mirror upside down){hint}',
    )


def _causal_flag(text: str, node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    raise error(text, node, f"causal must be True or False, not {source(text, node)}")


def _norm_f(text: str, node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and node.value in NORM_FS:
        return node.value
    raise error(text, node, f'unknown f {source(text, node)} for norm: use f="y+1" or f="exp"')
