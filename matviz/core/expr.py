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

Image transforms (``matviz.core.transforms`` has the formulas): ``warp(x, amplitude, wavelength,
axis=rows)`` (row i shifted along itself by ``amplitude·sin(2π·i/wavelength)`` pixels, linearly
interpolated, edges clamped; ``cols``: column j shifted down by ``amplitude·sin(2π·j/wavelength)``),
``flip(x, "h"|"v")``, ``rot90(x, k=1)`` (counter-clockwise), ``roll(x, shift, axis=rows)`` (cyclic,
each row along itself, or each column), ``blur(x, sigma)`` (Gaussian, edges clamped),
``resize(x, rows, cols)`` (anti-aliased, as the sources' ``--resize``), ``relu``, ``tanh``, ``selu``
(entrywise; numbers too), slicing ``x[a:b, c:d]`` (Python slices of rows then columns; ``x[a:b]`` is
rows only; a single index is an error) and ``t_product(x)`` = ``normalize(x.T @ x)`` (one product).

The four fundamental subspaces (``matviz.core.subspaces``; ranks with numpy's default tolerance):
``svd(W)`` is W rebuilt from its thin SVD as two products, ``U @ diag(S)`` and then ``… @ Vt``, so
it draws as two linked cubes whose operand faces are named ``U``, ``diag(S)`` and ``Vt`` and whose
result face is W again (named after W); ``pinv(W)`` the Moore-Penrose pseudo-inverse (n×m);
``proj_row(W, x)`` = P·x, the part of the input ``x`` (an n×1 column or an n×k matrix of columns,
n = W's columns) in W's row space, and ``residual(W, x)`` = x − P·x, the part W ignores
(``W @ residual(W, x)`` is 0); each is one product, ``P_row(W) @ x`` and ``(I - P_row(W)) @ x``.

Bindings: ``let X = norm(A, "y+1", cols) in normalize(X.T @ X)`` or, the same,
``X = norm(A, "y+1", cols); normalize(X.T @ X)``. Several may follow each other; a binding may use
the ones before it, must be used, and may not reuse an env name.

Shared nodes: a repeated sub-expression (written twice, or a binding used twice) is one node,
computed once: ``softmax(A @ B, rows) @ softmax(A @ B, cols)`` records ONE product for ``A @ B``.
Sub-expressions are compared as trees with defaults filled in (``softmax(X)`` is
``softmax(X, axis=rows)``; ``t_product(X)`` is ``normalize(X.T @ X)``).

The name ``d``: unless ``env`` binds it, ``d`` is the inner dimension of the first ``@`` evaluated.
Evaluation goes left to right with operands before their product, so for
``softmax(Q @ K.T / sqrt(d)) @ V`` that is ``Q @ K.T`` and ``d`` is d_head (the columns of Q). Using
``d`` inside that first product, or in an expression without ``@``, is an error.

Causal masking (``causal=True``): entry (i, j) of an (m, n) matrix is masked when j > i, i.e. the
top-left aligned lower triangle is kept, as in torch's ``scaled_dot_product_attention(is_causal=True)``.
Softmax sets masked entries to -inf before the exp; ``norm`` gives them f = 0. Either way they end up
exactly 0, and a row (column, for ``axis=cols``) with every entry masked is an error.

Besides the value, :func:`evaluate` records what the renderer draws (:class:`Evaluation`): one
:class:`Product` per ``@`` node in evaluation order, with its two operands (:class:`Term`). A
product's result is followed up the tree while each node is a *unary matrix step* that keeps the
shape (matrix∘number arithmetic, unary minus, ``sqrt``, ``exp``, ``softmax``, ``norm``,
``normalize``, ``signed``, ``relu``, ``tanh``, ``selu``, ``warp``, ``flip``, ``roll``, ``blur``, and
``rot90``/``resize``/a slice when the shape does not change); each step is a :class:`Stage` (a
causal softmax or norm makes two: ``"causal mask"``, with -inf where masked, then the
normalization). If the chain reaches an operand of a later ``@``, that :class:`Term` has ``source``
= the product's index and its values are the last stage's values. A transpose, a step that changes
the shape, or an operation with another matrix ends the chain: the later term has ``source=None``.

Where the stages go: every place a product's result is used (an operand of a later ``@``, the end
of a chain, the final value) is one *use*, with the steps on its way. The product's own
``stages`` (drawn on its result face) are the steps that all its uses share; with one use, that is
all of them, as before shared nodes existed. A use whose steps go further (a shared ``A @ B``
softmaxed over rows for one consumer and over columns for another) keeps the rest on its
:class:`Term` (``Term.stages``): the shared result face shows the common steps (here the raw
product) and each consuming cube's operand face shows its own.

Every error is an :class:`~matviz.errors.ExpressionError` whose first line says what is wrong and
how to fix it, followed by the expression and a line of ``^`` under the offending part (see
:func:`caret`).
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
from dataclasses import dataclass, field
from typing import Callable, Mapping, Union

import numpy as np

from matviz.core import transforms as _tf
from matviz.core.values import MAX_ELEMENTS, Stage  # one Stage type for expressions and cubes (label, values, kind, rowwise)
from matviz.core.ops import (
    axis_number,
    causal_keep,
    check_matrix,
    generalized_normalize,
    masked_softmax,
    minmax,
    signed_minmax,
)
from matviz.errors import BudgetError, ExpressionError, MatvizError

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
_SUBSPACE_FUNCTIONS = ("svd", "pinv", "proj_row", "residual")
_ENTRYWISE = {"sqrt": np.sqrt, "exp": np.exp, "relu": _tf.relu, "tanh": _tf.tanh, "selu": _tf.selu}


# ---------------------------------------------------------------- the record the renderer draws


@dataclass(frozen=True)
class Term:
    """One operand of a product."""

    label: str  # the operand's source text, e.g. "Q", "K.T", "softmax(A, rows)"
    values: np.ndarray  # (r, c) float64
    source: int | None  # index into Evaluation.products of the product whose staged result this is
    # steps from the source's staged result face to ``values`` that this use alone takes (the
    # source is a shared node whose other uses differ); () when values is the face's last stage
    stages: tuple[Stage, ...] = ()


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
    bindings: tuple[str, ...] = ()  # names bound by let / NAME = ...; in the expression, in order


# ---------------------------------------------------------------- public functions


def caret(text: str, start: int, end: int) -> str:
    """The last two lines of every ExpressionError: the expression, and ``^`` under columns
    ``start:end`` (at least one ``^``; ``start == len(text)`` points just past the end)."""
    start = min(max(start, 0), len(text))
    width = max(end - start, 1)
    shown = text.replace("\t", " ")  # one column per character, so the marks line up
    return f"  {shown}\n  {' ' * start}{'^' * width}"


def parse(text: str) -> ast.Expression | ast.Module:
    """Parse ``text`` and check it uses only the grammar above (names are checked by evaluate).

    A plain expression comes back as an ``ast.Expression``; one with bindings (``let X = ... in
    ...`` or ``X = ...; ...``) as an ``ast.Module``: ``Assign`` statements, one name each, then one
    ``Expr``. ``let``/``in`` are read as ``=``/``;`` (same columns), so node positions refer to
    ``text`` itself, even when it starts with spaces.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    _reject_control_characters(text)
    if not text.strip():
        raise ExpressionError(
            "the expression is empty: write e.g. softmax(Q @ K.T / sqrt(d)) @ V\n" + caret(text, 0, 1)
        )
    source, program = _desugar_let(text)
    body = source.lstrip(" \t")
    lead = len(source) - len(body)  # ASCII spaces: as many bytes as characters
    try:
        tree = ast.parse(body, mode="exec" if program else "eval")
    except SyntaxError as err:
        raise _syntax_error(text, err, lead) from None
    except (ValueError, RecursionError, MemoryError) as err:  # absurd nesting
        raise ExpressionError(f"the expression cannot be parsed ({err}): simplify it\n" + caret(text, 0, len(text)))
    if lead:
        _shift_columns(tree, lead)
    try:
        if program:
            _Checker(text).program(tree)
        else:
            _Checker(text).check(tree.body)
    except RecursionError:
        raise _nested_too_deeply(text) from None
    return tree


def _desugar_let(text: str) -> tuple[str, bool]:
    """``(source, program)``: ``text`` with each top-level ``let`` blanked and its ``in`` made ``;``
    (same length, so columns are kept), and whether it has bindings (a top-level ``=`` or ``;``).
    Text that does not tokenize is returned as it is (the parser reports it)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text, False
    chars, depth, pending, program = list(text), 0, [], False
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif depth == 0 and tok.type == tokenize.OP and tok.string in ("=", ";"):
            program = True
        elif depth == 0 and tok.type == tokenize.NAME and tok.string == "let":
            after = tokens[i + 1 : i + 3]
            if len(after) == 2 and after[0].type == tokenize.NAME and after[1].string == "=":
                col = tok.start[1]
                chars[col : col + 3] = "   "
                pending.append(tok)
                program = True
        elif depth == 0 and tok.type == tokenize.NAME and tok.string == "in" and pending:
            col = tok.start[1]
            chars[col : col + 2] = "; "
            pending.pop()
    if pending:
        col = pending[-1].start[1]
        raise _error(
            text, (col, col + 3), "let without in: write let X = ... in EXPR, e.g. let X = A @ B in X.T @ X"
        )
    return "".join(chars), program


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
    required: tuple[str, ...] = ()  # parameters without a default


_SIGNATURES = {
    "sqrt": _Signature((), (), "sqrt(x)"),
    "exp": _Signature((), (), "exp(x)"),
    "normalize": _Signature((), (), "normalize(x)"),
    "signed": _Signature((), (), "signed(x)"),
    "softmax": _Signature(
        ("axis",), ("axis", "temperature", "causal"), "softmax(x, axis=rows, temperature=1.0, causal=False)"
    ),
    "norm": _Signature(("f", "axis"), ("f", "axis", "causal"), 'norm(x, f="y+1", axis=rows, causal=False)'),
    "relu": _Signature((), (), "relu(x)"),
    "tanh": _Signature((), (), "tanh(x)"),
    "selu": _Signature((), (), "selu(x)"),
    "t_product": _Signature((), (), "t_product(x)"),
    "warp": _Signature(
        ("amplitude", "wavelength", "axis"),
        ("amplitude", "wavelength", "axis"),
        "warp(x, amplitude, wavelength, axis=rows)",
        ("amplitude", "wavelength"),
    ),
    "flip": _Signature(("direction",), ("direction",), 'flip(x, "h") or flip(x, "v")', ("direction",)),
    "rot90": _Signature(("k",), ("k",), "rot90(x, k=1)"),
    "roll": _Signature(("shift", "axis"), ("shift", "axis"), "roll(x, shift, axis=rows)", ("shift",)),
    "blur": _Signature(("sigma",), ("sigma",), "blur(x, sigma)", ("sigma",)),
    "resize": _Signature(("rows", "cols"), ("rows", "cols"), "resize(x, rows, cols)", ("rows", "cols")),
    "svd": _Signature((), (), "svd(W)"),
    "pinv": _Signature((), (), "pinv(W)"),
    "proj_row": _Signature(("input",), ("input",), "proj_row(W, x) with x an n×1 column", ("input",)),
    "residual": _Signature(("input",), ("input",), "residual(W, x) with x an n×1 column", ("input",)),
}

# what each axis word means, per function, for the error that lists them
_AXIS_MEANING = {
    "warp": "rows (shift each row along itself) or cols (shift each column)",
    "roll": "rows (roll each row along itself) or cols (roll each column)",
}
_AXIS_DEFAULT_MEANING = "rows (each row sums to 1) or cols (each column sums to 1)"

# parameter defaults, so that softmax(X) and softmax(X, rows) are one node (see _Evaluator.key)
_DEFAULT_KEYS = {
    "softmax": {"axis": ("word", "rows"), "causal": ("bool", False), "temperature": ("const", 1.0)},
    "norm": {"f": ("str", "y+1"), "axis": ("word", "rows"), "causal": ("bool", False)},
    "warp": {"axis": ("word", "rows")},
    "roll": {"axis": ("word", "rows")},
    "rot90": {"k": ("const", 1.0)},
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
    missing = [p for p in sig.required if p not in bound]
    if missing:
        raise _error(text, call, f"{name} needs {' and '.join(missing)}: {sig.usage}")
    return bound


def _axis_word(text: str, node: ast.AST, fname: str) -> str:
    """``rows`` or ``cols`` from a bare word or a string; anything else is an error."""
    word = node.id if isinstance(node, ast.Name) else getattr(node, "value", None)
    if word in AXES:
        return word
    hint = f'; f is a string, f="{word}"' if word in NORM_FS and fname == "norm" else ""
    meaning = _AXIS_MEANING.get(fname, _AXIS_DEFAULT_MEANING)
    return _raise(text, node, f"unknown axis {_source(text, node)} for {fname}: use {meaning}{hint}")


def _flip_direction(text: str, node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and node.value in FLIPS:
        return node.value
    word = node.id if isinstance(node, ast.Name) else None
    hint = f' (a string: flip(x, "{word}"))' if word in FLIPS else ""
    return _raise(
        text,
        node,
        f'unknown direction {_source(text, node)} for flip: use "h" (mirror left-right) or "v" (mirror upside down){hint}',
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
    ast.AugAssign: "augmented assignment",
    ast.AnnAssign: "an annotated assignment",
    ast.Import: "import",
    ast.ImportFrom: "import",
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
        self.used: set[str] = set()  # names read so far
        self.unbound: set[str] = set()  # binding names not bound yet where the checker is
        self.binding: str | None = None  # the binding whose value is being checked

    def fail(self, node: ast.AST | tuple[int, int], message: str) -> ExpressionError:
        return _error(self.text, node, message)

    def program(self, module: ast.Module) -> None:
        """Bindings (``NAME = expression``, one name each, each used), then one expression."""
        *binds, last = module.body
        names: list[str] = []
        for stmt in binds:
            src = _source(self.text, stmt)
            if isinstance(stmt, ast.Expr):
                raise self.fail(
                    stmt, f"{src} is not used: only the last part is the expression; bind the others, X = {src}"
                )
            if not isinstance(stmt, ast.Assign):
                kind = _KINDS.get(type(stmt), type(stmt).__name__)
                raise self.fail(stmt, f"{src} is not supported ({kind}): a binding is NAME = expression, e.g. X = A @ B")
            target = stmt.targets[0]
            if len(stmt.targets) > 1 or not isinstance(target, ast.Name):
                raise self.fail(target, f"{_source(self.text, target)} cannot be bound: bind one name, e.g. X = A @ B")
            name = target.id
            if name in AXES or name in _SIGNATURES:
                what = "an axis word" if name in AXES else "a function"
                raise self.fail(target, f"{name} cannot be bound: it is {what}; choose another name")
            if name in names:
                raise self.fail(target, f"{name} is bound twice: bind each name once")
            names.append(name)
        if not isinstance(last, ast.Expr):
            raise self.fail(
                last,
                f"the expression ends with {_source(self.text, last)}: end with the expression that uses it, "
                "e.g. X = A @ B; X.T @ X (or let X = A @ B in X.T @ X)",
            )
        for i, stmt in enumerate(binds):
            self.unbound, self.binding = set(names[i:]), names[i]
            self.check(stmt.value)
        self.unbound, self.binding = set(), None
        self.check(last.value)
        for stmt in binds:
            target = stmt.targets[0]
            if target.id not in self.used:
                raise self.fail(target, f"{target.id} is bound but never used: use it or remove the binding")

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
        elif isinstance(node, ast.Subscript):
            self.subscript(node)
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
                node,
                f'the string {src} is not supported here: strings are only norm\'s f ("y+1" or "exp"), '
                'flip\'s direction ("h" or "v") or an axis',
            )
        if not isinstance(value, (int, float)):
            raise self.fail(node, f"{src} is not supported (only real numbers): {GRAMMAR}")

    def name(self, node: ast.Name) -> None:
        if node.id in AXES:
            raise self.fail(
                node,
                f"{node.id} is an axis word, valid only as the axis of softmax, norm, warp or roll, "
                f"e.g. softmax(A, {node.id})",
            )
        if node.id == self.binding:
            raise self.fail(node, f"{node.id} is used in its own binding: a binding can use only the ones before it")
        if node.id in self.unbound:
            raise self.fail(node, f"{node.id} is used before it is bound: bind it before the binding that uses it")
        self.used.add(node.id)

    def subscript(self, node: ast.Subscript) -> None:
        """Slices only: ``x[a:b]`` (rows) or ``x[a:b, c:d]``; bounds and steps are number expressions."""
        self.check(node.value)
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        base = _atom(self.text, node.value)
        for part in parts:
            if not isinstance(part, ast.Slice):
                raise self.fail(
                    node,
                    f"{_source(self.text, node)} is not supported (indexing): crop with slices, "
                    f"{base}[a:b, c:d] keeps rows a..b-1 and columns c..d-1 (a matrix stays a matrix)",
                )
        if len(parts) > 2:
            raise self.fail(
                node.slice, f"{_source(self.text, node)} has {len(parts)} slices: a matrix takes at most 2, {base}[a:b, c:d]"
            )
        for part in parts:
            for bound in (part.lower, part.upper, part.step):
                if bound is not None:
                    self.check(bound)

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
            elif param == "direction":
                _flip_direction(self.text, arg)
            else:  # x, temperature, amplitude, ...: expressions
                self.check(arg)


# ---------------------------------------------------------------- evaluation


@dataclass
class _Val:
    """A value during evaluation, the product whose result it continues (if any), and the steps
    taken since that product (they become its stages or its use's ``Term.stages``)."""

    value: Value
    chain: int | None = None
    stages: tuple[Stage, ...] = ()


@dataclass
class _Draft:
    """A product being recorded: its operands as (label, value) and where it is in the text."""

    left: tuple[str, _Val]
    right: tuple[str, _Val]
    values: np.ndarray  # (m, n)
    label: str
    span: tuple[int, int]


def _same_stage(a: Stage, b: Stage) -> bool:
    return a is b or (
        a.label == b.label and a.rowwise == b.rowwise and a.values.shape == b.values.shape and np.array_equal(a.values, b.values)
    )


def _common_prefix(uses: list[tuple[Stage, ...]]) -> tuple[Stage, ...]:
    """The steps every use of a product takes first (all of them when there is one use)."""
    if not uses:
        return ()
    prefix = uses[0]
    for use in uses[1:]:
        n = 0
        while n < min(len(prefix), len(use)) and _same_stage(prefix[n], use[n]):
            n += 1
        prefix = prefix[:n]
    return prefix


def _program(tree: ast.Expression | ast.Module) -> tuple[dict[str, ast.expr], ast.expr]:
    """``(bindings, body)`` of a parsed expression: name -> value node, and the final expression."""
    if isinstance(tree, ast.Module):
        *binds, last = tree.body
        return {stmt.targets[0].id: stmt.value for stmt in binds}, last.value
    return {}, tree.body


def _first_matmul(node: ast.AST, bindings: Mapping[str, ast.expr], seen: set[str] | None = None) -> ast.BinOp | None:
    """The first ``@`` the evaluator completes: post-order, children left to right, a bound name
    read as its value the first time it is met (later uses are the same node, already computed)."""
    seen = set() if seen is None else seen
    if isinstance(node, ast.Name) and node.id in bindings:
        if node.id in seen:
            return None
        seen.add(node.id)
        return _first_matmul(bindings[node.id], bindings, seen)
    for child in ast.iter_child_nodes(node):
        found = _first_matmul(child, bindings, seen)
        if found is not None:
            return found
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return node
    return None


class _Evaluator:
    """Evaluates a checked tree, recording products, their stages and the links between them.

    Every node is evaluated once per *key* (its tree with bound names replaced by their values
    and defaults filled in): a repeated sub-expression is one node, one product."""

    def __init__(
        self, text: str, tree: ast.Expression | ast.Module, env: Mapping[str, Value], resolving_d: bool = False
    ):
        self.text = text
        self.tree = tree
        self.bindings, self.body = _program(tree)
        self.env = env
        self.resolving_d = resolving_d  # True in the side evaluation that finds the default d
        self.drafts: list[_Draft] = []
        self.uses: dict[int, list[tuple[Stage, ...]]] = {}  # product index -> the steps of each use
        self.memo: dict[tuple, _Val] = {}
        self.keys: dict[int, tuple] = {}
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
            ast.Subscript: self.subscript,
        }

    def run(self) -> Evaluation:
        if isinstance(self.tree, ast.Module):
            for stmt in self.tree.body[:-1]:
                target = stmt.targets[0]
                if target.id in self.env:
                    raise self.fail(
                        target,
                        f"{target.id} is bound here and also given as an operand: rename the binding (or the operand)",
                    )
        result = self.eval(self.body)
        self.release(result)
        faces = [_common_prefix(self.uses.get(i, [])) for i in range(len(self.drafts))]
        products = []
        for draft in self.drafts:
            left, right = (self.term(label, val, faces) for label, val in (draft.left, draft.right))
            products.append(Product(left, right, draft.values, draft.label, faces[len(products)], draft.span))
        return Evaluation(self.text, result.value, tuple(products), tuple(self.names), self.d, tuple(self.bindings))

    @staticmethod
    def term(label: str, val: _Val, faces: list[tuple[Stage, ...]]) -> Term:
        if val.chain is None:
            return Term(label, val.value, None)
        return Term(label, val.value, val.chain, val.stages[len(faces[val.chain]) :])

    def eval(self, node: ast.AST) -> _Val:
        key = self.key(node)
        if key in self.memo:
            return self.memo[key]
        result = self.handlers[type(node)](node)
        self.check_finite(node, result.value)
        self.memo[key] = result
        return result

    # ------------------------------------------------ shared nodes

    def key(self, node: ast.AST) -> tuple:
        """What makes two nodes the same node (see the class docstring); cached per node."""
        key = self.keys.get(id(node))
        if key is None:
            key = self.keys[id(node)] = self.make_key(node)
        return key

    def make_key(self, node: ast.AST) -> tuple:
        if isinstance(node, ast.Constant):
            v = node.value
            return ("const", v) if isinstance(v, (bool, str)) else ("const", float(v))
        if isinstance(node, ast.Name):
            return self.key(self.bindings[node.id]) if node.id in self.bindings else ("name", node.id)
        if isinstance(node, ast.UnaryOp):
            return ("neg", self.key(node.operand))
        if isinstance(node, ast.BinOp):
            return (type(node.op).__name__, self.key(node.left), self.key(node.right))
        if isinstance(node, ast.Attribute):
            return ("T", self.key(node.value))
        if isinstance(node, ast.Subscript):
            parts = self.slice_parts(node)
            bounds = tuple(
                tuple(None if b is None else self.key(b) for b in (p.lower, p.upper, p.step)) for p in parts
            )
            return ("slice", self.key(node.value), bounds + ((None, None, None),) * (2 - len(bounds)))
        if isinstance(node, ast.Call):
            return self.call_key(node)
        return ("node", id(node))  # not reached for checked trees

    def call_key(self, node: ast.Call) -> tuple:
        fname = node.func.id
        params = _bind(self.text, node)
        if fname == "t_product":  # = normalize(x.T @ x)
            x = self.key(params["x"])
            return ("call", "normalize", (("x", ("MatMult", ("T", x), x)),))
        canon: dict[str, tuple] = {}
        for param, arg in params.items():
            if param == "axis":
                canon[param] = ("word", _axis_word(self.text, arg, fname))
            elif param == "causal":
                canon[param] = ("bool", _causal_flag(self.text, arg))
            elif param == "f":
                canon[param] = ("str", _norm_f(self.text, arg))
            elif param == "direction":
                canon[param] = ("str", _flip_direction(self.text, arg))
            else:
                canon[param] = self.key(arg)
        for param, default in _DEFAULT_KEYS.get(fname, {}).items():
            canon.setdefault(param, default)
        return ("call", fname, tuple(sorted(canon.items(), key=lambda item: item[0])))

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
        """Apply a unary matrix step: a stage if ``val`` continues a product's result."""
        if val.chain is None:
            return _Val(values)
        return _Val(values, val.chain, val.stages + (Stage.of(label, values, rowwise),))

    def release(self, val: _Val) -> None:
        """``val`` is used here and its chain ends (an operand, a transpose, the final value...)."""
        if val.chain is not None:
            self.uses.setdefault(val.chain, []).append(val.stages)

    def reshaped(self, val: _Val, values: np.ndarray, label: str, rowwise: str | None = None) -> _Val:
        """A transform: a stage when it keeps the shape, else the end of the chain (like ``.T``)."""
        if val.chain is not None and values.shape == val.value.shape:
            return self.step(val, values, label, rowwise)
        self.release(val)
        return _Val(values)

    def number(self, node: ast.AST, what: str) -> float:
        """The value of ``node``, which must be a number (``what`` names it in the error)."""
        value = self.eval(node).value
        if isinstance(value, np.ndarray):
            raise self.fail(node, f"{what} must be a number, but {self.src(node)} is a {_dims(value)} matrix")
        return value

    def whole(self, node: ast.AST, what: str) -> int:
        value = self.number(node, what)
        if value != int(value):
            raise self.fail(node, f"{what} must be a whole number, not {value:g}: use e.g. {round(value)}")
        return int(value)

    # ------------------------------------------------ leaves

    def constant(self, node: ast.Constant) -> _Val:
        return _Val(float(node.value))

    def name(self, node: ast.Name) -> _Val:
        name = node.id
        if name in self.bindings:
            return self.eval(self.bindings[name])
        if name in self.env:
            value = self.bound_value(node)
        elif name == "d":
            value = self.default_d(node)
        else:
            bound = ", ".join(sorted(self.env)) or "none"
            how = BIND_HINT.replace("X", name)
            raise self.fail(
                node, f"unknown name {name}{_suggest(name, list(self.env) + list(self.bindings))}: "
                f"bound names are {bound}; bind it ({how})"
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
                self.d = float(self.drafts[0].left[1].value.shape[1])
            else:
                self.d = self.d_from_first_matmul(node)
        return self.d

    def d_from_first_matmul(self, node: ast.Name) -> float:
        """Evaluate the first ``@`` on the side (it contains no other ``@``) to read its inner dimension."""
        how = BIND_HINT.replace("X", "d").replace("=array", "=64")
        first = _first_matmul(self.body, self.bindings)
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
        return float(side.drafts[0].left[1].value.shape[1])

    # ------------------------------------------------ operators

    def negate(self, node: ast.UnaryOp) -> _Val:
        val = self.eval(node.operand)
        if isinstance(val.value, float):
            return _Val(-val.value)
        return self.step(val, -val.value, "negate")

    def transpose(self, node: ast.Attribute) -> _Val:
        val = self.eval(node.value)
        a = self.matrix(node.value, val, ".T")
        self.release(val)  # a transpose ends the chain
        return _Val(np.ascontiguousarray(a.T))  # (n, m)

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
        return self.record(node, (self.src(node.left), left), (self.src(node.right), right), self.src(node))

    def record(self, node: ast.AST, left: tuple[str, _Val], right: tuple[str, _Val], label: str) -> _Val:
        """One product (cube) of two matrices with fitting shapes; its operands' chains end here."""
        for _, val in (left, right):
            self.release(val)
        m, n = left[1].value.shape[0], right[1].value.shape[1]
        if m * n > MAX_ELEMENTS:  # before numpy allocates it
            raise BudgetError(
                f"the result of {label} would be {m}×{n} ({m * n:,} elements, more than {MAX_ELEMENTS:,}): "
                "resize the operands first (CLI: --max-side 1024)"
            )
        with np.errstate(all="ignore"):
            values = left[1].value @ right[1].value  # (m, n)
        self.drafts.append(_Draft(left=left, right=right, values=values, label=label, span=_span(self.text, node)))
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
            self.release(left)  # a binary matrix op ends both chains
            self.release(right)
            return _Val(values)
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

    # ------------------------------------------------ slices

    @staticmethod
    def slice_parts(node: ast.Subscript) -> list[ast.Slice]:
        return list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]

    def subscript(self, node: ast.Subscript) -> _Val:
        val = self.eval(node.value)
        a = self.matrix(node.value, val, "slicing")  # (m, n)
        index = []
        for part in self.slice_parts(node):
            lower, upper, step = (None if b is None else self.whole(b, "a slice bound") for b in (part.lower, part.upper, part.step))
            if step == 0:
                raise self.fail(part.step, "a slice step must not be 0: use 1 (every entry) or e.g. 2 (every other)")
            index.append(slice(lower, upper, step))
        values = np.array(a[tuple(index)], dtype=np.float64)  # a copy
        if values.size == 0:
            raise self.fail(
                node,
                f"{self.src(node)} is empty ({_dims(values)}; {self.src(node.value)} is {_dims(a)}): "
                "keep at least one row and one column, rows first then columns",
            )
        return self.reshaped(val, values, f"[{self.src(node.slice)}]")

    # ------------------------------------------------ functions

    def call(self, node: ast.Call) -> _Val:
        fname = node.func.id
        params = _bind(self.text, node)
        if fname == "t_product":
            return self.t_product(node, params["x"])
        if fname in _SUBSPACE_FUNCTIONS:
            return self.subspace(node, fname, params)
        x = self.eval(params["x"])
        if fname in _ENTRYWISE:
            return self.elementwise(node, fname, params["x"], x)
        a = self.matrix(params["x"], x, fname)  # (m, n)
        if fname == "normalize":
            return self.step(x, minmax(a), "normalize")
        if fname == "signed":
            return self.step(x, signed_minmax(a), "signed")
        if fname in ("warp", "flip", "rot90", "roll", "blur", "resize"):
            return self.image(node, fname, params, x, a)
        axis = _axis_word(self.text, params["axis"], fname) if "axis" in params else "rows"
        causal = _causal_flag(self.text, params["causal"]) if "causal" in params else False
        if fname == "softmax":
            return self.softmax(node, params, x, axis, causal)
        f = _norm_f(self.text, params["f"]) if "f" in params else "y+1"
        return self.norm(node, x, f, axis, causal)

    def subspace(self, node: ast.Call, fname: str, params: dict[str, ast.expr]) -> _Val:
        """``svd``, ``pinv``, ``proj_row``, ``residual`` (``matviz.core.subspaces``)."""
        from matviz.core.subspaces import subspaces  # numpy only

        w_node = params["x"]
        w = self.eval(w_node)
        a = self.matrix(w_node, w, fname)  # (m, n)
        sub = subspaces(a)
        wname = _atom(self.text, w_node)
        if fname == "pinv":
            return self.reshaped(w, np.array(sub.pinv), "pinv")
        self.release(w)  # W is taken apart here: its chain ends
        if fname == "svd":
            k = min(a.shape)
            u = _Val(np.array(sub.U[:, :k]))  # (m, k)
            s = _Val(np.diag(sub.singular_values))  # (k, k)
            vt = _Val(np.array(sub.Vt[:k]))  # (k, n)
            names = ("U", "diag(S)", "Vt")
            if any(n in self.env or n in self.bindings for n in ("U", "S", "Vt", "diag")):
                names = tuple(f"{n} of svd" for n in names)  # a bound name would be read as this face
            lu, ls, lv = names
            us = self.record(node, (lu, u), (ls, s), f"{lu} @ {ls}")  # (m, k)
            return self.record(node, (f"{lu} @ {ls}", us), (lv, vt), wname)  # (m, n) = W again
        x_node = params["input"]
        x = self.eval(x_node)
        b = self.matrix(x_node, x, fname)  # (n, c)
        n = a.shape[1]
        if b.shape[0] != n:
            hint = f" (did you mean {_transposed(self.text, x_node)}?)" if b.shape[1] == n else ""
            raise self.fail(
                x_node,
                f"{fname}: {self.src(x_node)} is {_dims(b)} but {wname} is {_dims(a)}; an input needs "
                f"{_count(n, 'row')}, one per column of {wname} (one {n}×1 column or {n}×k columns){hint}",
            )
        p = np.array(sub.projector)  # (n, n)
        if fname == "proj_row":
            op = (f"P_row({wname})", _Val(p))
        else:
            op = (f"I - P_row({wname})", _Val(np.eye(n) - p))
        return self.record(node, op, (self.src(x_node), x), self.src(node))

    def t_product(self, node: ast.Call, x_node: ast.AST) -> _Val:
        """``t_product(x)`` = ``normalize(x.T @ x)``: one product, and normalize as its stage."""
        x = self.eval(x_node)
        a = self.matrix(x_node, x, "t_product")  # (m, n)
        kx = self.key(x_node)
        transposed = self.memo.get(("T", kx))  # the node x.T, maybe already met
        if transposed is None:
            self.release(x)  # a transpose ends x's chain
            transposed = self.memo[("T", kx)] = _Val(np.ascontiguousarray(a.T))
        product_key = ("MatMult", ("T", kx), kx)
        product = self.memo.get(product_key)
        if product is None:
            atom = _atom(self.text, x_node)
            product = self.record(node, (atom + ".T", transposed), (self.src(x_node), x), f"{atom}.T @ {atom}")
            self.check_finite(node, product.value)
            self.memo[product_key] = product
        return self.step(product, minmax(product.value), "normalize")

    def image(self, node: ast.Call, fname: str, params: dict[str, ast.expr], x: _Val, a: np.ndarray) -> _Val:
        """warp, flip, rot90, roll, blur, resize (``matviz.core.transforms``)."""
        rowwise = None
        if fname == "warp":
            amplitude = self.number(params["amplitude"], "the amplitude of warp")
            wavelength = self.number(params["wavelength"], "the wavelength of warp")
            if not wavelength > 0:
                raise self.fail(
                    params["wavelength"], f"the wavelength of warp must be > 0 pixels (got {wavelength:g}): e.g. 24"
                )
            axis = _axis_word(self.text, params["axis"], fname) if "axis" in params else "rows"
            values = _tf.warp(a, amplitude, wavelength, axis)
            label, rowwise = f"warp({amplitude:g}, {wavelength:g}, {axis})", axis
        elif fname == "flip":
            direction = _flip_direction(self.text, params["direction"])
            values, label = _tf.flip(a, direction), f'flip("{direction}")'
        elif fname == "rot90":
            k = self.whole(params["k"], "k of rot90") if "k" in params else 1
            values, label = _tf.rot90(a, k), f"rot90({k})"
        elif fname == "roll":
            shift = self.whole(params["shift"], "the shift of roll")
            axis = _axis_word(self.text, params["axis"], fname) if "axis" in params else "rows"
            values, label = _tf.roll(a, shift, axis), f"roll({shift}, {axis})"
        elif fname == "blur":
            sigma = self.number(params["sigma"], "sigma of blur")
            if not sigma > 0:
                raise self.fail(params["sigma"], f"sigma of blur must be > 0 pixels (got {sigma:g}): e.g. 1.5")
            if sigma > 1e4:
                raise self.fail(params["sigma"], f"sigma of blur is {sigma:g} pixels: use at most 10000")
            values, label = _tf.blur(a, sigma), f"blur({sigma:g})"
        else:
            rows, cols = (self.whole(params[p], f"{p} of resize") for p in ("rows", "cols"))
            for p, n in (("rows", rows), ("cols", cols)):
                if n < 1:
                    raise self.fail(params[p], f"{p} of resize must be at least 1 (got {n})")
            if rows * cols > 1 << 26:
                raise self.fail(node, f"resize to {rows}×{cols} is too large (over 67 million entries): resize smaller")
            values, label = _tf.resize(a, rows, cols), f"resize({rows}, {cols})"
        return self.reshaped(x, values, label, rowwise)

    def elementwise(self, node: ast.Call, fname: str, x_node: ast.AST, x: _Val) -> _Val:
        if fname == "sqrt":
            negative = np.asarray(x.value) < 0
            if negative.any():
                at = "" if negative.ndim == 0 else " at [{}, {}]".format(*np.argwhere(negative)[0])
                raise self.fail(
                    x_node, f"sqrt of a negative number: {self.src(x_node)} is negative{at}; take sqrt of values >= 0"
                )
        fn = _ENTRYWISE[fname]
        if isinstance(x.value, float):
            with np.errstate(all="ignore"):
                return _Val(float(fn(x.value)))
        with np.errstate(all="ignore"):
            values = np.asarray(fn(x.value), dtype=np.float64)  # (m, n)
        return self.step(x, values, fname)

    def temperature(self, params: dict[str, ast.expr]) -> float:
        if "temperature" not in params:
            return 1.0
        node = params["temperature"]
        t = self.number(node, "temperature")
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
