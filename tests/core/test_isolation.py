"""core and scene stay renderer-free: importing them pulls in no pyvista, vtk, torch or rich."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pyvista", "vtk", "torch", "rich")

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


def test_probe_detects_a_heavy_import():
    """The probe itself works: a module that is imported is reported (stdlib stand-in, no pyvista needed)."""
    assert "xml.dom.minidom" in probe("xml.dom.minidom", ("xml",))["loaded"]
