"""matviz.chain: expressions and attention as linked cubes, against numpy (and transformers) oracles."""

from __future__ import annotations

import dataclasses
import tracemalloc

import numpy as np
import pytest

import matviz as mv
from matviz.chain import attention, expr, model_heads
from matviz.core.layout import link, union
from matviz.core.products import DEFAULT_BUDGET
from matviz.errors import ExpressionError, MatvizError, ModelError, ShapeError
from matviz.scene import Chain, Cube, Placed, Style, matmul

TEXT = "The cat sat on the mat"
ATTN = "softmax(Q @ K.T / sqrt(d)) @ V"


def rand(seed, *shape):
    return np.random.default_rng(seed).normal(size=shape)


def softmax(x, axis):
    """Softmax along ``axis`` with -inf entries giving exactly 0."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention_oracle(q, k, v, causal=False):
    """``(scaled, masked, probs, out)`` of softmax(q kᵀ/√d) v, written out in numpy."""
    scaled = (q @ k.T) / np.sqrt(q.shape[1])
    masked = scaled.copy()
    if causal:
        i, j = np.indices(masked.shape)
        masked[j > i] = -np.inf
    probs = softmax(masked, axis=1)
    return scaled, masked, probs, probs @ v


def face_corners(face):
    rows, cols = face.shape
    return face.corners(np.arange(rows + 1), np.arange(cols + 1))


def world(cube, which):
    """World grid points of a cube's face ``which`` ("left", "top", "result")."""
    return cube.placement.to_world(face_corners(getattr(cube.layout, which)))


@pytest.fixture(scope="module")
def qkv():
    return rand(0, 5, 4), rand(1, 7, 4), rand(2, 7, 3)  # Q 5×4, K 7×4, V 7×3


# ---------------------------------------------------------------- attention as an expression


def test_attention_expression_is_two_linked_cubes(qkv):
    q, k, v = qkv
    chain = expr(ATTN, Q=q, K=k, V=v)
    scaled, _, probs, out = attention_oracle(q, k, v)
    assert isinstance(chain, Chain)
    assert len(chain.cubes) == 2
    first, second = chain.cubes
    np.testing.assert_allclose(first.result.values, q @ k.T, rtol=1e-12, atol=1e-12)
    assert [s.label for s in first.stages] == ["/ sqrt(d)", "softmax(rows)"]
    np.testing.assert_allclose(first.stages[0].values, scaled, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(first.stages[1].values, probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(first.stages[1].values.sum(axis=1), np.ones(5), rtol=1e-12)
    assert first.stages[1].rowwise == "rows" and first.stages[0].rowwise is None
    assert second.stages == ()
    np.testing.assert_allclose(second.left.values, probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(second.right.values, v)
    np.testing.assert_allclose(chain.result.values, out, rtol=1e-12, atol=1e-12)
    assert chain.value is None  # the value is the last cube's result
    assert chain.hidden == [frozenset(), {"left"}]
    assert chain.steps == [0, 1]
    assert chain.n_steps == 2
    assert any("d was not set" in n and "d = 4" in n for n in chain.notes), chain.notes


def test_attention_expression_links_the_probabilities_face(qkv):
    q, k, v = qkv
    first, second = expr(ATTN, Q=q, K=k, V=v).cubes
    np.testing.assert_allclose(world(second, "left"), world(first, "result"), atol=1e-9)
    assert not second.placement.identity and first.placement.identity


def test_bound_d_is_used_and_not_noted(qkv):
    q, k, v = qkv
    chain = expr(ATTN, Q=q, K=k, V=v, d=1.0)
    probs = softmax(q @ k.T, axis=1)  # d = 1: no scaling
    np.testing.assert_allclose(chain.cubes[1].left.values, probs, rtol=1e-12, atol=1e-15)
    assert not any("d was not set" in n for n in chain.notes)


def test_causal_attention_masks_strictly_above_the_diagonal():
    q, k, v = rand(3, 6, 4), rand(4, 6, 4), rand(5, 6, 2)
    chain = expr("softmax(Q @ K.T / sqrt(d), causal=True) @ V", Q=q, K=k, V=v)
    scaled, masked, probs, out = attention_oracle(q, k, v, causal=True)
    first = chain.cubes[0]
    assert [s.label for s in first.stages] == ["/ sqrt(d)", "causal mask", "softmax(rows)"]
    above = np.triu(np.ones((6, 6), dtype=bool), 1)
    mask = first.stages[1].values
    assert np.all(np.isneginf(mask[above]))
    assert np.all(np.isfinite(mask[~above]))
    np.testing.assert_allclose(mask[~above], scaled[~above], rtol=1e-12, atol=1e-12)
    p = first.stages[2].values
    assert np.all(p[above] == 0.0)
    assert np.all(p[~above] > 0.0)
    np.testing.assert_allclose(p, probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.sum(axis=1), np.ones(6), rtol=1e-12)
    assert p[0, 0] == 1.0  # the first token sees only itself
    # what the second cube receives is finite: the -inf stay on the first cube's stage
    np.testing.assert_array_equal(chain.cubes[1].left.values, p)
    assert np.all(np.isfinite(chain.cubes[1].left.values))
    np.testing.assert_allclose(chain.result.values, out, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- other expressions


def test_left_nested_product_links_left():
    a, b, c = rand(10, 3, 4), rand(11, 4, 5), rand(12, 5, 2)
    chain = expr("(A @ B) @ C", A=a, B=b, C=c)
    assert len(chain.cubes) == 2
    assert chain.hidden == [frozenset(), {"left"}]
    first, second = chain.cubes
    np.testing.assert_allclose(second.left.values, a @ b, rtol=1e-12)
    np.testing.assert_array_equal(second.right.values, c)
    np.testing.assert_allclose(world(second, "left"), world(first, "result"), atol=1e-9)
    np.testing.assert_allclose(chain.result.values, (a @ b) @ c, rtol=1e-12)
    assert chain.value is None


def test_right_nested_product_links_right():
    a, b, c = rand(13, 3, 4), rand(14, 4, 5), rand(15, 5, 2)
    chain = expr("A @ (B @ C)", A=a, B=b, C=c)
    assert len(chain.cubes) == 2
    assert chain.hidden == [frozenset(), {"top"}]
    first, second = chain.cubes
    np.testing.assert_allclose(first.result.values, b @ c, rtol=1e-12)
    np.testing.assert_array_equal(second.left.values, a)
    np.testing.assert_allclose(second.right.values, b @ c, rtol=1e-12)
    np.testing.assert_allclose(world(second, "top"), world(first, "result"), atol=1e-9)
    assert second.placement == link(first.layout, first.placement, second.layout, "right")
    np.testing.assert_allclose(chain.result.values, a @ (b @ c), rtol=1e-12)


def test_sum_of_products_is_two_unlinked_cubes_with_the_value():
    a, b, c, d = rand(16, 3, 4), rand(17, 4, 2), rand(18, 3, 5), rand(19, 5, 2)
    chain = expr("A @ B + C @ D", A=a, B=b, C=c, D=d)
    assert len(chain.cubes) == 2
    assert chain.hidden == [frozenset(), frozenset()]
    np.testing.assert_allclose(chain.cubes[0].result.values, a @ b, rtol=1e-12)
    np.testing.assert_allclose(chain.cubes[1].result.values, c @ d, rtol=1e-12)
    assert chain.value is not None
    np.testing.assert_allclose(chain.value.values, a @ b + c @ d, rtol=1e-12)
    np.testing.assert_allclose(chain.result.values, a @ b + c @ d, rtol=1e-12)
    assert any("not the last cube's result" in n for n in chain.notes), chain.notes
    # unlinked: the second cube stands apart, to the right of the first
    b0, b1 = chain.cubes[0].bounds, chain.cubes[1].bounds
    assert b1[0] > b0[1]


def test_single_product_equals_matmul():
    a, b = rand(20, 4, 6), rand(21, 6, 3)
    chain = expr("A @ B", A=a, B=b)
    scene = matmul(a, b)
    assert len(chain.cubes) == 1 and chain.hidden == [frozenset()] and chain.steps == [0]
    np.testing.assert_array_equal(chain.result.values, scene.result.values)
    np.testing.assert_array_equal(chain.cubes[0].interior, scene.interior)
    assert chain.cubes[0].placement.identity
    assert chain.value is None and chain.cubes[0].stages == ()


@pytest.mark.parametrize("text", ["A + B", "softmax(A)", "A.T * 2"])
def test_expression_without_a_product_raises(text):
    a = rand(22, 3, 3)
    assert issubclass(ExpressionError, MatvizError)
    with pytest.raises(ExpressionError) as info:
        expr(text, A=a, B=a)
    assert "@" in str(info.value)


def _interior_box(cube):
    L = cube.layout
    b = L.cell_bounds(0, L.m, 0, L.k, 0, L.n)
    w = cube.placement.to_world(np.array([[x, y, z] for x in b[:2] for y in b[2:4] for z in b[4:]]))
    return w.min(axis=0), w.max(axis=0)


def _overlap(a, b):
    lo, hi = np.maximum(a[0], b[0]), np.minimum(a[1], b[1])
    return float(np.prod(np.clip(hi - lo, 0.0, None)))


@pytest.mark.parametrize(
    "text, shapes",
    [
        ("((A @ B) @ C) @ D", dict(A=(3, 4), B=(4, 5), C=(5, 6), D=(6, 2))),
        ("A @ (B @ (C @ D))", dict(A=(3, 4), B=(4, 5), C=(5, 6), D=(6, 2))),
        ("(A @ (B @ C)) @ D", dict(A=(30, 4), B=(4, 50), C=(50, 6), D=(6, 2))),
        ("A @ B + C @ D", dict(A=(3, 4), B=(4, 5), C=(3, 6), D=(6, 5))),
        ("(A @ B) @ (C @ D)", dict(A=(3, 2), B=(2, 4), C=(4, 3), D=(3, 5))),
        pytest.param(
            "(A @ B) @ (C @ D)",
            dict(A=(100, 2), B=(2, 4), C=(4, 30), D=(30, 5)),
            id="tall-first-product",
        ),
        ("softmax(A @ B, rows) @ softmax(A @ B, cols)", dict(A=(4, 3), B=(3, 4))),
        ("X = A @ B; (X @ C) + (X @ D)", dict(A=(3, 4), B=(4, 5), C=(5, 2), D=(5, 2))),
        ("X = A @ B; softmax(X) @ C + normalize(X) @ D", dict(A=(3, 4), B=(4, 5), C=(5, 2), D=(5, 2))),
    ],
)
def test_no_cube_reaches_into_another_cubes_interior(text, shapes):
    env = {name: rand(40 + i, *shape) for i, (name, shape) in enumerate(shapes.items())}
    chain = expr(text, **env)
    for a, cube in enumerate(chain.cubes):
        for b, other in enumerate(chain.cubes):
            if a != b:
                bounds = other.bounds
                assert _overlap(_interior_box(cube), (bounds[0::2], bounds[1::2])) == 0.0, (b, a)


# ---------------------------------------------------------------- shared nodes


def test_a_shared_product_is_one_cube():
    """softmax(A@B, rows) @ softmax(A@B, cols): A@B is one node, one cube (there were three)."""
    a, b = rand(60, 4, 3), rand(61, 3, 4)
    chain = expr("softmax(A@B, rows) @ softmax(A@B, cols)", A=a, B=b)
    assert len(chain.cubes) == 2
    shared, outer = chain.cubes
    assert shared.stages == ()  # the shared result face shows the raw product...
    np.testing.assert_allclose(shared.result.values, a @ b, rtol=1e-12)
    # ...and each operand face of the consuming cube shows its own softmax
    np.testing.assert_allclose(outer.left.values, softmax(a @ b, 1), rtol=1e-12)
    np.testing.assert_allclose(outer.right.values, softmax(a @ b, 0), rtol=1e-12)
    np.testing.assert_allclose(chain.result.values, softmax(a @ b, 1) @ softmax(a @ b, 0), rtol=1e-12)
    assert chain.hidden == [frozenset(), frozenset()]  # both operand faces are drawn
    # the consuming cube stands behind the shared face, two gaps back, its own face drawn there
    gap = outer.layout.gap
    offset = world(outer, "left") - world(shared, "result")
    np.testing.assert_allclose(np.linalg.norm(offset, axis=-1), 2 * gap, atol=1e-9)


def test_a_binding_used_by_two_cubes_links_once():
    a, b, c, d = rand(62, 3, 4), rand(63, 4, 5), rand(64, 5, 2), rand(65, 5, 2)
    chain = expr("X = A @ B; (X @ C) + (X @ D)", A=a, B=b, C=c, D=d)
    assert len(chain.cubes) == 3  # A @ B drawn once
    assert chain.hidden == [frozenset(), {"left"}, frozenset()]  # one cube sits on the shared face
    np.testing.assert_allclose(chain.cubes[2].left.values, a @ b, rtol=1e-12)
    np.testing.assert_allclose(chain.value.values, (a @ b) @ c + (a @ b) @ d, rtol=1e-12)


def test_a_single_use_still_links_and_hides_the_face(qkv):
    q, k, v = qkv
    chain = expr("let S = softmax(Q @ K.T / sqrt(d)) in S @ V", Q=q, K=k, V=v)
    assert len(chain.cubes) == 2 and chain.hidden == [frozenset(), {"left"}]
    assert [s.label for s in chain.cubes[0].stages] == ["/ sqrt(d)", "softmax(rows)"]


# ---------------------------------------------------------------- attention()


def test_attention_tokens_label_the_sequence_axes():
    tokens = ["the", "cat", "sat", "down"]
    q, k, v = rand(30, 4, 3), rand(31, 4, 3), rand(32, 4, 2)
    chain = attention(q, k, v, tokens=tokens)
    first, second = chain.cubes
    assert first.left.row_labels == tuple(tokens)  # Q rows
    assert first.right.col_labels == tuple(tokens)  # K.T columns
    assert first.left.col_labels is None and first.right.row_labels is None
    assert second.right.row_labels == tuple(tokens)  # V rows
    assert second.left.row_labels == tuple(tokens) and second.left.col_labels == tuple(tokens)
    np.testing.assert_allclose(chain.result.values, attention_oracle(q, k, v)[3], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [3, 5])
def test_attention_wrong_number_of_tokens_raises(n):
    q, k, v = rand(30, 4, 3), rand(31, 4, 3), rand(32, 4, 2)
    with pytest.raises(ShapeError):
        attention(q, k, v, tokens=[f"t{i}" for i in range(n)])


def test_attention_v_rows_must_match_k():
    with pytest.raises(ShapeError):
        attention(rand(0, 4, 3), rand(1, 4, 3), rand(2, 5, 2))


def test_attention_with_given_probs_draws_them_exactly(qkv):
    q, k, v = qkv
    probs = attention_oracle(q, k, v)[2].astype(np.float32).astype(np.float64)  # as a float32 model gives them
    assert not np.array_equal(probs, attention_oracle(q, k, v)[2])
    chain = attention(q, k, v, probs=probs)
    np.testing.assert_array_equal(chain.cubes[0].stages[-1].values, probs)
    np.testing.assert_array_equal(chain.cubes[1].left.values, probs)
    np.testing.assert_allclose(chain.result.values, probs @ v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chain.cubes[1].interior, probs[:, :, None] * v[None, :, :], rtol=1e-12, atol=1e-15)
    assert not any("differs" in n for n in chain.notes), chain.notes


def test_attention_with_disagreeing_probs_adds_a_note(qkv):
    q, k, v = qkv
    uniform = np.full((5, 7), 1 / 7)
    chain = attention(q, k, v, probs=uniform)
    np.testing.assert_array_equal(chain.cubes[0].stages[-1].values, uniform)
    np.testing.assert_array_equal(chain.cubes[1].left.values, uniform)
    np.testing.assert_allclose(chain.result.values, uniform @ v, rtol=1e-12)
    err = np.max(np.abs(attention_oracle(q, k, v)[2] - uniform))
    notes = [n for n in chain.notes if "differs" in n]
    assert len(notes) == 1 and f"{err:.2g}" in notes[0], chain.notes


@pytest.mark.parametrize(
    "shape",
    [
        (7, 5),
        (5, 6),
        (5, 7, 1),
        (5,),
        (),
    ],
)
def test_attention_with_wrong_shape_probs_raises(qkv, shape):
    q, k, v = qkv
    with pytest.raises(ShapeError) as info:
        attention(q, k, v, probs=np.full(shape, 0.2))
    assert "5x7" in str(info.value)  # names the shape it needs


def test_attention_v_cols_is_two_chains_side_by_side(qkv):
    q, k, v = qkv
    chain = attention(q, k, v, v_cols=True)
    _, _, probs, out = attention_oracle(q, k, v)
    assert len(chain.cubes) == 4
    assert chain.steps == [0, 1, 0, 1]
    assert chain.hidden == [frozenset(), {"left"}, frozenset(), {"left"}]
    assert chain.cubes[0].caption and chain.cubes[2].caption
    assert chain.cubes[0].caption != chain.cubes[2].caption
    assert chain.cubes[1].caption == "" and chain.cubes[3].caption == ""
    v_soft = softmax(v, axis=0)
    np.testing.assert_allclose(chain.cubes[3].right.values, v_soft, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(chain.cubes[3].right.values.sum(axis=0), np.ones(3), rtol=1e-12)
    np.testing.assert_array_equal(chain.cubes[1].right.values, v)
    np.testing.assert_allclose(chain.cubes[1].result.values, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chain.cubes[3].result.values, probs @ v_soft, rtol=1e-12, atol=1e-12)
    # each group is still linked internally; the second group is entirely to the right of the first
    for a, b in ((0, 1), (2, 3)):
        np.testing.assert_allclose(world(chain.cubes[b], "left"), world(chain.cubes[a], "result"), atol=1e-9)
    g1 = union([chain.cubes[0].bounds, chain.cubes[1].bounds]).bounds
    g2 = union([chain.cubes[2].bounds, chain.cubes[3].bounds]).bounds
    assert g2[0] > g1[1]


# ---------------------------------------------------------------- a frozen chain of Placed records (refactor 5)


def test_chain_is_a_tuple_of_placed_records_with_list_views(qkv):
    q, k, v = qkv
    chain = attention(q, k, v, v_cols=True)
    assert isinstance(chain.placed, tuple) and all(isinstance(p, Placed) for p in chain.placed)
    assert len(chain.cubes) == 4 and all(c is p.cube for c, p in zip(chain.cubes, chain.placed))
    assert chain.steps == [p.step for p in chain.placed] == [0, 1, 0, 1]
    assert chain.hidden == [p.hidden for p in chain.placed]
    assert isinstance(chain.cubes, list) and isinstance(chain.steps, list) and isinstance(chain.hidden, list)
    assert isinstance(chain.notes, tuple)


@pytest.mark.parametrize("field", ["title", "notes", "value", "style", "placed", "azimuth"])
def test_chain_is_frozen(qkv, field):
    chain = attention(*qkv)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(chain, field, None)
    for name in ("cubes", "steps", "hidden"):  # views, not fields: cannot be replaced
        with pytest.raises(AttributeError):
            setattr(chain, name, [])


def test_every_cube_of_a_chain_is_frozen(qkv):
    chain = attention(*qkv, v_cols=True, probs=attention_oracle(*qkv)[2])
    for cube in chain.cubes:
        assert isinstance(cube, Cube)
        with pytest.raises(dataclasses.FrozenInstanceError):
            cube.placement = cube.placement


def test_chain_of_placed_records():
    a, b = matmul(rand(90, 2, 3), rand(91, 3, 4)), matmul(rand(92, 4, 2), rand(93, 2, 2))
    chain = Chain(
        [Placed(a, 0), Placed(b, 1, {"left"})],
        title="t", notes=["n"], style=Style(numbers=True), azimuth=10.0, elevation=-5.0,
    )
    assert chain.cubes[0] is a and chain.cubes[1] is b
    assert chain.steps == [0, 1] and chain.hidden == [frozenset(), frozenset({"left"})]
    assert (chain.title, chain.notes, chain.style.numbers, chain.azimuth, chain.elevation) == (
        "t",
        ("n",),
        True,
        10.0,
        -5.0,
    )
    assert isinstance(chain.placed, tuple)  # stored as a tuple, like the notes
    assert chain.value is None and chain.n_steps == 2 and chain.result is b.output
    moved = dataclasses.replace(chain, title="u")
    assert moved.title == "u" and moved.cubes[1] is b and chain.title == "t"


def test_chain_without_a_cube_raises():
    with pytest.raises(ShapeError):
        Chain(())


def test_chain_refuses_cubes_that_are_not_placed_records():
    a = matmul(rand(94, 2, 2), rand(95, 2, 2))
    with pytest.raises(ShapeError):
        Chain([Placed(a, 0), a])
    with pytest.raises(ShapeError):
        Chain([a, a])  # steps and hidden sets are the records' own: there is no lists form
    with pytest.raises(TypeError):
        Chain([Placed(a, 0)], [0], [frozenset()])  # everything after the records is a keyword


def test_with_probs_and_side_by_side_leave_their_inputs_unchanged(qkv):
    """Building a chain makes new cubes; it never edits the ones it was given."""
    from matviz.chain import side_by_side, with_probs

    q, k, v = qkv
    base = expr(ATTN, Q=q, K=k, V=v)
    cubes, notes, value = base.cubes, base.notes, base.value
    stage = cubes[0].stages[-1].values.copy()
    placements, captions = [c.placement for c in cubes], [c.caption for c in cubes]
    uniform = np.full((5, 7), 1 / 7)
    given = with_probs(base, uniform, DEFAULT_BUDGET)
    both = side_by_side([base, given], ["computed", "uniform"], "two")
    assert all(a is b for a, b in zip(base.cubes, cubes)) and base.notes == notes and base.value is value
    np.testing.assert_array_equal(base.cubes[0].stages[-1].values, stage)
    assert [c.placement for c in base.cubes] == placements and [c.caption for c in base.cubes] == captions
    np.testing.assert_array_equal(given.cubes[0].stages[-1].values, uniform)
    assert len(given.notes) == len(notes) + 1 and given.value is None
    assert [c.caption for c in both.cubes] == ["computed", "", "uniform", ""]
    assert both.cubes[0].placement == placements[0]  # the first group stays where it was


def test_expression_cubes_come_back_complete_from_matmul(monkeypatch):
    """chain.py asks matmul for each cube once, with its placement, stages and names: nothing is
    set afterwards (the cube is frozen, so an assignment would raise)."""
    import matviz.chain as chain_module

    built = []
    real = chain_module.matmul

    def spy(*args, **kwargs):
        cube = real(*args, **kwargs)
        built.append((cube, kwargs))
        return cube

    monkeypatch.setattr(chain_module, "matmul", spy)
    a, b, c = rand(96, 3, 4), rand(97, 4, 5), rand(98, 5, 2)
    chain = expr("softmax(A @ B, rows) @ C", A=a, B=b, C=c)
    assert len(built) == 2
    assert all(x is y for (x, _), y in zip(built, chain.cubes))  # the cubes drawn are the ones built
    first, second = (kw for _, kw in built)
    assert [s.label for s in first["stages"]] == ["softmax(rows)"] and first["result_name"] == "A @ B"
    assert second["placement"] == chain.cubes[1].placement


# ---------------------------------------------------------------- long sequences stay within budget


def test_long_causal_attention_is_aggregated_without_the_full_cube():
    seq, d = 1024, 64
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal((seq, d)) for _ in range(3))
    tracemalloc.start()
    try:
        chain = attention(q, k, v, causal=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seq * seq * d * 8 > 500e6  # what a materialized product cube would need
    assert peak < 300e6, f"peak {peak / 1e6:.0f} MB"
    _, _, probs, out = attention_oracle(q, k, v, causal=True)
    np.testing.assert_allclose(chain.result.values, out, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(chain.cubes[1].left.values, probs, rtol=1e-9, atol=1e-12)
    for cube in chain.cubes:
        assert int(np.prod(cube.interior.shape)) <= DEFAULT_BUDGET
        assert cube.blocks.unit is False
        a, b = cube.left.values, cube.right.values
        bl = cube.blocks
        gm, gk, gn = bl.shape
        picks = [(0, 0, 0), (gm - 1, gk - 1, gn - 1)] + [
            tuple(int(x) for x in rng.integers(0, (gm, gk, gn))) for _ in range(3)
        ]
        for bi, bk, bj in picks:
            rows = slice(bl.edges_i[bi], bl.edges_i[bi + 1])
            ks = range(bl.edges_k[bk], bl.edges_k[bk + 1])
            cols = slice(bl.edges_j[bj], bl.edges_j[bj + 1])
            total = sum(np.outer(a[rows, t], b[t, cols]) for t in ks)
            want = total.sum() / (total.size * len(ks))
            np.testing.assert_allclose(cube.interior[bi, bk, bj], want, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- a real model


@pytest.fixture(scope="module")
def reference():
    """all-MiniLM-L6-v2 loaded here, independently of matviz: tokens and attention probabilities."""
    from _helpers import reference_run

    ref = reference_run(TEXT)
    return tuple(ref.tokens), ref.attentions  # each (heads, seq, seq)


def test_model_head_draws_the_models_own_probabilities(reference):
    tokens, attentions = reference
    chains = model_heads(TEXT, layers="1", heads="2")
    assert len(chains) == 1
    chain = chains[0]
    drawn = chain.cubes[0].stages[-1].values
    np.testing.assert_allclose(drawn, attentions[1][2], atol=1e-5)
    np.testing.assert_allclose(drawn.sum(axis=1), np.ones(len(tokens)), atol=1e-5)
    np.testing.assert_array_equal(chain.cubes[1].left.values, drawn)
    q_rows = chain.cubes[0].left.row_labels
    assert q_rows[0] == "[CLS]" and q_rows == tokens
    assert "layer 1" in chain.title and "head 2" in chain.title
    # the second cube really multiplies those probabilities with V
    np.testing.assert_allclose(chain.result.values, drawn @ chain.cubes[1].right.values, rtol=1e-12, atol=1e-12)


def test_model_all_heads_gives_one_chain_per_head(reference):
    _, attentions = reference
    chains = model_heads(TEXT, layers="0", heads="all")
    assert len(chains) == 12
    assert [c.title for c in chains] == [f"layer 0 head {h}" for h in range(12)]
    for h in (0, 7, 11):
        np.testing.assert_allclose(chains[h].cubes[0].stages[-1].values, attentions[0][h], atol=1e-5)


@pytest.mark.parametrize("heads", ["12", "0,12"])
def test_model_head_out_of_range_names_the_range(heads):
    with pytest.raises(ModelError) as info:
        model_heads(TEXT, layers="0", heads=heads)
    assert "0-11" in str(info.value)


def test_attention_from_model_returns_a_chain(reference):
    _, attentions = reference
    chain = mv.attention_from_model(TEXT, layer=0, head=0)
    assert isinstance(chain, Chain)
    assert len(chain.cubes) == 2
    np.testing.assert_allclose(chain.cubes[0].stages[-1].values, attentions[0][0], atol=1e-5)


@pytest.mark.parametrize("bad", ["hello", None, {}, True])
def test_expr_refuses_an_operand_that_is_neither_number_nor_matrix(bad):
    """mv.expr(..., B='hello' / None / {}) used to raise a bare ValueError/TypeError (a traceback)."""
    from matviz.errors import MatvizError

    with pytest.raises(MatvizError, match="operand B is a"):
        expr("A @ B", A=[[1.0, 2.0], [3.0, 4.0]], B=bad)
