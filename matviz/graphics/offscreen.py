"""Offscreen rendering: one PNG, or a stream of frames for a writer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pyvista as pv

from matviz.scene import Chain, Scene, ViewState, as_chain


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
    scene: Scene | Chain,
    states: Iterable[ViewState],
    size: tuple[int, int] = (1280, 720),
    aa: bool = False,
) -> Iterator[np.ndarray]:
    """Render each state of ``states`` in turn, yielding (H, W, 3) uint8 frames."""
    from matviz.graphics.chainview import ChainView

    plotter = make_plotter(size)
    try:
        view = None
        for state in states:
            if view is None:
                view = ChainView(plotter, scene)
                if aa:
                    smooth(plotter, view)
            view.apply(state)
            yield screenshot(plotter)
    finally:
        plotter.close()


def render(
    scene: Scene | Chain, state: ViewState | None = None, size: tuple[int, int] = (1280, 720), aa: bool = True
) -> np.ndarray:
    """One frame of ``scene`` (default: its initial state) as an (H, W, 3) uint8 array."""
    return next(frames(scene, [state or as_chain(scene).initial_state()], size, aa=aa))


ProgressFn = Callable[[int, int], None]
