"""The only package that imports pyvista: a Cube or Chain becomes actors, a ViewState updates them.

Importing it without a display selects VTK's EGL window, so offscreen rendering works on a
headless machine with no extra packages.
"""

import os as _os

if not _os.environ.get("DISPLAY") and not _os.environ.get("WAYLAND_DISPLAY"):
    _os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

__all__ = ["SceneView", "frames", "make_plotter", "render"]


def __getattr__(name: str):
    """The renderer's entry points, loaded on first use: ``matviz.graphics.figures`` (matplotlib
    figures that are files) does not pay for pyvista and VTK."""
    if name == "SceneView":
        from matviz.graphics.sceneview import SceneView

        return SceneView
    if name in ("frames", "make_plotter", "render"):
        from matviz.graphics import offscreen

        return getattr(offscreen, name)
    raise AttributeError(f"module 'matviz.graphics' has no attribute {name!r}")
