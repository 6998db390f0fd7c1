"""matviz.core.products against the brute-force product cube A[:, :, None] * B[None, :, :]."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matviz.core.products import (
    MAX_BLOCKS_PER_AXIS,
    Blocks,
    block_means,
    block_reduce,
    block_sums,
    even_edges,
    partial_result,
    plan_blocks,
    row_block_sums,
)
from matviz.errors import BudgetError, OptionError


def cube(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The full product cube, cell (i, k, j) = A[i,k]·B[k,j]; shape (m, k, n)."""
    return a[:, :, None] * b[None, :, :]


def brute_blocks(a, b, ei, ek, ej, how="sum"):
    """Aggregate the materialized cube block by block with explicit loops."""
    p = cube(a, b)
    out = np.empty((len(ei) - 1, len(ek) - 1, len(ej) - 1))
    for (x, i0, i1), (y, k0, k1), (z, j0, j1) in itertools.product(
        [(t, ei[t], ei[t + 1]) for t in range(len(ei) - 1)],
        [(t, ek[t], ek[t + 1]) for t in range(len(ek) - 1)],
        [(t, ej[t], ej[t + 1]) for t in range(len(ej) - 1)],
    ):
        blk = p[i0:i1, k0:k1, j0:j1]
        out[x, y, z] = blk.sum() if how == "sum" else blk.mean()
    return out


def brute_reduce(x, re_, ce, how):
    out = np.empty((len(re_) - 1, len(ce) - 1))
    for r in range(len(re_) - 1):
        for c in range(len(ce) - 1):
            blk = x[re_[r] : re_[r + 1], ce[c] : ce[c + 1]]
            out[r, c] = blk.sum() if how == "sum" else blk.mean()
    return out


def random_pair(seed, m, k, n):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, k)), rng.normal(size=(k, n))


# ---------------------------------------------------------------- even_edges / Blocks


@settings(max_examples=200, deadline=None)
@given(size=st.integers(1, 5000), parts=st.integers(1, 6000))
def test_even_edges(size, parts):
    e = even_edges(size, parts)
    assert e[0] == 0 and e[-1] == size
    assert np.all(np.diff(e) > 0)
    assert len(e) - 1 == min(parts, size)
    d = np.diff(e)
    assert d.max() - d.min() <= 1  # near-even


@settings(max_examples=100, deadline=None)
@given(
    m=st.integers(1, 40),
    k=st.integers(1, 40),
    n=st.integers(1, 40),
    gm=st.integers(1, 40),
    gk=st.integers(1, 40),
    gn=st.integers(1, 40),
    data=st.data(),
)
def test_block_of_maps_cells_into_their_block(m, k, n, gm, gk, gn, data):
    blocks = Blocks(even_edges(m, gm), even_edges(k, gk), even_edges(n, gn))
    i, kk, j = data.draw(st.integers(0, m - 1)), data.draw(st.integers(0, k - 1)), data.draw(st.integers(0, n - 1))
    bi, bk, bj = blocks.block_of(i, kk, j)
    for idx, b, e in ((i, bi, blocks.edges_i), (kk, bk, blocks.edges_k), (j, bj, blocks.edges_j)):
        assert 0 <= b < len(e) - 1
        assert e[b] <= idx < e[b + 1]


def test_block_of_explicit():
    blocks = Blocks(np.array([0, 2, 5]), np.array([0, 1, 2, 3]), np.array([0, 4]))
    assert blocks.block_of(0, 0, 0) == (0, 0, 0)
    assert blocks.block_of(1, 2, 3) == (0, 2, 0)
    assert blocks.block_of(2, 1, 0) == (1, 1, 0)
    assert blocks.block_of(4, 0, 3) == (1, 0, 0)
    assert blocks.shape == (2, 3, 1)
    assert blocks.problem_shape == (5, 3, 4)
    assert not blocks.unit


# ---------------------------------------------------------------- plan_blocks


@settings(max_examples=300, deadline=None)
@given(
    m=st.integers(1, 5000),
    k=st.integers(1, 5000),
    n=st.integers(1, 5000),
    budget=st.one_of(st.integers(1, 300_000), st.sampled_from([8**3, 27, 64**3, 100**3, 128**3, 1000**3])),
    max_per_axis=st.one_of(st.just(MAX_BLOCKS_PER_AXIS), st.integers(1, 300)),
)
def test_plan_blocks_respects_budget_and_edges(m, k, n, budget, max_per_axis):
    blocks = plan_blocks(m, k, n, budget=budget, max_per_axis=max_per_axis)
    gm, gk, gn = blocks.shape
    assert gm * gk * gn <= budget
    assert max(gm, gk, gn) <= max_per_axis
    assert min(gm, gk, gn) >= 1
    assert blocks.problem_shape == (m, k, n)
    for e, size in ((blocks.edges_i, m), (blocks.edges_k, k), (blocks.edges_j, n)):
        assert e[0] == 0 and e[-1] == size
        assert np.all(np.diff(e) > 0)
    # unit (true products) exactly when the whole cube fits the budget and no axis is capped
    fits = m * k * n <= budget and max(m, k, n) <= max_per_axis
    assert blocks.unit == fits
    if blocks.unit:
        assert all(np.all(s == 1) for s in blocks.sizes())


@settings(max_examples=200, deadline=None)
@given(m=st.integers(1, 128), k=st.integers(1, 128), n=st.integers(1, 128), spare=st.integers(0, 3_000_000))
def test_plan_blocks_unit_when_cube_fits_default_cap(m, k, n, spare):
    # budget drawn as "fits + spare" (an assume() here was rejected too often: a flaky health check)
    budget = m * k * n + spare
    blocks = plan_blocks(m, k, n, budget=budget)
    assert blocks.unit
    assert blocks.shape == (m, k, n)


@settings(max_examples=100, deadline=None)
@given(m=st.integers(1, 5000), k=st.integers(1, 5000), n=st.integers(1, 5000))
def test_plan_blocks_uses_budget_reasonably(m, k, n):
    """Not degenerate: a big cube gets a grid of a sizeable fraction of the default budget."""
    budget = 64**3
    blocks = plan_blocks(m, k, n, budget=budget)
    gm, gk, gn = blocks.shape
    if m * k * n >= budget and min(m, k, n) >= 64:
        assert gm * gk * gn >= budget // 8
    # every axis gets as many parts as its size allows, up to the fair share
    for g, s in ((gm, m), (gk, k), (gn, n)):
        assert g == s or g >= 32


def test_plan_blocks_examples():
    assert plan_blocks(300, 300, 300, budget=8**3).shape == (8, 8, 8)
    assert plan_blocks(4, 5, 6, budget=120).unit
    assert not plan_blocks(4, 5, 6, budget=119).unit
    assert plan_blocks(2, 1000, 1000, budget=2 * 50 * 50).shape == (2, 50, 50)


@pytest.mark.parametrize("budget", [0, -5])
def test_plan_blocks_rejects_zero_budget(budget):
    with pytest.raises(BudgetError) as info:
        plan_blocks(3, 3, 3, budget=budget)
    message = str(info.value)
    assert "budget" in message and str(budget) in message and "\n" not in message


def test_block_reduce_rejects_an_unknown_how():
    """Anything but "sum"/"mean" used to mean mean silently."""
    x = np.arange(12.0).reshape(3, 4)
    with pytest.raises(OptionError) as info:
        block_reduce(x, np.array([0, 3]), np.array([0, 4]), how="median")
    assert "'median'" in str(info.value) and "'sum'" in str(info.value) and "'mean'" in str(info.value)


# ---------------------------------------------------------------- block sums / means


GRIDS = [
    ((5, 7, 4), (5, 7, 4)),  # unit
    ((5, 7, 4), (2, 3, 3)),  # uneven
    ((9, 4, 11), (4, 1, 5)),  # single k block
    ((1, 13, 6), (1, 5, 6)),
    ((8, 8, 8), (3, 8, 2)),
    ((12, 3, 7), (12, 2, 1)),
]


@pytest.mark.parametrize("shape, grid", GRIDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_block_sums_and_means_match_brute_force(shape, grid, seed):
    m, k, n = shape
    a, b = random_pair(seed, m, k, n)
    ei, ek, ej = even_edges(m, grid[0]), even_edges(k, grid[1]), even_edges(n, grid[2])
    blocks = Blocks(ei, ek, ej)
    s = block_sums(a, b, blocks)
    assert s.shape == blocks.shape == grid
    np.testing.assert_allclose(s, brute_blocks(a, b, ei, ek, ej, "sum"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        block_means(a, b, blocks), brute_blocks(a, b, ei, ek, ej, "mean"), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=80, deadline=None)
@given(
    m=st.integers(1, 9),
    k=st.integers(1, 9),
    n=st.integers(1, 9),
    gm=st.integers(1, 9),
    gk=st.integers(1, 9),
    gn=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
)
def test_block_sums_property(m, k, n, gm, gk, gn, seed):
    a, b = random_pair(seed, m, k, n)
    ei, ek, ej = even_edges(m, gm), even_edges(k, gk), even_edges(n, gn)
    blocks = Blocks(ei, ek, ej)
    s = block_sums(a, b, blocks)
    np.testing.assert_allclose(s, brute_blocks(a, b, ei, ek, ej, "sum"), rtol=1e-12, atol=1e-12)
    c = a @ b
    # block sums add up to the full sum
    np.testing.assert_allclose(s.sum(), c.sum(), rtol=1e-12, atol=1e-12)
    # summing over k, then over (i, j) blocks, gives the block sums of C
    np.testing.assert_allclose(s.sum(axis=1), brute_reduce(c, ei, ej, "sum"), rtol=1e-12, atol=1e-12)


def test_block_sums_nonuniform_edges():
    """Arbitrary (not even_edges) boundaries, including size-1 and long blocks."""
    a, b = random_pair(3, 10, 9, 8)
    ei, ek, ej = np.array([0, 1, 7, 10]), np.array([0, 5, 6, 9]), np.array([0, 2, 3, 8])
    blocks = Blocks(ei, ek, ej)
    np.testing.assert_allclose(block_sums(a, b, blocks), brute_blocks(a, b, ei, ek, ej, "sum"), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        block_means(a, b, blocks), brute_blocks(a, b, ei, ek, ej, "mean"), rtol=1e-12, atol=1e-12
    )


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 7, 2), (6, 5, 4)])
def test_block_means_unit_blocks_are_the_products(shape):
    m, k, n = shape
    a, b = random_pair(7, m, k, n)
    blocks = plan_blocks(m, k, n)
    assert blocks.unit
    np.testing.assert_array_equal(block_means(a, b, blocks), cube(a, b))
    np.testing.assert_array_equal(block_sums(a, b, blocks), cube(a, b))


def test_block_sums_large_problem_full_sum():
    a, b = random_pair(11, 300, 200, 250)
    blocks = plan_blocks(300, 200, 250, budget=6**3)
    assert not blocks.unit
    s = block_sums(a, b, blocks)
    np.testing.assert_allclose(s.sum(), (a @ b).sum(), rtol=1e-10)
    np.testing.assert_allclose(
        s.sum(axis=1), brute_reduce(a @ b, blocks.edges_i, blocks.edges_j, "sum"), rtol=1e-10, atol=1e-9
    )


# ---------------------------------------------------------------- block_reduce / partial_result


@settings(max_examples=80, deadline=None)
@given(
    r=st.integers(1, 15),
    c=st.integers(1, 15),
    pr=st.integers(1, 15),
    pc=st.integers(1, 15),
    seed=st.integers(0, 2**32 - 1),
    how=st.sampled_from(["sum", "mean"]),
)
def test_block_reduce_matches_brute_force(r, c, pr, pc, seed, how):
    x = np.random.default_rng(seed).normal(size=(r, c))
    re_, ce = even_edges(r, pr), even_edges(c, pc)
    got = block_reduce(x, re_, ce, how)
    assert got.shape == (len(re_) - 1, len(ce) - 1)
    np.testing.assert_allclose(got, brute_reduce(x, re_, ce, how), rtol=1e-12, atol=1e-12)


def test_block_reduce_identity_edges():
    x = np.random.default_rng(5).normal(size=(4, 6))
    np.testing.assert_array_equal(block_reduce(x, np.arange(5), np.arange(7), "mean"), x)
    np.testing.assert_array_equal(block_reduce(x, np.arange(5), np.arange(7), "sum"), x)


def reduceat_block_reduce(x, row_edges, col_edges, how="mean"):
    """block_reduce as it was: np.add.reduceat down the rows (the slow, strided axis), then across."""
    s = np.add.reduceat(np.add.reduceat(x, row_edges[:-1], axis=0), col_edges[:-1], axis=1)
    return s if how == "sum" else s / (np.diff(row_edges)[:, None] * np.diff(col_edges)[None, :])


def random_edges(rng, size: int) -> np.ndarray:
    """Strictly increasing boundaries 0 … size with blocks of any (uneven) sizes."""
    cuts = rng.choice(np.arange(1, size), size=int(rng.integers(0, size)), replace=False) if size > 1 else []
    return np.unique(np.r_[0, cuts, size]).astype(np.int64)


@settings(max_examples=150, deadline=None)
@given(
    r=st.integers(1, 700),
    c=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    even=st.booleans(),
    how=st.sampled_from(["sum", "mean"]),
)
def test_block_reduce_is_bit_identical_to_reduceat(r, c, seed, even, how):
    """Row sums as whole-row vector adds in numpy's own (pairwise) order: the very same floats,
    on even blocks (a reshaped view), uneven ones (gathered rows) and blocks of 1 to 700 rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(r, c)) * 10.0 ** rng.integers(-6, 7, size=(r, c))
    if even:
        re_, ce = even_edges(r, int(rng.integers(1, r + 1))), even_edges(c, int(rng.integers(1, c + 1)))
    else:
        re_, ce = random_edges(rng, r), random_edges(rng, c)
    np.testing.assert_array_equal(block_reduce(x, re_, ce, how), reduceat_block_reduce(x, re_, ce, how))
    np.testing.assert_array_equal(row_block_sums(x, re_), np.add.reduceat(x, re_[:-1], axis=0))


@pytest.mark.parametrize("parts", [512, 500, 333, 7, 1, 1024])
def test_block_reduce_bit_identical_on_a_large_face(parts):
    """A 1024² matrix in 512 even blocks of 2, 500 and 333 uneven ones, blocks of 146-147, one
    block, unit blocks; a Fortran-ordered copy and special values (NaN, inf, -0.0) too."""
    rng = np.random.default_rng(parts)
    x = rng.standard_normal((1024, 1024))
    e = even_edges(1024, parts)
    for y in (x, np.asfortranarray(x)):
        np.testing.assert_array_equal(block_reduce(y, e, e, "sum"), reduceat_block_reduce(y, e, e, "sum"))
    y = x.copy()
    y[3, 5], y[700, 9], y[1000, 1000], y[:, 17] = np.nan, np.inf, -np.inf, -0.0
    np.testing.assert_array_equal(row_block_sums(y, e), np.add.reduceat(y, e[:-1], axis=0))


@pytest.mark.parametrize("chunk", [1, 50, 999])
@pytest.mark.parametrize("even", [True, False])
def test_block_reduce_in_chunks_of_row_blocks_is_bit_identical(monkeypatch, chunk, even):
    """A few row blocks at a time (``CHUNK_ELEMENTS`` elements of row sums): the same floats,
    including the last block that reduceat runs to the end."""
    from matviz.core import products

    monkeypatch.setattr(products, "CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(chunk)
    x = rng.normal(size=(301, 13)) * 10.0 ** rng.integers(-6, 7, size=(301, 13))
    re_ = even_edges(301, 37) if even else random_edges(rng, 301)
    ce = even_edges(13, 5) if even else random_edges(rng, 13)
    for how in ("sum", "mean"):
        np.testing.assert_array_equal(block_reduce(x, re_, ce, how), reduceat_block_reduce(x, re_, ce, how))
    np.testing.assert_array_equal(row_block_sums(x, re_), np.add.reduceat(x, re_[:-1], axis=0))
    late = re_[1:]  # reduceat leaves out the rows before the first start
    if len(late) > 1:
        np.testing.assert_array_equal(row_block_sums(x, late), np.add.reduceat(x, late[:-1], axis=0))


def test_block_reduce_holds_a_bounded_temporary():
    """Drawing a 4096² matrix (128 MiB) on a 512² face must not hold its 512 × 4096 row sums
    several times over (48 MiB before; the bound scales with the matrix, not the face)."""
    import tracemalloc

    x = np.random.default_rng(0).standard_normal((4096, 4096))
    e = even_edges(4096, 512)
    tracemalloc.start()
    try:
        got = block_reduce(x, e, e, "mean")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12 * 2**20, f"block_reduce peaked at {peak / 2**20:.0f} MiB of temporaries"
    np.testing.assert_array_equal(got, reduceat_block_reduce(x, e, e, "mean"))
    tracemalloc.start()
    try:
        sums = row_block_sums(x, e)  # its result is 512 × 4096 (16 MiB): temporaries on top stay small
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < sums.nbytes + 8 * 2**20, f"row_block_sums peaked at {peak / 2**20:.0f} MiB"


def test_row_block_sums_keeps_reduceat_for_what_it_cannot_vectorize():
    """Integers and booleans (reduceat's own dtype rules) go to reduceat itself."""
    x = np.arange(12, dtype=np.int32).reshape(6, 2)
    e = np.array([0, 2, 6])
    got = row_block_sums(x, e)
    assert got.dtype == np.add.reduceat(x, e[:-1], axis=0).dtype
    np.testing.assert_array_equal(got, [[2, 4], [28, 32]])
    b = np.ones((4, 2), dtype=bool)
    np.testing.assert_array_equal(row_block_sums(b, np.array([0, 2, 4])), np.add.reduceat(b, [0, 2], axis=0))


@pytest.mark.parametrize("kk", [0, 1, 3, 6, 7])
def test_partial_result(kk):
    a, b = random_pair(2, 4, 7, 5)
    want = np.zeros((4, 5))
    for t in range(kk):
        want += np.outer(a[:, t], b[t, :])
    got = partial_result(a, b, kk)
    assert got.shape == (4, 5)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, a[:, :kk] @ b[:kk, :], rtol=1e-12, atol=1e-12)


def test_partial_result_clips():
    a, b = random_pair(4, 3, 5, 2)
    np.testing.assert_allclose(partial_result(a, b, 99), a @ b, rtol=1e-12)
    np.testing.assert_array_equal(partial_result(a, b, -3), np.zeros((3, 2)))


def test_partial_results_sum_along_the_sweep():
    """Partial results at the k-block edges equal cumulative sums of the per-k-block interior."""
    a, b = random_pair(9, 6, 10, 5)
    blocks = Blocks(even_edges(6, 6), even_edges(10, 4), even_edges(5, 5))
    s = block_sums(a, b, blocks)  # (6, 4, 5), unit in i and j
    for t in range(blocks.shape[1] + 1):
        np.testing.assert_allclose(
            partial_result(a, b, int(blocks.edges_k[t])), s[:, :t, :].sum(axis=1), rtol=1e-12, atol=1e-12
        )
