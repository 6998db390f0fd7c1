"""What a user can make, behind one protocol: ``Output``.

An ``Output`` writes itself into a directory under a stem, audits what it would write (writing
nothing), and names the suffixes it makes. A scene script's ``build()`` returns one (a poster, a
sweep, a fit, the digits figures, a subspace still implement it themselves), or a ``Cube``, a
``Chain`` or a list of ``Chain``s (a grid), which ``as_output`` wraps in a ``SceneOutput``: the still,
the sweep over k and, if asked, the interactive page. The gallery, ``matviz demo`` and the CLI speak
only this protocol, so a new kind of output is its own module and nothing else (see
``tests/test_outputs.py``, which adds a toy kind).

Progress and notes are handed in as callbacks (the CLI prints them with rich): ``note(text)``, and
``progress(label)``, a context manager yielding ``update(done, total)``.
"""

from __future__ import annotations

import contextlib
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Protocol, Sequence, runtime_checkable

from matviz.errors import MatvizError, note as log_note
from matviz.scene import Chain, Cube

SCENES_DIR = Path(__file__).parent / "scenes"  # the scene scripts that ship with matviz (package data)
DEMO = ("textbook", "mishka_softmax", "attention_causal")  # what `matviz demo` renders: no torch, no files

Note = Callable[[str], None]
Update = Callable[[int, "int | None"], None]
Progress = Callable[[str], ContextManager[Update]]


def no_progress(label: str) -> ContextManager[Update]:
    """A ``progress`` that shows nothing."""
    return contextlib.nullcontext(lambda done, total: None)


@runtime_checkable
class Output(Protocol):
    """Anything a user can make. ``write`` returns the paths it wrote, each ``out/stem*`` with one of
    ``suffixes`` (a kind that writes a folder, like a fit, writes ``out/stem/``); ``audit`` returns
    one report per checked picture (``.violations``, ``.size``, ``.frame``, ``.to_dict()``)."""

    suffixes: tuple[str, ...]

    def write(self, out: Path, stem: str, note: Note = log_note, progress: Progress = no_progress) -> list[Path]: ...

    def audit(self, sizes: Sequence[tuple[int, int]]) -> list: ...


@dataclass(frozen=True)
class Look:
    """How the 3-D scenes of a gallery or demo are drawn: frame size, the sweep's fps and length, and
    whether a page (.html, ~1 MB of vtk.js each) is written beside the still and the sweep."""

    size: tuple[int, int] = (960, 540)
    fps: float = 24.0
    duration: float = 6.0
    page: bool = False
    audit_every: int = 12  # the audit checks the still and every 12th frame of the sweep


@dataclass(frozen=True)
class SceneOutput:
    """A Cube, a Chain or a grid (list of Chains) as an Output: ``stem.png`` (the still), ``stem.mp4``
    (the sweep over k) and, with ``look.page``, ``stem.html``."""

    scene: object
    look: Look = Look()

    @property
    def suffixes(self) -> tuple[str, ...]:
        return (".png", ".mp4", ".html") if self.look.page else (".png", ".mp4")

    def write(self, out: Path, stem: str, note: Note = log_note, progress: Progress = no_progress) -> list[Path]:
        from matviz.animate.export import export

        look, out = self.look, Path(out)
        jobs = [("still", ".png", "still", {}), ("sweep", ".mp4", "sweep", dict(fps=look.fps, duration=look.duration))]
        if look.page:
            jobs.append(("page", ".html", "still", {}))
        paths = []
        for what, suffix, animation, extra in jobs:
            with progress(f"{stem}: {what}") as update:
                paths += export(self.scene, out / f"{stem}{suffix}", animation, size=look.size, progress=update, **extra)
        return paths

    def audit(self, sizes: Sequence[tuple[int, int]]) -> list:
        """The frame audit of the still and of every ``audit_every``-th frame of the sweep, at each size."""
        from matviz.animate.export import sample_states
        from matviz.graphics import audit

        first = self.scene[0] if isinstance(self.scene, list) else self.scene  # a grid plays its tiles in step
        sweep = sample_states(first, "sweep", fps=self.look.fps, duration=self.look.duration)
        frames = [None, *range(0, len(sweep), self.look.audit_every)]
        states = sample_states(first, "still") + sweep[:: self.look.audit_every]
        reports = []
        for size in sizes:
            got = audit.audit_frames(self.scene, states, tuple(size), still=[frame is None for frame in frames])
            for report, frame in zip(got, frames):
                report.frame = frame
            reports += got
        return reports


def is_scene(value) -> bool:
    """A Cube, a Chain, or a non-empty list of Chains (a grid)."""
    if isinstance(value, (Cube, Chain)):
        return True
    return isinstance(value, list) and bool(value) and all(isinstance(s, Chain) for s in value)


def as_output(value, look: Look = Look()) -> Output:
    """``value`` itself if it is an Output, a ``SceneOutput`` if it is a scene; else an error."""
    if isinstance(value, Output):
        return value
    if is_scene(value):
        return SceneOutput(value, look)
    raise MatvizError(
        f"{type(value).__name__} is not something matviz can write: return a Cube, a Chain, a list of Chains "
        "(a grid), or an object with suffixes, write(out, stem) and audit(sizes) (see matviz.outputs.Output)"
    )


def scene_path(spec: str | Path) -> Path:
    """A scene script: a path to a ``.py`` file, or ``scene:NAME`` for one that ships with matviz."""
    text = str(spec)
    if text.startswith("scene:"):
        name = text[len("scene:"):]
        path = SCENES_DIR / f"{name}.py"
        if not name.isidentifier() or not path.is_file():
            raise MatvizError(f"{text}: no such built-in scene; the built-in scenes are {', '.join(scene_names())}")
        return path
    return Path(text)


def scene_names() -> list[str]:
    return sorted(p.stem for p in SCENES_DIR.glob("*.py"))


def load_scene(path: str | Path):
    """Run the scene script at ``path`` (or ``scene:NAME``) and return what its ``build()`` returns: a
    Cube, a Chain, a list of Chains (a grid), or another ``Output`` (a poster, a sweep, a fit, ...)."""
    path = scene_path(path)
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
        built = build()
    except SyntaxError as exc:
        raise MatvizError(f"{path}, line {exc.lineno}: syntax error in the scene script ({exc.msg})") from None
    except SystemExit as exc:
        raise MatvizError(
            f"{path} called sys.exit({exc.code!r}) instead of returning a scene: build() must return a Cube, Chain "
            "or list of Chains"
        ) from None
    if not (is_scene(built) or isinstance(built, Output)):
        raise MatvizError(
            f"{path}: build() returned {type(built).__name__}, not a matviz Cube, Chain, list of Chains (a grid) or "
            "Output (an object with suffixes, write(out, stem) and audit(sizes))"
        )
    return built
