"""Flat pictures (render --flat, mv.flat) and posters (matviz poster: sheets and sweeps), issue 11 §3."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

import matviz as mv
from matviz.cli import main
from matviz.core.expr import evaluate
from matviz.paper.flat import gray
from matviz.paper.poster import draw_poster, draw_sweep, poster, sweep

BOTH = "softmax(A, rows, temperature=T) @ softmax(B, cols, temperature=T)"
RNG = np.random.default_rng(0)
A, B = RNG.random((24, 20)), RNG.random((20, 16))


def _minmax(x, bits):
    return np.round((x - x.min()) / (x.max() - x.min()) * (2**bits - 1))


@pytest.mark.parametrize("bits", [8, 16])
def test_flat_png_is_the_min_max_of_the_numpy_result(tmp_path, bits):
    path = mv.flat(mv.matmul(A, B), tmp_path / "c.png", bits=bits)
    back = iio.imread(path)
    assert back.dtype == (np.uint8 if bits == 8 else np.uint16) and back.shape == (24, 16)
    np.testing.assert_array_equal(back, _minmax(A @ B, bits))
    assert back.min() == 0 and back.max() == 2**bits - 1


@pytest.mark.parametrize("bits, mid", [(8, 128), (16, 32768)])
def test_constant_matrix_is_mid_gray_with_a_note(tmp_path, capsys, bits, mid):
    code = main(["render", "A - A", "--set", "A=random:5x7", "--flat", "--bits", str(bits), "-o", str(tmp_path / "k.png")])
    err = capsys.readouterr().err
    assert code == 0 and "constant" in err and "mid-gray" in err
    back = iio.imread(tmp_path / "k.png")
    assert back.shape == (5, 7) and (back == mid).all()
    with pytest.warns(UserWarning, match="constant"):
        mv.flat(np.full((3, 3), 2.0), tmp_path / "w.png")


def test_render_flat_of_an_expression_equals_evaluate(tmp_path):
    np.save(tmp_path / "a.npy", A)
    np.save(tmp_path / "b.npy", B)
    out = tmp_path / "sub" / "e.png"
    args = [BOTH, "--set", f"A={tmp_path / 'a.npy'}", "--set", f"B={tmp_path / 'b.npy'}", "--set", "T=0.3"]
    assert main(["render", *args, "--flat", "--bits", "16", "-o", str(out)]) == 0
    want = evaluate(BOTH, dict(A=A, B=B, T=0.3)).value
    np.testing.assert_array_equal(iio.imread(out), _minmax(want, 16))


def test_poster_tiles_differ_and_each_is_the_flat_result_of_its_setting(tmp_path):
    out = tmp_path / "sheet.png"
    code = main(
        ["poster", BOTH, "--set", "A=sample:moon", "--set", "B=sample:coins", "--resize", "48x48",
         "--vary", "temperature=0.05,0.25,1", "-o", str(out)]
    )
    assert code == 0
    spec = poster(BOTH, vary=["temperature=0.05,0.25,1"], A="sample:moon", B="sample:coins", resize="48x48")
    sheet = draw_poster(spec)
    back = iio.imread(out)
    np.testing.assert_array_equal(back, sheet.image)  # the CLI wrote what the API draws
    assert len(sheet.pictures) == 3 and sheet.scale == 4  # 48 px scaled to >= 192
    crops = []
    for rect, t in zip(sheet.pictures, (0.05, 0.25, 1.0)):
        x0, y0, x1, y1 = rect
        assert (x1 - x0, y1 - y0) == (192, 192)
        crop = back[y0:y1, x0:x1, 0][:: sheet.scale, :: sheet.scale]
        value = evaluate(BOTH, dict(spec.operands, T=t)).value
        np.testing.assert_array_equal(crop, gray(value, 8)[0])  # the tile is the flat picture
        crops.append(crop)
    assert not np.array_equal(crops[0], crops[1]) and not np.array_equal(crops[1], crops[2])
    assert all(t["px"] >= 11 and t["box"][3] - t["box"][1] >= 11 for t in sheet.texts)
    assert [t.label for t in spec.tiles] == ["T=0.05", "T=0.25", "T=1"]
    drawn = [t["text"] for t in sheet.texts]
    for i, (t, stated) in enumerate(zip((0.05, 0.25, 1.0), sheet.ranges)):  # under each tile: its min and max
        value = evaluate(BOTH, dict(spec.operands, T=t)).value
        assert stated["picture"] == i and (stated["lo"], stated["hi"]) == (value.min(), value.max())
        assert set(stated["texts"]) <= set(drawn)  # in one or two lines, at most as wide as the tile
        said = " ".join(stated["texts"])
        assert said == f"{value.min():.3g}\u00a0(black) … {value.max():.3g}\u00a0(white)".replace("-", "−"), said
    assert {"T=0.05", "T=0.25", "T=1"} <= set(drawn)
    assert [" ".join(w["drawn"]) for w in sheet.wholes][0] == spec.title  # wrapped, whole


def test_poster_audit_measures_the_drawn_sheet_and_fails_a_broken_one(monkeypatch):
    import matviz.paper.poster as P

    spec = poster(BOTH, vary=["temperature=0.05,1"], A=A[:20], B=B)
    (report,) = spec.audit()
    assert report.violations == [] and {"T=0.05", "T=1"} <= {t["text"] for t in report.texts}
    monkeypatch.setattr(P, "GAP", -60)  # neighbours drawn over each other
    assert "overlap" in {v.rule for v in spec.audit()[0].violations}
    monkeypatch.setattr(P, "GAP", 12)
    monkeypatch.setattr(P, "RANGE_PX", 9)  # ranges too small to read
    assert {v.rule for v in spec.audit()[0].violations} == {"text-size"}
    frames = sweep(BOTH, "T=1:0.1", frames=3, A=A[:20], B=B).audit()
    assert [r.frame for r in frames] == [0, 2] and {v.rule for r in frames for v in r.violations} == {"text-size"}
    monkeypatch.setattr(P, "RANGE_PX", 13)
    assert all(r.violations == [] for r in sweep(BOTH, "T=1:0.1", frames=3, A=A[:20], B=B).audit())
    monkeypatch.setattr(P, "MARGIN", -30)  # the title and setting leave the frame
    assert "outside" in {v.rule for r in sweep(BOTH, "T=1:0.1", frames=3, A=A[:20], B=B).audit() for v in r.violations}


def test_library_errors_name_parameters_and_the_cli_names_flags(tmp_path, capsys):
    from matviz.errors import MatvizError

    with pytest.raises(MatvizError) as err:
        poster(BOTH, vary=["temp=0.1,1"], A=A[:20], B=B)
    assert str(err.value).startswith("unknown vary key temp") and err.value.params[0] == "vary"
    with pytest.raises(MatvizError) as err:
        poster(BOTH, vary=["temperature=0,1"], A=A[:20], B=B)
    assert str(err.value).startswith("vary temperature: temperature must be > 0") and err.value.params == ("vary", "vary")
    with pytest.raises(MatvizError) as err:
        sweep(BOTH, "T=1:0.1", frames=1, A=A[:20], B=B)
    assert "use e.g. frames 48" in str(err.value) and err.value.params == ("frames",)
    with pytest.raises(MatvizError) as err:
        mv.write_poster(poster(BOTH, vary=["temperature=1"], A=A[:20], B=B), "sheet.gif")
    assert str(err.value).endswith("choose another path") and err.value.params == ("path",)
    args = ["poster", BOTH, "--set", "A=random:6x5", "--set", "B=random:5x4"]
    assert main([*args, "--animate", "T=1:0.1", "--frames", "1", "-o", str(tmp_path / "x.mp4")]) == 2
    assert main([*args, "--vary", "temperature=1", "-o", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].endswith("use e.g. --frames 48") and err[1].endswith("choose another -o"), err
    assert list(tmp_path.iterdir()) == []


def test_poster_grid_of_two_axes_and_whole_expressions():
    spec = poster(
        "L @ softmax(B, cols, temperature=T)",
        vary=[['L=A', 'L=flip(A, "h")'], "temperature=0.1,1"],
        A=A[:20], B=B,
    )
    assert spec.columns == 2 and len(spec.tiles) == 4
    assert [t.label for t in spec.tiles][:2] == ["L=A · T=0.1", 'L=flip(A, "h") · T=0.1']
    values = spec.values()
    np.testing.assert_allclose(values[1], evaluate('flip(A, "h") @ softmax(B, cols, temperature=0.1)', dict(A=A[:20], B=B)).value)
    whole = poster(vary=[["A @ B", "t_product(A)"]], A=A, B=B)
    assert [v.shape for v in whole.values()] == [(24, 16), (20, 20)]
    assert len(draw_poster(whole).pictures) == 2


def test_temperature_sweep_mp4_sharpens_as_t_falls(tmp_path):
    out = tmp_path / "sweep.mp4"
    args = ["poster", BOTH, "--set", "A=sample:moon", "--set", "B=sample:coins", "--resize", "48x48"]
    assert main([*args, "--animate", "T=1:0.02", "--frames", "8", "-o", str(out)]) == 0
    video = iio.imread(out)
    assert video.shape[0] == 8
    assert all(not np.array_equal(video[i], video[i + 1]) for i in range(7))
    spec = sweep(BOTH, "T=1:0.02", frames=8, A="sample:moon", B="sample:coins", resize="48x48")
    np.testing.assert_allclose(spec.settings(), np.geomspace(1, 0.02, 8))
    frames = draw_sweep(spec)
    x0, y0, x1, y1 = frames[0].pictures[0]  # the panel on one gray scale for the whole sweep
    contrast = [video[i, y0 + 4 : y1 - 4, x0 + 4 : x1 - 4].astype(float).std() for i in range(8)]
    assert contrast[-1] > contrast[5] > contrast[2] > contrast[0] and contrast[-1] > 5, contrast  # later: more contrast
    assert [t["text"] for t in frames[0].texts[1:2]] == ["T = 1"] and frames[-1].texts[1]["text"] == "T = 0.02"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--vary", "temp=0.1,1"], "unknown --vary key temp"),
        (["--vary", "temperature=0,1"], "temperature must be > 0"),
        (["--vary", "temperature=-1"], "temperature must be > 0"),
        (["--vary", "temperature=hot"], "temperatures are numbers"),
        (["--animate", "T=1:0"], "temperature must be > 0"),
        (["--animate", "T=1"], "is not NAME=START:STOP"),
        (["--animate", "Q=1:0.1"], "unknown --animate key Q"),
        (["--vary", "temperature=0.1", "--frames", "4"], "--frames only applies"),
        (["--vary", "temperature=0.1", "-o", "x.mp4"], "poster sheet is written as .png"),
        ([], "needs at least one --vary"),
    ],
)
def test_bad_poster_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    if "-o" not in argv:
        argv = [*argv, "-o", "out/s.mp4" if "--animate" in argv else "out/s.png"]
    code = main(["poster", BOTH, "--set", "A=random:6x5", "--set", "B=random:5x4", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("matviz: error:") and words in err[0], err
    assert list(tmp_path.iterdir()) == []  # no file, no directory, no temp file


def test_bad_flat_input_exit_2(tmp_path, capsys):
    for argv in (
        ["render", "A @ A", "--set", "A=random:4x4", "--flat", "-o", str(tmp_path / "x.mp4")],
        ["render", "A @ A", "--set", "A=random:4x4", "--flat", "--size", "320x240", "-o", str(tmp_path / "x.png")],
        ["render", "A @ A", "--set", "A=random:4x4", "--bits", "16", "-o", str(tmp_path / "x.png")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("matviz: error:"), err
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    import matviz.animate.writers as writers

    def boom(*a, **k):
        raise KeyboardInterrupt

    spec = sweep(BOTH, "T=1:0.1", frames=3, A=A[:20], B=B)
    monkeypatch.setattr(writers.Mp4Writer, "write_frame", boom)
    with pytest.raises(KeyboardInterrupt):
        mv.write_sweep(spec, tmp_path / "s.mp4")
    monkeypatch.setattr(writers.PngWriter, "write_frame", boom)
    with pytest.raises(KeyboardInterrupt):
        mv.flat(A @ B, tmp_path / "f.png")
    assert list(tmp_path.iterdir()) == []


def test_gallery_writes_and_audits_flat_specs(tmp_path, capsys):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "sheet.py").write_text(
        "from matviz.paper.poster import poster\n"
        "def build():\n"
        "    return poster('softmax(A, rows, temperature=T) @ A', vary=['temperature=0.1,1'], A='random:8x8')\n"
    )
    (scenes / "video.py").write_text(
        "from matviz.paper.poster import sweep\n"
        "def build():\n"
        "    return sweep('softmax(A, rows, temperature=T) @ A', 'T=1:0.1', frames=4, A='random:8x8')\n"
    )
    out = tmp_path / "g"
    assert main(["gallery", "--scenes", str(scenes), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["sheet.png", "video.mp4"]
    assert iio.imread(out / "video.mp4").shape[0] == 4
    assert main(["gallery", "--audit", "--scenes", str(scenes)]) == 0
    assert "0 violation(s)" in capsys.readouterr().err


def test_repository_posters_seven_experiments():
    from pathlib import Path

    from matviz.paper.poster import Poster, Sweep
    from matviz.outputs import load_scene

    root = Path(__file__).resolve().parent.parent
    sheet = load_scene(root / "matviz" / "scenes" / "mishka_poster.py")
    assert isinstance(sheet, Poster) and len(sheet.tiles) == 9  # plain, 3 temperatures, 5 more
    values = sheet.values()
    assert len({v.tobytes() for v in values}) == 9
    assert isinstance(load_scene(root / "matviz" / "scenes" / "mishka_temperature.py"), Sweep)
