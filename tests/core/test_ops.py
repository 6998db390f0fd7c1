"""matviz.core.ops against numpy oracles and the laws the normalizations promise."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matviz.core.ops import (
    axis_number,
    causal_keep,
    check_matrix,
    generalized_normalize,
    masked_softmax,
    minmax,
    signed_minmax,
    softmax,
)
from matviz.errors import MatvizError

AXES = {"rows": 1, "cols": 0}  # numpy axis each word reduces over, per the module docstring

shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))
moderate = st.floats(-30.0, 30.0, allow_nan=False, allow_infinity=False)
temperatures = st.floats(0.05, 50.0, allow_nan=False, allow_infinity=False)


def matrices(elements=moderate, shape=shapes):
    return shape.flatmap(lambda s: arrays(np.float64, s, elements=elements))


def softmax_oracle(x: np.ndarray, ax: int, t: float) -> np.ndarray:
    """Textbook exp(x/T) / sum exp(x/T), no stabilising shift (inputs are kept small enough)."""
    e = np.exp(x / t)
    return e / e.sum(axis=ax, keepdims=True)


# ---------------------------------------------------------------- axis_number


def test_axis_number_words():
    assert axis_number("rows") == 1
    assert axis_number("cols") == 0


@pytest.mark.parametrize("bad", ["diag", "", "ROWS", "x"])
def test_axis_number_unknown_raises(bad):
    with pytest.raises(MatvizError, match="axis"):
        axis_number(bad)


# ---------------------------------------------------------------- softmax


@settings(max_examples=150, deadline=None)
@given(x=matrices(), axis=st.sampled_from(["rows", "cols"]), t=temperatures)
def test_softmax_sums_to_one_and_matches_oracle(x, axis, t):
    ax = AXES[axis]
    s = softmax(x, axis, temperature=t)
    assert s.shape == x.shape
    assert s.dtype == np.float64
    assert np.all(s >= 0)
    np.testing.assert_allclose(s.sum(axis=ax), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s, softmax_oracle(x, ax, t), rtol=1e-9, atol=1e-300)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), x=matrices(), t=temperatures)
def test_softmax_rows_invariant_to_constant_per_row(data, x, t):
    c = data.draw(arrays(np.float64, (x.shape[0], 1), elements=st.floats(-100, 100)))
    np.testing.assert_allclose(softmax(x + c, "rows", t), softmax(x, "rows", t), rtol=1e-6, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), x=matrices(), t=temperatures)
def test_softmax_cols_invariant_to_constant_per_column(data, x, t):
    c = data.draw(arrays(np.float64, (1, x.shape[1]), elements=st.floats(-100, 100)))
    np.testing.assert_allclose(softmax(x + c, "cols", t), softmax(x, "cols", t), rtol=1e-6, atol=1e-9)


def test_softmax_axis_is_the_one_named():
    x = np.array([[0.0, 1.0, 2.0], [5.0, 3.0, -1.0]])
    rows = softmax(x, "rows")
    cols = softmax(x, "cols")
    np.testing.assert_allclose(rows.sum(axis=1), [1.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(cols.sum(axis=0), [1.0, 1.0, 1.0], atol=1e-15)
    assert not np.allclose(rows.sum(axis=0), 1.0)  # rows-softmax is not also a column softmax
    np.testing.assert_allclose(rows[0], np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum(), rtol=1e-14)
    np.testing.assert_allclose(cols[:, 0], np.exp([0, 5]) / np.exp([0, 5]).sum(), rtol=1e-14)


@settings(max_examples=50, deadline=None)
@given(x=matrices(elements=st.floats(-10, 10)), axis=st.sampled_from(["rows", "cols"]))
def test_softmax_high_temperature_is_near_uniform(x, axis):
    ax = AXES[axis]
    s = softmax(x, axis, temperature=1e6)
    np.testing.assert_allclose(s, 1.0 / x.shape[ax], rtol=1e-4)


def test_softmax_low_temperature_approaches_argmax():
    x = np.array([[0.0, 1.0, 0.5], [2.0, -1.0, 1.9]])
    s = softmax(x, "rows", temperature=1e-3)
    np.testing.assert_allclose(s, np.eye(3)[np.argmax(x, axis=1)], atol=1e-12)


def test_softmax_is_stable_for_large_values():
    x = np.array([[1000.0, 1001.0], [-1000.0, -1001.0]])
    s = softmax(x, "rows")
    e = np.exp([0.0, 1.0])
    np.testing.assert_allclose(s[0], e / e.sum(), rtol=1e-14)
    np.testing.assert_allclose(s[1], e[::-1] / e.sum(), rtol=1e-14)


@pytest.mark.parametrize("t", [0.0, -1.0, float("nan")])
def test_softmax_rejects_non_positive_temperature(t):
    with pytest.raises(MatvizError, match="temperature"):
        softmax(np.ones((2, 2)), "rows", temperature=t)


# ---------------------------------------------------------------- generalized_normalize


@settings(max_examples=100, deadline=None)
@given(x=matrices(elements=st.floats(0.0, 50.0)), axis=st.sampled_from(["rows", "cols"]))
def test_generalized_y_plus_one(x, axis):
    ax = AXES[axis]
    got = generalized_normalize(x, "y+1", axis)
    want = (x + 1.0) / (x + 1.0).sum(axis=ax, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got.sum(axis=ax), 1.0, atol=1e-12)


def test_generalized_default_is_y_plus_one_over_rows():
    x = np.array([[0.0, 1.0, 3.0], [2.0, 2.0, 0.0]])
    np.testing.assert_allclose(generalized_normalize(x), [[1 / 7, 2 / 7, 4 / 7], [3 / 7, 3 / 7, 1 / 7]], rtol=1e-14)


@settings(max_examples=60, deadline=None)
@given(x=matrices(), axis=st.sampled_from(["rows", "cols"]))
def test_generalized_exp_is_softmax(x, axis):
    np.testing.assert_allclose(
        generalized_normalize(x, "exp", axis), softmax_oracle(x, AXES[axis], 1.0), rtol=1e-9, atol=1e-300
    )


@pytest.mark.parametrize("axis", ["rows", "cols"])
def test_generalized_callable(axis):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    ax = AXES[axis]
    got = generalized_normalize(x, lambda y: y**2, axis)
    np.testing.assert_allclose(got, x**2 / (x**2).sum(axis=ax, keepdims=True), rtol=1e-12)


def test_generalized_negative_f_raises():
    x = np.array([[0.0, 1.0], [-3.0, 2.0]])  # y+1 = -2 at [1, 0]
    with pytest.raises(MatvizError, match="negative"):
        generalized_normalize(x, "y+1", "rows")
    with pytest.raises(MatvizError, match="negative"):
        generalized_normalize(np.ones((2, 2)), lambda y: -y, "cols")


@pytest.mark.parametrize(
    "axis, x, where",
    [
        ("rows", np.array([[1.0, 2.0], [-1.0, -1.0], [0.0, 0.0]]), r"row 1\b"),
        ("cols", np.array([[1.0, -1.0, 0.0], [2.0, -1.0, 3.0]]), r"column 1\b"),
    ],
)
def test_generalized_zero_sum_raises_naming_the_row_or_column(axis, x, where):
    with pytest.raises(MatvizError) as info:
        generalized_normalize(x, "y+1", axis)
    msg = str(info.value)
    assert "0" in msg and "sum" in msg
    assert re.search(where, msg), msg


def test_generalized_unknown_f_name_raises():
    with pytest.raises(MatvizError, match="y\\+1"):
        generalized_normalize(np.ones((2, 2)), "log")


# ---------------------------------------------------------------- minmax / signed_minmax

wide = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(x=matrices(elements=wide))
def test_minmax_range_and_exact_ends(x):
    y = minmax(x)
    assert y.shape == x.shape
    if x.min() == x.max():
        assert np.array_equal(y, np.zeros_like(x))
        return
    assert y.min() == 0.0 and y.max() == 1.0
    assert np.all((y >= 0) & (y <= 1))
    assert y[np.unravel_index(np.argmin(x), x.shape)] == 0.0
    assert y[np.unravel_index(np.argmax(x), x.shape)] == 1.0
    np.testing.assert_allclose(y, (x - x.min()) / (x.max() - x.min()), rtol=1e-12, atol=1e-12)
    # order-preserving (non-strictly)
    order = np.argsort(x, axis=None, kind="stable")
    assert np.all(np.diff(y.ravel()[order]) >= 0)


def test_minmax_known_values_and_constant():
    np.testing.assert_array_equal(minmax(np.array([[2.0, 4.0], [3.0, 6.0]])), [[0.0, 0.5], [0.25, 1.0]])
    z = minmax(np.full((3, 2), 7.5))
    assert z.shape == (3, 2) and np.array_equal(z, np.zeros((3, 2)))


def test_minmax_extreme_finite_range():
    # Finite values accepted by check_matrix; max - min overflows float64.
    x = np.array([[-1e308, 0.0, 1e308]])
    with np.errstate(all="ignore"):
        y = minmax(x)
    assert np.all(np.isfinite(y)), y
    np.testing.assert_allclose(y, [[0.0, 0.5, 1.0]], atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(x=matrices(elements=wide))
def test_signed_minmax_range(x):
    y = signed_minmax(x)
    if x.min() == x.max():
        assert np.all(np.abs(y) <= 1)
        return
    assert y.min() == -1.0 and y.max() == 1.0
    assert np.all((y >= -1) & (y <= 1))
    np.testing.assert_allclose(y, 2 * (x - x.min()) / (x.max() - x.min()) - 1, rtol=1e-12, atol=1e-12)


def test_signed_minmax_known_values():
    np.testing.assert_array_equal(signed_minmax(np.array([[0.0, 5.0, 10.0]])), [[-1.0, 0.0, 1.0]])


# ---------------------------------------------------------------- check_matrix


@pytest.mark.parametrize("x", [np.arange(4.0), np.zeros((2, 3, 4)), np.float64(3.0)])
def test_check_matrix_rejects_wrong_ndim(x):
    with pytest.raises(MatvizError) as info:
        check_matrix(x, "A")
    msg = str(info.value)
    assert "A" in msg and "2-D" in msg and str(np.shape(x)) in msg


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0, 0)])
def test_check_matrix_rejects_empty(shape):
    with pytest.raises(MatvizError, match="empty") as info:
        check_matrix(np.zeros(shape), "B")
    assert str(shape) in str(info.value)


def test_check_matrix_rejects_empty_list():
    with pytest.raises(MatvizError):
        check_matrix([], "B")


@pytest.mark.parametrize(
    "bad, pos, word",
    [(np.nan, (1, 2), "NaN"), (np.inf, (2, 0), "Inf"), (-np.inf, (0, 3), "Inf")],
)
def test_check_matrix_rejects_non_finite_naming_position_and_shape(bad, pos, word):
    x = np.ones((3, 4))
    x[pos] = bad
    x[2, 3] = np.nan  # a later bad value: the message must name the first one
    with pytest.raises(MatvizError) as info:
        check_matrix(x, "A")
    msg = str(info.value)
    assert word in msg
    assert re.search(rf"\[\s*{pos[0]}\s*,\s*{pos[1]}\s*\]", msg), msg
    assert "A" in msg
    # the shape seen: "(3, 4)" or "3×4"
    assert "(3, 4)" in msg or "3×4" in msg, msg


@pytest.mark.parametrize(
    "x",
    [
        np.array([[1, None], [2, 3]], dtype=object),
        np.array([["a", "b"], ["c", "d"]]),
        [["1", "2"], ["3", "4"]],
    ],
)
def test_check_matrix_rejects_non_numbers(x):
    with pytest.raises(MatvizError, match="dtype"):
        check_matrix(x, "A")


def test_check_matrix_rejects_complex():
    with pytest.raises(MatvizError, match="complex"):
        check_matrix(np.ones((2, 2), dtype=complex), "A")


@pytest.mark.parametrize(
    "x",
    [
        np.array([[1, 2], [3, -4]], dtype=np.int32),
        np.array([[True, False], [False, True]]),
        np.array([[1, 2, 3]], dtype=np.uint8),
        [[1, 2], [3, 4]],
        np.array([[0.5, 1.5]], dtype=np.float32),
    ],
)
def test_check_matrix_accepts_numbers_as_float64(x):
    a = check_matrix(x)
    assert a.dtype == np.float64
    assert a.shape == np.shape(x)
    np.testing.assert_array_equal(a, np.asarray(x).astype(np.float64))


def test_check_matrix_keeps_float64_values():
    x = np.random.default_rng(1).normal(size=(3, 5))
    a = check_matrix(x)
    assert a.dtype == np.float64 and np.array_equal(a, x)


# ---------------------------------------------------------------- one masked softmax


def old_model_softmax(scores: np.ndarray, causal: bool) -> np.ndarray:
    """sources/models._softmax_scores before it used ops.masked_softmax (np.triu mask)."""
    if causal:
        scores = np.where(np.triu(np.ones(scores.shape, dtype=bool), 1), -np.inf, scores)
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=1, keepdims=True)


def old_expr_softmax(x: np.ndarray, axis: str, temperature: float) -> np.ndarray:
    """core/expr's causal softmax before: np.tri keep mask, -inf, then ops.softmax."""
    keep = np.tri(x.shape[0], x.shape[1], dtype=bool)
    return softmax(np.where(keep, x, -np.inf), axis, temperature)


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**31 - 1), st.booleans())
def test_masked_softmax_equals_the_old_model_softmax(seq, d, seed, causal):
    rng = np.random.default_rng(seed)
    q, k = rng.normal(size=(seq, d)), rng.normal(size=(seq, d))
    scores = q @ k.T / np.sqrt(d)  # (seq, seq)
    keep = causal_keep(scores.shape) if causal else None
    np.testing.assert_array_equal(masked_softmax(scores, "rows", keep=keep), old_model_softmax(scores, causal))


@settings(deadline=None, max_examples=60)
@given(matrices(), temperatures)
def test_masked_softmax_equals_the_old_expression_softmax(x, t):
    m, n = x.shape
    keep = causal_keep(x.shape)
    np.testing.assert_array_equal(masked_softmax(x, "rows", t, keep), old_expr_softmax(x, "rows", t))
    if m >= n:  # every column keeps its diagonal entry
        np.testing.assert_array_equal(masked_softmax(x, "cols", t, keep), old_expr_softmax(x, "cols", t))


@settings(deadline=None)
@given(matrices(), st.sampled_from(["rows", "cols"]), st.integers(0, 2**31 - 1))
def test_masked_softmax_laws(x, axis, seed):
    """Masked entries are exactly 0 and every row (column) sums to 1; no mask is plain softmax."""
    keep = np.random.default_rng(seed).random(x.shape) < 0.6
    keep[np.arange(min(x.shape)), np.arange(min(x.shape))] = True
    keep[:, 0] |= axis == "rows"  # every row keeps an entry
    keep[0, :] |= axis == "cols"  # every column keeps an entry
    p = masked_softmax(x, axis, keep=keep)
    assert np.all(p[~keep] == 0.0) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=AXES[axis]), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(masked_softmax(x, axis), softmax(x, axis))


def test_causal_keep_is_the_lower_triangle():
    np.testing.assert_array_equal(causal_keep((3, 4)), np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]], bool))
    i, j = np.indices((5, 3))
    np.testing.assert_array_equal(causal_keep((5, 3)), j <= i)


def test_masked_softmax_rejects_a_fully_masked_row_and_a_wrong_mask():
    x = np.zeros((2, 3))
    keep = np.array([[True, False, False], [False, False, False]])
    with pytest.raises(MatvizError) as info:
        masked_softmax(x, "rows", keep=keep)
    assert "row 1" in str(info.value)
    with pytest.raises(MatvizError) as info:
        masked_softmax(x, "rows", keep=np.ones((3, 2), bool))
    assert "(3, 2)" in str(info.value) and "(2, 3)" in str(info.value)

