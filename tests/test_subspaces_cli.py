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
