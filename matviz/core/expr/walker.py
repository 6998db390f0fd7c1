"""The expression-tree walker: visit a parsed, checked tree once per node *key*.

Both evaluators of the language subclass :class:`Walker`: the numpy one that records the cubes
(``matviz.core.expr.evaluator``) and the torch twin that lets gradients flow
(``matviz.learning.fit_torch``). The walker owns what they must agree on: how bindings are read
(:func:`program`), which sub-expressions are one node (:meth:`Walker.key`), how a call's arguments
map to parameters (:meth:`Walker.arguments`) and what a word parameter says (:meth:`Walker.word`).
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Mapping

from matviz.core.expr.grammar import WORD_DEFAULTS, bind, read_word
from matviz.core.expr.spans import source

__all__ = ["Walker", "first_matmul", "program", "slice_parts"]

# how a word parameter appears in a node key (kept apart from numbers and names)
_WORD_KEYS = {"axis": "word", "causal": "bool", "f": "str", "direction": "str"}

# parameter defaults, so that softmax(X) and softmax(X, rows) are one node (see Walker.key)
_DEFAULT_KEYS = {
    "softmax": {"axis": ("word", "rows"), "causal": ("bool", False), "temperature": ("const", 1.0)},
    "norm": {"f": ("str", "y+1"), "axis": ("word", "rows"), "causal": ("bool", False)},
    "warp": {"axis": ("word", "rows")},
    "roll": {"axis": ("word", "rows")},
    "rot90": {"k": ("const", 1.0)},
}


def program(tree: ast.Expression | ast.Module) -> tuple[dict[str, ast.expr], ast.expr]:
    """``(bindings, body)`` of a parsed expression: name -> value node, and the final expression."""
    if isinstance(tree, ast.Module):
        *binds, last = tree.body
        return {stmt.targets[0].id: stmt.value for stmt in binds}, last.value
    return {}, tree.body


def slice_parts(node: ast.Subscript) -> list[ast.Slice]:
    """The slices of ``x[a:b]`` (rows) or ``x[a:b, c:d]`` (rows, then columns)."""
    return list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]


def first_matmul(node: ast.AST, bindings: Mapping[str, ast.expr], seen: set[str] | None = None) -> ast.BinOp | None:
    """The first ``@`` an evaluator completes: post-order, children left to right, a bound name
    read as its value the first time it is met (later uses are the same node, already computed)."""
    seen = set() if seen is None else seen
    if isinstance(node, ast.Name) and node.id in bindings:
        if node.id in seen:
            return None
        seen.add(node.id)
        return first_matmul(bindings[node.id], bindings, seen)
    for child in ast.iter_child_nodes(node):
        found = first_matmul(child, bindings, seen)
        if found is not None:
            return found
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        return node
    return None


class Walker:
    """Walks a tree from ``matviz.core.expr.parse``, computing each node once per key.

    A subclass gives one method per kind of node, each returning the node's value:
    ``constant`` (a number), ``name`` (an env name or a binding), ``negate`` (unary minus),
    ``binary`` (``@ + - * /``), ``transpose`` (``.T``), ``call`` (a function) and ``subscript``
    (a slice). It asks for a child's value with :meth:`eval`, which returns the memoized value
    when a node with the same key was met before: a repeated sub-expression is one node.
    ``memo`` (key -> value) belongs to one evaluation; clear it to evaluate again.
    """

    def __init__(self, text: str, tree: ast.Expression | ast.Module):
        self.text = text
        self.tree = tree
        self.bindings, self.body = program(tree)
        self.memo: dict[tuple, Any] = {}
        self.keys: dict[int, tuple] = {}  # id(node) -> key, for this tree
        self.handlers: dict[type, Callable[[Any], Any]] = {
            ast.Constant: self.constant,
            ast.Name: self.name,
            ast.UnaryOp: self.negate,
            ast.BinOp: self.binary,
            ast.Attribute: self.transpose,
            ast.Call: self.call,
            ast.Subscript: self.subscript,
        }

    def eval(self, node: ast.AST) -> Any:
        """The value of ``node``, computed the first time its key is met."""
        key = self.key(node)
        if key in self.memo:
            return self.memo[key]
        result = self.memo[key] = self.visit(node)
        return result

    def visit(self, node: ast.AST) -> Any:
        """Compute ``node`` with its handler (``eval`` memoizes; override to check each value)."""
        return self.handlers[type(node)](node)

    # ------------------------------------------------ the handlers a subclass gives

    def constant(self, node: ast.Constant) -> Any:
        raise NotImplementedError

    def name(self, node: ast.Name) -> Any:
        raise NotImplementedError

    def negate(self, node: ast.UnaryOp) -> Any:
        raise NotImplementedError

    def binary(self, node: ast.BinOp) -> Any:
        raise NotImplementedError

    def transpose(self, node: ast.Attribute) -> Any:
        raise NotImplementedError

    def call(self, node: ast.Call) -> Any:
        raise NotImplementedError

    def subscript(self, node: ast.Subscript) -> Any:
        raise NotImplementedError

    # ------------------------------------------------ reading nodes

    def src(self, node: ast.AST) -> str:
        """The source text of ``node``."""
        return source(self.text, node)

    def arguments(self, node: ast.Call) -> dict[str, ast.expr]:
        """Each parameter of the called function -> its argument node (``"x"`` is the matrix)."""
        return bind(self.text, node)

    def word(self, params: Mapping[str, ast.expr], param: str, fname: str) -> str | bool:
        """The word parameter ``param`` (axis, causal, f, direction) of ``fname``, or its default."""
        if param not in params:
            return WORD_DEFAULTS[param]
        return read_word(self.text, param, params[param], fname)

    # ------------------------------------------------ shared nodes

    def key(self, node: ast.AST) -> tuple:
        """What makes two nodes the same node: the tree with bound names replaced by their values
        and defaults filled in (``softmax(X)`` is ``softmax(X, axis=rows)``, ``t_product(X)`` is
        ``normalize(X.T @ X)``); cached per node."""
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
            parts = slice_parts(node)
            bounds = tuple(
                tuple(None if b is None else self.key(b) for b in (p.lower, p.upper, p.step)) for p in parts
            )
            return ("slice", self.key(node.value), bounds + ((None, None, None),) * (2 - len(bounds)))
        if isinstance(node, ast.Call):
            return self.call_key(node)
        return ("node", id(node))  # not reached for checked trees

    def call_key(self, node: ast.Call) -> tuple:
        fname = node.func.id
        params = self.arguments(node)
        if fname == "t_product":  # = normalize(x.T @ x)
            x = self.key(params["x"])
            return ("call", "normalize", (("x", ("MatMult", ("T", x), x)),))
        canon: dict[str, tuple] = {}
        for param, arg in params.items():
            if param in _WORD_KEYS:
                canon[param] = (_WORD_KEYS[param], read_word(self.text, param, arg, fname))
            else:
                canon[param] = self.key(arg)
        for param, default in _DEFAULT_KEYS.get(fname, {}).items():
            canon.setdefault(param, default)
        return ("call", fname, tuple(sorted(canon.items(), key=lambda item: item[0])))
