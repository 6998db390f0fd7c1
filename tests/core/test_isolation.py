"""DESIGN.md's import rules as tests.

* core and scene stay renderer-free: importing them pulls in no pyvista, vtk, torch or rich;
* ``import matviz``, sources, chain, story and the timeline load no pyvista/vtk (rendering is lazy);
* only ``matviz/graphics/`` imports pyvista/vtk; only ``sources/models.py`` (and a future
  ``matviz/fit*``) imports torch/transformers; only ``cli/`` imports rich and calls sys.exit.

Imports are probed in a fresh interpreter (what really gets loaded) and scanned in the source (every
import statement, lazy ones inside functions too). Both checks have negative controls.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "matviz"
HEAVY = ("pyvista", "vtk", "torch", "rich")
RENDERERS = ("pyvista", "vtk")

PROBE = """
import json, sys
import {module}
heavy = {heavy!r}
loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('vtkmodules'))
print(json.dumps({{'ok': '{module}' in sys.modules, 'loaded': loaded}}))
"""


def probe(module: str, heavy) -> dict:
    """Import ``module`` in a fresh interpreter and report which of ``heavy`` got loaded."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, heavy=heavy)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["matviz.core", "matviz.scene"])
def test_import_does_not_pull_heavy_packages(module):
    report = probe(module, HEAVY)
    assert report["ok"]
    assert report["loaded"] == [], f"{module} imported {report['loaded']}"


@pytest.mark.parametrize(
    "module", ["matviz", "matviz.sources", "matviz.chain", "matviz.story", "matviz.animate.timeline"]
)
def test_import_does_not_pull_a_renderer(module):
    """Building scenes and timelines never loads pyvista/vtk; rendering functions load it on first use."""
    report = probe(module, RENDERERS)
    assert report["ok"]
    assert report["loaded"] == [], f"{module} imported {report['loaded']}"


def test_probe_detects_a_heavy_import():
    """The probe itself works: a module that is imported is reported (stdlib stand-in, no pyvista needed)."""
    assert "xml.dom.minidom" in probe("xml.dom.minidom", ("xml",))["loaded"]


# ---------------------------------------------------------------- who may import what (source scan)

# (what, top-level packages or calls, the only files allowed: fnmatch patterns, where * spans folders)
RULES = (
    ("imports pyvista/vtk", ("pyvista", "vtk", "vtkmodules"), ("matviz/graphics/*",)),
    ("imports torch/transformers", ("torch", "transformers"), ("matviz/sources/models.py", "matviz/learning/fit*")),
    ("imports rich", ("rich",), ("matviz/cli/*",)),
    ("calls sys.exit", ("sys.exit",), ("matviz/cli/*",)),
)


def _uses(tree: ast.AST) -> set[str]:
    """Top-level packages this module imports (anywhere, lazily too) and ``sys.exit`` if it calls it."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            found.add(top)
            if top == "sys" and any(alias.name == "exit" for alias in node.names):
                found.add("sys.exit")
        elif isinstance(node, ast.Attribute) and node.attr == "exit":
            if isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.add("sys.exit")
    return found


def scan(package: Path) -> list[str]:
    """Every break of ``RULES`` in the ``.py`` files under ``package``, as ``path: what``."""
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        uses = _uses(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for what, names, allowed in RULES:
            if uses & set(names) and not any(fnmatch.fnmatchcase(rel, p) for p in allowed):
                out.append(f"{rel}: {what}")
    return out


def test_only_the_allowed_files_import_renderers_torch_rich_or_exit():
    assert scan(PACKAGE) == []


def test_the_rules_hold_where_they_must():
    """The scan sees the real users (so an allow-list entry is not dead, and _uses parses them)."""
    assert "rich" in _uses(ast.parse((PACKAGE / "cli" / "common.py").read_text()))
    assert "sys.exit" in _uses(ast.parse((PACKAGE / "cli" / "common.py").read_text()))
    assert "torch" in _uses(ast.parse((PACKAGE / "sources" / "models.py").read_text()))
    assert {"pyvista", "vtk"} & set().union(*(_uses(ast.parse(p.read_text())) for p in (PACKAGE / "graphics").glob("*.py")))


VIOLATIONS = {
    "matviz/core/bad_render.py": "import pyvista as pv\n",
    "matviz/animate/bad_vtk.py": "def f():\n    from vtkmodules.vtkRenderingCore import vtkActor\n",
    "matviz/scene_bad.py": "def f():\n    import torch.nn\n",
    "matviz/graphics/bad_transformers.py": "from transformers import AutoModel\n",
    "matviz/chain_bad.py": "from rich.console import Console\n",
    "matviz/animate/bad_exit.py": "import sys\n\ndef f():\n    sys.exit(2)\n",
    "matviz/bad_from_exit.py": "from sys import exit\n",
}
ALLOWED = {
    "matviz/graphics/fine.py": "import pyvista\nimport vtk\n",
    "matviz/graphics/deep/fine.py": "from vtkmodules import vtkCommonCore\n",
    "matviz/sources/models.py": "import torch\nfrom transformers import AutoModel\n",
    "matviz/learning/fit.py": "import torch\n",
    "matviz/learning/fit_adam.py": "import torch\n",
    "matviz/cli/common.py": "import sys\nfrom rich.console import Console\nsys.exit(0)\n",
}


def test_scan_flags_planted_violations(tmp_path):
    """Negative control: a copy of the rules' layout with one violation per rule (lazy imports too)
    is flagged file by file, and the allowed users in the same tree are not."""
    for rel, text in {**VIOLATIONS, **ALLOWED}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    found = scan(tmp_path / "matviz")
    assert sorted(found) == sorted(
        [
            "matviz/core/bad_render.py: imports pyvista/vtk",
            "matviz/animate/bad_vtk.py: imports pyvista/vtk",
            "matviz/scene_bad.py: imports torch/transformers",
            "matviz/graphics/bad_transformers.py: imports torch/transformers",
            "matviz/chain_bad.py: imports rich",
            "matviz/animate/bad_exit.py: calls sys.exit",
            "matviz/bad_from_exit.py: calls sys.exit",
        ]
    )
