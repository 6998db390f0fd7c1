"""matviz.core.expr grown for images: transforms against direct numpy formulas, bindings, shared nodes."""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch

from matviz.core import transforms as tf
from matviz.core.expr import evaluate, parse
from matviz.errors import ExpressionError

rng = np.random.default_rng(11)
IMG = rng.uniform(size=(12, 16))  # an "image": rows × cols
SQ = rng.uniform(size=(9, 9))
A = rng.normal(size=(5, 5))
B = rng.normal(size=(5, 5))
R = rng.normal(size=(3, 4))
W = rng.normal(size=(3, 5))
ENV = {"I": IMG, "S": SQ, "A": A, "B": B, "R": R, "W": W}


def value(text: str, env=None):
    return evaluate(text, ENV if env is None else env).value


def minmax_np(x):
    return (x - x.min()) / (x.max() - x.min())


def softmax_np(x, ax=1):
    e = np.exp(x - x.max(axis=ax, keepdims=True))
    return e / e.sum(axis=ax, keepdims=True)


def error_of(text: str, env=None) -> str:
    with pytest.raises(ExpressionError) as info:
        evaluate(text, ENV if env is None else env)
    message = str(info.value)
    assert len(message.split("\n")) == 3, message  # one sentence, the expression, the carets
    return message


def assert_error(text: str, token: str, *phrases: str, env=None) -> str:
    """The first line has every phrase; the caret sits under ``token`` (its first occurrence)."""
    message = error_of(text, env)
    first, shown, marks = message.split("\n")
    for phrase in phrases:
        assert phrase in first, (phrase, first)
    assert shown == "  " + text
    start = text.index(token)
    assert marks == "  " + " " * start + "^" * len(token), message
    return message


# ---------------------------------------------------------------- transforms: values


def warp_loop(x, amplitude, wavelength):
    """The README formula, one pixel at a time (axis=rows)."""
    m, n = x.shape
    out = np.empty_like(x)
    for i in range(m):
        s = amplitude * np.sin(2 * np.pi * i / wavelength)
        for j in range(n):
            p = min(max(j - s, 0.0), n - 1.0)
            lo = int(np.floor(p))
            hi = min(lo + 1, n - 1)
            t = p - lo
            out[i, j] = (1 - t) * x[i, lo] + t * x[i, hi]
    return out


@pytest.mark.parametrize("direction, oracle", [("h", lambda x: x[:, ::-1]), ("v", lambda x: x[::-1, :])])
def test_flip(direction, oracle):
    np.testing.assert_array_equal(value(f'flip(I, "{direction}")'), oracle(IMG))
    np.testing.assert_array_equal(value(f'flip(flip(I, "{direction}"), "{direction}")'), IMG)


def test_rot90():
    np.testing.assert_array_equal(value("rot90(I)"), np.rot90(IMG))
    assert value("rot90(I)").shape == (16, 12)
    np.testing.assert_array_equal(value("rot90(I, -1)"), np.rot90(IMG, -1))
    np.testing.assert_array_equal(value("rot90(I, k=3)"), np.rot90(IMG, 3))
    np.testing.assert_array_equal(value("rot90(rot90(rot90(rot90(I))))"), IMG)
    np.testing.assert_array_equal(value("rot90(I, 4)"), IMG)


@pytest.mark.parametrize("axis", ["rows", "cols"])
def test_warp_with_amplitude_0_is_the_identity(axis):
    np.testing.assert_array_equal(value(f"warp(I, 0, 24, {axis})"), IMG)


@pytest.mark.parametrize("amplitude, wavelength", [(3.0, 7.0), (2.5, 24.0), (-4.0, 5.5), (40.0, 3.0)])
def test_warp_matches_the_formula(amplitude, wavelength):
    got = value(f"warp(I, {amplitude}, {wavelength})")
    np.testing.assert_allclose(got, warp_loop(IMG, amplitude, wavelength), rtol=0, atol=1e-14)
    cols = value(f"warp(I, amplitude={amplitude}, wavelength={wavelength}, axis=cols)")
    np.testing.assert_allclose(cols, warp_loop(IMG.T, amplitude, wavelength).T, rtol=0, atol=1e-14)


def test_warp_by_whole_pixels_shifts_rows():
    x = np.arange(4 * 8, dtype=float).reshape(4, 8)
    got = value("warp(X, 2, 4)", {"X": x})  # shifts 0, 2, 0, -2 (up to rounding of sin)
    np.testing.assert_allclose(got[0], x[0], atol=1e-12)
    np.testing.assert_allclose(got[1], x[1, [0, 0, 0, 1, 2, 3, 4, 5]], atol=1e-12)  # moved right, left edge clamped
    np.testing.assert_allclose(got[3], x[3, [2, 3, 4, 5, 6, 7, 7, 7]], atol=1e-12)  # moved left, right edge clamped


def test_roll():
    np.testing.assert_array_equal(value("roll(I, 3)"), np.roll(IMG, 3, axis=1))
    np.testing.assert_array_equal(value("roll(I, -5, cols)"), np.roll(IMG, -5, axis=0))
    np.testing.assert_array_equal(value("roll(roll(I, 3, rows), -3, rows)"), IMG)
    np.testing.assert_array_equal(value("roll(roll(I, shift=7, axis=cols), -7, cols)"), IMG)


def test_blur_is_scipys_gaussian_with_clamped_edges():
    ndimage = pytest.importorskip("scipy.ndimage")
    for sigma in (0.5, 1.0, 2.3):
        want = ndimage.gaussian_filter(IMG, sigma, mode="nearest")
        np.testing.assert_allclose(value(f"blur(I, {sigma})"), want, rtol=1e-12, atol=1e-12)
    const = np.full((5, 6), 0.25)
    np.testing.assert_allclose(value("blur(X, 3)", {"X": const}), const, rtol=1e-14)


def test_resize_is_the_sources_resize():
    from matviz.sources.files import resize

    for shape in [(6, 8), (24, 10), (12, 16)]:
        got = value(f"resize(I, {shape[0]}, {shape[1]})")
        assert got.shape == shape
        np.testing.assert_allclose(got, resize(IMG, shape), rtol=1e-12)
    assert value("resize(I, rows=3, cols=4)").shape == (3, 4)


@pytest.mark.parametrize(
    "text, oracle",
    [
        ("I[2:5, 3:10]", lambda x: x[2:5, 3:10]),
        ("I[2:5]", lambda x: x[2:5, :]),
        ("I[:, -4:]", lambda x: x[:, -4:]),
        ("I[::2, ::3]", lambda x: x[::2, ::3]),
        ("I[::-1, :]", lambda x: x[::-1, :]),
        ("I[1:100, 0:2]", lambda x: x[1:100, 0:2]),  # Python slices clip
        ("I[0:1, 0:1]", lambda x: x[0:1, 0:1]),
    ],
)
def test_slicing(text, oracle):
    got = value(text)
    np.testing.assert_array_equal(got, oracle(IMG))
    assert got.flags.owndata or got.base is None or not np.shares_memory(got, IMG)


def test_relu_tanh_selu():
    x = R * 3
    np.testing.assert_array_equal(value("relu(X)", {"X": x}), np.where(x > 0, x, 0.0))
    np.testing.assert_allclose(value("tanh(X)", {"X": x}), np.tanh(x), rtol=1e-15)
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    selu = scale * np.where(x > 0, x, alpha * (np.exp(x) - 1))
    np.testing.assert_allclose(value("selu(X)", {"X": x}), selu, rtol=1e-14)
    np.testing.assert_allclose(value("selu(X)", {"X": x}), torch.selu(torch.from_numpy(x)).numpy(), rtol=1e-12)
    assert value("relu(-2) + tanh(0) + selu(1)", {}) == pytest.approx(scale)


def test_t_product_is_normalize_of_xt_x():
    ev = evaluate("t_product(I)", ENV)
    np.testing.assert_allclose(ev.value, minmax_np(IMG.T @ IMG), rtol=1e-12)
    (p,) = ev.products  # one cube: I.T @ I, normalize on its face
    assert p.label == "I.T @ I" and (p.left.label, p.right.label) == ("I.T", "I")
    assert [s.label for s in p.stages] == ["normalize"]
    np.testing.assert_array_equal(ev.value, evaluate("normalize(I.T @ I)", ENV).value)


def test_the_posters_value():
    """value(A) = normalize(Xᵀ X) with X = normalize(norm(A, "y+1", cols)), on a warped image."""
    text = 'let X = normalize(norm(warp(I, 3, 8), "y+1", cols)) in t_product(X)'
    warped = warp_loop(IMG, 3, 8)
    x = minmax_np((warped + 1) / (warped + 1).sum(axis=0, keepdims=True))
    np.testing.assert_allclose(value(text), minmax_np(x.T @ x), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- transforms: the record


def test_a_shape_keeping_transform_of_a_result_is_a_stage():
    ev = evaluate('blur(relu(flip(A @ B, "h")), 1) @ R.T', {"A": A, "B": B, "R": np.ones((3, 5))})
    first, second = ev.products
    assert [s.label for s in first.stages] == ['flip("h")', "relu", "blur(1)"]
    assert second.left.source == 0 and second.left.stages == ()
    np.testing.assert_array_equal(second.left.values, first.stages[-1].values)


def test_warp_stage_sweeps_along_its_axis():
    ev = evaluate("warp(A @ B, 2, 6, cols)", ENV)
    (stage,) = ev.products[0].stages
    assert stage.label == "warp(2, 6, cols)" and stage.rowwise == "cols"


def test_transforms_on_operands_change_the_operand():
    ev = evaluate('flip(A, "v") @ roll(B, 1)', ENV)
    (p,) = ev.products
    assert (p.left.label, p.right.label) == ('flip(A, "v")', "roll(B, 1)")
    np.testing.assert_array_equal(p.left.values, A[::-1])
    np.testing.assert_allclose(ev.value, A[::-1] @ np.roll(B, 1, axis=1))


@pytest.mark.parametrize("text", ["resize(A @ B, 3, 3) @ R", "(A @ B)[0:3, 0:3] @ R", "rot90(W @ B) @ W"])
def test_a_shape_changing_transform_ends_the_chain(text):
    ev = evaluate(text, ENV)
    first, second = ev.products
    assert first.stages == () and second.left.source is None


def test_a_square_rot90_of_a_result_is_a_stage():
    ev = evaluate("rot90(A @ B, 2) @ A", ENV)
    assert [s.label for s in ev.products[0].stages] == ["rot90(2)"]
    assert ev.products[1].left.source == 0


# ---------------------------------------------------------------- transforms: errors


@pytest.mark.parametrize(
    "text, token, phrases",
    [
        ("warp(I, 3)", "warp(I, 3)", ["warp needs wavelength", "warp(x, amplitude, wavelength, axis=rows)"]),
        ("warp(I)", "warp(I)", ["warp needs amplitude and wavelength"]),
        ("warp(I, 3, 0)", "0", ["wavelength of warp must be > 0"]),
        ("warp(I, A, 4)", "A", ["amplitude of warp must be a number", "5×5 matrix"]),
        ("warp(I, 3, 4, diag)", "diag", ["unknown axis diag for warp", "shift each row"]),
        ("warp(I, 3, 4, rows, 1)", "1", ["at most 4 positional arguments"]),
        ("flip(I)", "flip(I)", ["flip needs direction", 'flip(x, "h")']),
        ('flip(I, "x")', '"x"', ["unknown direction", '"h" (mirror left-right)', '"v"']),
        ("flip(I, h)", "h", ["unknown direction h", 'flip(x, "h")']),
        ("rot90(I, 1.5)", "1.5", ["k of rot90 must be a whole number"]),
        ("roll(I)", "roll(I)", ["roll needs shift"]),
        ("roll(I, 2, axis=diag)", "diag", ["unknown axis diag for roll"]),
        ("blur(I, 0)", "0", ["sigma of blur must be > 0"]),
        ("blur(I, -1)", "-1", ["sigma of blur must be > 0"]),
        ("resize(I, 0, 4)", "0", ["rows of resize must be at least 1"]),
        ("resize(I, 4)", "resize(I, 4)", ["resize needs cols"]),
        ("resize(I, 4, 2.5)", "2.5", ["cols of resize must be a whole number"]),
        ("resize(I, 100000, 100000)", "resize(I, 100000, 100000)", ["too large"]),
        ("resize(I, 4, 4, 7)", "7", ["at most 3 positional arguments"]),
        ("relu(I, 2)", "2", ["at most 1 positional argument"]),
        ("t_product(2)", "2", ["t_product needs a matrix"]),
        ("blur(2, 1)", "2", ["blur needs a matrix"]),
        ("I[0]", "I[0]", ["I[0] is not supported", "indexing", "I[a:b, c:d]"]),
        ("I[0, 1:2]", "I[0, 1:2]", ["indexing"]),
        ("I[1:2, 1:2, 1:2]", "1:2, 1:2, 1:2", ["3 slices", "at most 2"]),
        ("I[5:2]", "I[5:2]", ["is empty", "0×16", "12×16"]),
        ("I[0.5:2]", "0.5", ["slice bound must be a whole number"]),
        ("I[::0]", "0", ["step must not be 0"]),
        ("I[A:2]", "A", ["slice bound must be a number"]),
        ("2[0:1]", "2", ["slicing needs a matrix"]),
    ],
)
def test_transform_errors(text, token, phrases):
    assert_error(text, token, *phrases)


def test_flip_direction_and_indexing_are_checked_before_names():
    for text in ['flip(Z, "d")', "Z[0]", "warp(Z, 1)"]:
        with pytest.raises(ExpressionError):
            parse(text)


# ---------------------------------------------------------------- bindings


def test_let_and_semicolon_bindings_are_the_same():
    want = minmax_np(softmax_np(A, 0).T @ softmax_np(A, 0))
    for text in [
        "let X = softmax(A, cols) in normalize(X.T @ X)",
        "X = softmax(A, cols); normalize(X.T @ X)",
        "  let X = softmax(A, cols) in normalize(X.T @ X)",
        "X = softmax(A, cols);normalize(X.T @ X)",
    ]:
        ev = evaluate(text, ENV)
        np.testing.assert_allclose(ev.value, want, rtol=1e-12)
        assert ev.bindings == ("X",) and ev.names == ("A",)
        assert [p.label for p in ev.products] == ["X.T @ X"]


def test_bindings_chain_and_nest():
    text = "let X = A @ B in let Y = softmax(X, cols) in Y.T @ Y + X"
    ev = evaluate(text, ENV)
    y = softmax_np(A @ B, 0)
    np.testing.assert_allclose(ev.value, y.T @ y + A @ B, rtol=1e-12)
    assert ev.bindings == ("X", "Y") and len(ev.products) == 2
    assert evaluate("X = A @ B; Y = X / 2; Y @ X", ENV).products[1].left.source == 0


def test_parse_of_a_binding_is_a_module_with_real_columns():
    text = "let X = A @ B in X.T @ X"
    tree = parse(text)
    assert isinstance(tree, ast.Module) and len(tree.body) == 2
    assign, last = tree.body
    assert text[assign.value.col_offset : assign.value.end_col_offset] == "A @ B"
    assert text[last.value.col_offset : last.value.end_col_offset] == "X.T @ X"
    assert isinstance(parse("A @ B"), ast.Expression)


def test_errors_inside_bindings_point_into_the_text():
    assert_error("let X = A @ R in X", "A @ R", "shape mismatch in A @ R")
    assert_error("X = softmax(A, diag); X", "diag", "unknown axis diag")
    assert_error("let X = A @* B in X", "*", "syntax error")


@pytest.mark.parametrize(
    "text, token, phrases",
    [
        ("let X = A @ B", "let", ["let without in"]),
        ("let X = A @ B in", "X = A @ B", ["ends with X = A @ B", "end with the expression"]),
        ("X = A @ B", "X = A @ B", ["ends with"]),
        ("X = A; A @ B", "X", ["X is bound but never used"]),
        ("X = Y @ A; Y = B; X", "Y", ["Y is used before it is bound"]),
        ("X = X @ A; X", (4, 1), ["X is used in its own binding"]),
        ("X = A; X = B; X", (7, 1), ["X is bound twice"]),
        ("A = B @ B; A", "A", ["A is bound here and also given as an operand"]),
        ("A; B", "A", ["A is not used", "X = A"]),
        ("X, Y = A, B; X", "X, Y", ["cannot be bound", "one name"]),
        ("X += A; X", "X += A", ["augmented assignment", "NAME = expression"]),
        ("import os; A", "import os", ["import", "not supported"]),
        ("rows = A; rows", "rows", ["rows cannot be bound", "axis word"]),
        ("exp = A; A", "exp", ["exp cannot be bound", "a function"]),
        ("X = Y = A; X", (0, 1), ["cannot be bound"]),
    ],
)
def test_binding_errors(text, token, phrases):
    message = error_of(text)
    first, _, marks = message.split("\n")
    for phrase in phrases:
        assert phrase in first, (phrase, first)
    if isinstance(token, tuple):
        start, width = token
    else:
        start, width = (text.index(token) if not text.startswith("let") or token == "let" else 4), len(token)
    assert marks == "  " + " " * start + "^" * width, message


def test_binding_error_carets():
    assert_error("X = A; A @ B", "X", "never used")
    assert_error("X = Y @ A; Y = B; X", "Y", "before it is bound")
    message = error_of("X = X @ A; X")
    assert message.split("\n")[2] == "  " + " " * 4 + "^"  # the X inside its own value
    message = error_of("let X = A @ B in")
    assert message.split("\n")[2] == "  " + " " * 4 + "^" * len("X = A @ B")


# ---------------------------------------------------------------- shared nodes


def test_a_repeated_product_is_one_node():
    text = "softmax(A@B, rows) @ softmax(A@B, cols)"
    ev = evaluate(text, ENV)
    assert len(ev.products) == 2  # A@B once, then the product of its two softmaxes
    shared, outer = ev.products
    assert shared.label == "A@B" and shared.stages == ()  # the shared face shows the raw product
    assert outer.left.source == 0 and outer.right.source == 0
    assert [s.label for s in outer.left.stages] == ["softmax(rows)"]
    assert [s.label for s in outer.right.stages] == ["softmax(cols)"]
    np.testing.assert_allclose(outer.left.values, softmax_np(A @ B, 1), rtol=1e-12)
    np.testing.assert_allclose(outer.right.values, softmax_np(A @ B, 0), rtol=1e-12)
    np.testing.assert_allclose(ev.value, softmax_np(A @ B, 1) @ softmax_np(A @ B, 0), rtol=1e-12)


def test_shared_steps_stay_on_the_shared_face():
    ev = evaluate("exp(softmax(A @ B / 2)) @ normalize(softmax(A @ B / 2))", ENV)
    shared, outer = ev.products
    assert [s.label for s in shared.stages] == ["/ 2", "softmax(rows)"]
    assert [s.label for s in outer.left.stages] == ["exp"]
    assert [s.label for s in outer.right.stages] == ["normalize"]


def test_the_same_node_written_two_ways():
    ev = evaluate("softmax(A @ B) @ softmax(A @ B, axis=rows, temperature=1)", ENV)
    shared, outer = ev.products
    assert [s.label for s in shared.stages] == ["softmax(rows)"]  # one use path: the stage stays on the face
    assert outer.left.stages == () and outer.right.stages == ()
    assert len(evaluate("t_product(A) + normalize(A.T @ A)", ENV).products) == 1
    assert len(evaluate("(A.T @ A) @ t_product(A)", ENV).products) == 2


def test_a_binding_used_twice_is_one_node():
    ev = evaluate("X = A @ B; softmax(X, rows) @ softmax(X, cols) + X", ENV)
    assert [p.label for p in ev.products] == ["A @ B", "softmax(X, rows) @ softmax(X, cols)"]
    s = A @ B
    np.testing.assert_allclose(ev.value, softmax_np(s, 1) @ softmax_np(s, 0) + s, rtol=1e-12)


def test_single_use_is_recorded_as_before():
    ev = evaluate("softmax(A @ B / 2) @ A", ENV)
    first, second = ev.products
    assert [s.label for s in first.stages] == ["/ 2", "softmax(rows)"]
    assert second.left.stages == () and second.left.values is first.stages[-1].values
