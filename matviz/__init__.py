"""matviz: matrix multiplication (and attention) as 3D scenes.

    import matviz as mv
    s = mv.matmul(A, B)                  # Scene; s.result.values == A @ B
    mv.render(s, "still.png")            # offscreen PNG
    mv.export(s, "sweep.mp4", animation="sweep", fps=30)
    mv.show(s)                           # interactive window

Importing matviz does not import pyvista; rendering functions load it on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

from matviz.errors import MatvizError
from matviz.scene import Operand, Scene, Style, ViewState, matmul, transform
from matviz.sources import load

__version__ = "0.1.0"
__all__ = [
    "MatvizError",
    "Operand",
    "Scene",
    "Style",
    "ViewState",
    "export",
    "load",
    "matmul",
    "render",
    "show",
    "transform",
]


def render(
    scene: Scene, path: str | os.PathLike, *, size: tuple[int, int] = (1280, 720), state: ViewState | None = None
) -> Path:
    """Render one anti-aliased still of ``scene`` (default: its initial state) to a PNG file."""
    from matviz.animate.writers import check_output, open_writer
    from matviz.errors import OutputError
    from matviz.graphics import render as render_frame

    path = check_output(path)
    if path.suffix.lower() != ".png":
        raise OutputError(f"render() writes a .png, got {path.name}: use export() for .gif/.mp4")
    frame = render_frame(scene, state, size)
    with open_writer(path) as writer:
        writer.write_frame(frame)
    return path


def export(scene: Scene, path: str | os.PathLike, animation: str = "still", **kwargs) -> list[Path]:
    """Write ``scene`` as PNG / PNG sequence / GIF / MP4; see ``matviz.animate.export.export``."""
    from matviz.animate.export import export as _export

    return _export(scene, path, animation, **kwargs)


def show(
    scene: Scene, animation: str = "sweep", *, duration: float | None = None, size: tuple[int, int] = (1280, 720)
) -> None:
    """Open the interactive window playing ``animation`` (blocks until it is closed).

    Keys: space play/pause, Right/Left step k, i interior, h clear highlight; right-click a result
    cell to highlight its dot product and print its terms (``matviz.graphics.window``).
    """
    from matviz.animate.timeline import make_timeline
    from matviz.graphics.window import Window

    Window(scene, make_timeline(animation, scene, duration), size=size).show()
