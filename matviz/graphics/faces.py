"""Faces: an operand, the result, or the result after one of its stages, as a cell-coloured grid
(or, above ``TEXTURE_MIN`` cells a side, one quad with a nearest-neighbour texture of the same
colours) with its legend and (on small faces) the numbers of its cells."""

from __future__ import annotations

import numpy as np
import pyvista as pv

from matviz.core.layout import Face
from matviz.core.products import block_reduce, row_block_sums
from matviz.graphics import colors
from matviz.graphics.pen import FaceEntry

GHOST = "vtkGhostType"  # VTK's per-cell flags; HIDDEN cells are not drawn
HIDDEN = 32  # vtkDataSetAttributes::HIDDENCELL
EDGES_MAX = 32  # cell edges drawn on faces with at most this many cells a side
TEXTURE_MIN = EDGES_MAX  # faces with more cells a side (no cell edges) are textured quads, not cell grids
TEXELS_MAX = 4096  # ... when their texture (one texel per cell, per element if blocks are uneven) fits


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
    a, b = cube.left.values, cube.right.values
    lo = hi = 0.0
    total = np.zeros((len(er) - 1, len(ec) - 1))
    edges_k = cube.blocks.edges_k
    for k0, k1 in zip(edges_k[:-1], edges_k[1:]):  # one k-block at a time: no (rows × k) copy of A
        a_rows = row_block_sums(a[:, k0:k1], er) / np.diff(er)[:, None]  # (rows, this block's k)
        b_cols = np.add.reduceat(b[k0:k1], ec[:-1], axis=1) / np.diff(ec)[None, :]  # (this block's k, cols)
        total += a_rows @ b_cols
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
    """One face of one cube: ``op`` (an Operand, or a stage's matrix) drawn on ``face``.

    Faces with at most ``TEXTURE_MIN`` cells a side are a grid of cells (with edges and numbers
    when small). Larger faces are one quad per drawn rectangle carrying a nearest-neighbour texture
    of the cells' values, coloured by the face's own lookup table (``vtkTexture`` maps the values
    through it, so the colours are the grid's, and a new range or new values recolour it)."""

    def __init__(self, cp, key: str, face: Face, edges, values: np.ndarray, op, clim, *, kind: str, legend: str):
        self.cp, self.key, self.face, self.edges, self.op = cp, key, face, edges, op
        self.kind = kind
        self.values = values
        self.name = cp.name(f"face-{key}")
        self.textured = _texturable(values.shape, edges)
        if self.textured:
            self.grid = None
            self.actor = self._textured_actor(values, clim)
        else:
            self.grid = face_grid(face, *edges, values)
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
                name=self.name,
            )
        self.labels = False  # numbers written on the cells
        self.keep: np.ndarray | None = None  # cells drawn (row-by-row stages), None = all
        cp.pen.faces[self.name] = FaceEntry(self.actor, legend, face=self, normal=cp.world_direction(face.normal))
        cp.pen.occluder(self.actor, [cp.world_box(_face_box(face))])

    # ---- textured faces ---------------------------------------------------------------------------
    def _textured_actor(self, values: np.ndarray, clim):
        import vtk

        lut = pv.LookupTable(colors.cmap(self.kind), n_values=256)
        lut.SetRange(*clim)
        lut.SetNanColor(*pv.Color(colors.MASKED).float_rgba)
        lut.BuildSpecialColors()  # the NaN colour is a special entry of the table: rebuild it
        self.lut = lut
        self.image = vtk.vtkImageData()  # x = column, y = row, one texel per element of the face
        er, ec = self.edges
        self.image.SetDimensions(int(ec[-1]) if self._uneven else values.shape[1],
                                 int(er[-1]) if self._uneven else values.shape[0], 1)
        self._set_texels(values)
        tex = vtk.vtkTexture()
        tex.SetInputData(self.image)
        tex.SetLookupTable(lut)  # the texture's colours follow the lookup table's range
        tex.SetColorModeToMapScalars()
        tex.InterpolateOff()
        tex.MipmapOff()
        tex.RepeatOff()
        tex.EdgeClampOn()
        self.texture = tex
        self.quad = pv.PolyData()
        self._set_quads(None)
        actor = self.cp.add_mesh(self.quad, color="white", lighting=False, show_scalar_bar=False, name=self.name)
        actor.SetTexture(tex)
        actor.mapper.SetLookupTable(lut)  # the legend, panels and audit read the range here
        actor.mapper.ScalarVisibilityOff()
        return actor

    @property
    def _uneven(self) -> bool:
        er, ec = self.edges
        return not (_even(er) and _even(ec))

    def _set_texels(self, values: np.ndarray) -> None:
        from vtk.util.numpy_support import numpy_to_vtk

        v = np.asarray(values, dtype=np.float64)
        if self._uneven:  # one texel per element, so every block keeps its exact extent
            er, ec = self.edges
            v = np.repeat(np.repeat(v, np.diff(er), axis=0), np.diff(ec), axis=1)
        arr = numpy_to_vtk(np.ascontiguousarray(v).ravel(), deep=True)  # x (columns) fastest
        arr.SetName("values")
        self.image.GetPointData().SetScalars(arr)
        self.image.Modified()

    def _set_quads(self, keep: np.ndarray | None) -> None:
        """One textured quad per drawn rectangle of cells: the whole face, or the rectangles of
        ``keep`` (consecutive rows with the same pattern merged), so hidden cells are not drawn."""
        er, ec = self.edges
        rows, cols = len(er) - 1, len(ec) - 1
        if keep is None:
            rects = [(0, rows, 0, cols)]
        else:
            keep = np.asarray(keep, dtype=bool)
            rects, r = [], 0
            while r < rows:
                r1 = r + 1
                while r1 < rows and np.array_equal(keep[r1], keep[r]):
                    r1 += 1
                pad = np.concatenate([[False], keep[r], [False]])
                d = np.diff(pad.astype(np.int8))
                for c0, c1 in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]):
                    rects.append((r, r1, int(c0), int(c1)))
                r = r1
        R, C = float(er[-1]), float(ec[-1])
        pts, tc, faces = [], [], []
        for n, (r0, r1, c0, c1) in enumerate(rects):
            rr, cc = (er[r0], er[r1]), (ec[c0], ec[c1])
            pts.append(self.face.corners(rr, cc).reshape(4, 3))  # (r0,c0) (r0,c1) (r1,c0) (r1,c1)
            tc.append([[c / C, r / R] for r in rr for c in cc])
            faces.append([4, 4 * n, 4 * n + 1, 4 * n + 3, 4 * n + 2])
        quad = pv.PolyData(np.vstack(pts), np.ravel(faces)) if rects else pv.PolyData()
        if rects:
            quad.active_texture_coordinates = np.vstack(tc).astype(np.float32)
        self.quad.ShallowCopy(quad)
        self.quad.Modified()

    def cell_of(self, world_point) -> tuple[int, int] | None:
        """``(row, col)`` cell of this face (in its drawn grid) under a world point on it, or None."""
        m = self.cp.placement.matrix
        local = (np.asarray(world_point, dtype=np.float64) - m[:3, 3]) @ m[:3, :3]  # placements are rotations
        d = local - self.face.origin
        r = float(d @ self.face.row_dir) / float(self.face.row_dir @ self.face.row_dir)
        c = float(d @ self.face.col_dir) / float(self.face.col_dir @ self.face.col_dir)
        er, ec = self.edges
        eps = 1e-6 * max(er[-1], ec[-1])
        if not (-eps <= r <= er[-1] + eps and -eps <= c <= ec[-1] + eps):
            return None
        row = int(np.clip(np.searchsorted(er, r, side="right") - 1, 0, len(er) - 2))
        col = int(np.clip(np.searchsorted(ec, c, side="right") - 1, 0, len(ec) - 2))
        if self.keep is not None and not self.keep[row, col]:
            return None
        return row, col

    def drawn_values(self) -> np.ndarray:
        """The (rows, cols) values the actor carries now (the grid's cells or the texture's texels)."""
        from vtk.util.numpy_support import vtk_to_numpy

        er, ec = self.edges
        if not self.textured:
            return np.asarray(self.grid.cell_data["values"]).reshape((len(er) - 1, len(ec) - 1), order="F")
        w, h, _ = self.image.GetDimensions()
        texels = vtk_to_numpy(self.image.GetPointData().GetScalars()).reshape(h, w)
        return texels[np.ix_(er[:-1], ec[:-1])] if self._uneven else texels

    # ---- the interface ------------------------------------------------------------------------------
    @property
    def clim(self) -> tuple[float, float]:
        lo, hi = self.actor.mapper.lookup_table.GetRange()
        return float(lo), float(hi)

    def set_clim(self, clim) -> None:
        self.actor.mapper.scalar_range = clim
        self.actor.mapper.lookup_table.SetRange(*clim)  # a textured face recolours from it

    def set_values(self, values: np.ndarray) -> None:
        self.values = values
        if self.textured:
            self._set_texels(values)
            return
        self.grid.cell_data["values"] = values.ravel(order="F")
        self.grid.Modified()

    def show(self, visible: bool, keep: np.ndarray | None = None) -> None:
        """Show the face, only the cells ``keep`` (rows, cols) bool if given."""
        self.actor.SetVisibility(visible)
        old, self.keep = self.keep, keep if visible else None
        if self.textured:
            if not (old is None and self.keep is None) and not (
                    old is not None and self.keep is not None and np.array_equal(old, self.keep)):
                self._set_quads(self.keep)
            return
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


def _even(edges: np.ndarray) -> bool:
    return bool(np.all(np.diff(edges) == edges[1] - edges[0]))


def _texturable(shape, edges) -> bool:
    """Drawn as a texture: more than ``TEXTURE_MIN`` cells a side, one texel per cell when the
    blocks are even (one per element otherwise, if that fits ``TEXELS_MAX``)."""
    if max(shape) <= TEXTURE_MIN:
        return False
    er, ec = edges
    if _even(er) and _even(ec):
        return max(shape) <= TEXELS_MAX
    return max(int(er[-1]), int(ec[-1])) <= TEXELS_MAX


def _face_box(face: Face) -> np.ndarray:
    """The (flat) local box of a face: it hides what lies behind it."""
    c = face.corners([0, face.shape[0]], [0, face.shape[1]]).reshape(4, 3)
    return np.ravel(np.column_stack([c.min(axis=0), c.max(axis=0)]))
