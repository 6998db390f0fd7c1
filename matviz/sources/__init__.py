"""Turning the outside world into matrices: files, images, bundled samples and synthetic fillers.

``load(spec)`` accepts, as a string:

* a path: ``.npy``, ``.csv`` (comma-separated), ``.txt`` (whitespace-separated), or an image
  (``.png .jpg .jpeg .tif .tiff .bmp .gif .webp``; colour → luminance, alpha dropped, 8/16-bit
  scaled to [0, 1]);
* ``sample:NAME`` — a grayscale image that ships with scikit-image (``sample:camera``);
* a filler: ``random:MxN[:seed=S]`` (standard normal), ``uniform:MxN[:seed=S]`` ([0, 1)),
  ``eye:N`` or ``eye:MxN``, ``tril:N`` or ``tril:MxN``, ``gradient:MxN``, ``ones:MxN``;
* a literal: ``"[[1, 2, 3], [4, 5, 6]]"``.

Shapes are always ROWSxCOLS, as in matrix notation.
"""

from matviz.sources.files import IMAGE_SUFFIXES, load, parse_shape, resize
from matviz.sources.synthetic import FILLERS, SAMPLES, filler, sample

__all__ = ["FILLERS", "IMAGE_SUFFIXES", "SAMPLES", "filler", "load", "parse_shape", "resize", "sample"]
