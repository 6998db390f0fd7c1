"""Evaluating in numpy: the value of a parsed, checked expression, and what the renderer draws
(:class:`~matviz.core.expr.record.Evaluation`): the products (cubes), the stages their result
faces go through, and which later operand each result feeds (see ``matviz.core.expr``)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from matviz.core import transforms as _tf
from matviz.core.expr.checker import (
    check_budget,
    check_divisor,
    check_finite,
    elementwise_mismatch,
    matmul_mismatch,
)
from matviz.core.expr.grammar import ARITHMETIC, BIND_HINT, SUBSPACE_FUNCTIONS
from matviz.core.expr.parser import parse
from matviz.core.expr.record import Evaluation, Product, Term, Value
from matviz.core.expr.spans import atom, count, dims, error, nested_too_deeply, span, suggest, transposed
from matviz.core.expr.walker import Walker, first_matmul, slice_parts
from matviz.core.ops import (
    axis_number,
    causal_keep,
    check_matrix,
    generalized_normalize,
    masked_softmax,
    minmax,
    signed_minmax,
)
from matviz.core.subspaces import subspaces
from matviz.core.values import Stage
from matviz.errors import ExpressionError, MatvizError

__all__ = ["Evaluator", "evaluate"]

_ENTRYWISE = {"sqrt": np.sqrt, "exp": np.exp, "relu": _tf.relu, "tanh": _tf.tanh, "selu": _tf.selu}


def evaluate(text: str, env: Mapping[str, Value]) -> Evaluation:
    """Evaluate ``text`` with the matrices and numbers in ``env``; see ``matviz.core.expr``."""
    tree = parse(text)
    try:
        return Evaluator(text, tree, env).run()
    except RecursionError:
        raise nested_too_deeply(text) from None


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


class Evaluator(Walker):
    """Evaluates a checked tree in numpy, recording products, their stages and the links between them.

    Every node is evaluated once per *key* (``Walker.key``: its tree with bound names replaced by
    their values and defaults filled in): a repeated sub-expression is one node, one product."""

    def __init__(
        self, text: str, tree: ast.Expression | ast.Module, env: Mapping[str, Value], resolving_d: bool = False
    ):
        super().__init__(text, tree)
        self.env = env
        self.resolving_d = resolving_d  # True in the side evaluation that finds the default d
        self.drafts: list[_Draft] = []
        self.uses: dict[int, list[tuple[Stage, ...]]] = {}  # product index -> the steps of each use
        self.names: list[str] = []
        self.bound: dict[str, Value] = {}  # env values, checked and converted
        self.d: float | None = None

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

    def visit(self, node: ast.AST) -> _Val:
        result = super().visit(node)
        check_finite(self.text, node, result.value)
        return result

    # ------------------------------------------------ helpers

    def fail(self, where: ast.AST | tuple[int, int], message: str) -> ExpressionError:
        return error(self.text, where, message)

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
            raise self.fail(node, f"{what} must be a number, but {self.src(node)} is a {dims(value)} matrix")
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
                node, f"unknown name {name}{suggest(name, list(self.env) + list(self.bindings))}: "
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
        first = first_matmul(self.body, self.bindings)
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
        side = Evaluator(self.text, self.tree, self.env, resolving_d=True)
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
            raise matmul_mismatch(self.text, node, a, b)
        return self.record(node, (self.src(node.left), left), (self.src(node.right), right), self.src(node))

    def record(self, node: ast.AST, left: tuple[str, _Val], right: tuple[str, _Val], label: str) -> _Val:
        """One product (cube) of two matrices with fitting shapes; its operands' chains end here."""
        for _, val in (left, right):
            self.release(val)
        check_budget(label, left[1].value.shape[0], right[1].value.shape[1])  # before numpy allocates it
        with np.errstate(all="ignore"):
            values = left[1].value @ right[1].value  # (m, n)
        self.drafts.append(_Draft(left=left, right=right, values=values, label=label, span=span(self.text, node)))
        return _Val(values, len(self.drafts) - 1)

    def arithmetic(self, node: ast.BinOp, left: _Val, right: _Val) -> _Val:
        symbol, fn = ARITHMETIC[type(node.op)]
        left_is_matrix, right_is_matrix = isinstance(left.value, np.ndarray), isinstance(right.value, np.ndarray)
        if left_is_matrix and right_is_matrix and left.value.shape != right.value.shape:
            raise elementwise_mismatch(self.text, node, symbol, left.value, right.value)  # before numpy broadcasts
        if symbol == "/":
            check_divisor(self.text, node.right, right.value)
        with np.errstate(all="ignore"):
            values = fn(left.value, right.value)
        if left_is_matrix and right_is_matrix:
            self.release(left)  # a binary matrix op ends both chains
            self.release(right)
            return _Val(values)
        if left_is_matrix:
            return self.step(left, values, f"{symbol} {atom(self.text, node.right)}")
        if right_is_matrix:
            scalar = atom(self.text, node.left)
            label = f"{symbol} {scalar}" if symbol in "+*" else f"{scalar} {symbol} x"
            return self.step(right, values, label)
        return _Val(float(values))

    # ------------------------------------------------ slices

    def subscript(self, node: ast.Subscript) -> _Val:
        val = self.eval(node.value)
        a = self.matrix(node.value, val, "slicing")  # (m, n)
        index = []
        for part in slice_parts(node):
            lower, upper, step = (None if b is None else self.whole(b, "a slice bound") for b in (part.lower, part.upper, part.step))
            if step == 0:
                raise self.fail(part.step, "a slice step must not be 0: use 1 (every entry) or e.g. 2 (every other)")
            index.append(slice(lower, upper, step))
        values = np.array(a[tuple(index)], dtype=np.float64)  # a copy
        if values.size == 0:
            raise self.fail(
                node,
                f"{self.src(node)} is empty ({dims(values)}; {self.src(node.value)} is {dims(a)}): "
                "keep at least one row and one column, rows first then columns",
            )
        return self.reshaped(val, values, f"[{self.src(node.slice)}]")

    # ------------------------------------------------ functions

    def call(self, node: ast.Call) -> _Val:
        fname = node.func.id
        params = self.arguments(node)
        if fname == "t_product":
            return self.t_product(node, params["x"])
        if fname in SUBSPACE_FUNCTIONS:
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
        axis, causal = self.word(params, "axis", fname), self.word(params, "causal", fname)
        if fname == "softmax":
            return self.softmax(node, params, x, axis, causal)
        f = self.word(params, "f", fname)
        return self.norm(node, x, f, axis, causal)

    def subspace(self, node: ast.Call, fname: str, params: dict[str, ast.expr]) -> _Val:
        """``svd``, ``pinv``, ``proj_row``, ``residual`` (``matviz.core.subspaces``)."""
        w_node = params["x"]
        w = self.eval(w_node)
        a = self.matrix(w_node, w, fname)  # (m, n)
        sub = subspaces(a)
        wname = atom(self.text, w_node)
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
            hint = f" (did you mean {transposed(self.text, x_node)}?)" if b.shape[1] == n else ""
            raise self.fail(
                x_node,
                f"{fname}: {self.src(x_node)} is {dims(b)} but {wname} is {dims(a)}; an input needs "
                f"{count(n, 'row')}, one per column of {wname} (one {n}×1 column or {n}×k columns){hint}",
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
        xt = self.memo.get(("T", kx))  # the node x.T, maybe already met
        if xt is None:
            self.release(x)  # a transpose ends x's chain
            xt = self.memo[("T", kx)] = _Val(np.ascontiguousarray(a.T))
        product_key = ("MatMult", ("T", kx), kx)
        product = self.memo.get(product_key)
        if product is None:
            base = atom(self.text, x_node)
            product = self.record(node, (base + ".T", xt), (self.src(x_node), x), f"{base}.T @ {base}")
            check_finite(self.text, node, product.value)
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
            axis = self.word(params, "axis", fname)
            values = _tf.warp(a, amplitude, wavelength, axis)
            label, rowwise = f"warp({amplitude:g}, {wavelength:g}, {axis})", axis
        elif fname == "flip":
            direction = self.word(params, "direction", fname)
            values, label = _tf.flip(a, direction), f'flip("{direction}")'
        elif fname == "rot90":
            k = self.whole(params["k"], "k of rot90") if "k" in params else 1
            values, label = _tf.rot90(a, k), f"rot90({k})"
        elif fname == "roll":
            shift = self.whole(params["shift"], "the shift of roll")
            axis = self.word(params, "axis", fname)
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
                f"causal {node.func.id} over {axis}: {which} {first} of {self.src(node.args[0])} ({dims(a)}) is entirely "
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
