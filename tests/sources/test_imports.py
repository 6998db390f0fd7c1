"""sources/ turns the outside world into operands with core's vocabulary: it never imports the
model (matviz.scene), which sits above it (DESIGN.md; review V1)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import matviz

PACKAGE = Path(matviz.__file__).resolve().parent

PROBE = """
import importlib.util, json, sys, types
spec = importlib.util.find_spec("matviz")
pkg = types.ModuleType("matviz")
pkg.__path__ = list(spec.submodule_search_locations)
sys.modules["matviz"] = pkg  # the facade (matviz/__init__.py) imports everything: load {module} without it
import {module}
print(json.dumps(sorted(m for m in sys.modules if m.startswith("matviz."))))
"""


def loaded_with(module: str) -> list[str]:
    """The matviz modules a fresh interpreter has loaded after importing ``module`` alone."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["matviz.sources", "matviz.sources.files", "matviz.sources.models"])
def test_sources_do_not_import_the_model(module):
    loaded = loaded_with(module)
    assert module in loaded
    assert "matviz.scene" not in loaded and "matviz.chain" not in loaded, loaded


def test_probe_sees_the_model_when_it_is_imported():
    """Negative control: the probe does report matviz.scene when a module really pulls it in."""
    assert "matviz.scene" in loaded_with("matviz.chain")


def test_no_source_file_names_the_model():
    """The static twin of the probe, which also covers imports inside functions."""
    for path in sorted((PACKAGE / "sources").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("matviz.scene", "matviz.chain", "matviz.graphics")), (path.name, name)
