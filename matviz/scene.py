"""The model: declarative descriptions of what to draw; plain frozen data, no renderer, no window.

``matmul(A, B)`` builds one cube of ``C = A @ B``, a ``Cube``: the operands, the exact result, the
interior grid of (aggregated) products, the default style and, in a chain, its placement,
result-face stages and caption. ``Scene`` is the old name of ``Cube``, kept as an alias so scene
scripts written against it keep working; new code says ``Cube``. A ``Chain`` is several cubes in
one world, one ``Placed(cube, step, hidden)`` record each. ``ViewState`` says what one frame shows;
a Timeline produces them, the renderer applies them.

The operand vocabulary (``Operand``, ``operand``, ``Stage``, ``transform``...) lives in
``matviz.core.operand`` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace
from typing import Literal

import numpy as np

from matviz.core import layout as _layout
from matviz.core.operand import (  # re-exported: the operand vocabulary lives in core
    MAX_ELEMENTS,
    TRANSFORMS,
    Kind,
    Operand,
    Stage,
    operand,
    transform,
    value_kind,
)
from matviz.core.products import (
    DEFAULT_BUDGET,
    Blocks,
    block_means,
    block_reduce,
    block_sums,
    even_edges,
    plan_blocks,
)
from matviz.errors import BudgetError, MatvizError, OptionError, ShapeError, ValueProblem, param

__all__ = [
    "AGGREGATES",
    "CHAIN_AZIMUTH",
    "CHAIN_ELEVATION",
    "CHAIN_TURN",
    "FACE_MAX",
    "INTERIORS",
    "MAX_ELEMENTS",
    "NUMBERS_MAX_SIDE",
    "TRANSFORMS",
    "Chain",
    "Cube",
    "Kind",
    "ModelHead",
    "Operand",
    "Placed",
    "Scene",
    "Stage",
    "Style",
    "ViewState",
    "as_chain",
    "matmul",
    "operand",
    "transform",
    "value_kind",
]

INTERIORS = ("auto", "cubes", "volume", "none")  # Style.interior: auto = cubes up to ~32³ cells, a volume beyond
AGGREGATES = ("mean", "sum")  # what an interior cell shows when it stands for a block of products
FACE_MAX = 512  # faces with more rows/columns are drawn as exact block means
NUMBERS_MAX_SIDE = 6  # numbers are written on faces whose sides are all at most this (Style.numbers=None)


@dataclass(frozen=True)
class Style:
    """How a scene looks by default.

    ``interior``, ``numbers`` and ``highlight`` can also be set from the CLI (``--interior``,
    ``--numbers``, ``--highlight``); ``background`` and ``face_max`` are API-only. Building a Style
    with an ``interior`` outside ``INTERIORS`` raises ``OptionError``.
    """

    interior: Literal["auto", "cubes", "volume", "none"] = "auto"  # one of INTERIORS
    numbers: bool | None = None  # write values on the cells; None = only when every side <= NUMBERS_MAX_SIDE
    highlight: tuple[int, int] | None = None  # result cell (i, j) whose dot product is outlined
    background: str = "white"
    face_max: int = FACE_MAX  # faces with more rows/columns are drawn as exact block means

    def __post_init__(self):
        if self.interior not in INTERIORS:
            raise OptionError(
                f"interior must be one of {', '.join(map(repr, INTERIORS))}, got {self.interior!r}: "
                "'cubes' draws glyph cubes (up to ~32³ cells), 'volume' a volume, 'auto' picks by size"
            )


def _style(style: Style | None, fields: dict) -> Style:
    """``style`` (default ``Style()``) with ``fields`` replaced; unknown names raise ``OptionError``."""
    style = style or Style()
    known = Style.__dataclass_fields__
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise OptionError(
            f"unknown option {unknown[0]!r}: matmul's extra keywords set Style fields, use one of {', '.join(known)}"
        )
    return replace(style, **fields) if fields else style


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


DISPLAY: dict[str, Callable] = {}  # "png", "mimebundle": how a scene shows itself in Jupyter (set_display)


def set_display(*, png: Callable, mimebundle: Callable) -> None:
    """Register the functions that draw a scene for Jupyter: ``png(scene) -> bytes`` and
    ``mimebundle(scene, include, exclude) -> dict``. ``matviz.notebook`` registers its own when it
    is imported (``import matviz`` does), so the model itself imports no renderer."""
    DISPLAY.update(png=png, mimebundle=mimebundle)


class _Displayed:
    """Jupyter display through the functions registered with ``set_display``: the still, and the
    interactive page where the web extra is installed. None (no display) until one is registered."""

    def _repr_png_(self) -> bytes | None:
        png = DISPLAY.get("png")
        return None if png is None else png(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict | None:
        mimebundle = DISPLAY.get("mimebundle")
        return None if mimebundle is None else mimebundle(self, include, exclude)


@dataclass(frozen=True)
class Cube(_Displayed):
    """``C = A @ B`` as one cube: operands on the left and top faces, the result on the back face.

    ``Scene`` is the old name of this class and still works (``Scene is Cube``); prefer ``Cube``,
    which says what it is: one cube (a many-cube scene is a ``Chain``).
    Frozen and built complete by ``matmul``: in a chain, ``placement`` moves the cube in the world,
    ``stages`` transform its result face after the sum and ``caption`` is written above it, all
    passed to ``matmul``. Use ``dataclasses.replace`` for a variant.
    """

    left: Operand  # (m, k)
    right: Operand  # (k, n)
    result: Operand  # (m, n), exactly left @ right
    blocks: Blocks
    interior: np.ndarray  # (gm, gk, gn) aggregates of A[i,k]·B[k,j] per block
    aggregate: Literal["mean", "sum"]
    style: Style = field(default_factory=Style)
    notes: tuple[str, ...] = ()
    title: str = ""
    placement: _layout.Placement = field(default_factory=_layout.Placement)
    stages: tuple[Stage, ...] = ()
    caption: str = ""

    def __post_init__(self):
        # accept lists from callers, store tuples: the cube cannot be changed behind its views' backs
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "stages", tuple(self.stages))
        m, n = self.left.shape[0], self.right.shape[1]
        for stage in self.stages:
            if stage.values.shape != (m, n):
                raise ShapeError(
                    f"stage {stage.label!r} has shape {stage.values.shape} but the result is {m}×{n}: "
                    "a stage holds the whole result face after its step"
                )


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
            raise OptionError(f"how must be 'sum' or 'mean', got {how!r}")
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
            raise OptionError(f"unknown face {which!r}: use 'left', 'top' or 'result'")
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


Scene = Cube  # the old name of Cube, kept so scene scripts written against it still work; prefer Cube


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
    placement: _layout.Placement | None = None,
    stages=(),
    caption: str = "",
    result_name: str | None = None,
    **style_fields,
) -> Cube:
    """Build the cube of ``left @ right``. Operands are arrays or ``Operand``s (e.g.
    from ``matviz.load``).

    ``budget`` caps the interior grid's cells; larger problems show exact block aggregates
    (``aggregate="mean"`` or ``"sum"``) and the scene's ``notes`` say so. Extra keywords set
    ``Style`` fields, e.g. ``highlight=(1, 0)``, ``interior="volume"`` (one of ``INTERIORS``).

    For cubes of a chain: ``placement`` puts the cube in the world, ``stages`` (each an (m, n)
    ``Stage``) transform its result face after the sum, ``caption`` is written above it and
    ``result_name`` names the result. The cube comes back complete; it is never changed afterwards.
    """
    if not (isinstance(names, (tuple, list)) and len(names) == 2 and all(isinstance(n, str) for n in names)):
        raise OptionError(f"names must be two strings, e.g. names=('A', 'B'), got {names!r}")
    for given in (left, right):
        if isinstance(given, np.ma.MaskedArray):
            raise OptionError("a numpy masked array would lose its mask: fill the masked cells first, e.g. a.filled(0)")
        if getattr(given, "requires_grad", False):
            raise OptionError("a torch tensor that requires grad: pass tensor.detach() (matviz only reads its values)")
    try:
        a = operand(left, names[0] if not isinstance(left, Operand) else left.name)
        b = operand(right, names[1] if not isinstance(right, Operand) else right.name)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, MatvizError):
            raise
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise ShapeError(f"an operand is not a 2-D array of numbers ({reason}): give equal-length rows of numbers") from None
    _check_inner(a.values, b.values, a.name, b.name)
    if aggregate not in AGGREGATES:
        raise OptionError(f"aggregate must be one of {', '.join(map(repr, AGGREGATES))}, got {aggregate!r}")
    m, k = a.shape
    n = b.shape[1]
    if m * n > MAX_ELEMENTS:
        raise BudgetError(
            f"the result would be {m}×{n} ({m * n:,} elements, more than {MAX_ELEMENTS:,}): "
            f"resize the operands first, e.g. {param('max_side', 1024)}"
        )
    style = _style(style, style_fields)
    with np.errstate(all="ignore"):
        c = a.values @ b.values  # (m, n)
    if not (np.isfinite(c.min()) and np.isfinite(c.max())):  # NaN and ±inf show in min/max: no n² mask
        bad = np.argwhere(~np.isfinite(c))[0]
        raise ValueProblem(
            f"{a.name} @ {b.name} overflows: C[{bad[0]}, {bad[1]}] is {c[tuple(bad)]} (beyond float64's ~1.8e308); "
            "scale the operands down first"
        )
    result_kind = "image" if a.kind == b.kind == "image" else value_kind(c)
    if result_name is None:
        result_name = f"{a.name}@{b.name}" if len(a.name) + len(b.name) <= 16 else "C"
    result = Operand(result_name, c, result_kind, a.row_labels, b.col_labels)
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
    cube = Cube(
        a,
        b,
        result,
        blocks,
        interior,
        aggregate,
        style,
        tuple(notes),
        title or f"{a.name} @ {b.name}",
        placement if placement is not None else _layout.Placement(),
        tuple(stages),
        caption,
    )
    if style.highlight is not None:
        cube.dot_terms(*style.highlight)  # validates the index
    return cube


CHAIN_AZIMUTH = 20.0  # a chain is seen more from the side and from below: the next cube sits behind
CHAIN_ELEVATION = -38.0  # the first one's result face, and the open floors show both interiors
CHAIN_TURN = 90.0  # a chain's sweep turns the camera this far, from the front of the first cube to the back of the last


@dataclass(frozen=True)
class Placed:
    """One cube of a chain: ``step`` is when it is built (cubes with equal steps are built
    together); ``hidden`` names its faces ("left", "top") that another cube's result face already
    shows, so they are not drawn again."""

    cube: Cube
    step: int
    hidden: frozenset[str] = frozenset()

    def __post_init__(self):
        object.__setattr__(self, "hidden", frozenset(self.hidden))


@dataclass(frozen=True)
class ModelHead:
    """The model head a chain of attention draws (``matviz.chain.head_chain``), as data the views
    read: its place in the model and whether it is an attention sink (``sink_share`` of its
    attention on the first or separator tokens, ``sink_note`` the sentence that says so)."""

    layer: int
    head: int
    sink: bool = False
    sink_share: float = 0.0
    sink_note: str = ""


@dataclass(frozen=True)
class Chain(_Displayed):
    """Several cubes in one world: the products of an expression, attention's two linked cubes,
    or two of those side by side. A single ``Cube`` is a chain of one (``as_chain``).

    Frozen; its primary data is ``placed``, one ``Placed(cube, step, hidden)`` per cube in drawing
    order. ``cubes``, ``steps`` and ``hidden`` are read-only views of it (lists in the same order).
    Build it as ``Chain(placed_records, title=..., ...)``: everything after the records is a keyword.
    """

    placed: tuple[Placed, ...]
    _: KW_ONLY
    title: str = ""
    notes: tuple[str, ...] = ()
    style: Style = field(default_factory=Style)
    azimuth: float = CHAIN_AZIMUTH
    elevation: float = CHAIN_ELEVATION
    value: Operand | None = None  # the expression's value when it is not the last cube's output
    head: ModelHead | None = None  # the model head it draws, for attention from a model

    def __post_init__(self):
        records = tuple(self.placed or ())
        if not records:
            raise ShapeError("a Chain needs at least one cube")
        if not all(isinstance(p, Placed) for p in records):
            raise ShapeError(
                "a Chain takes Placed records, one per cube: Chain((Placed(cube, step), ...)); "
                "a single Cube is a chain of one with as_chain(cube)"
            )
        # store tuples (and a Style for None): the chain cannot be changed behind its views' backs
        object.__setattr__(self, "placed", records)
        object.__setattr__(self, "notes", tuple(self.notes))
        if self.style is None:
            object.__setattr__(self, "style", Style())

    @property
    def cubes(self) -> list[Cube]:
        return [p.cube for p in self.placed]

    @property
    def steps(self) -> list[int]:
        return [p.step for p in self.placed]

    @property
    def hidden(self) -> list[frozenset[str]]:
        return [p.hidden for p in self.placed]

    @property
    def n_steps(self) -> int:
        return max(p.step for p in self.placed) + 1

    def k_steps(self, step: int) -> int:
        """Sweep length of a step: the most k-blocks of its cubes."""
        return max(p.cube.k_steps for p in self.placed if p.step == step)

    def stage_count(self, step: int) -> int:
        return max(len(p.cube.stages) for p in self.placed if p.step == step)

    @property
    def box(self) -> _layout.Box:
        return _layout.union([p.cube.bounds for p in self.placed])

    @property
    def result(self) -> Operand:
        """The final matrix: the expression's value, else the last cube's output."""
        return self.value if self.value is not None else self.placed[-1].cube.output

    def initial_state(self) -> ViewState:
        return ViewState(azimuth=self.azimuth, elevation=self.elevation, highlight=self.style.highlight)


def as_chain(scene: Cube | Chain) -> Chain:
    """A Chain for either kind of scene (one cube keeps the single-cube camera)."""
    if isinstance(scene, Chain):
        return scene
    return Chain(
        (Placed(scene, 0),),
        title=scene.title,
        notes=scene.notes,
        style=scene.style,
        azimuth=_layout.DEFAULT_AZIMUTH,
        elevation=_layout.DEFAULT_ELEVATION,
    )
