"""The four fundamental subspaces of a matrix W (m×n), from its SVD W = U Σ Vᵀ (numpy only).

* row space (the signal space, in the input space Rⁿ): the first r columns of V;
* null space (the rejected signal space, Rⁿ): the last n − r columns of V;
* column space (the signal output space, Rᵐ): the first r columns of U;
* left null space (the rejected output space, Rᵐ): the last m − r columns of U.

``r`` is the numerical rank: the number of singular values above a tolerance, numpy's default
``max(m, n) · eps · σ₁`` (as ``numpy.linalg.matrix_rank``) unless one is given. Every basis is a
matrix whose columns are orthonormal. ``project(x)`` splits an input into its signal part ``P x``
(P the orthogonal projector onto the row space) and its residual ``x − P x`` (in the null space,
so ``W (x − P x) = 0``), with the energy fractions ‖P x‖²/‖x‖² and ‖x − P x‖²/‖x‖², which sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from matviz.core.ops import check_matrix
from matviz.errors import ShapeError, ValueProblem

DEFAULT_TOL = "numpy default max(m,n)·eps·σ₁"


class Energy(NamedTuple):
    """Fractions of ‖x‖² in the signal and residual parts (floats for one input, arrays with one
    value per column for a matrix of inputs); they sum to 1."""

    signal: float | np.ndarray
    residual: float | np.ndarray


class Projection(NamedTuple):
    """``signal`` = P x, ``residual`` = x − P x (same shape as x) and their ``energy`` split."""

    signal: np.ndarray
    residual: np.ndarray
    energy: Energy


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Subspaces:
    """The SVD of ``matrix`` and its four fundamental subspaces; build it with ``subspaces(W)``.

    ``U`` (m×m) and ``Vt`` (n×n) are the full orthogonal factors, ``singular_values`` the
    min(m, n) values σ₁ ≥ σ₂ ≥ … ≥ 0, so ``U[:, :k] @ diag(S) @ Vt[:k]`` is W (k = min(m, n)).
    ``tol`` is the tolerance the rank was counted with and ``tol_source`` says where it came from.
    """

    matrix: np.ndarray
    U: np.ndarray
    singular_values: np.ndarray
    Vt: np.ndarray
    rank: int
    tol: float
    tol_source: str

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def condition_number(self) -> float:
        """σ₁/σᵣ over the r singular values above the tolerance (1 ≤ value; ∞ never: σᵣ > tol)."""
        if self.rank == 0:
            m, n = self.shape
            raise ValueProblem(
                f"W ({m}×{n}) has rank 0 (every singular value ≤ tol {self.tol:.3g}): "
                "its condition number σ₁/σᵣ is undefined"
            )
        s = self.singular_values
        return float(s[0] / s[self.rank - 1])

    @property
    def row_space(self) -> np.ndarray:
        """n×r: orthonormal basis of the signal space (first r right singular vectors)."""
        return self.Vt[: self.rank].T

    @property
    def null_space(self) -> np.ndarray:
        """n×(n−r): orthonormal basis of the rejected signal space (W maps it to 0)."""
        return self.Vt[self.rank :].T

    @property
    def column_space(self) -> np.ndarray:
        """m×r: orthonormal basis of the signal output space (first r left singular vectors)."""
        return self.U[:, : self.rank]

    @property
    def left_null_space(self) -> np.ndarray:
        """m×(m−r): orthonormal basis of the rejected output space (no input reaches it)."""
        return self.U[:, self.rank :]

    @property
    def pinv(self) -> np.ndarray:
        """n×m Moore-Penrose pseudo-inverse V_r Σ_r⁻¹ U_rᵀ (same tolerance as the rank)."""
        r = self.rank
        return (self.Vt[:r].T / self.singular_values[:r]) @ self.U[:, :r].T

    @property
    def projector(self) -> np.ndarray:
        """n×n orthogonal projector onto the row space, V_r V_rᵀ."""
        v = self.row_space
        return v @ v.T

    def summary(self) -> str:
        """One line: shape, rank with its tolerance, σ₁ and the condition number."""
        m, n = self.shape
        s = self.singular_values
        cond = f"σ₁/σᵣ = {self.condition_number:.4g}" if self.rank else "σ₁/σᵣ undefined (rank 0)"
        return f"W {m}×{n}: rank {self.rank} (tol {self.tol:.3g}, {self.tol_source}), σ₁ = {s[0]:.4g}, {cond}"

    def project(self, x) -> Projection:
        """Split ``x`` (length n: a 1-D vector, an n×1 column or an n×k matrix of columns) into
        ``P x`` and ``x − P x`` with the energy fractions (one per column for k > 1)."""
        n = self.shape[1]
        a = np.asarray(x)
        if a.ndim == 2 and a.shape[0] == 1 and a.shape[1] == n and n != 1:
            a = a.T  # one row vector of length n: read it as the column it means
        if a.ndim not in (1, 2):
            raise ShapeError(f"x has shape {a.shape}: pass a vector of length {n} or an {n}×k matrix of columns")
        if a.shape[0] != n:
            raise ShapeError(
                f"x has length {a.shape[0]} (shape {a.shape}) but W is {self.shape[0]}×{n}: "
                f"an input needs {n} entries, one per column of W"
            )
        a = check_matrix(a.reshape(n, -1), "x").reshape(a.shape)
        v = self.row_space
        signal = v @ (v.T @ a)
        residual = a - signal
        total = np.sum(a * a, axis=0)
        if np.any(total == 0):
            raise ValueProblem("x has a zero column: its energy split ‖Px‖²/‖x‖² is undefined (0/0)")
        es = np.sum(signal * signal, axis=0) / total
        er = np.sum(residual * residual, axis=0) / total
        if a.ndim == 1 or a.shape[1] == 1:
            energy = Energy(float(np.ravel(es)[0]), float(np.ravel(er)[0]))
        else:
            energy = Energy(es, er)
        return Projection(signal, residual, energy)


def subspaces(W, tol: float | None = None) -> Subspaces:
    """The SVD of a 2-D finite non-empty ``W`` and its four fundamental subspaces.

    ``tol``: singular values above it count towards the rank; default numpy's
    ``max(m, n) · eps · σ₁``. Bad input (1-D, empty, NaN/Inf, negative tol) raises a one-line
    ``MatvizError``."""
    a = check_matrix(W, "W")
    m, n = a.shape
    U, s, Vt = np.linalg.svd(a, full_matrices=True)
    if tol is None:
        t = float(s.max(initial=0.0) * max(m, n) * np.finfo(np.float64).eps)
        source = DEFAULT_TOL
    else:
        t = float(tol)
        if not np.isfinite(t) or t < 0:
            raise ValueProblem(f"tol must be a finite number ≥ 0, got {tol!r}")
        source = "given"
    rank = int(np.count_nonzero(s > t))
    return Subspaces(_frozen(a), _frozen(U), _frozen(s), _frozen(Vt), rank, t, source)


__all__ = ["DEFAULT_TOL", "Energy", "Projection", "Subspaces", "subspaces"]
