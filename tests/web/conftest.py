"""Fixtures of the web tests: one browser for the session (starting it costs ~1.5 s) and the
example notebook executed once (nbclient, a fresh kernel), as CI runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from _web import Browser


@pytest.fixture(scope="session")
def browser():
    b = Browser()
    try:
        yield b
    finally:
        b.close()


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "matviz.ipynb"


@pytest.fixture(scope="session")
def executed(tmp_path_factory):
    """The example notebook, executed here in a fresh kernel (nbclient), as CI runs it."""
    import nbformat
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("notebook")
    nb = nbformat.read(EXAMPLE, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb, folder
