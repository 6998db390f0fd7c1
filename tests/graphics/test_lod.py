"""Level of detail (issue 10): while the mouse moves a window's camera, a volume interior is drawn
coarser; when the mouse lets go the window draws the full picture again; exported frames are
always full.

The mouse is VTK's own interaction path: the trackball style's ``StartRotate``/``EndRotate`` are
what a button press and release call, and they raise and drop the render window's desired update
rate (the signal the volume mapper adapts to)."""

from __future__ import annotations

import numpy as np
import pytest

import matviz as mv
from matviz import story
from matviz.animate.timeline import make_timeline
from matviz.graphics import offscreen

SIZE = (480, 320)


@pytest.fixture(scope="module")
def volume_scene():
    rng = np.random.default_rng(0)
    scene = mv.matmul(rng.standard_normal((64, 64)), rng.standard_normal((64, 64)))
    assert scene.blocks.shape == (64, 64, 64)  # drawn as a volume (more than 32³ blocks)
    return scene


def _window(scene):
    from matviz.graphics.window import Window

    w = Window(scene, make_timeline("sweep", scene), size=SIZE, off_screen=True, echo=lambda _: None)
    w.plotter.show(auto_close=False)
    return w


def _changed(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.any(a != b, axis=2).mean())


def test_window_draws_coarser_while_the_mouse_moves_and_full_when_it_stops(volume_scene):
    w = _window(volume_scene)
    try:
        iren = w.plotter.iren.interactor
        from matviz.graphics.window import MOVING_FPS

        assert iren.GetDesiredUpdateRate() == MOVING_FPS and w.view.volume.mapper.GetInteractiveAdjustSampleDistances()
        # VTK coarsens only as much as the frame budget needs: ask for a budget (1 ms) that no
        # renderer meets, so that the coarser picture is certain on any machine
        iren.SetDesiredUpdateRate(1000.0)
        style = iren.GetInteractorStyle()
        still = w.plotter.screenshot(return_img=True)
        style.StartRotate()  # the left button goes down
        w.plotter.render_window.Render()  # a first moving frame: the mapper learns the frame's cost
        moving = w.plotter.screenshot(return_img=True)
        style.EndRotate()  # ... and up: VTK renders at the still rate again
        after = w.plotter.screenshot(return_img=True)
        # the same camera throughout: only the level of detail differs
        assert _changed(moving, still) > 0.05, "no coarser interior while the camera moves"
        assert np.array_equal(after, still), "the picture did not come back in full when the mouse let go"
        # what changed is the interior: the background around the cube is untouched
        outside = np.all(still == still[0, 0], axis=2) & np.all(moving == still[0, 0], axis=2)
        assert outside.mean() > 0.2
    finally:
        w.plotter.close()


def hurry(monkeypatch) -> None:
    """Export plotters whose render window asks for 30 fps, as an interactor does while dragging."""
    original = offscreen.make_plotter

    def hurried(*args, **kwargs):
        p = original(*args, **kwargs)
        p.render_window.SetDesiredUpdateRate(30.0)
        return p

    monkeypatch.setattr(offscreen, "make_plotter", hurried)


def test_exported_frames_are_never_coarse(volume_scene, monkeypatch):
    """Even a render window told to hurry (as an interactor would) draws export frames in full."""
    states = make_timeline("orbit", volume_scene).sample(3)
    full = list(offscreen.frames(volume_scene, states, SIZE, aa=False))
    hurry(monkeypatch)
    rushed = list(offscreen.frames(volume_scene, states, SIZE, aa=False))
    assert all(np.array_equal(a, b) for a, b in zip(full, rushed))


def test_the_negative_control_sees_a_coarse_export(volume_scene, monkeypatch):
    """The comparison above can fail: with the level of detail switched on in an export, a hurried
    render window draws a different picture."""
    from matviz.graphics.sceneview import SceneView

    states = make_timeline("orbit", volume_scene).sample(2)
    full = list(offscreen.frames(volume_scene, states, SIZE, aa=False))
    init = SceneView.__init__

    def init_lod(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.level_of_detail(True)

    hurry(monkeypatch)
    monkeypatch.setattr(SceneView, "__init__", init_lod)
    rushed = list(offscreen.frames(volume_scene, states, SIZE, aa=False))
    assert any(_changed(a, b) > 0.05 for a, b in zip(full, rushed))


def test_cube_interior_draws_fewer_merged_cubes_while_moving():
    """32³ interior cubes (32,768) are ~400k triangles a frame on a software renderer: while the
    mouse moves the window draws them merged f × f × f (their mean on the same colour scale), keeps
    the exact cubes of a k-group the sweep has only partly summed (the picture never runs ahead of
    the sum), and draws the exact cubes again on release."""
    from matviz.graphics.interior import MOVING_CUBES

    rng = np.random.default_rng(1)
    scene = mv.matmul(rng.standard_normal((32, 32)), rng.standard_normal((32, 32)))
    w = _window(scene)
    try:
        interior = w.view.views[0].interior
        assert interior.mode == "cubes"
        f = 2  # 32³ / 4096 = 8 = 2³
        def summed() -> int:
            return story.k_done(w.highlighted_cube(), w.state)

        index = next(i for i in range(len(w.beats)) if (w.goto(i) or True) and summed() % f and summed() > f)
        assert w.position == index
        shown = [bool(a.GetVisibility()) for a in interior.slices]
        assert sum(shown) == summed()
        style = w.plotter.iren.interactor.GetInteractorStyle()
        still = w.plotter.screenshot(return_img=True)
        style.StartRotate()
        w.plotter.render_window.Render()  # a frame while the button is down (a mouse move renders)
        moving = w.plotter.screenshot(return_img=True)
        assert interior.groups == [list(range(k, k + f)) for k in range(0, 32, f)]
        groups_on = [bool(a.GetVisibility()) for a in interior.coarse]
        exact_on = [bool(a.GetVisibility()) for a in interior.slices]
        assert groups_on == [all(shown[b] for b in g) for g in interior.groups]
        partial = summed() - 1  # the last k-block summed is alone in its group: drawn exact
        assert exact_on == [b == partial for b in range(32)]
        for b in range(32):  # every k-block summed so far is drawn, merged or exact, and no other
            assert shown[b] == (exact_on[b] or groups_on[b // f])
        cells = sum(a.mapper.GetInput().GetNumberOfCells() for a, on in zip(interior.coarse, groups_on) if on)
        assert cells <= MOVING_CUBES
        # each merged cube is the mean of the exact blocks it merges, on the same colour range
        values = np.asarray(interior.coarse[0].mapper.GetInput().cell_data["values"])
        np.testing.assert_allclose(values[0], scene.interior[:f, :f, :f].mean(), rtol=1e-12)
        np.testing.assert_allclose(values[1], scene.interior[:f, :f, f:2 * f].mean(), rtol=1e-12)  # j fast
        assert interior.coarse[0].mapper.scalar_range == pytest.approx(interior.slices[0].mapper.scalar_range)
        assert _changed(moving, still) > 0.01
        style.EndRotate()
        after = w.plotter.screenshot(return_img=True)
        assert np.array_equal(after, still), "the exact cubes did not come back when the mouse let go"
        assert [bool(a.GetVisibility()) for a in interior.slices] == shown
        assert not any(a.GetVisibility() for a in interior.coarse)
    finally:
        w.plotter.close()
