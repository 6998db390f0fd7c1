"""CubeView: one cube's visuals (faces, stages, interior, labels, highlight) composed over a pen.

It owns no camera, title or status: the SceneView frames the world and lays out the frame. A
state here is the cube's own (``matviz.story.cube_state``): how much of its sum over k is done,
how far its result face has gone through its stages, the interior and the highlight.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyvista as pv

from matviz.graphics import colors, labels
from matviz.graphics.faces import FaceVisual, masked_means, running_range
from matviz.graphics.highlight import Highlight, formula
from matviz.graphics.interior import make_interior
from matviz.graphics.pen import CubePen
from matviz.scene import NUMBERS_MAX_SIDE, Operand, ViewState


def _quantity(which: str, op, values, cp) -> str:
    """The legend key of an operand face: the same matrix drawn on two cubes (side-by-side
    comparisons) is one quantity with one legend; a result is its cube's own."""
    if which == "result":
        return cp.name(which)
    digest = hashlib.sha1(np.ascontiguousarray(values).tobytes()).hexdigest()[:12]
    return f"{op.name}-{values.shape[0]}x{values.shape[1]}-{digest}"


def face_title(name: str, shape) -> str:
    return f"{name} ({shape[0]}x{shape[1]})"


class CubeView:
    """Everything drawn for one cube of a scene."""

    def __init__(self, pen, cube, *, prefix: str = "", hidden=frozenset(), names=None, numbers=None, decorate=True):
        """``hidden`` faces are drawn by another cube (a chain's shared face); ``names`` maps
        "left"/"top"/"result" to the (distinct, shortened) names shown; ``decorate`` draws names,
        tokens and legends (off for the tiles of a grid)."""
        self.pen, self.cube = pen, cube
        self.cp = cp = CubePen(pen, cube, prefix)
        self.layout = cube.layout
        self.hidden = hidden
        self.decorate = decorate
        self.state: ViewState | None = None
        m, k, n = cube.shape
        self.numbers = numbers if numbers is not None else cube.style.numbers
        if self.numbers is None:
            self.numbers = max(m, k, n) <= NUMBERS_MAX_SIDE
        names = names or {"left": cube.left.name, "top": cube.right.name, "result": cube.result.name}
        self.names = names
        self._running = None if cube.result.kind == "image" else running_range(cube)
        self.faces: dict[str, FaceVisual] = {}
        for which in ("left", "top", "result"):
            if which in hidden:
                continue
            op = {"left": cube.left, "top": cube.right, "result": cube.result}[which]
            values = cube.face_values(which)
            rows, cols = op.shape
            fv = FaceVisual(
                cp, which, getattr(self.layout, which), (cube.face_edges(rows), cube.face_edges(cols)), values, op,
                self.face_clim(which, op, values), kind=op.kind, legend=_quantity(which, op, values, cp),
            )
            fv.labels = bool(self.numbers) and values.size <= 40 * 40
            self.faces[which] = fv
            if decorate:
                title = face_title(names[which], op.shape)
                if which == "result" and self._running is not None and cube.k_steps > 1:
                    title += ", every running sum"
                covers = self._running if which == "result" and self._running is not None else None
                pen.legend(_quantity(which, op, values, cp), title, fv.actor.mapper.lookup_table, [fv.name],
                           covers=covers)
        self.stage_faces = [self._add_stage(s) for s in range(len(cube.stages))]
        self.interior = make_interior(cp, cube)
        if decorate and self.interior.lut is not None:
            pen.legend(cp.name("interior"), self.interior.title, self.interior.lut, [cp.name("interior")],
                       above=getattr(self.interior, "above", None), below=getattr(self.interior, "below", None),
                       data=lambda: cube.interior,
                       shown=self._interior_shown)
        self.highlight = Highlight(cp, cube, bool(self.numbers), self.interior)
        if decorate:
            labels.face_names(cp, cube, hidden, names)
            labels.ticks(cp, cube, hidden)
            labels.caption(cp, cube)

    @property
    def running(self) -> tuple[float, float]:
        """The smallest and largest value the result face shows over the sum over k."""
        return self._running if self._running is not None else running_range(self.cube)

    def _interior_shown(self) -> bool:
        actors = self.interior.slices or ([self.interior.volume] if self.interior.volume is not None else [])
        return any(a.GetVisibility() for a in actors)

    # ---- faces ------------------------------------------------------------------------------------
    def face_clim(self, which: str, op=None, shown=None) -> tuple[float, float]:
        """A face's colour range (shown in its legend).

        Operands: their own range. The result, for numbers: every running sum of the sweep and
        0, so each value shown has its own colour and the sums visibly grow. The result of two
        photographs: the min-max of what is shown now (Mishka's normalization).
        """
        if which in self.faces and op is None:
            return self.faces[which].clim
        op = op or {"left": self.cube.left, "top": self.cube.right, "result": self.cube.result}[which]
        if which != "result":
            return colors.clim(op.values, op.kind)
        if op.kind == "image":
            return colors.clim(shown if shown is not None else op.values, op.kind)
        lo, hi = self._running
        return colors.clim(np.array([lo, hi, 0.0]), op.kind)

    def _add_stage(self, index: int) -> FaceVisual:
        """The result face after stage ``index``, drawn in the result's place. Masked entries
        (-inf) are gray. A row-wise stage (softmax) is coloured on [0, 99.5th percentile] when
        that is below its maximum, marked on its legend as saturating."""
        stage = self.cube.stages[index]
        m, _, n = self.cube.shape
        edges = (self.cube.face_edges(m), self.cube.face_edges(n))
        values = masked_means(stage.values, *edges)
        finite = values[np.isfinite(values)]
        lim = colors.clim(finite if finite.size else np.zeros(1), stage.kind)
        above = None
        if stage.rowwise and finite.size:  # probabilities: most are tiny, so saturate the top 0.5%
            top = max(float(np.percentile(finite, 99.5)), 1e-12)
            if top < float(finite.max()):
                lim, above = (0.0, top), float(finite.max())
        op = Operand(stage.label, np.where(np.isneginf(stage.values), np.nan, stage.values), stage.kind)
        key = f"stage-{index}"
        fv = FaceVisual(self.cp, key, self.layout.result, edges, values, op, lim, kind=stage.kind,
                        legend=self.cp.name(key))
        fv.labels = bool(self.numbers) and values.size <= 40 * 40
        fv.show(False)
        if self.decorate:
            title = face_title(self.names.get(key, stage.label), (m, n))
            self.pen.legend(self.cp.name(key), title, fv.actor.mapper.lookup_table, [fv.name], above=above)
        return fv

    def levels(self) -> list:
        """Face visuals of the result at each level: 0 = the sum, s = after stage s."""
        return [self.faces.get("result")] + self.stage_faces

    def _show_levels(self, after_sum: bool, post: float | None) -> None:
        """Show the level of the result face ``post`` asks for; part-way through a row-wise stage
        the first rows (columns) show the new level and the rest the previous one."""
        from matviz.story import stage_progress

        levels = self.levels()
        whole, rows = stage_progress(self.cube, post) if after_sum else (0, 0)
        shown: dict[int, np.ndarray | None] = {whole: None}
        if rows > 0:
            nxt = self.cube.stages[whole]
            er, ec = levels[whole + 1].edges
            axis = nxt.rowwise
            cut = int(np.searchsorted(er if axis == "rows" else ec, rows, side="left"))
            r, c = len(er) - 1, len(ec) - 1
            idx = np.arange(r)[:, None] if axis == "rows" else np.arange(c)[None, :]
            first = np.broadcast_to(idx < cut, (r, c))
            shown = {whole: ~first, whole + 1: first}
        for level, fv in enumerate(levels):
            if fv is not None:
                fv.show(level in shown, shown.get(level))
        self._sweep_outline(shown.get(whole + 1) if rows > 0 else None, levels)

    def _sweep_outline(self, first, levels) -> None:
        """Outline, on the 3D face, the row (column) a row-wise stage has just reached, as the flat
        panel does: the two views point at the same row."""
        name = self.cp.name("sweep-row")
        if first is None or not first.any():
            self.cp.plotter.remove_actor(name, render=False)
            return
        er, ec = levels[0].edges if levels[0] is not None else levels[1].edges
        face = self.layout.result
        rows_done = np.nonzero(first.all(axis=1))[0]
        if rows_done.size and rows_done.size < first.shape[0]:
            r = rows_done.max()
            corners = face.corners([er[r], er[r + 1]], [ec[0], ec[-1]])
        else:
            c = np.nonzero(first.all(axis=0))[0].max()
            corners = face.corners([er[0], er[-1]], [ec[c], ec[c + 1]])
        loop = corners.reshape(4, 3)[[0, 1, 3, 2, 0]] + 0.03 * face.normal
        line = pv.lines_from_points(loop)
        self.cp.add_mesh(line, color=colors.HIGHLIGHT, line_width=3, lighting=False, name=name)

    # ---- state ------------------------------------------------------------------------------------
    def apply(self, state: ViewState) -> None:
        """Show the cube's ``state``: the sum over k so far, its stages, interior and highlight."""
        from matviz.story import k_done as story_k_done

        old, self.state = self.state, state
        gk = self.cube.k_steps
        k_done = story_k_done(self.cube, state)
        upto = int(self.cube.blocks.edges_k[k_done])
        if self.stage_faces:
            self._show_levels(k_done >= gk and state.post != 0, state.post)
        self.interior.show(k_done, state.show_interior)
        if (old is None or story_k_done(self.cube, old) != k_done) and "result" in self.faces:
            fv = self.faces["result"]
            values = self.cube.face_values("result", upto_k=upto)
            fv.set_values(values)
            if fv.op.kind == "image":
                fv.set_clim(self.face_clim("result", fv.op, values))
        for fv in [*self.faces.values(), *self.stage_faces]:
            fv.write_numbers(fv.values if fv.key != "result" else None)
        self._name_level()
        self.highlight.update(state.highlight, upto, state.show_interior)
        self.k_done, self.upto = k_done, upto

    def _name_level(self) -> None:
        """The result face is named after the level it shows (the scores, then "softmax(...)")."""
        item = self.pen.texts.get(self.cp.name("name-result"))
        if item is None or not self.stage_faces:
            return
        levels = self.levels()
        top = max((n for n, fv in enumerate(levels) if fv is not None and fv.visible), default=0)
        key = "result" if top == 0 else f"stage-{top - 1}"
        m, _, n = self.cube.shape
        text = f"{self.names.get(key, levels[top].op.name)} [i={m} x j={n}]"
        if text != item.text:
            item.text = text
            item.actor.SetInput(text)

    def formula(self, i: int, j: int, upto: int | None = None) -> str:
        return formula(self.cube, i, j, upto)

    def status(self) -> str:
        """How much of the sum over k (and of the stages) is shown."""
        from matviz.story import stage_progress

        gk, k = self.cube.k_steps, self.cube.shape[1]
        text = f"sum over k: {self.upto}/{k}" if self.k_done < gk else f"sum over k: all {k}"
        if self.cube.stages and self.k_done >= gk:
            whole, rows = stage_progress(self.cube, self.state.post)
            if whole > 0 or rows > 0:
                text += ", then " + self.cube.stages[min(whole, len(self.cube.stages)) - (rows == 0)].label
        return text

    def world(self, points) -> np.ndarray:
        return self.cp.world(points)
