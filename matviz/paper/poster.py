"""Posters: contact sheets of flat results over a grid of settings, and temperature sweeps.

A flat 2-D product, not a 3-D scene: every tile is the result matrix of one setting drawn as
:mod:`matviz.paper.flat` draws it (its own min-max gray, one entry = ``scale``×``scale`` pixels, row 0 on
top), with the setting written above it (DejaVu Sans, 15 px) and its value range under it (which value
is black, which white). Sheets and sweep frames are matplotlib figures drawn through
:mod:`matviz.graphics.figures`, which measures every text for the flat audit.

What ``vary=`` (``--vary``) can vary, one axis per ``--vary``; the grid is every combination, the
first axis across, the others down (one axis alone wraps into rows of at most five):

* ``temperature=0.05,0.25,1``: the name ``T`` of the expression, one number per tile, each > 0
  (write ``softmax(A, rows, temperature=T)``). ``T=...`` is the same axis.
* ``NAME=v1,v2,...``: any other name the expression uses (and ``--set`` does not bind), numbers.
* ``'L=softmax(A, rows)' 'L=norm(A, "y+1", rows)'``: a sub-expression per tile for the name ``L``
  of the expression (as if it were ``let L = ... in EXPR``): transforms, options, whole operands.
* ``'A @ B' 'softmax(A, rows) @ B'``: whole expressions, one per tile; then give no EXPR.

A sweep (``animate="T=1:0.02"``, ``frames=N``) evaluates the expression at N temperatures spaced
geometrically from the first to the second and writes one frame per temperature, labelled with
it. All frames share one gray scale, the min-max of every frame's values together, so brightness
means the same in each frame and the product visibly sharpens as T falls (``range="frame"``
min-max normalizes each frame on its own, as the tiles of a sheet are).
"""

from __future__ import annotations

import ast
import itertools
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np

from matviz.errors import MatvizError, OutputError, param

if TYPE_CHECKING:
    from matviz.graphics.figures import Sheet

TEMPERATURE = "T"  # the name vary=["temperature=..."] binds
LABEL_PX = 15  # font sizes in pixels; the audit wants text at least figures.MIN_TEXT_PX tall
TITLE_PX = 18
RANGE_PX = 13  # the value range under each picture
MIN_PICTURE = 192  # tiles are scaled up (whole pixels per entry) until their longer side reaches this
MIN_CELL_WIDTH = 200
MAX_SHEET = 16384
MARGIN, GAP = 14, 12
_KEYED = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)(.*)$", re.S)


# ---------------------------------------------------------------- specs


@dataclass(frozen=True)
class Tile:
    """One tile: its label, the expression and the numbers bound for it alone."""

    label: str
    expression: str
    numbers: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Poster:
    """A contact sheet: ``tiles`` in rows of ``columns``, with shared ``operands``."""

    tiles: tuple[Tile, ...]
    operands: Mapping[str, np.ndarray]
    columns: int
    title: str = ""
    scale: int | None = None  # pixels per entry; None: the smallest that makes tiles >= MIN_PICTURE

    suffixes = (".png",)

    def values(self) -> list[np.ndarray]:
        """Each tile's result matrix, in tile order."""
        return [_evaluate(t.expression, {**self.operands, **t.numbers}, t.label) for t in self.tiles]

    def write(self, out, stem: str, note=None, progress=None) -> list[Path]:
        """The Output protocol: ``out/stem.png``."""
        return [write_poster(self, Path(out) / f"{stem}.png", note)]

    def audit(self, sizes=None) -> list:
        """The flat rules of ``matviz.graphics.figures.RULES`` on the sheet, writing nothing (it has
        its own size: ``sizes`` do not apply): ``text-size``, ``outside``, ``overlap``, ``cut``
        (labels drawn whole) and ``range`` (each picture's value range written under it)."""
        from matviz.graphics.figures import audit

        return [audit(draw_poster(self))]


@dataclass(frozen=True)
class Sweep:
    """An animation over one name (the temperature ``T``): ``frames`` values spaced geometrically
    from ``start`` to ``stop``, ``fps`` frames per second."""

    expression: str
    operands: Mapping[str, np.ndarray]
    name: str = TEMPERATURE
    start: float = 1.0
    stop: float = 0.02
    frames: int = 48
    fps: float = 12.0
    title: str = ""
    range: str = "both"  # panels: "sweep" (one gray scale for all frames), "frame" (own min-max), or both
    scale: int | None = None

    suffixes = (".mp4", ".gif")

    def settings(self) -> np.ndarray:
        return np.geomspace(self.start, self.stop, self.frames)

    def write(self, out, stem: str, note=None, progress=None) -> list[Path]:
        """The Output protocol: ``out/stem.mp4``."""
        return [write_sweep(self, Path(out) / f"{stem}.mp4", note)]

    def audit(self, sizes=None) -> list:
        """The flat rules on the sweep's first and last frames, at their own size, writing nothing."""
        from matviz.graphics.figures import audit

        sheets = draw_sweep(self)
        return [audit(sheets[0], 0), audit(sheets[-1], self.frames - 1)]

    def values(self) -> list[np.ndarray]:
        return [
            _evaluate(self.expression, {**self.operands, self.name: float(v)}, f"{self.name}={v:.4g}")
            for v in self.settings()
        ]


# ---------------------------------------------------------------- building specs from settings


def _evaluate(text: str, env: Mapping, label: str) -> np.ndarray:
    from matviz.core.expr import evaluate
    from matviz.errors import ExpressionError

    try:
        value = evaluate(text, env).value
    except ExpressionError as err:
        raise ExpressionError(f"tile {label}: {err}") from None
    if np.ndim(value) != 2:
        raise MatvizError(f"tile {label}: {text} is a number ({value:g}), not a matrix: a tile shows a matrix")
    return np.asarray(value, dtype=np.float64)


def free_names(text: str) -> set[str]:
    """The names ``text`` reads from its environment (not functions, axis words or its own bindings)."""
    from matviz.core.expr import AXES, parse

    tree = parse(text)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    bound = {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}
    return names - set(AXES) - bound - {"True", "False"}


def _numbers(text: str) -> list[float] | None:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    return values if values and all(math.isfinite(v) for v in values) else None


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def _check_temperatures(key: str, values: Sequence[float], name: str) -> None:
    bad = [v for v in values if not v > 0]
    if bad:
        example = f"{key}=1:0.02" if name == "animate" else f"{key}=0.05,0.25,1"
        raise MatvizError(
            f"{param(name)} {key}: temperature must be > 0, got {_fmt(bad[0])}: use e.g. {param(name)} {example}"
        )


@dataclass(frozen=True)
class _Axis:
    kind: str  # "numbers", "sub" or "whole"
    key: str | None
    items: tuple  # numbers, or expression texts


def parse_axis(items: str | Sequence[str], name: str = "vary") -> _Axis:
    """One axis of ``vary``: ``KEY=v1,v2``, several ``KEY=EXPR``, or several whole expressions;
    errors name the parameter ``name``."""
    flag = param(name)
    items = [items] if isinstance(items, str) else list(items)
    if not items or any(not isinstance(i, str) or not i.strip() for i in items):
        raise MatvizError(f"{flag} needs settings: write e.g. {flag} temperature=0.05,0.25,1")
    keyed = [_KEYED.match(i) if ";" not in i else None for i in items]
    if all(keyed):
        keys = {m.group(1) for m in keyed}
        if len(keys) > 1:
            raise MatvizError(
                f"{flag} {' '.join(items)}: one axis varies one name, got {', '.join(sorted(keys))}: use one axis per name"
            )
        key = keys.pop()
        varied = TEMPERATURE if key == "temperature" else key
        if len(items) == 1:
            values = _numbers(keyed[0].group(2))
            if values is not None:
                if varied == TEMPERATURE:
                    _check_temperatures(key, values, name)
                return _Axis("numbers", varied, tuple(values))
        if key == "temperature":
            raise MatvizError(
                f"{flag} {' '.join(items)}: temperatures are numbers > 0, comma-separated: write e.g. temperature=0.05,0.25,1"
            )
        return _Axis("sub", key, tuple(m.group(2).strip() for m in keyed))
    if any(keyed):
        raise MatvizError(
            f"{flag} mixes NAME=... settings and whole expressions ({' '.join(items)}): give them as two {flag} axes"
        )
    return _Axis("whole", None, tuple(i.strip() for i in items))


def _tile(expression: str | None, settings: Sequence[tuple[_Axis, object]]) -> Tile:
    text, numbers, subs, labels = expression, {}, [], []
    for axis, item in settings:
        if axis.kind == "numbers":
            numbers[axis.key] = float(item)
            labels.append(f"{axis.key}={_fmt(item)}")
        elif axis.kind == "sub":
            subs.append((axis.key, item))
            labels.append(f"{axis.key}={item}")
        else:
            text = item
            labels.append(item)
    for key, sub in reversed(subs):
        text = f"let {key} = {sub} in {text}"
    return Tile(" · ".join(labels), text, numbers)


def poster(
    expression: str | None = None,
    *,
    vary: Sequence[str | Sequence[str]] = (),
    columns: int | None = None,
    title: str | None = None,
    scale: int | None = None,
    resize=None,
    operands: Mapping | None = None,
    **more,
) -> Poster:
    """A contact sheet of ``expression`` over the grid of ``vary`` settings (see the module
    docstring); operands by name as keywords or in ``operands`` (arrays, Operands, specs such as
    ``"sample:moon"``, loaded at ``resize``, or numbers)."""
    axes = [parse_axis(v) for v in vary]
    if not axes:
        raise MatvizError(f"a poster needs at least one {param('vary')} axis, e.g. {param('vary')} temperature=0.05,0.25,1")
    wholes = [a for a in axes if a.kind == "whole"]
    if len(wholes) > 1:
        raise MatvizError(f"only one {param('vary')} axis may list whole expressions: put them all in one")
    if wholes and expression:
        raise MatvizError(
            f"give the {param('expression')} either alone or as a {param('vary')} list of whole expressions, not both"
        )
    if not wholes and not expression:
        raise MatvizError(f"missing the {param('expression')}: give it, or a {param('vary')} list of whole expressions")
    env = _operands({**(operands or {}), **more}, resize)
    texts = list(wholes[0].items) if wholes else [expression]
    names = set().union(*(free_names(t) for t in texts))
    seen: set[str] = set()
    for axis in axes:
        if axis.key is None:
            continue
        if axis.key in seen:
            raise MatvizError(f"{param('vary')} {axis.key}=... is given twice: list all its values in one axis")
        seen.add(axis.key)
        if axis.key in env:
            raise MatvizError(f"{axis.key} is bound by {param('operands')} and varied by {param('vary')}: keep one")
        if axis.key not in names:
            shown = ", ".join(sorted(names - set(env))) or "none"
            what = "temperature= binds the name T: write e.g. softmax(A, rows, temperature=T)" if axis.key == TEMPERATURE else (
                "vary a name the expression uses"
            )
            raise MatvizError(
                f"unknown {param('vary')} key {axis.key}: the expression uses no name {axis.key} (names left to vary: {shown}); {what}"
            )
    for axis in axes:
        if axis.kind == "sub":  # each sub-expression must parse on its own
            for item in axis.items:
                free_names(item)
    # the first axis varies fastest: it runs across each row
    grid = itertools.product(*[[(a, item) for item in a.items] for a in reversed(axes)])
    tiles = tuple(_tile(expression, settings[::-1]) for settings in grid)
    n_first = len(axes[0].items)
    if columns is None:
        columns = n_first if len(axes) > 1 or n_first <= 5 else math.ceil(math.sqrt(n_first))
    if columns < 1:
        raise MatvizError(f"{param('columns')} must be >= 1, got {columns}")
    if title is None:
        title = expression or ""
    spec = Poster(tiles, env, columns, title, scale)
    return spec


def sweep(
    expression: str,
    animate: str,
    *,
    frames: int = 48,
    fps: float = 12.0,
    title: str | None = None,
    range: str = "both",
    scale: int | None = None,
    resize=None,
    operands: Mapping | None = None,
    **more,
) -> Sweep:
    """A sweep of ``expression`` over ``animate`` = ``"T=1:0.02"`` (or ``temperature=1:0.02``):
    ``frames`` values spaced geometrically from the first end to the second."""
    m = _KEYED.match(animate or "")
    ends = m.group(2).split(":") if m else []
    if not m or len(ends) != 2:
        raise MatvizError(f"{param('animate')} {animate!r} is not NAME=START:STOP: write e.g. {param('animate')} T=1:0.02")
    key = m.group(1)
    name = TEMPERATURE if key == "temperature" else key
    try:
        start, stop = float(ends[0]), float(ends[1])
    except ValueError:
        raise MatvizError(f"{param('animate')} {animate!r}: START and STOP must be numbers, e.g. T=1:0.02") from None
    if name == TEMPERATURE:
        _check_temperatures(key, [start, stop], "animate")
    elif not (start > 0 and stop > 0 and math.isfinite(start) and math.isfinite(stop)):
        raise MatvizError(f"{param('animate')} {animate}: geometric spacing needs two finite ends > 0")
    if not isinstance(frames, int) or frames < 2:
        raise MatvizError(f"a sweep needs at least 2 frames, got {frames}: use e.g. {param('frames')} 48")
    if range not in RANGES:
        raise MatvizError(f"{param('range')} must be one of {', '.join(RANGES)}, got {range!r}")
    env = _operands({**(operands or {}), **more}, resize)
    if name in env:
        raise MatvizError(f"{name} is bound by {param('operands')} and animated by {param('animate')}: keep one")
    names = free_names(expression)
    if name not in names:
        raise MatvizError(
            f"unknown {param('animate')} key {key}: the expression uses no name {name}; write e.g. softmax(A, rows, temperature={name})"
        )
    return Sweep(expression, env, name, start, stop, frames, float(fps), title if title is not None else expression, range, scale)


def _operands(operands: Mapping, resize) -> dict:
    from matviz.scene import Operand
    from matviz.sources import load

    env = {}
    for name, v in operands.items():
        if isinstance(v, str):
            try:
                env[name] = float(v)
                continue
            except ValueError:
                v = load(v, default_name=name, shape=resize)
        if isinstance(v, Operand):
            v = v.values
        env[name] = float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64)
    return env


# ---------------------------------------------------------------- drawing


def _auto_scale(shapes: list[tuple[int, int]], scale: int | None, minimum: int = MIN_PICTURE) -> int:
    if scale is not None:
        if not isinstance(scale, int) or scale < 1:
            raise MatvizError(f"{param('scale')} must be a whole number >= 1, got {scale!r}")
        return scale
    side = max(max(s) for s in shapes)
    return max(1, math.ceil(minimum / side))


def _upscaled(g: np.ndarray, scale: int) -> np.ndarray:
    return np.kron(g, np.ones((scale, scale), dtype=np.uint8)) if scale > 1 else g


def range_text(lo: float, hi: float, what: str = "") -> str:
    """The value range a min-max gray picture shows, as written under it."""
    from matviz.graphics.figures import number

    nb = "\u00a0"  # a number and its colour stay on one line
    said = f"{number(lo)}{nb}(black) … {number(hi)}{nb}(white)" if hi > lo else f"{number(lo)} everywhere (mid-gray)"
    return f"{said}{what}"


def draw_poster(spec: Poster, note: Callable[[str], None] | None = None) -> Sheet:
    """The sheet of ``spec``: each tile its flat gray picture (``matviz.paper.flat.gray``), upscaled
    ``scale``× by whole pixels, under its label and over its value range."""
    from matviz.graphics.figures import QUIET, Canvas, wrap
    from matviz.paper.flat import gray

    values = spec.values()
    scale = _auto_scale([v.shape for v in values], spec.scale)
    notes, pictures = [], []
    for tile, v in zip(spec.tiles, values):
        g, said = gray(v, 8)
        if said:
            notes.append(f"tile {tile.label}: {said}")
        pictures.append(_upscaled(g, scale))
    cols = min(spec.columns, len(pictures))
    rows = math.ceil(len(pictures) / cols)
    cell_w = max(MIN_CELL_WIDTH, max(p.shape[1] for p in pictures))
    pic_h = max(p.shape[0] for p in pictures)
    labels = [wrap(t.label, LABEL_PX, cell_w) for t in spec.tiles]
    ranges = [wrap(range_text(float(v.min()), float(v.max())), RANGE_PX, cell_w) for v in values]
    line_h, range_h = LABEL_PX + 5, RANGE_PX + 4
    label_h = max(len(w) for w in labels) * line_h + 4
    cell_h = label_h + pic_h + 4 + max(len(r) for r in ranges) * range_h
    width = 2 * MARGIN + cols * cell_w + (cols - 1) * GAP
    title_lines = wrap(spec.title, TITLE_PX, width - 2 * MARGIN) if spec.title else []
    top = MARGIN + len(title_lines) * (TITLE_PX + 6) + (GAP if title_lines else 0)
    height = top + rows * cell_h + (rows - 1) * GAP + MARGIN
    if width > MAX_SHEET or height > MAX_SHEET:
        raise MatvizError(
            f"the sheet would be {width}x{height} pixels (at most {MAX_SHEET} a side): use a smaller "
            f"{param('resize')}, {param('scale')} or fewer settings"
        )
    canvas = Canvas(width, height)
    canvas.lines(MARGIN, MARGIN, title_lines, TITLE_PX, TITLE_PX + 6, whole=spec.title)
    for n, (tile, v, pic) in enumerate(zip(spec.tiles, values, pictures)):
        r, c = divmod(n, cols)
        x0, y0 = MARGIN + c * (cell_w + GAP), top + r * (cell_h + GAP)
        label_top = y0 + label_h - 4 - len(labels[n]) * line_h  # the label sits on its picture
        canvas.lines(x0, label_top, labels[n], LABEL_PX, line_h, whole=tile.label)
        index = canvas.image(pic, x0, y0 + label_h)
        said = canvas.lines(x0, y0 + label_h + pic.shape[0] + 4, ranges[n], RANGE_PX, range_h, color=QUIET)
        canvas.states(index, float(v.min()), float(v.max()), said)
    for n in notes:
        if note:
            note(n)
    return canvas.finish(scale, notes)


PANELS = {
    "sweep": "one gray scale for every T",
    "frame": "each T its own min-max",
}
RANGES = ("both", "sweep", "frame")


@dataclass(frozen=True)
class _SweepLayout:
    width: int
    height: int
    title: list[str]
    captions: list[list[str]]
    head: int  # the pictures' top
    left: int  # the first picture's left
    panel: tuple[int, int]  # a picture's (width, height)


def _sweep_layout(spec: Sweep, kinds: list[str], panel: tuple[int, int], range_lines: int) -> _SweepLayout:
    from matviz.graphics.figures import wrap

    pw, ph = panel
    width = max(len(kinds) * pw + (len(kinds) - 1) * GAP + 2 * MARGIN, 2 * MIN_CELL_WIDTH)
    width += width % 2
    title = wrap(spec.title, LABEL_PX, width - 2 * MARGIN) if spec.title else []
    captions = [wrap(PANELS[k], LABEL_PX, pw) for k in kinds] if len(kinds) > 1 else []
    caption_h = max(len(c) for c in captions) * (LABEL_PX + 5) + 1 if captions else 0
    head = MARGIN + len(title) * (LABEL_PX + 5) + (LABEL_PX + 3) + 10 + caption_h
    height = head + ph + 4 + range_lines * (RANGE_PX + 4) + MARGIN
    height += height % 2
    left = (width - (len(kinds) * pw + (len(kinds) - 1) * GAP)) // 2
    return _SweepLayout(width, height, title, captions, head, left, panel)


def draw_sweep(spec: Sweep, note: Callable[[str], None] | None = None) -> list[Sheet]:
    """One frame per setting of ``spec``, labelled ``T = ...``: with ``range="both"`` two panels,
    the value on one gray scale for the whole sweep (the min-max of all frames together: the
    product sharpens and its contrast grows as T falls) and on the frame's own min-max (its flat
    picture); ``"sweep"`` or ``"frame"`` draws that panel alone. Each panel writes its range under
    it. Sizes are even (for H.264)."""
    from matviz.graphics.figures import wrap

    values = spec.values()
    h, w = values[0].shape
    for v, setting in zip(values, spec.settings()):
        if v.shape != (h, w):
            raise MatvizError(
                f"the result changes shape during the sweep ({h}x{w} at the start, {v.shape[0]}x{v.shape[1]} at "
                f"{spec.name}={setting:.4g}): a video needs one shape"
            )
    kinds = ["sweep", "frame"] if spec.range == "both" else [spec.range]
    scale = _auto_scale([(h, w)], spec.scale, minimum=2 * MIN_PICTURE if len(kinds) == 1 else int(1.5 * MIN_PICTURE))
    lo = min(float(v.min()) for v in values)
    hi = max(float(v.max()) for v in values)
    if not hi > lo and note:
        note("every frame is the same constant: min-max has no range, so they are drawn mid-gray")
    panel = (w * scale, h * scale)
    said = [[wrap(range_text(lo, hi, f", every {spec.name}") if k == "sweep" else
                  range_text(float(v.min()), float(v.max())), RANGE_PX, panel[0]) for k in kinds] for v in values]
    layout = _sweep_layout(spec, kinds, panel, max(len(s) for frame in said for s in frame))
    return [_sweep_frame(spec, layout, kinds, v, setting, (lo, hi), scale, lines)
            for v, setting, lines in zip(values, spec.settings(), said)]


def _sweep_frame(spec: Sweep, layout: _SweepLayout, kinds, v, setting, sweep_range, scale, said) -> Sheet:
    from matviz.graphics.figures import QUIET, Canvas
    from matviz.paper.flat import gray

    lo, hi = sweep_range
    pw, ph = layout.panel
    canvas = Canvas(layout.width, layout.height)
    canvas.lines(MARGIN, MARGIN, layout.title, LABEL_PX, LABEL_PX + 5, whole=spec.title)
    canvas.text(MARGIN, MARGIN + len(layout.title) * (LABEL_PX + 5), f"{spec.name} = {setting:.4g}", LABEL_PX + 3)
    for i, kind in enumerate(kinds):
        if kind == "sweep":
            unit = (v - lo) / (hi - lo) if hi > lo else np.full(v.shape, 0.5)
            g, shown = np.round(np.clip(unit, 0.0, 1.0) * 255).astype(np.uint8), (lo, hi)
        else:
            g, shown = gray(v, 8)[0], (float(v.min()), float(v.max()))
        x0 = layout.left + i * (pw + GAP)
        if layout.captions:
            step = LABEL_PX + 5
            top = layout.head - len(layout.captions[i]) * step - 1
            canvas.lines(x0, top, layout.captions[i], LABEL_PX, step, whole=PANELS[kind])
        index = canvas.image(_upscaled(g, scale), x0, layout.head)
        lines = canvas.lines(x0, layout.head + ph + 4, said[i], RANGE_PX, RANGE_PX + 4, color=QUIET)
        canvas.states(index, *shown, lines)
    return canvas.finish(scale)


# ---------------------------------------------------------------- writing


def check_path(path, suffixes: tuple[str, ...], what: str) -> Path:
    from matviz.animate.writers import check_output

    path = check_output(path, create=False)
    if path.suffix.lower() not in suffixes:
        raise OutputError(f"{what} is written as {' or '.join(suffixes)}, got {path.name}: choose another {param('path')}")
    return path


def write_poster(spec: Poster, path: str | os.PathLike, note: Callable[[str], None] | None = None) -> Path:
    """Draw ``spec`` and write the sheet to ``path`` (.png), atomically."""
    from matviz.animate.writers import check_output, open_writer

    path = check_path(path, (".png",), "a poster sheet")
    sheet = draw_poster(spec, note)
    check_output(path)
    with open_writer(path) as writer:
        writer.write_frame(sheet.image)
    return path


def write_sweep(spec: Sweep, path: str | os.PathLike, note: Callable[[str], None] | None = None) -> Path:
    """Draw every frame of ``spec`` and write them to ``path`` (.mp4 or .gif), atomically."""
    from matviz.animate.writers import check_output, open_writer

    path = check_path(path, (".mp4", ".gif"), "a sweep")
    frames = draw_sweep(spec, note)
    check_output(path)
    with open_writer(path, spec.fps, len(frames)) as writer:
        for frame in frames:
            writer.write_frame(frame.image)
    return path

