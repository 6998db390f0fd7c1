"""Scene scripts: a ``.py`` file with ``build() -> Scene`` (see ``scenes/``)."""

from __future__ import annotations

import runpy
from pathlib import Path

from matviz.errors import MatvizError
from matviz.scene import Chain, Scene


def load_scene(path: str | Path) -> Scene | Chain:
    """Run the script at ``path`` and return what its ``build()`` returns."""
    path = Path(path)
    if path.suffix != ".py":
        raise MatvizError(f"{path} is not a scene script (.py); to multiply files use --left/--right")
    if not path.is_file():
        raise MatvizError(f"{path}: no such scene script")
    namespace = runpy.run_path(str(path), run_name=f"matviz_scene_{path.stem}")
    build = namespace.get("build")
    if not callable(build):
        raise MatvizError(f"{path} has no build() function: define build() -> Scene")
    scene = build()
    if not isinstance(scene, (Scene, Chain)):
        raise MatvizError(f"{path}: build() returned {type(scene).__name__}, not a matviz Scene")
    return scene
