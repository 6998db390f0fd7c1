"""Faces: an operand, the result, or the result after one of its stages, as a cell-coloured grid
with its legend and (on small faces) the numbers of its cells."""

from __future__ import annotations

import numpy as np
import pyvista as pv

from matviz.core.layout import Face
from matviz.core.products import block_reduce
from matviz.graphics import colors

GHOST = "vtkGhostType"  # VTK's per-cell flags; HIDDEN cells are not drawn
HIDDEN = 32  # vtkDataSetAttributes::HIDDENCELL
EDGES_MAX = 32  # cell edges drawn on faces with at most this many cells a side
NUMBERS_MAX_CELLS = 40 * 40


def masked_means(values: np.ndarray, row_edges: np.ndarray, col_edges: np.ndarray) -> np.ndarray:
    """Block means over the finite entries (masked -inf cells left out); NaN where all are masked."""
    finite = np.isfinite(values)
    total = block_reduce(np.where(finite, values, 0.0), row_edges, col_edges, how="sum")
    count = block_reduce(finite.astype(np.float64), row_edges, col_edges, how="sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def running_range(cube) -> tuple[float, float]:
    """The smallest and largest value the result face shows at any point of the sum over k (at
    display resolution), so every running sum is coloured on a range that holds it."""
    m, k, n = cube.shape
    er, ec = cube.face_edges(m), cube.face_edges(n)
    a_rows = np.add.reduceat(cube.left.values, er[:-1], axis=0) / np.diff(er)[:, None]  # (rows, k)
    b_cols = np.add.reduceat(cube.right.values, ec[:-1], axis=1) / np.diff(ec)[None, :]  # (k, cols)
    lo = hi = 0.0
    total = np.zeros((len(er) - 1, len(ec) - 1))
    edges_k = cube.blocks.edges_k
    for k0, k1 in zip(edges_k[:-1], edges_k[1:]):
        total += a_rows[:, k0:k1] @ b_cols[k0:k1, :]
        lo, hi = min(lo, float(total.min())), max(hi, float(total.max()))
    return lo, hi


def face_grid(face: Face, row_edges: np.ndarray, col_edges: np.ndarray, values: np.ndarray) -> pv.StructuredGrid:
    """A flat grid on ``face`` whose cell ``[r, c]`` carries ``values[r, c]``."""
    pts = face.corners(row_edges, col_edges)  # (R+1, C+1, 3)
    grid = pv.StructuredGrid(pts[..., 0, None], pts[..., 1, None], pts[..., 2, None])
    grid.cell_data["values"] = values.ravel(order="F")  # VTK: first index fastest
    grid.cell_data[GHOST] = np.zeros(grid.n_cells, dtype=np.uint8)
    return grid


class FaceVisual:
    """One face of one cube: ``op`` (an Operand, or a stage's matrix) drawn on ``face``."""

    def __init__(self, cp, key: str, face: Face, edges, values: np.ndarray, op, clim, *, kind: str, legend: str):
        self.cp, self.key, self.face, self.edges, self.op = cp, key, face, edges, op
        self.kind = kind
        self.grid = face_grid(face, *edges, values)
        self.values = values
        self.actor = cp.add_mesh(
            self.grid,
            scalars="values",
            cmap=colors.cmap(kind),
            clim=clim,
            nan_color=colors.MASKED,
            lighting=False,
            show_edges=max(values.shape) <= EDGES_MAX,
            edge_color="#777777",
            line_width=1,
            show_scalar_bar=False,
            name=cp.name(f"face-{key}"),
        )
        self.name = cp.name(f"face-{key}")
        self.labels = False  # numbers written on the cells
        self.keep: np.ndarray | None = None  # cells drawn (row-by-row stages), None = all
        cp.pen.faces[self.name] = dict(
            actor=self.actor, corners=cp.world(face.corners([0, face.shape[0]], [0, face.shape[1]]).reshape(4, 3)),
            normal=cp.world_direction(face.normal), label=legend, face=self,
        )
        cp.pen.occluder(self.actor, [cp.world_box(_face_box(face))])

    @property
    def clim(self) -> tuple[float, float]:
        lo, hi = self.actor.mapper.lookup_table.GetRange()
        return float(lo), float(hi)

    def set_clim(self, clim) -> None:
        self.actor.mapper.scalar_range = clim
        self.actor.mapper.lookup_table.SetRange(*clim)

    def set_values(self, values: np.ndarray) -> None:
        self.values = values
        self.grid.cell_data["values"] = values.ravel(order="F")
        self.grid.Modified()

    def show(self, visible: bool, keep: np.ndarray | None = None) -> None:
        """Show the face, only the cells ``keep`` (rows, cols) bool if given."""
        self.actor.SetVisibility(visible)
        self.keep = keep if visible else None
        ghost = np.zeros(self.grid.n_cells, dtype=np.uint8)
        if visible and keep is not None:
            ghost = np.where(keep, 0, HIDDEN).astype(np.uint8).ravel(order="F")
        self.grid.cell_data[GHOST] = ghost
        self.grid.Modified()

    @property
    def visible(self) -> bool:
        return bool(self.actor.GetVisibility())

    def write_numbers(self, values: np.ndarray | None = None) -> None:
        """The value of each drawn cell at its centre, just off the face on the side it is seen
        from; white on dark cells, black on light ones. Hidden cells get no number."""
        prefix = f"{self.name}-n"
        self.cp.pen.remove(prefix)
        if not self.labels or not self.visible:
            return
        values = self.values if values is None else values
        er, ec = self.edges
        rc, cc = (er[:-1] + er[1:]) / 2.0, (ec[:-1] + ec[1:]) / 2.0
        dark = colors.is_dark(values.ravel(), self.kind, self.clim).reshape(values.shape)
        for r in range(values.shape[0]):
            for c in range(values.shape[1]):
                if self.keep is not None and not self.keep[r, c]:
                    continue
                v = values[r, c]
                text = "masked" if not np.isfinite(v) else colors.fmt(v)
                anchor = self.cp.world(self.face.point(rc[r], cc[c]) + 0.02 * self.face.normal)
                self.cp.pen.text(
                    f"{prefix}{r}-{c}",
                    text,
                    role="number",
                    size=16 if max(values.shape) <= 4 else 13,
                    anchor=anchor,
                    justify=("center", "center"),
                    color="white" if dark[r, c] else "black",
                    bold=True,
                    face=self.name,
                )


def _face_box(face: Face) -> np.ndarray:
    """The (flat) local box of a face: it hides what lies behind it."""
    c = face.corners([0, face.shape[0]], [0, face.shape[1]]).reshape(4, 3)
    return np.ravel(np.column_stack([c.min(axis=0), c.max(axis=0)]))
