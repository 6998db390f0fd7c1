"""Geometry of matviz.core.layout: faces line up with the interior, the camera frames the box."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matviz.core.layout import VIEW_ANGLE, Box, CubeLayout, Placement, beside, camera, link, union

sizes = st.integers(1, 600)
layouts = st.builds(CubeLayout, sizes, sizes, sizes)
SHAPES = [(1, 1, 1), (3, 7, 2), (64, 64, 64), (5, 300, 4), (512, 2, 384)]


def face_corners(face):
    rows, cols = face.shape
    return face.corners(np.arange(rows + 1), np.arange(cols + 1))  # (rows+1, cols+1, 3)


def span(pts, axis):
    v = pts[..., axis]
    return float(v.min()), float(v.max())


# ---------------------------------------------------------------- faces


@pytest.mark.parametrize("shape", SHAPES)
def test_left_face_spans_the_box_side(shape):
    m, k, n = shape
    L = CubeLayout(m, k, n)
    face = L.left
    assert face.shape == (m, k)
    p = face_corners(face)
    assert p.shape == (m + 1, k + 1, 3)
    assert np.all(p[..., 0] == -L.gap)
    assert span(p, 1) == (-m, 0.0)
    assert span(p, 2) == (-k, 0.0)
    # rows run down (y = -i), columns into the depth (z = -k)
    np.testing.assert_array_equal(p[:, 0, 1], -np.arange(m + 1))
    np.testing.assert_array_equal(p[0, :, 2], -np.arange(k + 1))


@pytest.mark.parametrize("shape", SHAPES)
def test_top_face_spans_the_box_side(shape):
    m, k, n = shape
    L = CubeLayout(m, k, n)
    face = L.top
    assert face.shape == (k, n)
    p = face_corners(face)
    assert np.all(p[..., 1] == L.gap)
    assert span(p, 0) == (0.0, n)
    assert span(p, 2) == (-k, 0.0)
    np.testing.assert_array_equal(p[:, 0, 2], -np.arange(k + 1))
    np.testing.assert_array_equal(p[0, :, 0], np.arange(n + 1))


@pytest.mark.parametrize("shape", SHAPES)
def test_result_face_spans_the_back(shape):
    m, k, n = shape
    L = CubeLayout(m, k, n)
    face = L.result
    assert face.shape == (m, n)
    p = face_corners(face)
    assert np.all(p[..., 2] == -k - L.gap)
    assert span(p, 0) == (0.0, n)
    assert span(p, 1) == (-m, 0.0)
    np.testing.assert_array_equal(p[:, 0, 1], -np.arange(m + 1))
    np.testing.assert_array_equal(p[0, :, 0], np.arange(n + 1))


@settings(max_examples=100, deadline=None)
@given(L=layouts)
def test_gap_separates_faces_from_interior(L):
    assert L.gap > 0
    lo = L.cell_bounds(0, L.m, 0, L.k, 0, L.n)  # the whole interior
    assert L.left.origin[0] < lo[0]
    assert L.top.origin[1] > lo[3]
    assert L.result.origin[2] < lo[4]


@settings(max_examples=100, deadline=None)
@given(L=layouts)
def test_normals_point_into_the_box(L):
    for face in (L.left, L.top, L.result):
        nrm = face.normal
        assert np.isclose(np.linalg.norm(nrm), 1.0)
        rows, cols = face.shape
        mid = face.point(rows / 2, cols / 2)
        assert np.dot(L.center - mid, nrm) > 0, face.name
        # the normal is perpendicular to the face plane
        assert abs(np.dot(face.row_dir, nrm)) < 1e-12 and abs(np.dot(face.col_dir, nrm)) < 1e-12
    np.testing.assert_array_equal(L.left.normal, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(L.top.normal, [0.0, -1.0, 0.0])
    np.testing.assert_array_equal(L.result.normal, [0.0, 0.0, 1.0])


@settings(max_examples=100, deadline=None)
@given(L=layouts, data=st.data())
def test_interior_cell_lines_up_with_its_face_elements(L, data):
    """Cell (i, k, j) sits in front of A[i,k] on the left, B[k,j] above and C[i,j] behind."""
    i = data.draw(st.integers(0, L.m - 1))
    k = data.draw(st.integers(0, L.k - 1))
    j = data.draw(st.integers(0, L.n - 1))
    c = L.cell_center(i + 0.5, k + 0.5, j + 0.5)
    a = L.left.point(i + 0.5, k + 0.5)
    b = L.top.point(k + 0.5, j + 0.5)
    r = L.result.point(i + 0.5, j + 0.5)
    np.testing.assert_allclose(c[[1, 2]], a[[1, 2]])  # same (y, z): projects onto A[i,k]
    np.testing.assert_allclose(c[[0, 2]], b[[0, 2]])  # same (x, z): projects onto B[k,j]
    np.testing.assert_allclose(c[[0, 1]], r[[0, 1]])  # same (x, y): projects onto C[i,j]


@settings(max_examples=150, deadline=None)
@given(L=layouts, data=st.data())
def test_cell_center_inside_cell_bounds(L, data):
    i = data.draw(st.integers(0, L.m - 1))
    k = data.draw(st.integers(0, L.k - 1))
    j = data.draw(st.integers(0, L.n - 1))
    c = L.cell_center(i + 0.5, k + 0.5, j + 0.5)
    xmin, xmax, ymin, ymax, zmin, zmax = L.cell_bounds(i, i + 1, k, k + 1, j, j + 1)
    assert xmin < c[0] < xmax and ymin < c[1] < ymax and zmin < c[2] < zmax
    assert (xmax - xmin, ymax - ymin, zmax - zmin) == (1.0, 1.0, 1.0)
    # and outside the neighbouring cell along every axis
    nb = L.cell_bounds(i + 1, i + 2, k + 1, k + 2, j + 1, j + 2)
    assert not (nb[0] < c[0] < nb[1]) and not (nb[2] < c[1] < nb[3]) and not (nb[4] < c[2] < nb[5])


@settings(max_examples=100, deadline=None)
@given(L=layouts)
def test_bounds_contain_every_face_and_the_interior(L):
    xmin, xmax, ymin, ymax, zmin, zmax = L.bounds
    pts = [face_corners(f).reshape(-1, 3) for f in (L.left, L.top, L.result)]
    inner = L.cell_bounds(0, L.m, 0, L.k, 0, L.n)
    pts.append(np.array([[x, y, z] for x in inner[:2] for y in inner[2:4] for z in inner[4:]]))
    p = np.concatenate(pts)
    eps = 1e-9
    assert np.all(p[:, 0] >= xmin - eps) and np.all(p[:, 0] <= xmax + eps)
    assert np.all(p[:, 1] >= ymin - eps) and np.all(p[:, 1] <= ymax + eps)
    assert np.all(p[:, 2] >= zmin - eps) and np.all(p[:, 2] <= zmax + eps)
    # tight: each bound is attained by something drawn
    for axis, (lo, hi) in enumerate(((xmin, xmax), (ymin, ymax), (zmin, zmax))):
        assert np.isclose(p[:, axis].min(), lo) and np.isclose(p[:, axis].max(), hi)
    # the bounding sphere of the camera contains all of it
    assert np.all(np.linalg.norm(p - L.center, axis=1) <= L.radius + 1e-9)


# ---------------------------------------------------------------- camera


def _bounds_corners(L):
    b = L.bounds
    return np.array([[x, y, z] for x in b[:2] for y in b[2:4] for z in b[4:]])


@settings(max_examples=100, deadline=None)
@given(L=layouts, az=st.floats(-180, 180), el=st.floats(-80, 80))
def test_camera_distance_fits_bounding_sphere(L, az, el):
    pos, focal, up = camera(L, azimuth=az, elevation=el)
    np.testing.assert_allclose(focal, L.center)
    np.testing.assert_array_equal(up, [0.0, 1.0, 0.0])
    dist = np.linalg.norm(pos - focal)
    assert dist * np.sin(np.radians(VIEW_ANGLE / 2)) >= L.radius * (1 - 1e-12)
    # every corner of the drawn box is within the half field of view as seen from the camera
    view = (focal - pos) / dist
    for corner in _bounds_corners(L):
        d = corner - pos
        ang = np.degrees(np.arccos(np.clip(np.dot(d, view) / np.linalg.norm(d), -1, 1)))
        assert ang <= VIEW_ANGLE / 2 + 1e-6


def test_camera_zoom_moves_closer():
    L = CubeLayout(10, 20, 30)
    p1, f, _ = camera(L, zoom=1.0)
    p2, _, _ = camera(L, zoom=2.0)
    np.testing.assert_allclose(np.linalg.norm(p2 - f), np.linalg.norm(p1 - f) / 2)


@pytest.mark.parametrize("shape", SHAPES)
def test_camera_straight_in_front_at_zero_angles(shape):
    L = CubeLayout(*shape)
    pos, focal, _ = camera(L, azimuth=0.0, elevation=0.0)
    assert np.isclose(pos[0], focal[0]) and np.isclose(pos[1], focal[1])
    assert pos[2] > focal[2]
    assert pos[2] > L.bounds[5]  # in front of everything drawn


def test_camera_azimuth_and_elevation_directions():
    L = CubeLayout(8, 8, 8)
    pos, focal, _ = camera(L, azimuth=90.0, elevation=0.0)
    d = pos - focal
    assert d[0] > 0 and np.isclose(d[1], 0) and np.isclose(d[2], 0, atol=1e-9 * np.linalg.norm(d))
    pos, focal, _ = camera(L, azimuth=0.0, elevation=30.0)
    d = pos - focal
    assert d[1] > 0 and np.isclose(d[0], 0)
    np.testing.assert_allclose(np.degrees(np.arcsin(d[1] / np.linalg.norm(d))), 30.0)


@settings(max_examples=150, deadline=None)
@given(L=layouts)
def test_default_camera_sees_the_inside_of_every_face(L):
    pos, _, _ = camera(L)
    for face in (L.left, L.top, L.result):
        rows, cols = face.shape
        for r, c in ((0, 0), (rows, 0), (0, cols), (rows, cols), (rows / 2, cols / 2)):
            assert np.dot(pos - face.point(r, c), face.normal) > 0, face.name


# ---------------------------------------------------------------- placements, links, boxes


def world_corners(face, placement):
    """World positions of every integer grid point of ``face`` under ``placement``."""
    return placement.to_world(face_corners(face))  # (rows+1, cols+1, 3)


def interior_box(L, placement):
    """World (lo, hi) corners of the interior (the product cells, not the faces) of ``L`` placed."""
    b = L.cell_bounds(0, L.m, 0, L.k, 0, L.n)
    pts = placement.to_world(np.array([[x, y, z] for x in b[:2] for y in b[2:4] for z in b[4:]]))
    return pts.min(axis=0), pts.max(axis=0)


def bounds_box(bounds):
    b = np.asarray(bounds)
    return b[0::2], b[1::2]


def overlap_volume(a, b):
    """Volume of the intersection of two axis-aligned boxes given as (lo, hi)."""
    lo, hi = np.maximum(a[0], b[0]), np.minimum(a[1], b[1])
    return float(np.prod(np.clip(hi - lo, 0.0, None)))


small = st.integers(1, 40)


def test_identity_placement_is_the_single_cube_convention():
    P = Placement()
    np.testing.assert_array_equal(P.matrix, np.eye(4))
    assert P.identity
    pts = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(P.to_world(pts), pts)
    L = CubeLayout(3, 7, 2)
    np.testing.assert_array_equal(P.bounds(L), L.bounds)


def test_placement_matrix_maps_local_axes():
    """world = origin + j·ax_j + i·ax_i + k·ax_k for local (x, y, z) = (j, -i, -k)."""
    P = Placement(origin=(1.0, 2.0, 3.0), ax_j=(0.0, 0.0, -1.0), ax_i=(0.0, -1.0, 0.0), ax_k=(1.0, 0.0, 0.0))
    assert not P.identity
    i, k, j = 2.0, 5.0, 7.0
    want = np.array([1.0, 2.0, 3.0]) + j * np.array([0, 0, -1]) + i * np.array([0, -1, 0]) + k * np.array([1, 0, 0])
    np.testing.assert_allclose(P.to_world([j, -i, -k]), want)
    np.testing.assert_allclose(P.matrix @ np.array([j, -i, -k, 1.0]), np.append(want, 1.0))


@settings(max_examples=60, deadline=None)
@given(m=small, k=small, n=small, n2=small)
def test_link_left_shares_the_result_face(m, k, n, n2):
    prev, nxt = CubeLayout(m, k, n), CubeLayout(m, n, n2)  # next's A (m×n) is prev's C
    placed = link(prev, Placement(), nxt, "left")
    np.testing.assert_allclose(world_corners(nxt.left, placed), world_corners(prev.result, Placement()), atol=1e-9)
    # the next cube's interior lies behind the shared face, never inside the previous interior
    assert overlap_volume(interior_box(prev, Placement()), interior_box(nxt, placed)) == 0.0
    assert overlap_volume(interior_box(prev, Placement()), bounds_box(placed.bounds(nxt))) == 0.0


@settings(max_examples=60, deadline=None)
@given(m=small, k=small, n=small, n2=small)
def test_link_right_shares_the_result_face(m, k, n, n2):
    prev, nxt = CubeLayout(m, k, n), CubeLayout(n2, m, n)  # next's B (m×n) is prev's C
    placed = link(prev, Placement(), nxt, "right")
    np.testing.assert_allclose(world_corners(nxt.top, placed), world_corners(prev.result, Placement()), atol=1e-9)
    assert overlap_volume(interior_box(prev, Placement()), interior_box(nxt, placed)) == 0.0
    assert overlap_volume(interior_box(prev, Placement()), bounds_box(placed.bounds(nxt))) == 0.0


def test_link_worked_example():
    """C (3×4) of a 3×5×4 cube becomes A of a 3×4×6 cube: the shared plane is z = -5 - gap."""
    prev, nxt = CubeLayout(3, 5, 4), CubeLayout(3, 4, 6)
    placed = link(prev, Placement(), nxt, "left")
    shared = world_corners(nxt.left, placed)
    assert np.all(shared[..., 2] == -5 - prev.gap)
    # the second cube's interior is entirely behind the shared face
    lo, hi = interior_box(nxt, placed)
    assert hi[2] <= -5 - prev.gap - nxt.gap + 1e-12
    assert lo[2] == pytest.approx(-5 - prev.gap - nxt.gap - 6)


def test_link_rejects_unknown_side():
    with pytest.raises(ValueError):
        link(CubeLayout(2, 2, 2), Placement(), CubeLayout(2, 2, 2), "top")


@settings(max_examples=60, deadline=None)
@given(
    dims=st.lists(small, min_size=4, max_size=4),
    sides=st.lists(st.sampled_from(["left", "right"]), min_size=2, max_size=2),
)
def test_links_compose_for_three_cubes(dims, sides):
    """A chain of three cubes, each linked to the previous one's result: faces coincide, interiors are disjoint."""
    m, k, n, x = dims
    layouts, placements = [CubeLayout(m, k, n)], [Placement()]
    for side in sides:
        prev, p = layouts[-1], placements[-1]
        nxt = CubeLayout(prev.m, prev.n, x) if side == "left" else CubeLayout(x, prev.m, prev.n)
        layouts.append(nxt)
        placements.append(link(prev, p, nxt, side))
    for c, side in enumerate(sides, start=1):
        face = layouts[c].left if side == "left" else layouts[c].top
        np.testing.assert_allclose(
            world_corners(face, placements[c]), world_corners(layouts[c - 1].result, placements[c - 1]), atol=1e-9
        )
    boxes = [interior_box(L, P) for L, P in zip(layouts, placements)]
    for a in range(3):
        for b in range(a + 1, 3):
            assert overlap_volume(boxes[a], boxes[b]) == 0.0, (a, b)
    # every placement stays a signed permutation of the axes (one unit per axis)
    for P in placements:
        R = P.matrix[:3, :3]
        np.testing.assert_array_equal(np.abs(R).sum(axis=0), [1, 1, 1])
        np.testing.assert_array_equal(np.abs(R).sum(axis=1), [1, 1, 1])


@settings(max_examples=60, deadline=None)
@given(m=small, k=small, n=small, gap=st.floats(0.0, 50.0), shift=st.floats(-100, 100))
def test_beside_puts_the_cube_to_the_right_with_the_gap(m, k, n, gap, shift):
    L = CubeLayout(m, k, n)
    other = np.array([-3.0, 7.5 + shift, -2.0, 4.0, -9.0, 1.0])
    start = Placement(origin=(shift, 1.0, -2.0))
    moved = beside(other, L, start, gap)
    b, before = moved.bounds(L), start.bounds(L)
    assert b[0] == pytest.approx(other[1] + gap)
    assert b[1] - b[0] == pytest.approx(before[1] - before[0])  # moved, not resized
    np.testing.assert_allclose(b[2:], before[2:])  # only along x
    assert (moved.ax_i, moved.ax_j, moved.ax_k) == (start.ax_i, start.ax_j, start.ax_k)


def test_union_is_the_smallest_box_around_all():
    a = np.array([0.0, 1.0, -2.0, 0.0, -3.0, 0.0])
    b = np.array([-1.0, 0.5, -5.0, 2.0, -1.0, 4.0])
    box = union([a, b])
    np.testing.assert_array_equal(box.bounds, [-1.0, 1.0, -5.0, 2.0, -3.0, 4.0])
    np.testing.assert_allclose(box.center, [0.0, -1.5, 0.5])
    assert box.radius == pytest.approx(0.5 * np.linalg.norm([2.0, 7.0, 7.0]))
    np.testing.assert_array_equal(union([a]).bounds, a)


boxes = st.tuples(
    st.floats(-500, 500),
    st.floats(0.1, 800),
    st.floats(-500, 500),
    st.floats(0.1, 800),
    st.floats(-500, 500),
    st.floats(0.1, 800),
).map(lambda t: Box(np.array([t[0], t[0] + t[1], t[2], t[2] + t[3], t[4], t[4] + t[5]])))


@settings(max_examples=100, deadline=None)
@given(box=boxes, az=st.floats(-180, 180), el=st.floats(-80, 80), zoom=st.floats(0.2, 1.0))
def test_camera_on_a_box_keeps_every_corner_in_view(box, az, el, zoom):
    pos, focal, _ = camera(box, azimuth=az, elevation=el, zoom=zoom)
    np.testing.assert_allclose(focal, box.center)
    b = box.bounds
    view = (focal - pos) / np.linalg.norm(focal - pos)
    for corner in np.array([[x, y, z] for x in b[:2] for y in b[2:4] for z in b[4:]]):
        d = corner - pos
        ang = np.degrees(np.arccos(np.clip(np.dot(d, view) / np.linalg.norm(d), -1, 1)))
        assert ang < VIEW_ANGLE / 2 + 1e-6
