"""First-party layers: which part of matviz may import which (DESIGN.md's table, issue 18 §3).

Every ``matviz/**/*.py`` is read with ``ast``: module-level imports and imports inside functions,
``import matviz.x``, ``from matviz.x import y``, ``from matviz import x`` (the module ``matviz.x``
if a file or folder of that name exists, else the facade ``matviz/__init__.py``), relative imports,
and ``importlib.import_module("matviz.x")`` with a literal name. Each import is checked against
``LAYERS``; a break reads ``path: imports matviz.x (layer a may not import layer b)``.

Negative controls: each rule is broken once in a scratch copy of the package (one import added
or appended per case) and the scan must report exactly that break, on top of whatever the clean
copy reports; allowed imports planted the same way must add nothing. A module with no row in the
table fails too, so a new module has to be placed before it can import anything.

``matviz/scenes/*.py`` are user scene scripts (package data, run with runpy): no layer.
"""

from __future__ import annotations

import ast
import functools
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "matviz"

# ---------------------------------------------------------------- the table

BASE = ("core", "errors")
BELOW_OUTPUTS = ("animate", "graphics", "chain", "scene", "story", "sources", *BASE)
WINGS = ("learning", "paper", "interpret")

# layer -> the layers it may import (besides itself)
LAYERS: dict[str, tuple[str, ...]] = {
    "errors": (),
    "core": ("errors",),
    "sources": BASE,
    "scene": BASE,  # the model: Cube, Placed, Chain, Style, ViewState
    "story": ("scene", *BASE),
    "chain": ("scene", "sources", *BASE),  # builds models from expressions and model captures
    "graphics": ("chain", "scene", "story", "sources", *BASE),
    "animate": ("graphics", "chain", "scene", "story", "sources", *BASE),
    "outputs": BELOW_OUTPUTS,  # what a user can make, and how it is shown
    "gallery": (*BELOW_OUTPUTS, "outputs"),
    "notebook": (*BELOW_OUTPUTS, "outputs"),
    **{wing: ("outputs", *BELOW_OUTPUTS) for wing in WINGS},  # never another wing, never the facade
    "facade": (),  # matviz/__init__.py; set below: everything but cli
    "cli": (),  # matviz/cli/; set below: everything
    "__main__": ("cli",),
}
LAYERS["cli"] = tuple(name for name in LAYERS if name != "cli")
# __main__ is the cli's entry point (it imports the cli): the facade's "everything but cli" leaves it out too
LAYERS["facade"] = tuple(name for name in LAYERS if name not in ("facade", "cli", "__main__"))

# a top-level name under matviz/ (module stem or package folder) -> its layer
TOP = {name: name for name in LAYERS if name not in ("facade",)} | {"__init__": "facade"}
DATA = ("scenes",)  # package data (scene scripts run with runpy): in no layer


def layer_of(top: str) -> str | None:
    """The layer of a top-level name under ``matviz/`` ("__init__" is the facade), None if it has no row."""
    return TOP.get(top)


# ---------------------------------------------------------------- reading imports


def _is_module(package: Path, dotted: str) -> bool:
    """``dotted`` (``matviz.a.b``) is a module or package in the tree rooted at ``package``."""
    path = package.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or path.is_dir()


def _module_name(package: Path, path: Path) -> tuple[str, bool]:
    """(dotted name of the module at ``path``, whether it is a package's ``__init__``)."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


@functools.lru_cache(maxsize=None)
def _statements(text: str) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """The import statements of a module's source, anywhere in it, as (level, module, names):
    ``import a.b`` is (0, "a.b", ()), ``from ..a import b, c`` is (2, "a", ("b", "c")), and
    ``importlib.import_module("a.b")`` with a literal name is (0, "a.b", ()). Cached on the text:
    the planted copies share all but one file with the package."""
    out = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            out += [(0, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or "", tuple(alias.name for alias in node.names)))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                out.append((0, node.args[0].value, ()))
    return tuple(out)


def imported(package: Path, path: Path) -> list[str]:
    """The first-party modules ``path`` imports, anywhere in it (functions too), as dotted names;
    ``matviz`` alone is the facade."""
    name, is_init = _module_name(package, path)
    here = name if is_init else name.rpartition(".")[0]  # the package relative imports start from
    root = package.name
    out = []
    for level, module, names in _statements(path.read_text(encoding="utf-8")):
        if level:
            parts = here.split(".")
            base = ".".join(parts[: len(parts) - (level - 1)]) if level - 1 < len(parts) else ""
            module = ".".join(p for p in (base, module) if p)
        if not names:
            out.append(module)
        for alias in names:
            sub = f"{module}.{alias}"
            out.append(sub if _is_module(package, sub) else module)
    return [m for m in dict.fromkeys(out) if m == root or m.startswith(root + ".")]


def _target_layer(module: str) -> tuple[str, str | None]:
    """(the top-level name ``module`` falls in, its layer): ``matviz`` alone is the facade."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return top, layer_of(top)


def scan(package: Path) -> list[str]:
    """Every import that breaks ``LAYERS`` in the ``.py`` files under ``package``, one line each."""
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent)
        top = rel.parts[1] if len(rel.parts) > 2 else path.stem
        if top in DATA or "__pycache__" in rel.parts:
            continue
        mine = layer_of(top)
        for module in imported(package, path):
            target_top, theirs = _target_layer(module)
            if mine is None:
                out.append(f"{rel.as_posix()}: imports {module} (the module has no layer in the table)")
            elif theirs is None:
                out.append(f"{rel.as_posix()}: imports {module} ({target_top} has no layer in the table)")
            elif theirs != mine and theirs not in LAYERS[mine]:
                out.append(f"{rel.as_posix()}: imports {module} (layer {mine} may not import layer {theirs})")
    return out


def unplaced(package: Path) -> list[str]:
    """Top-level modules and packages under ``package`` that the table does not name."""
    out = []
    for entry in sorted(package.iterdir()):
        if entry.name in DATA or entry.name.startswith((".", "__pycache__")):
            continue
        if entry.is_dir() or entry.suffix == ".py":
            if layer_of(entry.stem if entry.is_file() else entry.name) is None:
                out.append(f"{entry.relative_to(package.parent).as_posix()} has no row in the layer table")
    return out


# ---------------------------------------------------------------- the real package


def test_layers_hold_in_the_package():
    assert scan(PACKAGE) == []


def test_layer_table_names_every_top_level_module():
    assert unplaced(PACKAGE) == []


def test_layer_table_is_the_documented_one():
    """The rows that matter most, spelled out (a slip in building LAYERS must not open them)."""
    assert LAYERS["errors"] == ()
    assert set(LAYERS["cli"]) == set(LAYERS) - {"cli"}
    assert set(LAYERS["facade"]) == set(LAYERS) - {"facade", "cli", "__main__"}
    for wing in WINGS:
        assert not set(LAYERS[wing]) & ({*WINGS, "facade", "cli", "gallery", "notebook"})
    for low in ("errors", "core", "sources", "scene", "story", "chain", "graphics", "animate"):
        assert not set(LAYERS[low]) & {"outputs", "gallery", "notebook", *WINGS, "facade", "cli", "__main__"}


def test_import_reader_sees_every_form(tmp_path):
    """The reader itself, on a small tree: every import form resolves to the module it names."""
    pkg = tmp_path / "matviz"
    for rel in ("__init__.py", "errors.py", "story.py", "core/__init__.py", "core/ops.py", "graphics/__init__.py", "graphics/pen.py"):
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text("")
    (pkg / "core" / "ops.py").write_text(
        "import numpy\n"
        "import matviz.errors\n"
        "from matviz.graphics.pen import Pen\n"
        "from matviz import story\n"  # a module: matviz/story.py exists
        "from matviz import fit\n"  # no such module: the facade
        "from . import layout\n"  # matviz.core (no layout.py): the package
        "from .. import errors\n"
        "from ..graphics import pen\n"
        "def f():\n"
        "    import importlib\n"
        "    importlib.import_module('matviz.animate.export')\n"
        "    import matviz\n"
    )
    assert imported(pkg, pkg / "core" / "ops.py") == [
        "matviz.errors",
        "matviz.graphics.pen",
        "matviz.story",
        "matviz",
        "matviz.core",
        "matviz.animate.export",
    ]
    (pkg / "graphics" / "__init__.py").write_text("from . import pen\nfrom .pen import Pen\nfrom ..core import ops\n")
    assert imported(pkg, pkg / "graphics" / "__init__.py") == ["matviz.graphics.pen", "matviz.core.ops"]


# ---------------------------------------------------------------- planted violations (negative controls)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A scratch copy of the package and what the scan reports on it, untouched."""
    root = tmp_path_factory.mktemp("clean")
    shutil.copytree(PACKAGE, root / "matviz", ignore=shutil.ignore_patterns("__pycache__"))
    return root / "matviz", scan(root / "matviz")


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "matviz", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "matviz"


def _plant(package: Path, rel: str, text: str) -> None:
    """Append ``text`` to ``rel`` (made if missing; a folder gets an ``__init__.py`` too)."""
    path = package / rel
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
        (path.parent / "__init__.py").write_text("")
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n" + text)


LAZY = "\n\ndef _planted():\n    {}\n"

# (file to append to, the import, the one line the scan must add); one rule broken per case,
# lazy and top-level, every import form
PLANTED = {
    "core->graphics": ("core/ops.py", LAZY.format("from matviz.graphics.sceneview import SceneView"),
                       "matviz/core/ops.py: imports matviz.graphics.sceneview (layer core may not import layer graphics)"),
    "core->scene (relative)": ("core/layout.py", LAZY.format("from ..scene import Cube"),
                               "matviz/core/layout.py: imports matviz.scene (layer core may not import layer scene)"),
    "graphics->animate": ("graphics/pen.py", "from matviz.animate import export\n",
                          "matviz/graphics/pen.py: imports matviz.animate.export (layer graphics may not import layer animate)"),
    "graphics->outputs": ("graphics/colors.py", LAZY.format("import matviz.outputs"),
                          "matviz/graphics/colors.py: imports matviz.outputs (layer graphics may not import layer outputs)"),
    "scene->graphics (model->view)": ("scene.py", LAZY.format("import matviz.graphics.sceneview"),
                                      "matviz/scene.py: imports matviz.graphics.sceneview (layer scene may not import layer graphics)"),
    "scene->cli": ("scene.py", LAZY.format("from matviz import cli"),
                   "matviz/scene.py: imports matviz.cli (layer scene may not import layer cli)"),
    "scene->chain": ("scene.py", LAZY.format("from matviz.chain import attention"),
                     "matviz/scene.py: imports matviz.chain (layer scene may not import layer chain)"),
    "story->graphics": ("story.py", LAZY.format("from matviz.graphics import pen"),
                        "matviz/story.py: imports matviz.graphics.pen (layer story may not import layer graphics)"),
    "story->chain (from matviz import)": ("story.py", LAZY.format("from matviz import chain"),
                                          "matviz/story.py: imports matviz.chain (layer story may not import layer chain)"),
    "errors->core": ("errors.py", LAZY.format("from matviz.core import ops"),
                     "matviz/errors.py: imports matviz.core.ops (layer errors may not import layer core)"),
    "sources->scene": ("sources/files.py", LAZY.format("from matviz.scene import Cube"),
                       "matviz/sources/files.py: imports matviz.scene (layer sources may not import layer scene)"),
    "sources->chain": ("sources/synthetic.py", "import matviz.chain\n",
                       "matviz/sources/synthetic.py: imports matviz.chain (layer sources may not import layer chain)"),
    "chain->story": ("chain.py", LAZY.format("from matviz.story import beats"),
                     "matviz/chain.py: imports matviz.story (layer chain may not import layer story)"),
    "chain->graphics": ("chain.py", LAZY.format("import importlib; importlib.import_module('matviz.graphics.offscreen')"),
                        "matviz/chain.py: imports matviz.graphics.offscreen (layer chain may not import layer graphics)"),
    "animate->outputs": ("animate/timeline.py", LAZY.format("from matviz.outputs import load_scene"),
                         "matviz/animate/timeline.py: imports matviz.outputs (layer animate may not import layer outputs)"),
    "animate->notebook": ("animate/writers.py", LAZY.format("from .. import notebook"),
                          "matviz/animate/writers.py: imports matviz.notebook (layer animate may not import layer notebook)"),
    "outputs->notebook": ("outputs.py", LAZY.format("from matviz import notebook"),
                          "matviz/outputs.py: imports matviz.notebook (layer outputs may not import layer notebook)"),
    "outputs->cli": ("outputs.py", LAZY.format("from matviz.cli import main"),
                     "matviz/outputs.py: imports matviz.cli (layer outputs may not import layer cli)"),
    "notebook->wing": ("notebook.py", LAZY.format("from matviz.interpret import subspaces"),
                       "matviz/notebook.py: imports matviz.interpret.subspaces (layer notebook may not import layer interpret)"),
    "gallery->facade": ("gallery/planted.py", "import matviz\n",
                        "matviz/gallery/planted.py: imports matviz (layer gallery may not import layer facade)"),
    "wing->another wing": ("interpret/subspaces.py", LAZY.format("from matviz.learning.fit import FitSpec"),
                           "matviz/interpret/subspaces.py: imports matviz.learning.fit (layer interpret may not import layer learning)"),
    "wing->another wing (paper->interpret)": ("paper/flat.py", LAZY.format("import matviz.interpret"),
                                              "matviz/paper/flat.py: imports matviz.interpret (layer paper may not import layer interpret)"),
    "wing->facade": ("paper/planted.py", LAZY.format("from matviz import fit"),
                     "matviz/paper/planted.py: imports matviz (layer paper may not import layer facade)"),
    "wing->cli": ("learning/planted.py", "from matviz.cli import main\n",
                  "matviz/learning/planted.py: imports matviz.cli (layer learning may not import layer cli)"),
    "facade->cli": ("__init__.py", LAZY.format("from matviz.cli import main"),
                    "matviz/__init__.py: imports matviz.cli (layer facade may not import layer cli)"),
    "__main__->facade": ("__main__.py", "import matviz\n",
                         "matviz/__main__.py: imports matviz (layer __main__ may not import layer facade)"),
    "unknown module": ("core/ops.py", LAZY.format("from matviz.nowhere import thing"),
                       "matviz/core/ops.py: imports matviz.nowhere (nowhere has no layer in the table)"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(PLANTED), ids=list(PLANTED))
def test_layer_scan_flags_a_planted_violation(case, clean, tmp_path):
    rel, text, line = PLANTED[case]
    _, before = clean
    assert line not in before, f"{line!r} is already reported on the clean copy: plant another break"
    package = _copy(tmp_path)
    _plant(package, rel, text)
    assert sorted(scan(package)) == sorted([*before, line])


# allowed imports, planted the same way: nothing new may be reported
ALLOWED = {
    "core->errors": ("core/ops.py", LAZY.format("from matviz.errors import MatvizError")),
    "core->core (relative)": ("core/ops.py", "from . import layout\nfrom .layout import camera\n"),
    "story->scene": ("story.py", "from matviz.scene import Cube\n"),
    "chain->sources": ("chain.py", LAZY.format("from matviz.sources import load")),
    "graphics->story": ("graphics/pen.py", LAZY.format("from matviz import story")),
    "animate->graphics": ("animate/export.py", LAZY.format("import matviz.graphics.offscreen")),
    "outputs->animate": ("outputs.py", LAZY.format("from matviz.animate import export")),
    "gallery->outputs": ("gallery/planted.py", "from matviz.outputs import load_scene\n"),
    "notebook->outputs": ("notebook.py", LAZY.format("import matviz.outputs")),
    "wing->outputs and itself": ("learning/planted.py", "from matviz.outputs import load_scene\nfrom matviz.learning import fit\n"),
    "facade->wing": ("__init__.py", LAZY.format("from matviz.paper import poster")),
    "cli->everything": ("cli.py", LAZY.format("import matviz, matviz.learning.fit, matviz.notebook, matviz.outputs, matviz.__main__")),
    "__main__->cli": ("__main__.py", "from matviz.cli import main\n"),
    "a scene script imports the facade": ("scenes/planted.py", "import matviz\nfrom matviz.cli import main\n"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ALLOWED), ids=list(ALLOWED))
def test_layer_scan_allows_what_the_table_allows(case, clean, tmp_path):
    rel, text = ALLOWED[case]
    _, before = clean
    package = _copy(tmp_path)
    _plant(package, rel, text)
    assert sorted(scan(package)) == sorted(before)


def test_layer_scan_passes_the_clean_copy(clean):
    """The scratch copy is the package: what it reports is what the package reports (and both are
    clean once the known breaks are gone, see test_layers_hold_in_the_package)."""
    _, before = clean
    assert before == scan(PACKAGE)
    assert before == []


def test_layer_table_flags_a_new_module_without_a_row(tmp_path):
    package = _copy(tmp_path)
    before = unplaced(package)
    (package / "newthing.py").write_text("from matviz.core import ops\n")
    (package / "newwing").mkdir()
    (package / "newwing" / "__init__.py").write_text("")
    assert sorted(unplaced(package)) == sorted(
        [*before, "matviz/newthing.py has no row in the layer table", "matviz/newwing has no row in the layer table"]
    )
    assert "matviz/newthing.py: imports matviz.core.ops (the module has no layer in the table)" in scan(package)
