"""SceneView: a scene of one or many cubes in one plotter.

It places each cube's view in the world, lays the frame out in bands (title, formula and status
on top; legends at the bottom, one per quantity), frames the camera so the whole scene and its
labels fit between the bands, and asks the pen to place the anchored texts. A scene of one cube
is a chain of one: nothing here branches on how many cubes there are.
"""

from __future__ import annotations

import numpy as np

from matviz import story
from matviz.core.layout import VIEW_ANGLE, camera
from matviz.graphics import colors
from matviz.graphics.cubeview import CubeView, face_title
from matviz.graphics.panels import VCOLS_CAPTION, ComparePanel, HeatmapPanel
from matviz.graphics.pen import MARGIN, Pen, distinct, fit
from matviz.scene import Chain, Cube, ViewState, as_chain

NAME_WIDTH = 30  # characters of a face name before it is shortened (distinctly)


def subject(chain: Chain) -> str | None:
    """The face a scene is about: the probabilities of attention (a cube whose last stage is a
    row-wise softmax feeding the next cube), else the final result face."""
    for c, cube in enumerate(chain.cubes[:-1]):
        if cube.stages and cube.stages[-1].rowwise:
            return f"c{c}-face-stage-{len(cube.stages) - 1}"
    c = len(chain.cubes) - 1
    last = chain.cubes[c]
    if last.stages:
        return f"c{c}-face-stage-{len(last.stages) - 1}"
    return f"c{c}-face-result"


def _panel_face(chain: Chain) -> tuple[int, int] | None:
    """``(cube, level)`` of a face worth a flat panel: a row-wise stage (attention's softmax)
    whose matrix feeds the next cube, so it sits between two cubes in 3D; else, in a chain of
    several cubes, the final result."""
    for c, cube in enumerate(chain.cubes[:-1]):
        if cube.stages and cube.stages[-1].rowwise:
            return c, len(cube.stages)
    if len(chain.cubes) > 1:  # a chain's final result sits at its far end, small and oblique: show it flat
        last = len(chain.cubes) - 1
        return last, len(chain.cubes[last].stages)
    return None


def _names(chain: Chain) -> list[dict[str, str]]:
    """Names shown for every face of every cube, shortened so different matrices stay different."""
    keys, full = [], []
    for c, cube in enumerate(chain.cubes):
        for which, op in (("left", cube.left), ("top", cube.right), ("result", cube.result)):
            keys.append((c, which))
            full.append(op.name)
        for s, stage in enumerate(cube.stages):
            keys.append((c, f"stage-{s}"))
            full.append(stage.label)
    short = distinct(full, NAME_WIDTH)
    out: list[dict[str, str]] = [{} for _ in chain.cubes]
    for (c, which), name in zip(keys, short):
        out[c][which] = name
    return out


class SceneView:
    """Everything drawn for a scene (a Chain, or a single cube) in one plotter."""

    def __init__(self, plotter, scene: Cube | Chain, *, compact: bool = False):
        """``compact``: a tile of a grid: no legends, names or tokens, just the title."""
        self.plotter = plotter
        self.chain = chain = as_chain(scene)
        self.compact = compact
        self.lod = False  # level of detail while a window's camera moves (level_of_detail)
        self.pen = Pen(plotter)
        plotter.set_background(chain.cubes[0].style.background)
        names = _names(chain)
        self.views = [
            CubeView(
                self.pen,
                cube,
                prefix=f"c{c}-",
                hidden=chain.hidden[c],
                names=names[c],
                numbers=None if len(chain.cubes) == 1 else (cube.style.numbers or False),
                decorate=not compact,
            )
            for c, cube in enumerate(chain.cubes)
        ]
        self.subject = subject(chain)
        self.panel = None
        if not compact:
            self.make_panel()
        self.font = self.pen.px
        self.state: ViewState | None = None
        self.apply(chain.initial_state())

    def make_panel(self) -> None:
        """The flat panel beside the 3D scene, if the chain has a face worth one (sets ``panel``
        and, when the panel is what the frame is about, ``subject``). A view with a panel of its
        own (``subspace_panels.SubspaceView``) overrides this."""
        chain = self.chain
        flat = _panel_face(chain)
        vcols = [c for c, cube in enumerate(chain.cubes) if cube.caption == VCOLS_CAPTION]
        if vcols and vcols[0] >= 2:  # softmax over V's columns beside the standard form
            self.panel = ComparePanel(self.pen, self.views[1], self.views[vcols[0] + 1])
            self.subject = "compare-out-vcols"
        elif flat is not None:
            c, _ = flat
            view = self.views[c]
            keys = ["result", *(f"stage-{s}" for s in range(len(view.cube.stages)))]
            titles = [face_title(view.names[k], view.cube.result.shape) for k in keys]
            self.panel = HeatmapPanel(self.pen, view, "panel", titles)
            self.subject = "panel"  # it shares the scale (and so the legend) of the level it shows

    @property
    def volume(self):
        """A volume actor if any cube draws one (anti-aliasing must then stay off)."""
        return next((v.interior.volume for v in self.views if v.interior.volume is not None), None)

    def level_of_detail(self, on: bool) -> None:
        """While a window's camera moves, draw volume interiors coarser (the ray caster casts fewer
        rays, as ParaView does) and in full again when it stops. VTK does the switching: a render
        window's desired update rate is raised by the interactor while the mouse drags and dropped
        when it lets go (``vtkInteractorStyle`` StartState/StopState); the volume mapper adapts only
        when this is on. Cube interiors swap to fewer, merged cubes while moving (``moving``).
        Exported frames never turn it on."""
        self.lod = bool(on)
        for v in self.views:
            if v.interior.volume is not None:
                v.interior.volume.mapper.SetInteractiveAdjustSampleDistances(self.lod)
        if not self.lod:
            self.moving(False)

    def moving(self, on: bool) -> None:
        """The camera is moving (``on``) or has stopped: cube interiors draw their moving or their
        exact cubes. Only with ``level_of_detail`` on."""
        for v in self.views:
            v.interior.set_moving(bool(on) and self.lod)

    def active_views(self, state: ViewState | None = None) -> list[CubeView]:
        return [self.views[c] for c in story.active_cubes(self.chain, state or self.state)]

    def sub_state(self, c: int, state: ViewState) -> ViewState:
        return story.cube_state(self.chain, c, state)

    # ---- one frame --------------------------------------------------------------------------------
    def apply(self, state: ViewState) -> None:
        """Show ``state``: each cube its part of the story, the bands' texts, the camera framed
        to fit, then the anchored texts placed."""
        self.state = state
        for c, view in enumerate(self.views):
            view.apply(self.sub_state(c, state))
        self.pen.layout_legends([leg for leg in self.pen.legends.values() if self._legend_shown(leg)])
        top = self._top_band(state)
        self.pen.reserved = []
        right = self.pen.width
        if self.panel is not None:
            box = self.panel.reserve(self.pen.height - top, self.pen.bottom_band)
            self.panel.update()
            self.pen.reserved = [box]
            right = box[0]
        self._notes_line(right, bool(self.pen.panel_notes))
        self._frame(state, top, right)
        if self.pen.notes and "notes" not in self.pen.texts:  # rules to state: keep room for them, frame again
            self._notes_line(right, True)
            self._frame(state, top, right)

    def _notes_line(self, right: float, needed: bool) -> None:
        """Two lines (three when many token rows may be thinned) kept at the bottom of the 3D room,
        above the legends, for the thinning rules (see ``_notes``), when there are rules to state."""
        pen = self.pen
        self.notes_width = right - 3 * pen.px(MARGIN)
        self.room_bottom = pen.bottom_band
        if self.compact or not needed:
            pen.remove("notes")
            return
        groups = {t.group for t in pen.texts.values() if t.group and t.anchor is not None}
        blank = " \n " if len(groups) < 4 else " \n \n "
        item = pen.text("notes", blank, role="note", size=11, pos=(pen.px(MARGIN), pen.bottom_band + pen.px(MARGIN)),
                        justify=("left", "bottom"))
        self.room_bottom = item.box(pen.renderer)[3]

    def _legend_shown(self, leg) -> bool:
        """A legend is shown while a face it colours is shown (stage legends come and go)."""
        if leg.shown is not None:
            return bool(leg.shown())
        mine = [self.pen.faces[f].actor for f in leg.faces if f in self.pen.faces]
        return not mine or any(a.GetVisibility() for a in mine)

    def _top_band(self, state: ViewState) -> float:
        """Title and formula (left), status (right), the notes line under them; returns the band's
        height in pixels."""
        pen, W, H = self.pen, self.pen.width, self.pen.height
        pad = pen.px(MARGIN)
        view = self.active_views(state)[0]
        if self.compact:
            status = ""
        elif len(self.views) == 1:
            status = view.status()
        else:
            step = story.active_step(self.chain, state)
            status = f"step {step + 1}/{self.chain.n_steps}: {fit(view.cube.title, 28)}\n{view.status()}"
        if status:
            st = pen.text("status", status, role="status", size=12, pos=(W - pad, H - pad), justify=("right", "top"))
            status_w = st.box(pen.renderer)[1] - st.box(pen.renderer)[0]
        else:
            pen.remove("status")
            status_w = 0
        right = pen.texts["status"].box(pen.renderer)[2] if status else H - pad
        chars = max(10, int((W - status_w - 4 * pad) / (0.6 * pen.px(13))))
        title = pen.text(
            "title", fit(self.chain.title, chars), role="title", size=13, pos=(pad, H - pad), justify=("left", "top")
        )
        left = title.box(pen.renderer)[2]
        hl = next((v.highlight.formula for v in self.views if v.highlight.formula), None)
        if hl and not self.compact:
            chars = max(10, int((W - status_w - 4 * pad) / (0.6 * pen.px(12))))
            text = "\n".join(fit(line, chars) for line in hl.split("\n"))
            f = pen.text("formula", text, role="formula", size=12, pos=(pad, left - pad), justify=("left", "top"),
                         color=colors.HIGHLIGHT)
            left = f.box(pen.renderer)[2]
        else:
            pen.remove("formula")
        bottom = min(left, right)
        return H - bottom + pad

    def _frame(self, state: ViewState, top: float, right: float) -> None:
        """Point the camera along the state's azimuth/elevation and fit the scene's boxes and its
        anchored texts into the area between the bands (``state.zoom`` > 1 zooms in past it)."""
        pen, ren = self.pen, self.pen.renderer
        H = pen.height
        pad = pen.px(MARGIN)
        rect = np.array([pad, right - pad, self.room_bottom + pad, H - top])
        pen.room = rect
        box = self.chain.box
        pos, focal, up = camera(box, state.azimuth, state.elevation, 1.0)
        cam = ren.GetActiveCamera()
        self.plotter.camera_set = True  # ours: pyvista must not reset it on the first render
        cam.SetViewAngle(VIEW_ANGLE)
        cam.SetViewUp(*up)
        direction = (pos - focal) / np.linalg.norm(pos - focal)
        corners = np.array([[x, y, z] for b in (c.bounds for c in self.chain.cubes)
                            for x in b[0:2] for y in b[2:4] for z in b[4:6]])
        anchors = [t.anchor for t in pen.texts.values() if t.anchor is not None and t.asked and t.role != "number"]
        points = np.vstack([corners, *anchors]) if anchors else corners
        distance = float(np.linalg.norm(pos - focal))
        target = rect.copy()
        for _ in range(3):  # fit the geometry, then shrink the target by what the texts overhang
            focal, distance = _fit(cam, points, focal, direction, distance, target, pen)
            cam.SetFocalPoint(*focal)
            cam.SetPosition(*(focal + distance * direction))
            ren.ResetCameraClippingRange()
            pen.place()
            boxes = [t.box(ren) for t in pen.texts.values() if t.anchor is not None and t.drawn]
            if not boxes:
                break
            bb = np.array(boxes)
            over = np.array([rect[0] - bb[:, 0].min(), bb[:, 1].max() - rect[1], rect[2] - bb[:, 2].min(),
                             bb[:, 3].max() - rect[3]])
            if (over <= 0).all():
                break
            grow = np.maximum(over, 0) + 2
            target = target + np.array([grow[0], -grow[1], grow[2], -grow[3]])
            if target[1] - target[0] < 0.3 * (rect[1] - rect[0]) or target[3] - target[2] < 0.3 * (rect[3] - rect[2]):
                break
        if state.zoom != 1.0:
            cam.SetPosition(*(focal + distance / state.zoom * direction))
            ren.ResetCameraClippingRange()
            pen.place()
        self._notes()

    def _notes(self) -> None:
        """The thinning rules in force, written in the frame (so nothing is dropped silently), in
        the lines kept for them above the legends."""
        import textwrap

        pen = self.pen
        if "notes" not in pen.texts:
            return
        rules = list(dict.fromkeys(pen.notes + pen.panel_notes))  # the same rule on two cubes is said once
        if not rules:
            pen.hide("notes", "off")
            return
        chars = max(10, int(self.notes_width / (0.63 * pen.px(11))))
        lines = textwrap.wrap("labels thinned: " + "; ".join(rules), chars)
        item = pen.texts["notes"]
        item.text = "\n".join(lines if len(lines) >= 2 else [*lines, " "])
        self.notes_lines = len(lines)
        item.actor.SetInput(item.text)
        item.actor.SetVisibility(True)
        item.drawn = True

    # ---- picking ----------------------------------------------------------------------------------
    def cell_at(self, x: float, y: float) -> tuple[int, tuple[int, int]] | None:
        """``(cube, (i, j))``: the result cell under display pixel ``(x, y)``, on any cube's
        visible result or stage face (or on the flat panel), or None. ``(i, j)`` indexes the result
        matrix: on a face drawn in blocks, the first row and column of the block hit."""
        import vtk

        if self.panel is not None and self.panel.rect is not None:
            x0, x1, y0, y1 = self.panel.rect
            if x0 <= x < x1 and y0 <= y < y1:
                side = self.panel.side
                r, col = int((y1 - y) // side), int((x - x0) // side)
                er, ec = self.panel.levels[0].edges
                r, col = min(r, len(er) - 2), min(col, len(ec) - 2)
                return self.views.index(self.panel.view), (int(er[r]), int(ec[col]))
        picker = vtk.vtkCellPicker()
        picker.SetTolerance(0.0005)
        picker.PickFromListOn()
        owners = {}
        for c, view in enumerate(self.views):
            for fv in [view.faces.get("result"), *view.stage_faces]:
                if fv is not None and fv.visible:
                    picker.AddPickList(fv.actor)
                    owners[fv.actor.GetAddressAsString("vtkActor")] = (c, fv)
        if not owners or not picker.Pick(x, y, 0, self.pen.renderer) or picker.GetCellId() < 0:
            return None
        hit = owners.get(picker.GetActor().GetAddressAsString("vtkActor"))  # VTK hands back a new wrapper
        if hit is None:
            return None
        c, fv = hit
        er, ec = fv.edges
        if fv.textured:  # one quad per drawn rectangle: the cell is where on the face the ray hit
            cell = fv.cell_of(picker.GetPickPosition())
            if cell is None:
                return None
            r, col = cell
        else:
            rows = len(er) - 1
            cid = picker.GetCellId()
            r, col = cid % rows, cid // rows  # cell data is in VTK (first index fastest) order
        return c, (int(er[r]), int(ec[col]))

    def display_point(self, i: float, j: float, cube: int = -1) -> tuple[int, int]:
        """Display pixel of the centre of result cell ``(i, j)`` of ``cube`` (default: the last),
        through the current camera."""
        import vtk

        view = self.views[cube]
        coord = vtk.vtkCoordinate()
        coord.SetCoordinateSystemToWorld()
        coord.SetValue(*view.cp.world(view.layout.result.point(i + 0.5, j + 0.5)))
        x, y = coord.GetComputedDisplayValue(self.pen.renderer)
        return int(x), int(y)

    def follow_camera(self) -> None:
        """Place the anchored texts (names, tokens, numbers) again for the camera as it is now,
        when someone other than ``apply`` moved it (a window's mouse); the bands stay as they are."""
        self.pen.place()
        self._notes()

    # ---- a token picked (the window) ------------------------------------------------------------------
    TOKEN_ACTOR = "token-highlight"

    def highlight_token(self, axis: str | None, index: int | None = None) -> np.ndarray | None:
        """Outline the probabilities of one token in both views: its query row (``axis="rows"``)
        or key column (``"columns"``) on the flat panel (its label drawn bold in orange) and on
        the 3D probability face (the first cube's result face, shared with the second cube).
        ``None`` clears it. Panels are laid out again each frame: call this after ``apply``.
        Returns the world corners (8, 3) of the 3D outline, or None."""
        self.token = None if axis is None or index is None else (axis, int(index))
        self.plotter.remove_actor(self.TOKEN_ACTOR, render=False)
        if isinstance(self.panel, HeatmapPanel):
            self.panel.highlight_token(*(self.token or (None, None)))
        flat = _panel_face(self.chain)
        if self.token is None or flat is None:
            return None
        import pyvista as pv

        view = self.views[flat[0]]
        face = view.layout.result
        m, n = face.shape
        a, i = self.token
        if not 0 <= i < (m if a == "rows" else n):
            raise IndexError(f"token {i} is out of range: the probabilities are {m}x{n}")
        if a == "rows":
            quad = [face.point(i, 0), face.point(i + 1, 0), face.point(i + 1, n), face.point(i, n)]
        else:
            quad = [face.point(0, i), face.point(m, i), face.point(m, i + 1), face.point(0, i + 1)]
        eps = 0.02 * view.layout.gap * face.normal  # just off the face, on both sides (both cubes see it)
        local = np.array([p + s * eps for s in (1, -1) for p in quad])
        corners = view.cp.world(local)
        lines = np.array([[2, s + q, s + (q + 1) % 4] for s in (0, 4) for q in range(4)]).ravel()
        poly = pv.PolyData(corners, lines=lines)
        self.plotter.add_mesh(poly, color=colors.HIGHLIGHT, line_width=4, lighting=False, name=self.TOKEN_ACTOR,
                              reset_camera=False, render=False, pickable=False)
        return corners


def _fit(cam, points, focal, direction, distance, rect, pen) -> tuple[np.ndarray, float]:
    """Distance and focal point at which ``points`` project into ``rect`` (x0, x1, y0, y1 pixels)."""
    right = np.cross(np.array(cam.GetViewUp()), direction)
    right /= np.linalg.norm(right)
    up = np.cross(direction, right)
    rw, rh = rect[1] - rect[0], rect[3] - rect[2]
    for _ in range(6):
        cam.SetFocalPoint(*focal)
        cam.SetPosition(*(focal + distance * direction))
        xy = pen.to_display(points)
        w, h = np.ptp(xy[:, 0]), np.ptp(xy[:, 1])
        scale = max(w / rw, h / rh)
        cx, cy = (xy[:, 0].min() + xy[:, 0].max()) / 2, (xy[:, 1].min() + xy[:, 1].max()) / 2
        per_px = 2 * distance * np.tan(np.radians(VIEW_ANGLE / 2)) / pen.height  # world units per pixel
        focal = focal + (cx - (rect[0] + rect[1]) / 2) * per_px * right + (cy - (rect[2] + rect[3]) / 2) * per_px * up
        distance *= scale if np.isfinite(scale) and scale > 0 else 1.0
    return focal, distance
