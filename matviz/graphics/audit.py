"""The frame audit: what a viewer actually sees in one rendered frame, and the rules it breaks.

Everything is measured on the real render of the real view: text boxes as VTK lays them out,
world points through the renderer's camera, and one *id pass* per frame (every actor drawn in a
flat colour of its own, no lighting, with its depth buffer) for what is in front of what. Nothing
is taken from a second model of the layout.

Rules (``RULES``; the limits are the issue's), each one function listed in ``CHECKS``, which
``measure`` walks after measuring the frame once:

* ``overlap``: two drawn text boxes overlap;
* ``outside``: a drawn text leaves the frame;
* ``hidden-anchor``: a drawn label whose anchor is hidden behind geometry;
* ``not-drawn``: a label asked for but not drawn, unless its anchor is really hidden or a thinning
  rule that the frame states left it out;
* ``text-size``: text smaller than 11 px at 720 rows (scaled with the frame's height);
* ``color-range``: a face coloured on a range that is not its own data range (the range must hold
  its data and reach no further than its data, 0, and, for signed data, the mirror of its largest
  magnitude), unless its legend names the range as shared on purpose;
* ``shared-legend``: one legend for faces of different matrices, not named as shared;
* ``clipped``: data beyond the colour range without a mark on the legend;
* ``subject``: in the default still, the scene's subject face less than 90 % visible, less than
  6 % of the frame, or more than 60° from face-on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from matviz.graphics.pen import EDGE_ON, FaceEntry

RULES = ("overlap", "outside", "hidden-anchor", "not-drawn", "text-size", "color-range", "shared-legend", "clipped",
         "subject")
SUBJECT_VISIBLE, SUBJECT_AREA, SUBJECT_ANGLE = 0.90, 0.06, 60.0


@dataclass
class Violation:
    rule: str  # one of RULES
    message: str  # one line naming what is wrong, e.g. "text 'A (2x3)' overlaps 'i (m=2)'"


@dataclass
class Report:
    """One frame: faces, texts, legends as seen, and the rules it breaks."""

    size: tuple[int, int]
    frame: int | None = None  # index of the sampled frame (None: a still)
    faces: list[dict] = field(default_factory=list)  # name, data_range, color_range, visible, area, angle
    texts: list[dict] = field(default_factory=list)
    legends: list[dict] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict:
        return asdict(self)


# ---- the id pass ------------------------------------------------------------------------------------


def _buffers(plotter) -> tuple[np.ndarray, np.ndarray]:
    """RGB (H, W, 3) uint8 and view depth (H, W; distance along the view direction, inf where
    nothing is drawn) of what the render window holds, rows from the top."""
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy

    win = plotter.render_window
    out = []
    for kind in ("rgb", "z"):
        f = vtk.vtkWindowToImageFilter()
        f.SetInput(win)
        f.ReadFrontBufferOff()
        if kind == "z":
            f.SetInputBufferTypeToZBuffer()
        else:
            f.SetInputBufferTypeToRGB()
        f.Update()
        img = f.GetOutput()
        w, h, _ = img.GetDimensions()
        arr = vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)[::-1]
        out.append(arr)
    rgb, z = out[0][..., :3].astype(np.uint8), out[1][..., 0].astype(np.float64)
    near, far = plotter.renderer.GetActiveCamera().GetClippingRange()
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = -2 * near * far / ((z - 0.5) * 2 * (far - near) - near - far)
    depth[z >= 1.0] = np.inf
    return rgb, depth


def id_pass(plotter, faces: dict[str, FaceEntry]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Render every 3D actor in a flat colour of its own (texts, legends, outlines and volumes
    off) and return ``(ids, depth, face_ids)``: the actor index per pixel (0 = background), the
    view depth per pixel, and the index of each face."""
    import vtk

    ren = plotter.renderer
    props = ren.GetViewProps()
    props.InitTraversal()
    saved, index, face_ids = [], {}, {}
    by_address = {f.actor.GetAddressAsString("vtkActor"): name for name, f in faces.items()}
    for n in range(props.GetNumberOfItems()):
        prop = props.GetNextProp()
        vis = prop.GetVisibility()
        if isinstance(prop, vtk.vtkActor) and not isinstance(prop, vtk.vtkActor2D):
            mapper, p = prop.GetMapper(), prop.GetProperty()
            data = mapper.GetInput() if mapper is not None else None
            is_line = isinstance(data, vtk.vtkPolyData) and data.GetNumberOfPolys() == 0 and data.GetNumberOfLines() > 0
            saved.append((prop, vis, mapper.GetScalarVisibility(), p.GetColor(), p.GetLighting(), p.GetOpacity(),
                          p.GetEdgeVisibility(), prop.GetTexture()))
            if is_line:
                prop.SetVisibility(False)
                continue
            i = len(index) + 1
            index[i] = prop
            name = by_address.get(prop.GetAddressAsString("vtkActor"))
            if name is not None:
                face_ids[name] = i
            mapper.ScalarVisibilityOff()
            p.SetColor(((i >> 16) & 255) / 255, ((i >> 8) & 255) / 255, (i & 255) / 255)
            p.LightingOff()
            p.SetOpacity(1.0)
            p.EdgeVisibilityOff()
            prop.SetTexture(None)  # a textured face (faces.py) in its flat id colour too
        else:
            saved.append((prop, vis))
            prop.SetVisibility(False)
    background = ren.GetBackground()
    ren.SetBackground(0, 0, 0)
    try:
        plotter.render_window.Render()
        rgb, depth = _buffers(plotter)
    finally:
        ren.SetBackground(*background)
        for entry in saved:
            prop, vis = entry[0], entry[1]
            prop.SetVisibility(vis)
            if len(entry) > 2:
                _, _, scal, color, light, opacity, edges, texture = entry
                prop.GetMapper().SetScalarVisibility(scal)
                p = prop.GetProperty()
                p.SetColor(*color)
                p.SetLighting(light)
                p.SetOpacity(opacity)
                p.SetEdgeVisibility(edges)
                prop.SetTexture(texture)
    ids = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    return ids, depth, face_ids


# ---- measuring ----------------------------------------------------------------------------------------


def _polygon_mask(xy: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    from skimage.draw import polygon

    w, h = size
    mask = np.zeros((h, w), dtype=bool)
    rr, cc = polygon(h - 1 - xy[:, 1], xy[:, 0], shape=(h, w))
    mask[rr, cc] = True
    return mask


def _view_depth(ren, points: np.ndarray) -> np.ndarray:
    cam = ren.GetActiveCamera()
    pos, focal = np.array(cam.GetPosition()), np.array(cam.GetFocalPoint())
    d = (focal - pos) / np.linalg.norm(focal - pos)
    return (np.asarray(points) - pos) @ d


def _drawn_cells(fv) -> tuple[np.ndarray, list[int], list[int]]:
    """Values of the cells a face draws, and the row/column edges of the drawn rectangle."""
    values = np.asarray(fv.values, dtype=np.float64)
    er, ec = fv.edges
    if fv.keep is None:
        return values, [0, len(er) - 1], [0, len(ec) - 1]
    rows, cols = np.nonzero(fv.keep)
    if rows.size == 0:
        return values[:0], [0, 0], [0, 0]
    return values[fv.keep], [rows.min(), rows.max() + 1], [cols.min(), cols.max() + 1]


def _flat_report(view, name: str, entry: FaceEntry, size, text_boxes) -> dict:
    """A 2D panel: its rectangle on screen, face-on by construction; hidden only where text lies on it."""
    panel = entry.panel
    x0, x1, y0, y1 = panel.rect
    w, h = size
    mask = np.zeros((h, w), dtype=bool)
    mask[int(max(0, h - y1)) : int(min(h, h - y0)), int(max(0, x0)) : int(min(w, x1))] = True
    covered = np.zeros_like(mask)
    for b in text_boxes:
        covered[int(max(0, h - b[3])) : int(min(h, h - b[2])), int(max(0, b[0])) : int(min(w, b[1]))] = True
    values = np.asarray(panel.values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    lo, hi = panel.lut.GetRange()
    footprint = int(mask.sum())
    return dict(
        name=name, matrix=panel.matrix, kind=panel.kind, flat=True,
        data_range=[float(finite.min()), float(finite.max())] if finite.size else None,
        color_range=[float(lo), float(hi)],
        visible=float((mask & ~covered).sum() / footprint) if footprint else 0.0,
        area=footprint / (w * h), angle=0.0, legend=panel.legend,
    )


def _face_report(view, name: str, entry: FaceEntry, ids, face_ids, size, cam_pos, panels) -> dict:
    fv = entry.face
    _, rr, cc = _drawn_cells(fv)
    whole = np.asarray(fv.values, dtype=np.float64)
    finite = whole[np.isfinite(whole)]  # its own data: the whole matrix, also while rows are being revealed
    er, ec = fv.edges
    corners = fv.face.corners([er[rr[0]], er[rr[1]]], [ec[cc[0]], ec[cc[1]]]).reshape(4, 3)[[0, 1, 3, 2]]
    world = fv.cp.world(corners)
    xy = view.pen.to_display(world)
    mask = _polygon_mask(xy, size)
    footprint = int(mask.sum())
    seen = int((mask & (ids == face_ids.get(name, -1)) & ~panels).sum())  # a 2D panel covers what is under it
    centre = world.mean(axis=0)
    to_cam = cam_pos - centre
    normal = entry.normal  # the side of the face its numbers and its cube's camera look at
    cos = float(normal @ to_cam) / (np.linalg.norm(normal) * np.linalg.norm(to_cam))
    return dict(
        name=name,
        matrix=fv.op.name,
        data_range=[float(finite.min()), float(finite.max())] if finite.size else None,
        color_range=list(fv.clim),
        kind=fv.kind,
        visible=seen / footprint if footprint else 0.0,
        area=footprint / (size[0] * size[1]),
        angle=float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))),  # > 90: seen from behind
        legend=entry.legend,
    )


def _anchor_point(t, cam_pos) -> np.ndarray:
    """The point of a label that must be in sight: its anchor, or for a label written on a box
    (a product on its cube) the box's surface point towards the camera."""
    if t.inside is None:
        return t.anchor
    b = t.inside
    d = cam_pos - t.anchor
    lo, hi = b[0::2], b[1::2]
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(d > 0, (hi - t.anchor) / d, np.where(d < 0, (lo - t.anchor) / d, np.inf))
    return t.anchor + min(float(np.min(steps)), 1.0) * 1.0001 * d


def _anchor_sight(view, points: np.ndarray, depth: np.ndarray, size) -> tuple[np.ndarray, np.ndarray]:
    """``(hidden, in_sight)`` per world point: behind the nearest drawn geometry at every pixel of
    its 3×3 neighbourhood, or in front of it at every one (a point on an edge is neither)."""
    n = len(points)
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    w, h = size
    ren = view.pen.renderer
    xy = view.pen.to_display(points)
    mine = _view_depth(ren, points)
    cam = ren.GetActiveCamera()
    tol = 0.004 * np.linalg.norm(np.array(cam.GetPosition()) - np.array(cam.GetFocalPoint()))
    hidden, sight = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    for i, (x, y) in enumerate(xy):
        col, row = int(round(x)), int(round(h - 1 - y))
        if not (0 <= col < w and 0 <= row < h):
            sight[i] = False
            continue
        patch = depth[max(0, row - 1) : row + 2, max(0, col - 1) : col + 2]
        hidden[i] = float(patch.max()) < mine[i] - tol
        sight[i] = float(patch.min()) >= mine[i] - tol
    return hidden, sight


def _patch(image: np.ndarray, xy, size) -> np.ndarray:
    """The 3×3 pixels of ``image`` around display point ``xy``."""
    w, h = size
    col, row = int(round(xy[0])), int(round(h - 1 - xy[1]))
    if not (0 <= col < w and 0 <= row < h):
        return image[:0, :0]
    return image[max(0, row - 1) : row + 2, max(0, col - 1) : col + 2]


def _own_hull(data_range, kind: str) -> tuple[float, float]:
    lo, hi = min(data_range[0], 0.0), max(data_range[1], 0.0)
    if kind == "signed":
        r = max(abs(lo), abs(hi))
        lo, hi = -r, r
    if data_range[0] == data_range[1]:  # a constant face (e.g. all sums still 0): a unit range about it
        lo, hi = min(lo, data_range[0] - 1.0), max(hi, data_range[1] + 1.0)
    return lo, hi


# ---- one frame, measured once -------------------------------------------------------------------------


@dataclass
class Seen:
    """One rendered frame as the rules see it: the report's faces by name, every text's box and
    whether its anchor is hidden or in sight, the notes line as drawn, and each legend's reach."""

    view: object
    size: tuple[int, int]
    still: bool
    faces: dict[str, dict]  # the report's face records by name
    boxes: dict[str, np.ndarray]  # drawn, non-empty texts: box (x0, x1, y0, y1) by name
    hidden: dict[str, bool]  # anchored texts: anchor behind geometry (or its face seen from behind)
    in_sight: dict[str, bool]  # ... anchor plainly in sight
    notes: str  # the notes line as drawn: the thinning rules the frame states
    reach: dict[str, dict]  # legend key -> its range and the data it colours (``_legend_reach``)

    @property
    def pen(self):
        return self.view.pen


def _panel_mask(pen, size) -> np.ndarray:
    """Pixels (rows from the top) under the 2D panels' reserved boxes."""
    W, H = size
    panels = np.zeros((H, W), dtype=bool)
    for b in pen.reserved:
        panels[int(max(0, H - b[3])) : int(min(H, H - b[2])), int(max(0, b[0])) : int(min(W, b[1]))] = True
    return panels


def _measure_faces(view, size, ids, face_ids, cam_pos) -> list[dict]:
    """A record of every face shown: flat panels as rectangles, 3D faces through the camera."""
    pen = view.pen
    panels = _panel_mask(pen, size)
    drawn_boxes = [t.box(pen.renderer) for t in pen.texts.values() if t.drawn and t.text.strip()]
    out = []
    for name, entry in pen.faces.items():
        if entry.flat:
            out.append(_flat_report(view, name, entry, size, drawn_boxes))
        elif entry.actor.GetVisibility():
            out.append(_face_report(view, name, entry, ids, face_ids, size, cam_pos, panels))
    return out


def _measure_anchors(view, size, ids, depth, face_ids, cam_pos) -> tuple[dict[str, bool], dict[str, bool]]:
    """``(hidden, in_sight)`` of every anchored text drawn or hidden: its anchor against the depth
    buffer, and a number on a face only on its face, from its front, not edge-on."""
    pen = view.pen
    anchored = [t for t in pen.texts.values() if t.anchor is not None and (t.drawn or t.reason == "hidden")]
    points = np.array([_anchor_point(t, cam_pos) for t in anchored]).reshape(-1, 3)
    hid, sight = _anchor_sight(view, points, depth, size)
    for n, t in enumerate(anchored):
        if t.face is None or t.face not in pen.faces:
            continue
        own = face_ids.get(t.face, -1)
        normal, to_cam = pen.faces[t.face].normal, cam_pos - t.anchor
        cos = float(normal @ to_cam) / (np.linalg.norm(normal) * np.linalg.norm(to_cam))
        front = cos > 0
        sight[n] = sight[n] and cos >= EDGE_ON  # a number needs its face seen, not edge-on (pen.EDGE_ON)
        patch = _patch(ids, pen.to_display(t.anchor[None])[0], size)
        hid[n] = hid[n] or not front or (patch.size > 0 and not (patch == own).any())
        sight[n] = sight[n] and front and patch.size > 0 and bool((patch == own).all())
    names = [t.name for t in anchored]
    return dict(zip(names, (bool(h) for h in hid))), dict(zip(names, (bool(s) for s in sight)))


def _legend_reach(leg, faces: dict[str, dict]) -> dict:
    """A legend's range, the data it colours (its faces' and its own), how far the data run past
    the range and whether the legend marks it."""
    coloured = [faces[f] for f in leg.faces if f in faces]
    data = [f["data_range"] for f in coloured if f["data_range"]]
    if leg.data is not None:
        values = np.asarray(leg.data(), dtype=np.float64)
        data.append([float(values.min()), float(values.max())])
    lo, hi = leg.range
    dlo = min((d[0] for d in data), default=lo)
    dhi = max((d[1] for d in data), default=hi)
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))
    return dict(
        shown=bool(leg.bar.GetVisibility()), coloured=coloured, has_data=bool(data), lo=lo, hi=hi, dlo=dlo, dhi=dhi,
        above=dhi > hi + eps, below=dlo < lo - eps,
        marked_above=bool(leg.above is not None and leg.bar.GetDrawAboveRangeSwatch()),
        marked_below=bool(leg.below is not None and leg.bar.GetDrawBelowRangeSwatch()),
    )


def _legend_record(leg, r: dict) -> dict:
    above, below = r["above"], r["below"]
    marked = (r["marked_above"] or not above) and (r["marked_below"] or not below) and (above or below)
    return dict(key=leg.key, title=leg.title, faces=list(leg.faces), shown=r["shown"], range=[r["lo"], r["hi"]],
                data_range=[r["dlo"], r["dhi"]] if r["has_data"] else None, clipped=bool(above or below),
                marked=marked, shared=leg.shared)


def _text_record(t, pen, hidden: dict[str, bool]) -> dict:
    return dict(name=t.name, role=t.role, text=t.text, box=[float(v) for v in t.box(pen.renderer)], height=t.size,
                drawn=t.drawn, reason=t.reason, anchor_hidden=bool(hidden.get(t.name, False)))


def _drawn_texts(seen: Seen):
    """The drawn, non-empty texts with their boxes, in the pen's order."""
    return [(seen.pen.texts[name], box) for name, box in seen.boxes.items()]


# ---- the rules: one function each, listed in CHECKS -------------------------------------------------------


def _overlap(seen: Seen) -> list[Violation]:
    """Two drawn text boxes overlap."""
    drawn, out = _drawn_texts(seen), []
    for a in range(len(drawn)):
        for b in range(a + 1, len(drawn)):
            (ta, ba), (tb, bb) = drawn[a], drawn[b]
            if ba[0] < bb[1] and bb[0] < ba[1] and ba[2] < bb[3] and bb[2] < ba[3]:
                out.append(Violation("overlap", f"{ta.role} {ta.text!r} overlaps {tb.role} {tb.text!r}"))
    return out


def _outside(seen: Seen) -> list[Violation]:
    """A drawn text leaves the frame."""
    W, H = seen.size
    return [Violation("outside", f"{t.role} {t.text!r} leaves the frame (box {_box(box)})")
            for t, box in _drawn_texts(seen) if box[0] < 0 or box[1] > W or box[2] < 0 or box[3] > H]


def _hidden_anchor(seen: Seen) -> list[Violation]:
    """A drawn label whose anchor is hidden behind geometry."""
    return [Violation("hidden-anchor", f"{t.role} {t.text!r} is drawn but its anchor is hidden")
            for t, _ in _drawn_texts(seen) if seen.hidden.get(t.name, False)]


def _not_drawn(seen: Seen) -> list[Violation]:
    """A label asked for but not drawn, unless its anchor is really hidden or a thinning rule the
    frame states left it out."""
    out = []
    for t in seen.pen.texts.values():
        if not t.asked or t.drawn:
            continue
        if t.reason == "hidden" and seen.in_sight.get(t.name, False):
            out.append(Violation("not-drawn", f"{t.role} {t.text!r} is not drawn but its anchor is in sight"))
        elif t.reason == "thinned" and (not t.rule or " ".join(t.rule.split()) not in seen.notes):
            out.append(Violation("not-drawn", f"{t.role} {t.text!r} is left out and the frame does not say so"))
        elif t.reason not in ("hidden", "thinned"):
            out.append(Violation("not-drawn", f"{t.role} {t.text!r} was asked for but is not drawn"))
    return out


def _text_size(seen: Seen) -> list[Violation]:
    """Text smaller than 11 px at 720 rows."""
    pen = seen.pen
    return [Violation("text-size", f"{t.role} {t.text!r} is {t.size} px high, below {pen.min_text:g}")
            for t, _ in _drawn_texts(seen) if t.size < pen.min_text - 1e-6]


def _color_range(seen: Seen) -> list[Violation]:
    """A face coloured on a range that is not its own data range (or its legend's, shared on
    purpose), or a face of a decorated scene without a legend."""
    pen, out = seen.pen, []
    for f in seen.faces.values():
        if not f["data_range"]:
            continue
        leg = pen.legends.get(f["legend"])
        lo, hi = f["color_range"]
        dlo, dhi = f["data_range"]
        if leg is not None and leg.covers is not None:
            dlo, dhi = min(dlo, leg.covers[0]), max(dhi, leg.covers[1])
        if leg is not None and leg.shared and leg.key in seen.reach:  # one range for many, said in its title
            dlo, dhi = min(dlo, seen.reach[leg.key]["dlo"]), max(dhi, seen.reach[leg.key]["dhi"])
        eps = 1e-6 * max(1.0, abs(lo), abs(hi), abs(dlo), abs(dhi))
        hull = _own_hull((dlo, dhi), f["kind"])
        above_ok = leg is not None and leg.above is not None and leg.bar.GetDrawAboveRangeSwatch()
        below_ok = leg is not None and leg.below is not None and leg.bar.GetDrawBelowRangeSwatch()
        holds = (dlo >= lo - eps or below_ok) and (dhi <= hi + eps or above_ok)
        if not holds or lo < hull[0] - eps or hi > hull[1] + eps:
            out.append(Violation("color-range", f"face {f['matrix']!r} ({f['name']}) is coloured on "
                                 f"[{lo:.4g}, {hi:.4g}] but its data span [{f['data_range'][0]:.4g}, "
                                 f"{f['data_range'][1]:.4g}]"))
        if leg is None and seen.view.views and seen.view.views[0].decorate:
            out.append(Violation("color-range", f"face {f['matrix']!r} ({f['name']}) has no legend"))
    return out


def _shared_legend(seen: Seen) -> list[Violation]:
    """One legend for faces of different matrices, not named as shared."""
    out = []
    for leg in seen.pen.legends.values():
        r = seen.reach[leg.key]
        matrices = {f["matrix"] for f in r["coloured"]}
        if r["shown"] and r["has_data"] and len(matrices) > 1 and not leg.shared:
            out.append(Violation("shared-legend", f"legend {leg.title!r} colours {', '.join(sorted(matrices))} "
                                 "on one range without saying so"))
    return out


def _clipped(seen: Seen) -> list[Violation]:
    """Data beyond the colour range without a mark on the legend."""
    out = []
    for leg in seen.pen.legends.values():
        r = seen.reach[leg.key]
        if not (r["shown"] and r["has_data"]):
            continue
        if (r["above"] and not r["marked_above"]) or (r["below"] and not r["marked_below"]):
            out.append(Violation("clipped", f"legend {leg.title!r}: data [{r['dlo']:.4g}, {r['dhi']:.4g}] run past "
                                 f"its range [{r['lo']:.4g}, {r['hi']:.4g}] and nothing on the legend says so"))
    return out


def _subject(seen: Seen) -> list[Violation]:
    """In the default still, the scene's subject face less than 90 % visible, less than 6 % of the
    frame, or more than 60° from face-on."""
    subject = seen.view.subject
    if not seen.still or subject is None:
        return []
    f = seen.faces.get(subject)
    if f is None:
        return [Violation("subject", f"the subject face {subject} is not drawn in the still")]
    problems = []
    if f["visible"] < SUBJECT_VISIBLE:
        problems.append(f"{f['visible']:.0%} visible (needs {SUBJECT_VISIBLE:.0%})")
    if f["area"] < SUBJECT_AREA:
        problems.append(f"{f['area']:.1%} of the frame (needs {SUBJECT_AREA:.0%})")
    if f["angle"] > SUBJECT_ANGLE:
        problems.append(f"{f['angle']:.0f} degrees from face-on (at most {SUBJECT_ANGLE:.0f})")
    return [Violation("subject", f"subject {f['matrix']!r}: " + ", ".join(problems))] if problems else []


CHECKS = {  # every rule of the audit, in the order its violations are listed
    "text-size": _text_size,
    "outside": _outside,
    "hidden-anchor": _hidden_anchor,
    "not-drawn": _not_drawn,
    "overlap": _overlap,
    "clipped": _clipped,
    "shared-legend": _shared_legend,
    "color-range": _color_range,
    "subject": _subject,
}


def measure(view, state, size, *, still: bool = False, frame: int | None = None) -> Report:
    """The Report of the frame ``view`` shows for ``state`` (already applied): the frame is
    measured once (faces, texts, legends), then every rule of ``CHECKS`` looks at it."""
    plotter, pen = view.plotter, view.pen
    plotter.render_window.Render()
    ids, depth, face_ids = id_pass(plotter, pen.faces)
    cam_pos = np.array(pen.renderer.GetActiveCamera().GetPosition())
    rep = Report(size=tuple(size), frame=frame)
    rep.faces = _measure_faces(view, size, ids, face_ids, cam_pos)
    faces = {f["name"]: f for f in rep.faces}
    hidden, in_sight = _measure_anchors(view, size, ids, depth, face_ids, cam_pos)
    rep.texts = [_text_record(t, pen, hidden) for t in pen.texts.values()]
    boxes = {r["name"]: np.array(r["box"]) for r in rep.texts if r["drawn"] and r["text"].strip()}
    reach = {leg.key: _legend_reach(leg, faces) for leg in pen.legends.values()}
    rep.legends = [_legend_record(leg, reach[leg.key]) for leg in pen.legends.values()]
    notes = pen.texts.get("notes")
    notes_text = " ".join(notes.text.split()) if notes is not None and notes.drawn else ""
    seen = Seen(view, tuple(size), still, faces, boxes, hidden, in_sight, notes_text, reach)
    for check in CHECKS.values():
        rep.violations += check(seen)
    return rep


def _box(b) -> str:
    return f"x {b[0]:.0f}..{b[1]:.0f}, y {b[2]:.0f}..{b[3]:.0f}"


def audit_frames(scene, states, size=(1280, 720), *, still=None, make_view=None) -> list[Report]:
    """One Report per ViewState of ``states`` (None = the scene's default still), each measured
    on the real render. ``still`` (a bool, or one per state) marks default stills, which must also
    show the scene's subject; by default a frame is a still when its state is None. ``make_view``
    (plotter -> view): as in ``offscreen.frames``."""
    from matviz.graphics.offscreen import make_plotter
    from matviz.graphics.sceneview import SceneView
    from matviz.scene import as_chain
    from matviz.story import still_state

    if isinstance(scene, (list, tuple)):
        return _audit_grid(scene, states, size)
    chain = as_chain(scene)
    plotter = make_plotter(tuple(size))
    try:
        view = make_view(plotter) if make_view is not None else SceneView(plotter, chain)
        reports = []
        for i, state in enumerate(states):
            is_still = (state is None) if still is None else (still[i] if isinstance(still, (list, tuple)) else still)
            view.apply(state if state is not None else still_state(chain))
            reports.append(measure(view, state, size, still=is_still, frame=i))
        return reports
    finally:
        plotter.close()


def _audit_grid(chains, states, size) -> list[Report]:
    """A grid of heads (a list of attention chains): the frames ``offscreen.grid_frames`` draws."""
    from matviz.graphics.heads_grid import HeadGrid, row_at
    from matviz.graphics.offscreen import make_plotter

    plotter = make_plotter(tuple(size))
    try:
        grid = HeadGrid(plotter, list(chains))
        reports = []
        for i, state in enumerate(states):
            grid.apply(row_at(chains[0], state, grid.probs[0].shape[0]))
            reports.append(measure(grid, None, size, frame=i))
        return reports
    finally:
        plotter.close()


def audit(scene, state=None, size=(1280, 720)) -> Report:
    """The Report of one frame of ``scene`` (default: its initial state, the default still)."""
    report = audit_frames(scene, [state], size)[0]
    report.frame = None
    return report
