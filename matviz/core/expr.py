"""A small matrix expression language: ``softmax(Q @ K.T / sqrt(d)) @ V`` and friends.

Expressions are one line of Python syntax, parsed with :mod:`ast` and walked here; nothing is ever
``eval``-ed. The grammar:

* names bound in ``env`` (2-D matrices or numbers), number literals, parentheses, unary minus;
* ``A @ B``, the matrix product (each ``@`` is one cube in the renderer);
* ``+ - * /`` elementwise: two matrices need equal shapes, a number applies to every entry;
* ``X.T``, the transpose;
* functions ``sqrt(x)`` and ``exp(x)`` (numbers or entrywise), ``normalize(x)`` (min-max to [0, 1]),
  ``signed(x)`` (min-max to [-1, 1]), ``softmax(x, axis=rows, temperature=1.0, causal=False)`` and
  ``norm(x, f="y+1", axis=rows, causal=False)`` (``f(x) / Σ f(x)`` with ``f`` ``"y+1"`` or ``"exp"``).
  The axis is the bare word ``rows`` (each row sums to 1) or ``cols`` (each column sums to 1), or
  the same as a string, given as ``axis=`` or positionally after ``x``; for ``norm`` a positional
  axis word may come before or after a positional ``f`` string. ``causal`` is ``True`` or ``False``.

The name ``d``: unless ``env`` binds it, ``d`` is the inner dimension of the first ``@`` evaluated.
Evaluation goes left to right with operands before their product, so for
``softmax(Q @ K.T / sqrt(d)) @ V`` that is ``Q @ K.T`` and ``d`` is d_head (the columns of Q). Using
``d`` inside that first product, or in an expression without ``@``, is an error.

Causal masking (``causal=True``): entry (i, j) of an (m, n) matrix is masked when j > i, i.e. the
top-left aligned lower triangle is kept, as in torch's ``scaled_dot_product_attention(is_causal=True)``.
Softmax sets masked entries to -inf before the exp; ``norm`` gives them f = 0. Either way they end up
exactly 0, and a row (column, for ``axis=cols``) with every entry masked is an error.

Besides the value, :func:`evaluate` records what the renderer draws (:class:`Evaluation`): one
:class:`Product` per ``@`` in evaluation order, with its two operands (:class:`Term`). A product's
result is followed up the tree while each node is a *unary matrix step* (matrix∘number arithmetic,
unary minus, ``sqrt``, ``exp``, ``softmax``, ``norm``, ``normalize``, ``signed``); each step appends
a :class:`Stage` to the product (a causal softmax or norm appends two: ``"causal mask"``, with -inf
where masked, then the normalization). If the chain reaches an operand of a later ``@``, that
:class:`Term` has ``source`` = the product's index and its values are the last stage's values. A
transpose or an operation with another matrix ends the chain: the product keeps its stages so far
and the later term has ``source=None``.

Every error is an :class:`~matviz.errors.ExpressionError` whose first line says what is wrong and
how to fix it, followed by the expression and a line of ``^`` under the offending part (see
:func:`caret`).
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from typing import Callable, Mapping, Union

import numpy as np

from matviz.core.operand import Stage  # one Stage type for expressions and cubes (label, values, kind, rowwise)
from matviz.core.ops import (
    axis_number,
    causal_keep,
    check_matrix,
    generalized_normalize,
    masked_softmax,
    minmax,
    signed_minmax,
)
from matviz.errors import ExpressionError, MatvizError

__all__ = [
    "AXES",
    "FUNCTIONS",
    "Evaluation",
    "Product",
    "Stage",
    "Term",
    "caret",
    "evaluate",
    "parse",
]

Value = Union[np.ndarray, float]  # a (m, n) float64 matrix or a number

FUNCTIONS = ("sqrt", "exp", "softmax", "norm", "normalize", "signed")
AXES = ("rows", "cols")
NORM_FS = ("y+1", "exp")
BIND_HINT = "CLI: --set X=file.npy; API: X=array"
GRAMMAR = "use names, numbers, @ + - * /, unary -, .T, parentheses and " + ", ".join(FUNCTIONS)


# ---------------------------------------------------------------- the record the renderer draws


@dataclass(frozen=True)
class Term:
    """One operand of a product."""

    label: str  # the operand's source text, e.g. "Q", "K.T", "softmax(A, rows)"
    values: np.ndarray  # (r, c) float64
    source: int | None  # index into Evaluation.products of the product whose staged result this is


@dataclass(frozen=True)
class Product:
    """One ``@``: one cube."""

    left: Term
    right: Term
    values: np.ndarray  # (m, n) = left.values @ right.values
    label: str  # source text of the whole @ expression, e.g. "Q @ K.T"
    stages: tuple[Stage, ...]  # unary steps applied to this result before it is used
    span: tuple[int, int]  # columns of the @ node in the text


@dataclass(frozen=True)
class Evaluation:
    """The value of an expression and the products (cubes) that make it."""

    text: str
    value: Value  # the final result
    products: tuple[Product, ...]  # evaluation order: an operand's source product comes before its user
    names: tuple[str, ...]  # env names the expression used, in order of first use (plus "d" if defaulted)
    d: float | None  # the value used for d if it was defaulted, else None


# ---------------------------------------------------------------- public functions


def caret(text: str, start: int, end: int) -> str:
    """The last two lines of every ExpressionError: the expression, and ``^`` under columns
    ``start:end`` (at least one ``^``; ``start == len(text)`` points just past the end)."""
    start = min(max(start, 0), len(text))
    width = max(end - start, 1)
    shown = text.replace("\t", " ")  # one column per character, so the marks line up
    return f"  {shown}\n  {' ' * start}{'^' * width}"


def parse(text: str) -> ast.Expression:
    """Parse ``text`` and check it uses only the grammar above (names are checked by evaluate).

    Node positions refer to ``text`` itself, even when it starts with spaces.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    _reject_control_characters(text)
    if not text.strip():
        raise ExpressionError(
            "the expression is empty: write e.g. softmax(Q @ K.T / sqrt(d)) @ V\n" + caret(text, 0, 1)
        )
    body = text.lstrip(" \t")
    lead = len(text) - len(body)  # ASCII spaces: as many bytes as characters
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as err:
        raise _syntax_error(text, err, lead) from None
    except (ValueError, RecursionError, MemoryError) as err:  # absurd nesting
        raise ExpressionError(f"the expression cannot be parsed ({err}): simplify it\n" + caret(text, 0, len(text)))
    if lead:
        _shift_columns(tree, lead)
    try:
        _Checker(text).check(tree.body)
    except RecursionError:
        raise _nested_too_deeply(text) from None
    return tree


def evaluate(text: str, env: Mapping[str, Value]) -> Evaluation:
    """Evaluate ``text`` with the matrices and numbers in ``env``; see the module docstring."""
    tree = parse(text)
    try:
        return _Evaluator(text, tree, env).run()
    except RecursionError:
        raise _nested_too_deeply(text) from None


# ---------------------------------------------------------------- error helpers


def _error(text: str, where: ast.AST | tuple[int, int], message: str) -> ExpressionError:
    """An ExpressionError: ``message`` (one line), then the expression with a caret under ``where``."""
    start, end = where if isinstance(where, tuple) else _span(text, where)
    return ExpressionError(f"{message}\n{caret(text, start, end)}")


def _span(text: str, node: ast.AST) -> tuple[int, int]:
    """Character columns of ``node`` (ast counts UTF-8 bytes)."""
    raw = text.encode()
    return (
        len(raw[: node.col_offset].decode(errors="ignore")),
        len(raw[: node.end_col_offset].decode(errors="ignore")),
    )


def _source(text: str, node: ast.AST) -> str:
    """The source text of ``node`` (without the parentheses around it)."""
    start, end = _span(text, node)
    return text[start:end]


def _atom(text: str, node: ast.AST) -> str:
    """The source of ``node``, parenthesized unless it is a name, number, call or attribute."""
    src = _source(text, node)
    return src if isinstance(node, (ast.Name, ast.Constant, ast.Call, ast.Attribute)) else f"({src})"


def _transposed(text: str, node: ast.AST) -> str:
    """How to write ``node`` transposed, for a "did you mean" hint: ``K`` -> ``K.T``, ``K.T`` -> ``K``."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        return _atom(text, node.value)
    return _atom(text, node) + ".T"


def _dims(a: np.ndarray) -> str:
    return f"{a.shape[0]}×{a.shape[1]}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _reject_control_characters(text: str) -> None:
    """Expressions are one line of printable text (a tab counts as a space)."""
    bad = [i for i, ch in enumerate(text) if (ch < " " and ch != "\t") or ch == "\x7f"]
    if not bad:
        return
    i = bad[0]
    shown = "".join(" " if j in bad else ch for j, ch in enumerate(text))
    if text[i] in "\r\n":
        raise _error(shown, (i, i + 1), "the expression has a line break: write it on one line")
    raise _error(shown, (i, i + 1), f"the expression has a control character {text[i]!r} at column {i}: remove it")


def _syntax_error(text: str, err: SyntaxError, lead: int) -> ExpressionError:
    """Caret at the SyntaxError's offset (1-based characters; 0 or missing means the end)."""
    end_of_text = len(text.rstrip())
    start = lead + err.offset - 1 if err.offset else end_of_text
    if start >= end_of_text:
        where = "at the end of the expression: something is missing"
        start, end = end_of_text, end_of_text + 1
    else:
        end = lead + err.end_offset - 1 if err.end_offset and err.end_offset > err.offset else start + 1
        where = f"at {text[start:end]!r}"
    example = "e.g. softmax(Q @ K.T / sqrt(d)) @ V"
    return _error(text, (start, end), f"syntax error {where} ({err.msg}); expressions use Python syntax, {example}")


def _nested_too_deeply(text: str) -> ExpressionError:
    return _error(text, (0, len(text)), "the expression is nested too deeply: split it into smaller ones")


def _shift_columns(tree: ast.AST, by: int) -> None:
    for node in ast.walk(tree):
        if hasattr(node, "col_offset"):
            node.col_offset += by
            node.end_col_offset += by


# ---------------------------------------------------------------- function signatures


@dataclass(frozen=True)
class _Signature:
    """The parameters of a function after its matrix ``x`` (always the first positional)."""

    positional: tuple[str, ...]  # parameters that may follow x by position, in order
    keywords: tuple[str, ...]  # parameters that may be given as name=
    usage: str  # shown in errors


_SIGNATURES = {
    "sqrt": _Signature((), (), "sqrt(x)"),
    "exp": _Signature((), (), "exp(x)"),
    "normalize": _Signature((), (), "normalize(x)"),
    "signed": _Signature((), (), "signed(x)"),
    "softmax": _Signature(
        ("axis",), ("axis", "temperature", "causal"), "softmax(x, axis=rows, temperature=1.0, causal=False)"
    ),
    "norm": _Signature(("f", "axis"), ("f", "axis", "causal"), 'norm(x, f="y+1", axis=rows, causal=False)'),
}


def _looks_like_axis(node: ast.AST) -> bool:
    """A bare word or an axis string: what ``norm`` takes as a positional axis."""
    return isinstance(node, ast.Name) or (isinstance(node, ast.Constant) and node.value in AXES)


def _bind(text: str, call: ast.Call) -> dict[str, ast.expr]:
    """Map each parameter of a known function to its argument node (``"x"`` is the matrix)."""
    name = call.func.id
    sig = _SIGNATURES[name]
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            raise _error(text, arg, f"*unpacking in {name}(...) is not supported: write the arguments out, {sig.usage}")
    for kw in call.keywords:
        if kw.arg is None:
            raise _error(text, kw, f"**unpacking in {name}(...) is not supported: write the arguments out, {sig.usage}")
    if not call.args:
        raise _error(text, call, f"{name} needs the matrix as its first argument: {sig.usage}")
    bound: dict[str, ast.expr] = {"x": call.args[0]}
    extra = call.args[1:]
    if len(extra) > len(sig.positional):
        most = _count(1 + len(sig.positional), "positional argument")
        raise _error(text, extra[len(sig.positional)], f"{name} takes at most {most}: {sig.usage}")
    order = sig.positional
    if name == "norm" and extra and _looks_like_axis(extra[0]):
        order = ("axis", "f")
    for param, arg in zip(order, extra):
        bound[param] = arg
    for kw in call.keywords:
        if kw.arg not in sig.keywords:
            allowed = ", ".join(f"{k}=" for k in sig.keywords) or "no keywords"
            raise _error(text, kw, f"unknown keyword {kw.arg}= for {name}: it takes {allowed} ({sig.usage})")
        if kw.arg in bound:
            raise _error(text, kw, f"{kw.arg} is given twice to {name}: give it once ({sig.usage})")
        bound[kw.arg] = kw.value
    return bound


def _axis_word(text: str, node: ast.AST, fname: str) -> str:
    """``rows`` or ``cols`` from a bare word or a string; anything else is an error."""
    word = node.id if isinstance(node, ast.Name) else getattr(node, "value", None)
    if word in AXES:
        return word
    hint = f'; f is a string, f="{word}"' if word in NORM_FS else ""
    return _raise(
        text,
        node,
        f"unknown axis {_source(text, node)} for {fname}: use rows (each row sums to 1) or cols (each column sums to 1){hint}",
    )


def _causal_flag(text: str, node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return _raise(text, node, f"causal must be True or False, not {_source(text, node)}")


def _norm_f(text: str, node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and node.value in NORM_FS:
        return node.value
    return _raise(text, node, f'unknown f {_source(text, node)} for norm: use f="y+1" or f="exp"')


def _raise(text: str, node: ast.AST, message: str):
    raise _error(text, node, message)


# ---------------------------------------------------------------- validation


_KINDS = {
    ast.Subscript: "indexing",
    ast.Slice: "slicing",
    ast.Lambda: "a lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.Tuple: "a tuple",
    ast.List: "a list",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "assignment (:=)",
    ast.Starred: "*unpacking",
    ast.Await: "await",
}
_ARITHMETIC: dict[type, tuple[str, Callable[[Value, Value], Value]]] = {
    ast.Add: ("+", np.add),
    ast.Sub: ("-", np.subtract),
    ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide),
}
_OTHER_OPERATORS = {
    ast.Pow: "**",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_UNARY_NAMES = {ast.UAdd: "unary +", ast.Not: "not", ast.Invert: "~"}


class _Checker:
    """Walks a parsed expression and raises on anything outside the grammar."""

    def __init__(self, text: str):
        self.text = text

    def fail(self, node: ast.AST | tuple[int, int], message: str) -> ExpressionError:
        return _error(self.text, node, message)

    def check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.UnaryOp):
            self.unary(node)
        elif isinstance(node, ast.BinOp):
            self.binary(node)
        elif isinstance(node, ast.Attribute):
            self.attribute(node)
        elif isinstance(node, ast.Call):
            self.call(node)
        else:
            kind = _KINDS.get(type(node), type(node).__name__)
            raise self.fail(node, f"{_source(self.text, node)} is not supported ({kind}): {GRAMMAR}")

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        src = _source(self.text, node)
        if isinstance(value, bool):
            raise self.fail(node, f"{src} is not supported here: True/False are only for causal=")
        if isinstance(value, str):
            raise self.fail(
                node, f'the string {src} is not supported here: strings are only norm\'s f ("y+1" or "exp") or an axis'
            )
        if not isinstance(value, (int, float)):
            raise self.fail(node, f"{src} is not supported (only real numbers): {GRAMMAR}")

    def name(self, node: ast.Name) -> None:
        if node.id in AXES:
            raise self.fail(
                node,
                f"{node.id} is an axis word, valid only as the axis of softmax or norm, e.g. softmax(A, {node.id})",
            )

    def unary(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, ast.USub):
            raise self.fail(node, f"{_UNARY_NAMES[type(node.op)]} is not supported: {GRAMMAR}")
        self.check(node.operand)

    def binary(self, node: ast.BinOp) -> None:
        if type(node.op) in _OTHER_OPERATORS:
            symbol = _OTHER_OPERATORS[type(node.op)]
            hint = "; for powers use x * x or sqrt(x)" if symbol == "**" else ""
            raise self.fail(
                self.operator_span(node, symbol), f"the operator {symbol} is not supported: {GRAMMAR}{hint}"
            )
        self.check(node.left)
        self.check(node.right)

    def operator_span(self, node: ast.BinOp, symbol: str) -> tuple[int, int]:
        """Columns of the operator between the operands (the whole node if it cannot be found)."""
        gap_start, gap_end = _span(self.text, node.left)[1], _span(self.text, node.right)[0]
        at = self.text.find(symbol, gap_start, gap_end)
        return (at, at + len(symbol)) if at >= 0 else _span(self.text, node)

    def attribute(self, node: ast.Attribute) -> None:
        if node.attr != "T":
            start, end = _span(self.text, node)
            where = (end - len(node.attr), end)
            raise self.fail(
                where,
                f"unknown attribute .{node.attr} on {_source(self.text, node.value)}: only .T (transpose) is supported",
            )
        self.check(node.value)

    def call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail(
                func, f"calling {_source(self.text, func)} is not supported: the functions are {', '.join(FUNCTIONS)}"
            )
        if func.id not in _SIGNATURES:
            raise self.fail(
                func, f"unknown function {func.id}: use one of {', '.join(FUNCTIONS)}{_suggest(func.id, FUNCTIONS)}"
            )
        for param, arg in _bind(self.text, node).items():
            if param == "axis":
                _axis_word(self.text, arg, func.id)
            elif param == "causal":
                _causal_flag(self.text, arg)
            elif param == "f":
                _norm_f(self.text, arg)
            else:  # x, temperature: expressions
                self.check(arg)


# ---------------------------------------------------------------- evaluation


@dataclass
class _Val:
    """A value during evaluation, and the product whose staged result it is (if any)."""

    value: Value
    chain: int | None = None


@dataclass
class _Draft:
    """A product being recorded; its stages grow as its result moves up the tree."""

    left: Term
    right: Term
    values: np.ndarray  # (m, n)
    label: str
    span: tuple[int, int]
    stages: list[Stage] = field(default_factory=list)

    def freeze(self) -> Product:
        return Product(self.left, self.right, self.values, self.label, tuple(self.stages), self.span)


def _first_matmul(node: ast.AST) -> ast.BinOp | None:
    """The first ``@`` the evaluator completes: post-order, children left to right."""
    for child in ast.iter_child_nodes(node):
        found = _first_matmul(child)
        if found is not None:
            return found
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return node
    return None


class _Evaluator:
    """Evaluates a checked tree, recording products, their stages and the links between them."""

    def __init__(self, text: str, tree: ast.Expression, env: Mapping[str, Value], resolving_d: bool = False):
        self.text = text
        self.tree = tree
        self.env = env
        self.resolving_d = resolving_d  # True in the side evaluation that finds the default d
        self.drafts: list[_Draft] = []
        self.names: list[str] = []
        self.bound: dict[str, Value] = {}  # env values, checked and converted
        self.d: float | None = None
        self.handlers = {
            ast.Constant: self.constant,
            ast.Name: self.name,
            ast.UnaryOp: self.negate,
            ast.BinOp: self.binary,
            ast.Attribute: self.transpose,
            ast.Call: self.call,
        }

    def run(self) -> Evaluation:
        result = self.eval(self.tree.body)
        products = tuple(draft.freeze() for draft in self.drafts)
        return Evaluation(self.text, result.value, products, tuple(self.names), self.d)

    def eval(self, node: ast.AST) -> _Val:
        result = self.handlers[type(node)](node)
        self.check_finite(node, result.value)
        return result

    # ------------------------------------------------ helpers

    def fail(self, where: ast.AST | tuple[int, int], message: str) -> ExpressionError:
        return _error(self.text, where, message)

    def src(self, node: ast.AST) -> str:
        return _source(self.text, node)

    def check_finite(self, node: ast.AST, value: Value) -> None:
        a = np.asarray(value)
        bad = ~np.isfinite(a)
        if not bad.any():
            return
        first = tuple(np.argwhere(bad)[0]) if a.ndim else ()
        x = a[first]
        what = "NaN" if np.isnan(x) else ("inf" if x > 0 else "-inf")
        at = f" at [{first[0]}, {first[1]}]" if first else ""
        raise self.fail(
            node,
            f"{self.src(node)} is not finite ({what}{at}): the numbers overflow float64 or are undefined; scale them down",
        )

    def matrix(self, node: ast.AST, val: _Val, needed_by: str) -> np.ndarray:
        """``val`` as a matrix, or an error naming the number that was given instead."""
        if isinstance(val.value, np.ndarray):
            return val.value
        raise self.fail(node, f"{needed_by} needs a matrix but {self.src(node)} is a number")

    def step(self, val: _Val, values: np.ndarray, label: str, rowwise: str | None = None) -> _Val:
        """Apply a unary matrix step: record it as a stage if ``val`` continues a product's result."""
        if val.chain is not None:
            self.drafts[val.chain].stages.append(Stage.of(label, values, rowwise))
        return _Val(values, val.chain)

    # ------------------------------------------------ leaves

    def constant(self, node: ast.Constant) -> _Val:
        return _Val(float(node.value))

    def name(self, node: ast.Name) -> _Val:
        name = node.id
        if name in self.env:
            value = self.bound_value(node)
        elif name == "d":
            value = self.default_d(node)
        else:
            bound = ", ".join(sorted(self.env)) or "none"
            how = BIND_HINT.replace("X", name)
            raise self.fail(
                node, f"unknown name {name}{_suggest(name, self.env)}: bound names are {bound}; bind it ({how})"
            )
        if name not in self.names:
            self.names.append(name)
        return _Val(value)

    def bound_value(self, node: ast.Name) -> Value:
        """The env value of a name as a float or a copied (m, n) float64 matrix."""
        name = node.id
        if name not in self.bound:
            raw = self.env[name]
            try:
                a = np.asarray(raw)
                if a.ndim == 0 and a.dtype.kind not in "biuf":
                    raise self.fail(
                        node, f"{name} is bound to {type(raw).__name__} {raw!r}: bind a 2-D matrix or a number"
                    )
                # a matrix is copied, so terms never alias the caller's array
                self.bound[name] = float(a) if a.ndim == 0 else np.array(check_matrix(a, name))
            except ExpressionError:
                raise
            except MatvizError as err:
                raise self.fail(node, f"{err} (bind {name} to a 2-D matrix or a number)") from None
            except (TypeError, ValueError):
                raise self.fail(
                    node, f"{name} is bound to {type(raw).__name__}: bind a 2-D matrix or a number"
                ) from None
        return self.bound[name]

    def default_d(self, node: ast.Name) -> float:
        """d = the inner dimension of the first ``@`` evaluated (see the module docstring)."""
        if self.d is None:
            if self.drafts:
                self.d = float(self.drafts[0].left.values.shape[1])
            else:
                self.d = self.d_from_first_matmul(node)
        return self.d

    def d_from_first_matmul(self, node: ast.Name) -> float:
        """Evaluate the first ``@`` on the side (it contains no other ``@``) to read its inner dimension."""
        how = BIND_HINT.replace("X", "d").replace("=array", "=64")
        first = _first_matmul(self.tree)
        if first is None:
            bound = ", ".join(sorted(self.env)) or "none"
            raise self.fail(
                node,
                f"unknown name d: d defaults to the inner size of the first @, but there is no @; bound names are {bound}; bind it ({how})",
            )
        if self.resolving_d:
            raise self.fail(
                node,
                f"d is used inside {self.src(first)}, the first @, whose inner size it would default to: bind d ({how})",
            )
        side = _Evaluator(self.text, self.tree, self.env, resolving_d=True)
        side.eval(first)
        return float(side.drafts[0].left.values.shape[1])

    # ------------------------------------------------ operators

    def negate(self, node: ast.UnaryOp) -> _Val:
        val = self.eval(node.operand)
        if isinstance(val.value, float):
            return _Val(-val.value)
        return self.step(val, -val.value, "negate")

    def transpose(self, node: ast.Attribute) -> _Val:
        val = self.eval(node.value)
        a = self.matrix(node.value, val, ".T")
        return _Val(np.ascontiguousarray(a.T))  # (n, m); a transpose ends the chain

    def binary(self, node: ast.BinOp) -> _Val:
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.MatMult):
            return self.matmul(node, left, right)
        return self.arithmetic(node, left, right)

    def matmul(self, node: ast.BinOp, left: _Val, right: _Val) -> _Val:
        for side, val in ((node.left, left), (node.right, right)):
            if not isinstance(val.value, np.ndarray):
                raise self.fail(
                    side, f"@ multiplies matrices but {self.src(side)} is a number: use * to scale by a number"
                )
        a, b = left.value, right.value  # (m, k), (k, n)
        if a.shape[1] != b.shape[0]:
            raise self.matmul_mismatch(node, a, b)
        with np.errstate(all="ignore"):
            values = a @ b  # (m, n)
        self.drafts.append(
            _Draft(
                left=Term(self.src(node.left), a, left.chain),
                right=Term(self.src(node.right), b, right.chain),
                values=values,
                label=self.src(node),
                span=_span(self.text, node),
            )
        )
        return _Val(values, len(self.drafts) - 1)

    def matmul_mismatch(self, node: ast.BinOp, a: np.ndarray, b: np.ndarray) -> ExpressionError:
        left, right = self.src(node.left), self.src(node.right)
        message = (
            f"shape mismatch in {self.src(node)}: {left} is {_dims(a)} but {right} is {_dims(b)}; "
            f"the {_count(a.shape[1], 'column')} of {left} must equal the {_count(b.shape[0], 'row')} of {right}"
        )
        if a.shape[1] == b.shape[1]:
            message += f" (did you mean {_transposed(self.text, node.right)}?)"
        elif a.shape[0] == b.shape[0]:
            message += f" (did you mean {_transposed(self.text, node.left)}?)"
        elif b.shape[1] == a.shape[0]:
            message += f" (did you mean {_atom(self.text, node.right)} @ {_atom(self.text, node.left)}?)"
        return self.fail(node, message)

    def arithmetic(self, node: ast.BinOp, left: _Val, right: _Val) -> _Val:
        symbol, fn = _ARITHMETIC[type(node.op)]
        left_is_matrix, right_is_matrix = isinstance(left.value, np.ndarray), isinstance(right.value, np.ndarray)
        if left_is_matrix and right_is_matrix and left.value.shape != right.value.shape:
            raise self.elementwise_mismatch(node, symbol, left.value, right.value)  # before numpy broadcasts
        if symbol == "/":
            self.check_divisor(node.right, right.value)
        with np.errstate(all="ignore"):
            values = fn(left.value, right.value)
        if left_is_matrix and right_is_matrix:
            return _Val(values)  # a binary matrix op ends both chains
        if left_is_matrix:
            return self.step(left, values, f"{symbol} {_atom(self.text, node.right)}")
        if right_is_matrix:
            scalar = _atom(self.text, node.left)
            label = f"{symbol} {scalar}" if symbol in "+*" else f"{scalar} {symbol} x"
            return self.step(right, values, label)
        return _Val(float(values))

    def check_divisor(self, node: ast.AST, value: Value) -> None:
        zero = np.asarray(value) == 0
        if not zero.any():
            return
        at = "" if zero.ndim == 0 else " at [{}, {}]".format(*np.argwhere(zero)[0])
        what = "" if isinstance(node, ast.Constant) else f"{self.src(node)} is 0{at}; "
        raise self.fail(node, f"division by zero: {what}divide by something non-zero")

    def elementwise_mismatch(self, node: ast.BinOp, symbol: str, a: np.ndarray, b: np.ndarray) -> ExpressionError:
        left, right = self.src(node.left), self.src(node.right)
        message = (
            f"shape mismatch in {self.src(node)}: {left} is {_dims(a)} but {right} is {_dims(b)}; "
            f"elementwise {symbol} needs equal shapes"
        )
        if a.shape == b.shape[::-1]:
            message += f" (did you mean {_transposed(self.text, node.right)}?)"
        elif symbol == "*" and a.shape[1] == b.shape[0]:
            message += " (for a matrix product use @)"
        return self.fail(node, message)

    # ------------------------------------------------ functions

    def call(self, node: ast.Call) -> _Val:
        fname = node.func.id
        params = _bind(self.text, node)
        x = self.eval(params["x"])
        if fname in ("sqrt", "exp"):
            return self.elementwise(node, fname, params["x"], x)
        a = self.matrix(params["x"], x, fname)  # (m, n)
        if fname == "normalize":
            return self.step(x, minmax(a), "normalize")
        if fname == "signed":
            return self.step(x, signed_minmax(a), "signed")
        axis = _axis_word(self.text, params["axis"], fname) if "axis" in params else "rows"
        causal = _causal_flag(self.text, params["causal"]) if "causal" in params else False
        if fname == "softmax":
            return self.softmax(node, params, x, axis, causal)
        f = _norm_f(self.text, params["f"]) if "f" in params else "y+1"
        return self.norm(node, x, f, axis, causal)

    def elementwise(self, node: ast.Call, fname: str, x_node: ast.AST, x: _Val) -> _Val:
        if fname == "sqrt":
            negative = np.asarray(x.value) < 0
            if negative.any():
                at = "" if negative.ndim == 0 else " at [{}, {}]".format(*np.argwhere(negative)[0])
                raise self.fail(
                    x_node, f"sqrt of a negative number: {self.src(x_node)} is negative{at}; take sqrt of values >= 0"
                )
        fn = np.sqrt if fname == "sqrt" else np.exp
        if isinstance(x.value, float):
            with np.errstate(all="ignore"):
                return _Val(float(fn(x.value)))
        with np.errstate(all="ignore"):
            values = fn(x.value)  # (m, n)
        return self.step(x, values, fname)

    def temperature(self, params: dict[str, ast.expr]) -> float:
        if "temperature" not in params:
            return 1.0
        node = params["temperature"]
        t = self.eval(node).value
        if isinstance(t, np.ndarray):
            raise self.fail(node, f"temperature must be a number, but {self.src(node)} is a {_dims(t)} matrix")
        if not t > 0:
            raise self.fail(node, f"temperature must be > 0 (got {t:g}): use e.g. temperature=0.5 or temperature=2")
        return t

    def mask(self, node: ast.Call, x: _Val, axis: str) -> tuple[_Val, np.ndarray]:
        """The causal mask as a stage: masked entries -inf. Also returns the (m, n) keep mask."""
        a = x.value  # (m, n)
        keep = causal_keep(a.shape)
        alive = keep.any(axis=axis_number(axis))  # one per row (rows) or column (cols)
        if not alive.all():
            which = "row" if axis == "rows" else "column"
            first = int(np.flatnonzero(~alive)[0])
            raise self.fail(
                node,
                f"causal {node.func.id} over {axis}: {which} {first} of {self.src(node.args[0])} ({_dims(a)}) is entirely "
                f"masked (column j > row i), so it cannot be normalized; use axis=rows, or at least as many rows as columns",
            )
        return self.step(x, np.where(keep, a, -np.inf), "causal mask"), keep

    def softmax(self, node: ast.Call, params: dict[str, ast.expr], x: _Val, axis: str, causal: bool) -> _Val:
        t = self.temperature(params)
        keep = None
        if causal:
            x, keep = self.mask(node, x, axis)  # masked: -inf, so exp gives 0
        values = masked_softmax(x.value, axis, temperature=t, keep=keep)  # (m, n)
        label = f"softmax({axis})" if t == 1 else f"softmax({axis}, temperature={t:g})"
        return self.step(x, values, label, rowwise=axis)

    def norm(self, node: ast.Call, x: _Val, f: str, axis: str, causal: bool) -> _Val:
        a = x.value  # (m, n)
        try:
            if not causal:
                values = generalized_normalize(a, f, axis)
            else:
                x, keep = self.mask(node, x, axis)
                if f == "exp":
                    values = masked_softmax(a, axis, keep=keep)
                else:
                    values = generalized_normalize(a, lambda y: np.where(keep, y + 1.0, 0.0), axis)  # masked: f = 0
        except ExpressionError:
            raise
        except MatvizError as err:  # from ops: f(x) negative, or a row/column summing to 0
            raise self.fail(node, f"{self.src(node)}: {err}") from None
        return self.step(x, values, f"norm({f}, {axis})", rowwise=axis)
