"""Geometry of matviz.core.layout: faces line up with the interior, the camera frames the box."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matviz.core.layout import VIEW_ANGLE, CubeLayout, camera

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
