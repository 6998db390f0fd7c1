"""Figure sheets: small images in a table (rows × columns) with headers, captions, row labels and a
legend per colour scale, drawn with PIL like the posters (``matviz.paper.poster``), so the posters' flat
audit (text size, inside the image, no overlaps) measures them too.

A cell is a matrix and the key of its scale; a scale is gray (lo black, hi white) or signed (a
diverging map, blue −r, white 0, red +r). Every scale a cell uses gets a legend strip with its two
end values written, so a reader can tell what a colour means; a scale's range is given by the
caller (one scale shared by the cells that should be compared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from matviz.paper.poster import GAP, INK, MARGIN, MIN_TEXT_PX, PAPER, Sheet, _font, _lines, _text_box

LABEL_PX = 13
TITLE_PX = 17
assert LABEL_PX >= MIN_TEXT_PX


@dataclass(frozen=True)
class Scale:
    """``kind`` "gray" (``lo`` black … ``hi`` white) or "signed" (−``hi`` blue … 0 white … ``hi`` red)."""

    title: str
    kind: str
    lo: float
    hi: float

    @staticmethod
    def signed(title: str, *arrays) -> "Scale":
        r = max(float(np.max(np.abs(a))) for a in arrays) or 1.0
        return Scale(title, "signed", -r, r)

    @staticmethod
    def gray(title: str, *arrays) -> "Scale":
        lo = min(float(np.min(a)) for a in arrays)
        hi = max(float(np.max(a)) for a in arrays)
        return Scale(title, "gray", lo, hi if hi > lo else lo + 1.0)

    def rgb(self, values: np.ndarray) -> np.ndarray:
        """(h, w, 3) uint8 colours of ``values`` on this scale (clipped at its ends)."""
        from matplotlib import colormaps

        unit = np.clip((np.asarray(values, dtype=np.float64) - self.lo) / (self.hi - self.lo), 0.0, 1.0)
        cmap = colormaps["gray" if self.kind == "gray" else "RdBu_r"]
        return (cmap(unit)[..., :3] * 255).round().astype(np.uint8)


@dataclass(frozen=True)
class Cell:
    values: np.ndarray  # 2-D
    scale: str  # key into Figure.scales
    caption: str = ""


@dataclass
class Figure:
    """``rows``: (label, cells) pairs, the cells in columns under ``headers`` (``""``: none)."""

    title: str
    headers: list[str]
    rows: list[tuple[str, list[Cell | None]]]
    scales: dict[str, Scale]
    notes: list[str] = field(default_factory=list)
    pixels: int = 8  # screen pixels per matrix entry
    row_label_width: int = 150


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def draw(fig: Figure) -> Sheet:
    """The sheet of ``fig``: title, column headers, rows of pictures with captions, the legends of
    the scales used and the notes, as an RGB image with every text's and picture's box."""
    from PIL import Image, ImageDraw

    font, tfont = _font(LABEL_PX), _font(TITLE_PX)
    probe = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    line_h = LABEL_PX + 4
    ncols = max(len(cells) for _, cells in fig.rows)
    pic_w = [0] * ncols
    pic_h = []
    for _, cells in fig.rows:
        h = 0
        for c, cell in enumerate(cells):
            if cell is not None:
                r, k = np.shape(cell.values)
                pic_w[c] = max(pic_w[c], k * fig.pixels)
                h = max(h, r * fig.pixels)
        pic_h.append(h)
    caption_w = [max([int(probe.textlength(cell.caption, font=font)) for _, cells in fig.rows
                      for c2, cell in enumerate(cells) if c2 == c and cell is not None and cell.caption] or [0])
                 for c in range(ncols)]
    col_w = [max(88, pic_w[c], caption_w[c]) for c in range(ncols)]  # "avg-min-img" fits on one line
    header_lines = [_lines(probe, fig.headers[c] if c < len(fig.headers) else "", font, col_w[c], most=3)
                    for c in range(ncols)]
    header_h = max(len(h) for h in header_lines) * line_h + (4 if any(fig.headers) else 0)
    row_lines = [_lines(probe, label, font, fig.row_label_width - 8, most=4) for label, _ in fig.rows]
    has_caption = [any(cell is not None and cell.caption for cell in cells) for _, cells in fig.rows]
    row_h = [max(pic_h[i] + (line_h + 2 if has_caption[i] else 0), len(row_lines[i]) * line_h)
             for i in range(len(fig.rows))]
    width = 2 * MARGIN + fig.row_label_width + sum(col_w) + (ncols - 1) * GAP
    title_lines = _lines(probe, fig.title, tfont, width - 2 * MARGIN, most=3) if fig.title else []
    used = [k for k in fig.scales if any(cell is not None and cell.scale == k for _, cells in fig.rows for cell in cells)]
    legend_w, legend_bar = 220, 12
    per_row = max(1, (width - 2 * MARGIN + GAP) // (legend_w + GAP))
    legend_rows = math.ceil(len(used) / per_row)
    legend_h = legend_rows * (3 * line_h + legend_bar + 6)
    note_lines = [ln for n in fig.notes for ln in _lines(probe, n, font, width - 2 * MARGIN, most=4)]
    top = MARGIN + len(title_lines) * (TITLE_PX + 5) + (GAP if title_lines else 0)
    body_top = top + header_h
    height = body_top + sum(row_h) + GAP * len(fig.rows) + legend_h + len(note_lines) * line_h + 2 * MARGIN
    img = Image.new("RGB", (width, height), PAPER)
    d = ImageDraw.Draw(img)
    texts, pictures = [], []

    def text(xy, line, f=font, px=LABEL_PX):
        d.text(xy, line, font=f, fill=INK)
        texts.append({"text": line, "box": _text_box(d, xy, line, f), "px": px})

    y = MARGIN
    for line in title_lines:
        text((MARGIN, y), line, tfont, TITLE_PX)
        y += TITLE_PX + 5
    xs = []
    x = MARGIN + fig.row_label_width
    for c in range(ncols):
        xs.append(x)
        for i, line in enumerate(header_lines[c]):
            text((x, top + i * line_h), line)
        x += col_w[c] + GAP
    y = body_top
    for (label, cells), lines, h, ph in zip(fig.rows, row_lines, row_h, pic_h):
        for i, line in enumerate(lines):
            text((MARGIN, y + i * line_h), line)
        for c, cell in enumerate(cells):
            if cell is None:
                continue
            scale = fig.scales[cell.scale]
            rgb = scale.rgb(cell.values)
            pic = np.kron(rgb, np.ones((fig.pixels, fig.pixels, 1), dtype=np.uint8))
            img.paste(Image.fromarray(pic, mode="RGB"), (xs[c], y))
            pictures.append((xs[c], y, xs[c] + pic.shape[1], y + pic.shape[0]))
            if cell.caption:
                text((xs[c], y + ph + 2), cell.caption)
        y += h + GAP
    for n, key in enumerate(used):
        s = fig.scales[key]
        r, c = divmod(n, per_row)
        lx = MARGIN + c * (legend_w + GAP)
        ly = y + r * (3 * line_h + legend_bar + 6)
        title = _lines(probe, s.title, font, legend_w, most=2)
        for i, line in enumerate(title):
            text((lx, ly + i * line_h), line)
        by = ly + 2 * line_h
        ramp = np.linspace(s.lo, s.hi, legend_w)[None, :].repeat(legend_bar, axis=0)
        img.paste(Image.fromarray(s.rgb(ramp), mode="RGB"), (lx, by))
        pictures.append((lx, by, lx + legend_w, by + legend_bar))
        lo, hi = _fmt(s.lo), _fmt(s.hi)
        text((lx, by + legend_bar + 2), lo)
        text((lx + legend_w - int(probe.textlength(hi, font=font)), by + legend_bar + 2), hi)
    y += legend_h
    for line in note_lines:
        text((MARGIN, y), line)
        y += line_h
    return Sheet(np.asarray(img), pictures, texts, fig.pixels, [])


def write(fig: Figure, path) -> "Sheet":
    """Draw ``fig`` and write it to ``path`` (.png) atomically; returns the sheet."""
    from matviz.animate.writers import open_writer

    sheet = draw(fig)
    with open_writer(path) as writer:
        writer.write_frame(sheet.image)
    return sheet


__all__ = ["Cell", "Figure", "Scale", "draw", "write"]
