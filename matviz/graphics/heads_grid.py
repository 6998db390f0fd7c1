"""A grid of attention heads: one flat heatmap of the probabilities per (layer, head), layers down
and heads across, on one colour scale shared by every tile (the legend says so), with the tokens
along the grid's outer edges. Made to compare heads: a 6 × 12 grid of a 12-token sentence gives
each token about 11 pixels at 1920×1080.

In an animation the same query row is outlined in every tile, row after row. A head that is an
attention sink (its chain's ``head.sink``) gets a gray frame, and the notes line says what the
frame means.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv

from matviz.graphics import colors
from matviz.graphics.panels import FlatMap, line_actor, set_rectangles
from matviz.graphics.pen import MARGIN, Pen, fit
from matviz.sources.heads import SINK_SHARE

TILE_GAP = 0.12  # of a tile's side, between tiles
SINK_FRAME = (0.45, 0.45, 0.45)  # the frame around a sink head's tile
SINK_RULE = f"gray frame: an attention sink (over {SINK_SHARE:.0%} of its attention on the first or separator tokens)"


def head_of(chain) -> tuple[int, int] | None:
    """``(layer, head)`` of the model head a grid tile draws (``chain.head``), None for other chains."""
    return None if chain.head is None else (chain.head.layer, chain.head.head)


def probabilities(chain) -> np.ndarray:
    """The attention probabilities a chain draws: the first cube's last (row-wise) stage, with
    masked entries as NaN."""
    cube = chain.cubes[0]
    stage = next((s for s in reversed(cube.stages) if s.rowwise), None)
    values = cube.result.values if stage is None else stage.values
    return np.where(np.isneginf(values), np.nan, values).astype(np.float64)


class Tile(FlatMap):
    """One head's heatmap, a flat face the audit measures like a panel."""

    def __init__(self, pen: Pen, name: str, probs: np.ndarray, lut, matrix: str):
        super().__init__(pen, name, probs.shape, lut, legend="heads")
        self.kind, self.matrix = "nonneg", matrix
        self.set_values(probs)


class HeadGrid:
    """Heads of one text in a layer × head matrix of flat heatmaps, in one plotter."""

    def __init__(self, plotter, chains: list, title: str | None = None):
        self.plotter, self.chains = plotter, chains
        self.pen = pen = Pen(plotter)
        self.views: list = []  # no 3D cubes
        self.subject = None
        self.volume = None
        plotter.set_background("white")
        heads = [head_of(c) or (0, n) for n, c in enumerate(chains)]
        self.layers = sorted({h[0] for h in heads})
        self.heads = sorted({h[1] for h in heads})
        self.probs = [probabilities(c) for c in chains]
        tokens = chains[0].cubes[0].left.row_labels or tuple(str(i) for i in range(self.probs[0].shape[0]))
        self.tokens = tokens
        finite = np.concatenate([p[np.isfinite(p)] for p in self.probs])
        top = float(np.percentile(finite, 99.5)) if finite.size else 1.0
        self.lut = pv.LookupTable("viridis")
        self.lut.SetRange(0.0, max(top, 1e-12))
        self.lut.SetNanColor(*colors.rgb(colors.MASKED), 1.0)
        above = float(finite.max()) if finite.size and finite.max() > top else None
        self.tiles = [
            Tile(pen, f"tile-L{h[0]}-H{h[1]}", p, self.lut, f"layer {h[0]} head {h[1]}")
            for h, p in zip(heads, self.probs)
        ]
        self.where = dict(zip(heads, self.tiles))
        leg = pen.legend("heads", "attention probability: one scale shared by all heads", self.lut, [], above=above)
        leg.faces = [t.name for t in self.tiles]
        leg.shared = True  # one quantity (a probability) for every head, on purpose and said so
        self.title = title or _grid_title(chains[0].title, len(self.layers), len(self.heads))
        self.sinks = [t for t, c in zip(self.tiles, chains) if c.head is not None and c.head.sink]
        self.outline, self.outline_poly = line_actor(pen, colors.rgb(colors.HIGHLIGHT), 2)
        self.sink_frames, self.sink_poly = line_actor(pen, SINK_FRAME, 2)
        self.row: int | None = None
        self.apply(None)

    # ---- one frame --------------------------------------------------------------------------------
    def apply(self, row: int | None) -> None:
        """Lay the grid out (``row``: the query row outlined in every tile, or None)."""
        pen = self.pen
        W, H = pen.width, pen.height
        pad = pen.px(MARGIN)
        pen.layout_legends(list(pen.legends.values()))
        title = pen.text("title", fit(self.title, int(W / (0.6 * pen.px(13)))), role="title", size=13,
                         pos=(pad, H - pad), justify=("left", "top"))
        top = title.box(pen.renderer)[2] - pad
        notes = pen.text("notes", " ", role="note", size=11, pos=(W - pad, top), justify=("right", "top"))
        top = notes.box(pen.renderer)[2] - pad
        bottom = pen.bottom_band + pad
        size = pen.px(12)
        longest = min(12, max(len(str(t)) for t in self.tokens))
        label_w = longest * 0.62 * size + 2 * pad
        head_h = 1.6 * size  # "head 5" above each column
        layer_w = 5.2 * 0.62 * size + pad  # "L5" left of each row of tiles
        rows, cols = len(self.layers), len(self.heads)
        n = self.probs[0].shape[0]
        room_w = W - 2 * pad - layer_w - label_w
        room_h = top - bottom - head_h - label_w
        tile = min(room_w / (cols + TILE_GAP * (cols - 1)), room_h / (rows + TILE_GAP * (rows - 1)))
        side = tile / n
        gap = TILE_GAP * tile
        used = cols * tile + (cols - 1) * gap
        x_start = pad + layer_w + label_w + max(0.0, (room_w - used) / 2)  # centred in the room left
        y_start = top - head_h - label_w
        pen.notes, pen.panel_notes = [], []
        for (layer, head), t in self.where.items():
            r, c = self.layers.index(layer), self.heads.index(head)
            t.place(x_start + c * (tile + gap), y_start - r * (tile + gap), side)
        for c, head in enumerate(self.heads):
            pen.text(f"head-{head}", f"head {head}", role="title", size=12, bold=True,
                     pos=(x_start + c * (tile + gap) + tile / 2, top), justify=("center", "top"))
        for r, layer in enumerate(self.layers):
            pen.text(f"layer-{layer}", f"L{layer}", role="title", size=12, bold=True,
                     pos=(x_start - label_w - layer_w + pad, y_start - r * (tile + gap) - tile / 2), justify=("left", "center"))
        step = max(1, int(np.ceil(1.5 * size / side)))
        rule = f"tokens 1 in {step}" if step > 1 else ""
        if rule:
            pen.panel_notes.append(rule)
        for r in range(rows):
            for i, tok in enumerate(self.tokens):
                name = f"row-{r}-{i:03d}"
                pen.text(name, fit(str(tok), 12), role="token", size=12,
                         pos=(x_start - pad, y_start - r * (tile + gap) - (i + 0.5) * side), justify=("right", "center"))
                if i % step:
                    pen.hide(name, "thinned", rule)
        for c in range(cols):
            for j, tok in enumerate(self.tokens):
                name = f"col-{c}-{j:03d}"
                item = pen.text(name, fit(str(tok), 12), role="token", size=12,
                                pos=(x_start + c * (tile + gap) + (j + 0.5) * side, y_start + pad),
                                justify=("left", "center"))
                item.actor.GetTextProperty().SetOrientation(90)
                if j % step:
                    pen.hide(name, "thinned", rule)
        said = (["labels thinned: " + rule] if rule else []) + ([SINK_RULE] if self.sinks else [])
        if said:
            notes.text = "; ".join(said)
            notes.actor.SetInput(notes.text)
        else:
            pen.hide("notes", "off")
        self._outline(row, side)
        # a third of the way into the gap: two sink neighbours' frames stay two lines, and a tile
        # between two sinks is not boxed in by theirs
        self.sink_gap = min(gap, pad) / 3
        self._frame_sinks(self.sink_gap)

    def _frame_sinks(self, d: float) -> None:
        """A frame ``d`` pixels around each sink head's tile: in the gap, never over its cells."""
        set_rectangles(self.sink_poly, [(x0 - d, x1 + d, y0 - d, y1 + d) for x0, x1, y0, y1 in (t.rect for t in self.sinks)])

    def _outline(self, row: int | None, side: float) -> None:
        rows = [] if row is None else [t.rect for t in self.tiles]
        set_rectangles(self.outline_poly, [(x0, x1, y1 - (row + 1) * side, y1 - row * side) for x0, x1, _, y1 in rows])


def _grid_title(tile_title: str, layers: int, heads: int) -> str:
    what = f"{layers} layers x {heads} heads" if layers > 1 else f"{heads} heads"
    return f"attention probabilities, {what}: each tile is softmax(Q K^T/sqrt(d)), query rows down, keys across"


def row_at(chain, state, n: int) -> int | None:
    """The query row outlined in a grid's frame for ``state`` of its first chain: none in the still
    (or when the state is None), else the row as far down as the story of the chain has got."""
    from matviz.story import beat_index, beats, still_state

    if state is None or state == still_state(chain):
        return None
    plan = beats(chain)
    fraction = beat_index(chain, state, plan) / max(1, len(plan) - 1)
    return min(n - 1, int(fraction * n))

