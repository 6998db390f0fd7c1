"""matviz.graphics.view.SceneView, checked on real offscreen frames by pixel probes.

Faces are drawn unlit, so the pixel at the projected centre of a cell has exactly the colour the
colormap gives its value (up to the lookup table's 256 steps): that checks colours, ranges and the
row/column order of every face at once.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matviz.graphics import offscreen

COLOR_TOL = 8.0  # per channel, 0..255
BACKGROUND = np.array([255, 255, 255])  # Style.background = "white"
FACES = ("left", "top", "result")


def face_values_drawn(view, which: str) -> np.ndarray:
    """The values a face grid carries, as a (rows, cols) matrix (VTK stores them first index fastest)."""
    fa = view.faces[which]
    er, ec = fa.edges
    return np.asarray(fa.grid.cell_data["values"]).reshape((len(er) - 1, len(ec) - 1), order="F")


def cell_pixel(view, project, which: str, r: int, c: int) -> tuple[int, int]:
    return project(view.plotter, view.faces[which].face.point(r + 0.5, c + 0.5))


def not_background(px) -> bool:
    return bool(np.abs(np.asarray(px, dtype=int) - BACKGROUND).max() > 30)


# ---------------------------------------------------------------- faces: colours and cell order


@pytest.fixture(scope="module")
def plain_frame(textbook_plain):
    """The textbook scene without numbers or interior: every face cell centre is unobstructed."""
    plotter = offscreen.make_plotter((400, 300))
    from matviz.graphics.view import SceneView

    view = SceneView(plotter, textbook_plain)
    view.apply(replace(view.state, show_interior=False))
    img = offscreen.screenshot(plotter)
    yield view, img
    plotter.close()


@pytest.mark.parametrize("which", FACES)
def test_face_cells_have_their_colormap_colour(plain_frame, project, cmap_rgb, which):
    view, img = plain_frame
    scene = view.scene
    op = view.faces[which].op
    lim = view.face_clim(which)
    values = scene.face_values(which)
    expected_matrix = {"left": scene.left.values, "top": scene.right.values, "result": scene.result.values}[which]
    np.testing.assert_allclose(values, expected_matrix)  # small faces are drawn element by element
    rows, cols = values.shape
    expected = {(r, c): cmap_rgb(op.kind, lim, values[r, c]) for r in range(rows) for c in range(cols)}
    assert len({tuple(np.round(e)) for e in expected.values()}) == rows * cols, "probe cells need distinct colours"
    for (r, c), want in expected.items():
        row, col = cell_pixel(view, project, which, r, c)
        got = img[row, col].astype(float)
        assert np.abs(got - want).max() <= COLOR_TOL, f"{which}[{r},{c}]={values[r, c]}: pixel {got}, colormap {want}"
        # the pixel matches this cell's colour better than any other cell's: the order is right
        nearest = min(expected, key=lambda rc: np.abs(got - expected[rc]).max())
        assert nearest == (r, c), f"{which}[{r},{c}] is drawn with the colour of [{nearest[0]},{nearest[1]}]"


@pytest.mark.parametrize("which", FACES)
def test_face_region_is_not_background(textbook, make_view, project, which):
    """With everything drawn (numbers, interior, highlight), each face's projected area is painted."""
    plotter, view = make_view(textbook)
    img = offscreen.screenshot(plotter)
    rows, cols = view.faces[which].face.shape
    fr = np.linspace(0.1, 0.9, 7)
    pts = [view.faces[which].face.point(a * rows, b * cols) for a in fr for b in fr]
    painted = [not_background(img[project(plotter, p)]) for p in pts]
    assert np.mean(painted) >= 0.9, f"{which} face: only {np.mean(painted):.0%} of its area is drawn"
    assert (np.abs(img.astype(int) - BACKGROUND).max(-1) > 30).mean() > 0.15  # the frame is not mostly blank


def test_image_scene_faces_are_gray_photographs(image_scene, make_view, project):
    plotter, view = make_view(image_scene)
    view.apply(replace(view.state, show_interior=False))
    img = offscreen.screenshot(plotter).astype(int)
    for which in FACES:
        values = image_scene.face_values(which)
        lim = view.face_clim(which)
        # probe a few cells away from labels; gray map: R = G = B = scaled value
        for r, c in [(12, 12), (12, 36), (30, 20), (36, 40)]:
            px = img[cell_pixel(view, project, which, r, c)]
            want = 255 * np.clip((values[r, c] - lim[0]) / (lim[1] - lim[0]), 0, 1)
            assert np.abs(px - want).max() <= 12, f"{which}[{r},{c}]: pixel {px}, gray {want:.0f}"


# ---------------------------------------------------------------- the sum over k


def test_k_done_zero_hides_interior_and_result_shows_zero(textbook_plain, make_view, project, cmap_rgb):
    plotter, view = make_view(textbook_plain)
    assert view.mode == "cubes" and len(view.slices) == textbook_plain.k_steps == 3
    assert all(a.GetVisibility() for a in view.slices)
    view.apply(replace(view.state, k_done=0))
    assert not any(a.GetVisibility() for a in view.slices)
    np.testing.assert_array_equal(face_values_drawn(view, "result"), np.zeros((2, 2)))
    img = offscreen.screenshot(plotter)
    op = textbook_plain.result
    lim = view.face_clim("result")
    assert lim[0] <= 0.0 <= lim[1], "the running sums start at 0: the result's colour range must hold 0"
    zero = cmap_rgb(op.kind, lim, 0.0)
    for r in range(2):
        for c in range(2):
            px = img[cell_pixel(view, project, "result", r, c)].astype(float)
            assert np.abs(px - zero).max() <= COLOR_TOL, f"result[{r},{c}] at k_done=0: {px}, want {zero}"
    # and back to all of k: C[1,0] = 49 is the top of the range again (yellow, not the zero colour)
    view.apply(replace(view.state, k_done=None))
    img = offscreen.screenshot(plotter)
    px = img[cell_pixel(view, project, "result", 1, 0)].astype(float)
    assert np.abs(px - cmap_rgb(op.kind, lim, 49.0)).max() <= COLOR_TOL


def test_k_done_one_shows_exactly_the_first_slice(textbook, make_view):
    plotter, view = make_view(textbook)
    view.apply(replace(view.state, k_done=1))
    assert [bool(a.GetVisibility()) for a in view.slices] == [True, False, False]
    view.apply(replace(view.state, k_done=2, show_interior=False))
    assert not any(a.GetVisibility() for a in view.slices)
    view.apply(replace(view.state, k_done=2, show_interior=True))
    assert [bool(a.GetVisibility()) for a in view.slices] == [True, True, False]


def test_interior_slice_frames_differ(textbook, make_view):
    """Each added k-slice changes the picture (the slices are really drawn)."""
    plotter, view = make_view(textbook)
    shots = []
    for kd in range(textbook.k_steps + 1):
        view.apply(replace(view.state, k_done=kd))
        shots.append(offscreen.screenshot(plotter).astype(int))
    for a, b in zip(shots, shots[1:]):
        assert (np.abs(a - b).max(-1) > 40).mean() > 0.005


@pytest.mark.parametrize("scene_name", ["textbook", "big_scene"])
def test_result_face_is_the_partial_sum(request, make_view, scene_name):
    scene = request.getfixturevalue(scene_name)
    plotter, view = make_view(scene)
    a, b = scene.left.values, scene.right.values
    edges_k = scene.blocks.edges_k
    steps = range(scene.k_steps + 1) if scene.k_steps <= 8 else [0, 1, 7, scene.k_steps // 2, scene.k_steps]
    for kd in steps:
        view.apply(replace(view.state, k_done=kd))
        kk = int(edges_k[kd])
        drawn = face_values_drawn(view, "result")
        np.testing.assert_allclose(drawn, scene.face_values("result", upto_k=kk), err_msg=f"k_done={kd}")
        np.testing.assert_allclose(drawn, a[:, :kk] @ b[:kk, :], atol=1e-9, err_msg=f"k_done={kd}")


# ---------------------------------------------------------------- highlight


def test_highlight_is_drawn_in_orange_around_its_cell(textbook, make_view, project, orange):
    plotter, view = make_view(textbook)
    view.apply(replace(view.state, show_interior=False))
    img = offscreen.screenshot(plotter)
    mask = orange(img)
    assert mask.sum() > 200, f"only {mask.sum()} orange pixels"
    face = view.faces["result"].face

    def orange_near(r, c, radius=3):
        row, col = project(plotter, face.point(r, c))
        return bool(mask[row - radius : row + radius + 1, col - radius : col + radius + 1].any())

    # C[1,0] spans rows 1..2, columns 0..1: orange on the midpoints of its four edges
    for r, c in [(1, 0.5), (2, 0.5), (1.5, 0), (1.5, 1)]:
        assert orange_near(r, c), f"no orange outline at result point ({r}, {c})"
    # ... and not around the other corner cell C[0,1] (its top and right edges)
    for r, c in [(0, 1.5), (0.5, 2)]:
        assert not orange_near(r, c), f"orange outline at result point ({r}, {c}), away from C[1,0]"


def test_no_orange_without_highlight(textbook, make_view, orange):
    plotter, view = make_view(textbook)
    assert orange(offscreen.screenshot(plotter)).sum() > 200
    view.apply(replace(view.state, highlight=None))
    assert orange(offscreen.screenshot(plotter)).sum() == 0
    view.apply(replace(view.state, highlight=(0, 1)))
    assert orange(offscreen.screenshot(plotter)).sum() > 200


def test_formula_is_the_dot_product(textbook, make_view):
    _, view = make_view(textbook)
    a, b = textbook.left.values, textbook.right.values
    text = view.formula(1, 0)
    total = a[1] @ b[:, 0]
    assert total == 49
    assert "49" in text
    for x, y in zip(a[1], b[:, 0]):
        assert f"{x:g}*{y:g}" in text  # 4*1, 5*3, 6*5
    assert "4*1 + 5*3 + 6*5" in text
    partial = view.formula(1, 0, upto=2)
    assert f"= {a[1, :2] @ b[:2, 0]:g}" in partial and "6*5" not in partial


# ---------------------------------------------------------------- camera


def test_moving_the_camera_changes_the_frame(textbook):
    base = textbook.initial_state()
    states = [replace(base, azimuth=az) for az in (28.0, 40.0, 52.0, 28.0)]
    shots = [f.astype(int) for f in offscreen.frames(textbook, states, size=(320, 240))]
    for a, b in zip(shots[:3], shots[1:3]):
        assert (np.abs(a - b).max(-1) > 40).mean() > 0.01, "consecutive frames at different azimuths are equal"
    np.testing.assert_array_equal(shots[0], shots[3])  # same camera, same frame: rendering is deterministic


# ---------------------------------------------------------------- volume interior


def test_big_scene_uses_a_volume_cropped_along_k(big_scene, make_view):
    plotter, view = make_view(big_scene)
    assert view.mode == "volume" and view.volume is not None and not view.slices
    m, k, n = big_scene.shape
    gk = big_scene.k_steps
    assert gk == 40
    edges_k = big_scene.blocks.edges_k
    for kd in (0, 1, 13, gk // 2, gk):
        view.apply(replace(view.state, k_done=kd))
        planes = view.volume.mapper.GetCroppingRegionPlanes()
        assert planes[4:] == pytest.approx((-edges_k[kd], 0.0)), f"k_done={kd}: {planes}"
        assert planes[:4] == pytest.approx((0, n, -m, 0))
        assert bool(view.volume.mapper.GetCropping()) == (kd < gk)
        assert bool(view.volume.GetVisibility()) == (kd > 0)


def _diff(a, b) -> tuple[float, float]:
    d = np.abs(a.astype(int) - b.astype(int))
    return float(d.mean()), float((d.max(-1) > 40).mean())


def test_volume_is_visible_and_follows_k(big_scene, make_view):
    plotter, view = make_view(big_scene)
    full = offscreen.screenshot(plotter)
    view.apply(replace(view.state, show_interior=False))
    hidden = offscreen.screenshot(plotter)
    mean, frac = _diff(full, hidden)
    assert mean > 1.0 and frac > 0.01, f"the volume is not visible: mean diff {mean:.2f}, {frac:.1%} pixels"

    # the volume alone (faces hidden; the status line at the top masked): cropping to the first
    # half of k leaves less of it, and k_done=0 leaves none
    for fa in view.faces.values():
        fa.actor.SetVisibility(False)
    top = int(0.12 * plotter.window_size[1])

    def ink(kd):
        view.apply(replace(view.state, k_done=kd, show_interior=True))
        shot = offscreen.screenshot(plotter)[top:].astype(int)
        view.apply(replace(view.state, show_interior=False))
        bare = offscreen.screenshot(plotter)[top:].astype(int)
        return float(np.abs(shot - bare).sum())

    gk = big_scene.k_steps
    ink_full, ink_half, ink_none = ink(gk), ink(gk // 2), ink(0)
    assert ink_none == 0.0
    assert ink_half > 0.0, "half of the sum shows no volume"
    assert ink_full > 1.3 * ink_half, (
        f"cropping to half of k hardly changes the volume ({ink_half:.0f} vs {ink_full:.0f})"
    )


def test_volume_survives_anti_aliasing(big_scene):
    """Regression: SSAA used to drop volume rendering (the interior vanished from stills)."""
    size = (320, 240)
    shown = offscreen.render(big_scene, replace(big_scene.initial_state(), show_interior=True), size=size, aa=True)
    hidden = offscreen.render(big_scene, replace(big_scene.initial_state(), show_interior=False), size=size, aa=True)
    mean, frac = _diff(shown, hidden)
    assert mean > 1.0 and frac > 0.01, f"no volume in the anti-aliased still: mean diff {mean:.2f}, {frac:.1%}"
