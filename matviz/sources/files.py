"""Load a matrix from a spec string (path, sample, filler or literal); see ``matviz.sources``."""

from __future__ import annotations

import ast
import os
import re
import stat
import warnings
from pathlib import Path

import numpy as np

from matviz.errors import MatvizError, SourceError
from matviz.core.operand import MAX_ELEMENTS, Operand, operand
from matviz.sources.synthetic import FILLERS, sample, filler

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp")
ARRAY_SUFFIXES = (".npy", ".csv", ".txt")
MAX_TEXT_BYTES = 1 << 30  # a .csv/.txt larger than 1 GiB is refused before reading
_SHAPE = re.compile(r"^\s*(\d+)\s*[x×X]\s*(\d+)\s*$")


def parse_shape(text: str, what: str = "shape") -> tuple[int, int]:
    """``"3x4"`` → ``(3, 4)`` (ROWSxCOLS); a single ``"5"`` means ``5x5``."""
    text = str(text).strip()
    if text.isdigit():
        size = (int(text), int(text))
    else:
        match = _SHAPE.match(text)
        if not match:
            raise SourceError(f"{what} {text!r} is not ROWSxCOLS: write e.g. 3x4")
        size = (int(match[1]), int(match[2]))
    if min(size) < 1:
        raise SourceError(f"{what} {text!r} has a zero side: both sides must be >= 1")
    if size[0] * size[1] > MAX_ELEMENTS:
        raise SourceError(
            f"{what} {text!r} has {size[0] * size[1]:,} elements, more than the {MAX_ELEMENTS:,} matviz holds "
            "per matrix: choose a smaller shape"
        )
    return size


def to_gray(pixels: np.ndarray, name: str) -> np.ndarray:
    """Image pixels → luminance in [0, 1]: alpha dropped, colour → gray, 8/16-bit scaled."""
    from skimage.color import rgb2gray
    from skimage.util import img_as_float

    img = np.asarray(pixels)
    if img.ndim == 4 or (img.ndim == 3 and img.shape[0] == 1 and img.shape[-1] not in (1, 2, 3, 4)):
        if img.shape[0] != 1:  # imageio returns GIF/TIFF stacks frame-first
            raise SourceError(f"{name} holds {img.shape[0]} frames: save the one frame you want as its own image")
        img = img[0]
    if img.ndim == 3 and img.shape[-1] in (2, 4):
        img = img[..., :-1]  # drop alpha
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 3 and img.shape[-1] == 3:
        img = rgb2gray(img_as_float(img))
    elif img.ndim == 2:
        img = img_as_float(img)
    else:
        raise SourceError(f"{name}: image has shape {img.shape}; expected gray (H, W) or colour (H, W, 3/4)")
    return np.asarray(img, dtype=np.float64)


def resize(values: np.ndarray, shape: tuple[int, int] | None = None, max_side: int | None = None) -> np.ndarray:
    """Resize to ``shape`` (ROWSxCOLS), or shrink so the longer side is at most ``max_side``.

    Anti-aliased (scikit-image), values kept in their range.
    """
    if shape is None and max_side is None:
        return values
    if max_side is not None:
        if max_side < 1:
            raise SourceError(f"max_side must be >= 1, got {max_side}: give the longest side to shrink to, e.g. max_side=512")
        scale = max_side / max(values.shape)
        if scale >= 1 and shape is None:
            return values
        shape = shape or (max(1, round(values.shape[0] * scale)), max(1, round(values.shape[1] * scale)))
    try:
        shape = tuple(int(v) for v in shape)
        if len(shape) != 2 or min(shape) < 1:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise SourceError(f"shape {shape!r} is not (rows, cols) with both sides >= 1: write e.g. shape=(128, 128)") from None
    if shape[0] * shape[1] > MAX_ELEMENTS:
        raise SourceError(f"shape {shape} has more than the {MAX_ELEMENTS:,} elements matviz holds per matrix")
    if tuple(shape) == values.shape:
        return values
    from skimage.transform import resize as sk_resize

    return sk_resize(values, shape, anti_aliasing=True, preserve_range=True, order=1)


def _too_big(path: Path, shape, what: str) -> SourceError:
    count = int(np.prod([int(v) for v in shape], dtype=object))
    dims = "×".join(str(int(v)) for v in shape)
    return SourceError(
        f"{path} holds {what} of {dims} ({count:,} elements), more than the {MAX_ELEMENTS:,} matviz reads "
        "per matrix: shrink it before loading (it is refused before it is read)"
    )


def _check_header(path: Path, suffix: str) -> None:
    """Refuse an array or image whose header claims more than MAX_ELEMENTS, before decoding it."""
    if suffix == ".npy":
        try:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                shape = reader(f)[0]
        except Exception:  # not a valid header: np.load says why below
            return
        if int(np.prod([int(v) for v in shape], dtype=object)) > MAX_ELEMENTS:
            raise _too_big(path, shape, "an array")
        return
    if suffix in (".csv", ".txt"):
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise SourceError(
                f"{path} is {size:,} bytes, more than the {MAX_TEXT_BYTES:,} matviz reads from a text file: "
                "save it with numpy.save as .npy, or shrink it"
            )
        return
    if suffix in IMAGE_SUFFIXES:
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - Pillow comes with imageio
            return
        limit = Image.MAX_IMAGE_PIXELS
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: we check the size ourselves
            Image.MAX_IMAGE_PIXELS = None  # only the header is read here; our own limit follows
            try:
                with Image.open(path) as img:
                    width, height = img.size
                    frames = getattr(img, "n_frames", 1)
            except Exception:  # Pillow cannot read it: imageio says why below
                return
            finally:
                Image.MAX_IMAGE_PIXELS = limit
        if width * height > MAX_ELEMENTS:
            raise _too_big(path, (height, width), "an image")
        if frames > 1 and width * height * frames > 4 * MAX_ELEMENTS:
            raise SourceError(f"{path} holds {frames} frames: save the one frame you want as its own image")


def _read_text(path: Path, suffix: str) -> np.ndarray:
    with open(path, "rb") as f:  # read at most the cap: the file may grow while it is read
        data = f.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:
        raise SourceError(f"{path} is more than {MAX_TEXT_BYTES:,} bytes: save it with numpy.save as .npy, or shrink it")
    import io

    with warnings.catch_warnings():  # an empty file warns, then fails our own emptiness check
        warnings.simplefilter("ignore")
        return np.loadtxt(io.BytesIO(data), delimiter="," if suffix == ".csv" else None, ndmin=2, dtype=np.float64)


def _read_file(path: Path) -> tuple[np.ndarray, bool]:
    """``(values, is_image)`` from a file on disk: a regular file, sizes checked before decoding."""
    suffix = path.suffix.lower()
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file"
        raise SourceError(f"{path} is {kind}, not a regular file: give a file saved on disk")
    if suffix in ARRAY_SUFFIXES + IMAGE_SUFFIXES:
        _check_header(path, suffix)
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False), False
        if suffix in (".csv", ".txt"):
            return _read_text(path, suffix), False
        if suffix in IMAGE_SUFFIXES:
            import imageio.v3 as iio

            return to_gray(iio.imread(path), path.name), True
    except MatvizError:
        raise
    except Exception as exc:  # numpy / imageio say why in many ways; keep the first line
        reason = str(exc).strip().splitlines()[0][:160].replace("``", "`") if str(exc).strip() else type(exc).__name__
        if suffix in IMAGE_SUFFIXES:
            fix = "give a real image file (e.g. re-save it as PNG)"
            kind = "an image"
        elif suffix == ".npy":
            fix, kind = "write it with numpy.save", "a .npy array"
        else:
            sep = "commas" if suffix == ".csv" else "spaces"
            fix, kind = f"write only numbers separated by {sep}, one row per line", f"a {suffix} array"
        raise SourceError(f"{path} is not {kind} matviz can read ({reason}): {fix}") from None
    raise SourceError(
        f"{path}: unknown file type {suffix or '(none)'}; use {', '.join(ARRAY_SUFFIXES + IMAGE_SUFFIXES)}"
    )


def _read_spec(spec: str) -> tuple[np.ndarray, bool, str | None]:
    """``(values, is_image, natural_name)`` for any spec string (files and samples have a name)."""
    text = spec.strip()
    if text.startswith("["):
        try:
            return np.array(ast.literal_eval(text), dtype=np.float64), False, None
        except OverflowError:
            raise SourceError(
                f"{text[:40]!r}...: a number in the literal is too large for a float64 (at most about 1.8e308)"
            ) from None
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise SourceError(f"{text[:40]!r} is not a matrix literal: write e.g. '[[1, 2], [3, 4]]'") from None
    head, _, rest = text.partition(":")
    if rest and len(head) > 1:  # "sample:x", "random:3x4" (a one-letter head is a Windows drive)
        if head == "sample":
            return to_gray(sample(rest), rest), True, rest
        if head in FILLERS:
            size, _, opt = rest.partition(":")
            seed = 0
            if opt:
                key, _, val = opt.partition("=")
                if key != "seed" or not val.isdigit():
                    raise SourceError(f"{text!r}: the option after the shape must be seed=N with N >= 0")
                seed = int(val)
            return filler(head, parse_shape(size, f"{head} shape"), seed), False, None
        raise SourceError(
            f"unknown source {head!r} in {text!r}: use a file path, sample:NAME or one of {', '.join(FILLERS)}"
        )
    path = Path(text).expanduser()
    if not path.exists():
        raise SourceError(f"{text}: no such file (give a path to .npy/.csv/.txt/image, or sample:camera, random:4x3)")
    if path.is_dir():
        raise SourceError(f"{text} is a directory, not a matrix file: give the path of a file inside it")
    values, is_image = _read_file(path)
    return values, is_image, path.stem


def load(
    spec,
    name: str | None = None,
    *,
    shape: tuple[int, int] | str | None = None,
    max_side: int | None = None,
    default_name: str = "M",
) -> Operand:
    """A validated ``Operand`` from a spec string (see ``matviz.sources``) or an array.

    ``shape`` resizes to ROWSxCOLS; ``max_side`` shrinks so the longer side is at most that.
    Images are kind ``"image"`` (drawn in grayscale); everything else by its values' sign. The
    name is ``name``, else the file or sample name, else ``default_name``.
    """
    if isinstance(spec, Operand):
        values, is_image, natural = spec.values, spec.kind == "image", spec.name
    elif isinstance(spec, (str, Path)):
        values, is_image, natural = _read_spec(str(spec))
    else:
        if isinstance(spec, np.ma.MaskedArray):
            raise SourceError(
                "a numpy masked array would lose its mask: fill the masked cells first, e.g. a.filled(0)"
            )
        values, is_image, natural = np.asarray(spec), False, None
    label = name or natural or default_name
    if np.asarray(values).ndim == 2 and np.asarray(values).size and (shape is not None or max_side is not None):
        values = resize(
            np.asarray(values, dtype=np.float64), parse_shape(shape) if isinstance(shape, str) else shape, max_side
        )
    return operand(values, label, "image" if is_image else None)
