"""The pen: one plotter's shared drawing context.

Every text a frame shows (names, tokens, numbers, title, status, formula, notes, legend titles
and ticks) is a ``Text`` drawn by the pen as its own 2D actor, and every legend is a ``Legend``
keyed by the faces it colours, never by its title. So the pen knows, for every frame, exactly
what was asked for, where it is drawn and why anything asked for is not drawn; the layout rules
(reserved bands for title and legends, no overlaps, no labels of hidden cells, a note for every
thinning rule) live here, and the audit measures the result on the real render.

Regions of a frame (heights scale with the frame; sizes are given for 720 rows)::

    +-----------------------------------------------+
    | title / formula                 status, notes |  top band (as tall as its lines)
    |                                               |
    |            the 3D scene (framed to fit)       |
    |                                               |
    | legend  legend  legend  legend                |  legend band (rows of four)
    +-----------------------------------------------+
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import vtk

from matviz.graphics import colors

MIN_TEXT = 11  # no text smaller than this many pixels at 720 rows (the audit's rule)
LEGENDS_PER_ROW = 5
MARGIN = 6  # pixels at 720 rows between a band and its neighbours
EDGE_ON = np.cos(np.radians(75))  # numbers of a face seen more obliquely than this are not drawn


@dataclass
class Text:
    """One text item of a frame.

    ``anchor`` (world) texts are placed by projecting it each frame; the others sit at ``pos``
    (display pixels). ``drawn`` is what the frame shows; ``reason`` says why an asked-for text is
    not drawn: "hidden" (its anchor is behind geometry), "thinned" (a stated rule, see ``rule``)
    or "off" (its owner is not shown in this frame, e.g. numbers of a face not drawn)."""

    name: str
    role: str  # title, status, formula, note, name, token, number, caption, legend-title, legend-tick
    text: str
    size: int  # font size in pixels
    actor: vtk.vtkTextActor
    anchor: np.ndarray | None = None  # (3,) world
    pos: tuple[float, float] = (0.0, 0.0)  # display pixels of the justification point
    group: str | None = None  # texts thinned together (e.g. the tokens along one face side)
    inside: np.ndarray | None = None  # (6,) world box the anchor belongs to (not an occluder of it)
    away: np.ndarray | None = None  # (3,) world point the text extends away from (its face's centre)
    face: str | None = None  # the face a number is written on (it is seen only from that face's front)
    asked: bool = True
    drawn: bool = True
    reason: str = ""
    rule: str = ""

    def box(self, renderer=None) -> np.ndarray:
        """``(x0, x1, y0, y1)`` in display pixels, as VTK lays the text out."""
        bb = [0.0] * 4
        self.actor.GetBoundingBox(renderer, bb)  # offsets of the text from its position
        x, y = self.actor.GetPosition()
        return np.array([x + bb[0], x + bb[1] + 1, y + bb[2], y + bb[3] + 1])


@dataclass
class Legend:
    """One colour scale: the faces it colours (by identity), its bar, title and ticks."""

    key: str
    title: str
    lut: object  # the vtkLookupTable the faces' mappers use
    faces: list[str] = field(default_factory=list)  # face names coloured by it
    shared: bool = False  # several quantities on one range on purpose (the title says so)
    slot: int = 0
    bar: vtk.vtkScalarBarActor | None = None
    texts: list[str] = field(default_factory=list)  # names of its Text items
    above: float | None = None  # the data reach above the range: colours saturate (marked)
    below: float | None = None  # ... and below it
    covers: tuple[float, float] | None = None  # values the range is meant to hold beyond what is shown now
    data: object = None  # callable -> values it colours that are not faces (the interior)
    shown: object = None  # callable -> whether what it colours is in the frame (default: its faces)
    place: tuple[float, float, float] | None = None  # (x0, width, y0) of its slot this frame, None = not shown

    @property
    def range(self) -> tuple[float, float]:
        lo, hi = self.lut.GetRange()
        return float(lo), float(hi)


@dataclass(eq=False, frozen=True)
class FaceEntry:
    """One face the frame shows, as the pen registers it (``Pen.faces``): its actor and the key of
    the legend that colours it, and either a 3D face (``face``, a ``faces.FaceVisual``, seen from
    the side of ``normal``, world) or a flat panel drawn face-on (``panel``: a ``panels.HeatmapPanel``,
    whose ``face`` is the 3D face it mirrors, or a ``panels.FlatMap``)."""

    actor: object
    legend: str | None
    face: object = None
    normal: np.ndarray | None = None
    panel: object = None

    @property
    def flat(self) -> bool:
        """A 2D panel: measured as a rectangle on screen, not through the camera."""
        return self.panel is not None


def _justify(prop, horizontal: str, vertical: str) -> None:
    {"left": prop.SetJustificationToLeft, "center": prop.SetJustificationToCentered, "right": prop.SetJustificationToRight}[
        horizontal
    ]()
    {"bottom": prop.SetVerticalJustificationToBottom, "center": prop.SetVerticalJustificationToCentered, "top": prop.SetVerticalJustificationToTop}[
        vertical
    ]()


def segment_hits(start: np.ndarray, ends: np.ndarray, boxes: np.ndarray, skip: np.ndarray | None = None) -> np.ndarray:
    """Which segments ``start → ends[n]`` pass through any axis-aligned box ``boxes[b]`` before
    their end (slab test). ``skip[n]`` (6,) is a box that segment n belongs to and ignores."""
    if len(boxes) == 0 or len(ends) == 0:
        return np.zeros(len(ends), dtype=bool)
    d = ends - start  # (N, 3)
    lo, hi = boxes[:, 0::2], boxes[:, 1::2]  # (B, 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d[:, None, :]  # (N, 1, 3)
        t0 = (lo[None] - start) * inv
        t1 = (hi[None] - start) * inv
    tmin = np.nanmax(np.minimum(t0, t1), axis=2)  # (N, B) entry
    tmax = np.nanmin(np.maximum(t0, t1), axis=2)  # exit
    # rays parallel to a slab: inside it or never
    par = np.abs(d) < 1e-12  # (N, 3)
    outside = par[:, None, :] & ((start < lo[None] - 1e-9) | (start > hi[None] + 1e-9))
    hit = (tmin <= tmax) & (tmax > 0) & (tmin < 1.0 - 1e-4) & ~outside.any(axis=2)
    if skip is not None:
        own = np.all(np.isclose(boxes[None], skip[:, None, :]), axis=2)  # (N, B)
        hit &= ~own
    # a box that holds the end point is the anchor's own (e.g. the number on a cube)
    inside = np.all((ends[:, None, :] >= lo[None] - 1e-9) & (ends[:, None, :] <= hi[None] + 1e-9), axis=2)
    hit &= ~inside
    return hit.any(axis=1)


class Pen:
    """Texts, legends, occluders and bands of one plotter (shared by every cube drawn in it)."""

    def __init__(self, plotter):
        self.plotter = plotter
        self.renderer = plotter.renderer
        self.width, self.height = (int(v) for v in plotter.window_size)
        self.texts: dict[str, Text] = {}
        self.legends: dict[str, Legend] = {}
        self.occluders: list[tuple[object, np.ndarray]] = []  # (actor, (N, 6) world boxes)
        self.faces: dict[str, FaceEntry] = {}  # face name -> what draws it and the legend that colours it
        self.notes: list[str] = []  # the thinning rules of anchored labels this frame (shown in the frame)
        self.panel_notes: list[str] = []  # ... and of the panels' labels
        self.bottom_band = 0.0  # pixels the legends take at the bottom
        self.reserved: list[np.ndarray] = []  # boxes of 2D panels: no anchored text may enter them
        self.room: np.ndarray | None = None  # (x0, x1, y0, y1) the 3D scene and its labels are framed into

    # ---- sizes ----------------------------------------------------------------------------------
    def px(self, size_at_720: float) -> int:
        """A size given for 720 rows, in pixels at this frame's height (never below the minimum)."""
        return max(int(np.ceil(MIN_TEXT * self.height / 720 - 1e-9)), round(size_at_720 * self.height / 720))

    @property
    def min_text(self) -> float:
        return MIN_TEXT * self.height / 720

    # ---- texts ----------------------------------------------------------------------------------
    def text(
        self,
        name: str,
        text: str,
        *,
        role: str,
        size: float,
        anchor=None,
        pos=(0.0, 0.0),
        justify=("left", "bottom"),
        color=colors.TEXT,
        bold: bool = False,
        font: str = colors.FORMULA_FONT,
        group: str | None = None,
        inside=None,
        away=None,
        face: str | None = None,
    ) -> Text:
        """Draw (or redraw) text item ``name``. ``size`` is given for 720 rows."""
        item = self.texts.get(name)
        if item is None:
            actor = vtk.vtkTextActor()
            self.renderer.AddActor(actor)
            item = Text(name, role, text, self.px(size), actor)
            self.texts[name] = item
        prop = item.actor.GetTextProperty()
        item.role, item.text, item.size, item.group = role, text, self.px(size), group
        item.actor.SetInput(text)
        prop.SetFontSize(item.size)
        prop.SetFontFamilyAsString({"courier": "Courier", "arial": "Arial", "times": "Times"}[font])
        prop.SetBold(bold)
        r, g, b = colors.rgb(color)
        prop.SetColor(r, g, b)
        _justify(prop, *justify)
        if role in ("name", "token", "caption"):  # readable over a face (a dark photograph, say)
            prop.SetBackgroundColor(1.0, 1.0, 1.0)
            prop.SetBackgroundOpacity(0.75)
        item.anchor = None if anchor is None else np.asarray(anchor, dtype=np.float64)
        item.inside = None if inside is None else np.asarray(inside, dtype=np.float64)
        item.away = None if away is None else np.asarray(away, dtype=np.float64)
        item.face = face
        item.pos = tuple(pos)
        item.actor.SetPosition(*item.pos)
        item.asked, item.drawn, item.reason, item.rule = True, True, "", ""
        item.actor.SetVisibility(True)
        return item

    def hide(self, name: str, reason: str = "off", rule: str = "") -> None:
        item = self.texts.get(name)
        if item is not None:
            item.drawn, item.reason, item.rule = False, reason, rule
            item.asked = reason != "off"
            item.actor.SetVisibility(False)

    def remove(self, prefix: str) -> None:
        """Remove every text whose name starts with ``prefix``."""
        for name in [n for n in self.texts if n.startswith(prefix)]:
            self.renderer.RemoveActor(self.texts.pop(name).actor)

    def group(self, prefix: str) -> list[Text]:
        return [t for n, t in self.texts.items() if n.startswith(prefix)]

    # ---- legends --------------------------------------------------------------------------------
    def legend(self, key: str, title: str, lut, faces: list[str], *, shared: bool = False, above: float | None = None,
               below: float | None = None,
               covers=None, data=None, shown=None):
        """One legend for the faces ``faces`` drawn with lookup table ``lut`` (one per quantity)."""
        if key in self.legends:
            leg = self.legends[key]
            leg.faces += [f for f in faces if f not in leg.faces]
            return leg
        leg = Legend(key, title, lut, list(faces), shared, slot=len(self.legends), above=above, below=below, covers=covers, data=data,
                     shown=shown)
        bar = vtk.vtkScalarBarActor()
        bar.SetLookupTable(lut)
        bar.SetOrientationToHorizontal()
        bar.SetTitle("")
        bar.SetDrawTickLabels(False)
        bar.SetNumberOfLabels(0)
        bar.SetBarRatio(1.0)
        bar.SetTextPad(0)
        bar.SetMaximumHeightInPixels(10**6)
        bar.SetMaximumWidthInPixels(10**6)
        bar.GetPositionCoordinate().SetCoordinateSystemToDisplay()
        bar.GetPosition2Coordinate().SetCoordinateSystemToDisplay()
        if above is not None:
            lut.SetUseAboveRangeColor(True)
            lut.SetAboveRangeColor(*lut.GetTableValue(lut.GetNumberOfTableValues() - 1)[:3], 1.0)
            bar.SetDrawAboveRangeSwatch(True)
            bar.SetAboveRangeAnnotation("")
        if below is not None:
            lut.SetUseBelowRangeColor(True)
            lut.SetBelowRangeColor(*lut.GetTableValue(0)[:3], 1.0)
            bar.SetDrawBelowRangeSwatch(True)
            bar.SetBelowRangeAnnotation("")
        bar.SetDrawAnnotations(False)
        self.renderer.AddActor(bar)
        leg.bar = bar
        self.legends[key] = leg
        return leg

    def legend_cell(self, count: int) -> tuple[float, float]:
        """(width, height) in pixels of one legend's slot when ``count`` legends are shown."""
        per_row = min(LEGENDS_PER_ROW, max(1, count))
        return self.width / per_row, 2 * self.px(12) + self.px(11) + 3 * self.px(MARGIN)

    def layout_legends(self, shown: list[Legend]) -> None:
        """Lay the legends ``shown`` out in the bottom band (rows of four, first ones on top):
        title, bar, then the ends of the range under the bar. The others are hidden."""
        for leg in self.legends.values():
            if leg not in shown:
                leg.bar.SetVisibility(False)
                leg.place = None
                for name in leg.texts:
                    self.hide(name, "off")
        rows = int(np.ceil(len(shown) / LEGENDS_PER_ROW)) if shown else 0
        cw, ch = self.legend_cell(len(shown))
        pad = self.px(MARGIN)
        self.bottom_band = rows * ch + (pad if shown else 0)
        for slot, leg in enumerate(shown):
            row, col = divmod(slot, LEGENDS_PER_ROW)
            x0 = col * cw + 2 * pad
            y0 = (rows - 1 - row) * ch + pad
            w = cw - 4 * pad
            bar_h = self.px(12)
            bar_y = y0 + self.px(11) + pad
            title_y = bar_y + bar_h + pad // 2
            leg.bar.SetVisibility(True)
            leg.bar.GetPositionCoordinate().SetValue(x0, bar_y)
            leg.bar.GetPosition2Coordinate().SetValue(w, bar_h)
            width_chars = max(8, int(w / (0.6 * self.px(12))))
            self.text(f"legend-{leg.key}-title", fit(leg.title, width_chars), role="legend-title", size=12,
                      pos=(x0, title_y))
            leg.texts = [f"legend-{leg.key}-title", f"legend-{leg.key}-lo", f"legend-{leg.key}-hi"]
            leg.place = (x0, w, y0)
            self.update_legend(leg)

    def update_legend(self, leg: Legend) -> None:
        """The range's ends under the bar (and the saturation mark); call when the range changes."""
        if leg.place is None or not leg.bar.GetVisibility():
            return
        x0, w, y = leg.place
        lo, hi = leg.range
        hi_text = colors.fmt(hi)
        if leg.above is not None and leg.above > hi:
            hi_text = f"{hi_text}+ (max {colors.fmt(leg.above)})"
        lo_text, hi_text = colors.fmt(lo), colors.fmt(hi)
        below = leg.below is not None and leg.below < lo
        above = leg.above is not None and leg.above > hi
        if below:
            lo_text += f"- (min {colors.fmt(leg.below)})"
        if above:
            hi_text += f"+ (max {colors.fmt(leg.above)})"
        lo_item = self.text(f"legend-{leg.key}-lo", lo_text, role="legend-tick", size=11, pos=(x0, y))
        hi_item = self.text(
            f"legend-{leg.key}-hi", hi_text, role="legend-tick", size=11, pos=(x0 + w, y), justify=("right", "bottom")
        )
        if _overlap(lo_item.box(self.renderer), hi_item.box(self.renderer)):  # no room: the marks alone
            lo_item.actor.SetInput(colors.fmt(lo) + ("-" if below else ""))
            hi_item.actor.SetInput(colors.fmt(hi) + ("+" if above else ""))
            lo_item.text, hi_item.text = lo_item.actor.GetInput(), hi_item.actor.GetInput()

    # ---- geometry others may hide behind -----------------------------------------------------------
    def occluder(self, actor, boxes: np.ndarray) -> None:
        """``actor`` (when visible) hides what lies behind ``boxes`` (N, 6) world."""
        self.occluders.append((actor, np.asarray(boxes, dtype=np.float64).reshape(-1, 6)))

    def visible_boxes(self) -> np.ndarray:
        boxes = [b for a, b in self.occluders if a.GetVisibility()]
        return np.concatenate(boxes) if boxes else np.zeros((0, 6))

    # ---- projection -----------------------------------------------------------------------------
    def to_display(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) to display pixels (N, 2) through the renderer's current camera."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        cam = self.renderer.GetActiveCamera()
        aspect = self.width / self.height
        m = cam.GetCompositeProjectionTransformMatrix(aspect, -1, 1)
        mat = np.array([[m.GetElement(r, c) for c in range(4)] for r in range(4)])
        h = np.c_[pts, np.ones(len(pts))] @ mat.T
        ndc = h[:, :2] / h[:, 3:4]
        return np.c_[(ndc[:, 0] + 1) / 2 * self.width, (ndc[:, 1] + 1) / 2 * self.height]

    # ---- per frame: place anchored texts ---------------------------------------------------------
    def place(self) -> None:
        """Project anchored texts, hide those whose anchor is behind geometry, thin crowded groups
        (saying so in ``notes``) and keep every drawn text clear of the others."""
        self.notes = []
        anchored = [t for t in self.texts.values() if t.anchor is not None and t.asked]
        if not anchored:
            return
        cam = np.array(self.renderer.GetActiveCamera().GetPosition())
        ends = np.array([t.anchor for t in anchored])
        skip = np.array([t.inside if t.inside is not None else np.full(6, np.nan) for t in anchored])
        hidden = segment_hits(cam, ends, self.visible_boxes(), skip)
        for n, t in enumerate(anchored):  # a number is read only on a face seen from its front, not edge-on
            if t.face is not None and t.face in self.faces:
                normal = self.faces[t.face].normal
                to_cam = cam - t.anchor
                cos = float(normal @ to_cam) / (np.linalg.norm(normal) * np.linalg.norm(to_cam))
                hidden[n] = hidden[n] or cos < EDGE_ON
        xy = self.to_display(ends)
        aways = [t for t in anchored if t.away is not None]
        if aways:
            far = self.to_display(np.array([t.away for t in aways]))
            for t, (fx, fy) in zip(aways, far):
                x, y = xy[anchored.index(t)]
                dx, dy = x - fx, y - fy  # the text extends away from its face
                if abs(dx) >= abs(dy):
                    _justify(t.actor.GetTextProperty(), "left" if dx > 0 else "right", "center")
                else:
                    _justify(t.actor.GetTextProperty(), "center", "bottom" if dy > 0 else "top")
        for t, (x, y), h in zip(anchored, xy, hidden):
            t.pos = (float(x), float(y))
            t.actor.SetPosition(*t.pos)
            t.drawn, t.reason, t.rule = not h, "hidden" if h else "", ""
            t.actor.SetVisibility(not h)
        self._thin(anchored)
        self._clear_overlaps(anchored)

    def _thin(self, anchored: list[Text]) -> None:
        """Token groups whose neighbours overlap keep every f-th label; the frame says so."""
        groups: dict[tuple, list[Text]] = {}
        for t in anchored:
            if t.group:
                groups.setdefault((t.name.split("-")[0], t.group), []).append(t)
        for (_, gname), items in groups.items():
            boxes = [t.box(self.renderer) for t in items]
            step = 1
            while step < len(items):
                kept = [b for i, b in enumerate(boxes) if i % step == 0]
                if not any(_overlap(a, b) for a, b in zip(kept, kept[1:])):
                    break
                step += 1
            if step > 1:
                rule = f"{gname} 1 in {step}"
                self.notes.append(rule)
                for i, t in enumerate(items):
                    if i % step and t.drawn:
                        t.drawn, t.reason, t.rule = False, "thinned", rule
                        t.actor.SetVisibility(False)

    def _clear_overlaps(self, anchored: list[Text]) -> None:
        """Anchored texts that still overlap a text placed before them (screen texts and legends
        first, then by role priority) are nudged up or down, or left out with a note."""
        order = {"caption": 0, "name": 1, "token": 2, "number": 3}
        placed = [t.box(self.renderer) for t in self.texts.values() if t.anchor is None and t.drawn]
        placed += list(self.reserved)
        frame = self.room if self.room is not None else np.array([0, self.width, self.bottom_band, self.height])
        for t in sorted((t for t in anchored if t.drawn), key=lambda t: order.get(t.role, 9)):
            box = t.box(self.renderer)
            if not _clashes(box, placed, frame):
                placed.append(box)
                continue
            h = box[3] - box[2]
            x, y = t.pos
            for dy in (h, -h, 2 * h, -2 * h) if t.role in ("name", "caption") else ():
                t.actor.SetPosition(x, y + dy)
                nb = t.box(self.renderer)
                if not _clashes(nb, placed, frame):
                    t.pos = (x, y + dy)
                    placed.append(nb)
                    break
            else:
                t.actor.SetPosition(x, y)
                rule = f"overlapping {t.role}s left out"
                if rule not in self.notes:
                    self.notes.append(rule)
                t.drawn, t.reason, t.rule = False, "thinned", rule
                t.actor.SetVisibility(False)


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3])


def _clashes(box: np.ndarray, placed: list, frame: np.ndarray) -> bool:
    inside = box[0] >= frame[0] and box[1] <= frame[1] and box[2] >= frame[2] and box[3] <= frame[3]
    return not inside or any(_overlap(box, p) for p in placed)


def fit(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters, keeping what tells it apart from its neighbours:
    long keywords are abbreviated first (``temperature=`` → ``T=``), then the middle is elided so
    the start (the function) and the end (e.g. a closing ``.T``) stay."""
    out = name.replace("temperature=", "T=").replace("causal=True", "causal")
    if len(out) <= width:
        return out
    head = (width - 3) // 2
    tail = width - 3 - head
    return out[:head] + "..." + out[len(out) - tail :]


def distinct(names: list[str], width: int) -> list[str]:
    """``fit`` each name, widening until the shortened names are as distinct as the names."""
    w = width
    while True:
        out = [fit(n, w) for n in names]
        if len(set(out)) == len(set(names)) or w > max(map(len, names), default=0):
            return out
        w += 4


class CubePen:
    """One cube's drawing context over the shared ``Pen``: prefixed names and its placement."""

    def __init__(self, pen: Pen, cube, prefix: str = ""):
        self.pen, self.plotter, self.cube = pen, pen.plotter, cube
        self.layout = cube.layout
        self.prefix = prefix
        self.placement = cube.placement
        self.matrix = None if cube.placement.identity else cube.placement.matrix

    def name(self, base: str) -> str:
        return self.prefix + base

    def world(self, points) -> np.ndarray:
        """Local (cube) coordinates to world coordinates."""
        return self.placement.to_world(points)

    def world_direction(self, v) -> np.ndarray:
        m = self.placement.matrix
        return np.asarray(v, dtype=np.float64) @ m[:3, :3].T

    def world_boxes(self, boxes) -> np.ndarray:
        """Local axis-aligned boxes (N, 6) to world boxes: placements only permute and flip axes."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 6)
        lo, hi = self.world(b[:, 0::2]), self.world(b[:, 1::2])
        return np.column_stack([np.minimum(lo, hi), np.maximum(lo, hi)])[:, [0, 3, 1, 4, 2, 5]]

    def world_box(self, box) -> np.ndarray:
        return self.world_boxes(box)[0]

    def place(self, actor):
        """Move an actor built in local coordinates to the cube's place in the world."""
        if self.matrix is not None:
            actor.user_matrix = self.matrix
        return actor

    def add_mesh(self, mesh, **kwargs):
        """``plotter.add_mesh`` placed in the world, without a render."""
        kwargs.setdefault("reset_camera", False)
        kwargs.setdefault("render", False)
        return self.place(self.plotter.add_mesh(mesh, **kwargs))
