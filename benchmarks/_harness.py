"""Frame-by-frame races: matviz's exporter path (``offscreen.frames``) against ``bare.Bare`` drawing
the same content with the same camera, alternating frame by frame so that load from other
processes falls on both alike. Also counts renders (StartEvent) per frame on matviz's window."""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

import matviz.graphics  # noqa: F401  (selects the EGL window before pyvista makes one)
from matviz.graphics import offscreen

from bare import Bare, RenderCounter

SIZE = (1280, 720)


@contextmanager
def captured_plotters():
    """Every plotter matviz's offscreen module makes while inside, each with a RenderCounter."""
    made = []
    original = offscreen.make_plotter

    def make(*args, **kwargs):
        p = original(*args, **kwargs)
        made.append((p, RenderCounter(p)))
        return p

    offscreen.make_plotter = make
    try:
        yield made
    finally:
        offscreen.make_plotter = original


@dataclass
class Race:
    setup: float  # first matviz frame (building the view), seconds
    frame: float  # median steady matviz frame, seconds
    bare: float | None  # median bare frame, seconds (None: not raced)
    renders_per_frame: float  # matviz, every frame including the first
    bare_renders_per_frame: float | None
    frames: int
    floor: float | None = None  # median bare frame without the interior (faces only), seconds

    @property
    def ratio(self) -> float:
        return self.frame / self.bare if self.bare else float("nan")

    @property
    def fps(self) -> float:
        return 1.0 / self.frame


def race(scene, states, size=SIZE, bare: bool = True, floor: bool = False) -> Race:
    """Render ``states`` of ``scene`` through ``offscreen.frames`` and, after each matviz frame, the
    bare equivalent with matviz's camera of that frame. The first frame is setup (not timed)."""
    states = list(states)
    with captured_plotters() as made:
        stream = offscreen.frames(scene, states, size, aa=False)
        t0 = time.perf_counter()
        first = next(stream)
        setup = time.perf_counter() - t0
        plotter, counter = made[0]
        view = _view_of(plotter)
        b = Bare(view, size) if bare and view is not None else None
        times, bare_times, floor_times, keep = [], [], [], []
        try:
            if b is not None:
                b.frame(plotter.renderer.GetActiveCamera())  # bare's own first frame (setup)
                b.counter.count = 0
            for f in range(len(states) - 1):
                # alternate who goes first, so neither always follows the other's render; when
                # bare goes first it draws the camera of matviz's previous frame (same cost)
                if b is not None and f % 2:
                    t0 = time.perf_counter()
                    b.frame(plotter.renderer.GetActiveCamera())
                    bare_times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                img = next(stream)
                times.append(time.perf_counter() - t0)
                if b is not None and not f % 2:
                    t0 = time.perf_counter()
                    b.frame(plotter.renderer.GetActiveCamera())
                    bare_times.append(time.perf_counter() - t0)
                if b is not None and floor:
                    t0 = time.perf_counter()
                    b.frame(plotter.renderer.GetActiveCamera(), interior=False)
                    floor_times.append(time.perf_counter() - t0)
                if f in (0, (len(states) - 1) // 2):
                    keep.append(img)
            renders = counter.count
            bare_renders = b.counter.count - len(floor_times) if b is not None else 0
        finally:
            stream.close()
            if b is not None:
                b.close()
    if len(keep) == 2 and np.array_equal(keep[0], keep[1]):
        raise RuntimeError("matviz frames of the animation are identical: the timing measured stale frames")
    del first
    n = len(states) - 1
    return Race(
        setup,
        statistics.median(times),
        statistics.median(bare_times) if bare_times else None,
        renders / len(states),
        bare_renders / n if b is not None else None,
        n,
        statistics.median(floor_times) if floor_times else None,
    )


_VIEWS: dict[int, object] = {}


def _view_of(plotter):
    """The SceneView built in ``plotter`` (found through the module that built it)."""
    return _VIEWS.get(id(plotter))


def install_view_hook():
    """Remember each SceneView by its plotter, so the bare baseline can read the same content."""
    from matviz.graphics import sceneview

    cls = sceneview.SceneView
    if getattr(cls, "_bench_hooked", False):
        return
    original = cls.__init__

    def init(self, plotter, *args, **kwargs):
        _VIEWS[id(plotter)] = self
        original(self, plotter, *args, **kwargs)

    cls.__init__ = init
    cls._bench_hooked = True


install_view_hook()


def count_renders(make_frames, n_frames: int) -> float:
    """Renders (StartEvent) per frame over all of ``make_frames()`` (an iterator of frames)."""
    with captured_plotters() as made:
        got = 0
        for _ in make_frames():
            got += 1
        total = sum(c.count for _, c in made)
    if got != n_frames:
        raise RuntimeError(f"expected {n_frames} frames, got {got}")
    return total / got
