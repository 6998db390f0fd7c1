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
from matviz.graphics.pen import MARGIN, FaceEntry, fit

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
        self.levels = [fv for fv in view.levels() if fv is not None]
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
        self.outline, self.outline_poly = line_actor(pen, colors.rgb(colors.HIGHLIGHT), 3)
        self.rect = None
        self.tokens: dict[tuple[str, int], str] = {}  # ("rows"|"columns", index) -> its label's text name
        pen.faces[name] = FaceEntry(self.actors[-1][0], None, face=self.levels[-1], panel=self)

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
                self.tokens[(axis, t)] = name
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
            lut.SetNanColor(*colors.rgb(colors.MASKED), 1.0)
            values = np.where(np.isnan(values) & (fv.keep is not None) & ~_keep(fv, values.shape), -np.inf, values)
            arr = numpy_to_vtk(np.nan_to_num(values, nan=np.nan, neginf=np.nan).ravel(), deep=True)
            poly.GetCellData().SetScalars(arr)
            poly.Modified()
            # cells another level draws are left to it: hide them by ordering (the later level on top)
        self._outline(sweeping)

    def _outline(self, keep) -> None:
        """An orange box around the last row (column) already normalized: the one being swept."""
        boxes = []
        if keep is not None and self.rect is not None:
            rows = np.nonzero(keep.any(axis=1))[0]
            cols = np.nonzero(keep.any(axis=0))[0]
            if keep.all(axis=1).any() and len(rows) < keep.shape[0]:  # rows are being swept
                r = rows.max()
                box = (self.rect[0], self.rect[1], self.rect[3] - (r + 1) * self.side, self.rect[3] - r * self.side)
            else:
                c = cols.max()
                box = (self.rect[0] + c * self.side, self.rect[0] + (c + 1) * self.side, self.rect[2], self.rect[3])
            boxes.append(box)
        set_rectangles(self.outline_poly, boxes)

    @property
    def values(self) -> np.ndarray:
        """What the panel shows now (the top visible level), for the audit."""
        shown = [fv for fv in self.levels if fv.visible]
        return shown[-1].values if shown else self.levels[-1].values

    @property
    def matrix(self) -> str:
        shown = [fv for fv in self.levels if fv.visible]
        return (shown[-1] if shown else self.levels[-1]).op.name

    @property
    def kind(self) -> str:
        shown = [fv for fv in self.levels if fv.visible]
        return (shown[-1] if shown else self.levels[-1]).kind

    @property
    def legend(self) -> str:
        shown = [fv for fv in self.levels if fv.visible]
        return self.pen.faces[(shown[-1] if shown else self.levels[-1]).name].legend

    @property
    def lut(self):
        shown = [fv for fv in self.levels if fv.visible]
        return (shown[-1] if shown else self.levels[-1]).actor.mapper.lookup_table

    def highlight_token(self, axis: str | None, index: int | None = None) -> tuple[float, float, float, float] | None:
        """Outline the row (``axis="rows"``, a query) or column (``"columns"``, a key) of token
        ``index`` in orange, and draw its label bold in orange; ``None`` clears it. The panel's
        layout changes with every frame, so the owner calls this again after each ``reserve``.
        Returns the outline's box ``(x0, x1, y0, y1)`` in display pixels (None when cleared)."""
        pen = self.pen
        if getattr(self, "token_outline", None) is None:
            self.token_outline, self.token_poly = line_actor(pen, colors.rgb(colors.HIGHLIGHT), _token_line(pen))
            self.token_label = None
        old = self.token_label
        if old is not None and old in pen.texts:  # the label drawn as the others again
            prop = pen.texts[old].actor.GetTextProperty()
            prop.SetColor(*colors.rgb(colors.TEXT))
            prop.SetBold(False)
        self.token_label = None
        box = None
        if axis is not None and index is not None and self.rect is not None:
            er, ec = self.levels[0].edges  # panel cells may be blocks of the matrix
            gx0, gx1, gy0, gy1 = self.rect
            w = 0.5 * _token_line(pen)  # half a line width: the outline sits just outside the cells
            if axis == "rows":
                r = int(np.clip(np.searchsorted(er, index, side="right") - 1, 0, len(er) - 2))
                box = (gx0 - w, gx1 + w, gy1 - (r + 1) * self.side - w, gy1 - r * self.side + w)
            else:
                c = int(np.clip(np.searchsorted(ec, index, side="right") - 1, 0, len(ec) - 2))
                box = (gx0 + c * self.side - w, gx0 + (c + 1) * self.side + w, gy0 - w, gy1 + w)
            name = self.tokens.get((axis, index))
            if name in pen.texts:
                prop = pen.texts[name].actor.GetTextProperty()
                prop.SetColor(*colors.rgb(colors.HIGHLIGHT))
                prop.SetBold(True)
                self.token_label = name
        self.token_outline.GetProperty().SetLineWidth(_token_line(pen))
        set_rectangles(self.token_poly, [] if box is None else [box])
        return box


    def token_at(self, x: float, y: float) -> tuple[str, int] | None:
        """``("rows", i)`` (a query) or ``("columns", j)`` (a key): the token label drawn under
        display pixel ``(x, y)``, or None."""
        for token, name in self.tokens.items():
            item = self.pen.texts.get(name)
            if item is None or not item.drawn:
                continue
            x0, x1, y0, y1 = item.box(self.pen.renderer)
            if x0 <= x <= x1 and y0 <= y <= y1:
                return token
        return None


def _token_line(pen) -> int:
    """Width in pixels of a picked token's outline (3 at 720 rows)."""
    return max(2, round(3 * pen.height / 720))


def line_actor(pen, color, width: float) -> tuple[vtk.vtkActor2D, vtk.vtkPolyData]:
    """A 2D line actor of one colour in ``pen``'s renderer, and the polydata its lines go in."""
    actor, poly, mapper = vtk.vtkActor2D(), vtk.vtkPolyData(), vtk.vtkPolyDataMapper2D()
    mapper.SetInputData(poly)
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*color)
    actor.GetProperty().SetLineWidth(width)
    pen.renderer.AddActor(actor)
    return actor, poly


def set_rectangles(poly: vtk.vtkPolyData, boxes) -> None:
    """Make ``poly`` the outlines of the display boxes ``(x0, x1, y0, y1)`` (none: empty)."""
    pts, lines = vtk.vtkPoints(), vtk.vtkCellArray()
    for x0, x1, y0, y1 in boxes:
        base = pts.GetNumberOfPoints()
        for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
            pts.InsertNextPoint(x, y, 0)
        for a in range(4):
            line = vtk.vtkLine()
            line.GetPointIds().SetId(0, base + a)
            line.GetPointIds().SetId(1, base + (a + 1) % 4)
            lines.InsertNextCell(line)
    poly.SetPoints(pts)
    poly.SetLines(lines)
    poly.Modified()


def _keep(fv, shape) -> np.ndarray:
    return fv.keep if fv.keep is not None else np.ones(shape, dtype=bool)


VCOLS_CAPTION = "softmax over the columns of V"  # matviz.chain.attention's caption of the V-columns form


class ComparePanel:
    """Mishka's V-columns question, answered flat: the standard output softmax(QKᵀ/√d)·V and the
    output with softmax over V's columns, stacked on one shared scale, then their difference on its
    own scale, and a one-line summary (the relative change of the output). Each heatmap follows its
    cube's result face through the sweep (the running sum so far)."""

    def __init__(self, pen, standard, vcols):
        """``standard`` and ``vcols``: the CubeViews whose result faces are the two outputs."""
        self.pen, self.standard, self.vcols = pen, standard, vcols
        self.shape = standard.cube.result.shape
        (lo1, hi1), (lo2, hi2) = standard.running, vcols.running  # each cube's, computed once by its view
        lo, hi = min(lo1, lo2), max(hi1, hi2)
        r = max(abs(lo), abs(hi)) or 1.0
        self.lut = diverging((-r, r))
        rd = _running_difference(standard.cube, vcols.cube) or 1.0  # every difference the sweep shows
        self.diff_lut = diverging((-rd, rd))
        self.maps = []
        for key, lut in (("out-standard", self.lut), ("out-vcols", self.lut), ("out-diff", self.diff_lut)):
            self.maps.append(FlatMap(pen, f"compare-{key}", self.shape, lut, legend=f"compare-{key}"))
        self.maps[0].matrix, self.maps[1].matrix, self.maps[2].matrix = (
            "output, standard", "output, softmax(V, cols)", "difference")
        pen.legend("compare-out", "both outputs: one scale shared by the two", self.lut,
                   [self.maps[0].name, self.maps[1].name], shared=True, covers=(lo, hi))
        pen.legend("compare-diff", "difference: softmax(V, cols) minus standard", self.diff_lut, [self.maps[2].name],
                   covers=(-rd, rd))
        self.maps[0].legend = self.maps[1].legend = "compare-out"
        self.maps[2].legend = "compare-diff"
        self.rect = None

    def reserve(self, top: float, bottom: float) -> np.ndarray:
        pen = self.pen
        W = pen.width
        pad = pen.px(MARGIN)
        x0, x1 = W * (1 - COMPARE_WIDTH), W - 2 * pad
        y0, y1 = bottom + pad, top - pad
        line = 1.5 * pen.px(12)
        rows, cols = self.shape
        room = y1 - y0 - 4 * line - 3 * pad  # three heatmaps under their titles, then a summary line
        sides = [max(0.5, min((x1 - x0) / cols, share * room / rows)) for share in (0.4, 0.4, 0.2)]
        y = y1
        titles = ("standard: softmax(Q K^T/sqrt(d)) V", "softmax over the columns of V: ... softmax(V, cols)",
                  "difference (second minus first)")
        chars = int((x1 - x0) / (0.6 * pen.px(12)))
        for fm, title, side in zip(self.maps, titles, sides):  # the outputs large, their difference smaller
            pen.text(f"{fm.name}-title", fit(title, chars), role="title", size=12, bold=True, pos=(x0, y),
                     justify=("left", "top"))
            y -= line
            fm.place(x0 + ((x1 - x0) - side * cols) / 2, y, side)
            y -= rows * side + pad
        self.summary_y = y
        self.rect = np.array([x0, x1, y0, y1])
        return np.array([x0, W, y0, y1])

    def update(self) -> None:
        a = np.asarray(self.standard.faces["result"].values, dtype=np.float64)
        b = np.asarray(self.vcols.faces["result"].values, dtype=np.float64)
        for fm, values in zip(self.maps, (a, b, b - a)):
            fm.set_values(values)
        pen = self.pen
        norm = float(np.linalg.norm(a))
        change = float(np.linalg.norm(b - a)) / norm if norm else float("nan")
        text = (f"relative change: norm(second - first) / norm(first) = {change:.3g}"
                if norm else "the outputs are still zero (nothing summed yet)")
        pen.text("compare-summary", fit(text, int(pen.width * COMPARE_WIDTH / (0.6 * pen.px(12)))), role="title",
                 size=12, pos=(self.rect[0], self.summary_y), justify=("left", "top"))


COMPARE_WIDTH = 0.42


def _running_difference(first, second) -> float:
    """The largest |second - first| of the two result faces at any point of their (shared) sum over k."""
    a1, b1, a2, b2 = first.left.values, first.right.values, second.left.values, second.right.values
    total = np.zeros(first.result.shape)
    top = 0.0
    for k0, k1 in zip(first.blocks.edges_k[:-1], first.blocks.edges_k[1:]):
        total += a2[:, k0:k1] @ b2[k0:k1] - a1[:, k0:k1] @ b1[k0:k1]
        top = max(top, float(np.abs(total).max()))
    return top


class FlatMap:
    """One flat heatmap (2D quads on a lookup table) the audit measures as a face."""

    def __init__(self, pen, name: str, shape, lut, legend: str):
        self.pen, self.name, self.shape, self.lut, self.legend = pen, name, shape, lut, legend
        self.kind, self.matrix = "signed", name
        self.values = np.zeros(shape)
        self.poly = vtk.vtkPolyData()
        self.poly.DeepCopy(_quads(*shape))
        self.poly.GetCellData().SetScalars(numpy_to_vtk(self.values.ravel().copy(), deep=True))
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self.poly)
        mapper.SetLookupTable(lut)
        mapper.UseLookupTableScalarRangeOn()
        mapper.SetScalarModeToUseCellData()
        self.actor = vtk.vtkActor2D()
        self.actor.SetMapper(mapper)
        pen.renderer.AddActor(self.actor)
        self.rect = None
        pen.faces[name] = FaceEntry(self.actor, legend, panel=self)

    def place(self, x0: float, y1: float, side: float) -> None:
        """Square cells of ``side`` pixels, the top-left corner at ``(x0, y1)``."""
        self.place_cells(x0, y1, side, side)

    def place_cells(self, x0: float, y1: float, sx: float, sy: float) -> None:
        """Cells ``sx`` wide and ``sy`` high, the top-left corner at ``(x0, y1)``."""
        rows, cols = self.shape
        xs = np.tile(np.arange(cols + 1), rows + 1) * sx + x0
        ys = y1 - np.repeat(np.arange(rows + 1), cols + 1) * sy
        self.poly.GetPoints().SetData(numpy_to_vtk(np.c_[xs, ys, np.zeros(xs.size)], deep=True))
        self.poly.Modified()
        self.rect = np.array([x0, x0 + cols * sx, y1 - rows * sy, y1])

    def set_values(self, values: np.ndarray) -> None:
        self.values = values
        self.poly.GetCellData().SetScalars(numpy_to_vtk(np.asarray(values, dtype=np.float64).ravel().copy(), deep=True))
        self.poly.Modified()


def diverging(lim):
    """A lookup table of the signed (diverging) map on ``lim``."""
    import pyvista as pv

    lut = pv.LookupTable(colors.cmap("signed"))
    lut.SetRange(*lim)
    return lut
