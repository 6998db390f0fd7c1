"""Offscreen rendering: one PNG, or a stream of frames for a writer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyvista as pv

from matviz.scene import Chain, Cube, ViewState, as_chain


def make_plotter(size: tuple[int, int] = (1280, 720), off_screen: bool = True) -> pv.Plotter:
    """A plotter with matviz defaults: no anti-aliasing (MSAA is 4-6x slower in software GL)."""
    plotter = pv.Plotter(off_screen=off_screen, window_size=list(size))
    plotter.disable_anti_aliasing()
    return plotter


def smooth(plotter: pv.Plotter, view) -> None:
    """Anti-alias a still. Not with a volume: VTK's EGL build turns FXAA into SSAA, and SSAA
    drops volume rendering (measured here: the interior vanishes)."""
    if view.volume is None:
        plotter.enable_anti_aliasing("ssaa")


def screenshot(plotter: pv.Plotter) -> np.ndarray:
    """The current frame as (H, W, 3) uint8. Renders first, so a moved camera is never stale."""
    plotter.render()
    return np.asarray(plotter.screenshot(return_img=True))[..., :3]


def frames(
    scene: Cube | Chain,
    states: Iterable[ViewState],
    size: tuple[int, int] = (1280, 720),
    aa: bool = False,
    compact: bool = False,
    make_view=None,
) -> Iterator[np.ndarray]:
    """Render each state of ``states`` in turn, yielding (H, W, 3) uint8 frames. ``make_view``
    (plotter -> view) draws something other than a plain SceneView of ``scene`` (e.g. one with
    its own panel)."""
    from matviz.graphics.sceneview import SceneView

    plotter = make_plotter(size)
    try:
        view = None
        for state in states:
            if view is None:
                view = make_view(plotter) if make_view is not None else SceneView(plotter, scene, compact=compact)
                if aa:
                    smooth(plotter, view)
            view.apply(state)
            yield screenshot(plotter)
    finally:
        plotter.close()


def render(
    scene: Cube | Chain, state: ViewState | None = None, size: tuple[int, int] = (1280, 720), aa: bool = True
) -> np.ndarray:
    """One frame of ``scene`` (default: its still, the finished picture with the interior
    stepped aside) as an (H, W, 3) uint8 array."""
    from matviz.story import still_state

    return next(frames(scene, [state or still_state(as_chain(scene))], size, aa=aa))


def grid_frames(
    scenes: list, states: list[list[ViewState]], size: tuple[int, int] = (1280, 720)
) -> Iterator[np.ndarray]:
    """Frames of a grid of attention heads: flat heatmaps of each head's probabilities, layers down
    and heads across, on one shared scale (``heads_grid.HeadGrid``); an animation outlines the
    same query row in every tile, row after row."""
    from matviz.graphics.heads_grid import HeadGrid, row_at

    plotter = make_plotter(size)
    try:
        grid = HeadGrid(plotter, list(scenes))
        for state in states[0]:
            grid.apply(row_at(scenes[0], state, grid.probs[0].shape[0]))
            yield screenshot(plotter)
    finally:
        plotter.close()
