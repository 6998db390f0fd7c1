"""ChainView: several cubes in one plotter, each a SceneView placed in the world, one camera.

A ViewState for a chain names the step being built (``cube``): earlier steps are finished
(sum and stages done), later ones have not started (no interior, empty result), and the active
step shows ``k_done`` and ``post``. A chain of one cube is drawn exactly as a lone SceneView.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyvista as pv

from matviz.core.layout import camera
from matviz.graphics import colors
from matviz.graphics.view import SceneView, short
from matviz.scene import Chain, Scene, ViewState, as_chain


def _groups(chain: Chain) -> list[int]:
    """Per cube, its place among the cubes built in the same step (side-by-side comparisons)."""
    seen: dict[int, int] = {}
    out = []
    for s in chain.steps:
        out.append(seen.get(s, 0))
        seen[s] = out[-1] + 1
    return out


class ChainView:
    """Everything drawn for a Chain (or a Scene) in one plotter."""

    def __init__(self, plotter: pv.Plotter, scene: Scene | Chain, *, compact: bool = False):
        """``compact``: a tile of a grid: no legends, axis names or tokens, just the title."""
        self.plotter = plotter
        self.chain = chain = as_chain(scene)
        self.compact = compact
        self.state: ViewState | None = None
        if len(chain.cubes) == 1:
            view = SceneView(plotter, chain.cubes[0], legends=not compact, labels=not compact)
            self.views = [view]
            self.font = view.font
            self.state = view.state
            return
        groups = _groups(chain)
        width = 1.0 / (max(groups) + 1)
        self.views = [
            SceneView(
                plotter,
                cube,
                prefix=f"c{c}-",
                hidden=chain.hidden[c],
                standalone=False,
                legend_origin=(0.01 + width * g, 0.02 + 0.1 * step),
                legend_step=0.24 * width,
                legends=not compact,
                labels=not compact,
                ticks=not compact,
            )
            for c, (cube, step, g) in enumerate(zip(chain.cubes, chain.steps, groups))
        ]
        self.font = self.views[0].font
        self._add_captions()
        plotter.add_text(
            chain.title,
            position="upper_left",
            font_size=self.font(12) if not compact else max(8, self.font(20)),
            color=colors.TEXT,
            name="title",
            font=colors.FORMULA_FONT,
        )
        self.apply(chain.initial_state())

    @property
    def volume(self):
        """A volume actor if any cube draws one (anti-aliasing must then stay off)."""
        return next((v.volume for v in self.views if v.volume is not None), None)

    def _add_captions(self) -> None:
        pts, text = [], []
        for view in self.views:
            if view.scene.caption:
                b = view.scene.bounds
                pts.append([(b[0] + b[1]) / 2, b[3] + 0.15 * (b[3] - b[2]) + 1.0, (b[4] + b[5]) / 2])
                text.append(view.scene.caption)
        if pts:
            self.plotter.add_point_labels(
                np.array(pts),
                text,
                font_size=self.font(15),
                bold=True,
                text_color=colors.TEXT,
                shape=None,
                show_points=False,
                always_visible=True,
                name="captions",
            )

    def sub_state(self, c: int, state: ViewState) -> ViewState:
        """What cube ``c`` shows when the chain shows ``state``."""
        chain = self.chain
        active = chain.n_steps - 1 if state.cube is None else int(np.clip(state.cube, 0, chain.n_steps - 1))
        step = chain.steps[c]
        base = ViewState(state.azimuth, state.elevation, state.zoom, show_interior=state.show_interior)
        if step < active:
            return base
        if step > active:
            return replace(base, k_done=0, post=0.0)
        first = chain.steps.index(step) == c  # the highlight and its formula go to one cube per step
        hl = state.highlight if first and _inside(chain.cubes[c], state.highlight) else None
        return replace(base, k_done=state.k_done, post=state.post, highlight=hl)

    def apply(self, state: ViewState) -> None:
        """Show ``state``: the camera frames every cube; each cube shows its part of the story."""
        self.state = state
        if len(self.views) == 1:
            self.views[0].apply(state)
            return
        pos, focal, up = camera(self.chain.box, state.azimuth, state.elevation, state.zoom)
        self.plotter.camera_position = [tuple(pos), tuple(focal), tuple(up)]
        self.plotter.camera.view_angle = 30.0
        for c, view in enumerate(self.views):
            view.apply(self.sub_state(c, state))
        self.plotter.reset_camera_clipping_range()
        if not self.compact:
            self._update_status(state)

    def active_views(self, state: ViewState | None = None) -> list[SceneView]:
        state = state or self.state
        last = self.chain.n_steps - 1
        active = last if state.cube is None else int(np.clip(state.cube, 0, last))
        return [v for v, s in zip(self.views, self.chain.steps) if s == active]

    def _update_status(self, state: ViewState) -> None:
        chain = self.chain
        active = chain.n_steps - 1 if state.cube is None else int(np.clip(state.cube, 0, chain.n_steps - 1))
        view = self.active_views(state)[0]
        text = f"step {active + 1}/{chain.n_steps}: {short(view.scene.title, 28)}\n{view.status()}"
        self.plotter.add_text(text, position="upper_right", font_size=self.font(11), color=colors.TEXT, name="status")


def _inside(cube: Scene, cell) -> bool:
    if cell is None:
        return False
    m, _, n = cube.shape
    return 0 <= cell[0] < m and 0 <= cell[1] < n
