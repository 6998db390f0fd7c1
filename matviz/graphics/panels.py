"""Flat panels: a face drawn face-on and large in a reserved part of the frame, beside the 3D scene.

A scene whose subject would be small or oblique in 3D (attention's probability matrix, a 12×12
face between a 12×32×12 and a 12×12×32 cube) gets a panel on the right: the same matrix, on the
same colour scale (one legend for both: the panel uses the face's own lookup table), with every
row and column label along its edges, following the 3D face through the sweep (the level shown,
the rows already softmaxed) and outlining the row being swept.
"""

from __future__ import annotations

import numpy as np
import vtk
from vtk.util.numpy_support import numpy_to_vtk

from matviz.graphics import colors
from matviz.graphics.pen import MARGIN, fit

PANEL_WIDTH = 0.36  # of the frame's width


def _quads(rows: int, cols: int) -> vtk.vtkPolyData:
    """A rows × cols grid of quads in unit coordinates (x = column, y = row from the top), cell
    ``r * cols + c`` for element ``[r, c]``."""
    xs, ys = np.meshgrid(np.arange(cols + 1), np.arange(rows + 1))
    pts = np.c_[xs.ravel(), -ys.ravel(), np.zeros(xs.size)].astype(np.float64)
    poly = vtk.vtkPolyData()
    points = vtk.vtkPoints()
    points.SetData(numpy_to_vtk(pts, deep=True))
    poly.SetPoints(points)
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    p0 = (r * (cols + 1) + c).ravel()
    cells = np.column_stack([np.full(p0.size, 4), p0, p0 + 1, p0 + cols + 2, p0 + cols + 1]).ravel()
    arr = vtk.vtkCellArray()
    arr.ImportLegacyFormat(numpy_to_vtk(cells.astype(np.int64), deep=True, array_type=vtk.VTK_ID_TYPE))
    poly.SetPolys(arr)
    return poly


class HeatmapPanel:
    """The levels of one result face (the sum, then each stage) as a flat heatmap."""

    def __init__(self, pen, view, name: str, titles: list[str]):
        """``titles``: the name of each level (the sum, then each stage), shown as the panel's title."""
        self.pen, self.view, self.name, self.titles = pen, view, name, titles
        self.title = titles[-1]
        self.levels = [fv for fv in view._levels() if fv is not None]
        cube = view.cube
        self.rows_labels = cube.result.row_labels
        self.cols_labels = cube.result.col_labels
        self.shape = self.levels[0].values.shape
        self.actors = []
        self.unit = _quads(*self.shape)
        for fv in self.levels:
            poly = vtk.vtkPolyData()
            poly.DeepCopy(self.unit)
            scalars = numpy_to_vtk(np.zeros(self.shape[0] * self.shape[1]), deep=True)
            poly.GetCellData().SetScalars(scalars)
            mapper = vtk.vtkPolyDataMapper2D()
            mapper.SetInputData(poly)
            mapper.SetLookupTable(fv.actor.mapper.lookup_table)  # the face's own scale: one legend for both
            mapper.UseLookupTableScalarRangeOn()
            mapper.SetScalarModeToUseCellData()
            actor = vtk.vtkActor2D()
            actor.SetMapper(mapper)
            pen.renderer.AddActor(actor)
            self.actors.append((actor, poly))
        self.outline = vtk.vtkActor2D()
        self.outline_poly = vtk.vtkPolyData()
        m2 = vtk.vtkPolyDataMapper2D()
        m2.SetInputData(self.outline_poly)
        self.outline.SetMapper(m2)
        self.outline.GetProperty().SetColor(*_rgb(colors.HIGHLIGHT))
        self.outline.GetProperty().SetLineWidth(3)
        pen.renderer.AddActor(self.outline)
        self.rect = None
        pen.faces[name] = dict(actor=self.actors[-1][0], flat=True, panel=self, label=None, face=self.levels[-1])

    # ---- layout -----------------------------------------------------------------------------------
    def reserve(self, top: float, bottom: float) -> np.ndarray:
        """Lay the panel out in the right part of the frame between the bands; returns the box
        ``(x0, x1, y0, y1)`` it takes (the 3D scene keeps out of it)."""
        pen = self.pen
        W = pen.width
        pad = pen.px(MARGIN)
        x0, x1 = W * (1 - PANEL_WIDTH), W - 2 * pad
        y0, y1 = bottom + pad, top - pad
        label_w = self._label_room()
        title_h = 2 * pen.px(13)
        rows, cols = self.shape
        side = min((x1 - x0 - label_w) / cols, (y1 - y0 - title_h - label_w) / rows)
        side = max(side, 0.5)
        gx0 = x1 - side * cols
        gy1 = y1 - title_h - label_w  # the grid's top edge (column labels above it)
        self.rect = np.array([gx0, x1, gy1 - side * rows, gy1])
        self.side = side
        for actor, poly in self.actors:
            pts = np.c_[gx0 + self._unit_x(), gy1 + self._unit_y() * 1.0, np.zeros(self._unit_x().size)]
            poly.GetPoints().SetData(numpy_to_vtk(pts, deep=True))
            poly.Modified()
        pen.panel_notes = []
        shown = [n for n, fv in enumerate(self.levels) if fv.visible]
        self.title = self.titles[shown[-1]] if shown else self.titles[-1]
        pen.text(f"{self.name}-title", fit(self.title, int((x1 - x0) / (0.6 * pen.px(13)))), role="title", size=13,
                 pos=(x0 + (x1 - x0) / 2, y1), justify=("center", "top"), bold=True)
        self._labels(gx0, gy1, side)
        return np.array([x0, W, y0, y1])

    def _unit_x(self) -> np.ndarray:
        rows, cols = self.shape
        xs = np.tile(np.arange(cols + 1), rows + 1).astype(np.float64)
        return xs * self.side

    def _unit_y(self) -> np.ndarray:
        rows, cols = self.shape
        ys = np.repeat(np.arange(rows + 1), cols + 1).astype(np.float64)
        return -ys * self.side

    def _label_room(self) -> float:
        """Pixels kept left of and above the grid for the row and column labels."""
        labels = [*(self.rows_labels or ()), *(self.cols_labels or ())]
        longest = max((len(str(t)) for t in labels), default=0)
        return min(12, longest) * 0.62 * self.pen.px(12) + self.pen.px(MARGIN)

    def _labels(self, gx0: float, gy1: float, side: float) -> None:
        """Every row label left of its row, every column label (upright) above its column; when
        they are taller than a cell, every n-th (the frame says so)."""
        pen = self.pen
        size = pen.px(12)
        step = max(1, int(np.ceil(1.5 * size / side)))  # a line of text is about 1.3 font sizes
        for axis, labels in (("rows", self.rows_labels), ("columns", self.cols_labels)):
            if not labels:
                continue
            rule = f"panel {axis}: every {step} of {len(labels)}" if step > 1 else ""
            if rule:
                pen.panel_notes.append(rule)
            for t, label in enumerate(labels):
                name = f"{self.name}-{axis}-{t:03d}"
                if axis == "rows":
                    pos, just = (gx0 - pen.px(4), gy1 - (t + 0.5) * side), ("right", "center")
                else:
                    pos, just = (gx0 + (t + 0.5) * side, gy1 + pen.px(4)), ("left", "center")
                item = pen.text(name, fit(str(label), 12), role="token", size=12, pos=pos, justify=just)
                item.actor.GetTextProperty().SetOrientation(90 if axis == "columns" else 0)
                if t % step:
                    pen.hide(name, "thinned", rule)

    # ---- per frame --------------------------------------------------------------------------------
    def update(self) -> None:
        """Mirror the 3D face: each level's cells that the face shows, and the row being swept."""
        rows, cols = self.shape
        sweeping = None
        for (actor, poly), fv in zip(self.actors, self.levels):
            shown = fv.visible
            actor.SetVisibility(shown)
            if not shown:
                continue
            values = np.asarray(fv.values, dtype=np.float64).copy()
            if fv.keep is not None:
                values[~fv.keep] = np.nan  # drawn by the other level
                if fv.keep.any() and not fv.keep.all() and fv.key != "result":
                    sweeping = fv.keep
            lut = fv.actor.mapper.lookup_table
            lut.SetNanColor(*_rgb(colors.MASKED), 1.0)
            values = np.where(np.isnan(values) & (fv.keep is not None) & ~_keep(fv, values.shape), -np.inf, values)
            arr = numpy_to_vtk(np.nan_to_num(values, nan=np.nan, neginf=np.nan).ravel(), deep=True)
            poly.GetCellData().SetScalars(arr)
            poly.Modified()
            # cells another level draws are left to it: hide them by ordering (the later level on top)
        self._outline(sweeping)

    def _outline(self, keep) -> None:
        """An orange box around the last row (column) already normalized: the one being swept."""
        pts = vtk.vtkPoints()
        lines = vtk.vtkCellArray()
        if keep is not None and self.rect is not None:
            rows = np.nonzero(keep.any(axis=1))[0]
            cols = np.nonzero(keep.any(axis=0))[0]
            if keep.all(axis=1).any() and len(rows) < keep.shape[0]:  # rows are being swept
                r = rows.max()
                box = (self.rect[0], self.rect[1], self.rect[3] - (r + 1) * self.side, self.rect[3] - r * self.side)
            else:
                c = cols.max()
                box = (self.rect[0] + c * self.side, self.rect[0] + (c + 1) * self.side, self.rect[2], self.rect[3])
            x0, x1, y0, y1 = box
            for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
                pts.InsertNextPoint(x, y, 0)
            for a in range(4):
                line = vtk.vtkLine()
                line.GetPointIds().SetId(0, a)
                line.GetPointIds().SetId(1, (a + 1) % 4)
                lines.InsertNextCell(line)
        self.outline_poly.SetPoints(pts)
        self.outline_poly.SetLines(lines)
        self.outline_poly.Modified()

    @property
    def values(self) -> np.ndarray:
        """What the panel shows now (the top visible level), for the audit."""
        shown = [fv for fv in self.levels if fv.visible]
        return shown[-1].values if shown else self.levels[-1].values

    @property
    def lut(self):
        shown = [fv for fv in self.levels if fv.visible]
        return (shown[-1] if shown else self.levels[-1]).actor.mapper.lookup_table


def _keep(fv, shape) -> np.ndarray:
    return fv.keep if fv.keep is not None else np.ones(shape, dtype=bool)


def _rgb(color) -> tuple[float, float, float]:
    import matplotlib.colors as mc

    return tuple(float(v) for v in mc.to_rgb(color))
