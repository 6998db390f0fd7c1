"""Checking: everything outside the grammar, names bound and used in order (:class:`Checker`, run
by ``parse``), and the checks that need values, made while evaluating: shapes that do not fit,
division by zero, values that are not finite, results over the budget. Each raises an
``ExpressionError`` with a caret line under the offending part (``matviz.core.expr.spans``)."""

from __future__ import annotations

import ast

import numpy as np

from matviz.core.expr.grammar import AXES, FUNCTIONS, GRAMMAR, SIGNATURES, WORD_PARAMS, bind, read_word
from matviz.core.expr.record import Value
from matviz.core.expr.spans import atom, count, dims, error, source, span, suggest, transposed
from matviz.core.values import MAX_ELEMENTS
from matviz.errors import BudgetError, ExpressionError
from matviz.errors import param as named  # "param" names a function parameter in the checker

__all__ = [
    "Checker",
    "check_budget",
    "check_divisor",
    "check_finite",
    "elementwise_mismatch",
    "matmul_mismatch",
]


# ---------------------------------------------------------------- the grammar and the names


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


class Checker:
    """Walks a parsed expression and raises on anything outside the grammar."""

    def __init__(self, text: str):
        self.text = text
        self.used: set[str] = set()  # names read so far
        self.unbound: set[str] = set()  # binding names not bound yet where the checker is
        self.binding: str | None = None  # the binding whose value is being checked

    def fail(self, node: ast.AST | tuple[int, int], message: str) -> ExpressionError:
        return error(self.text, node, message)

    def program(self, module: ast.Module) -> None:
        """Bindings (``NAME = expression``, one name each, each used), then one expression."""
        *binds, last = module.body
        names: list[str] = []
        for stmt in binds:
            src = source(self.text, stmt)
            if isinstance(stmt, ast.Expr):
                raise self.fail(
                    stmt, f"{src} is not used: only the last part is the expression; bind the others, X = {src}"
                )
            if not isinstance(stmt, ast.Assign):
                kind = _KINDS.get(type(stmt), type(stmt).__name__)
                raise self.fail(stmt, f"{src} is not supported ({kind}): a binding is NAME = expression, e.g. X = A @ B")
            target = stmt.targets[0]
            if len(stmt.targets) > 1 or not isinstance(target, ast.Name):
                raise self.fail(target, f"{source(self.text, target)} cannot be bound: bind one name, e.g. X = A @ B")
            name = target.id
            if name in AXES or name in SIGNATURES:
                what = "an axis word" if name in AXES else "a function"
                raise self.fail(target, f"{name} cannot be bound: it is {what}; choose another name")
            if name in names:
                raise self.fail(target, f"{name} is bound twice: bind each name once")
            names.append(name)
        if not isinstance(last, ast.Expr):
            raise self.fail(
                last,
                f"the expression ends with {source(self.text, last)}: end with the expression that uses it, "
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
            raise self.fail(node, f"{source(self.text, node)} is not supported ({kind}): {GRAMMAR}")

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        src = source(self.text, node)
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
        base = atom(self.text, node.value)
        for part in parts:
            if not isinstance(part, ast.Slice):
                raise self.fail(
                    node,
                    f"{source(self.text, node)} is not supported (indexing): crop with slices, "
                    f"{base}[a:b, c:d] keeps rows a..b-1 and columns c..d-1 (a matrix stays a matrix)",
                )
        if len(parts) > 2:
            raise self.fail(
                node.slice, f"{source(self.text, node)} has {len(parts)} slices: a matrix takes at most 2, {base}[a:b, c:d]"
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
        gap_start, gap_end = span(self.text, node.left)[1], span(self.text, node.right)[0]
        at = self.text.find(symbol, gap_start, gap_end)
        return (at, at + len(symbol)) if at >= 0 else span(self.text, node)

    def attribute(self, node: ast.Attribute) -> None:
        if node.attr != "T":
            start, end = span(self.text, node)
            where = (end - len(node.attr), end)
            raise self.fail(
                where,
                f"unknown attribute .{node.attr} on {source(self.text, node.value)}: only .T (transpose) is supported",
            )
        self.check(node.value)

    def call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Name):
            raise self.fail(
                func, f"calling {source(self.text, func)} is not supported: the functions are {', '.join(FUNCTIONS)}"
            )
        if func.id not in SIGNATURES:
            raise self.fail(
                func, f"unknown function {func.id}: use one of {', '.join(FUNCTIONS)}{suggest(func.id, FUNCTIONS)}"
            )
        for param, arg in bind(self.text, node).items():
            if param in WORD_PARAMS:
                read_word(self.text, param, arg, func.id)
            else:  # x, temperature, amplitude, ...: expressions
                self.check(arg)


# ---------------------------------------------------------------- checks on values


def check_finite(text: str, node: ast.AST, value: Value) -> None:
    """Every entry of ``node``'s value is a finite number."""
    a = np.asarray(value)
    bad = ~np.isfinite(a)
    if not bad.any():
        return
    first = tuple(np.argwhere(bad)[0]) if a.ndim else ()
    x = a[first]
    what = "NaN" if np.isnan(x) else ("inf" if x > 0 else "-inf")
    at = f" at [{first[0]}, {first[1]}]" if first else ""
    raise error(
        text,
        node,
        f"{source(text, node)} is not finite ({what}{at}): the numbers overflow float64 or are undefined; scale them down",
    )


def check_budget(label: str, m: int, n: int) -> None:
    """A product's (m, n) result fits in ``MAX_ELEMENTS``: checked before numpy allocates it."""
    if m * n > MAX_ELEMENTS:
        raise BudgetError(
            f"the result of {label} would be {m}×{n} ({m * n:,} elements, more than {MAX_ELEMENTS:,}): "
            f"resize the operands first, e.g. {named('max_side', 1024)}"
        )


def check_divisor(text: str, node: ast.AST, value: Value) -> None:
    """No entry of the divisor ``node`` is 0."""
    zero = np.asarray(value) == 0
    if not zero.any():
        return
    at = "" if zero.ndim == 0 else " at [{}, {}]".format(*np.argwhere(zero)[0])
    what = "" if isinstance(node, ast.Constant) else f"{source(text, node)} is 0{at}; "
    raise error(text, node, f"division by zero: {what}divide by something non-zero")


def matmul_mismatch(text: str, node: ast.BinOp, a: np.ndarray, b: np.ndarray) -> ExpressionError:
    """The error for ``a @ b`` whose inner sizes differ, with a "did you mean" when one fits."""
    left, right = source(text, node.left), source(text, node.right)
    message = (
        f"shape mismatch in {source(text, node)}: {left} is {dims(a)} but {right} is {dims(b)}; "
        f"the {count(a.shape[1], 'column')} of {left} must equal the {count(b.shape[0], 'row')} of {right}"
    )
    if a.shape[1] == b.shape[1]:
        message += f" (did you mean {transposed(text, node.right)}?)"
    elif a.shape[0] == b.shape[0]:
        message += f" (did you mean {transposed(text, node.left)}?)"
    elif b.shape[1] == a.shape[0]:
        message += f" (did you mean {atom(text, node.right)} @ {atom(text, node.left)}?)"
    return error(text, node, message)


def elementwise_mismatch(text: str, node: ast.BinOp, symbol: str, a: np.ndarray, b: np.ndarray) -> ExpressionError:
    """The error for elementwise ``a symbol b`` of two matrices with different shapes."""
    left, right = source(text, node.left), source(text, node.right)
    message = (
        f"shape mismatch in {source(text, node)}: {left} is {dims(a)} but {right} is {dims(b)}; "
        f"elementwise {symbol} needs equal shapes"
    )
    if a.shape == b.shape[::-1]:
        message += f" (did you mean {transposed(text, node.right)}?)"
    elif symbol == "*" and a.shape[1] == b.shape[0]:
        message += " (for a matrix product use @)"
    return error(text, node, message)
