"""matviz.graphics.sceneview.SceneView of one cube, checked on real offscreen frames by pixel probes.

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
    """The values a face carries (its grid's cells or its texture's texels), as a (rows, cols) matrix."""
    return view.views[0].faces[which].drawn_values()


def cell_pixel(view, project, which: str, r: int, c: int) -> tuple[int, int]:
    return project(view.plotter, view.views[0].faces[which].face.point(r + 0.5, c + 0.5))


def not_background(px) -> bool:
    return bool(np.abs(np.asarray(px, dtype=int) - BACKGROUND).max() > 30)


# ---------------------------------------------------------------- faces: colours and cell order


@pytest.fixture(scope="module")
def plain_frame(textbook_plain):
    """The textbook scene without numbers or interior: every face cell centre is unobstructed."""
    plotter = offscreen.make_plotter((400, 300))
    from matviz.graphics.sceneview import SceneView

    view = SceneView(plotter, textbook_plain)
    view.apply(replace(view.state, show_interior=False))
    img = offscreen.screenshot(plotter)
    yield view, img
    plotter.close()


@pytest.mark.parametrize("which", FACES)
def test_face_cells_have_their_colormap_colour(plain_frame, project, cmap_rgb, which):
    view, img = plain_frame
    scene = view.views[0].cube
    op = view.views[0].faces[which].op
    lim = view.views[0].face_clim(which)
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
    rows, cols = view.views[0].faces[which].face.shape
    fr = np.linspace(0.1, 0.9, 7)
    pts = [view.views[0].faces[which].face.point(a * rows, b * cols) for a in fr for b in fr]
    painted = [not_background(img[project(plotter, p)]) for p in pts]
    assert np.mean(painted) >= 0.9, f"{which} face: only {np.mean(painted):.0%} of its area is drawn"
    assert (np.abs(img.astype(int) - BACKGROUND).max(-1) > 30).mean() > 0.15  # the frame is not mostly blank


def test_image_scene_faces_are_gray_photographs(image_scene, make_view, project):
    plotter, view = make_view(image_scene)
    view.apply(replace(view.state, show_interior=False))
    img = offscreen.screenshot(plotter).astype(int)
    for which in FACES:
        values = image_scene.face_values(which)
        lim = view.views[0].face_clim(which)
        # probe a few cells away from labels; gray map: R = G = B = scaled value
        for r, c in [(12, 12), (12, 36), (30, 20), (36, 40)]:
            px = img[cell_pixel(view, project, which, r, c)]
            want = 255 * np.clip((values[r, c] - lim[0]) / (lim[1] - lim[0]), 0, 1)
            assert np.abs(px - want).max() <= 12, f"{which}[{r},{c}]: pixel {px}, gray {want:.0f}"


# ---------------------------------------------------------------- the sum over k


def test_k_done_zero_hides_interior_and_result_shows_zero(textbook_plain, make_view, project, cmap_rgb):
    plotter, view = make_view(textbook_plain)
    assert view.views[0].interior.mode == "cubes" and len(view.views[0].interior.slices) == textbook_plain.k_steps == 3
    assert all(a.GetVisibility() for a in view.views[0].interior.slices)
    view.apply(replace(view.state, k_done=0))
    assert not any(a.GetVisibility() for a in view.views[0].interior.slices)
    np.testing.assert_array_equal(face_values_drawn(view, "result"), np.zeros((2, 2)))
    img = offscreen.screenshot(plotter)
    op = textbook_plain.result
    lim = view.views[0].face_clim("result")
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
    assert [bool(a.GetVisibility()) for a in view.views[0].interior.slices] == [True, False, False]
    view.apply(replace(view.state, k_done=2, show_interior=False))
    assert not any(a.GetVisibility() for a in view.views[0].interior.slices)
    view.apply(replace(view.state, k_done=2, show_interior=True))
    assert [bool(a.GetVisibility()) for a in view.views[0].interior.slices] == [True, True, False]


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
    face = view.views[0].faces["result"].face

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
    text = view.views[0].formula(1, 0)
    total = a[1] @ b[:, 0]
    assert total == 49
    assert "49" in text
    for x, y in zip(a[1], b[:, 0]):
        assert f"{x:g}*{y:g}" in text  # 4*1, 5*3, 6*5
    assert "4*1 + 5*3 + 6*5" in text
    partial = view.views[0].formula(1, 0, upto=2)
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
    assert view.views[0].interior.mode == "volume" and view.volume is not None and not view.views[0].interior.slices
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
    for fa in view.views[0].faces.values():
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


# ---------------------------------------------------------------- large faces: one textured quad each


@pytest.fixture(scope="module")
def large_image_scene():
    """Two photographs whose faces have more than ``faces.TEXTURE_MIN`` cells a side (textured)."""
    import matviz as mv

    a = mv.load("sample:camera", shape=(80, 72))
    b = mv.load("sample:coins", shape=(72, 88))
    return mv.matmul(a, b)


@pytest.fixture(scope="module")
def large_attention():
    """Causal attention over 96 tokens: its score, mask and softmax faces are textured."""
    from matviz.chain import attention

    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((96, 8)) for _ in range(3))
    return attention(q, k, v, causal=True)


def _inside_margin(quad: np.ndarray, x: float, y: float) -> float:
    """Smallest distance in pixels from display point (x, y) to the edges of a convex quad
    (corners in order), negative when outside."""
    d = []
    area = 0.0
    for p0, p1 in zip(quad, np.roll(quad, -1, axis=0)):
        area += p0[0] * p1[1] - p1[0] * p0[1]
    for p0, p1 in zip(quad, np.roll(quad, -1, axis=0)):
        e = p1 - p0
        cross = e[0] * (y - p0[1]) - e[1] * (x - p0[0])
        d.append(np.sign(area) * cross / np.hypot(*e))
    return float(min(d))


def texel_probes(view, fv, stride: int = 3, cells=None) -> list[tuple[int, int, tuple[int, int]]]:
    """``(r, c, (row, col))``: cells of ``fv`` whose centre pixel lies at least 1 px inside the cell,
    under no text and, by the audit's id pass, on this face (nothing in front of it)."""
    from matviz.graphics.audit import id_pass

    plotter, pen = view.plotter, view.pen
    w, h = plotter.window_size
    ids, _, face_ids = id_pass(plotter, pen.faces)
    boxes = [t.box(pen.renderer) for t in pen.texts.values() if t.drawn and t.text.strip()] + list(pen.reserved)
    er, ec = fv.edges
    if cells is None:
        cells = [(r, c) for r in range(0, len(er) - 1, stride) for c in range(0, len(ec) - 1, stride)]
    out = []
    for r, c in cells:
        corners = fv.face.corners([er[r], er[r + 1]], [ec[c], ec[c + 1]]).reshape(4, 3)[[0, 1, 3, 2]]
        quad = pen.to_display(fv.cp.world(corners))
        centre = pen.to_display(fv.cp.world(fv.face.point((er[r] + er[r + 1]) / 2, (ec[c] + ec[c + 1]) / 2)[None]))[0]
        x, y = round(centre[0]), round(centre[1])
        row, col = int(h - 1 - y), int(x)
        if not (0 <= row < h and 0 <= col < w) or _inside_margin(quad, x, y) < 1.0:
            continue
        if any(b[0] - 2 <= x <= b[1] + 2 and b[2] - 2 <= y <= b[3] + 2 for b in boxes):
            continue
        if ids[row, col] != face_ids[fv.name]:
            continue
        out.append((r, c, (row, col)))
    return out


def face_pixel(view, fv, r: int, c: int) -> tuple[int, int]:
    """``(row, col)`` of the image pixel at the centre of cell [r, c] of face ``fv`` (any cube)."""
    x, y = view.pen.to_display(fv.cp.world(fv.face.point(r + 0.5, c + 0.5)[None]))[0]
    return int(view.plotter.window_size[1] - 1 - round(y)), int(round(x))


def expected_rgb(fv, value, cmap_rgb) -> np.ndarray:
    from matviz.graphics import colors

    if not np.isfinite(value):
        return np.array([int(colors.MASKED[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return cmap_rgb(fv.kind, fv.clim, value)


def assert_texels(view, fv, img, cmap_rgb, values=None, min_probes=100, **kw) -> int:
    values = fv.values if values is None else values
    probes = texel_probes(view, fv, **kw)
    assert len(probes) >= min_probes, f"{fv.name}: only {len(probes)} probe cells"
    bad = []
    for r, c, (row, col) in probes:
        got, want = img[row, col].astype(float), expected_rgb(fv, values[r, c], cmap_rgb)
        if np.abs(got - want).max() > COLOR_TOL:
            bad.append(f"[{r},{c}]={values[r, c]:.4g}: pixel {got}, colormap {want}")
    assert not bad, f"{fv.name}: {len(bad)} of {len(probes)} cells off their colour: {bad[:5]}"
    return len(probes)


def test_large_faces_are_textured_quads_of_their_cell_colours(large_image_scene, make_view, cmap_rgb):
    from matviz.graphics import faces

    plotter, view = make_view(large_image_scene, size=(1280, 720))
    view.apply(replace(view.state, show_interior=False))
    img = offscreen.screenshot(plotter)
    for which in FACES:
        fv = view.views[0].faces[which]
        assert max(fv.values.shape) > faces.TEXTURE_MIN and fv.textured and fv.grid is None
        assert fv.actor.GetMapper().GetInput().GetNumberOfCells() == 1, "a whole face is one quad"
        tex = fv.actor.GetTexture()
        assert tex is not None and not tex.GetInterpolate(), "nearest-neighbour texture"
        assert fv.actor.mapper.lookup_table.GetRange() == pytest.approx(view.views[0].face_clim(which))
        np.testing.assert_allclose(fv.drawn_values(), large_image_scene.face_values(which))
        assert_texels(view, fv, img, cmap_rgb)


def test_textured_result_follows_the_running_sum_and_its_range(large_image_scene, make_view, cmap_rgb):
    """Image results are coloured on the min-max of what is shown: each step of the sweep changes
    the values and the range, and the texture is recoloured from both."""
    plotter, view = make_view(large_image_scene, size=(1280, 720))
    fv = view.views[0].faces["result"]
    gk = large_image_scene.k_steps
    clims = []
    for kd in (gk // 2, gk // 5, gk):
        view.apply(replace(view.state, k_done=kd, show_interior=False))
        upto = int(large_image_scene.blocks.edges_k[kd])
        values = large_image_scene.face_values("result", upto_k=upto)
        np.testing.assert_allclose(fv.drawn_values(), values)
        clims.append(fv.clim)
        assert fv.clim == pytest.approx(view.views[0].face_clim("result", fv.op, values))
        img = offscreen.screenshot(plotter)
        assert_texels(view, fv, img, cmap_rgb, values=values)
    assert clims[0] != pytest.approx(clims[1]), "the range follows the running sum"


def test_textured_faces_draw_the_picture_the_cell_grid_draws(large_image_scene, make_view, monkeypatch):
    """Pixel for pixel the same frame as cells (bar pixels on a cell border, where the two round
    differently), mid-sweep."""
    from matviz.graphics import faces

    state = replace(large_image_scene.initial_state(), k_done=large_image_scene.k_steps // 3, show_interior=False)
    plotter, view = make_view(large_image_scene, size=(800, 600))
    view.apply(state)
    textured = offscreen.screenshot(plotter).astype(int)
    monkeypatch.setattr(faces, "TEXTURE_MIN", 10**6)
    plotter2, view2 = make_view(large_image_scene, size=(800, 600))
    assert not view2.views[0].faces["result"].textured
    view2.apply(state)
    cells = offscreen.screenshot(plotter2).astype(int)
    differ = (np.abs(textured - cells).max(-1) > COLOR_TOL).mean()
    assert differ < 0.002, f"{differ:.2%} of the pixels differ from the cell grid's frame"


def test_uneven_blocks_keep_their_extent_on_a_texture(make_view, cmap_rgb):
    """Blocks of 1 and 2 elements: one texel per element, so each block covers its own rows."""
    import matviz as mv

    rng = np.random.default_rng(5)
    scene = mv.matmul(rng.random((100, 30)), rng.random((30, 90)), face_max=70, interior="none")
    plotter, view = make_view(scene, size=(1280, 720))
    fv = view.views[0].faces["result"]
    er, ec = fv.edges
    assert len(set(np.diff(er))) == 2 and fv.textured
    assert fv.texture.GetInput().GetDimensions()[:2] == (90, 100)
    np.testing.assert_allclose(fv.drawn_values(), scene.face_values("result"))
    img = offscreen.screenshot(plotter)
    assert_texels(view, fv, img, cmap_rgb, stride=2)


def test_row_by_row_softmax_on_textured_faces(large_attention, make_view, cmap_rgb):
    """Mid-way through the softmax, the first rows show the probabilities and the rest the masked
    scores (gray above the diagonal); rows not kept by a level are not drawn by it at all."""
    from matviz.graphics.audit import id_pass

    plotter, view = make_view(large_attention, size=(1280, 720))
    cv = view.views[0]
    n = len(large_attention.cubes[0].stages)
    view.apply(replace(view.state, cube=0, k_done=None, post=n - 1 + 0.5, show_interior=False))
    img = offscreen.screenshot(plotter)
    soft, masked = cv.stage_faces[-1], cv.stage_faces[-2]
    assert soft.textured and masked.textured and soft.keep is not None
    cut = int(soft.keep[:, 0].sum())
    assert 0 < cut < 96 and (soft.keep == ~masked.keep).all()
    rows, cols = soft.values.shape
    away = [r for r in range(rows) if abs(r - cut) > 3]  # the swept row's outline (3 px) lies on the cut
    keep_cells = [(r, c) for r in away if r < cut for c in range(0, cols, 3)]
    rest_cells = [(r, c) for r in away if r >= cut for c in range(0, cols, 3)]
    assert_texels(view, soft, img, cmap_rgb, cells=keep_cells)
    assert_texels(view, masked, img, cmap_rgb, cells=rest_cells)
    assert np.isnan(masked.values[rest_cells[0][0], -1]), "the masked scores are NaN (gray) above the diagonal"
    # the softmax level alone: its rows not kept are not drawn (nothing of it there in the id pass)
    masked.show(False)
    ids, _, face_ids = id_pass(plotter, view.pen.faces)
    own = ids == face_ids[soft.name]
    for r in (cut + 3, rows - 5):
        for c in (5, cols // 2, cols - 5):
            assert not own[face_pixel(view, soft, r, c)], f"hidden cell [{r},{c}] of the softmax face is drawn"
    for r in (cut - 3, 2):
        assert own[face_pixel(view, soft, r, 1)], f"kept cell [{r},1] of the softmax face is not drawn"


def test_picking_a_textured_face(large_attention, large_image_scene, make_view):
    plotter, view = make_view(large_image_scene, size=(1280, 720))
    view.apply(replace(view.state, show_interior=False))
    assert view.views[0].faces["result"].textured
    for i, j in [(0, 0), (10, 70), (41, 3), (79, 87)]:
        assert view.cell_at(*view.display_point(i, j)) == (0, (i, j))
    plotter, view = make_view(large_attention, size=(1280, 720))
    for cube, (i, j) in ((1, (40, 3)), (0, (60, 20)), (0, (5, 90))):
        assert view.cell_at(*view.display_point(i, j, cube=cube)) == (cube, (i, j))
