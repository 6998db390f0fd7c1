"""The product cube of ``A (m×k) @ B (k×n)`` and its exact block aggregates.

Cell ``(i, k, j)`` of the cube holds ``A[i,k]·B[k,j]``; summing over ``k`` gives ``C[i,j]``. The
cube has m·k·n cells, so it is never materialized: the interior is drawn from a grid of at most
``budget`` blocks whose values are exact aggregates, computed with small matmuls from

    Σ_{i∈I, k∈K, j∈J} A[i,k]·B[k,j] = Σ_{k∈K} (Σ_{i∈I} A[i,k]) · (Σ_{j∈J} B[k,j])

Problems with at most ``budget`` cells and at most ``MAX_BLOCKS_PER_AXIS`` cells along each axis use
blocks of size 1, i.e. the true products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matviz.errors import BudgetError, OptionError, param

DEFAULT_BUDGET = 64**3  # cells in the drawn interior grid
MAX_BLOCKS_PER_AXIS = 128  # keeps the sweep to at most 128 steps and the grid readable


def even_edges(size: int, parts: int) -> np.ndarray:
    """``parts + 1`` strictly increasing block boundaries splitting ``range(size)`` near-evenly."""
    parts = max(1, min(int(parts), int(size)))
    return (np.arange(parts + 1, dtype=np.int64) * size) // parts


@dataclass(frozen=True)
class Blocks:
    """Block boundaries along i, k and j. ``edges_i[b]:edges_i[b+1]`` are the rows of block ``b``."""

    edges_i: np.ndarray  # (gm+1,)
    edges_k: np.ndarray  # (gk+1,)
    edges_j: np.ndarray  # (gn+1,)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.edges_i) - 1, len(self.edges_k) - 1, len(self.edges_j) - 1)

    @property
    def problem_shape(self) -> tuple[int, int, int]:
        return (int(self.edges_i[-1]), int(self.edges_k[-1]), int(self.edges_j[-1]))

    @property
    def unit(self) -> bool:
        """True when every block is a single cell: the grid holds the true products."""
        return self.shape == self.problem_shape

    def sizes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.diff(self.edges_i), np.diff(self.edges_k), np.diff(self.edges_j)

    def block_of(self, i: int, k: int, j: int) -> tuple[int, int, int]:
        """Grid index of the block holding cell ``(i, k, j)``."""
        return (
            int(np.searchsorted(self.edges_i, i, side="right") - 1),
            int(np.searchsorted(self.edges_k, k, side="right") - 1),
            int(np.searchsorted(self.edges_j, j, side="right") - 1),
        )

    def describe(self) -> str:
        if self.unit:
            return "products A[i,k]·B[k,j]"
        si, sk, sj = (int(np.max(s)) for s in self.sizes())
        gm, gk, gn = self.shape
        return f"{gm}×{gk}×{gn} blocks of up to {si}×{sk}×{sj} cells"


def plan_blocks(
    m: int, k: int, n: int, budget: int = DEFAULT_BUDGET, max_per_axis: int = MAX_BLOCKS_PER_AXIS
) -> Blocks:
    """Split the m×k×n cube into at most ``budget`` near-even blocks, as balanced as possible.

    Axes are filled smallest first: an axis shorter than its fair share keeps all its cells and
    leaves the rest of the budget to the longer axes. No axis gets more than ``max_per_axis`` blocks.
    """
    if budget < 1:
        raise BudgetError(f"{param('budget')} must be >= 1 interior cell, got {budget}: use e.g. {param('budget', DEFAULT_BUDGET)} (64³)")
    sizes = {"i": m, "k": k, "j": n}
    parts: dict[str, int] = {}
    remaining = float(budget)
    order = sorted(sizes, key=sizes.get)
    for left, axis in zip(range(3, 0, -1), order):
        share = int(np.floor(remaining ** (1.0 / left) + 1e-9))
        parts[axis] = max(1, min(sizes[axis], share, max_per_axis))
        remaining /= parts[axis]
    return Blocks(even_edges(m, parts["i"]), even_edges(k, parts["k"]), even_edges(n, parts["j"]))


def block_sums(a: np.ndarray, b: np.ndarray, blocks: Blocks) -> np.ndarray:
    """Exact ``Σ A[i,k]·B[k,j]`` over each block; shape ``blocks.shape`` = (gm, gk, gn)."""
    a_rows = row_block_sums(a, blocks.edges_i)  # (gm, k): row-block sums of A
    b_cols = np.add.reduceat(b, blocks.edges_j[:-1], axis=1)  # (k, gn): column-block sums of B
    gm, gk, gn = blocks.shape
    out = np.empty((gm, gk, gn), dtype=np.float64)
    for bk in range(gk):
        ks = slice(blocks.edges_k[bk], blocks.edges_k[bk + 1])
        out[:, bk, :] = a_rows[:, ks] @ b_cols[ks, :]  # (gm, gn)
    return out


def block_means(a: np.ndarray, b: np.ndarray, blocks: Blocks) -> np.ndarray:
    """Exact mean of ``A[i,k]·B[k,j]`` over each block (equals the products for unit blocks)."""
    si, sk, sj = blocks.sizes()
    counts = si[:, None, None] * sk[None, :, None] * sj[None, None, :]
    return block_sums(a, b, blocks) / counts


def block_reduce(x: np.ndarray, row_edges: np.ndarray, col_edges: np.ndarray, how: str = "mean") -> np.ndarray:
    """Sum or mean of a matrix over row/column blocks: the exact downsampling of a face.

    Bit for bit ``np.add.reduceat`` over the rows, then over the columns, but with the row sums
    done as whole-row vector operations (``row_block_sums``)."""
    if how not in ("sum", "mean"):
        raise OptionError(f"how must be 'sum' or 'mean', got {how!r}")
    s = _chunked_block_sums(x, np.asarray(row_edges), np.asarray(col_edges))
    if how == "sum":
        return s
    return s / (np.diff(row_edges)[:, None] * np.diff(col_edges)[None, :])


CHUNK_ELEMENTS = 1 << 16  # row-block sums worked on at once (512 KiB of float64; the pairwise sum keeps up to 8 such)


def _chunked_block_sums(x: np.ndarray, row_edges: np.ndarray, col_edges: np.ndarray) -> np.ndarray:
    """Block sums, a few row blocks at a time: the row sums of all blocks at once would be
    (row blocks × columns), 96 MiB of temporaries for an 8192² matrix drawn on a 512² face. Each
    block's sum depends on its own rows only, so the result is the same bit for bit."""
    x = np.asarray(x)
    starts = np.asarray(row_edges[:-1], dtype=np.int64)
    if not _vectorizable(x, starts):
        return np.add.reduceat(row_block_sums(x, row_edges), col_edges[:-1], axis=1)
    parts = [np.add.reduceat(row_block_sums(x[r0:r1], np.append(starts[b0:b1] - r0, r1 - r0)), col_edges[:-1], axis=1)
             for b0, b1, r0, r1 in _row_chunks(starts, x.shape)]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


def _vectorizable(x: np.ndarray, starts: np.ndarray) -> bool:
    """Whether ``row_block_sums`` can sum these blocks as whole rows (else reduceat itself does)."""
    return bool(x.ndim == 2 and x.dtype.kind == "f" and len(starts) and starts[0] >= 0
                and not np.any(np.diff(starts) <= 0) and starts[-1] < x.shape[0])


def _row_chunks(starts: np.ndarray, shape: tuple[int, int]):
    """``(b0, b1, r0, r1)``: blocks ``b0:b1`` cover rows ``r0:r1`` (the last block runs to the end,
    as in reduceat), about ``CHUNK_ELEMENTS`` row sums at a time."""
    per = max(1, CHUNK_ELEMENTS // max(1, shape[1]))
    for b0 in range(0, len(starts), per):
        b1 = min(b0 + per, len(starts))
        yield b0, b1, int(starts[b0]), int(starts[b1]) if b1 < len(starts) else shape[0]


def row_block_sums(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.add.reduceat(x, edges[:-1], axis=0)``, bit for bit, 2-5x faster on large matrices.

    reduceat sums each column of a block on its own, striding a whole row from one value to the
    next (cache-hostile: along axis 0 of a C-ordered 4096² matrix it is ~4.5x slower than along
    axis 1). Its order is known: the block's first row plus numpy's pairwise sum of the other
    rows. The same order applied to whole rows (vector adds along the fast axis) gives the same
    floating-point result."""
    x = np.asarray(x)
    starts = np.asarray(edges[:-1], dtype=np.int64)
    if not _vectorizable(x, starts):
        return np.add.reduceat(x, edges[:-1], axis=0)
    chunks = list(_row_chunks(starts, x.shape))
    if len(chunks) > 1:  # a few blocks at a time: the pairwise sum keeps up to 8 partial sums of each
        out = np.empty((len(starts), x.shape[1]), dtype=x.dtype)
        for b0, b1, r0, r1 in chunks:
            out[b0:b1] = row_block_sums(x[r0:r1], np.append(starts[b0:b1] - r0, r1 - r0))
        return out
    sizes = np.diff(np.append(starts, x.shape[0]))  # reduceat: the last block runs to the end
    out = np.empty((len(starts), x.shape[1]), dtype=x.dtype)
    for size in np.unique(sizes):
        sel = sizes == size
        first = starts[sel]
        if size == 1:
            out[sel] = x[first]
            continue
        if sel.all() and x.flags.c_contiguous:  # even blocks: rows of a (blocks, size, cols) view
            x3 = x[: len(first) * size].reshape(len(first), size, x.shape[1])

            def row(i, x3=x3):
                return x3[:, 1 + i]
        else:

            def row(i, first=first):
                return x[first + 1 + i]

        out[sel] = x[first] + _pairwise(row, 0, int(size) - 1)
    return out


def _pairwise(row, lo: int, n: int) -> np.ndarray:
    """numpy's pairwise summation (``pairwise_sum`` in loops_utils.h) of ``row(lo) … row(lo+n-1)``,
    element by element: sequential below 8 terms, eight running sums up to 128, halves above."""
    if n < 8:
        res = row(lo).copy()
        for i in range(lo + 1, lo + n):
            res += row(i)
        return res
    if n <= 128:
        r = [row(lo + j).copy() for j in range(8)]
        for i in range(8, n - n % 8, 8):
            for j in range(8):
                r[j] += row(lo + i + j)
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(n - n % 8, n):
            res += row(lo + i)
        return res
    half = n // 2
    half -= half % 8
    return _pairwise(row, lo, half) + _pairwise(row, lo + half, n - half)


def partial_result(a: np.ndarray, b: np.ndarray, upto_k: int) -> np.ndarray:
    """The running sum ``Σ_{k < upto_k} A[:,k]·B[k,:]`` — the result face part-way through the sweep."""
    upto_k = int(np.clip(upto_k, 0, a.shape[1]))
    return a[:, :upto_k] @ b[:upto_k, :]
