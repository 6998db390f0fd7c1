"""Where things sit in world space for one matmul cube.

Axis convention (the same in every scene):

* one matrix element is one world unit;
* ``x = j`` runs to the right, ``y = -i`` runs down, ``z = -k`` runs away from the viewer;
* the left operand A (m×k) is the **left wall** (plane x = -gap): i down, k into the depth;
* the right operand B (k×n) is the **ceiling** (plane y = +gap): k into the depth, j to the right;
* the result C (m×n) is the **back wall** (plane z = -k - gap), the face opposite k = 0.

Seen from the default camera (in front, a little right and below), this is the textbook layout
``[ . B ; A C ]`` folded into a box: A's last column and B's last row meet C's edges, and the
interior cell ``(i, k, j)`` lies between them. The camera looks into the corner, so no face hides
the interior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Face:
    """A matrix drawn on a rectangle: element ``[r, c]`` spans ``origin + [r,r+1]·row_dir + [c,c+1]·col_dir``."""

    name: str
    origin: np.ndarray  # (3,)
    row_dir: np.ndarray  # (3,) world step for one row
    col_dir: np.ndarray  # (3,) world step for one column
    shape: tuple[int, int]  # (rows, cols)

    def corners(self, row_edges: np.ndarray, col_edges: np.ndarray) -> np.ndarray:
        """Grid points at the given row/column boundaries, shape (len(row_edges), len(col_edges), 3)."""
        r = np.asarray(row_edges, dtype=np.float64)[:, None, None]
        c = np.asarray(col_edges, dtype=np.float64)[None, :, None]
        return self.origin + r * self.row_dir + c * self.col_dir

    def point(self, r: float, c: float) -> np.ndarray:
        """World position of fractional element coordinates (use ``r + 0.5`` for a cell centre)."""
        return self.origin + r * self.row_dir + c * self.col_dir

    @property
    def normal(self) -> np.ndarray:
        """Unit normal pointing into the box (the side the default camera sees)."""
        nrm = np.cross(self.row_dir, self.col_dir)
        return nrm / np.linalg.norm(nrm)


@dataclass(frozen=True)
class CubeLayout:
    """Geometry of the cube of ``A (m×k) @ B (k×n)``."""

    m: int
    k: int
    n: int

    @property
    def gap(self) -> float:
        """Distance between the interior and each face."""
        return max(0.5, 0.06 * max(self.m, self.k, self.n))

    @property
    def left(self) -> Face:
        return Face(
            "left",
            np.array([-self.gap, 0.0, 0.0]),
            np.array([0.0, -1.0, 0.0]),
            np.array([0.0, 0.0, -1.0]),
            (self.m, self.k),
        )

    @property
    def top(self) -> Face:
        return Face(
            "top",
            np.array([0.0, self.gap, 0.0]),
            np.array([0.0, 0.0, -1.0]),
            np.array([1.0, 0.0, 0.0]),
            (self.k, self.n),
        )

    @property
    def result(self) -> Face:
        return Face(
            "result",
            np.array([0.0, 0.0, -self.k - self.gap]),
            np.array([0.0, -1.0, 0.0]),
            np.array([1.0, 0.0, 0.0]),
            (self.m, self.n),
        )

    def cell_bounds(self, i0, i1, k0, k1, j0, j1) -> np.ndarray:
        """Axis-aligned bounds (xmin, xmax, ymin, ymax, zmin, zmax) of the cells i0:i1, k0:k1, j0:j1."""
        return np.array([j0, j1, -i1, -i0, -k1, -k0], dtype=np.float64)

    def cell_center(self, i: float, k: float, j: float) -> np.ndarray:
        """World position of fractional cell coordinates (``i + 0.5`` etc. for a cell centre)."""
        return np.array([j, -i, -k], dtype=np.float64)

    def block_boxes(self, blocks, b: int) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` (gm·gn, 3) corners of the interior blocks of k-block ``b``, i slow and j fast."""
        gm, _, gn = blocks.shape
        ii, jj = np.meshgrid(np.arange(gm), np.arange(gn), indexing="ij")
        ii, jj = ii.ravel(), jj.ravel()
        ei, ek, ej = (np.asarray(e, dtype=np.float64) for e in (blocks.edges_i, blocks.edges_k, blocks.edges_j))
        lo = np.stack([ej[jj], -ei[ii + 1], np.full(ii.size, -ek[b + 1])], axis=1)
        hi = np.stack([ej[jj + 1], -ei[ii], np.full(ii.size, -ek[b])], axis=1)
        return lo, hi

    def highlight_boxes(self, i: int, j: int, upto: int, blocks) -> list[np.ndarray]:
        """Outlines of the dot product behind ``C[i, j]``: row i of A, column j of B, the cell of C
        and (when ``upto`` > 0) the block of products summed so far."""
        g, eps, k = self.gap, 0.01 * self.gap, self.k
        boxes = [
            np.array([-g + eps, -g + eps, -(i + 1), -i, -k, 0]),  # row i of A
            np.array([j, j + 1, g - eps, g - eps, -k, 0]),  # column j of B
            np.array([j, j + 1, -(i + 1), -i, -k - g + eps, -k - g + eps]),  # C[i, j]
        ]
        if upto > 0:
            bi, _, bj = blocks.block_of(i, 0, j)
            i0, i1 = blocks.edges_i[bi], blocks.edges_i[bi + 1]
            j0, j1 = blocks.edges_j[bj], blocks.edges_j[bj + 1]
            boxes.append(np.array([j0, j1, -i1, -i0, -upto, 0], dtype=np.float64))
        return boxes

    def volume_grid(self, blocks) -> tuple[tuple, tuple, tuple]:
        """``(origin, spacing, dimensions)`` of an image grid with one point at each block centre."""
        gm, gk, gn = blocks.shape
        step = (self.n / gn, self.m / gm, self.k / gk)
        origin = (step[0] / 2, -self.m + step[1] / 2, -self.k + step[2] / 2)
        return origin, step, (gn, gm, gk)

    def crop_planes(self, upto: int) -> tuple[float, ...]:
        """Volume cropping planes that keep k < ``upto``."""
        return (0, self.n, -self.m, 0, -upto, 0)

    @property
    def bounds(self) -> np.ndarray:
        """Bounds of everything drawn: the interior and the three faces."""
        g = self.gap
        return np.array([-g, self.n, -self.m, g, -self.k - g, 0.0])

    @property
    def center(self) -> np.ndarray:
        return Box(self.bounds).center

    @property
    def radius(self) -> float:
        return Box(self.bounds).radius


@dataclass(frozen=True)
class Placement:
    """Where a cube sits in the world: world = ``origin + j·ax_j + i·ax_i + k·ax_k``.

    The axes are unit vectors along the world axes (±x, ±y, ±z). The identity placement
    (``ax_j=+x, ax_i=-y, ax_k=-z``) is the single-cube convention above.
    """

    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ax_j: tuple[float, float, float] = (1.0, 0.0, 0.0)
    ax_i: tuple[float, float, float] = (0.0, -1.0, 0.0)
    ax_k: tuple[float, float, float] = (0.0, 0.0, -1.0)

    @property
    def matrix(self) -> np.ndarray:
        """4×4 matrix from local coordinates (x = j, y = -i, z = -k) to world coordinates."""
        m = np.eye(4)
        m[:3, 0] = self.ax_j
        m[:3, 1] = -np.asarray(self.ax_i)
        m[:3, 2] = -np.asarray(self.ax_k)
        m[:3, 3] = self.origin
        return m

    @property
    def identity(self) -> bool:
        return bool(np.allclose(self.matrix, np.eye(4)))

    def to_world(self, points) -> np.ndarray:
        """Local points (..., 3) to world points (..., 3)."""
        p = np.asarray(points, dtype=np.float64)
        m = self.matrix
        return p @ m[:3, :3].T + m[:3, 3]

    def bounds(self, layout: CubeLayout) -> np.ndarray:
        """World bounds (xmin, xmax, ymin, ymax, zmin, zmax) of ``layout`` placed here."""
        b = layout.bounds
        corners = np.array([[x, y, z] for x in b[0:2] for y in b[2:4] for z in b[4:6]])
        w = self.to_world(corners)
        return np.ravel(np.column_stack([w.min(axis=0), w.max(axis=0)]))


def link(prev: CubeLayout, placed: Placement, nxt: CubeLayout, side: str) -> Placement:
    """Place ``nxt`` so that its ``side`` face ("left" or "right" operand) is ``prev``'s result face.

    The next cube continues behind the shared face (along ``prev``'s k axis), so the two cubes
    never overlap; seen from inside the second cube the shared matrix is mirrored, as any face
    seen from its other side.
    """
    ax_i, ax_j, ax_k = (np.asarray(a) for a in (placed.ax_i, placed.ax_j, placed.ax_k))
    face_origin = np.asarray(placed.origin) + (prev.k + prev.gap) * ax_k
    if side == "left":  # next's A (m×k') = prev's C (m×n): i stays, k' runs along prev's j
        new_i, new_k, new_j = ax_i, ax_j, ax_k
    elif side == "right":  # next's B (k'×n') = prev's C (m×n): k' runs along prev's i, j stays
        new_i, new_k, new_j = ax_k, ax_i, ax_j
    else:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    # the shared face sits at distance gap from the next interior, on the side opposite new_j/new_i
    normal = new_j if side == "left" else new_i
    origin = face_origin + nxt.gap * normal
    return Placement(tuple(origin), tuple(new_j), tuple(new_i), tuple(new_k))


def beside(bounds: np.ndarray, layout: CubeLayout, placed: Placement, gap: float) -> Placement:
    """``placed`` moved along +x so that ``layout`` starts ``gap`` to the right of ``bounds``."""
    mine = placed.bounds(layout)
    dx = float(bounds[1]) + gap - float(mine[0])
    o = placed.origin
    return Placement((o[0] + dx, o[1], o[2]), placed.ax_j, placed.ax_i, placed.ax_k)


@dataclass(frozen=True)
class Box:
    """Axis-aligned world bounds with the centre and radius the camera frames."""

    bounds: np.ndarray  # (xmin, xmax, ymin, ymax, zmin, zmax)

    @property
    def center(self) -> np.ndarray:
        b = self.bounds
        return np.array([(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2])

    @property
    def radius(self) -> float:
        b = self.bounds
        return 0.5 * float(np.linalg.norm([b[1] - b[0], b[3] - b[2], b[5] - b[4]]))


def union(bounds: list[np.ndarray]) -> Box:
    b = np.array(bounds)
    return Box(np.ravel(np.column_stack([b[:, 0::2].min(axis=0), b[:, 1::2].max(axis=0)])))


DEFAULT_AZIMUTH = 28.0  # degrees to the right of straight-on
DEFAULT_ELEVATION = -18.0  # degrees below the centre: the camera looks up at the ceiling (B)
VIEW_ANGLE = 30.0  # vertical field of view, degrees (VTK's default)


def camera(
    layout: CubeLayout | Box, azimuth: float = DEFAULT_AZIMUTH, elevation: float = DEFAULT_ELEVATION, zoom: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(position, focal_point, view_up)`` looking at the centre of a cube (or a ``Box`` of several).

    Azimuth turns around the vertical axis (0 = straight in front, on +z); elevation tilts up (+)
    or down (−). The distance fits the cube's bounding sphere in the vertical field of view, so an
    orbit keeps everything in the frame.
    """
    az, el = np.radians(azimuth), np.radians(elevation)
    direction = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
    distance = layout.radius / np.sin(np.radians(VIEW_ANGLE / 2)) / zoom
    focal = layout.center
    return focal + distance * direction, focal, np.array([0.0, 1.0, 0.0])

