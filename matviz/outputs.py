"""Scene scripts: a ``.py`` file with ``build() -> Cube | Chain`` (see ``scenes/``), or a flat
spec, ``build() -> matviz.paper.poster.Poster | Sweep`` (a contact sheet or a temperature sweep)."""

from __future__ import annotations

import runpy
from pathlib import Path

from matviz.errors import MatvizError
from matviz.scene import Chain, Cube


class GalleryJob:
    """A scene script's ``build()`` result that writes its own gallery entry (``matviz digits``'s
    figures, a subspace still): ``gallery(out, stem, note)`` writes and returns the paths;
    ``audit(sizes)`` returns audit Reports of what it would write, writing nothing."""

    def gallery(self, out: Path, stem: str, note=None) -> list[Path]:
        raise NotImplementedError

    def audit(self, sizes) -> list:
        raise NotImplementedError


def load_scene(path: str | Path):
    """Run the script at ``path`` and return what its ``build()`` returns: a Cube, a Chain, a list
    of Chains (a grid), or a flat ``Poster`` or ``Sweep``."""
    from matviz.learning.fit import FitSpec
    from matviz.paper.poster import Poster, Sweep

    path = Path(path)
    if path.suffix != ".py":
        raise MatvizError(f"{path} is not a scene script (.py); to multiply files use --left/--right")
    if not path.is_file():
        raise MatvizError(f"{path}: no such scene script")
    try:
        namespace = runpy.run_path(str(path), run_name=f"matviz_scene_{path.stem}")
        build = namespace.get("build")
        if not callable(build):
            raise MatvizError(
                f"{path} has no build() function: define build() -> Cube | Chain, e.g. return matviz.matmul(A, B)"
            )
        scene = build()
    except SyntaxError as exc:
        raise MatvizError(f"{path}, line {exc.lineno}: syntax error in the scene script ({exc.msg})") from None
    except SystemExit as exc:
        raise MatvizError(
            f"{path} called sys.exit({exc.code!r}) instead of returning a scene: build() must return a Cube, Chain "
            "or list of Chains"
        ) from None
    grid = isinstance(scene, list) and scene and all(isinstance(s, Chain) for s in scene)
    if not (isinstance(scene, (Cube, Chain, Poster, Sweep, FitSpec, GalleryJob)) or grid):
        raise MatvizError(
            f"{path}: build() returned {type(scene).__name__}, not a matviz Cube, Chain, list of Chains (a grid), Poster, Sweep, FitSpec or GalleryJob"
        )
    return scene
