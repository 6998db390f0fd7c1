"""The scenes ``matviz demo`` renders: no files and no network needed."""

from __future__ import annotations

import numpy as np

from matviz.chain import attention as mv_attention
from matviz.scene import Chain, Cube, matmul
from matviz.sources import load


def textbook() -> Cube:
    """(2×3) @ (3×2) with numbers, and the dot product behind C[1,0] outlined."""
    a = np.array([[1, 2, 3], [4, 5, 6]])  # (2, 3)
    b = np.array([[1, -2], [3, 4], [5, 6]])  # (3, 2)
    return matmul(a, b, highlight=(1, 0), title="C = A @ B: each cell of C is a row of A dot a column of B")


def images() -> Cube:
    """Two photographs as 128×128 matrices: C[i,j] is row i of one dotted with column j of the other."""
    a = load("sample:camera", shape=(128, 128))
    b = load("sample:astronaut", shape=(128, 128))
    return matmul(a, b, highlight=(40, 90), title="camera @ astronaut: two photographs as 128x128 matrices")


def attention() -> Chain:
    """softmax(Q Kᵀ/√d) V for 6 tokens with d = 4: two linked cubes, causal mask, softmax row by row."""
    rng = np.random.default_rng(7)
    q, k, v = (rng.normal(size=(6, 4)) for _ in range(3))  # (seq, d)
    tokens = ("The", "cat", "sat", "on", "the", "mat")
    return mv_attention(
        q, k, v, causal=True, tokens=tokens, title="softmax(Q K^T / sqrt(d), causal) V: 6 tokens, d = 4"
    )


SCENES = {"textbook": textbook, "images": images, "attention": attention}  # name -> build(), in menu order
