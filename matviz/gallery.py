"""The gallery: every scene script of a directory (default: the ones that ship with matviz) written
into a folder, or audited without writing anything. Two loops over ``matviz.outputs.Output``: nothing
here knows what kind of output a script builds. ``matviz demo`` is the same loop over three scenes.

    paths = write_gallery("gallery/")                       # every built-in scene
    found = audit_gallery(sizes=((1280, 720), (960, 540)))  # [(scene name, report), ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from matviz.errors import MatvizError, note as log_note, param
from matviz.outputs import DEMO, SCENES_DIR, Look, Note, Progress, as_output, load_scene, no_progress

AUDIT_SIZES = ((1280, 720), (960, 540))  # what the gallery audit checks by default
PAGES = ("textbook",)  # scenes the gallery also writes as a page (each carries ~1 MB of vtk.js)


@dataclass(frozen=True)
class Finding:
    """One audited picture of one scene."""

    scene: str
    report: object  # .violations, .size, .frame, .to_dict()

    def lines(self) -> list[str]:
        """Each violation as ``scene WxH still|frame N: rule: message``."""
        r = self.report
        where = "still" if r.frame is None else f"frame {r.frame}"
        return [f"{self.scene} {r.size[0]}x{r.size[1]} {where}: {v.rule}: {v.message}" for v in r.violations]


def scene_scripts(scenes: str | Path | None = None, names: Iterable[str] | None = None) -> list[Path]:
    """The ``*.py`` scene scripts in the folder ``scenes`` (default: the built-in scenes), sorted; or those named."""
    scenes = Path(scenes) if scenes is not None else SCENES_DIR
    if names is not None:
        return [scenes / f"{name}.py" for name in names]
    scripts = sorted(scenes.glob("*.py"))
    if not scripts:
        raise MatvizError(f"no scene scripts (*.py) in {scenes}: give {param('scenes')} a folder of scene scripts")
    return scripts


def write_gallery(
    out: str | Path,
    scripts: Sequence[Path] | None = None,
    look: Look = Look(),
    pages: Sequence[str] = PAGES,
    note: Note = log_note,
    progress: Progress = no_progress,
    wrote: Callable[[list[Path]], None] = lambda paths: None,
) -> list[Path]:
    """Write each script's output into ``out`` under the script's name; ``wrote`` hears each one's paths."""
    written = []
    for script in scripts if scripts is not None else scene_scripts():
        scene_look = Look(look.size, look.fps, look.duration, page=script.stem in pages)
        paths = as_output(load_scene(script), scene_look).write(Path(out), script.stem, note=note, progress=progress)
        wrote(paths)
        written += paths
    return written


def audit_gallery(
    sizes: Sequence[tuple[int, int]] = AUDIT_SIZES, scripts: Sequence[Path] | None = None, look: Look = Look()
) -> list[Finding]:
    """What the gallery would write, audited at each size, writing nothing."""
    findings = []
    for script in scripts if scripts is not None else scene_scripts():
        for report in as_output(load_scene(script), look).audit(sizes):
            findings.append(Finding(script.stem, report))
    return findings


def write_demo(out: str | Path, look: Look, note: Note = log_note, progress: Progress = no_progress, wrote=None):
    """``matviz demo``: the built-in scenes that need no model and no files, as stills and sweeps."""
    return write_gallery(out, scene_scripts(names=DEMO), look, (), note, progress, wrote or (lambda paths: None))
