"""A Scene is a declarative description of what to draw: plain data, no renderer, no window.

``matmul(A, B)`` builds the scene of ``C = A @ B``: the operands, the exact result, the interior
grid of (aggregated) products, and the default style. ``ViewState`` says what one frame shows; a
Timeline produces them, the renderer applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from matviz.core import layout as _layout
from matviz.core.ops import check_matrix
from matviz.core.products import (
    DEFAULT_BUDGET,
    Blocks,
    block_means,
    block_reduce,
    block_sums,
    even_edges,
    plan_blocks,
)
from matviz.errors import BudgetError, ShapeError

Kind = Literal["image", "signed", "nonneg"]
MAX_ELEMENTS = 2**26  # per matrix (512 MiB of float64); larger inputs must be resized first
FACE_MAX = 512  # faces with more rows/columns are drawn as exact block means


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


def value_kind(values: np.ndarray) -> Kind:
    """``"signed"`` if any value is negative, else ``"nonneg"``."""
    return "signed" if float(values.min()) < 0 else "nonneg"


def operand(values, name: str, kind: Kind | None = None) -> Operand:
    """Validate ``values`` (finite, non-empty 2-D) and wrap them; ``kind`` defaults from the data."""
    if isinstance(values, Operand):
        return replace(values, name=name or values.name)
    a = check_matrix(values, name)
    if a.size > MAX_ELEMENTS:
        raise BudgetError(
            f"{name} has shape {a.shape} ({a.size:,} elements, more than {MAX_ELEMENTS:,}): "
            "resize it first (CLI: --max-side 1024)"
        )
    return Operand(name, a, kind or value_kind(a))


@dataclass(frozen=True)
class Style:
    """How a scene looks by default. Every field has a CLI flag of the same name."""

    interior: Literal["auto", "cubes", "points", "none"] = "auto"
    numbers: bool | None = None  # write values on the cells; None = only for small matrices
    highlight: tuple[int, int] | None = None  # result cell (i, j) whose dot product is outlined
    background: str = "white"
    face_max: int = FACE_MAX


@dataclass(frozen=True)
class ViewState:
    """What one frame shows. ``k_done`` is the number of k-blocks summed so far (None = all)."""

    azimuth: float = _layout.DEFAULT_AZIMUTH
    elevation: float = _layout.DEFAULT_ELEVATION
    zoom: float = 1.0
    k_done: int | None = None
    show_interior: bool = True
    highlight: tuple[int, int] | None = None
    cube: int | None = None  # chains: the step being built (earlier ones are done); None = the last
    post: float | None = None  # result stages applied in the active step (fraction: rows done); None = all


@dataclass(frozen=True)
class Stage:
    """A step the result face goes through after the sum over k (scale, mask, softmax...).

    ``values`` is the matrix after the step, with masked entries as -inf (drawn in gray).
    ``rowwise`` ("rows"/"cols") marks a step that normalizes each row/column: the animation
    applies it one row (column) at a time.
    """

    label: str
    values: np.ndarray  # (m, n)
    kind: Kind
    rowwise: str | None = None


@dataclass
class Scene:
    """``C = A @ B`` as a cube: operands on the left and top faces, the result on the back face.

    In a chain, ``placement`` moves the cube in the world, ``stages`` transform its result face
    after the sum, and ``caption`` is written above it.
    """

    left: Operand  # (m, k)
    right: Operand  # (k, n)
    result: Operand  # (m, n), exactly left @ right
    blocks: Blocks
    interior: np.ndarray  # (gm, gk, gn) aggregates of A[i,k]·B[k,j] per block
    aggregate: Literal["mean", "sum"]
    style: Style = field(default_factory=Style)
    notes: list[str] = field(default_factory=list)
    title: str = ""
    placement: _layout.Placement = field(default_factory=_layout.Placement)
    stages: tuple[Stage, ...] = ()
    caption: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(m, k, n)``."""
        m, k = self.left.shape
        return m, k, self.right.shape[1]

    @property
    def layout(self) -> _layout.CubeLayout:
        return _layout.CubeLayout(*self.shape)

    @property
    def k_steps(self) -> int:
        """Number of k-blocks: the steps of a sweep."""
        return self.blocks.shape[1]

    @property
    def bounds(self) -> np.ndarray:
        """World bounds of the cube and its faces."""
        return self.placement.bounds(self.layout)

    @property
    def output(self) -> Operand:
        """What this cube hands on: the result after its last stage (-inf masks shown as 0)."""
        if not self.stages:
            return self.result
        last = self.stages[-1]
        values = np.where(np.isneginf(last.values), 0.0, last.values)
        return Operand(last.label, values, last.kind, self.result.row_labels, self.result.col_labels)

    def stage_values(self, post: float | None) -> tuple[int, int]:
        """``(whole, rows)``: ``post`` stages applied means the first ``whole`` stages are done and
        the next one has reached ``rows`` rows (columns for a column-wise stage)."""
        n = len(self.stages)
        if post is None or post >= n:
            return n, 0
        post = max(0.0, float(post))
        whole = int(np.floor(post + 1e-9))
        nxt = self.stages[whole]
        if nxt.rowwise is None:
            return whole, 0
        count = self.shape[0] if nxt.rowwise == "rows" else self.shape[2]
        return whole, int(np.floor((post - whole) * count + 1e-9))

    def initial_state(self) -> ViewState:
        return ViewState(highlight=self.style.highlight)

    def products(self, blocks: Blocks | tuple[int, int, int] | None = None, how: str = "sum") -> np.ndarray:
        """Exact aggregates of ``A[i,k]·B[k,j]``: per block of ``blocks`` (default: the scene's grid).

        ``blocks`` may be a ``Blocks`` or a grid shape ``(gm, gk, gn)``; ``(m, k, n)`` gives the
        true product cube (only sensible for small problems). ``how`` is ``"sum"`` or ``"mean"``.
        """
        if blocks is None:
            blocks = self.blocks
        elif not isinstance(blocks, Blocks):
            m, k, n = self.shape
            gm, gk, gn = blocks
            blocks = Blocks(even_edges(m, gm), even_edges(k, gk), even_edges(n, gn))
        fn = {"sum": block_sums, "mean": block_means}.get(how)
        if fn is None:
            raise ValueError(f"how must be 'sum' or 'mean', got {how!r}")
        return fn(self.left.values, self.right.values, blocks)

    def face_edges(self, size: int) -> np.ndarray:
        """Row/column boundaries of a face side of ``size`` elements as drawn (≤ ``style.face_max``)."""
        return even_edges(size, min(size, self.style.face_max))

    def face_values(self, which: str, upto_k: int | None = None) -> np.ndarray:
        """The matrix of face ``which`` ("left", "top", "result") as drawn: exact block means.

        For the result, ``upto_k`` gives the running sum over the first ``upto_k`` values of k
        (computed at display resolution: the mean of a sum is the sum of the means).
        """
        m, k, n = self.shape
        a, b = self.left.values, self.right.values
        if which == "left":
            return block_reduce(a, self.face_edges(m), self.face_edges(k))
        if which == "top":
            return block_reduce(b, self.face_edges(k), self.face_edges(n))
        if which != "result":
            raise ValueError(f"unknown face {which!r}")
        er, ec = self.face_edges(m), self.face_edges(n)
        if upto_k is not None:
            upto_k = max(0, int(upto_k))
        if upto_k is None or upto_k >= k:
            return block_reduce(self.result.values, er, ec)
        a_rows = np.add.reduceat(a[:, :upto_k], er[:-1], axis=0) / np.diff(er)[:, None]  # (rows, upto_k)
        b_cols = np.add.reduceat(b[:upto_k, :], ec[:-1], axis=1) / np.diff(ec)[None, :]  # (upto_k, cols)
        return a_rows @ b_cols

    def dot_terms(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """``(A[i, :], B[:, j])``: the row and column whose dot product is ``C[i, j]``."""
        m, _, n = self.shape
        if not (0 <= i < m and 0 <= j < n):
            raise ShapeError(
                f"highlight ({i},{j}) is outside the result of shape {m}×{n}: use 0 <= i < {m}, 0 <= j < {n}"
            )
        return self.left.values[i, :], self.right.values[:, j]


def _check_inner(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape[1] != b.shape[0]:
        raise ShapeError(
            f"inner dimensions differ: {na} is {a.shape[0]}×{a.shape[1]} (k={a.shape[1]} columns) but "
            f"{nb} is {b.shape[0]}×{b.shape[1]} (k={b.shape[0]} rows); {na}'s columns must equal {nb}'s rows "
            f"(transpose one, or resize)"
        )


def matmul(
    left,
    right,
    *,
    names: tuple[str, str] = ("A", "B"),
    budget: int = DEFAULT_BUDGET,
    aggregate: Literal["mean", "sum"] = "mean",
    style: Style | None = None,
    title: str | None = None,
    **style_fields,
) -> Scene:
    """Build the scene of ``left @ right``. Operands are arrays or ``Operand``s (e.g. from ``matviz.load``).

    ``budget`` caps the interior grid's cells; larger problems show exact block aggregates
    (``aggregate="mean"`` or ``"sum"``) and the scene's ``notes`` say so. Extra keywords set
    ``Style`` fields, e.g. ``highlight=(1, 0)``, ``interior="points"``.
    """
    a = operand(left, names[0] if not isinstance(left, Operand) else left.name)
    b = operand(right, names[1] if not isinstance(right, Operand) else right.name)
    _check_inner(a.values, b.values, a.name, b.name)
    if aggregate not in ("mean", "sum"):
        raise ValueError(f"aggregate must be 'mean' or 'sum', got {aggregate!r}")
    m, k = a.shape
    n = b.shape[1]
    if m * n > MAX_ELEMENTS:
        raise BudgetError(
            f"the result would be {m}×{n} ({m * n:,} elements, more than {MAX_ELEMENTS:,}): "
            "resize the operands first (CLI: --max-side 1024)"
        )
    style = replace(style or Style(), **style_fields)
    c = a.values @ b.values  # (m, n)
    result_kind = "image" if a.kind == b.kind == "image" else value_kind(c)
    result = Operand(
        f"{a.name}@{b.name}" if len(a.name) + len(b.name) <= 16 else "C", c, result_kind, a.row_labels, b.col_labels
    )
    blocks = plan_blocks(m, k, n, budget)
    interior = (block_means if aggregate == "mean" else block_sums)(a.values, b.values, blocks)
    notes = []
    if not blocks.unit:
        notes.append(
            f"the product cube has {m * k * n:,} cells; the interior shows the exact block {aggregate} "
            f"on a grid of {blocks.describe()}"
        )
    big = [f"{o.name} {o.shape[0]}×{o.shape[1]}" for o in (a, b, result) if max(o.shape) > style.face_max]
    if big:
        notes.append(f"faces larger than {style.face_max} per side are drawn as exact block means: {', '.join(big)}")
    scene = Scene(a, b, result, blocks, interior, aggregate, style, notes, title or f"{a.name} @ {b.name}")
    if style.highlight is not None:
        scene.dot_terms(*style.highlight)  # validates the index
    return scene


CHAIN_AZIMUTH = 20.0  # a chain is seen more from the side and from below: the next cube sits behind
CHAIN_ELEVATION = -38.0  # the first one's result face, and the open floors show both interiors
CHAIN_TURN = 90.0  # a chain's sweep turns the camera this far, from the front of the first cube to the back of the last


@dataclass
class Chain:
    """Several cubes in one world: the products of an expression, attention's two linked cubes,
    or two of those side by side. A single ``Scene`` is a chain of one (``as_chain``).

    ``steps[c]`` is when cube ``c`` is built (cubes with equal steps are built together);
    ``hidden[c]`` names its faces ("left", "top") that another cube's result face already shows.
    """

    cubes: list[Scene]
    steps: list[int]
    hidden: list[frozenset[str]]
    title: str = ""
    notes: list[str] = field(default_factory=list)
    style: Style = field(default_factory=Style)
    azimuth: float = CHAIN_AZIMUTH
    elevation: float = CHAIN_ELEVATION
    value: Operand | None = None  # the expression's value when it is not the last cube's output

    @property
    def n_steps(self) -> int:
        return max(self.steps) + 1

    def k_steps(self, step: int) -> int:
        """Sweep length of a step: the most k-blocks of its cubes."""
        return max(c.k_steps for c, s in zip(self.cubes, self.steps) if s == step)

    def stage_count(self, step: int) -> int:
        return max(len(c.stages) for c, s in zip(self.cubes, self.steps) if s == step)

    @property
    def box(self) -> _layout.Box:
        return _layout.union([c.bounds for c in self.cubes])

    @property
    def result(self) -> Operand:
        """The final matrix: the expression's value, else the last cube's output."""
        return self.value if self.value is not None else self.cubes[-1].output

    def initial_state(self) -> ViewState:
        return ViewState(azimuth=self.azimuth, elevation=self.elevation, highlight=self.style.highlight)


def as_chain(scene: Scene | Chain) -> Chain:
    """A Chain for either kind of scene (one cube keeps the single-cube camera)."""
    if isinstance(scene, Chain):
        return scene
    return Chain(
        [scene],
        [0],
        [frozenset()],
        scene.title,
        scene.notes,
        scene.style,
        _layout.DEFAULT_AZIMUTH,
        _layout.DEFAULT_ELEVATION,
    )


TRANSFORMS = ("none", "minmax", "signed", "softmax-rows", "softmax-cols", "ynorm-rows", "ynorm-cols")


def transform(op: Operand, how: str = "none", temperature: float = 1.0) -> Operand:
    """Apply one of ``TRANSFORMS`` to an operand (Mishka's experiments), renaming it accordingly.

    ``softmax-rows``: each row becomes a distribution (softmax with ``temperature``);
    ``ynorm-rows``: the same with ``f(y) = y + 1`` in place of exp; ``minmax`` → [0, 1];
    ``signed`` → [-1, 1]. ``-cols`` variants normalize each column.
    """
    from matviz.core import ops

    if how == "none":
        return op
    if how == "minmax":
        values, label = ops.minmax(op.values), f"minmax({op.name})"
    elif how == "signed":
        values, label = ops.signed_minmax(op.values), f"signed({op.name})"
    elif how.startswith(("softmax-", "ynorm-")):
        fn, _, axis = how.partition("-")
        ops.axis_number(axis)
        if fn == "softmax":
            values = ops.softmax(op.values, axis, temperature)
            label = f"softmax({op.name},{axis}" + (f",T={temperature:g})" if temperature != 1 else ")")
        else:
            values, label = ops.generalized_normalize(op.values, "y+1", axis), f"ynorm({op.name},{axis})"
    else:
        from matviz.errors import MatvizError

        raise MatvizError(f"unknown transform {how!r}: use one of {', '.join(TRANSFORMS)}")
    kind = value_kind(values)
    if op.kind == "image" and kind == "nonneg":
        kind = "image"  # a normalized photograph is still drawn as a photograph
    return Operand(label, values, kind)
