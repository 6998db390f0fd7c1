"""The temperature sweep of Mishka's poster: softmax(moon, rows) @ softmax(coins, cols) as T falls
from 1 to 0.02 (48 frames, geometric spacing), flat. Left: one gray scale for the whole sweep, so
the product sharpens and gains contrast as T falls; right: each frame's own min-max.
``matviz gallery`` writes it to gallery/mishka_temperature.mp4.
"""

import matviz as mv
from matviz.paper.poster import sweep


def build():
    return sweep(
        "softmax(A, rows, temperature=T) @ softmax(B, cols, temperature=T)",
        "T=1:0.02",
        frames=48,
        fps=12,
        A=mv.load("sample:moon", shape=(128, 128)),
        B=mv.load("sample:coins", shape=(128, 128)),
    )
