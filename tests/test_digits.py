"""matviz digits (issue 12 §3-4): the paper's experiment on scikit-learn's 8x8 digits.

One experiment per module (seed 0, short refinement), checked against numpy oracles: the
1-layer net's accuracy, pinv's signal part, the SELU net's layer-by-layer inversion, the
ideal outputs and starting images by brute force, the refinement's losses; the figures pass the
flat audit; bad input for the command is one line, exit 2, nothing written."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from matviz.learning import digits  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return digits.experiment(seed=0, steps=60)


@pytest.fixture(scope="module")
def data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    return train_test_split(d.data / 16.0, d.target, test_size=0.25, random_state=0, stratify=d.target)


def test_one_layer_net_reaches_90_percent_on_held_out_digits(ex, data):
    Xtr, Xte, ytr, yte = data
    (W, b, act), = ex.layers["linear"]
    assert W.shape == (10, 64) and not act
    accuracy = float(np.mean((Xte @ W.T + b).argmax(axis=1) == yte))  # numpy, from the weights alone
    assert accuracy >= 0.90
    assert accuracy == ex.accuracy["linear"]["test"]
    assert len(yte) == 450 and len(ytr) == 1347  # the test set is the held-out quarter


def test_same_seed_same_weights():
    from matviz.learning import fit_digits

    Xtr, _, ytr, _ = digits.load(0)
    a = fit_digits.train("linear", Xtr, ytr, seed=3, epochs=5).dense_layers()[0][0]
    b = fit_digits.train("linear", Xtr, ytr, seed=3, epochs=5).dense_layers()[0][0]
    c = fit_digits.train("linear", Xtr, ytr, seed=4, epochs=5).dense_layers()[0][0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_pinv_recovers_the_signal_part_of_a_trained_layer(ex, data):
    """pinv(W) (W x) = P x for the 1-layer net's W and test images, with numpy's pinv as the oracle;
    the residual x - P x is what W does not see: W (x - P x) = 0."""
    from matviz.core.subspaces import subspaces

    X = data[1][:40].T  # (64, 40) columns
    (W, _, _), = ex.layers["linear"]
    sub = subspaces(W)
    P = np.linalg.pinv(W) @ W
    np.testing.assert_allclose(sub.pinv @ (W @ X), P @ X, atol=1e-10)
    signal, residual, energy = sub.project(X)
    np.testing.assert_allclose(signal, P @ X, atol=1e-10)
    assert np.abs(W @ residual).max() < 1e-10
    np.testing.assert_allclose(energy.signal + energy.residual, 1.0)
    assert np.all(energy.residual > 0.3)  # a 10-dim row space misses most of a 64-pixel image


def test_selu_inverse_undoes_selu_and_counts_what_it_clips():
    z = np.linspace(-6, 6, 121)
    back, clipped = digits.selu_inverse(digits.selu(z))
    np.testing.assert_allclose(back, z, atol=1e-7)
    assert clipped == 0
    _, clipped = digits.selu_inverse(np.array([digits.SELU_FLOOR - 1, digits.SELU_FLOOR, 0.0]))
    assert clipped == 2


def test_layer_inversion_of_the_selu_net_reproduces_its_input_s_signal_part(ex, data):
    """Layer by layer, with numpy's inverses as oracles: the four square SELU layers give their
    input back (it is all signal: rank 64); the 10x64 output layer gives the signal part P h of its
    input h (numpy's pinv(W) W h), and the whole inversion of h reproduces the net's input x."""
    X = data[1][:30]
    layers = ex.layers["selu"]
    assert [W.shape for W, _, _ in layers] == [(64, 64)] * 4 + [(10, 64)]
    assert [act for _, _, act in layers] == [True] * 4 + [False]
    np.testing.assert_allclose(digits.forward(layers, X), ex.nets["selu"].logits(X), atol=1e-10)
    for k in range(4):  # one square layer at a time
        h_in, h_out = digits.forward(layers, X, k), digits.forward(layers, X, k + 1)
        back, clipped = digits.invert(layers[k : k + 1], h_out)
        assert clipped == 0
        np.testing.assert_allclose(back, h_in, atol=1e-6 * max(1.0, np.abs(h_in).max()))
    h4, y = digits.forward(layers, X, 4), digits.forward(layers, X)
    W5 = layers[4][0]
    back, _ = digits.invert(layers[4:], y)
    np.testing.assert_allclose(back, h4 @ (np.linalg.pinv(W5) @ W5).T, atol=1e-9)
    assert np.abs(back - h4).max() > 0.1  # the signal part, not h itself: the 54-dim null space is lost
    x_back, clipped = digits.invert(layers[:4], h4)
    assert clipped == 0
    np.testing.assert_allclose(x_back, X, atol=1e-5)


def test_ideal_outputs_and_starting_images_by_brute_force(ex, data):
    Xtr, _, ytr, _ = data
    logits = ex.nets["selu"].logits(Xtr)
    for c in (0, 7):
        want = logits.min(axis=0)
        want[c] = logits[:, c].max()
        np.testing.assert_array_equal(ex.ideal[c], want)
        Xc = Xtr[ytr == c]
        dist = np.array([np.linalg.norm(ex.nets["selu"].logits(x[None])[0] - want) for x in Xc])
        np.testing.assert_array_equal(ex.starts["min-img"][c], Xc[np.argmin(dist)])
        np.testing.assert_allclose(ex.starts["avg-img"][c], Xc.mean(axis=0))
        low = Xc[dist <= np.quantile(dist, 0.25)]
        assert 0 < len(low) < len(Xc) / 3
        np.testing.assert_allclose(ex.starts["avg-min-img"][c], low.mean(axis=0))


def test_refinement_lowers_the_loss_of_every_starting_image(ex):
    layers = ex.layers["selu"]
    for kind in digits.KINDS:
        start = np.linalg.norm(digits.forward(layers, ex.starts[kind]) - ex.ideal, axis=1)
        end = np.linalg.norm(digits.forward(layers, ex.refined[kind]) - ex.ideal, axis=1)
        np.testing.assert_allclose(ex.losses[kind][0], start, rtol=1e-10)
        np.testing.assert_allclose(ex.losses[kind][-1], end, rtol=1e-10)
        assert np.all(end < start), (kind, start - end)
        assert not np.allclose(ex.refined[kind], ex.starts[kind])


def test_figures_pass_the_flat_audit_and_are_not_blank(ex):
    from matviz.graphics.figures import audit
    from matviz.learning.sheets import draw

    figs = digits.figures(ex)
    assert list(figs) == list(digits.FIGURES)
    for name, fig in figs.items():
        sheet = draw(fig)
        report = audit(sheet)
        assert report.violations == [], (name, report.violations)
        cells = [c for _, cs in fig.rows for c in cs if c is not None]
        scales = list(dict.fromkeys(c.scale for c in cells))
        assert len(sheet.pictures) == len(cells) + len(scales)
        for x0, y0, x1, y1 in sheet.pictures:  # every picture shows more than one colour
            assert len(np.unique(sheet.image[y0:y1, x0:x1].reshape(-1, 3), axis=0)) > 1, (name, (x0, y0))
        drawn = {t["text"] for t in sheet.texts}
        for cell, stated in zip(cells, sorted(sheet.ranges, key=lambda r: r["picture"])):  # each cell: its scale's
            scale = fig.scales[cell.scale]  # range, written at the ends of its colour bar
            assert (stated["lo"], stated["hi"]) == (scale.lo, scale.hi)
            assert stated["texts"][0] == f"{scale.lo:.3g}".replace("-", "−") and set(stated["texts"]) <= drawn
        assert all(" ".join(w["drawn"]).replace(" ", "") == w["text"].replace(" ", "") for w in sheet.wholes)
    # a broken sheet fails: labels too small to read, and row labels drawn over the pictures
    import matviz.learning.sheets as sheets

    fig = figs["weights"]
    small = {v.rule for v in audit(_drawn_with(sheets, fig, LABEL_PX=9)).violations}
    assert small == {"text-size"}, small
    assert "overlap" in {v.rule for v in audit(_drawn_with(sheets, fig, LINE=6)).violations}
    # the weights sheet shows row 3 of the 1-layer W: its largest entry is the reddest cell
    fig = figs["weights"]
    cell = fig.rows[0][1][3]
    sheet = draw(fig)
    x0, y0, x1, y1 = sheet.pictures[3]
    r, c = np.unravel_index(np.argmax(cell.values), (8, 8))
    px = sheet.image[y0 + r * fig.pixels + fig.pixels // 2, x0 + c * fig.pixels + fig.pixels // 2]
    assert px[0] > 150 and px[2] < 150, px


def _drawn_with(module, fig, **constants):
    """``module.draw(fig)`` with some of its layout constants changed (a broken sheet)."""
    saved = {k: getattr(module, k) for k in constants}
    try:
        for k, v in constants.items():
            setattr(module, k, v)
        return module.draw(fig)
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


def test_cli_writes_the_figures_and_json(tmp_path, capsys, monkeypatch):
    import json

    from _helpers import run_cli

    from matviz.learning import fit_digits

    monkeypatch.setattr(fit_digits, "EPOCHS", {"linear": 30, "selu": 20, "cnn": 10})
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "digits", "-o", out, "--steps", "3")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{n}.png" for n in digits.FIGURES] + ["digits.json"])
    info = json.loads((out / "digits.json").read_text())
    assert info["ideal_inputs"]["steps"] == 3 and "test accuracy" in err
    assert set(info["accuracy"]) == {"linear", "selu", "cnn"}


@pytest.mark.parametrize("case", ["file", "under-file", "proc", "steps", "seed"])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, case):
    from _helpers import listing, run_cli

    blocker = tmp_path / "f.txt"
    blocker.write_text("x")
    out, extra = {
        "file": (blocker, []),
        "under-file": (blocker / "run", []),
        "proc": ("/proc/matviz-digits", []),
        "steps": (tmp_path / "run", ["--steps", "0"]),
        "seed": (tmp_path / "run", ["--seed", "-1"]),
    }[case]
    before = listing(tmp_path)
    code, _, err = run_cli(capsys, "digits", "-o", out, *extra)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("matviz: error: "), err
    if extra:  # the message names the flag the user typed
        assert f"{extra[0]} must be" in err, err
    assert listing(tmp_path) == before


def test_library_errors_name_the_parameters_not_the_flags(tmp_path):
    """``run`` says the keyword a Python user passed and carries it as data; the CLI maps it to a flag."""
    from _helpers import listing

    from matviz.errors import MatvizError

    blocker = tmp_path / "f.txt"
    blocker.write_text("x")
    cases = [
        (dict(out=tmp_path / "run", seed=-1), "seed must be a whole number >= 0, got -1", ("seed",)),
        (dict(out=tmp_path / "run", steps=0), "steps must be a whole number >= 1, got 0", ("steps",)),
        (dict(out=blocker), "output directory", ("out",)),
        (dict(out=blocker / "run"), "is a file; choose another out", ("out",)),
    ]
    for kw, words, params in cases:
        with pytest.raises(MatvizError) as info:
            digits.run(**kw)
        text = str(info.value)
        assert words in text and " -o" not in text and "--" not in text, (kw, text)
        assert info.value.params == params
    assert listing(tmp_path) == ["f.txt"]


def test_gallery_writes_and_audits_the_digits_entry(tmp_path, capsys, monkeypatch):
    """scenes/digits.py is a GalleryJob: matviz gallery writes gallery/digits/ and --audit checks its
    five sheets with the flat rules, writing nothing."""
    import shutil

    from _helpers import listing, run_cli

    from matviz.learning import fit_digits

    monkeypatch.setattr(fit_digits, "EPOCHS", {"linear": 30, "selu": 20, "cnn": 10})
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    shutil.copy(digits.__file__.replace("learning/digits.py", "scenes/digits.py"), scenes / "digits.py")
    code, _, err = run_cli(capsys, "gallery", "--scenes", scenes, "-o", tmp_path / "out")
    assert code == 0, err
    assert {f"digits/{n}.png" for n in digits.FIGURES} <= set(listing(tmp_path / "out"))
    before = listing(tmp_path)
    code, _, err = run_cli(capsys, "gallery", "--audit", "--scenes", scenes)
    assert code == 0 and "audit passed: 5 frame(s), 0 violation(s)" in err, err
    assert listing(tmp_path) == before
