"""Flat figures that are files (posters, sweep frames, the digits sheets): matplotlib on the Agg
canvas, never a GUI, laid out in whole pixels and measured by the renderer that drew them.

A ``Canvas`` is laid out from its top-left corner in pixels, at ``DPI`` = 72 so that a font size in
points is its size in pixels. Pictures are placed unresampled (``Figure.figimage``): one array pixel is
one PNG pixel, so a tile holds exactly the values it was given. ``Canvas.finish`` draws the figure once
and returns a ``Sheet``: the RGB pixels, each picture's box, every drawn text's box as the renderer
measured it (``get_window_extent``), the texts that must be drawn whole, and the value range each
picture states. ``audit`` checks a Sheet with the rules in ``RULES``, one function each.

Writing the pixels to a file is ``matviz.animate.writers``' job (its atomic ``open_writer``): graphics
may not import animate.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

DPI = 72  # one point is one pixel
MIN_TEXT_PX = 11  # the audit wants every text at least this tall
FONT = "DejaVu Sans"
INK, QUIET, PAPER = "#141414", "#4a4a4a", "white"

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels from the top-left corner


@dataclass
class Sheet:
    """A drawn flat figure: the RGB image and where things are on it (pixels, x0 y0 x1 y1)."""

    image: np.ndarray  # (H, W, 3) uint8
    pictures: list[Box]  # each picture (tiles, cells, colour bars), in the order placed
    texts: list[dict]  # {"text", "box", "px"}: every text the renderer drew, measured
    scale: int = 1
    notes: list[str] = field(default_factory=list)
    wholes: list[dict] = field(default_factory=list)  # {"text": asked, "drawn": [lines drawn]}
    ranges: list[dict] = field(default_factory=list)  # {"picture": i, "lo", "hi", "texts": [drawn texts saying it]}


def number(v: float) -> str:
    """A value as a figure writes it: 3 significant digits, a true minus sign."""
    return f"{v:.3g}".replace("-", "−")


# ---------------------------------------------------------------- text measurement


@lru_cache(maxsize=1)
def _probe():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(8, 8, DPI)


@lru_cache(maxsize=4096)
def text_width(text: str, px: float) -> float:
    """The width in pixels of ``text`` drawn ``px`` pixels tall (as ``Canvas.text`` draws it)."""
    from matplotlib.font_manager import FontProperties

    w, _, _ = _probe().get_text_width_height_descent(text, FontProperties(family=FONT, size=px), ismath=False)
    return float(w)


def wrap(text: str, px: float, width: float) -> list[str]:
    """``text`` in lines at most ``width`` pixels wide, broken at its newlines, after spaces and commas
    (inside a word only when the word alone is wider); nothing is left out."""
    paragraphs = text.strip().split("\n")
    if len(paragraphs) > 1:
        return [line for p in paragraphs for line in wrap(p, px, width) if line]
    lines, line = [], ""
    for token in re.findall(r"[^ ,]*[ ,]*", text.strip()):
        if not token:
            continue
        if not line or text_width((line + token).rstrip(), px) <= width:
            line += token
            continue
        lines.append(line.rstrip())
        line = token
    if line.strip():
        lines.append(line.rstrip())
    return [part for ln in lines for part in _hard_break(ln, px, width)] or [""]


def _hard_break(line: str, px: float, width: float) -> list[str]:
    out = []
    while line and text_width(line, px) > width:
        cut = len(line) - 1
        while cut > 1 and text_width(line[:cut], px) > width:
            cut -= 1
        out.append(line[:cut])
        line = line[cut:]
    return out + ([line] if line else [])


def drawn_texts(fig) -> list:
    """Every text artist ``fig`` draws: its own texts and each axes' texts, axis labels and tick
    labels (the ticks in use, not matplotlib's spare ones), non-empty and visible."""
    found = list(fig.texts)
    for ax in fig.axes:
        found += list(ax.texts) + [ax.title]
        for axis in (ax.xaxis, ax.yaxis):
            found += [axis.label, axis.offsetText] + axis.get_majorticklabels() + axis.get_minorticklabels()
    return [t for t in found if t.get_visible() and t.get_text().strip()]


def measure(text, renderer, height: int) -> dict:
    """``{"text", "box", "px"}`` of one drawn text artist: its box from the renderer, in whole
    pixels from the top-left corner (rounded outwards), and its font size in pixels."""
    bb = text.get_window_extent(renderer)
    box = (math.floor(bb.x0), math.floor(height - bb.y1), math.ceil(bb.x1), math.ceil(height - bb.y0))
    return {"text": text.get_text(), "box": box, "px": round(text.get_fontsize() * DPI / 72, 2)}


# ---------------------------------------------------------------- drawing


class Canvas:
    """A white figure ``width`` × ``height`` pixels to place texts, pictures and colour bars on."""

    def __init__(self, width: int, height: int):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.width, self.height = int(width), int(height)
        self.fig = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI, facecolor=PAPER)
        FigureCanvasAgg(self.fig)
        self.pictures: list[Box] = []
        self._wholes: list[tuple[str, list]] = []
        self._ranges: list[tuple[int, float, float, object]] = []

    def text(self, x: float, y: float, s: str, px: float, *, ha: str = "left", color: str = INK):
        """``s`` with its top-left corner (``ha="right"``: top-right) at pixel (x, y); the artist."""
        return self.fig.text(
            x / self.width, 1 - y / self.height, s, fontsize=px, family=FONT, color=color, ha=ha, va="top",
            parse_math=False,
        )

    def lines(self, x: float, y: float, lines: list[str], px: float, step: float, *, whole: str | None = None,
              color: str = INK) -> list:
        """``lines`` one under the other, ``step`` pixels apart; ``whole``: the text they must
        spell together (the audit's ``cut`` rule)."""
        arts = [self.text(x, y + i * step, line, px, color=color) for i, line in enumerate(lines) if line]
        if whole is not None:
            self._wholes.append((whole, arts))
        return arts

    def image(self, pixels: np.ndarray, x: int, y: int) -> int:
        """``pixels`` ((h, w) uint8 gray or (h, w, 3) uint8 RGB) unresampled with its top-left corner
        at pixel (x, y); returns the picture's index."""
        pic = np.asarray(pixels)
        if pic.dtype != np.uint8:
            raise TypeError(f"a picture is uint8, got {pic.dtype}")
        if pic.ndim == 2:
            pic = np.repeat(pic[..., None], 3, axis=2)
        h, w = pic.shape[:2]
        self.fig.figimage(pic, xo=int(x), yo=self.height - int(y) - h, origin="upper")
        self.pictures.append((int(x), int(y), int(x) + w, int(y) + h))
        return len(self.pictures) - 1

    def colorbar(self, x: int, y: int, w: int, h: int, cmap: str, lo: float, hi: float, px: float) -> int:
        """A horizontal colour bar from ``lo`` to ``hi`` in the box at (x, y), ticks at both ends (and
        at 0 inside a signed range) labelled below it ``px`` tall; it states its own range. Labels are
        centred on their ticks: leave half an end label's width free on either side."""
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        ax = self.fig.add_axes((x / self.width, 1 - (y + h) / self.height, w / self.width, h / self.height))
        bar = self.fig.colorbar(ScalarMappable(Normalize(lo, hi), cmap), cax=ax, orientation="horizontal")
        ticks = sorted({lo, hi} | ({0.0} if lo < 0 < hi else set()))
        bar.set_ticks(ticks, labels=[number(t) for t in ticks])
        bar.minorticks_off()
        bar.outline.set_linewidth(0.6)
        ax.tick_params(labelsize=px, colors=INK, length=3, width=0.6, pad=2)
        self.pictures.append((int(x), int(y), int(x + w), int(y + h)))
        index = len(self.pictures) - 1
        self.states(index, lo, hi, ax)
        return index

    def states(self, picture: int, lo: float, hi: float, said) -> None:
        """Picture ``picture`` shows values ``lo`` … ``hi``, written by ``said`` (text artists, or a
        colour bar's axes: its tick labels)."""
        self._ranges.append((picture, float(lo), float(hi), said))

    def same_range(self, picture: int, like: int) -> None:
        """Picture ``picture`` shows its values on the range picture ``like`` states (a cell on its
        scale's colour bar)."""
        _, lo, hi, said = next(r for r in self._ranges if r[0] == like)
        self.states(picture, lo, hi, said)

    def finish(self, scale: int = 1, notes=()) -> Sheet:
        """Draw the figure and measure it: the Sheet."""
        canvas = self.fig.canvas
        canvas.draw()
        renderer = canvas.get_renderer()
        image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
        drawn = drawn_texts(self.fig)
        texts = [measure(t, renderer, self.height) for t in drawn]
        wholes = [{"text": s, "drawn": [a.get_text() for a in arts if any(a is d for d in drawn)]}
                  for s, arts in self._wholes]
        ranges = []
        for picture, lo, hi, said in self._ranges:
            arts = said if isinstance(said, list) else said.xaxis.get_majorticklabels()
            ranges.append({"picture": picture, "lo": lo, "hi": hi,
                           "texts": [a.get_text() for a in arts if any(a is d for d in drawn)]})
        return Sheet(image, list(self.pictures), texts, scale, list(notes), wholes, ranges)


# ---------------------------------------------------------------- audit


def _text_size(sheet: Sheet) -> list[str]:
    return [f"text {t['text']!r} is {t['px']:g} px ({t['box'][3] - t['box'][1]} px drawn), under {MIN_TEXT_PX}"
            for t in sheet.texts if t["px"] < MIN_TEXT_PX or t["box"][3] - t["box"][1] < MIN_TEXT_PX]


def _outside(sheet: Sheet) -> list[str]:
    h, w = sheet.image.shape[:2]
    return [f"text {t['text']!r} leaves the image" for t in sheet.texts
            if t["box"][0] < 0 or t["box"][1] < 0 or t["box"][2] > w or t["box"][3] > h]


def _overlap(sheet: Sheet) -> list[str]:
    boxes = [(t["text"], t["box"]) for t in sheet.texts] + [(f"picture {i}", r) for i, r in enumerate(sheet.pictures)]
    return [f"{a!r} overlaps {b!r}" for (a, ba), (b, bb) in itertools.combinations(boxes, 2)
            if ba[0] < bb[2] and bb[0] < ba[2] and ba[1] < bb[3] and bb[1] < ba[3]]


def _cut(sheet: Sheet) -> list[str]:
    def letters(s):
        return re.sub(r"\s+", "", s)

    return [f"{w['text']!r} is drawn as {' / '.join(w['drawn'])!r}" for w in sheet.wholes
            if letters("".join(w["drawn"])) != letters(w["text"]) or any("…" in d for d in w["drawn"])]


_NUMBER = re.compile(r"[-−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+−]?\d+)?")


def _range(sheet: Sheet) -> list[str]:
    out = []
    stated = {r["picture"] for r in sheet.ranges}
    out += [f"picture {i} states no value range" for i in range(len(sheet.pictures)) if i not in stated]
    drawn = {t["text"] for t in sheet.texts}
    for r in sheet.ranges:
        said = [s for s in r["texts"] if s in drawn]
        values = [float(m.replace("−", "-")) for s in said for m in _NUMBER.findall(s)]
        small = 1e-9 * max(abs(r["lo"]), abs(r["hi"]))
        missing = [v for v in (r["lo"], r["hi"])  # as written with 3 significant digits: within 0.5 %
                   if not any(abs(x - v) <= 5e-3 * abs(v) + small for x in values)]
        if missing:
            out.append(f"picture {r['picture']}: its range {r['lo']:.4g} … {r['hi']:.4g} is not written "
                       f"(drawn: {', '.join(said) or 'nothing'})")
    return out


RULES = {  # rule -> check of one Sheet, one message per violation
    "text-size": _text_size,  # every text at least MIN_TEXT_PX tall
    "outside": _outside,  # every text inside the image
    "overlap": _overlap,  # no text over another text or a picture, no two pictures overlapping
    "cut": _cut,  # titles and labels drawn whole (wrapped, never shortened)
    "range": _range,  # every picture's value range written where it is drawn, as numbers that are its values
}


def audit(sheet: Sheet, frame: int | None = None):
    """The flat rules (``RULES``) on one drawn Sheet: an audit ``Report``."""
    from matviz.graphics.audit import Report, Violation

    h, w = sheet.image.shape[:2]
    report = Report(size=(w, h), frame=frame)
    report.texts = [dict(t) for t in sheet.texts]
    for rule, check in RULES.items():
        report.violations += [Violation(rule, message) for message in check(sheet)]
    return report


__all__ = ["Canvas", "DPI", "MIN_TEXT_PX", "RULES", "Sheet", "audit", "drawn_texts", "measure", "number",
           "text_width", "wrap"]
