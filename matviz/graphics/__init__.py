"""The only package that imports pyvista: a Cube or Chain becomes actors, a ViewState updates them.

Importing it without a display selects VTK's EGL window, so offscreen rendering works on a
headless machine with no extra packages.
"""

import os as _os

if not _os.environ.get("DISPLAY") and not _os.environ.get("WAYLAND_DISPLAY"):
    _os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

from matviz.graphics.offscreen import frames, make_plotter, render  # noqa: E402
from matviz.graphics.sceneview import SceneView  # noqa: E402

__all__ = ["SceneView", "frames", "make_plotter", "render"]
