"""The HTML export without a browser: one self-contained file, no network while exporting, the
panel wired to the right actors, and bad input refused in one line with nothing left behind."""

from __future__ import annotations

import base64
import errno
import io
import json
import re
import socket
import zipfile
from pathlib import Path

import numpy as np
import pytest
from _helpers import listing, run_cli

import matviz as mv
from matviz.errors import BudgetError, MissingDependency, OutputError
from matviz.graphics import html as H

ROOT = Path(__file__).resolve().parents[2]
TEXTBOOK = ROOT / "matviz" / "scenes" / "textbook.py"


def textbook() -> mv.Cube:
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    B = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])
    return mv.matmul(A, B, highlight=(1, 0), title="textbook")


def embedded(page: str) -> dict:
    """The scene the page carries (vtk.js's index.json inside the base64 zip)."""
    data = base64.b64decode(re.search(r'const base64Str = "([^"]+)"', page).group(1))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return json.loads(z.read("index.json"))


def cell_values(scene: dict, prop: dict) -> np.ndarray:
    """The ``values`` array an exported actor colours its cells by."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("vtkClass") == "vtkDataArray" and node.get("name") == "values":
                found.append(node["hash"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(prop)
    (key,) = set(found)
    entry = scene["hashes"][key]
    return np.frombuffer(base64.b64decode(entry["content"]), {"Float64Array": np.float64}[entry["type"]])


def panel_model(page: str) -> dict:
    return json.loads(re.search(r"const M = (\{.*?\});\n", page).group(1))


def test_export_writes_one_offline_page_without_touching_the_network(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the export opened a network connection: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    paths = mv.export(textbook(), tmp_path / "t.html")
    assert paths == [tmp_path / "t.html"] and listing(tmp_path) == ["t.html"]
    page = paths[0].read_text(encoding="utf-8")
    assert 0.5e6 < len(page) < 3e6
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the page links something remote"
    assert "kitware.github.io/vtk-js/icon" not in page
    assert H.CSP in page and "default-src 'none'" in H.CSP
    scene = embedded(page)
    renderer = next(d for d in scene["scene"]["dependencies"] if "Renderer" in d["type"])
    props = [d for d in renderer["dependencies"] if not any(w in d["type"] for w in ("Camera", "Light"))]
    model = panel_model(page)
    assert model["count"] == len(props)
    assert len(model["layers"]) == 3  # k = 3: one layer per k-block, "sum over k: 1/3" ...
    assert [layer["label"] for layer in model["layers"]] == [f"sum over k: {k}/3" for k in (1, 2, 3)]
    assert model["highlight"], "the highlighted dot product has a toggle"
    for layer in model["layers"]:  # each layer is an interior actor: a mesh of 2x2 = 4 cubes
        (index,) = layer["props"]
        assert props[index]["type"] == "vtkOpenGLActor"
    assert "<title>textbook - matviz</title>" in page
    # the result face at each step of the slider: C after 1 and 2 of the 3 k-blocks, then C itself
    (faces,) = model["faces"]
    assert faces["layers"] == [0, 1, 2] and len(faces["partial"]) == 2
    A, B = textbook().left.values, textbook().right.values
    for index, k in [*zip(faces["partial"], (1, 2)), (faces["final"], 3)]:
        drawn = cell_values(scene, props[index])
        np.testing.assert_allclose(np.sort(drawn), np.sort((A[:, :k] @ B[:k, :]).ravel()))


def test_the_same_scene_gives_the_same_page(tmp_path):
    """A page carries no memory addresses and no time stamp: exporting a scene twice gives the same
    bytes (so the gallery's page is what ``matviz gallery`` makes, not a new file each run)."""
    a, b = (mv.export(textbook(), tmp_path / f"{n}.html")[0].read_bytes() for n in "ab")
    assert a == b
    page = a.decode()
    ids = set(re.findall(r'"(?:id|parent)": "([0-9a-f]{16})"', json.dumps(embedded(page))))
    assert ids and max(int(i, 16) for i in ids) <= len(ids) + 1, sorted(ids)[:5]  # renumbered 1, 2, …
    data = base64.b64decode(re.search(r'const base64Str = "([^"]+)"', page).group(1))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_cli_writes_html_and_says_so(capsys, tmp_path):
    code, _, err = run_cli(capsys, "render", TEXTBOOK, "-o", tmp_path / "sub" / "t.html")
    assert code == 0, err
    assert "wrote 1 file(s)" in err and listing(tmp_path) == ["sub", "sub/t.html"]
    for flags, said in ((["--frames", "3"], "--frames and --duration"), (["--animation", "orbit"], "drop --animation")):
        code, _, err = run_cli(capsys, "render", TEXTBOOK, "-o", tmp_path / "u.html", *flags)
        assert code == 2 and said in err and err.count("\n") == 1, err
    assert listing(tmp_path) == ["sub", "sub/t.html"]


@pytest.mark.parametrize("where", ["file-parent", "proc"])
def test_unwritable_html_path_is_one_line_and_writes_nothing(capsys, tmp_path, where):
    (tmp_path / "f").write_text("x")
    target = tmp_path / "f" / "t.html" if where == "file-parent" else Path("/proc/matviz-no/t.html")
    before = listing(tmp_path)
    code, _, err = run_cli(capsys, "render", TEXTBOOK, "-o", target)
    assert code == 2 and err.startswith("matviz: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "-o" in err
    assert listing(tmp_path) == before


def test_a_failed_write_leaves_nothing_behind(capsys, tmp_path, monkeypatch):
    import matviz.animate.html as writer

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.os, "write", full)
    code, _, err = run_cli(capsys, "render", TEXTBOOK, "-o", tmp_path / "t.html")
    assert code == 2 and "no space left" in err and err.count("\n") == 1, err
    assert listing(tmp_path) == []


def test_a_volume_interior_is_refused_with_its_size_and_the_aggregated_offer(capsys, tmp_path):
    code, _, err = run_cli(
        capsys, "render", "--left", "sample:camera", "--right", "sample:coins", "--resize", "48x48",
        "-o", tmp_path / "big.html",
    )
    lines = [line for line in err.splitlines() if line.startswith("matviz: error:")]
    assert code == 2 and len(lines) == 1, err
    assert "48x48x48 = 110,592 blocks" in lines[0] and "--budget 32768" in lines[0], lines[0]
    assert listing(tmp_path) == []


def test_an_oversized_page_says_how_large(monkeypatch, tmp_path):
    monkeypatch.setattr(H, "HTML_MAX_BYTES", 10_000)
    with pytest.raises(BudgetError, match=r"about \d+ MB .*budget=\d+"):
        mv.export(textbook(), tmp_path / "t.html")
    assert listing(tmp_path) == []


def test_what_a_page_cannot_hold_is_refused(tmp_path):
    s = textbook()
    with pytest.raises(OutputError, match="one scene"):
        mv.export([s, s], tmp_path / "grid.html")
    with pytest.raises(OutputError, match="an HTML page has none"):
        mv.export(s, tmp_path / "t.html", frames=3)
    with pytest.raises(OutputError, match="no effect on an HTML page"):
        mv.export(s, tmp_path / "t.html", animation="sweep")
    assert listing(tmp_path) == []


def test_without_the_web_extra_export_says_what_to_install_and_a_notebook_falls_back_to_the_still(
    monkeypatch, tmp_path, capsys
):
    import imageio.v3 as iio

    from matviz import notebook

    monkeypatch.setattr(H, "missing_extras", lambda: ["trame_vtk"])
    with pytest.raises(MissingDependency, match=r"trame-vtk .*pip install 'matviz3d\[web\]'"):
        mv.export(textbook(), tmp_path / "t.html")
    assert listing(tmp_path) == []
    monkeypatch.setattr(notebook, "_said", set())
    bundle = textbook()._repr_mimebundle_()
    assert set(bundle) == {"image/png", "text/plain"}
    picture = iio.imread(io.BytesIO(bundle["image/png"]))[..., :3]
    assert picture.std() > 20 and (picture < 245).any(axis=2).mean() > 0.03, "the still looks blank"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "matviz: note: showing a still" in err and "matviz3d[web]" in err


def test_show_in_a_notebook_displays_inline(monkeypatch):
    import IPython.display

    from matviz import notebook

    shown = []
    monkeypatch.setattr(notebook, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setattr(mv, "display_problem", lambda: "no display")  # a desktop window would be refused
    s = textbook()
    mv.show(s)
    assert shown == [s]


def test_the_gallery_writes_the_textbook_page(capsys, tmp_path):
    import shutil

    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(TEXTBOOK, scenes / "textbook.py")
    code, _, err = run_cli(
        capsys, "gallery", "--scenes", scenes, "-o", tmp_path / "g", "--size", "160x120", "--duration", "0.1",
        "--fps", "10",
    )
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["textbook.html", "textbook.mp4", "textbook.png"]
    page = (tmp_path / "g" / "textbook.html").read_text(encoding="utf-8")
    assert "OfflineLocalView" in page and len(panel_model(page)["layers"]) == 3
