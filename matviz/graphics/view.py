"""Old names kept for scene scripts and tests: one cube is a scene of one cube.

``SceneView(plotter, scene)`` draws a whole scene (camera, bands, legends); for one cube, the
cube's own visuals (faces, stage faces, interior slices, volume, formula) are reached on it too.
"""

from __future__ import annotations

from matviz.graphics.faces import GHOST, HIDDEN, face_grid, masked_means  # noqa: F401
from matviz.graphics.interior import CUBES_MAX, cubes  # noqa: F401
from matviz.graphics.labels import TICKS_MAX  # noqa: F401
from matviz.graphics.pen import fit as short  # noqa: F401
from matviz.graphics.sceneview import SceneView as _SceneView
from matviz.scene import NUMBERS_MAX_SIDE  # noqa: F401


class SceneView(_SceneView):
    """A scene view whose single cube's visuals are reachable directly (``view.faces`` …)."""

    def __getattr__(self, name):
        views = self.__dict__.get("views")
        if views and len(views) == 1:
            return getattr(views[0], name)
        raise AttributeError(name)
