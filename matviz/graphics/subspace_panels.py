"""The four fundamental subspaces, drawn flat beside the SVD chain (``matviz subspaces``).

``SubspacePanel`` takes the reserved right part of the frame (as ``panels.HeatmapPanel`` does):

* the singular values as bars (the r above the rank tolerance dark, the rest gray), with
  σ₁/σᵣ written under them;
* with an image shape, the top signal vectors (rows of Vᵀ) reshaped to images, on one shared scale;
* with an input x, x, P·x and x − P·x side by side on one shared scale, with the energy split in
  numbers (‖P x‖²/‖x‖² and ‖x − P x‖²/‖x‖²).

Every text is a pen text (the audit measures it) and every heatmap a ``panels.FlatMap``
registered in ``pen.faces`` (rect, values, lut, matrix, kind, legend). ``SubspaceView`` is a
``SceneView`` that builds the panel on its first frame; ``frames``/``render``/``audit_still``
draw or measure it offscreen.
"""

from __future__ import annotations

import numpy as np
import vtk
from vtk.util.numpy_support import numpy_to_vtk

from matviz.graphics import colors
from matviz.graphics.panels import FlatMap, diverging
from matviz.graphics.pen import MARGIN, fit
from matviz.graphics.sceneview import SceneView

PANEL_WIDTH = 0.40  # of the frame's width
TOP_VECTORS = 4  # signal vectors drawn as images
RANK_COLOR = "#3b4cc0"
REST_COLOR = "#b0b0b0"


def _fmt(v: float) -> str:
    return f"{v:.4g}"


class _Map(FlatMap):
    """A flat heatmap made with its values (its cells may be rectangles, ``place_cells``: a long
    vector drawn as a strip)."""

    def __init__(self, pen, name, shape, lut, legend, matrix, values):
        super().__init__(pen, name, shape, lut, legend)
        self.matrix = matrix
        self.set_values(np.asarray(values, dtype=np.float64).reshape(shape))


class _Bars:
    """Vertical bars in display pixels, one colour per bar (no lookup table: not a face)."""

    def __init__(self, pen, heights: np.ndarray, strong: int):
        self.heights, self.strong = np.asarray(heights, dtype=np.float64), strong
        self.poly = vtk.vtkPolyData()
        mapper = vtk.vtkPolyDataMapper2D()
        mapper.SetInputData(self.poly)
        self.actor = vtk.vtkActor2D()
        self.actor.SetMapper(mapper)
        pen.renderer.AddActor(self.actor)
        self.rect = None

    def place(self, x0: float, x1: float, y0: float, y1: float) -> None:
        k = len(self.heights)
        top = float(self.heights.max()) or 1.0
        w = (x1 - x0) / k
        gap = 0.15 * w if w >= 3 else 0.0
        pts, cells, rgb = [], vtk.vtkCellArray(), []
        strong, rest = (np.array(colors.rgb(RANK_COLOR)) * 255).astype(np.uint8), (np.array(colors.rgb(REST_COLOR)) * 255).astype(np.uint8)
        for i, h in enumerate(self.heights):
            hx0, hx1 = x0 + i * w + gap / 2, x0 + (i + 1) * w - gap / 2
            hy1 = y0 + max(1.0, (y1 - y0) * h / top)
            base = len(pts)
            pts += [(hx0, y0, 0), (hx1, y0, 0), (hx1, hy1, 0), (hx0, hy1, 0)]
            quad = vtk.vtkQuad()
            for a in range(4):
                quad.GetPointIds().SetId(a, base + a)
            cells.InsertNextCell(quad)
            rgb.append(strong if i < self.strong else rest)
        points = vtk.vtkPoints()
        points.SetData(numpy_to_vtk(np.array(pts, dtype=np.float64), deep=True))
        self.poly.SetPoints(points)
        self.poly.SetPolys(cells)
        scal = numpy_to_vtk(np.array(rgb, dtype=np.uint8), deep=True)
        scal.SetName("colors")
        self.poly.GetCellData().SetScalars(scal)
        self.actor.GetMapper().SetColorModeToDirectScalars()
        self.poly.Modified()
        self.rect = np.array([x0, x1, y0, y1])


class SubspacePanel:
    """The singular values, the top signal vectors (with an image shape) and an input's split."""

    def __init__(self, pen, sub, *, image_shape: tuple[int, int] | None = None, x=None, name: str = "subspace",
                 w_face: str | None = None):
        """``w_face``: the pen face of W in 3D; W is drawn flat on its lookup table and legend."""
        self.pen, self.sub, self.image_shape, self.name = pen, sub, image_shape, name
        m, n = sub.shape
        self.wmap = None
        if w_face is not None and w_face in pen.faces:
            entry = pen.faces[w_face]
            face = entry.face
            lut = entry.actor.mapper.lookup_table
            self.wmap = _Map(pen, f"{name}-W", (m, n), lut, entry.legend, face.op.name if face else "W", sub.matrix)
            self.wmap.kind = face.kind if face else "signed"
        s = np.asarray(sub.singular_values)
        self.bars = _Bars(pen, s, sub.rank)
        self.vectors: list[_Map] = []
        if image_shape is not None:
            top = sub.Vt[: max(1, min(TOP_VECTORS, sub.rank))]  # rows of Vt: signal vectors, most energetic first
            r = float(np.abs(top).max()) or 1.0
            lut = diverging((-r, r))
            for i, v in enumerate(top):
                self.vectors.append(_Map(pen, f"{name}-v{i + 1}", image_shape, lut, f"{name}-vectors",
                                         f"signal vector {i + 1} (row {i + 1} of Vt)", v))
            pen.legend(f"{name}-vectors", f"signal vectors (rows of Vt): one scale shared by the {len(top)}", lut,
                       [mp.name for mp in self.vectors], shared=True, covers=(-r, r))
        self.split = None
        self.inputs: list[_Map] = []
        if x is not None:
            x = np.asarray(x, dtype=np.float64).reshape(n)
            self.split = sub.project(x)
            parts = (x, self.split.signal, self.split.residual)
            r = max(float(np.abs(p).max()) for p in parts) or 1.0
            lut = diverging((-r, r))
            shape = image_shape if image_shape is not None else (1, n)
            for key, label, v in zip(("x", "px", "res"), ("input x", "signal P x", "residual x - P x"), parts):
                self.inputs.append(_Map(pen, f"{name}-{key}", shape, lut, f"{name}-input", label, v))
            pen.legend(f"{name}-input", "x, P x and x - P x: one scale shared by the three", lut,
                       [mp.name for mp in self.inputs], shared=True, covers=(-r, r))
        self.rect = None

    # ---- layout -----------------------------------------------------------------------------------
    def reserve(self, top: float, bottom: float) -> np.ndarray:
        pen, sub = self.pen, self.sub
        W = pen.width
        pad = pen.px(MARGIN)
        x0, x1 = W * (1 - PANEL_WIDTH), W - 2 * pad
        y0, y1 = bottom + pad, top - pad
        line = 1.45 * pen.px(12)
        chars = int((x1 - x0) / (0.62 * pen.px(12)))
        pen.panel_notes = []
        sections = 1 + bool(self.vectors) + bool(self.inputs) + (self.wmap is not None)
        room = y1 - y0 - sections * 2 * line - (sections - 1) * pad  # each section: a title and a line
        shares = {"W": 0.42 if self.wmap is not None else 0.0}
        shares["bars"] = 0.16 if (self.vectors or self.inputs) else 1.0 - shares["W"]
        rest = 1.0 - shares["bars"] - shares["W"]
        others = bool(self.vectors) + bool(self.inputs)
        if self.vectors:
            shares["vectors"] = rest / others
        if self.inputs:
            shares["inputs"] = rest / others
        y = y1
        m, n = sub.shape
        s = sub.singular_values
        if self.wmap is not None:  # W flat, cells stretched to the panel's width (the 3D face is oblique)
            pen.text(f"{self.name}-W-title", fit(f"W = U diag(S) Vt ({m}x{n}), flat", chars), role="title", size=12,
                     bold=True, pos=(x0, y), justify=("left", "top"))
            y -= line
            h = shares["W"] * room
            sx = (x1 - x0) / n
            sy = h / m
            self.wmap.place_cells(x0, y, sx, sy)
            y -= m * sy + pad
        # the singular values
        title = f"singular values of W ({m}x{n}): {len(s)}, rank {sub.rank}"
        pen.text(f"{self.name}-sv-title", fit(title, chars), role="title", size=12, bold=True, pos=(x0, y),
                 justify=("left", "top"))
        y -= line
        h = max(4.0, shares["bars"] * room)
        self.bars.place(x0, x1, y - h, y)
        y -= h + pen.px(4)
        if sub.rank:
            cond = (f"sigma_1/sigma_r = {_fmt(s[0])}/{_fmt(s[sub.rank - 1])} = {_fmt(sub.condition_number)}"
                    f" (r = {sub.rank})")
        else:
            cond = "rank 0: the condition number sigma_1/sigma_r is undefined"
        tol = "numpy default" if sub.tol_source != "given" else "given"
        pen.text(f"{self.name}-sv-cond", fit(cond, chars), role="title", size=12, pos=(x0, y), justify=("left", "top"))
        y -= line
        pen.text(f"{self.name}-sv-tol", fit(f"rank tol {sub.tol:.3g} ({tol}); gray: below it", chars), role="note",
                 size=11, pos=(x0, y), justify=("left", "top"))
        y -= line + pad
        if self.vectors:
            R, C = self.image_shape
            k = len(self.vectors)
            pen.text(f"{self.name}-v-title", fit(f"top {k} signal vectors (rows of Vt) as {R}x{C} images", chars),
                     role="title", size=12, bold=True, pos=(x0, y), justify=("left", "top"))
            y -= line
            h = shares["vectors"] * room - line
            gap = pad
            side = max(0.5, min((x1 - x0 - (k - 1) * gap) / (k * C), h / R))
            for i, mp in enumerate(self.vectors):
                mx = x0 + i * (C * side + gap)
                mp.place_cells(mx, y, side, side)
                pen.text(f"{mp.name}-cap", f"v{i + 1}", role="title", size=11, pos=(mx, y - R * side - pen.px(2)),
                         justify=("left", "top"))
            y -= R * side + line + pad
        if self.inputs:
            pen.text(f"{self.name}-x-title", fit("input x = P x + (x - P x)", chars), role="title", size=12,
                     bold=True, pos=(x0, y), justify=("left", "top"))
            y -= line
            h = shares["inputs"] * room - 2 * line
            caps = ("x", "P x", "x - P x")
            if self.image_shape is not None:
                R, C = self.image_shape
                gap = pad
                side = max(0.5, min((x1 - x0 - 2 * gap) / (3 * C), h / R))
                for i, mp in enumerate(self.inputs):
                    mx = x0 + i * (C * side + gap)
                    mp.place_cells(mx, y, side, side)
                    pen.text(f"{mp.name}-cap", caps[i], role="title", size=11, pos=(mx, y - R * side - pen.px(2)),
                             justify=("left", "top"))
                y -= R * side + line + pen.px(4)
            else:  # three strips (1 x n), one under the other, captions on the left
                capw = 8 * 0.62 * pen.px(11)
                sy = max(2.0, min(h / 3 - pen.px(2), line * 1.2))
                sx = (x1 - x0 - capw) / self.sub.shape[1]
                for i, mp in enumerate(self.inputs):
                    mp.place_cells(x0 + capw, y, sx, sy)
                    pen.text(f"{mp.name}-cap", caps[i], role="title", size=11, pos=(x0, y - sy / 2),
                             justify=("left", "center"))
                    y -= max(sy, line) + pen.px(2)
            y -= pen.px(4)
            e = self.split.energy
            text = f"energy (share of the squared norm of x): P x {e.signal:.3f}, x - P x {e.residual:.3f}"
            pen.text(f"{self.name}-energy", fit(text, chars), role="title", size=12, pos=(x0, y),
                     justify=("left", "top"))
        self.rect = np.array([x0, x1, y0, y1])
        return np.array([x0, W, y0, y1])

    def update(self) -> None:
        """Nothing follows the sweep: the panel shows W's subspaces, which the sweep does not change."""


class SubspaceView(SceneView):
    """A SceneView of the SVD chain with a ``SubspacePanel`` in the reserved right area; its
    subject is the chain's own (W, the last result face)."""

    def __init__(self, plotter, chain, sub, *, image_shape=None, x=None):
        self._panel_args = (sub, image_shape, x)
        super().__init__(plotter, chain)

    def make_panel(self) -> None:
        """The subspace panel instead of the chain's flat result panel (W flat is part of it)."""
        sub, image_shape, x = self._panel_args
        w_face = f"c{len(self.views) - 1}-face-result"
        self.panel = SubspacePanel(self.pen, sub, image_shape=image_shape, x=x, w_face=w_face)
        if self.panel.wmap is not None:
            self.subject = self.panel.wmap.name  # the 3D W face is oblique in a chain: W flat is the subject


def frames(chain, sub, states, size=(1280, 720), *, image_shape=None, x=None, aa=False):
    """Render each state in turn as (H, W, 3) uint8 frames."""
    from matviz.graphics.offscreen import frames as render_frames

    return render_frames(chain, states, tuple(size), aa=aa, make_view=_view_of(chain, sub, image_shape, x))


def audit_still(chain, sub, size=(1280, 720), *, image_shape=None, x=None, state=None):
    """The audit Report of the still (``state``: default the chain's still) with the panel."""
    from matviz.graphics.audit import audit_frames

    report = audit_frames(chain, [state], tuple(size), still=True, make_view=_view_of(chain, sub, image_shape, x))[0]
    report.frame = None
    return report


def _view_of(chain, sub, image_shape, x):
    """plotter -> the SubspaceView of ``chain`` (what ``offscreen.frames`` and the audit draw)."""
    return lambda plotter: SubspaceView(plotter, chain, sub, image_shape=image_shape, x=x)
