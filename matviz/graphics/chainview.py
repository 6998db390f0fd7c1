"""The old name of the scene view: a chain of cubes is drawn by ``SceneView`` like any scene."""

from matviz.graphics.sceneview import SceneView as ChainView  # noqa: F401
