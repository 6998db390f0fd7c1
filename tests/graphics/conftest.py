"""Fixtures for the rendering tests: small scenes, a plotter factory and pixel helpers.

Pixel helpers are fixtures (not imports from this file) so test modules stay plain pytest:

* ``project(plotter, point) -> (row, col)`` — the image pixel where a world point is drawn;
* ``cmap_rgb(kind, lim, value) -> (3,) float`` — the colour (0..255) a face uses for ``value``;
* ``make_view(size, scene) -> (plotter, view)`` — a plotter + SceneView closed after the test.
"""

from __future__ import annotations

import numpy as np
import pytest

import matviz as mv
import matviz.graphics  # noqa: F401  (selects the EGL window when there is no display)
from matviz.graphics import colors, offscreen
from matviz.graphics.sceneview import SceneView

SMALL = (400, 300)

# the textbook example: an asymmetric A (2x3), a signed B (3x2), C = [[22, 28], [49, 64]]
TEXTBOOK_A = [[1, 2, 3], [4, 5, 6]]
TEXTBOOK_B = [[1, -2], [3, 4], [5, 6]]


@pytest.fixture(scope="session")
def textbook():
    """``C = A @ B`` for the textbook example with the dot product of C[1, 0] highlighted."""
    return mv.matmul(TEXTBOOK_A, TEXTBOOK_B, highlight=(1, 0))


@pytest.fixture(scope="session")
def textbook_plain():
    """The textbook example without numbers on the cells and without a highlight (for colour probes)."""
    return mv.matmul(TEXTBOOK_A, TEXTBOOK_B, numbers=False)


@pytest.fixture(scope="session")
def image_scene():
    """Two bundled photographs, 48x48: faces drawn in gray, the 48^3 interior as a volume."""
    a = mv.load("sample:camera", shape=(48, 48))
    b = mv.load("sample:coins", shape=(48, 48))
    return mv.matmul(a, b)


@pytest.fixture(scope="session")
def big_scene():
    """80x80 @ 80x80 non-negative random data, interior budget 40^3: exact block means drawn as a volume.

    Non-negative data so the volume is visible: with zero-centred random data the diverging map
    makes the (smoothed) interior white and transparent.
    """
    rng = np.random.default_rng(7)
    return mv.matmul(rng.random((80, 80)), rng.random((80, 80)), budget=40**3)


@pytest.fixture
def make_view():
    """Factory ``make_view(scene, size=SMALL) -> (plotter, view)``; every plotter is closed afterwards."""
    made = []

    def _make(scene, size=SMALL):
        plotter = offscreen.make_plotter(size)
        made.append(plotter)
        return plotter, SceneView(plotter, scene)

    yield _make
    for p in made:
        p.close()


def world_to_pixel(plotter, point) -> tuple[int, int]:
    """``(row, col)`` of the image pixel where world ``point`` is drawn (rows from the top)."""
    import vtk

    coord = vtk.vtkCoordinate()
    coord.SetCoordinateSystemToWorld()
    coord.SetValue(*(float(v) for v in point))
    x, y = coord.GetComputedDoubleDisplayValue(plotter.renderer)
    height = plotter.window_size[1]
    return int(round(height - 1 - y)), int(round(x))  # display y runs up from the bottom


@pytest.fixture
def project():
    return world_to_pixel


def colormap_rgb(kind: str, lim: tuple[float, float], value) -> np.ndarray:
    """RGB (0..255 floats) that ``colors.cmap(kind)`` gives ``value`` under the range ``lim`` (clamped)."""
    import matplotlib

    lo, hi = lim
    x = np.clip((np.asarray(value, dtype=float) - lo) / ((hi - lo) or 1.0), 0.0, 1.0)
    return np.asarray(matplotlib.colormaps[colors.cmap(kind)](x))[..., :3] * 255.0


@pytest.fixture
def cmap_rgb():
    return colormap_rgb


def orange_mask(img: np.ndarray, tol: int = 30) -> np.ndarray:
    """Pixels within ``tol`` (per channel) of the highlight colour."""
    hl = np.array([int(colors.HIGHLIGHT[i : i + 2], 16) for i in (1, 3, 5)])
    return np.all(np.abs(img[..., :3].astype(int) - hl) <= tol, axis=-1)


@pytest.fixture
def orange():
    return orange_mask
