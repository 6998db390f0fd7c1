"""matviz.core.expr: values against numpy and torch, the product/stage/link record, and every error."""

from __future__ import annotations

import ast

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matviz.core.expr import Evaluation, Product, caret, evaluate, parse
from matviz.errors import ExpressionError, MatvizError

rng = np.random.default_rng(7)
Q = rng.normal(size=(4, 8))  # seq_q × d_head
K = rng.normal(size=(6, 8))  # seq_k × d_head
V = rng.normal(size=(6, 3))  # seq_k × d_v
A = rng.normal(size=(3, 4))
B = rng.normal(size=(4, 5))
C = rng.normal(size=(5, 2))
D = rng.normal(size=(3, 4))
ENV = {"Q": Q, "K": K, "V": V, "A": A, "B": B, "C": C, "D": D}


# ---------------------------------------------------------------- numpy oracles


def softmax_np(x: np.ndarray, ax: int = 1, t: float = 1.0) -> np.ndarray:
    e = np.exp((x - x.max(axis=ax, keepdims=True)) / t)
    return e / e.sum(axis=ax, keepdims=True)


def causal_keep(m: int, n: int) -> np.ndarray:
    """Kept entries of a causal mask, written out as the definition: column j <= row i."""
    i, j = np.indices((m, n))
    return j <= i


def causal_softmax_np(x: np.ndarray, ax: int = 1) -> np.ndarray:
    return softmax_np(np.where(causal_keep(*x.shape), x, -np.inf), ax)


def minmax_np(x: np.ndarray) -> np.ndarray:
    return (x - x.min()) / (x.max() - x.min())


def staged(p: Product) -> np.ndarray:
    """What a product hands on: its last stage's values, or its values when it has no stages."""
    return p.stages[-1].values if p.stages else p.values


# ---------------------------------------------------------------- error helpers


def error_of(text: str, env=None) -> str:
    with pytest.raises(ExpressionError) as info:
        evaluate(text, ENV if env is None else env)
    assert isinstance(info.value, MatvizError)
    return str(info.value)


def caret_columns(message: str, text: str) -> tuple[int, int]:
    """Columns ``start:end`` of the ``^`` run in an error message, checking the three-line layout."""
    lines = message.split("\n")
    assert len(lines) == 3, message
    assert lines[1] == "  " + text, message
    marks = lines[2][2:]
    start = marks.index("^")
    end = marks.rindex("^") + 1
    assert marks == " " * start + "^" * (end - start), message
    return start, end


def where(text: str, token: str, nth: int = 0) -> tuple[int, int]:
    """Columns of the ``nth`` occurrence of ``token`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(token, start + 1)
    return start, start + len(token)


def assert_error(text: str, token: str, *phrases: str, nth: int = 0, env=None) -> str:
    """Evaluating ``text`` fails, the first line has every phrase and the caret is under ``token``."""
    message = error_of(text, env)
    first = message.split("\n")[0]
    for phrase in phrases:
        assert phrase in first, f"{phrase!r} not in {first!r}"
    assert caret_columns(message, text) == where(text, token, nth), message
    return message


# ---------------------------------------------------------------- caret


def test_caret_draws_the_expression_and_marks():
    assert caret("A @ B", 2, 3) == "  A @ B\n    ^"
    assert caret("A @ B", 0, 5) == "  A @ B\n  ^^^^^"
    assert caret("A +", 3, 3) == "  A +\n     ^"  # at least one mark, just past the end


# ---------------------------------------------------------------- values against numpy


@pytest.mark.parametrize(
    "text, want",
    [
        ("A @ B", A @ B),
        ("A @ B @ C", A @ B @ C),
        ("A @ (B @ C)", A @ (B @ C)),
        ("B.T", B.T),
        ("(A @ B).T", (A @ B).T),
        ("A + D", A + D),
        ("A - D", A - D),
        ("A * D", A * D),
        ("A / (D * D + 1)", A / (D * D + 1)),
        ("2 * A - 1", 2 * A - 1),
        ("1 - A / 4", 1 - A / 4),
        ("2 / (A * A + 1)", 2 / (A * A + 1)),
        ("-A", -A),
        ("-(A @ B) * 0.5", -(A @ B) * 0.5),
        ("sqrt(A * A)", np.abs(A)),
        ("exp(A)", np.exp(A)),
        ("normalize(A)", minmax_np(A)),
        ("signed(A)", 2 * minmax_np(A) - 1),
        ("softmax(A)", softmax_np(A, 1)),
        ("softmax(A, rows)", softmax_np(A, 1)),
        ("softmax(A, cols)", softmax_np(A, 0)),
        ("softmax(A, 'cols')", softmax_np(A, 0)),
        ("softmax(A, axis=cols)", softmax_np(A, 0)),
        ("softmax(A, temperature=2.5)", softmax_np(A, 1, 2.5)),
        ("softmax(A, cols, temperature=0.5)", softmax_np(A, 0, 0.5)),
        ("softmax(A, causal=True)", causal_softmax_np(A, 1)),
        ("softmax(A.T, cols, causal=True)", causal_softmax_np(A.T, 0)),  # 4×3: every column keeps an entry
        ("softmax(A, causal=False)", softmax_np(A, 1)),
        ("norm(normalize(A))", (minmax_np(A) + 1) / (minmax_np(A) + 1).sum(axis=1, keepdims=True)),
        ('norm(normalize(A), f="y+1", axis=cols)', (minmax_np(A) + 1) / (minmax_np(A) + 1).sum(axis=0, keepdims=True)),
        ("norm(normalize(A), cols)", (minmax_np(A) + 1) / (minmax_np(A) + 1).sum(axis=0, keepdims=True)),
        ('norm(A, "exp")', softmax_np(A, 1)),
        ('norm(A, cols, "exp")', softmax_np(A, 0)),
        ('norm(A, f="exp", causal=True)', causal_softmax_np(A, 1)),
        ("softmax(A, rows) @ softmax(B, cols)", softmax_np(A, 1) @ softmax_np(B, 0)),
        ("A @ B + D @ B", A @ B + D @ B),
    ],
)
def test_values_match_numpy(text, want):
    ev = evaluate(text, ENV)
    assert isinstance(ev, Evaluation)
    assert ev.text == text
    assert isinstance(ev.value, np.ndarray) and ev.value.dtype == np.float64 and ev.value.shape == want.shape
    np.testing.assert_allclose(ev.value, want, rtol=1e-12, atol=1e-14)


def test_causal_norm_gives_masked_entries_f_zero():
    x = minmax_np(A)  # 3×4, >= 0 so y+1 > 0
    keep = causal_keep(3, 4)
    fx = np.where(keep, x + 1, 0.0)
    ev = evaluate("norm(normalize(A), causal=True)", ENV)
    np.testing.assert_allclose(ev.value, fx / fx.sum(axis=1, keepdims=True), rtol=1e-12)
    assert np.all(ev.value[~keep] == 0.0)


def test_causal_mask_is_top_left_lower_triangle():
    ev = evaluate("softmax(A, causal=True)", ENV)  # 3×4: row i keeps columns 0..i
    assert np.all(ev.value[0, 1:] == 0) and np.all(ev.value[1, 2:] == 0) and ev.value[2, 3] == 0
    assert np.all(ev.value[causal_keep(3, 4)] > 0)
    np.testing.assert_allclose(ev.value.sum(axis=1), 1.0, atol=1e-15)


def test_scalars():
    ev = evaluate("2 * 3 - 1 / 4", {})
    assert ev.value == pytest.approx(5.75) and isinstance(ev.value, float)
    assert evaluate("sqrt(16) + exp(0)", {}).value == pytest.approx(5.0)
    assert evaluate("-x * 2", {"x": np.float32(1.5)}).value == pytest.approx(-3.0)
    ev = evaluate("s * A", {"s": 3, "A": A})
    np.testing.assert_allclose(ev.value, 3 * A)
    assert ev.names == ("s", "A")


def test_d_defaults_to_the_inner_dimension_of_the_first_product():
    ev = evaluate("softmax(Q @ K.T / sqrt(d)) @ V", ENV)
    assert ev.d == Q.shape[1] == 8
    assert ev.names == ("Q", "K", "d", "V")
    np.testing.assert_allclose(ev.value, softmax_np(Q @ K.T / np.sqrt(8)) @ V, rtol=1e-12)


def test_d_used_before_the_first_product_is_evaluated():
    ev = evaluate("sqrt(d) * (A @ B)", ENV)  # d is read before A @ B runs: still A's 4 columns
    assert ev.d == 4.0
    np.testing.assert_allclose(ev.value, 2.0 * (A @ B), rtol=1e-12)
    assert evaluate("A @ (B @ C) / d", ENV).d == 5.0  # B @ C completes first


def test_d_from_env_is_not_defaulted():
    ev = evaluate("Q @ K.T / d", {**ENV, "d": 2.0})
    assert ev.d is None and ev.names == ("Q", "K", "d")
    np.testing.assert_allclose(ev.value, Q @ K.T / 2.0)


def test_leading_spaces_keep_columns():
    text = "   A @ B"
    ev = evaluate(text, ENV)
    assert ev.products[0].span == where(text, "A @ B")
    assert ev.products[0].label == "A @ B"


def test_env_arrays_are_copied_and_converted():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    b = [[1, 0], [0, 1], [1, 1], [0, 0]]  # nested lists of ints are fine
    ev = evaluate("a @ b", {"a": a, "b": b})
    assert ev.products[0].left.values is not a
    np.testing.assert_array_equal(ev.value, a @ np.array(b, dtype=np.float64))
    assert ev.value.dtype == np.float64


# ---------------------------------------------------------------- attention against torch


def sdpa(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    t = [torch.from_numpy(x)[None, None] for x in (q, k, v)]  # (1, 1, seq, dim) float64
    return torch.nn.functional.scaled_dot_product_attention(*t, is_causal=causal)[0, 0].numpy()


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("seq_q", [4, 6, 9])
def test_attention_matches_torch_sdpa(causal, seq_q):
    q = np.random.default_rng(seq_q).normal(size=(seq_q, 8))
    text = "softmax(Q @ K.T / sqrt(d), causal=True) @ V" if causal else "softmax(Q @ K.T / sqrt(d)) @ V"
    ev = evaluate(text, {"Q": q, "K": K, "V": V})
    assert ev.value.shape == (seq_q, V.shape[1])
    np.testing.assert_allclose(ev.value, sdpa(q, K, V, causal), rtol=0, atol=1e-6)


# ---------------------------------------------------------------- products, stages and links


def test_attention_record():
    text = "softmax(Q @ K.T / sqrt(d)) @ V"
    ev = evaluate(text, ENV)
    assert len(ev.products) == 2
    scores, out = ev.products
    assert scores.label == "Q @ K.T" and scores.span == where(text, "Q @ K.T")
    assert (scores.left.label, scores.right.label) == ("Q", "K.T")
    assert scores.left.source is None and scores.right.source is None
    np.testing.assert_array_equal(scores.right.values, K.T)
    np.testing.assert_allclose(scores.values, Q @ K.T, rtol=1e-14)
    assert [s.label for s in scores.stages] == ["/ sqrt(d)", "softmax(rows)"]
    assert [s.rowwise for s in scores.stages] == [None, "rows"]
    np.testing.assert_allclose(scores.stages[0].values, Q @ K.T / np.sqrt(8), rtol=1e-14)
    np.testing.assert_allclose(scores.stages[1].values, softmax_np(Q @ K.T / np.sqrt(8)), rtol=1e-12)
    assert out.label == text and out.span == (0, len(text))
    assert out.left.label == "softmax(Q @ K.T / sqrt(d))" and out.left.source == 0
    assert out.right.label == "V" and out.right.source is None
    np.testing.assert_array_equal(out.left.values, scores.stages[-1].values)
    assert out.stages == ()
    np.testing.assert_array_equal(ev.value, out.values)


def test_causal_attention_record():
    ev = evaluate("softmax(Q @ K.T / sqrt(d), causal=True) @ V", ENV)
    scores, out = ev.products
    assert [s.label for s in scores.stages] == ["/ sqrt(d)", "causal mask", "softmax(rows)"]
    assert [s.rowwise for s in scores.stages] == [None, None, "rows"]
    masked = scores.stages[1].values
    keep = causal_keep(*masked.shape)
    assert np.all(masked[~keep] == -np.inf)
    np.testing.assert_array_equal(masked[keep], scores.stages[0].values[keep])
    probs = scores.stages[2].values
    assert np.all(probs[~keep] == 0.0) and np.all(np.isfinite(probs))
    assert out.left.source == 0
    np.testing.assert_array_equal(out.left.values, probs)
    assert not np.isinf(out.left.values).any()


def test_stages_carry_their_colour_kind():
    """One Stage type for expressions and cubes: the kind comes from the finite values."""
    from matviz.core.operand import Stage

    scores = evaluate("softmax(Q @ K.T / sqrt(d), causal=True) @ V", ENV).products[0]
    assert all(isinstance(s, Stage) for s in scores.stages)
    scaled, masked, probs = scores.stages
    assert scaled.kind == ("signed" if scaled.values.min() < 0 else "nonneg")
    finite = masked.values[np.isfinite(masked.values)]
    assert masked.kind == ("signed" if finite.min() < 0 else "nonneg")
    assert probs.kind == "nonneg"


def test_causal_softmax_is_the_shared_masked_softmax():
    from matviz.core.ops import masked_softmax
    from matviz.core.ops import causal_keep as keep_of

    ev = evaluate("softmax(Q @ K.T / sqrt(d), causal=True, temperature=0.5)", ENV)
    scaled = ev.products[0].stages[0].values
    np.testing.assert_array_equal(ev.value, masked_softmax(scaled, "rows", 0.5, keep_of(scaled.shape)))


def test_temperature_shows_in_the_label_only_when_not_one():
    assert evaluate("softmax(A @ B, temperature=2)", ENV).products[0].stages[0].label == "softmax(rows, temperature=2)"
    assert evaluate("softmax(A @ B, temperature=1)", ENV).products[0].stages[0].label == "softmax(rows)"
    assert evaluate("softmax(A @ B, cols)", ENV).products[0].stages[0].rowwise == "cols"


def test_softmax_operands_are_terms_not_stages():
    ev = evaluate("softmax(A, rows) @ softmax(B, cols)", ENV)
    (p,) = ev.products
    assert (p.left.label, p.right.label) == ("softmax(A, rows)", "softmax(B, cols)")
    assert p.left.source is None and p.right.source is None and p.stages == ()


@pytest.mark.parametrize("text, side", [("(A @ B) @ C", "left"), ("A @ (B @ C)", "right")])
def test_nested_products_link(text, side):
    ev = evaluate(text, ENV)
    assert len(ev.products) == 2
    inner, outer = ev.products
    term = getattr(outer, side)
    assert term.source == 0 and term.label == inner.label
    np.testing.assert_array_equal(term.values, inner.values)
    other = outer.right if side == "left" else outer.left
    assert other.source is None


def test_two_products_combined_elementwise_are_not_linked():
    ev = evaluate("A @ B + D @ B", ENV)
    assert [p.label for p in ev.products] == ["A @ B", "D @ B"]
    assert all(p.stages == () for p in ev.products)
    assert all(t.source is None for p in ev.products for t in (p.left, p.right))


def test_transpose_breaks_the_link_but_keeps_earlier_stages():
    ev = evaluate("softmax(A @ B / 2).T @ D", ENV)
    first, second = ev.products
    assert [s.label for s in first.stages] == ["/ 2", "softmax(rows)"]
    assert second.left.source is None and second.left.label == "softmax(A @ B / 2).T"
    np.testing.assert_allclose(second.left.values, first.stages[-1].values.T)


def test_binary_op_with_another_matrix_breaks_the_link():
    ev = evaluate("(softmax(A @ B) * (D @ B)) @ C", ENV)
    assert len(ev.products) == 3
    assert [s.label for s in ev.products[0].stages] == ["softmax(rows)"]
    assert ev.products[2].left.source is None


def test_stages_at_the_root_belong_to_the_product():
    ev = evaluate("signed(2 * (A @ B) + 1)", ENV)
    (p,) = ev.products
    assert [s.label for s in p.stages] == ["* 2", "+ 1", "signed"]
    assert ev.value is p.stages[-1].values
    ev = evaluate("-(1 - A @ B / 2)", ENV)
    assert [s.label for s in ev.products[0].stages] == ["/ 2", "1 - x", "negate"]
    np.testing.assert_allclose(ev.value, -(1 - A @ B / 2))


def test_every_unary_step_is_a_stage():
    ev = evaluate("norm(normalize(exp(sqrt(normalize(D.T @ A)))), cols, causal=True) @ B", ENV)  # 4×4 first
    first, second = ev.products
    labels = ["normalize", "sqrt", "exp", "normalize", "causal mask", "norm(y+1, cols)"]
    assert [s.label for s in first.stages] == labels
    assert [s.rowwise for s in first.stages] == [None] * 5 + ["cols"]
    assert second.left.source == 0
    np.testing.assert_array_equal(second.left.values, staged(first))


# ---------------------------------------------------------------- properties

small = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)
shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))


@settings(max_examples=100, deadline=None)
@given(
    x=shapes.flatmap(lambda s: arrays(np.float64, s, elements=small)),
    causal=st.booleans(),
    t=st.floats(0.1, 10.0),
)
def test_softmax_rows_sum_to_one(x, causal, t):
    ev = evaluate(f"softmax(X, rows, temperature={t!r}, causal={causal})", {"X": x})
    assert np.all(ev.value >= 0)
    np.testing.assert_allclose(ev.value.sum(axis=1), 1.0, atol=1e-12)
    if causal:
        assert np.all(ev.value[~causal_keep(*x.shape)] == 0)


N = 3  # every generated name is N×N, so every generated expression has fitting shapes
leaves = st.sampled_from(["A", "B", "C"])


def extend(inner):
    """Grammar constructs that map N×N matrices to N×N matrices without errors."""
    axis = st.sampled_from(["", ", rows", ", cols", ", axis=cols", ", 'rows'"])
    causal = st.sampled_from(["", ", causal=True", ", causal=False"])
    number = st.sampled_from(["2", "0.5", "3.0", "sqrt(d)"])
    return st.one_of(
        st.tuples(leaves, leaves).map(lambda p: f"{p[0]} @ {p[1]}"),
        st.tuples(inner, inner).map(lambda p: f"({p[0]}) @ ({p[1]})"),
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda p: f"({p[0]}) {p[1]} ({p[2]})"),
        st.tuples(inner, st.sampled_from(["*", "/", "+", "-"]), number).map(lambda p: f"({p[0]}) {p[1]} {p[2]}"),
        st.tuples(number, st.sampled_from(["*", "-", "+"]), inner).map(lambda p: f"{p[0]} {p[1]} ({p[2]})"),
        inner.map(lambda x: f"({x}).T"),
        inner.map(lambda x: f"-({x})"),
        inner.map(lambda x: f"normalize({x})"),
        inner.map(lambda x: f"signed({x})"),
        inner.map(lambda x: f"exp(signed({x}))"),
        inner.map(lambda x: f"sqrt(normalize({x}))"),
        st.tuples(inner, axis, causal).map(lambda p: f"softmax({p[0]}{p[1]}{p[2]})"),
        st.tuples(inner, axis, causal).map(lambda p: f'norm(normalize({p[0]}){p[1]}, f="y+1"{p[2]})'),
        st.tuples(inner, axis, causal).map(lambda p: f'norm({p[0]}{p[1]}, f="exp"{p[2]})'),
    )


expressions = st.recursive(leaves, extend, max_leaves=8)
square_env = {name: np.random.default_rng(i).normal(size=(N, N)) * 0.5 for i, name in enumerate("ABC")}
square_env["d"] = 2.0  # bound: a generated (A * sqrt(d)) @ B must not need the default


@settings(max_examples=200, deadline=None)
@given(text=expressions)
def test_parse_round_trips(text):
    tree = parse(text)
    assert isinstance(tree, ast.Expression)
    again = parse(ast.unparse(tree))
    assert ast.dump(again) == ast.dump(tree)
    assert ast.dump(ast.parse(text, mode="eval")) == ast.dump(tree)


@settings(max_examples=200, deadline=None)
@given(text=expressions)
def test_link_invariant(text):
    ev = evaluate(text, square_env)
    for i, p in enumerate(ev.products):
        np.testing.assert_allclose(p.values, p.left.values @ p.right.values, rtol=1e-12, atol=1e-12)
        for term in (p.left, p.right):
            if term.source is not None:
                assert term.source < i
                # a shared node's use may go further than the shared face: its own stages, on the term
                own = term.stages[-1].values if term.stages else staged(ev.products[term.source])
                np.testing.assert_array_equal(term.values, own)
                assert not np.isinf(term.values).any()
            else:
                assert term.stages == ()
        for s in p.stages:
            assert s.values.shape == p.values.shape
            if s.label != "causal mask":
                assert np.all(np.isfinite(s.values))
    assert np.all(np.isfinite(ev.value))
    assert ev.d is None


# ---------------------------------------------------------------- errors: parsing


@pytest.mark.parametrize(
    "text, token, phrases",
    [
        ("A @* B", "*", ["syntax error", "'*'"]),
        ("A +", "", ["syntax error", "end"]),
        ("(A @ B", "(", ["syntax error", "never closed"]),
        ("A B", "B", ["syntax error"]),
    ],
)
def test_syntax_errors_point_at_the_offset(text, token, phrases):
    message = error_of(text)
    for phrase in phrases:
        assert phrase in message.split("\n")[0]
    expected = (len(text), len(text) + 1) if token == "" else where(text, token)
    assert caret_columns(message, text) == expected


@pytest.mark.parametrize("text", ["A\n+ B", "A @ B\r", "A @\r\nB"])
def test_line_breaks_are_rejected(text):
    message = error_of(text)
    assert "line break" in message.split("\n")[0] and "one line" in message
    shown = text.replace("\r", " ").replace("\n", " ")
    first_break = min(i for i, ch in enumerate(text) if ch in "\r\n")
    assert caret_columns(message, shown) == (first_break, first_break + 1)


def test_control_characters_are_rejected():
    text = "A @\x00B"
    message = error_of(text)
    assert "control character '\\x00'" in message.split("\n")[0]
    assert caret_columns(message, "A @ B") == (3, 4)


def test_empty_and_non_string():
    assert "empty" in error_of("   ")
    with pytest.raises(ExpressionError, match="string"):
        evaluate(3, ENV)


@pytest.mark.parametrize(
    "text, token, phrases",
    [
        ("A[0] @ B", "A[0]", ["A[0] is not supported", "indexing"]),
        ("A @ (lambda: B)", "lambda: B", ["not supported", "lambda"]),
        ("A < D", "A < D", ["not supported", "comparison"]),
        ("A and D", "A and D", ["not supported"]),
        ("A if D else A", "A if D else A", ["not supported"]),
        ("(A, B)", "(A, B)", ["not supported", "tuple"]),  # a tuple node spans its parentheses
        ("A ** 2", "**", ["** is not supported", "sqrt"]),
        ("A // 2", "//", ["// is not supported"]),
        ("~A", "~A", ["~ is not supported"]),
        ("+A", "+A", ["unary + is not supported"]),
        ("A.shape", "shape", ["unknown attribute .shape", ".T"]),
        ("A.T()", "A.T", ["calling A.T is not supported"]),
        ("np.exp(A)", "np.exp", ["calling np.exp is not supported"]),
        ("A * 'y+1'", "'y+1'", ["string", "not supported"]),
        ("True * A", "True", ["not supported", "causal"]),
        ("A * 1j", "1j", ["not supported"]),
        ("rows + A", "rows", ["rows is an axis word", "softmax"]),
        ("softmax(cols)", "cols", ["cols is an axis word"]),
        ("softmux(A)", "softmux", ["unknown function softmux", "did you mean softmax?", "normalize"]),
        ("softmax()", "softmax()", ["softmax needs the matrix", "axis=rows"]),
        ("sqrt(A, D)", "D", ["at most 1 positional argument", "sqrt(x)"]),
        ("softmax(A, rows, 2.0)", "2.0", ["at most 2 positional arguments"]),
        ("softmax(A, dim=1)", "dim=1", ["unknown keyword dim=", "axis=, temperature=, causal="]),
        ("exp(A, axis=rows)", "axis=rows", ["unknown keyword axis=", "no keywords"]),
        ("softmax(A, cols, axis=rows)", "axis=rows", ["axis is given twice"]),
        ("softmax(A, axis=rows, axis=cols)", "axis=cols", ["axis is given twice"]),
        ("softmax(*A)", "*A", ["unpacking", "not supported"]),
        ("softmax(A, **D)", "**D", ["unpacking", "not supported"]),
        ("softmax(A, causal=1)", "1", ["causal must be True or False"]),
        ("softmax(A, causal=yes)", "yes", ["causal must be True or False"]),
        ("norm(A, f='log')", "'log'", ["unknown f 'log'", 'f="y+1"', 'f="exp"']),
        ("norm(A, f=exp)", "exp", ["unknown f exp"]),
    ],
)
def test_unsupported_constructs(text, token, phrases):
    assert_error(text, token, *phrases)
    with pytest.raises(ExpressionError):
        parse(text)  # caught by parse alone, before any name is looked up


@pytest.mark.parametrize(
    "text, token",
    [
        ("softmax(A, axis=diag)", "diag"),
        ("softmax(A, 'diagonal')", "'diagonal'"),
        ("softmax(A, axis=1)", "1"),
        ("softmax(A, axis=A @ B)", "A @ B"),
        ("norm(normalize(A), axis=rowz)", "rowz"),
        ("norm(normalize(A), colz)", "colz"),
    ],
)
def test_unknown_axis_lists_rows_and_cols(text, token):
    message = assert_error(text, token, "unknown axis", "rows", "cols")
    fname = text.split("(")[0]
    assert f"for {fname}" in message


def test_norm_bare_exp_hints_at_f():
    assert_error("norm(A, exp)", "exp", "unknown axis exp", 'f="exp"')


# ---------------------------------------------------------------- errors: evaluation


def test_unknown_name_lists_bound_names_and_how_to_bind():
    text = "softmax(Q @ K.T) @ W"
    message = assert_error(text, "W", "unknown name W", "--set W=file.npy", "API: W=array")
    assert "A, B, C, D, K, Q, V" in message
    assert_error("A @ Bb", "Bb", "unknown name Bb", "did you mean B?")
    assert_error("x + 1", "x", "unknown name x", "bound names are none", env={})


def test_unknown_name_caret_counts_characters_not_bytes():
    text = "αβ @ Zeta"
    assert_error(text, "Zeta", "unknown name Zeta", env={"αβ": A})


def test_d_without_a_product():
    assert_error("A / sqrt(d)", "d", "unknown name d", "no @", "API: d=")


def test_d_inside_the_first_product():
    text = "(A / d) @ B"
    assert_error(text, "d", "d is used inside", "first @", "bind d")


@pytest.mark.parametrize(
    "text, token, shapes, hint",
    [
        ("Q @ K", "Q @ K", ("4×8", "6×8"), "did you mean K.T?"),
        ("Q.T @ K.T", "Q.T @ K.T", ("8×4", "8×6"), "did you mean Q?"),  # left transposed back fits
        ("A @ C", "A @ C", ("3×4", "5×2"), None),
        ("B @ A", "B @ A", ("4×5", "3×4"), "did you mean A @ B?"),
        ("softmax(Q @ K.T) @ C", "softmax(Q @ K.T) @ C", ("4×6", "5×2"), None),
        ("A @ (B @ A)", "B @ A", ("4×5", "3×4"), "did you mean A @ B?"),
        ("(A @ B) @ (D @ B)", "(A @ B) @ (D @ B)", ("3×5", "3×5"), "did you mean (D @ B).T?"),
    ],
)
def test_product_shape_mismatch(text, token, shapes, hint):
    message = assert_error(text, token, "shape mismatch in", *shapes)
    first = message.split("\n")[0]
    if hint:
        assert hint in first
    else:
        assert "did you mean" not in first


def test_product_shape_mismatch_says_which_sizes_must_agree():
    first = error_of("Q @ K").split("\n")[0]
    assert "Q is 4×8 but K is 6×8" in first
    assert "the 8 columns of Q must equal the 6 rows of K" in first


def test_product_needs_matrices():
    assert_error("A @ 2", "2", "@ multiplies matrices", "2 is a number", "use *")
    assert_error("-1 @ A", "-1", "@ multiplies matrices")


@pytest.mark.parametrize(
    "text, token, shapes, hint",
    [
        ("A + B", "A + B", ("3×4", "4×5"), None),
        ("A - B.T", "A - B.T", ("3×4", "5×4"), None),
        ("A * D.T", "A * D.T", ("3×4", "4×3"), "did you mean D?"),
        ("A * B", "A * B", ("3×4", "4×5"), "use @"),
        ("A + (A @ B)", "A + (A @ B)", ("3×4", "3×5"), None),
    ],
)
def test_elementwise_shape_mismatch(text, token, shapes, hint):
    message = assert_error(text, token, "elementwise", *shapes)
    if hint:
        assert hint in message.split("\n")[0]


def test_elementwise_never_broadcasts():
    assert_error("R + Cc", "R + Cc", "1×3", "3×1", env={"R": np.ones((1, 3)), "Cc": np.ones((3, 1))})


def test_causal_fully_masked_column():
    text = "softmax(W, cols, causal=True)"  # 2×3: column 2 has j > i for every row i
    message = assert_error(text, text, "column 2", "entirely masked", "2×3", env={"W": np.ones((2, 3))})
    assert "cols" in message
    text = 'norm(W, f="exp", axis=cols, causal=True)'
    assert_error(text, text, "column 2", "entirely masked", env={"W": np.ones((2, 3))})


def test_causal_rows_never_fully_masked():
    ev = evaluate("softmax(W, causal=True)", {"W": np.ones((2, 5))})  # row i keeps columns 0..i
    np.testing.assert_allclose(ev.value, [[1, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0]])


def test_non_finite_results():
    text = "exp(A * 1000) @ B"
    assert_error(text, "exp(A * 1000)", "is not finite", "inf at [", "overflow")
    big = {"X": np.full((2, 2), 1e200)}
    assert_error("X @ X", "X @ X", "not finite", "inf", env=big)
    assert_error("2 * A / s", "s", "not finite", env={"A": A, "s": float("nan")})


def test_non_finite_env_matrix():
    bad = A.copy()
    bad[1, 2] = np.nan
    assert_error("A @ B", "A", "NaN", "[1, 2]", env={"A": bad, "B": B})


def test_env_values_must_be_matrices_or_numbers():
    assert_error("v @ B", "v", "2-D", env={"v": np.ones(4), "B": B})
    assert_error("s * A", "s", "s is bound to str", env={"s": "hello", "A": A})


def test_division_by_zero():
    assert_error("A / 0", "0", "division by zero")
    assert_error("A / (D - D)", "D - D", "division by zero", "D - D is 0 at [0, 0]")
    assert_error("1 / (2 - 2)", "2 - 2", "division by zero", env={})


def test_sqrt_of_negative():
    assert_error("sqrt(-1)", "-1", "sqrt of a negative number", env={})
    neg = -np.abs(A)
    assert_error("sqrt(N)", "N", "sqrt of a negative number", "[0, 0]", env={"N": neg})


def test_temperature_must_be_a_positive_number():
    assert_error("softmax(A, temperature=0)", "0", "temperature must be > 0")
    assert_error("softmax(A, temperature=-2)", "-2", "temperature must be > 0")
    assert_error("softmax(A, temperature=D)", "D", "temperature must be a number", "3×4")


def test_matrix_functions_need_matrices():
    assert_error("softmax(2)", "2", "softmax needs a matrix", env={})
    assert_error("(3).T", "3", ".T needs a matrix", env={})


def test_norm_errors_from_ops_get_a_caret():
    text = "norm(A - 10)"
    assert_error(text, text, "norm(A - 10)", "negative")


def test_all_errors_are_expression_errors_with_three_lines():
    for text in ["A @", "A @ Z", "A ** 2", "Q @ K", "A + B", "softmax(A, diag)"]:
        message = error_of(text)
        assert len(message.split("\n")) == 3
