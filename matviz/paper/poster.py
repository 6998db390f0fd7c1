"""Posters: contact sheets of flat results over a grid of settings, and temperature sweeps.

A flat 2-D product, not a 3-D scene: every tile is the result matrix of one setting drawn as
:mod:`matviz.paper.flat` draws it (its own min-max gray, one entry = ``scale``×``scale`` pixels, row 0 on
top), with the setting written above it (DejaVu Sans, 15 px, at least 11 px tall on the sheet).

What ``--vary`` (``vary=``) can vary, one axis per ``--vary``; the grid is every combination, the
first axis across, the others down (one axis alone wraps into rows of at most five):

* ``temperature=0.05,0.25,1``: the name ``T`` of the expression, one number per tile, each > 0
  (write ``softmax(A, rows, temperature=T)``). ``T=...`` is the same axis.
* ``NAME=v1,v2,...``: any other name the expression uses (and ``--set`` does not bind), numbers.
* ``'L=softmax(A, rows)' 'L=norm(A, "y+1", rows)'``: a sub-expression per tile for the name ``L``
  of the expression (as if it were ``let L = ... in EXPR``): transforms, options, whole operands.
* ``'A @ B' 'softmax(A, rows) @ B'``: whole expressions, one per tile; then give no EXPR.

A sweep (``--animate T=1:0.02 --frames N``) evaluates the expression at N temperatures spaced
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
from typing import Callable, Mapping, Sequence

import numpy as np

from matviz.errors import MatvizError, OutputError

TEMPERATURE = "T"  # the name --vary temperature= binds
LABEL_PX = 15  # font size of the labels; the audit wants text at least MIN_TEXT_PX tall
TITLE_PX = 18
MIN_TEXT_PX = 11
MIN_PICTURE = 192  # tiles are scaled up (whole pixels per entry) until their longer side reaches this
MIN_CELL_WIDTH = 200
MAX_SHEET = 16384
MARGIN, GAP = 14, 12
INK, PAPER = (20, 20, 20), (255, 255, 255)
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

    def write(self, out, stem: str, note=None, progress=None) -> list[Path]:  # the Output protocol
        return write(self, out, stem, note)

    def audit(self, sizes=None) -> list:  # a sheet has its own size: ``sizes`` do not apply
        return audit(self)


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

    def write(self, out, stem: str, note=None, progress=None) -> list[Path]:  # the Output protocol
        return write(self, out, stem, note)

    def audit(self, sizes=None) -> list:  # the sweep's first and last sheets, at their own size
        return audit(self)

    def values(self) -> list[np.ndarray]:
        return [
            _evaluate(self.expression, {**self.operands, self.name: float(v)}, f"{self.name}={v:.4g}")
            for v in self.settings()
        ]


@dataclass
class Sheet:
    """A drawn poster or sweep frame: the RGB image and where things are on it (pixels, x0 y0 x1 y1)."""

    image: np.ndarray  # (H, W, 3) uint8
    pictures: list[tuple[int, int, int, int]]  # each tile's picture
    texts: list[dict]  # {"text", "box", "px"}: every label and title drawn
    scale: int
    notes: list[str]


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


def _check_temperatures(key: str, values: Sequence[float], flag: str) -> None:
    bad = [v for v in values if not v > 0]
    if bad:
        example = f"{key}=1:0.02" if flag == "--animate" else f"{key}=0.05,0.25,1"
        raise MatvizError(f"{flag} {key}: temperature must be > 0, got {_fmt(bad[0])}: use e.g. {flag} {example}")


@dataclass(frozen=True)
class _Axis:
    kind: str  # "numbers", "sub" or "whole"
    key: str | None
    items: tuple  # numbers, or expression texts


def parse_axis(items: str | Sequence[str], flag: str = "--vary") -> _Axis:
    """One ``--vary``: ``KEY=v1,v2``, several ``KEY=EXPR``, or several whole expressions."""
    items = [items] if isinstance(items, str) else list(items)
    if not items or any(not isinstance(i, str) or not i.strip() for i in items):
        raise MatvizError(f"{flag} needs settings: write e.g. {flag} temperature=0.05,0.25,1")
    keyed = [_KEYED.match(i) if ";" not in i else None for i in items]
    if all(keyed):
        keys = {m.group(1) for m in keyed}
        if len(keys) > 1:
            raise MatvizError(f"{flag} {' '.join(items)}: one axis varies one name, got {', '.join(sorted(keys))}: use one {flag} per name")
        key = keys.pop()
        name = TEMPERATURE if key == "temperature" else key
        if len(items) == 1:
            values = _numbers(keyed[0].group(2))
            if values is not None:
                if name == TEMPERATURE:
                    _check_temperatures(key, values, flag)
                return _Axis("numbers", name, tuple(values))
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
        raise MatvizError("a poster needs at least one --vary axis, e.g. --vary temperature=0.05,0.25,1")
    wholes = [a for a in axes if a.kind == "whole"]
    if len(wholes) > 1:
        raise MatvizError("only one --vary may list whole expressions: put them all in one --vary")
    if wholes and expression:
        raise MatvizError("give the expression either as EXPR or as a --vary list of whole expressions, not both")
    if not wholes and not expression:
        raise MatvizError("missing the expression: give EXPR, or a --vary list of whole expressions")
    env = _operands({**(operands or {}), **more}, resize)
    texts = list(wholes[0].items) if wholes else [expression]
    names = set().union(*(free_names(t) for t in texts))
    seen: set[str] = set()
    for axis in axes:
        if axis.key is None:
            continue
        if axis.key in seen:
            raise MatvizError(f"--vary {axis.key}=... is given twice: list all its values in one --vary")
        seen.add(axis.key)
        if axis.key in env:
            raise MatvizError(f"{axis.key} is bound by --set and varied by --vary: keep one")
        if axis.key not in names:
            shown = ", ".join(sorted(names - set(env))) or "none"
            what = "temperature= binds the name T: write e.g. softmax(A, rows, temperature=T)" if axis.key == TEMPERATURE else (
                "vary a name the expression uses"
            )
            raise MatvizError(
                f"unknown --vary key {axis.key}: the expression uses no name {axis.key} (names left to vary: {shown}); {what}"
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
        raise MatvizError(f"columns must be >= 1, got {columns}")
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
        raise MatvizError(f"--animate {animate!r} is not NAME=START:STOP: write e.g. --animate T=1:0.02")
    key = m.group(1)
    name = TEMPERATURE if key == "temperature" else key
    try:
        start, stop = float(ends[0]), float(ends[1])
    except ValueError:
        raise MatvizError(f"--animate {animate!r}: START and STOP must be numbers, e.g. T=1:0.02") from None
    if name == TEMPERATURE:
        _check_temperatures(key, [start, stop], "--animate")
    elif not (start > 0 and stop > 0 and math.isfinite(start) and math.isfinite(stop)):
        raise MatvizError(f"--animate {animate}: geometric spacing needs two finite ends > 0")
    if not isinstance(frames, int) or frames < 2:
        raise MatvizError(f"a sweep needs at least 2 frames, got {frames}: use e.g. --frames 48")
    if range not in RANGES:
        raise MatvizError(f"range must be one of {', '.join(RANGES)}, got {range!r}")
    env = _operands({**(operands or {}), **more}, resize)
    if name in env:
        raise MatvizError(f"{name} is bound by --set and animated by --animate: keep one")
    names = free_names(expression)
    if name not in names:
        raise MatvizError(
            f"unknown --animate key {key}: the expression uses no name {name}; write e.g. softmax(A, rows, temperature={name})"
        )
    return Sweep(expression, env, name, start, stop, frames, float(fps), title if title is not None else expression, range, scale)


def _operands(operands: Mapping, resize) -> dict:
    import matviz as mv
    from matviz.scene import Operand

    env = {}
    for name, v in operands.items():
        if isinstance(v, str):
            try:
                env[name] = float(v)
                continue
            except ValueError:
                v = mv.load(v, default_name=name, shape=resize)
        if isinstance(v, Operand):
            v = v.values
        env[name] = float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64)
    return env


# ---------------------------------------------------------------- drawing


def _font(px: int):
    from matplotlib import font_manager
    from PIL import ImageFont

    return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), px)


def _lines(draw, text: str, font, width: int, most: int = 3) -> list[str]:
    """``text`` wrapped to ``width`` pixels, at most ``most`` lines (the last ends with … if cut)."""
    def fits(s):
        return draw.textlength(s, font=font) <= width

    out, rest = [], text.strip()
    while rest and len(out) < most:
        cut = len(rest)
        while cut > 1 and not fits(rest[:cut]):
            cut -= 1
        if cut < len(rest):  # prefer a break at a space or a comma
            soft = max(rest.rfind(" ", 0, cut), rest.rfind(",", 0, cut) + 1 if rest.rfind(",", 0, cut) >= 0 else -1)
            if soft > cut // 2:
                cut = soft
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        last = out[-1]
        while last and not fits(last + "…"):
            last = last[:-1]
        out[-1] = last + "…"
    return out


def _auto_scale(shapes: list[tuple[int, int]], scale: int | None, minimum: int = MIN_PICTURE) -> int:
    if scale is not None:
        if not isinstance(scale, int) or scale < 1:
            raise MatvizError(f"scale must be a whole number >= 1, got {scale!r}")
        return scale
    side = max(max(s) for s in shapes)
    return max(1, math.ceil(minimum / side))


def _text_box(draw, xy, text, font) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = draw.textbbox(xy, text, font=font)
    return int(x0), int(y0), int(x1), int(y1)


def draw_poster(spec: Poster, note: Callable[[str], None] | None = None) -> Sheet:
    """The sheet of ``spec``: each tile its flat gray picture (``matviz.paper.flat.gray``), upscaled
    ``scale``× by whole pixels, under its label."""
    from PIL import Image, ImageDraw

    from matviz.paper.flat import gray

    values = spec.values()
    scale = _auto_scale([v.shape for v in values], spec.scale)
    notes = []
    pictures = []
    for tile, v in zip(spec.tiles, values):
        g, said = gray(v, 8)
        if said:
            notes.append(f"tile {tile.label}: {said}")
        pictures.append(np.kron(g, np.ones((scale, scale), dtype=np.uint8)) if scale > 1 else g)
    cols = min(spec.columns, len(pictures))
    rows = math.ceil(len(pictures) / cols)
    cell_w = max(MIN_CELL_WIDTH, max(p.shape[1] for p in pictures))
    pic_h = max(p.shape[0] for p in pictures)
    font, tfont = _font(LABEL_PX), _font(TITLE_PX)
    probe = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    wrapped = [_lines(probe, t.label, font, cell_w) for t in spec.tiles]
    line_h = LABEL_PX + 5
    label_h = max(len(w) for w in wrapped) * line_h + 4
    width = 2 * MARGIN + cols * cell_w + (cols - 1) * GAP
    title_lines = _lines(probe, spec.title, tfont, width - 2 * MARGIN, most=2) if spec.title else []
    top = MARGIN + len(title_lines) * (TITLE_PX + 6) + (GAP if title_lines else 0)
    height = top + rows * (label_h + pic_h) + (rows - 1) * GAP + MARGIN
    if width > MAX_SHEET or height > MAX_SHEET:
        raise MatvizError(
            f"the sheet would be {width}x{height} pixels (at most {MAX_SHEET} a side): use a smaller --resize, --scale or fewer settings"
        )
    img = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(img)
    texts = []
    y = MARGIN
    for line in title_lines:
        draw.text((MARGIN, y), line, font=tfont, fill=INK)
        texts.append({"text": line, "box": _text_box(draw, (MARGIN, y), line, tfont), "px": TITLE_PX})
        y += TITLE_PX + 6
    rects = []
    for n, (pic, lines) in enumerate(zip(pictures, wrapped)):
        r, c = divmod(n, cols)
        x0 = MARGIN + c * (cell_w + GAP)
        y0 = top + r * (label_h + pic_h + GAP)
        for i, line in enumerate(lines):
            xy = (x0, y0 + i * line_h)
            draw.text(xy, line, font=font, fill=INK)
            texts.append({"text": line, "box": _text_box(draw, xy, line, font), "px": LABEL_PX})
        py = y0 + label_h
        h, w = pic.shape
        img.paste(Image.fromarray(pic, mode="L"), (x0, py))
        rects.append((x0, py, x0 + w, py + h))
    for n in notes:
        if note:
            note(n)
    return Sheet(np.asarray(img), rects, texts, scale, notes)


PANELS = {
    "sweep": "one gray scale for every T",
    "frame": "each T its own min-max",
}
RANGES = ("both", "sweep", "frame")


def draw_sweep(spec: Sweep, note: Callable[[str], None] | None = None) -> list[Sheet]:
    """One frame per setting of ``spec``, labelled ``T = ...``: with ``range="both"`` two panels,
    the value on one gray scale for the whole sweep (the min-max of all frames together: the
    product sharpens and its contrast grows as T falls) and on the frame's own min-max (its flat
    picture); ``"sweep"`` or ``"frame"`` draws that panel alone. Sizes are even (for H.264)."""
    from PIL import Image, ImageDraw

    from matviz.paper.flat import gray

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
    font, small = _font(LABEL_PX + 3), _font(LABEL_PX)
    probe = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    pw, ph = w * scale, h * scale
    width = max(len(kinds) * pw + (len(kinds) - 1) * GAP + 2 * MARGIN, 2 * MIN_CELL_WIDTH)
    title_lines = _lines(probe, spec.title, small, width - 2 * MARGIN, most=2) if spec.title else []
    captions = [_lines(probe, PANELS[k], small, pw, most=1)[0] for k in kinds] if len(kinds) > 1 else []
    head = MARGIN + len(title_lines) * (LABEL_PX + 5) + (LABEL_PX + 3) + 10 + (LABEL_PX + 6 if captions else 0)
    height = head + ph + MARGIN
    width += width % 2
    height += height % 2
    left = (width - (len(kinds) * pw + (len(kinds) - 1) * GAP)) // 2
    frames = []
    for v, setting in zip(values, spec.settings()):
        img = Image.new("RGB", (width, height), PAPER)
        draw = ImageDraw.Draw(img)
        texts, rects, y = [], [], MARGIN

        def text(xy, line, f, px):
            draw.text(xy, line, font=f, fill=INK)
            texts.append({"text": line, "box": _text_box(draw, xy, line, f), "px": px})

        for line in title_lines:
            text((MARGIN, y), line, small, LABEL_PX)
            y += LABEL_PX + 5
        text((MARGIN, y), f"{spec.name} = {setting:.4g}", font, LABEL_PX + 3)
        for i, kind in enumerate(kinds):
            if kind == "sweep":
                unit = (v - lo) / (hi - lo) if hi > lo else np.full(v.shape, 0.5)
                g = np.round(np.clip(unit, 0.0, 1.0) * 255).astype(np.uint8)
            else:
                g = gray(v, 8)[0]
            pic = np.kron(g, np.ones((scale, scale), dtype=np.uint8)) if scale > 1 else g
            x0 = left + i * (pw + GAP)
            if captions:
                text((x0, head - LABEL_PX - 6), captions[i], small, LABEL_PX)
            img.paste(Image.fromarray(pic, mode="L"), (x0, head))
            rects.append((x0, head, x0 + pw, head + ph))
        frames.append(Sheet(np.asarray(img), rects, texts, scale, []))
    return frames


# ---------------------------------------------------------------- writing


def check_path(path, suffixes: tuple[str, ...], what: str) -> Path:
    from matviz.animate.writers import check_output

    path = check_output(path, create=False)
    if path.suffix.lower() not in suffixes:
        raise OutputError(f"{what} is written as {' or '.join(suffixes)}, got {path.name}: choose another path")
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


def write(spec: Poster | Sweep, out: str | os.PathLike, stem: str, note=None) -> list[Path]:
    """What the gallery writes for a flat spec: ``out/stem.png`` (a sheet) or ``out/stem.mp4`` (a sweep)."""
    out = Path(out)
    if isinstance(spec, Poster):
        return [write_poster(spec, out / f"{stem}.png", note)]
    return [write_sweep(spec, out / f"{stem}.mp4", note)]


# ---------------------------------------------------------------- audit


def audit(spec: Poster | Sweep) -> list:
    """What the gallery audit checks on a flat spec, writing nothing: one ``Report`` per sheet
    (the first and last frames of a sweep), with rules ``text-size`` (labels at least 11 px tall),
    ``outside`` (text inside the image) and ``overlap`` (no text over another text or a picture)."""
    sheets = [draw_poster(spec)] if isinstance(spec, Poster) else [draw_sweep(spec)[i] for i in (0, -1)]
    return [
        audit_sheet(sheet, None if isinstance(spec, Poster) else (0 if n == 0 else spec.frames - 1))
        for n, sheet in enumerate(sheets)
    ]


def audit_sheet(sheet: Sheet, frame: int | None = None):
    """The flat rules on one drawn sheet (any ``Sheet``: posters, sweeps, ``matviz.learning.sheets``)."""
    from matviz.graphics.audit import Report, Violation

    h, w = sheet.image.shape[:2]
    report = Report(size=(w, h), frame=frame)
    report.texts = [dict(t) for t in sheet.texts]
    for t in sheet.texts:
        x0, y0, x1, y1 = t["box"]
        if t["px"] < MIN_TEXT_PX:
            report.violations.append(Violation("text-size", f"text {t['text']!r} is {t['px']} px, under {MIN_TEXT_PX}"))
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            report.violations.append(Violation("outside", f"text {t['text']!r} leaves the image"))
    boxes = [(t["text"], t["box"]) for t in sheet.texts] + [(f"tile {i}", r) for i, r in enumerate(sheet.pictures)]
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        if ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]:
            report.violations.append(Violation("overlap", f"{a!r} overlaps {b!r}"))
    return report



class _CallableModule(__import__("types").ModuleType):
    """``mv.poster(expr, vary=[...], A=...)``: the module ``matviz.paper.poster`` is callable (like ``mv.fit``)."""

    def __call__(self, *args, **kwargs) -> Poster:
        return poster(*args, **kwargs)


__import__("sys").modules[__name__].__class__ = _CallableModule
