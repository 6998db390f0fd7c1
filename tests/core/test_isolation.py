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


@pytest.mark.parametrize("module", ["matviz.core", "matviz.scene"])
def test_import_does_not_pull_heavy_packages(module):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["ok"]
    assert report["loaded"] == [], f"{module} imported {report['loaded']}"


def test_probe_detects_a_heavy_import():
    """The probe itself works: a module that is imported is reported (stdlib stand-in, no pyvista needed)."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module="xml.dom.minidom", heavy=("xml",))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])["loaded"]
    assert "xml.dom.minidom" in loaded
