"""Figure sheets: small images in a table (rows × columns) with headers, captions, row labels and a
colour bar per colour scale, drawn with matplotlib through :mod:`matviz.graphics.figures` like the
posters, so the same flat audit (text size, inside the image, no overlaps, labels whole, every
picture's range written) measures them.

A cell is a matrix and the key of its scale; a scale is gray (lo black, hi white) or signed (a
diverging map, blue −r, white 0, red +r). Every scale a cell uses gets a colour bar with its end
values (and 0 on a signed one) written as ticks, so a reader can tell what a colour means; a scale's
range is given by the caller (one scale shared by the cells that should be compared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from matviz.graphics.figures import MIN_TEXT_PX, Canvas, Sheet, number, text_width, wrap

LABEL_PX = 13  # font sizes in pixels
TITLE_PX = 17
MARGIN, GAP = 14, 12
LINE = LABEL_PX + 4  # a line of labels
LEGEND_W, BAR_H = 220, 12  # a colour bar's slot and the bar's height
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
        cmap = colormaps[self.cmap]
        return (cmap(unit)[..., :3] * 255).round().astype(np.uint8)

    @property
    def cmap(self) -> str:
        return "gray" if self.kind == "gray" else "RdBu_r"


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


@dataclass(frozen=True)
class _Layout:
    """Where everything of a Figure goes, in pixels."""

    width: int
    height: int
    title: list[str]
    headers: list[list[str]]
    xs: list[int]  # each column's left
    body_top: int  # the first row's top
    row_labels: list[list[str]]
    row_h: list[int]
    pic_h: list[int]
    used: list[str]  # the scales drawn, in order
    per_row: int  # colour bars per row
    legend_titles: list[list[str]]
    legend_h: int  # one row of colour bars
    notes: list[str]


def _columns(fig: Figure) -> tuple[list[int], list[int]]:
    """Each column's width and each row's picture height."""
    ncols = max(len(cells) for _, cells in fig.rows)
    pic_w, caption_w, pic_h = [0] * ncols, [0.0] * ncols, []
    for _, cells in fig.rows:
        h = 0
        for c, cell in enumerate(cells):
            if cell is not None:
                r, k = np.shape(cell.values)
                pic_w[c] = max(pic_w[c], k * fig.pixels)
                caption_w[c] = max(caption_w[c], text_width(cell.caption, LABEL_PX) if cell.caption else 0)
                h = max(h, r * fig.pixels)
        pic_h.append(h)
    return [max(88, pic_w[c], math.ceil(caption_w[c])) for c in range(ncols)], pic_h  # 88: "avg-min-img"


def _layout(fig: Figure) -> _Layout:
    col_w, pic_h = _columns(fig)
    headers = [wrap(fig.headers[c] if c < len(fig.headers) else "", LABEL_PX, col_w[c]) for c in range(len(col_w))]
    header_h = max(len(h) for h in headers) * LINE + 4 if any(fig.headers) else 0
    row_labels = [wrap(label, LABEL_PX, fig.row_label_width - 8) for label, _ in fig.rows]
    has_caption = [any(cell is not None and cell.caption for cell in cells) for _, cells in fig.rows]
    row_h = [max(pic_h[i] + (LINE + 2 if has_caption[i] else 0), len(row_labels[i]) * LINE) for i in range(len(fig.rows))]
    width = 2 * MARGIN + fig.row_label_width + sum(col_w) + (len(col_w) - 1) * GAP
    title = wrap(fig.title, TITLE_PX, width - 2 * MARGIN) if fig.title else []
    xs = [MARGIN + fig.row_label_width + sum(col_w[:c]) + c * GAP for c in range(len(col_w))]
    used = [k for k in fig.scales if any(cell is not None and cell.scale == k for _, cells in fig.rows for cell in cells)]
    per_row = max(1, (width - 2 * MARGIN + GAP) // (LEGEND_W + GAP))
    legend_titles = [wrap(fig.scales[k].title, LABEL_PX, LEGEND_W) for k in used]
    legend_h = max([len(t) for t in legend_titles] or [0]) * LINE + 2 + BAR_H + 5 + LINE + 6
    notes = [line for n in fig.notes for line in wrap(n, LABEL_PX, width - 2 * MARGIN)]
    body_top = MARGIN + len(title) * (TITLE_PX + 5) + (GAP if title else 0) + header_h
    legends = math.ceil(len(used) / per_row) * legend_h
    height = body_top + sum(row_h) + GAP * len(fig.rows) + legends + len(notes) * LINE + 2 * MARGIN
    return _Layout(width, height, title, headers, xs, body_top, row_labels, row_h, pic_h, used, per_row,
                   legend_titles, legend_h, notes)


def draw(fig: Figure) -> Sheet:
    """The sheet of ``fig``: title, column headers, rows of pictures with captions, a colour bar per
    scale used and the notes, with every text's and picture's box as the renderer measured them."""
    lay = _layout(fig)
    canvas = Canvas(lay.width, lay.height)
    canvas.lines(MARGIN, MARGIN, lay.title, TITLE_PX, TITLE_PX + 5, whole=fig.title)
    top = lay.body_top - (max(len(h) for h in lay.headers) * LINE + 4 if any(fig.headers) else 0)
    for c, lines in enumerate(lay.headers):
        canvas.lines(lay.xs[c], top, lines, LABEL_PX, LINE, whole=fig.headers[c] if c < len(fig.headers) else "")
    y = lay.body_top
    keyed = []  # (cell picture, its scale)
    for (label, cells), lines, h, ph in zip(fig.rows, lay.row_labels, lay.row_h, lay.pic_h):
        canvas.lines(MARGIN, y, lines, LABEL_PX, LINE, whole=label)
        for c, cell in enumerate(cells):
            if cell is None:
                continue
            rgb = fig.scales[cell.scale].rgb(cell.values)
            keyed.append((canvas.image(np.kron(rgb, np.ones((fig.pixels, fig.pixels, 1), dtype=np.uint8)), lay.xs[c], y),
                          cell.scale))
            if cell.caption:
                canvas.lines(lay.xs[c], y + ph + 2, [cell.caption], LABEL_PX, LINE, whole=cell.caption)
        y += h + GAP
    bars = _legends(canvas, fig, lay, y)
    for picture, key in keyed:
        canvas.same_range(picture, bars[key])
    y += math.ceil(len(lay.used) / lay.per_row) * lay.legend_h
    canvas.lines(MARGIN, y, lay.notes, LABEL_PX, LINE)
    return canvas.finish(fig.pixels)


def _legends(canvas: Canvas, fig: Figure, lay: _Layout, y: int) -> dict[str, int]:
    """A colour bar per scale used, ``per_row`` to a row from ``y``: scale key -> its picture."""
    bars = {}
    for n, (key, title) in enumerate(zip(lay.used, lay.legend_titles)):
        s = fig.scales[key]
        r, c = divmod(n, lay.per_row)
        lx, ly = MARGIN + c * (LEGEND_W + GAP), y + r * lay.legend_h
        by = ly + max(len(t) for t in lay.legend_titles) * LINE + 2
        canvas.lines(lx, by - 2 - len(title) * LINE, title, LABEL_PX, LINE, whole=s.title)  # on its bar
        # the end labels are centred on the bar's ends: inset the bar by half of each
        left = math.ceil(text_width(number(s.lo), LABEL_PX) / 2) + 1
        right = math.ceil(text_width(number(s.hi), LABEL_PX) / 2) + 1
        bars[key] = canvas.colorbar(lx + left, by, LEGEND_W - left - right, BAR_H, s.cmap, s.lo, s.hi, LABEL_PX)
    return bars


def write(fig: Figure, path) -> "Sheet":
    """Draw ``fig`` and write it to ``path`` (.png) atomically; returns the sheet."""
    from matviz.animate.writers import open_writer

    sheet = draw(fig)
    with open_writer(path) as writer:
        writer.write_frame(sheet.image)
    return sheet


__all__ = ["Cell", "Figure", "Scale", "draw", "write"]
