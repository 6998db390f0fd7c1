"""The expression language (``matviz.core.expr``) evaluated in torch, so gradients flow (fit mode).

There is one parser: :func:`matviz.core.expr.parse` checks the text and builds the tree, and one
walker: :class:`TorchExpression` subclasses :class:`matviz.core.expr.Walker`, as the numpy evaluator
does, so the node keys that decide which sub-expressions are one node, the bindings and the reading
of arguments and words are the numpy evaluator's own. It walks that same tree with torch twins of
every operation:

* ``@ + - * /``, unary minus, ``.T``, ``let`` / ``X = ...;`` bindings, numbers (``sqrt(d)`` ...);
* ``sqrt exp relu tanh selu`` (entrywise), ``normalize`` / ``signed`` (min-max; a constant matrix
  gives zeros, as in numpy, and is noted), ``softmax`` (temperature, causal), ``norm`` (``"y+1"``,
  ``"exp"``, causal), ``t_product`` = ``normalize(x.T @ x)``;
* ``warp``: the same linear interpolation as ``matviz.core.transforms.warp`` (source position
  ``p = clip(j − s_i, 0, n − 1)``, a gather of ⌊p⌋ and ⌊p⌋ + 1 weighted by ``1 − t``, ``t``): a 1-D
  grid interpolation, differentiable in x;
* ``flip`` (``torch.flip``), ``rot90`` (``torch.rot90``), ``roll`` (``torch.roll``);
* ``blur``: the same separable truncated Gaussian with clamped edges as the numpy one;
* ``resize``: scikit-image's anti-aliased bilinear resize is linear in x and separable, so it is
  ``R_rows @ x @ R_colsᵀ`` with the two matrices taken from the numpy resize itself (the resize of an
  identity matrix). That makes the twin exact (to float rounding), which
  ``torch.nn.functional.interpolate(..., antialias=True)`` is not: torch's antialias uses a
  triangle filter and clamped edges, where scikit-image uses a Gaussian prefilter (sigma
  ``(factor − 1)/2``) and mirrored edges; the two differ by a few percent of the range at edges
  and fine detail;
* slicing ``x[a:b:s, c:d:s]`` (negative steps too, through ``index_select``).

The expression is validated by the numpy evaluator first (names, shapes, temperature, ...), so
this module assumes a checked expression whose env shapes do not change. Unlike numpy, it does not
raise when values drift out of a function's domain during a fit (``sqrt`` of a negative, a
negative ``y+1``): the loss turns NaN and the fit stops there.
"""

from __future__ import annotations

import ast
import math
from typing import Mapping, Union

import numpy as np
import torch

from matviz.core import transforms as _tf
from matviz.core.expr import ARITHMETIC, Walker, parse, slice_parts

__all__ = ["TorchExpression", "evaluate_torch"]

TValue = Union[torch.Tensor, float]
_OPS = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div}


def minmax(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """Min-max to [0, 1]; a constant matrix gives zeros (kept in the graph). Also: was it constant."""
    lo, hi = x.min(), x.max()
    if bool(hi == lo):
        return x * 0.0, True
    return (x - lo) / (hi - lo), False


def softmax(x: torch.Tensor, axis: str, temperature: float = 1.0, causal: bool = False) -> torch.Tensor:
    dim = 1 if axis == "rows" else 0
    x = x / temperature
    if causal:
        keep = torch.from_numpy(np.tri(x.shape[0], x.shape[1], dtype=bool))
        x = x.masked_fill(~keep, -math.inf)
    return torch.softmax(x, dim=dim)


def norm(x: torch.Tensor, f: str, axis: str, causal: bool = False) -> torch.Tensor:
    if f == "exp":
        return softmax(x, axis, causal=causal)
    dim = 1 if axis == "rows" else 0
    fx = x + 1.0
    if causal:
        keep = torch.from_numpy(np.tri(x.shape[0], x.shape[1], dtype=bool))
        fx = torch.where(keep, fx, torch.zeros_like(fx))
    return fx / fx.sum(dim=dim, keepdim=True)


def selu(x: torch.Tensor) -> torch.Tensor:
    return _tf.SELU_SCALE * torch.where(x > 0, x, _tf.SELU_ALPHA * torch.expm1(torch.clamp(x, max=0.0)))


def warp(x: torch.Tensor, amplitude: float, wavelength: float, axis: str = "rows") -> torch.Tensor:
    """``matviz.core.transforms.warp`` in torch (same formula, differentiable in x)."""
    if axis == "cols":
        return warp(x.T, amplitude, wavelength, "rows").T
    m, n = x.shape
    shift = amplitude * np.sin(2.0 * np.pi * np.arange(m) / wavelength)  # (m,)
    p = np.clip(np.arange(n)[None, :] - shift[:, None], 0.0, n - 1.0)  # (m, n)
    lo = np.floor(p).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    t = torch.from_numpy(p - lo).to(x.dtype)
    left = torch.gather(x, 1, torch.from_numpy(lo))
    right = torch.gather(x, 1, torch.from_numpy(hi))
    return (1.0 - t) * left + t * right


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``matviz.core.transforms.blur`` in torch: the same kernel, clamped edges, same summation order."""
    g = _tf.gaussian_kernel(sigma)
    r = (len(g) - 1) // 2
    out = x
    for ax in (0, 1):
        n = out.shape[ax]
        idx = torch.from_numpy(np.clip(np.arange(-r, n + r), 0, n - 1))
        padded = out.index_select(ax, idx)
        acc = torch.zeros_like(out)
        for s, w in enumerate(g):
            acc = acc + float(w) * padded.narrow(ax, s, n)
        out = acc
    return out


_RESIZE_CACHE: dict[tuple[int, int], np.ndarray] = {}


def _resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): the numpy resize along one axis, as a matrix (the other axis unchanged is
    the identity: no prefilter for a factor of 1, and grid-mode zoom by 1 is exact)."""
    key = (n_in, n_out)
    if key not in _RESIZE_CACHE:
        _RESIZE_CACHE[key] = _tf.resize(np.eye(n_in), n_out, n_in)
    return _RESIZE_CACHE[key]


def resize(x: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """``matviz.core.transforms.resize`` (scikit-image, anti-aliased) as ``R_r @ x @ R_cᵀ``."""
    m, n = x.shape
    if (m, n) == (rows, cols):
        return x.clone()
    r_rows = torch.from_numpy(_resize_matrix(m, rows)).to(x.dtype)  # (rows, m)
    r_cols = torch.from_numpy(_resize_matrix(n, cols)).to(x.dtype)  # (cols, n)
    return r_rows @ x @ r_cols.T


class TorchExpression(Walker):
    """A parsed, checked expression evaluated in torch: ``TorchExpression(text)(env)``.

    ``env`` maps names to tensors (2-D) or numbers; bind ``d`` when the expression defaults it (the
    numpy evaluation's ``Evaluation.d``). ``notes`` collects what the numpy evaluator would not
    say either but a fit should: a constant matrix min-max normalized (zeros used).
    """

    def __init__(self, text: str):
        super().__init__(text, parse(text))
        self.notes: list[str] = []

    def __call__(self, env: Mapping[str, TValue]) -> TValue:
        self.env = env
        self.memo = {}  # one evaluation: the node keys stay, the values do not
        return self.eval(self.body)

    # ------------------------------------------------ the walker's handlers

    def constant(self, node: ast.Constant) -> float:
        return float(node.value)

    def name(self, node: ast.Name) -> TValue:
        if node.id in self.bindings:
            return self.eval(self.bindings[node.id])
        value = self.env[node.id]
        return value if isinstance(value, torch.Tensor) else float(value)

    def negate(self, node: ast.UnaryOp) -> TValue:
        return -self.eval(node.operand)

    def transpose(self, node: ast.Attribute) -> torch.Tensor:
        return self.eval(node.value).T

    def binary(self, node: ast.BinOp) -> TValue:
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.MatMult):
            return left @ right
        symbol, numpy_fn = ARITHMETIC[type(node.op)]
        if isinstance(left, float) and isinstance(right, float):
            return float(numpy_fn(left, right))
        if isinstance(left, float):
            left = torch.as_tensor(left, dtype=right.dtype)
        return _OPS[symbol](left, right)

    def number(self, node: ast.AST) -> float:
        return float(self.eval(node))

    def subscript(self, node: ast.Subscript) -> torch.Tensor:
        x = self.eval(node.value)
        for ax, part in enumerate(slice_parts(node)):
            bounds = [None if b is None else int(self.number(b)) for b in (part.lower, part.upper, part.step)]
            idx = range(*slice(*bounds).indices(x.shape[ax]))
            x = x.index_select(ax, torch.tensor(list(idx), dtype=torch.int64))
        return x

    def note_constant(self, node: ast.AST) -> None:
        note = (
            f"{self.src(node)} min-max normalizes a constant matrix (max = min, so it would divide "
            "by zero): it is taken as 0 everywhere, and no gradient flows through it"
        )
        if note not in self.notes:
            self.notes.append(note)

    def call(self, node: ast.Call) -> TValue:
        fname = node.func.id
        params = self.arguments(node)
        x = self.eval(params["x"])
        if fname in ("sqrt", "exp", "relu", "tanh", "selu") and isinstance(x, float):
            return float({"sqrt": math.sqrt, "exp": math.exp, "relu": lambda v: max(v, 0.0), "tanh": math.tanh,
                          "selu": lambda v: float(_tf.selu(v))}[fname](x))
        if fname == "sqrt":
            return torch.sqrt(x)
        if fname == "exp":
            return torch.exp(x)
        if fname == "relu":
            return torch.relu(x)
        if fname == "tanh":
            return torch.tanh(x)
        if fname == "selu":
            return selu(x)
        if fname in ("normalize", "signed", "t_product"):
            if fname == "t_product":
                x = x.T @ x
            out, constant = minmax(x)
            if constant:
                self.note_constant(node)
            return 2.0 * out - 1.0 if fname == "signed" else out
        axis = self.word(params, "axis", fname)
        if fname == "softmax":
            t = self.number(params["temperature"]) if "temperature" in params else 1.0
            return softmax(x, axis, t, self.word(params, "causal", fname))
        if fname == "norm":
            return norm(x, self.word(params, "f", fname), axis, self.word(params, "causal", fname))
        if fname == "warp":
            return warp(x, self.number(params["amplitude"]), self.number(params["wavelength"]), axis)
        if fname == "flip":
            return torch.flip(x, dims=(1,) if self.word(params, "direction", fname) == "h" else (0,))
        if fname == "rot90":
            k = int(self.number(params["k"])) if "k" in params else 1
            return torch.rot90(x, k, dims=(0, 1))
        if fname == "roll":
            return torch.roll(x, int(self.number(params["shift"])), dims=1 if axis == "rows" else 0)
        if fname == "blur":
            return blur(x, self.number(params["sigma"]))
        if fname == "resize":
            return resize(x, int(self.number(params["rows"])), int(self.number(params["cols"])))
        raise TypeError(f"unexpected function {fname}")  # the parser rejects it first


def evaluate_torch(text: str, env: Mapping[str, object]) -> TValue:
    """The value of ``text`` in torch, float64: numpy arrays in ``env`` become tensors. Validate
    with ``matviz.core.expr.evaluate`` first; this assumes a correct expression."""
    tenv = {
        k: v if isinstance(v, torch.Tensor) else (float(v) if np.ndim(v) == 0 else torch.as_tensor(np.asarray(v, dtype=np.float64)))
        for k, v in env.items()
    }
    return TorchExpression(text)(tenv)
