"""Matrices that need no file and no network: scikit-image's bundled images and fillers."""

from __future__ import annotations

import numpy as np

from matviz.errors import SourceError

# scikit-image ships these inside the wheel (the others in skimage.data download on first use).
SAMPLES = (
    "camera",
    "coins",
    "moon",
    "astronaut",
    "coffee",
    "chelsea",
    "text",
    "page",
    "brick",
    "grass",
    "gravel",
    "rocket",
    "retina",
    "clock",
    "cell",
)


def sample(name: str) -> np.ndarray:
    """A bundled sample image as raw pixels (uint8, gray or RGB)."""
    if name not in SAMPLES:
        raise SourceError(f"unknown sample {name!r}: choose one of {', '.join(SAMPLES)}")
    import skimage.data

    return np.asarray(getattr(skimage.data, name)())


def _random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _uniform(shape, seed):
    return np.random.default_rng(seed).random(shape)


def _gradient(shape, seed):
    """0 at the top-left corner, 1 at the bottom-right, linear in i and j."""
    m, n = shape
    i = np.linspace(0.0, 1.0, m)[:, None]
    j = np.linspace(0.0, 1.0, n)[None, :]
    sides = (m > 1) + (n > 1)
    return (i + j) / sides if sides else np.zeros(shape)


FILLERS = {
    "random": _random,
    "uniform": _uniform,
    "eye": lambda shape, seed: np.eye(*shape),
    "tril": lambda shape, seed: np.tril(np.ones(shape)),
    "gradient": _gradient,
    "ones": lambda shape, seed: np.ones(shape),
}


def filler(kind: str, shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A synthetic ``shape`` matrix of ``kind`` (see ``FILLERS``); same seed, same values."""
    try:
        fn = FILLERS[kind]
    except KeyError:
        raise SourceError(f"unknown filler {kind!r}: choose one of {', '.join(FILLERS)}") from None
    return np.asarray(fn(shape, seed), dtype=np.float64)
