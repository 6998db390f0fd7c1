"""``export(scene, "scene.html")``: one self-contained page, written like every other output.

The page is built in memory (``matviz.graphics.html``), then written to an mkstemp-made temp file
beside the target and renamed, so a full disk, an exception or a signal leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from matviz.animate.writers import AtomicFiles, check_output, check_size, remove_stale_partials
from matviz.errors import OutputError

SUFFIX = ".html"


class HtmlWriter(AtomicFiles):
    """One page → ``path``, through a temp file renamed on success."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        remove_stale_partials(path)

    def write(self, data: bytes) -> None:
        self.write_bytes(self.path, data)


def export_html(scene, path: str | os.PathLike, *, size: tuple[int, int] = (1280, 720)) -> Path:
    """Write ``scene`` (a Cube or Chain) as one offline HTML page; return its path."""
    from matviz.graphics.html import require_extras
    from matviz.scene import Chain, Cube

    if isinstance(scene, (list, tuple)):
        raise OutputError(
            "an HTML page holds one scene, not a grid of heads: write the grid as .png/.mp4, or one head as .html"
        )
    if not isinstance(scene, (Cube, Chain)):
        raise OutputError(f"an HTML export draws a matviz Cube or Chain, got {type(scene).__name__}: e.g. mv.matmul(A, B)")
    size = check_size(size)
    path = check_output(path)
    if path.suffix.lower() != SUFFIX:
        raise OutputError(f"export_html() writes a .html file, got {path.name}")
    require_extras()
    from matviz.graphics.html import scene_html

    page = scene_html(scene, size).encode("utf-8")
    with HtmlWriter(path) as writer:
        writer.write(page)
    return path
