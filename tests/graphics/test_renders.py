"""One render per frame (issue 10): every exported frame, and every step of the window, renders
the scene exactly once.

pyvista's ``add_*`` calls render by default, so a frame that adds or replaces an actor the pyvista
way renders twice (once in the call, once for the screenshot) and costs up to twice the time. The
count is the render window's ``StartEvent``, on the real plotters that ``offscreen.frames``,
``offscreen.grid_frames`` and ``Window`` make.
"""

from __future__ import annotations

import numpy as np
import pytest

import matviz as mv
from matviz.animate.timeline import make_timeline
from matviz.graphics import offscreen

SIZE = (480, 320)


class Counted:
    """The plotters ``offscreen.make_plotter`` makes while patched, each with a render count."""

    def __init__(self):
        self.plotters, self.renders = [], []

    def make(self, original):
        def make_plotter(*args, **kwargs):
            plotter = original(*args, **kwargs)
            index = len(self.plotters)
            self.plotters.append(plotter)
            self.renders.append(0)

            def started(*_):
                self.renders[index] += 1

            plotter.render_window.AddObserver("StartEvent", started)
            return plotter

        return make_plotter

    @property
    def total(self) -> int:
        return sum(self.renders)


@pytest.fixture
def counted(monkeypatch):
    from matviz.graphics import window

    c = Counted()
    make = c.make(offscreen.make_plotter)
    monkeypatch.setattr(offscreen, "make_plotter", make)
    monkeypatch.setattr(window, "make_plotter", make)  # bound at import: patched there too (else the
    return c  # window test counted nothing whenever another test had imported the window first)


def renders_per_frame(counted: Counted, frames) -> list[int]:
    """Renders between one frame handed out and the next (the first frame: since the start)."""
    out, before = [], 0
    for _ in frames:
        out.append(counted.total - before)
        before = counted.total
    return out


def timeline_states(scene, name: str, n: int = 12) -> list:
    tl = make_timeline(name, scene)
    return [tl.state_at(t) for t in np.linspace(0.0, tl.duration, n)]


def _attention(q, k, v, **kw):
    from matviz.chain import attention

    return attention(q, k, v, causal=True, **kw)


@pytest.mark.parametrize("animation", ["sweep", "orbit"])
def test_one_cube_one_render_per_frame(textbook, counted, animation):
    states = timeline_states(textbook, animation)
    per_frame = renders_per_frame(counted, offscreen.frames(textbook, states, size=SIZE))
    assert len(per_frame) == len(states) and len(counted.plotters) == 1
    assert per_frame == [1] * len(states), f"renders per {animation} frame: {per_frame}"


def test_large_textured_cube_one_render_per_frame(counted):
    """An image scene with textured faces and a volume, through a sweep (the running sums
    recolour the result's texture each frame)."""
    a = mv.load("sample:camera", shape=(80, 80))
    b = mv.load("sample:coins", shape=(80, 80))
    scene = mv.matmul(a, b)
    states = timeline_states(scene, "sweep", 8)
    per_frame = renders_per_frame(counted, offscreen.frames(scene, states, size=SIZE))
    assert per_frame == [1] * len(states), per_frame


@pytest.mark.parametrize("animation", ["sweep", "orbit"])
def test_chain_one_render_per_frame(counted, animation):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((6, 4)) for _ in range(3))
    chain = _attention(q, k, v)
    states = timeline_states(chain, animation, 16)
    per_frame = renders_per_frame(counted, offscreen.frames(chain, states, size=SIZE))
    assert per_frame == [1] * len(states), f"renders per {animation} frame of a chain: {per_frame}"


def test_still_renders_once(textbook, counted):
    offscreen.render(textbook, size=SIZE, aa=False)
    assert counted.renders == [1]


def test_grid_of_heads_one_render_per_frame(counted):
    rng = np.random.default_rng(1)
    chains = []
    for head in range(4):
        q, k, v = (rng.standard_normal((6, 4)) for _ in range(3))
        chains.append(_attention(q, k, v, title=f"layer 0 head {head}"))
    states = timeline_states(chains[0], "sweep", 10)
    per_frame = renders_per_frame(counted, offscreen.grid_frames(chains, [states] * len(chains), size=(640, 480)))
    assert len(per_frame) == len(states) and len(counted.plotters) == 1
    assert per_frame == [1] * len(states), f"renders per frame of a grid of heads: {per_frame}"


def test_window_step_renders_once(counted):
    """Each key of the window (a step, back, the ends, the interior) draws its state with one
    render, and so does each tick of the timer while playing. Off screen: the same Window class
    and the same handlers the keys call."""
    from matviz.graphics.window import Window

    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((6, 4)) for _ in range(3))
    chain = _attention(q, k, v)
    window = Window(chain, make_timeline("sweep", chain), size=SIZE, off_screen=True, echo=lambda _: None)
    window.plotter.show(auto_close=False)  # the window opens (off screen: one render, then back here)
    actions = [("Home", lambda: window.goto(0))]
    actions += [(f"Right {n}", lambda: window.step(+1)) for n in range(len(window.beats) + 1)]
    actions += [("Left", lambda: window.step(-1)), ("i", window.toggle_interior), ("End", lambda: window.goto(-1)),
                ("highlight", lambda: window.highlight((2, 3))), ("h", lambda: window.highlight(None))]
    counts = {}
    for name, action in actions:
        before = counted.total
        action()
        counts[name] = counted.total - before
    window.toggle_play()
    now = 100.0
    ticks = []
    while window.playing and len(ticks) < 50:
        before = counted.total
        window.tick(now)
        ticks.append(counted.total - before)
        now += 0.2
    window.plotter.close()
    assert all(n == 1 for n in counts.values()), f"renders per key: {counts}"
    assert ticks and all(n == 1 for n in ticks), f"renders per tick while playing: {ticks}"


def test_the_count_sees_a_second_render(textbook, counted, monkeypatch):
    """Negative control: a frame that also adds a text the pyvista way (``render=True``, its
    default) is counted as two renders."""
    from matviz.graphics.sceneview import SceneView

    apply = SceneView.apply

    def apply_and_add(self, state):
        apply(self, state)
        self.plotter.add_text("extra", name="extra")

    monkeypatch.setattr(SceneView, "apply", apply_and_add)
    states = timeline_states(textbook, "sweep", 4)
    per_frame = renders_per_frame(counted, offscreen.frames(textbook, states, size=SIZE))
    assert per_frame[1:] == [2] * (len(states) - 1), per_frame
