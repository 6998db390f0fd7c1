"""matviz.sources.files: arrays and images on disk, literals, shapes, resizing, and the errors.

Oracles are independent of the loader: what numpy/imageio wrote, ``skimage.color.rgb2gray`` and
the ITU-R BT.709 luma weights it documents, ``np.eye``/``np.tril``, and arithmetic on pixel codes.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imageio.v3 as iio
from skimage.color import rgb2gray

from matviz.errors import MatvizError, SourceError
from matviz.scene import MAX_ELEMENTS
from matviz.sources import IMAGE_SUFFIXES, load, parse_shape

BT709 = np.array([0.2125, 0.7154, 0.0721])  # the weights skimage.color.rgb2gray documents

# words by which an error message proposes what to do next (DESIGN.md: "names ... the fix")
FIX_WORDS = ("use ", "give ", "write ", "choose ", "pass ", "replace ", "reshape ", "resize ", "e.g.")


def suggests_fix(message: str) -> bool:
    return any(w in message.lower() for w in FIX_WORDS)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---- arrays ------------------------------------------------------------------------------


def test_npy_float_round_trip(tmp_path, rng):
    a = rng.standard_normal((7, 5))
    p = tmp_path / "weights.npy"
    np.save(p, a)
    op = load(str(p))
    assert op.values.dtype == np.float64
    np.testing.assert_array_equal(op.values, a)
    assert op.name == "weights"
    assert op.kind == "signed"


def test_npy_int_round_trip(tmp_path, rng):
    a = rng.integers(-50, 50, size=(4, 9)).astype(np.int32)
    p = tmp_path / "counts.npy"
    np.save(p, a)
    op = load(p)  # a Path works too
    assert op.values.dtype == np.float64
    np.testing.assert_array_equal(op.values, a.astype(np.float64))


def test_npy_nonneg_kind(tmp_path):
    p = tmp_path / "pos.npy"
    np.save(p, np.arange(6, dtype=np.uint8).reshape(2, 3))
    op = load(str(p))
    assert op.kind == "nonneg"
    np.testing.assert_array_equal(op.values, [[0, 1, 2], [3, 4, 5]])


def test_csv_comma(tmp_path, rng):
    a = rng.standard_normal((6, 4))
    p = tmp_path / "m.csv"
    np.savetxt(p, a, delimiter=",", fmt="%.17g")
    op = load(str(p))
    np.testing.assert_array_equal(op.values, a)


def test_txt_whitespace(tmp_path, rng):
    a = rng.uniform(-3, 3, (3, 8))
    p = tmp_path / "m.txt"
    np.savetxt(p, a, fmt="%.17g")  # default delimiter: one space
    np.testing.assert_array_equal(load(str(p)).values, a)
    # tabs and runs of spaces are whitespace too
    q = tmp_path / "tabs.txt"
    q.write_text("1\t2   3\n4 \t 5\t6\n")
    np.testing.assert_array_equal(load(str(q)).values, [[1, 2, 3], [4, 5, 6]])


def test_csv_one_row_is_a_row_matrix(tmp_path):
    p = tmp_path / "row.csv"
    np.savetxt(p, np.array([[1.5, 2.0, -3.0, 4.0]]), delimiter=",")
    op = load(str(p))
    assert op.shape == (1, 4)
    np.testing.assert_array_equal(op.values, [[1.5, 2.0, -3.0, 4.0]])


def test_csv_one_column_is_a_column_matrix(tmp_path):
    p = tmp_path / "col.csv"
    np.savetxt(p, np.array([[1.0], [2.0], [3.0]]), delimiter=",")
    assert load(str(p)).shape == (3, 1)


def test_name_argument_wins(tmp_path):
    p = tmp_path / "file_name.npy"
    np.save(p, np.eye(2))
    assert load(str(p), "Q").name == "Q"
    assert load(np.eye(2)).name == "M"  # arrays fall back to default_name
    assert load(np.eye(2), default_name="B").name == "B"


# ---- images ------------------------------------------------------------------------------


def _gray8(rng, shape=(9, 11)):
    g = rng.integers(0, 256, shape, dtype=np.uint8)
    g[0, 0], g[-1, -1] = 255, 0
    return g


def _rgb8(rng, shape=(9, 11)):
    c = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    c[0, 0] = 255  # white
    c[-1, -1] = 0  # black
    return c


def test_gray8_png_scaled(tmp_path, rng):
    g = _gray8(rng)
    p = tmp_path / "g8.png"
    iio.imwrite(p, g)
    op = load(str(p))
    assert op.kind == "image"
    assert op.shape == g.shape
    assert op.values.min() >= 0.0 and op.values.max() <= 1.0
    assert op.values[0, 0] == 1.0 and op.values[-1, -1] == 0.0
    np.testing.assert_allclose(op.values, g / 255.0, rtol=0, atol=1e-12)


def test_gray16_png_scaled(tmp_path, rng):
    g = rng.integers(0, 65536, (8, 10), dtype=np.uint16)
    g[0, 0], g[0, 1], g[0, 2] = 65535, 0, 32768
    p = tmp_path / "g16.png"
    iio.imwrite(p, g)
    assert iio.imread(p).dtype == np.uint16  # the file really is 16-bit
    op = load(str(p))
    assert op.kind == "image"
    assert op.values[0, 0] == 1.0 and op.values[0, 1] == 0.0
    np.testing.assert_allclose(op.values, g / 65535.0, rtol=0, atol=1e-12)


def test_rgb_png_is_luminance(tmp_path, rng):
    c = _rgb8(rng)
    p = tmp_path / "rgb.png"
    iio.imwrite(p, c)
    op = load(str(p))
    assert op.kind == "image"
    assert op.shape == c.shape[:2]
    f = c / 255.0
    np.testing.assert_allclose(op.values, rgb2gray(f), rtol=0, atol=1e-12)
    np.testing.assert_allclose(op.values, f @ BT709, rtol=0, atol=1e-12)
    assert op.values[0, 0] == pytest.approx(1.0) and op.values[-1, -1] == 0.0
    assert op.values.min() >= 0.0 and op.values.max() <= 1.0 + 1e-12


def test_rgba_png_ignores_alpha(tmp_path, rng):
    c = _rgb8(rng)
    alpha = rng.integers(0, 256, c.shape[:2], dtype=np.uint8)
    iio.imwrite(tmp_path / "rgb.png", c)
    iio.imwrite(tmp_path / "rgba.png", np.dstack([c, alpha]))
    assert iio.imread(tmp_path / "rgba.png").shape[-1] == 4
    with_alpha = load(str(tmp_path / "rgba.png"))
    np.testing.assert_array_equal(with_alpha.values, load(str(tmp_path / "rgb.png")).values)
    np.testing.assert_allclose(with_alpha.values, rgb2gray(c / 255.0), rtol=0, atol=1e-12)
    assert with_alpha.kind == "image"


def test_gray_alpha_png_ignores_alpha(tmp_path, rng):
    g = _gray8(rng)
    alpha = rng.integers(0, 256, g.shape, dtype=np.uint8)
    p = tmp_path / "la.png"
    iio.imwrite(p, np.dstack([g, alpha]))
    np.testing.assert_allclose(load(str(p)).values, g / 255.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("suffix", [".tif", ".tiff"])
def test_tiff_gray8_gray16_rgb(tmp_path, rng, suffix):
    g8, c = _gray8(rng), _rgb8(rng)
    g16 = rng.integers(0, 65536, (5, 7), dtype=np.uint16)
    g16[0, 0], g16[1, 1] = 65535, 0
    iio.imwrite(tmp_path / f"g8{suffix}", g8)
    iio.imwrite(tmp_path / f"g16{suffix}", g16)
    iio.imwrite(tmp_path / f"rgb{suffix}", c)
    np.testing.assert_allclose(load(str(tmp_path / f"g8{suffix}")).values, g8 / 255.0, rtol=0, atol=1e-12)
    v16 = load(str(tmp_path / f"g16{suffix}")).values
    assert v16[0, 0] == 1.0 and v16[1, 1] == 0.0
    np.testing.assert_allclose(v16, g16 / 65535.0, rtol=0, atol=1e-12)
    op = load(str(tmp_path / f"rgb{suffix}"))
    assert op.kind == "image"
    np.testing.assert_allclose(op.values, rgb2gray(c / 255.0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("suffix", [".bmp", ".webp"])
def test_other_lossless_formats(tmp_path, rng, suffix):
    c = _rgb8(rng)
    p = tmp_path / f"c{suffix}"
    iio.imwrite(p, c, **({"lossless": True} if suffix == ".webp" else {}))
    np.testing.assert_allclose(load(str(p)).values, rgb2gray(c / 255.0), rtol=0, atol=1e-12)


def test_jpeg_matches_decoded_pixels(tmp_path, rng):
    c = _rgb8(rng, (16, 16))
    p = tmp_path / "c.JPG"  # the suffix is case-insensitive
    iio.imwrite(p, c)
    decoded = iio.imread(p)  # lossy: compare against what the file decodes to
    op = load(str(p))
    assert op.kind == "image"
    np.testing.assert_allclose(op.values, rgb2gray(decoded / 255.0), rtol=0, atol=1e-12)


@pytest.mark.parametrize("colour", [False, True])
def test_single_frame_gif(tmp_path, rng, colour):
    """``.gif`` is an accepted suffix, so a one-frame GIF must load as a 2-D image."""
    img = _rgb8(rng) if colour else _gray8(rng)
    p = tmp_path / "one.gif"
    iio.imwrite(p, img)
    op = load(str(p))
    assert op.kind == "image"
    assert op.shape == img.shape[:2]
    assert op.values.min() >= 0.0 and op.values.max() <= 1.0


def test_image_suffixes_documented():
    for s in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"):
        assert s in IMAGE_SUFFIXES


# ---- resizing ------------------------------------------------------------------------------


def test_resize_to_shape_tuple_and_string(tmp_path, rng):
    iio.imwrite(tmp_path / "c.png", _rgb8(rng, (64, 48)))
    assert load(str(tmp_path / "c.png"), shape=(20, 30)).shape == (20, 30)
    assert load(str(tmp_path / "c.png"), shape="20x30").shape == (20, 30)  # ROWSxCOLS
    assert load(str(tmp_path / "c.png"), shape="7").shape == (7, 7)
    assert load("uniform:50x40", shape="100x10").shape == (100, 10)  # enlarging to an explicit shape is allowed


def test_resize_keeps_image_range(tmp_path, rng):
    g = _gray8(rng, (90, 70))
    iio.imwrite(tmp_path / "g.png", g)
    v = load(str(tmp_path / "g.png"), shape=(33, 17)).values
    assert v.min() >= 0.0 and v.max() <= 1.0


@given(rows=st.integers(1, 400), cols=st.integers(1, 400), side=st.integers(1, 400))
@settings(max_examples=40, deadline=None)
def test_max_side_aspect_and_never_enlarges(rows, cols, side):
    a = np.arange(rows * cols, dtype=np.float64).reshape(rows, cols)
    op = load(a, max_side=side)
    if max(rows, cols) <= side:  # never enlarges: untouched
        assert op.shape == (rows, cols)
        np.testing.assert_array_equal(op.values, a)
        return
    r, c = op.shape
    assert max(r, c) == side
    scale = side / max(rows, cols)
    assert abs(r - rows * scale) <= 0.5 + 1e-9 or r == 1
    assert abs(c - cols * scale) <= 0.5 + 1e-9 or c == 1
    assert a.min() - 1e-9 <= op.values.min() and op.values.max() <= a.max() + 1e-9


def test_max_side_on_image_file(tmp_path, rng):
    iio.imwrite(tmp_path / "wide.png", _gray8(rng, (60, 200)))
    op = load(str(tmp_path / "wide.png"), max_side=50)
    assert op.shape == (15, 50)
    assert op.kind == "image"


@pytest.mark.parametrize("side", [0, -3])
def test_max_side_below_one_names_the_parameter(side):
    """A library error names the parameter the caller typed, not the CLI flag."""
    with pytest.raises(SourceError) as info:
        load(np.ones((4, 4)), max_side=side)
    message = str(info.value)
    assert message.startswith("max_side must be >= 1") and str(side) in message
    assert "--max-side" not in message


def test_anti_aliasing_keeps_mean_of_constant():
    a = np.full((600, 800), 0.37)
    v = load(a, shape=(37, 53)).values
    np.testing.assert_allclose(v, 0.37, rtol=0, atol=1e-12)
    v = load(a, max_side=64).values
    assert v.shape == (48, 64)
    assert v.mean() == pytest.approx(0.37, abs=1e-12)


def test_anti_aliasing_averages_a_checkerboard():
    """Plain subsampling of a 1-pixel checkerboard by 8 would give all 0 or all 1; a filtered one gives ~0.5."""
    i, j = np.indices((512, 512))
    board = ((i + j) % 2).astype(np.float64)
    v = load(board, shape=(64, 64)).values
    assert v.mean() == pytest.approx(board.mean(), abs=0.02)
    assert v.std() < 0.05


# ---- literals -------------------------------------------------------------------------------


def test_literal():
    op = load("[[1, 2], [3, 4]]")
    np.testing.assert_array_equal(op.values, np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert op.values.dtype == np.float64
    np.testing.assert_array_equal(load("  [[1,-2.5,3e2]]  ").values, [[1.0, -2.5, 300.0]])


@pytest.mark.parametrize("bad", ["[[1,2],[3]]", "[[1, 2", "[[1, 'a']]", "[__import__('os')]", "[[1,2],,[3,4]]"])
def test_bad_literal(bad):
    with pytest.raises(SourceError) as err:
        load(bad)
    msg = str(err.value)
    assert bad[:10] in msg  # names the input
    assert suggests_fix(msg)


def test_one_dimensional_literal_is_a_matviz_error():
    with pytest.raises(MatvizError, match="2-D"):
        load("[1, 2, 3]")


# ---- shapes --------------------------------------------------------------------------------


def test_parse_shape_examples():
    assert parse_shape("3x4") == (3, 4)
    assert parse_shape("5") == (5, 5)
    assert parse_shape(" 2 X 7 ") == (2, 7)
    assert parse_shape("2×7") == (2, 7)


@given(m=st.integers(1, 10**5), n=st.integers(1, 10**5), sep=st.sampled_from(["x", "X", "×", " x "]))
@settings(max_examples=60, deadline=None)
def test_parse_shape_round_trip(m, n, sep):
    text = f"{m}{sep}{n}"
    if m * n > MAX_ELEMENTS:
        with pytest.raises(SourceError, match="elements"):
            parse_shape(text)
    else:
        assert parse_shape(text) == (m, n)


@pytest.mark.parametrize("bad", ["3xq", "x4", "3x", "3x4x5", "-3x4", "3.5x2", "", "abc"])
def test_parse_shape_rejects(bad):
    with pytest.raises(SourceError) as err:
        parse_shape(bad)
    assert repr(bad) in str(err.value)
    assert "3x4" in str(err.value) or ">= 1" in str(err.value)


@pytest.mark.parametrize("bad", ["0x3", "3x0", "0"])
def test_parse_shape_zero_side(bad):
    with pytest.raises(SourceError, match=">= 1"):
        parse_shape(bad)


# ---- errors --------------------------------------------------------------------------------


def _error(spec) -> str:
    with pytest.raises(MatvizError) as err:
        load(spec)
    return str(err.value)


def test_missing_file(tmp_path):
    p = tmp_path / "nowhere.npy"
    with pytest.raises(SourceError) as err:
        load(str(p))
    msg = str(err.value)
    assert "nowhere.npy" in msg and "no such file" in msg
    assert suggests_fix(msg)


def test_directory_instead_of_file(tmp_path):
    d = tmp_path / "looks_like.npy"
    d.mkdir()
    with pytest.raises(SourceError) as err:
        load(str(d))
    msg = str(err.value)
    assert "looks_like.npy" in msg and "directory" in msg
    assert suggests_fix(msg), f"no fix proposed in: {msg}"


@pytest.mark.parametrize("fname", ["data.xyz", "noextension"])
def test_unknown_suffix(tmp_path, fname):
    p = tmp_path / fname
    p.write_text("1 2\n3 4\n")
    with pytest.raises(SourceError) as err:
        load(str(p))
    msg = str(err.value)
    assert fname in msg
    assert ".npy" in msg and ".png" in msg  # lists what would work
    assert suggests_fix(msg)


def test_garbage_png(tmp_path, rng):
    p = tmp_path / "broken.png"
    p.write_bytes(rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    with pytest.raises(SourceError) as err:
        load(str(p))
    msg = str(err.value)
    assert "broken.png" in msg and "image" in msg
    assert suggests_fix(msg), f"no fix proposed in: {msg}"


def test_text_in_csv(tmp_path):
    p = tmp_path / "mixed.csv"
    p.write_text("1,2,3\n4,five,6\n")
    with pytest.raises(SourceError) as err:
        load(str(p))
    msg = str(err.value)
    assert "mixed.csv" in msg and "five" in msg
    assert suggests_fix(msg), f"no fix proposed in: {msg}"


def test_nan_in_npy(tmp_path):
    a = np.ones((3, 4))
    a[2, 1] = np.nan
    p = tmp_path / "weights.npy"
    np.save(p, a)
    msg = _error(str(p))
    assert "weights" in msg and "NaN" in msg and "[2, 1]" in msg
    assert suggests_fix(msg)


def test_one_dimensional_npy(tmp_path):
    p = tmp_path / "vector.npy"
    np.save(p, np.arange(5.0))
    msg = _error(str(p))
    assert "vector" in msg and "(5,)" in msg and "2-D" in msg
    assert suggests_fix(msg)


def test_empty_csv(tmp_path):
    p = tmp_path / "blank.csv"
    p.write_text("")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one clean error, no numpy warning on the way
        with pytest.raises(MatvizError) as err:
            load(str(p))
    assert "blank" in str(err.value) and "empty" in str(err.value)


def test_pickled_npy_is_refused(tmp_path):
    p = tmp_path / "objects.npy"
    np.save(p, np.array([[1, "a"]], dtype=object), allow_pickle=True)
    with pytest.raises(SourceError, match="objects.npy"):
        load(str(p))
