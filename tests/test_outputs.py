"""matviz.outputs and matviz.gallery: one protocol for everything a user can make, and the loops that
speak only that protocol. A toy kind of output, defined here and nowhere in the package, goes through
the gallery, its audit and the CLI with no registration at all."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import matviz as mv
from matviz.cli import main
from matviz.errors import MatvizError
from matviz.outputs import DEMO, Look, Output, SceneOutput, as_output, load_scene, scene_names, scene_path

TOY = '''
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Violation:
    rule: str
    message: str


@dataclass
class Report:
    size: tuple
    frame: object = None
    violations: list = field(default_factory=list)

    def to_dict(self):
        return {"size": list(self.size), "violations": [v.__dict__ for v in self.violations]}


class Toy:
    """A kind of output the package has never heard of: a text file, and a report per size."""

    suffixes = (".txt",)

    def __init__(self, bad=False):
        self.bad = bad

    def write(self, out, stem, note=None, progress=None):
        if note is not None:
            note("the toy writes one line")
        path = Path(out) / f"{stem}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("toy\\n")
        return [path]

    def audit(self, sizes):
        return [Report(tuple(s), None, [Violation("toy-rule", "always")] if self.bad else []) for s in sizes]


def build():
    return Toy(bad=BAD)
'''


def toy_scenes(tmp_path: Path, bad: bool = False) -> Path:
    scenes = tmp_path / "scenes"
    scenes.mkdir(parents=True)
    (scenes / "toy.py").write_text(TOY.replace("BAD", str(bad)))
    (scenes / "tiny.py").write_text("import matviz as mv\n\ndef build():\n    return mv.matmul([[1.0, 2.0]], [[3.0], [4.0]])\n")
    return scenes


def test_a_new_kind_of_output_needs_no_registration(tmp_path, capsys):
    """The toy kind (its own module, nothing else) is written by the gallery beside a 3-D scene."""
    scenes = toy_scenes(tmp_path)
    toy = load_scene(scenes / "toy.py")
    assert isinstance(toy, Output) and not isinstance(toy, SceneOutput)
    out = tmp_path / "gallery"
    assert main(["gallery", "--scenes", str(scenes), "-o", str(out), "--size", "160x120", "--fps", "4", "--duration", "1"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tiny.mp4", "tiny.png", "toy.txt"]
    assert (out / "toy.txt").read_text() == "toy\n"
    err = capsys.readouterr().err
    assert "matviz: note: the toy writes one line" in err and "toy.txt" in err


def test_the_gallery_audit_asks_each_output_to_audit_itself(tmp_path, capsys):
    """A toy that reports a violation fails the audit (exit 1) and is named with its size; a clean one passes."""
    scenes = toy_scenes(tmp_path, bad=True)
    (scenes / "tiny.py").unlink()
    code = main(["gallery", "--scenes", str(scenes), "--audit", "--audit-sizes", "320x200,640x400", "--json"])
    assert code == 1
    captured = capsys.readouterr()
    frames = json.loads(captured.out)["frames"]
    assert [f["scene"] for f in frames] == ["toy", "toy"] and [f["size"] for f in frames] == [[320, 200], [640, 400]]
    clean = toy_scenes(tmp_path / "clean", bad=False)
    (clean / "tiny.py").unlink()
    assert main(["gallery", "--scenes", str(clean), "--audit"]) == 0
    assert "audit passed: 2 frame(s), 0 violation(s)" in capsys.readouterr().err


def test_a_scene_is_wrapped_and_writes_its_still_sweep_and_page(tmp_path):
    cube = mv.matmul([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]])
    output = as_output(cube, Look(size=(160, 120), fps=4, duration=1, page=False))
    assert isinstance(output, SceneOutput) and output.suffixes == (".png", ".mp4")
    paths = output.write(tmp_path, "c")
    assert [p.name for p in paths] == ["c.png", "c.mp4"]
    still = iio.imread(paths[0])
    assert still.shape[:2] == (120, 160) and still.std() > 0  # a drawn frame, not a blank one
    assert as_output(cube, Look(page=True)).suffixes == (".png", ".mp4", ".html")
    with pytest.raises(MatvizError, match="int is not something matviz can write"):
        as_output(42)


def test_scene_names_resolve_from_any_directory(tmp_path, monkeypatch, capsys):
    """scene:NAME is a scene script that ships in the package, whatever the working directory."""
    monkeypatch.chdir(tmp_path)
    assert set(DEMO) <= set(scene_names()) and "textbook" in scene_names()
    assert scene_path("scene:textbook").is_file()
    cube = load_scene("scene:textbook")
    np.testing.assert_array_equal(cube.result.values, cube.left.values @ cube.right.values)
    with pytest.raises(MatvizError, match="scene:nope: no such built-in scene; the built-in scenes are .*textbook"):
        scene_path("scene:nope")
    assert main(["render", "scene:textbook", "-o", "t.png", "--size", "160x120"]) == 0
    assert iio.imread(tmp_path / "t.png").shape[:2] == (120, 160)


def test_a_bare_command_prints_the_help():
    for argv in ([sys.executable, "-m", "matviz"], [sys.executable, "-m", "matviz", "--help"]):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and proc.stderr == ""
        assert proc.stdout.startswith("usage: matviz") and "examples:" in proc.stdout


def test_show_help_lists_every_key_the_window_binds():
    """Every key named in the window's key table (its docstring) is in `matviz show --help`."""
    import matviz.graphics.window as window

    doc = window.__doc__.split("Keys", 1)[1].split("\n\n", 2)[1]
    keys = {key for line in doc.splitlines() if line.startswith("    ") and not line.startswith("     ")
            for key in re.split(r",?\s+", line.strip().split("  ")[0])}
    assert {"space", "Right", "Left", "Home", "End", "i", "h", "c", "right-click", "]", "[", "}", "{"} <= keys
    proc = subprocess.run([sys.executable, "-m", "matviz", "show", "--help"], capture_output=True, text=True, timeout=120)
    listed = {key for line in proc.stdout.splitlines() if line.startswith("  ") and not line.startswith("  matviz")
              for key in re.split(r",?\s+", line.strip().split("  ")[0])}
    assert keys <= listed, keys - listed
    assert "opens paused on the finished picture" in proc.stdout


def test_notes_go_through_the_matviz_logger(capsys):
    """A user silences or redirects notes with logging; by default they print as `matviz: note:`."""
    from matviz.errors import note

    note("first")
    assert capsys.readouterr().err == "matviz: note: first\n"
    logger = logging.getLogger("matviz")
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    keep = Keep()
    logger.addHandler(keep)
    logger.setLevel(logging.WARNING)
    try:
        note("silenced")
        assert capsys.readouterr().err == "" and seen == []
        logger.setLevel(logging.INFO)
        note("kept")
        assert seen == ["kept"]
    finally:
        logger.removeHandler(keep)
        logger.setLevel(logging.INFO)
    capsys.readouterr()
