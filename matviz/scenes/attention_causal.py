"""Attention without a model: softmax(Q Kᵀ/√d) V for 6 tokens with d = 4, as two linked cubes.

Q, K and V are seeded random matrices, so this scene needs neither torch nor a download (it is one of
``matviz demo``'s scenes). The causal mask hides the keys after each query; the softmax sweeps the
scores row by row on the face the second cube shares, then that cube sums over the keys.
"""

import numpy as np

import matviz as mv


def build() -> mv.Chain:
    rng = np.random.default_rng(7)
    q, k, v = (rng.normal(size=(6, 4)) for _ in range(3))  # (seq, d)
    tokens = ("The", "cat", "sat", "on", "the", "mat")
    return mv.attention(q, k, v, causal=True, tokens=tokens, title="softmax(Q K^T / sqrt(d), causal) V: 6 tokens, d = 4")
