"""matviz.core.subspaces: the SVD and the four fundamental subspaces against numpy and their laws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matviz
from matviz.core.subspaces import DEFAULT_TOL, subspaces
from matviz.errors import MatvizError, ShapeError, ValueProblem


def orthonormal(rng, n, k):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q[:, :k]


def constructed(seed, m, n, r):
    """W = Q₁ diag(s) Q₂ᵀ of rank r with known singular values s (σ₁/σᵣ between 1 and 1e4)."""
    rng = np.random.default_rng(seed)
    s = np.sort(10.0 ** rng.uniform(-2, 2, size=r))[::-1]
    return orthonormal(rng, m, r) @ np.diag(s) @ orthonormal(rng, n, r).T, s


dims = st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**31 - 1))


@settings(max_examples=60, deadline=None)
@given(dims, st.data())
def test_rank_and_condition_number_of_constructed_rank_deficient_matrices(mns, data):
    m, n, seed = mns
    r = data.draw(st.integers(1, min(m, n)))
    W, s = constructed(seed, m, n, r)
    sub = subspaces(W)
    assert sub.rank == r == np.linalg.matrix_rank(W)
    assert sub.condition_number == pytest.approx(s[0] / s[-1], rel=1e-8)
    assert sub.tol == pytest.approx(max(m, n) * np.finfo(float).eps * s[0], rel=1e-8)
    assert sub.tol_source == DEFAULT_TOL
    assert sub.row_space.shape == (n, r) and sub.null_space.shape == (n, n - r)
    assert sub.column_space.shape == (m, r) and sub.left_null_space.shape == (m, m - r)


@settings(max_examples=60, deadline=None)
@given(dims, st.data())
def test_factors_are_orthonormal_and_reproduce_W(mns, data):
    m, n, seed = mns
    r = data.draw(st.integers(0, min(m, n)))
    W = constructed(seed, m, n, r)[0] if r else np.random.default_rng(seed).standard_normal((m, n))
    sub = subspaces(W)
    U, S, Vt = sub.U, sub.singular_values, sub.Vt
    assert np.allclose(U.T @ U, np.eye(m), atol=1e-12) and np.allclose(Vt @ Vt.T, np.eye(n), atol=1e-12)
    k = min(m, n)
    np.testing.assert_allclose(U[:, :k] @ np.diag(S) @ Vt[:k], W, rtol=1e-10, atol=1e-12 * max(1.0, S[0]))
    # the four bases: orthonormal columns, mutually orthogonal complements, W kills the null space
    for basis, dim in ((sub.row_space, n), (sub.null_space, n), (sub.column_space, m), (sub.left_null_space, m)):
        assert basis.shape[0] == dim
        assert np.allclose(basis.T @ basis, np.eye(basis.shape[1]), atol=1e-12)
    assert np.allclose(sub.row_space.T @ sub.null_space, 0, atol=1e-12)
    assert np.allclose(sub.column_space.T @ sub.left_null_space, 0, atol=1e-12)
    scale = max(1.0, S[0])
    assert np.allclose(W @ sub.null_space, 0, atol=1e-10 * scale)
    assert np.allclose(sub.left_null_space.T @ W, 0, atol=1e-10 * scale)


@settings(max_examples=60, deadline=None)
@given(dims, st.data())
def test_projection_laws(mns, data):
    m, n, seed = mns
    r = data.draw(st.integers(1, min(m, n)))
    W, s = constructed(seed, m, n, r)
    sub = subspaces(W)
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal(n)
    px, res, energy = sub.project(x)
    np.testing.assert_allclose(px + res, x, rtol=1e-12, atol=1e-12)
    assert np.allclose(W @ res, 0, atol=1e-10 * s[0] * np.linalg.norm(x))
    assert energy.signal + energy.residual == pytest.approx(1.0, abs=1e-12)
    assert energy.signal == pytest.approx(px @ px / (x @ x), rel=1e-12)
    # the pseudo-inverse recovers the signal part from the output, and matches numpy's
    np.testing.assert_allclose(sub.pinv @ (W @ x), px, atol=1e-9 * np.linalg.norm(x))
    np.testing.assert_allclose(sub.pinv, np.linalg.pinv(W), atol=1e-9 * max(1.0, 1 / s[-1]))
    # P is an orthogonal projector
    P = sub.projector
    assert np.allclose(P @ P, P, atol=1e-12) and np.allclose(P, P.T, atol=1e-12)


def test_project_takes_a_column_a_row_and_a_matrix_of_columns():
    W, _ = constructed(3, 4, 6, 2)
    sub = subspaces(W)
    X = np.random.default_rng(0).standard_normal((6, 3))
    px, res, energy = sub.project(X)
    assert px.shape == res.shape == (6, 3)
    assert energy.signal.shape == (3,)
    np.testing.assert_allclose(energy.signal + energy.residual, 1.0)
    col = sub.project(X[:, :1])
    assert col.signal.shape == (6, 1) and isinstance(col.energy.signal, float)
    np.testing.assert_allclose(col.signal[:, 0], px[:, 0])
    np.testing.assert_allclose(sub.project(X[:, 0]).signal, px[:, 0])


def test_full_rank_square_has_empty_null_spaces_and_everything_is_signal():
    W = np.array([[2.0, 1.0], [1.0, 3.0]])
    sub = matviz.subspaces(W)
    assert sub.rank == 2 and sub.null_space.shape == (2, 0) and sub.left_null_space.shape == (2, 0)
    s = np.linalg.svd(W, compute_uv=False)
    assert sub.condition_number == pytest.approx(s[0] / s[1]) == pytest.approx(np.linalg.cond(W))
    _, res, e = sub.project([1.0, -2.0])
    assert np.allclose(res, 0) and e.signal == pytest.approx(1.0)


def test_given_tolerance_is_used_and_stated():
    W = np.diag([5.0, 1.0, 1e-3])
    assert subspaces(W).rank == 3
    sub = subspaces(W, tol=0.01)
    assert sub.rank == 2 and sub.tol == 0.01 and sub.tol_source == "given"
    assert sub.condition_number == pytest.approx(5.0)
    assert "rank 2" in sub.summary() and "given" in sub.summary()
    assert "numpy default" in subspaces(W).summary()


def test_rank_zero_condition_number_is_undefined_in_one_line():
    sub = subspaces(np.zeros((3, 2)))
    assert sub.rank == 0 and sub.row_space.shape == (2, 0) and sub.null_space.shape == (2, 2)
    with pytest.raises(ValueProblem, match="undefined") as e:
        sub.condition_number
    assert "\n" not in str(e.value) and "rank 0" in str(e.value)
    assert "undefined" in sub.summary()


@pytest.mark.parametrize(
    "bad, cls, words",
    [
        (np.arange(4.0), ShapeError, "2-D"),
        (np.zeros((0, 3)), ShapeError, "empty"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueProblem, "NaN"),
        (np.array([[1.0, np.inf]]), ValueProblem, "Inf"),
    ],
)
def test_bad_W_is_one_line(bad, cls, words):
    with pytest.raises(cls, match=words) as e:
        subspaces(bad)
    assert "\n" not in str(e.value) and str(e.value).startswith("W ")


def test_bad_input_to_project_is_one_line():
    sub = subspaces(np.ones((2, 3)))
    for x, words in (([1.0, 2.0], "length 2"), (np.ones((4, 1)), "length 4"), ([1.0, np.nan, 0.0], "NaN")):
        with pytest.raises(MatvizError, match=words) as e:
            sub.project(x)
        assert "\n" not in str(e.value)
    with pytest.raises(ValueProblem, match="zero"):
        sub.project([0.0, 0.0, 0.0])
    with pytest.raises(ValueProblem, match="tol"):
        subspaces(np.ones((2, 2)), tol=-1)


def test_result_is_frozen():
    sub = subspaces(np.eye(2))
    with pytest.raises(AttributeError):
        sub.rank = 1
    with pytest.raises(ValueError):
        sub.U[0, 0] = 3.0
