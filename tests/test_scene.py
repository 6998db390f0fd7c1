"""matviz.scene.matmul against numpy: the result, the interior cube, the faces as drawn."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matviz.core.products import even_edges
from matviz.errors import BudgetError, MatvizError, OptionError, ShapeError
from matviz.scene import INTERIORS, NUMBERS_MAX_SIDE, Cube, Operand, Scene, Stage, Style, matmul, operand
from matviz.story import stage_progress


def cube(a, b):
    return a[:, :, None] * b[None, :, :]  # (m, k, n)


def brute_block_means(x, row_edges, col_edges):
    out = np.empty((len(row_edges) - 1, len(col_edges) - 1))
    for r in range(len(row_edges) - 1):
        for c in range(len(col_edges) - 1):
            out[r, c] = x[row_edges[r] : row_edges[r + 1], col_edges[c] : col_edges[c + 1]].mean()
    return out


def brute_grid(a, b, grid, how):
    """Aggregates of the materialized cube over the even_edges grid of shape ``grid``."""
    m, k = a.shape
    n = b.shape[1]
    ei, ek, ej = even_edges(m, grid[0]), even_edges(k, grid[1]), even_edges(n, grid[2])
    p = cube(a, b)
    out = np.empty((len(ei) - 1, len(ek) - 1, len(ej) - 1))
    for x in range(len(ei) - 1):
        for y in range(len(ek) - 1):
            for z in range(len(ej) - 1):
                blk = p[ei[x] : ei[x + 1], ek[y] : ek[y + 1], ej[z] : ej[z + 1]]
                out[x, y, z] = blk.sum() if how == "sum" else blk.mean()
    return out


def rand(seed, *shape):
    return np.random.default_rng(seed).normal(size=shape)


def image_pair():
    import skimage.data as skdata
    from skimage.transform import resize

    cam = skdata.camera().astype(np.float64) / 255.0
    coins = skdata.coins().astype(np.float64) / 255.0
    a = resize(cam, (64, 64), anti_aliasing=True)
    b = resize(coins, (64, 64), anti_aliasing=True)
    return a, b


# ---------------------------------------------------------------- the result


@pytest.mark.parametrize(
    "a, b",
    [
        (rand(0, 6, 6), rand(1, 6, 6)),
        (rand(2, 3, 7), rand(3, 7, 2)),
        (rand(4, 1, 5), rand(5, 5, 1)),
        (rand(6, 40, 1), rand(7, 1, 30)),
    ],
    ids=["square", "3x7@7x2", "row@col", "outer"],
)
def test_result_is_the_matrix_product(a, b):
    scene = matmul(a, b)
    assert scene.result.values.dtype == np.float64
    assert scene.shape == (a.shape[0], a.shape[1], b.shape[1])
    np.testing.assert_allclose(scene.result.values, a @ b, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(scene.left.values, a)
    np.testing.assert_array_equal(scene.right.values, b)


def test_result_of_images():
    a, b = image_pair()
    assert a.min() >= 0 and a.max() <= 1 and a.shape == (64, 64)
    scene = matmul(a, b)
    np.testing.assert_allclose(scene.result.values, a @ b, rtol=1e-9)
    # an independent dot product for a few cells
    for i, j in [(0, 0), (10, 50), (63, 63)]:
        assert np.isclose(scene.result.values[i, j], sum(a[i, t] * b[t, j] for t in range(64)), rtol=1e-12)
    assert scene.left.kind == scene.right.kind == "nonneg"


def test_integer_operands_become_float64():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    b = np.arange(12, dtype=np.int64).reshape(3, 4)
    scene = matmul(a, b)
    assert scene.left.values.dtype == scene.result.values.dtype == np.float64
    np.testing.assert_array_equal(scene.result.values, (a @ b).astype(np.float64))


# ---------------------------------------------------------------- the interior cube


@pytest.mark.parametrize("shape", [(4, 4, 4), (3, 7, 2), (1, 9, 5), (8, 1, 3)])
def test_products_full_grid_is_the_cube(shape):
    m, k, n = shape
    a, b = rand(10, m, k), rand(11, k, n)
    scene = matmul(a, b)
    want = cube(a, b)
    np.testing.assert_allclose(scene.products((m, k, n)), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(scene.products((m, k, n), how="mean"), want, rtol=1e-12, atol=1e-15)
    # small problems: the scene's own interior is the true product cube
    assert scene.blocks.unit
    assert not any("block" in note for note in scene.notes), scene.notes
    np.testing.assert_allclose(scene.interior, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(scene.products(), want, rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 8),
    k=st.integers(1, 8),
    n=st.integers(1, 8),
    gm=st.integers(1, 8),
    gk=st.integers(1, 8),
    gn=st.integers(1, 8),
    how=st.sampled_from(["sum", "mean"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_products_any_grid_matches_brute_force(m, k, n, gm, gk, gn, how, seed):
    a, b = rand(seed, m, k), rand(seed + 1, k, n)
    scene = matmul(a, b)
    got = scene.products((gm, gk, gn), how=how)
    np.testing.assert_allclose(got, brute_grid(a, b, (gm, gk, gn), how), rtol=1e-12, atol=1e-12)


def test_products_rejects_unknown_how():
    scene = matmul(rand(0, 2, 2), rand(1, 2, 2))
    with pytest.raises(OptionError) as info:  # a MatvizError (and a ValueError, as before)
        scene.products(how="max")
    assert "'max'" in str(info.value) and "'sum'" in str(info.value) and "'mean'" in str(info.value)


def test_big_problem_is_aggregated_within_budget():
    a, b = rand(20, 300, 300), rand(21, 300, 300)
    budget = 8**3
    scene = matmul(a, b, budget=budget)
    gm, gk, gn = scene.interior.shape
    assert gm * gk * gn <= budget
    assert scene.blocks.shape == scene.interior.shape
    assert not scene.blocks.unit
    assert any("block" in note for note in scene.notes), scene.notes
    assert scene.k_steps == gk
    c = a @ b
    np.testing.assert_allclose(scene.products(how="sum").sum(), c.sum(), rtol=1e-9)
    # the default aggregate is the mean, and it is the mean of the true products per block
    assert scene.aggregate == "mean"
    bl = scene.blocks
    for bi, bk, bj in [(0, 0, 0), (gm - 1, gk - 1, gn - 1), (gm // 2, 1, gn // 3)]:
        blk = cube(
            a[bl.edges_i[bi] : bl.edges_i[bi + 1], bl.edges_k[bk] : bl.edges_k[bk + 1]],
            b[bl.edges_k[bk] : bl.edges_k[bk + 1], bl.edges_j[bj] : bl.edges_j[bj + 1]],
        )
        np.testing.assert_allclose(scene.interior[bi, bk, bj], blk.mean(), rtol=1e-9, atol=1e-12)


def test_aggregate_sum_vs_mean():
    a, b = rand(30, 50, 37), rand(31, 37, 45)
    s = matmul(a, b, budget=5**3, aggregate="sum")
    mu = matmul(a, b, budget=5**3, aggregate="mean")
    assert s.aggregate == "sum" and mu.aggregate == "mean"
    si, sk, sj = (np.diff(e) for e in (s.blocks.edges_i, s.blocks.edges_k, s.blocks.edges_j))
    counts = si[:, None, None] * sk[None, :, None] * sj[None, None, :]
    assert counts.sum() == 50 * 37 * 45
    np.testing.assert_allclose(s.interior, mu.interior * counts, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.interior.sum(), (a @ b).sum(), rtol=1e-10)
    assert any("sum" in note for note in s.notes) and any("mean" in note for note in mu.notes)


def test_unknown_aggregate_raises():
    with pytest.raises(OptionError) as info:
        matmul(rand(0, 2, 2), rand(1, 2, 2), aggregate="max")
    message = str(info.value)
    assert "aggregate" in message and "'max'" in message and "'mean'" in message and "'sum'" in message


# ---------------------------------------------------------------- faces as drawn


@pytest.mark.parametrize("face_max", [7, 16, 1000])
@pytest.mark.parametrize("kk", [0, 1, 13, 39, 40, 100, None])
def test_result_face_running_sum(face_max, kk):
    m, k, n = 50, 40, 30
    a, b = rand(40, m, k), rand(41, k, n)
    scene = matmul(a, b, style=Style(face_max=face_max))
    got = scene.face_values("result", upto_k=kk)
    upto = k if kk is None else min(kk, k)
    partial = np.zeros((m, n))
    for t in range(upto):
        partial += np.outer(a[:, t], b[t, :])
    er, ec = even_edges(m, min(m, face_max)), even_edges(n, min(n, face_max))
    assert got.shape == (len(er) - 1, len(ec) - 1)
    assert max(got.shape) <= face_max
    np.testing.assert_allclose(got, brute_block_means(partial, er, ec), rtol=1e-9, atol=1e-12)


def test_result_face_negative_upto_k_is_not_a_partial_sum_of_the_last_columns():
    """upto_k < 0 should be clipped like partial_result (nothing summed) or rejected."""
    a, b = rand(42, 6, 5), rand(43, 5, 4)
    scene = matmul(a, b)
    try:
        got = scene.face_values("result", upto_k=-1)
    except (MatvizError, ValueError):
        return
    np.testing.assert_array_equal(got, np.zeros((6, 4)))


@pytest.mark.parametrize("face_max", [5, 512])
def test_operand_faces_are_block_means(face_max):
    a, b = rand(50, 23, 17), rand(51, 17, 9)
    scene = matmul(a, b, face_max=face_max)
    assert scene.style.face_max == face_max
    left, top = scene.face_values("left"), scene.face_values("top")
    np.testing.assert_allclose(
        left, brute_block_means(a, even_edges(23, min(23, face_max)), even_edges(17, min(17, face_max))), rtol=1e-12
    )
    np.testing.assert_allclose(
        top, brute_block_means(b, even_edges(17, min(17, face_max)), even_edges(9, min(9, face_max))), rtol=1e-12
    )
    if face_max >= 23:
        np.testing.assert_array_equal(left, a)
        np.testing.assert_array_equal(top, b)
    else:
        assert any("block means" in note for note in scene.notes)


def test_unknown_face_raises():
    with pytest.raises(OptionError) as info:
        matmul(rand(0, 2, 2), rand(1, 2, 2)).face_values("bottom")
    assert "'bottom'" in str(info.value) and "'result'" in str(info.value)


# ---------------------------------------------------------------- errors


def test_inner_mismatch_names_both_shapes():
    with pytest.raises(ShapeError) as info:
        matmul(np.ones((3, 4)), np.ones((5, 2)))
    msg = str(info.value)
    assert "3×4" in msg and "5×2" in msg
    assert "A" in msg and "B" in msg


def test_inner_mismatch_uses_given_names():
    with pytest.raises(ShapeError) as info:
        matmul(np.ones((3, 4)), np.ones((5, 2)), names=("Q", "K"))
    msg = str(info.value)
    assert "Q" in msg and "K" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("side", ["left", "right"])
def test_non_finite_operands_raise(bad, side):
    a, b = np.ones((3, 4)), np.ones((4, 2))
    (a if side == "left" else b)[1, 1] = bad
    with pytest.raises(MatvizError):
        matmul(a, b)


@pytest.mark.parametrize(
    "a, b",
    [
        (np.ones(4), np.ones((4, 2))),
        (np.ones((3, 4)), np.ones(4)),
        (np.ones((0, 4)), np.ones((4, 2))),
        (np.ones((3, 0)), np.ones((0, 2))),
        (np.ones((3, 4)), np.ones((4, 0))),
        (np.ones((2, 2, 2)), np.ones((2, 2))),
    ],
    ids=["1d-left", "1d-right", "empty-m", "empty-k", "empty-n", "3d"],
)
def test_bad_shapes_raise(a, b):
    with pytest.raises(MatvizError):
        matmul(a, b)


@pytest.mark.parametrize("hl", [(3, 0), (0, 2), (-1, 0), (0, -1), (10, 10)])
def test_highlight_outside_result_raises(hl):
    with pytest.raises(MatvizError) as info:
        matmul(np.ones((3, 4)), np.ones((4, 2)), highlight=hl)
    assert "3×2" in str(info.value)


def test_highlight_inside_result_and_dot_terms():
    a, b = rand(60, 3, 4), rand(61, 4, 2)
    scene = matmul(a, b, highlight=(2, 1))
    assert scene.style.highlight == (2, 1)
    assert scene.initial_state().highlight == (2, 1)
    row, col = scene.dot_terms(2, 1)
    np.testing.assert_array_equal(row, a[2, :])
    np.testing.assert_array_equal(col, b[:, 1])
    assert np.isclose(row @ col, scene.result.values[2, 1])


# ---------------------------------------------------------------- operands


def test_operand_kinds():
    assert operand(np.array([[0.0, 1.0], [2.0, 3.0]]), "X").kind == "nonneg"
    assert operand(np.array([[0.0, -1e-9], [2.0, 3.0]]), "X").kind == "signed"
    assert operand(np.zeros((2, 2)), "X").kind == "nonneg"
    assert operand(np.ones((2, 2)), "X", kind="image").kind == "image"
    scene = matmul(np.array([[1.0, -2.0]]), np.array([[3.0], [4.0]]))
    assert scene.left.kind == "signed" and scene.right.kind == "nonneg"
    assert scene.result.kind == "signed"  # 1*3 - 2*4 = -5
    scene = matmul(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]))
    assert scene.result.kind == "nonneg"


def test_operand_objects_keep_name_and_kind():
    a = Operand("img", np.full((2, 3), 0.5), "image")
    b = Operand("img2", np.full((3, 2), 0.25), "image")
    scene = matmul(a, b)
    assert scene.left.name == "img" and scene.right.name == "img2"
    assert scene.result.kind == "image"
    assert "img" in scene.title and "img2" in scene.title
    np.testing.assert_allclose(scene.result.values, np.full((2, 2), 0.375))


# ---------------------------------------------------------------- transposes, labels, stages, output


def test_operand_transpose_swaps_labels_and_values():
    x = Operand("X", rand(70, 2, 3), "signed", ("r0", "r1"), ("c0", "c1", "c2"))
    t = x.T
    assert t.name == "X.T" and t.kind == "signed"
    assert t.shape == (3, 2)
    np.testing.assert_array_equal(t.values, x.values.T)
    assert t.row_labels == ("c0", "c1", "c2") and t.col_labels == ("r0", "r1")
    back = t.T
    np.testing.assert_array_equal(back.values, x.values)
    assert (back.row_labels, back.col_labels) == (x.row_labels, x.col_labels)
    assert Operand("Y", np.ones((2, 3)), "nonneg", None, ("a", "b", "c")).T.row_labels == ("a", "b", "c")


def test_labelled_sets_and_checks_labels():
    x = operand(rand(71, 2, 3), "X")
    y = x.labelled(rows=["a", "b"], cols=("p", "q", "r"))
    assert y.row_labels == ("a", "b") and y.col_labels == ("p", "q", "r")
    assert x.row_labels is None  # the original is unchanged
    np.testing.assert_array_equal(y.values, x.values)
    assert x.labelled(cols=["p", "q", "r"]).row_labels is None
    for rows, cols in ((["a"], None), (["a", "b", "c"], None), (None, ["p", "q"]), (["a", "b"], ["p"] * 4)):
        with pytest.raises(ShapeError) as info:
            x.labelled(rows=rows, cols=cols)
        assert "X" in str(info.value)


def _staged_scene(m=6, n=4, rowwise=("rows",)):
    """A scene with two plain stages and then the normalizing ones given by ``rowwise``."""
    a, b = rand(72, m, 3), rand(73, 3, n)
    c = a @ b
    stages = [Stage("* 2", 2 * c, "signed"), Stage("+ 1", 2 * c + 1, "signed")]
    stages += [Stage(f"norm {i}", np.abs(c), "nonneg", how) for i, how in enumerate(rowwise)]
    return matmul(a, b, stages=stages)


def test_stage_progress_for_rowwise_stages():
    scene = _staged_scene(m=6, n=4)
    assert stage_progress(scene, 2.5) == (2, 3)  # half of the 6 rows of the third stage
    for r in range(6):
        assert stage_progress(scene, 2 + r / 6) == (2, r)
    assert stage_progress(scene, None) == (3, 0)
    assert stage_progress(scene, 3) == (3, 0)
    assert stage_progress(scene, 7.5) == (3, 0)
    assert stage_progress(scene, 0) == (0, 0)
    assert stage_progress(scene, -1.0) == (0, 0)
    assert stage_progress(scene, 1.0) == (1, 0)
    assert stage_progress(scene, 1.7) == (1, 0)  # the second stage is not row-wise: no partial rows


def test_stage_progress_for_column_wise_stages():
    scene = _staged_scene(m=6, n=4, rowwise=("cols",))
    assert stage_progress(scene, 2.5) == (2, 2)  # half of the 4 columns
    assert stage_progress(scene, 2.75) == (2, 3)


def test_output_is_the_result_without_stages():
    scene = matmul(rand(74, 3, 2), rand(75, 2, 4))
    assert scene.output is scene.result


def test_output_replaces_masked_entries_with_zero():
    a = operand(rand(76, 3, 2), "A").labelled(rows=["a", "b", "c"])
    b = operand(rand(77, 2, 3), "B").labelled(cols=["x", "y", "z"])
    last = a.values @ b.values
    above = np.triu(np.ones((3, 3), dtype=bool), 1)
    last[above] = -np.inf
    scene = matmul(a, b, stages=[Stage("causal mask", last, "signed")])
    assert scene.result.row_labels == ("a", "b", "c") and scene.result.col_labels == ("x", "y", "z")
    out = scene.output
    assert out.name == "causal mask" and out.kind == "signed"
    assert np.all(np.isfinite(out.values))
    assert np.all(out.values[above] == 0.0)
    np.testing.assert_array_equal(out.values[~above], scene.result.values[~above])
    assert out.row_labels == ("a", "b", "c") and out.col_labels == ("x", "y", "z")
    assert np.all(np.isneginf(scene.stages[0].values[above]))  # the stage itself keeps its -inf


# ---------------------------------------------------------------- options are checked (review V4, V5)


@pytest.mark.parametrize("bad", ["points", "bogus", "", "Cubes"])
def test_unknown_interior_raises_naming_the_allowed_values(bad):
    """interior="points" used to be documented and accepted, and drew no interior at all."""
    with pytest.raises(OptionError) as info:
        matmul(rand(0, 2, 3), rand(1, 3, 2), interior=bad)
    message = str(info.value)
    assert isinstance(info.value, MatvizError) and "\n" not in message
    assert "interior" in message and repr(bad) in message
    assert all(repr(name) in message for name in INTERIORS)


def test_a_style_with_an_unknown_interior_cannot_be_built():
    with pytest.raises(OptionError):
        Style(interior="points")
    with pytest.raises(OptionError):
        matmul(rand(0, 2, 3), rand(1, 3, 2), style=Style(), interior="bogus")


@pytest.mark.parametrize("interior", INTERIORS)
def test_every_allowed_interior_builds(interior):
    assert INTERIORS == ("auto", "cubes", "volume", "none")
    assert matmul(rand(0, 2, 3), rand(1, 3, 2), interior=interior).style.interior == interior


def test_unknown_style_keyword_raises_naming_the_fields():
    with pytest.raises(OptionError) as info:
        matmul(rand(0, 2, 3), rand(1, 3, 2), hightlight=(0, 0))
    assert "'hightlight'" in str(info.value) and "highlight" in str(info.value)


@pytest.mark.parametrize("budget", [0, -1])
def test_zero_budget_raises_budget_error(budget):
    with pytest.raises(BudgetError) as info:
        matmul(rand(0, 2, 3), rand(1, 3, 2), budget=budget)
    assert "budget" in str(info.value) and str(budget) in str(info.value)


def test_numbers_max_side_is_a_model_constant():
    assert NUMBERS_MAX_SIDE == 6


def test_matmul_docstring_names_only_drawable_interiors():
    assert '"points"' not in matmul.__doc__ and "volume" in matmul.__doc__
    assert "Every field has a CLI flag" not in Style.__doc__


# ---------------------------------------------------------------- the cube is frozen and built complete (refactor 5)


def test_cube_is_another_name_for_scene():
    assert Cube is Scene
    assert isinstance(matmul(rand(0, 2, 3), rand(1, 3, 2)), Cube)


@pytest.mark.parametrize(
    "field, value",
    [("title", "x"), ("stages", ()), ("placement", None), ("caption", "c"), ("notes", ()), ("result", None)],
)
def test_cube_is_frozen(field, value):
    scene = matmul(rand(0, 2, 3), rand(1, 3, 2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(scene, field, value)


def test_notes_and_stages_are_tuples():
    """A frozen cube cannot be changed through a list it holds either."""
    scene = matmul(rand(20, 300, 300), rand(21, 300, 300), budget=8**3)
    assert isinstance(scene.notes, tuple) and scene.notes
    assert isinstance(scene.stages, tuple)
    listed = dataclasses.replace(scene, notes=["a"], stages=[])
    assert listed.notes == ("a",) and listed.stages == ()


def test_matmul_builds_a_chain_cube_complete():
    from matviz.core.layout import Placement

    a, b = rand(80, 4, 3), rand(81, 3, 5)
    c = a @ b
    where = Placement(origin=(3.0, -1.0, 2.0))
    stages = [Stage("* 2", 2 * c, "signed"), Stage.of("softmax(rows)", np.abs(c), "rows")]
    scene = matmul(a, b, placement=where, stages=stages, caption="first", result_name="A B", title="t")
    assert scene.placement == where and scene.caption == "first" and scene.title == "t"
    assert scene.result.name == "A B"
    np.testing.assert_array_equal(scene.result.values, c)
    assert [s.label for s in scene.stages] == ["* 2", "softmax(rows)"]
    assert scene.stages[1].kind == "nonneg" and scene.stages[1].rowwise == "rows"
    # the defaults are what a plain matmul gives
    plain = matmul(a, b)
    assert plain.result.name == "A@B" and plain.stages == () and plain.caption == ""
    assert plain.placement == Placement()


def test_a_stage_of_the_wrong_shape_is_refused():
    a, b = rand(82, 4, 3), rand(83, 3, 5)
    with pytest.raises(ShapeError) as info:
        matmul(a, b, stages=[Stage("bad", np.zeros((5, 4)), "nonneg")])
    assert "'bad'" in str(info.value) and "4×5" in str(info.value)


def test_stage_of_takes_its_kind_from_the_finite_values():
    x = np.array([[1.0, -np.inf], [-2.0, 3.0]])
    assert Stage.of("m", x).kind == "signed"
    assert Stage.of("m", np.array([[1.0, -np.inf]])).kind == "nonneg"
    assert Stage.of("m", np.full((2, 2), -np.inf)).kind == "nonneg"


# ---------------------------------------------------------------- one operand vocabulary (refactor 6)


def test_operand_vocabulary_lives_in_core_and_is_re_exported():
    from matviz import scene
    from matviz.core import expr, operand as core_operand

    for name in ("Operand", "operand", "transform", "TRANSFORMS", "MAX_ELEMENTS", "value_kind", "Kind", "Stage"):
        assert getattr(scene, name) is getattr(core_operand, name), name
    assert expr.Stage is scene.Stage  # one Stage type for expressions and cubes


def test_unknown_transform_is_an_option_error():
    from matviz.scene import TRANSFORMS, transform

    with pytest.raises(OptionError) as info:
        transform(operand(rand(0, 2, 2), "A"), "softmax")
    assert "'softmax'" in str(info.value) and all(t in str(info.value) for t in TRANSFORMS)


def test_core_operand_imports_only_numpy_and_core():
    code = (
        "import json, sys, types, importlib.util\n"
        "spec = importlib.util.find_spec('matviz')\n"
        "pkg = types.ModuleType('matviz'); pkg.__path__ = list(spec.submodule_search_locations)\n"
        "sys.modules['matviz'] = pkg  # load submodules without the package facade\n"
        "import matviz.core.operand\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('matviz'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "matviz.core.operand" in loaded
    assert all(m == "matviz" or m.startswith(("matviz.core", "matviz.errors")) for m in loaded), loaded


def test_too_large_operand_names_the_parameter_to_shrink_it(monkeypatch):
    from matviz.core import operand as core_operand

    monkeypatch.setattr(core_operand, "MAX_ELEMENTS", 10)
    with pytest.raises(BudgetError) as info:
        operand(rand(0, 4, 4), "X")
    message = str(info.value)
    assert "X" in message and "max_side=" in message and "--" not in message


def test_a_scene_displays_through_the_functions_registered_with_the_model(monkeypatch):
    """The model imports no renderer: ``_repr_png_``/``_repr_mimebundle_`` call what
    ``set_display`` registered (``import matviz`` registers ``matviz.notebook``'s), and say
    nothing (None) while nothing is registered."""
    from matviz import notebook, scene

    assert scene.DISPLAY == {"png": notebook.png, "mimebundle": notebook.mimebundle}
    cube = matmul(np.eye(2), np.eye(2))
    calls = []
    monkeypatch.setattr(scene, "DISPLAY", {})
    assert cube._repr_png_() is None and cube._repr_mimebundle_() is None
    scene.set_display(png=lambda s: calls.append(("png", s)) or b"png",
                      mimebundle=lambda s, inc, exc: calls.append(("bundle", s, inc, exc)) or {"text/plain": "x"})
    chain = scene.as_chain(cube)
    assert cube._repr_png_() == b"png" and chain._repr_mimebundle_(include=["image/png"]) == {"text/plain": "x"}
    assert calls == [("png", cube), ("bundle", chain, ["image/png"], None)]


def test_the_model_imports_neither_the_story_nor_the_renderer():
    """``matviz.scene``'s own imports (module level or inside functions) reach no story, notebook
    or graphics module: the display is registered from outside."""
    import ast
    from pathlib import Path

    import matviz.scene

    tree = ast.parse(Path(matviz.scene.__file__).read_text())
    named = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    named |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in named if m.startswith(("matviz.story", "matviz.notebook", "matviz.graphics"))}
