"""The forward half of Mishka's poster ("Multiplying monochrome images as matrices: A·B and
softmax", JuliaCon 2021) as one contact sheet of flat results: moon (A) and coins (B) at 128×128,
each tile the product's own min-max gray.

plain A@B; softmax over A's rows and B's columns at three temperatures; softmax on one side only;
f(y) = y+1 normalization; signed (min-max to [-1, 1]) operands; XᵀX; and a composition with an
oscillatory warp and a flip. ``matviz gallery`` writes it to gallery/mishka_poster.png.
"""

import matviz as mv
from matviz.paper.poster import Poster, Tile

BOTH = "softmax(A, rows, temperature=T) @ softmax(B, cols, temperature=T)"


def build() -> Poster:
    operands = {
        "A": mv.load("sample:moon", shape=(128, 128)).values,  # grayscale, values in [0, 1]
        "B": mv.load("sample:coins", shape=(128, 128)).values,
    }
    tiles = (
        Tile("plain: A @ B", "A @ B"),
        Tile("softmax both sides, T = 1", BOTH, {"T": 1.0}),
        Tile("softmax both sides, T = 0.25", BOTH, {"T": 0.25}),
        Tile("softmax both sides, T = 0.05", BOTH, {"T": 0.05}),
        Tile("one side only: softmax(A, rows, 0.25) @ B", "softmax(A, rows, temperature=0.25) @ B"),
        Tile('y+1: norm(A, "y+1", rows) @ norm(B, "y+1", cols)', 'norm(A, "y+1", rows) @ norm(B, "y+1", cols)'),
        Tile("signed: signed(A) @ signed(B)", "signed(A) @ signed(B)"),
        Tile("XᵀX: t_product(A) = normalize(A.T @ A)", "t_product(A)"),
        Tile(
            'warp/flip: softmax(warp(A, 8, 24)) @ softmax(flip(B, "h"), cols), T = 0.25',
            'softmax(warp(A, 8, 24), rows, temperature=0.25) @ softmax(flip(B, "h"), cols, temperature=0.25)',
        ),
    )
    return Poster(tiles, operands, columns=3, title="moon (A) and coins (B) as 128×128 matrices, each product min-max gray")
