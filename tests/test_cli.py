"""The ``matviz`` command: round trips from every kind of operand to PNG/GIF/MP4, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

import matviz.graphics.offscreen as offscreen
from matviz.cli import build_parser, main
from matviz.cli.common import scene_from_args
from _helpers import listing, run_cli

REPO = Path(__file__).resolve().parents[1]
A_LIT = "[[1,2,3],[4,5,6]]"  # (2, 3)
B_LIT = "[[1,-2],[3,4],[5,6]]"  # (3, 2)
A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
B = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])
SMALL = ["--size", "160x120"]


# ---------------------------------------------------------------- helpers


run = run_cli  # ``matviz.cli.main(argv)`` → (exit code, stdout, stderr)


def scene_for(*argv):
    """The Cube (or Chain) that ``matviz render ARGV`` would draw (no rendering)."""
    args = build_parser().parse_args(["render", *map(str, argv), "-o", "unused.png"])
    return scene_from_args(args)


def changed_fraction(a: np.ndarray, b: np.ndarray, threshold: int = 40) -> float:
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > threshold).mean())


def assert_drawn(img: np.ndarray, size=(160, 120)) -> None:
    """A frame of the requested (width, height) that is not a blank background."""
    assert img.shape[:2] == (size[1], size[0])
    rgb = img[..., :3].astype(int)
    assert (np.abs(rgb - rgb[0, 0]).max(axis=-1) > 40).mean() > 0.05


def render_ok(capsys, tmp_path, *argv, out="out.png", size=(160, 120)) -> tuple[np.ndarray, str]:
    """Run ``matviz render ARGV -o tmp/out``; assert success and one drawn output; return (image, stderr)."""
    path = tmp_path / out
    code, _, err = run(capsys, "render", *argv, "-o", path, "--size", f"{size[0]}x{size[1]}")
    assert code == 0, err
    assert "Traceback" not in err and "error" not in err
    assert path.is_file()
    assert not [n for n in listing(tmp_path) if n.startswith(".") or ".partial" in n or ".probe" in n]
    img = iio.imread(path)
    assert_drawn(img, size)
    return img, err


def assert_fails(capsys, tmp_path, monkeypatch, *argv, output="out.mp4", needles=()) -> str:
    """``matviz render ARGV -o OUTPUT`` (run in tmp_path) exits 2 with exactly one ``matviz: error:``
    line, no traceback, and leaves nothing new in tmp_path. Returns the error line."""
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    extra = ["-o", output] if output is not None else []
    code, out, err = run(capsys, "render", *argv, *extra)
    assert code == 2
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("matviz: error:")
    assert listing(tmp_path) == before  # no output file, no temp file
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ---------------------------------------------------------------- operands → scenes (values)


def test_literals_give_the_true_product():
    scene = scene_for("--left", A_LIT, "--right", B_LIT)
    assert np.array_equal(scene.left.values, A)
    assert np.array_equal(scene.right.values, B)
    assert np.allclose(scene.result.values, A @ B)


def test_npy_files(tmp_path):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    scene = scene_for("--left", tmp_path / "a.npy", "--right", tmp_path / "b.npy")
    assert np.array_equal(scene.left.values, a) and np.array_equal(scene.right.values, b)
    assert np.allclose(scene.result.values, a @ b)
    assert (scene.left.name, scene.right.name) == ("a", "b")  # named after the files


def test_csv_and_txt_files(tmp_path):
    rng = np.random.default_rng(4)
    a, b = rng.uniform(-5, 5, (3, 4)), rng.uniform(-5, 5, (4, 2))
    np.savetxt(tmp_path / "a.csv", a, delimiter=",")
    np.savetxt(tmp_path / "b.txt", b)  # whitespace-separated
    scene = scene_for("--left", tmp_path / "a.csv", "--right", tmp_path / "b.txt")
    assert np.allclose(scene.left.values, a) and np.allclose(scene.right.values, b)
    assert np.allclose(scene.result.values, a @ b)


def test_single_row_csv_stays_2d(tmp_path):
    np.savetxt(tmp_path / "row.csv", np.array([[1.0, 2.0, 3.0]]), delimiter=",")
    scene = scene_for("--left", tmp_path / "row.csv", "--right", B_LIT)
    assert scene.left.values.shape == (1, 3)
    assert np.allclose(scene.result.values, np.array([[1.0, 2.0, 3.0]]) @ B)


def test_gray_png_is_scaled_to_unit_range(tmp_path):
    img = (np.arange(48).reshape(6, 8) * 5).astype(np.uint8)
    iio.imwrite(tmp_path / "g.png", img)
    scene = scene_for("--left", tmp_path / "g.png", "--right", "eye:8")
    assert scene.left.kind == "image"
    assert np.allclose(scene.left.values, img / 255.0)
    assert np.allclose(scene.result.values, img / 255.0)  # @ identity


def test_rgba_png_drops_alpha_and_uses_luminance(tmp_path):
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)
    alpha = rng.integers(0, 256, (6, 8, 1)).astype(np.uint8)
    iio.imwrite(tmp_path / "rgba.png", np.concatenate([rgb, alpha], axis=-1))
    iio.imwrite(tmp_path / "rgb.png", rgb)
    luminance = (rgb / 255.0) @ np.array([0.2125, 0.7154, 0.0721])  # ITU-R BT.709
    with_alpha = scene_for("--left", tmp_path / "rgba.png", "--right", "eye:8").left.values
    without = scene_for("--left", tmp_path / "rgb.png", "--right", "eye:8").left.values
    assert with_alpha.shape == (6, 8)
    assert np.allclose(with_alpha, luminance, atol=1e-6)
    assert np.array_equal(with_alpha, without)


def test_16_bit_png_is_scaled_by_65535(tmp_path):
    img = (np.arange(48).reshape(6, 8) * 1300).astype(np.uint16)
    iio.imwrite(tmp_path / "deep.png", img)
    assert iio.imread(tmp_path / "deep.png").dtype == np.uint16  # really 16-bit on disk
    values = scene_for("--left", tmp_path / "deep.png", "--right", "eye:8").left.values
    assert np.allclose(values, img / 65535.0)
    assert values.max() > 0.9  # not squashed by a 255 scale


def test_sample_camera_with_max_side():
    scene = scene_for("--left", "sample:camera", "--right", "eye:32", "--max-side", 32)
    assert scene.left.shape == (32, 32)
    assert scene.left.kind == "image"
    assert 0.0 <= scene.left.values.min() < scene.left.values.max() <= 1.0
    assert np.allclose(scene.result.values, scene.left.values)


def test_fillers_random_and_eye():
    scene = scene_for("--left", "random:4x3", "--right", "eye:3")
    assert scene.left.shape == (4, 3) and scene.right.shape == (3, 3)
    assert np.array_equal(scene.right.values, np.eye(3))
    assert np.allclose(scene.result.values, scene.left.values)
    assert scene.left.values.min() < 0 < scene.left.values.max()
    again = scene_for("--left", "random:4x3", "--right", "eye:3")
    assert np.array_equal(again.left.values, scene.left.values)  # seeded: same inputs, same values
    other = scene_for("--left", "random:4x3:seed=7", "--right", "eye:3")
    assert not np.array_equal(other.left.values, scene.left.values)


def test_left_transform_softmax_rows():
    scene = scene_for("--left", A_LIT, "--right", B_LIT, "--left-transform", "softmax-rows")
    assert np.allclose(scene.left.values.sum(axis=1), 1.0)
    expected = np.exp(A) / np.exp(A).sum(axis=1, keepdims=True)
    assert np.allclose(scene.left.values, expected)
    assert np.allclose(scene.result.values, expected @ B)
    assert np.array_equal(scene.right.values, B)  # the right operand is untouched


def test_highlight_reaches_the_scene():
    scene = scene_for("--left", A_LIT, "--right", B_LIT, "--highlight", "1,0")
    assert scene.style.highlight == (1, 0)
    row, col = scene.dot_terms(1, 0)
    assert float(row @ col) == pytest.approx(scene.result.values[1, 0])


# ---------------------------------------------------------------- operands → files (rendered)


def test_render_literals_png(capsys, tmp_path):
    render_ok(capsys, tmp_path, "--left", A_LIT, "--right", B_LIT)
    assert listing(tmp_path) == ["out.png"]


def test_render_npy(capsys, tmp_path):
    rng = np.random.default_rng(6)
    np.save(tmp_path / "a.npy", rng.standard_normal((3, 4)))
    np.save(tmp_path / "b.npy", rng.standard_normal((4, 5)))
    render_ok(capsys, tmp_path, "--left", tmp_path / "a.npy", "--right", tmp_path / "b.npy")


def test_render_csv_and_txt(capsys, tmp_path):
    np.savetxt(tmp_path / "a.csv", A, delimiter=",")
    np.savetxt(tmp_path / "b.txt", B)
    render_ok(capsys, tmp_path, "--left", tmp_path / "a.csv", "--right", tmp_path / "b.txt")


@pytest.mark.parametrize("kind", ["gray8", "rgba", "gray16"])
def test_render_image_files(capsys, tmp_path, kind):
    rng = np.random.default_rng(7)
    if kind == "gray8":
        img = rng.integers(0, 256, (10, 12)).astype(np.uint8)
    elif kind == "rgba":
        img = rng.integers(0, 256, (10, 12, 4)).astype(np.uint8)
    else:
        img = rng.integers(0, 65536, (10, 12)).astype(np.uint16)
    iio.imwrite(tmp_path / "img.png", img)
    render_ok(capsys, tmp_path, "--left", tmp_path / "img.png", "--right", "eye:12")


def test_render_sample_camera(capsys, tmp_path):
    render_ok(capsys, tmp_path, "--left", "sample:camera", "--right", "sample:camera", "--max-side", 32)


def test_render_fillers(capsys, tmp_path):
    render_ok(capsys, tmp_path, "--left", "random:4x3", "--right", "eye:3")


def test_render_scene_script(capsys, tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text(
        "import numpy as np\n"
        "import matviz as mv\n\n"
        "def build():\n"
        "    return mv.matmul(np.arange(6.0).reshape(2, 3), np.ones((3, 4)), title='tiny')\n"
    )
    render_ok(capsys, tmp_path, script)


def test_render_repo_textbook_script(capsys, tmp_path):
    from matviz.outputs import load_scene

    scene = load_scene(REPO / "matviz" / "scenes" / "textbook.py")
    assert np.allclose(scene.result.values, scene.left.values @ scene.right.values)
    render_ok(capsys, tmp_path, REPO / "matviz" / "scenes" / "textbook.py")


def test_highlight_changes_the_picture(capsys, tmp_path):
    size = (320, 240)
    plain, _ = render_ok(capsys, tmp_path, "--left", A_LIT, "--right", B_LIT, out="plain.png", size=size)
    lit, _ = render_ok(
        capsys, tmp_path, "--left", A_LIT, "--right", B_LIT, "--highlight", "1,0", out="lit.png", size=size
    )
    assert changed_fraction(plain, lit) > 0.001  # the outline is drawn somewhere


def test_render_left_transform(capsys, tmp_path):
    render_ok(capsys, tmp_path, "--left", A_LIT, "--right", B_LIT, "--left-transform", "softmax-rows")


# ---------------------------------------------------------------- output formats


def test_mp4_output(capsys, tmp_path):
    path = tmp_path / "out.mp4"
    code, _, err = run(
        capsys, "render", "--left", A_LIT, "--right", B_LIT, "-o", path, *SMALL, "--frames", 6, "--fps", 12
    )
    assert code == 0, err
    assert listing(tmp_path) == ["out.mp4"]
    n, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert n == 6
    meta = iio.immeta(path)
    assert meta["fps"] == pytest.approx(12) and tuple(meta["size"]) == (160, 120) and meta["codec"] == "h264"
    frames = iio.imread(path)
    assert_drawn(frames[0])
    assert changed_fraction(frames[0], frames[-1]) > 0.02  # default animation for .mp4 moves


def test_gif_output(capsys, tmp_path):
    path = tmp_path / "out.gif"
    code, _, err = run(
        capsys,
        "render",
        "--left",
        A_LIT,
        "--right",
        B_LIT,
        "-o",
        path,
        *SMALL,
        "--frames",
        5,
        "--fps",
        10,
        "--animation",
        "orbit",
    )
    assert code == 0, err
    assert listing(tmp_path) == ["out.gif"]
    frames = iio.imread(path)
    assert frames.shape[:3] == (5, 120, 160)
    assert iio.immeta(path, index=1)["duration"] == pytest.approx(100, abs=10)
    assert changed_fraction(frames[0][..., :3], frames[2][..., :3]) > 0.02


def test_png_sequence_output(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "render",
        "--left",
        A_LIT,
        "--right",
        B_LIT,
        "-o",
        tmp_path / "f.png",
        *SMALL,
        "--frames",
        3,
        "--animation",
        "sweep",
    )
    assert code == 0, err
    assert listing(tmp_path) == ["f_0000.png", "f_0001.png", "f_0002.png"]
    for name in listing(tmp_path):
        assert_drawn(iio.imread(tmp_path / name))


def test_output_directories_are_created(capsys, tmp_path):
    path = tmp_path / "new" / "deeper" / "x.png"
    code, _, err = run(capsys, "render", "--left", A_LIT, "--right", B_LIT, "-o", path, *SMALL)
    assert code == 0, err
    assert path.is_file()


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("argv", [["--help"], ["render", "--help"]])
def test_help_exits_0_and_shows_examples(argv):
    proc = subprocess.run([sys.executable, "-m", "matviz", *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "examples:" in proc.stdout
    assert "matviz render --left" in proc.stdout


# ---------------------------------------------------------------- errors: one line, exit 2, nothing left


def test_error_inner_dimensions(capsys, tmp_path, monkeypatch):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", "[[1,2],[3,4]]")
    assert "2×3" in line and "2×2" in line
    assert "columns" in line and "rows" in line


def test_error_nan(capsys, tmp_path, monkeypatch):
    a = np.ones((2, 3))
    a[1, 2] = np.nan
    np.save(tmp_path / "a.npy", a)
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "a.npy", "--right", B_LIT)
    assert "NaN" in line and "[1, 2]" in line and "a" in line


def test_error_inf(capsys, tmp_path, monkeypatch):
    b = np.ones((3, 2))
    b[2, 0] = -np.inf
    np.save(tmp_path / "b.npy", b)
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", "b.npy")
    assert "Inf" in line and "[2, 0]" in line


def test_error_empty_array(capsys, tmp_path, monkeypatch):
    np.save(tmp_path / "e.npy", np.zeros((0, 3)))
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "e.npy", "--right", B_LIT)
    assert "empty" in line and "(0, 3)" in line


def test_error_1d_array(capsys, tmp_path, monkeypatch):
    np.save(tmp_path / "v.npy", np.arange(5.0))
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "v.npy", "--right", B_LIT)
    assert "2-D" in line and "(5,)" in line


def test_error_not_an_image(capsys, tmp_path, monkeypatch):
    (tmp_path / "x.png").write_bytes(b"\x00\x01 definitely not a png " * 8)
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "x.png", "--right", B_LIT)
    assert "x.png" in line and "image" in line


def test_error_not_an_array(capsys, tmp_path, monkeypatch):
    (tmp_path / "x.csv").write_text("hello\n")
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "x.csv", "--right", B_LIT)
    assert "x.csv" in line


def test_error_image_does_not_exist(capsys, tmp_path, monkeypatch):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "missing.png", "--right", B_LIT)
    assert "missing.png" in line and "no such file" in line


def test_error_output_parent_is_a_file(capsys, tmp_path, monkeypatch):
    (tmp_path / "file.txt").write_text("a file, not a directory")
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, output="file.txt/out.png")
    assert "file.txt" in line


def test_error_unknown_output_extension(capsys, tmp_path, monkeypatch):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, output="out.xyz")
    assert ".xyz" in line


def test_error_missing_right(capsys, tmp_path, monkeypatch):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT)
    assert "--right" in line


def test_error_missing_output(capsys, tmp_path, monkeypatch):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, output=None)
    assert "-o" in line or "--output" in line


@pytest.mark.parametrize("size", ["12xfoo", "0x0", "160x120x3", "abc", "8x8"])
def test_error_malformed_size(capsys, tmp_path, monkeypatch, size):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, "--size", size)
    assert "--size" in line


@pytest.mark.parametrize("cell", ["1;0", "1", "a,b", "1,2,3"])
def test_error_malformed_highlight(capsys, tmp_path, monkeypatch, cell):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, "--highlight", cell)
    assert "--highlight" in line


@pytest.mark.parametrize("cell", ["2,0", "0,2", "-1,0"])
def test_error_highlight_outside_result(capsys, tmp_path, monkeypatch, cell):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, f"--highlight={cell}")
    assert "highlight" in line and "2×2" in line


def test_error_odd_mp4_size(capsys, tmp_path, monkeypatch):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, "--size", "161x121")
    assert "161x121" in line and "even" in line


def test_error_operand_too_large_names_the_limit(capsys, tmp_path, monkeypatch):
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "random:9000x9000", "--right", "eye:9000")
    assert "67,108,864" in line and "smaller shape" in line


def test_error_result_too_large_names_max_side(capsys, tmp_path, monkeypatch):
    """Tiny operands whose product would have 9000×9000 > 2**26 elements: refused before any work."""
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", "random:9000x1", "--right", "random:1x9000")
    assert "--max-side" in line and "9000×9000" in line


def test_error_empty_csv_is_one_line(tmp_path):
    """Run as a subprocess: in-process, pytest would swallow a Python warning printed on stderr."""
    (tmp_path / "empty.csv").write_text("")
    before = listing(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "matviz", "render", "--left", "empty.csv", "--right", "eye:2", "-o", "out.png"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("matviz: error:"), proc.stderr
    assert "empty" in lines[0]
    assert listing(tmp_path) == before


def test_large_problem_is_aggregated_not_materialized(tmp_path):
    """600×600 @ 600×600 has 216 M products (1.7 GB as float64): drawn as exact block means."""
    out = tmp_path / "big.png"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, re; from matviz.cli import main; code = main(sys.argv[1:]); "  # VmHWM: this process's own
            "print(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1]); sys.exit(code)",  # peak (ru_maxrss
            # also counts the parent's peak, inherited across fork/exec)
            "render",
            "--left",
            "uniform:600x600",  # non-negative: the still's faces are coloured, not the pale middle of RdBu
            "--right",
            "uniform:600x600:seed=1",
            "--budget",
            "1000",
            "-o",
            str(out),
            *SMALL,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("matviz: note:")]
    assert any("block" in line for line in notes), proc.stderr
    assert_drawn(iio.imread(out))
    peak_mib = int(proc.stdout.split()[-1]) / 1024  # VmHWM is in kB
    assert peak_mib < 1200  # far below the 1650 MiB the full cube alone would take


# ---------------------------------------------------------------- interrupts and real exit codes


@pytest.mark.parametrize("name", ["out.mp4", "out.gif"])
def test_keyboard_interrupt_returns_130_and_leaves_nothing(capsys, tmp_path, monkeypatch, name):
    original = offscreen.screenshot
    calls = [0]

    def interrupted(plotter):
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt
        return original(plotter)

    monkeypatch.setattr(offscreen, "screenshot", interrupted)
    code, _, err = run(
        capsys, "render", "--left", A_LIT, "--right", B_LIT, "-o", tmp_path / name, *SMALL, "--frames", 6
    )
    assert code == 130
    assert calls[0] == 3  # interrupted mid-render, after frames were written
    assert "Traceback" not in err
    assert "interrupted" in err
    assert listing(tmp_path) == []


def test_keyboard_interrupt_from_export_returns_130(capsys, tmp_path, monkeypatch):
    from matviz.animate import export

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "export", interrupted)
    code, _, err = run(capsys, "render", "--left", A_LIT, "--right", B_LIT, "-o", tmp_path / "x.mp4", *SMALL)
    assert code == 130
    assert listing(tmp_path) == []


def test_subprocess_success_exit_code(tmp_path):
    out = tmp_path / "ab.mp4"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "matviz",
            "render",
            "--left",
            A_LIT,
            "--right",
            B_LIT,
            "--highlight",
            "1,0",
            "-o",
            str(out),
            *SMALL,
            "--frames",
            "6",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == 6
    assert listing(tmp_path) == ["ab.mp4"]


def test_subprocess_error_exit_code(tmp_path):
    out = tmp_path / "ab.png"
    proc = subprocess.run(
        [sys.executable, "-m", "matviz", "render", "--left", A_LIT, "--right", "[[1,2],[3,4]]", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("matviz: error:")
    assert "Traceback" not in proc.stderr
    assert listing(tmp_path) == []


def test_subprocess_argparse_error_exit_code(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "matviz", "render", "--left", A_LIT, "--right", B_LIT, "--size", "wide", "-o", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("matviz: error:") and "--size" in lines[0]
    assert listing(tmp_path) == []


# ---------------------------------------------------------------- expressions (--set) and real model heads

ATTN = "softmax(Q @ K.T / sqrt(d)) @ V"
SENTENCE = "The cat sat on the mat because it was tired"


def qkv_files(tmp_path, seq: int = 6, d: int = 4, k_shape=None) -> dict[str, np.ndarray]:
    """Q, K, V (seq×d, seeded) saved as q.npy, k.npy, v.npy in ``tmp_path``; ``k_shape`` overrides K's."""
    rng = np.random.default_rng(11)
    mats = {"Q": rng.standard_normal((seq, d)), "K": rng.standard_normal(k_shape or (seq, d))}
    mats["V"] = rng.standard_normal((seq, d))
    for name, m in mats.items():
        np.save(tmp_path / f"{name.lower()}.npy", m)
    return mats


def sets(tmp_path, *names) -> list[str]:
    return [a for n in names for a in ("--set", f"{n}={tmp_path / (n.lower() + '.npy')}")]


def numpy_attention(q, k, v) -> np.ndarray:
    s = q @ k.T / np.sqrt(q.shape[1])
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)) @ v


def fails(capsys, tmp_path, monkeypatch, *argv, n_lines: int = 1) -> list[str]:
    """``matviz ARGV`` (run in tmp_path) exits 2 with a ``matviz: error:`` message of ``n_lines``
    lines, no traceback, and leaves nothing new in tmp_path. Returns the message's lines."""
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == n_lines, err
    assert lines[0].startswith("matviz: error:")
    assert listing(tmp_path) == before  # no output file, no temp file
    return lines


def assert_caret(lines: list[str], text: str, start: int, width: int) -> None:
    """An expression error's last two lines: the expression, then ``^`` under columns start..start+width."""
    assert lines[1] == f"  {text}", lines
    assert lines[2] == "  " + " " * start + "^" * width, f"caret at the wrong place:\n{lines[1]}\n{lines[2]}"


def test_expression_binds_set_operands(tmp_path):
    mats = qkv_files(tmp_path)
    chain = scene_for(ATTN, *sets(tmp_path, "Q", "K", "V"))
    assert len(chain.cubes) == 2
    np.testing.assert_allclose(chain.cubes[0].left.values, mats["Q"])
    np.testing.assert_allclose(chain.cubes[0].right.values, mats["K"].T)
    np.testing.assert_allclose(chain.result.values, numpy_attention(mats["Q"], mats["K"], mats["V"]), atol=1e-12)


def test_render_expression_png(capsys, tmp_path):
    qkv_files(tmp_path)
    img, err = render_ok(capsys, tmp_path, ATTN, *sets(tmp_path, "Q", "K", "V"), out="x.png", size=(320, 240))
    assert (tmp_path / "x.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "d = 4" in err  # the note on the defaulted d: the head size


def test_render_expression_mp4(capsys, tmp_path):
    qkv_files(tmp_path)
    path = tmp_path / "x.mp4"
    code, _, err = run(
        capsys, "render", ATTN, *sets(tmp_path, "Q", "K", "V"), "-o", path, "--frames", 12, "--size", "320x240"
    )
    assert code == 0, err
    assert "Traceback" not in err
    n, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert n == 12
    first = iio.imread(path, index=0)
    assert first.shape == (240, 320, 3)
    frames = iio.imread(path)
    assert frames.shape == (12, 240, 320, 3)
    assert_drawn(first, (320, 240))
    for i in range(11):
        assert changed_fraction(frames[i], frames[i + 1]) > 0.002, f"frames {i} and {i + 1} are the same"
    assert changed_fraction(frames[0], frames[-1]) > 0.05


def test_attention_head_mp4_of_the_real_model(capsys, tmp_path):
    path = tmp_path / "head.mp4"
    code, _, err = run(
        capsys, "attention", SENTENCE, "--layer", 3, "--head", 5, "-o", path, "--frames", 10, "--size", "320x240"
    )
    assert code == 0, err
    assert "Traceback" not in err and "error" not in err
    assert listing(tmp_path) == ["head.mp4"]
    n, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert n == 10
    frames = iio.imread(path)
    assert frames.shape == (10, 240, 320, 3)
    assert_drawn(frames[-1], (320, 240))
    assert changed_fraction(frames[0], frames[-1]) > 0.05


def test_attention_all_heads_is_a_grid_png(capsys, tmp_path):
    """--head all draws one flat heatmap per head on one scale; the grid passes the audit."""
    path = tmp_path / "heads.png"
    code, _, err = run(capsys, "attention", SENTENCE, "--layer", 0, "--head", "all", "-o", path, "--size", "640x360")
    assert code == 0, err
    img = iio.imread(path)[..., :3]
    assert img.shape == (360, 640, 3)
    assert_drawn(img, (640, 360))
    code, _, err = run(capsys, "attention", SENTENCE, "--layer", 0, "--head", "all", "--audit", "--size", "1280x720")
    assert code == 0, err
    assert "0 violation(s)" in err


def test_error_expression_syntax(capsys, tmp_path, monkeypatch):
    qkv_files(tmp_path)
    text = "softmax(Q @ K.T / sqrt(d) @ V"  # the first ( is never closed
    lines = fails(
        capsys, tmp_path, monkeypatch, "render", text, *sets(tmp_path, "Q", "K", "V"), "-o", "x.png", n_lines=3
    )
    assert "syntax" in lines[0] and "never closed" in lines[0]
    assert_caret(lines, text, text.index("("), 1)


def test_error_expression_doubled_operator(capsys, tmp_path, monkeypatch):
    qkv_files(tmp_path)
    text = "Q @ @ K"
    lines = fails(capsys, tmp_path, monkeypatch, "render", text, *sets(tmp_path, "Q", "K"), "-o", "x.png", n_lines=3)
    assert "syntax" in lines[0]
    assert_caret(lines, text, text.rindex("@"), 1)


def test_error_expression_unknown_name(capsys, tmp_path, monkeypatch):
    qkv_files(tmp_path)
    lines = fails(capsys, tmp_path, monkeypatch, "render", ATTN, *sets(tmp_path, "Q", "K"), "-o", "x.png", n_lines=3)
    assert "unknown name V" in lines[0] and "--set V=" in lines[0]
    assert_caret(lines, ATTN, ATTN.rindex("V"), 1)


def test_error_expression_shape_mismatch(capsys, tmp_path, monkeypatch):
    qkv_files(tmp_path, k_shape=(5, 3))
    lines = fails(
        capsys, tmp_path, monkeypatch, "render", ATTN, *sets(tmp_path, "Q", "K", "V"), "-o", "x.png", n_lines=3
    )
    assert "6×4" in lines[0] and "3×5" in lines[0]  # Q, and K.T of a 5×3 K
    assert_caret(lines, ATTN, ATTN.index("Q @ K.T"), len("Q @ K.T"))


def test_error_expression_unknown_softmax_axis(capsys, tmp_path, monkeypatch):
    qkv_files(tmp_path)
    text = "softmax(Q @ K.T, diagonal) @ V"
    lines = fails(
        capsys, tmp_path, monkeypatch, "render", text, *sets(tmp_path, "Q", "K", "V"), "-o", "x.png", n_lines=3
    )
    assert "axis" in lines[0] and "diagonal" in lines[0] and "rows" in lines[0] and "cols" in lines[0]
    assert_caret(lines, text, text.index("diagonal"), len("diagonal"))


def test_error_malformed_set(capsys, tmp_path, monkeypatch):
    qkv_files(tmp_path)
    lines = fails(capsys, tmp_path, monkeypatch, "render", "Q @ K.T", "--set", "Q", *sets(tmp_path, "K"), "-o", "x.png")
    assert "--set" in lines[0] and "NAME=SPEC" in lines[0] and "'Q'" in lines[0]


def test_error_set_without_expression(capsys, tmp_path, monkeypatch):
    qkv_files(tmp_path)
    lines = fails(capsys, tmp_path, monkeypatch, "render", *sets(tmp_path, "Q"), "-o", "x.png")
    assert "--set" in lines[0] and "expression" in lines[0]


@pytest.mark.parametrize(
    "flag, value, needles",
    [("--layer", "6", ("layer 6", "0-5")), ("--head", "12", ("head 12", "0-11")), ("--layer", "-1", ("0-5",))],
)
def test_error_layer_or_head_out_of_range(capsys, tmp_path, monkeypatch, flag, value, needles):
    lines = fails(capsys, tmp_path, monkeypatch, "attention", "The cat", f"{flag}={value}", "-o", "x.png")
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("text", ["", "   "])
def test_error_empty_text(capsys, tmp_path, monkeypatch, text):
    lines = fails(capsys, tmp_path, monkeypatch, "attention", text, "-o", "x.png")
    assert "empty" in lines[0]


def test_error_model_not_available_offline(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = "nonexistent-org/nonexistent-model"
    lines = fails(capsys, tmp_path, monkeypatch, "attention", "The cat", "--model", model, "-o", "x.png")
    assert model in lines[0] and "cache" in lines[0]


def test_text_longer_than_the_model_is_truncated_with_a_note(capsys, tmp_path):
    words = ("the cat sat on the mat because it was tired and then it slept " * 50).split()[:600]
    assert len(words) == 600
    path = tmp_path / "long.png"
    code, _, err = run(capsys, "attention", " ".join(words), "-o", path, "--size", "320x240")
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("matviz: note:")]
    assert any("512" in line for line in notes), err
    assert_drawn(iio.imread(path), (320, 240))


TORCH_BLOCKED = """
import importlib.abc, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
from matviz.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_error_torch_not_installed(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", TORCH_BLOCKED, "attention", "The cat", "-o", str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("matviz: error:"), proc.stderr
    assert "torch" in lines[0] and "matviz3d[models]" in lines[0]
    assert listing(tmp_path) == []


def test_error_show_attention_grid(capsys, tmp_path, monkeypatch):
    """A fake DISPLAY passes the display check; the grid is refused before any window opens."""
    monkeypatch.setenv("DISPLAY", "fakehost:0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    lines = fails(capsys, tmp_path, monkeypatch, "show", "--attention", "The cat", "--layer", 0, "--head", "all")
    assert "one head" in lines[0] and "--head" in lines[0]


# ---------------------------------------------------------------- flags a mode ignores are errors


SCRIPT = str(REPO / "matviz" / "scenes" / "textbook.py")


@pytest.mark.parametrize(
    "argv, flag",
    [
        # an expression builds its operands from --set: operand transforms and --aggregate do nothing
        (["A @ B", "--set", "A=eye:2", "--set", "B=eye:2", "--left-transform", "minmax"], "--left-transform"),
        (["A @ B", "--set", "A=eye:2", "--set", "B=eye:2", "--right-transform", "softmax-cols"], "--right-transform"),
        (["A @ B", "--set", "A=eye:2", "--set", "B=eye:2", "--temperature", "0.5"], "--temperature"),
        (["A @ B", "--set", "A=eye:2", "--set", "B=eye:2", "--aggregate", "sum"], "--aggregate"),
        # a scene script builds its own scene: every scene flag does nothing
        ([SCRIPT, "--highlight", "1,0"], "--highlight"),
        ([SCRIPT, "--budget", "100"], "--budget"),
        ([SCRIPT, "--interior", "none"], "--interior"),
        ([SCRIPT, "--numbers"], "--numbers"),
        ([SCRIPT, "--title", "T"], "--title"),
        ([SCRIPT, "--resize", "4x4"], "--resize"),
        ([SCRIPT, "--max-side", "4"], "--max-side"),
        ([SCRIPT, "--set", "A=eye:2"], "--set"),
        ([SCRIPT, "--left", A_LIT], "--left"),
        # --left/--right take no --set
        (["--left", A_LIT, "--right", B_LIT, "--set", "A=eye:2"], "--set"),
    ],
)
def test_error_flag_ignored_by_the_mode(capsys, tmp_path, monkeypatch, argv, flag):
    line = assert_fails(capsys, tmp_path, monkeypatch, *argv, output="x.png")
    assert line.startswith(f"matviz: error: {flag} has no effect"), line


def test_flags_a_mode_honours_pass_the_check():
    """The allow-list does not reject what a mode uses (the values reach the scene)."""
    scene = scene_for("--left", A_LIT, "--right", B_LIT, "--left-transform", "minmax", "--aggregate", "sum")
    assert scene.aggregate == "sum" and scene.left.values.max() == 1.0
    chain = scene_for("A @ B", "--set", f"A={A_LIT}", "--set", f"B={B_LIT}", "--highlight", "1,0", "--title", "T")
    assert chain.style.highlight == (1, 0) and chain.title == "T"


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--highlight", "1,0"], "--highlight"),
        (["--budget", "100"], "--budget"),
        (["--interior", "volume"], "--interior"),
        (["--numbers"], "--numbers"),
        (["--title", "T"], "--title"),
        (["--resize", "4x4"], "--resize"),
        (["--left-transform", "minmax"], "--left-transform"),
        (["--set", "A=eye:2"], "--set"),
        (["--left", A_LIT], "--left"),
    ],
)
def test_error_show_attention_rejects_scene_flags(capsys, tmp_path, monkeypatch, extra, flag):
    """``show --attention`` takes only the model flags; scene flags would be silently dropped."""
    monkeypatch.setenv("DISPLAY", "fakehost:0")  # passes the display check; the error comes before any window
    lines = fails(capsys, tmp_path, monkeypatch, "show", "--attention", "The cat", *extra)
    assert lines[0].startswith(f"matviz: error: {flag} has no effect with --attention"), lines[0]


def test_error_show_model_flags_without_attention(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DISPLAY", "fakehost:0")
    lines = fails(capsys, tmp_path, monkeypatch, "show", "--left", A_LIT, "--right", B_LIT, "--layer", "3")
    assert lines[0].startswith("matviz: error: --layer has no effect with --left/--right"), lines[0]


def test_the_allow_list_covers_every_scene_flag():
    """Each scene or model flag of ``render``/``show`` is in the table, so none can be silently ignored."""
    from matviz.cli.common import MODES, SCENE_FLAGS

    parser = build_parser()
    show = parser._subparsers._group_actions[0].choices["show"]  # argparse keeps subparsers here
    view = {"help", "size", "animation", "duration", "attention", "scene"}
    dests = {a.dest for a in show._actions} - view
    assert dests == set(SCENE_FLAGS)
    for _, allowed in MODES.values():
        assert allowed <= set(SCENE_FLAGS)


def test_help_texts_come_from_the_constants(capsys):
    from matviz.animate.timeline import TIMELINES
    from matviz.scene import INTERIORS, NUMBERS_MAX_SIDE

    code, out, _ = run(capsys, "render", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert f"when every side is at most {NUMBERS_MAX_SIDE})" in text
    assert "{" + ",".join(INTERIORS) + "}" in text
    assert "{" + ",".join(TIMELINES) + "}" in text


@pytest.mark.parametrize("command", ["render", "attention", "demo", "gallery"])
def test_output_options_are_shared(command):
    """``_output_args``: every command that writes files takes -o, --fps (and the video length)."""
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    flags = {s for a in sub._actions for s in a.option_strings}
    assert {"-o", "--output", "--fps", "--duration", "--size"} <= flags
    if command in ("render", "attention"):
        assert {"--frames", "--audit", "--json", "--animation"} <= flags


def test_error_frames_names_the_flag(capsys, tmp_path, monkeypatch):
    """The library names a parameter as data (``frames``); the CLI tells the user the flag they typed."""
    from matviz.cli import flag
    from matviz.errors import OptionError, param

    exc = OptionError(f"{param('frames')} must be >= 1, got 0; choose another {param('out')}")
    assert str(exc) == "frames must be >= 1, got 0; choose another out" and exc.params == ("frames", "out")
    assert exc.say(flag) == "--frames must be >= 1, got 0; choose another -o"
    assert flag("max_side") == "--max-side" and flag("from_token") == "--from"
    (tmp_path / "file.txt").write_text("x")
    line = assert_fails(capsys, tmp_path, monkeypatch, "--left", A_LIT, "--right", B_LIT, output="file.txt/out.png")
    assert line.endswith("choose another -o")


# ---------------------------------------------------------------- --audit (the plumbing; the audit has its own tests)


def _fake_audit(monkeypatch, violating_frames=()):
    """Replace the real audit with one that flags ``violating_frames`` (indices into the states)."""
    import matviz.graphics.audit as audit

    calls = []

    def audit_frames(scene, states, size=(1280, 720), *, still=None):  # the real signature
        calls.append((scene, list(states), tuple(size)))
        reports = []
        for i, _ in enumerate(states):
            bad = [audit.Violation("text_overlap", f"text 'A' overlaps 'B' in state {i}")] if i in violating_frames else []
            reports.append(audit.Report(size=tuple(size), frame=i, violations=bad))
        return reports

    monkeypatch.setattr(audit, "audit_frames", audit_frames)
    return calls


def test_audit_with_a_violation_exits_1_and_prints_json(capsys, tmp_path, monkeypatch):
    import json

    from matviz.animate.timeline import make_timeline

    calls = _fake_audit(monkeypatch, violating_frames={0})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "render", "--left", A_LIT, "--right", B_LIT, "--audit", "--json", "--size", "640x360")
    assert code == 1, err
    data = json.loads(out)
    assert list(data) == ["frames"] and len(data["frames"]) == 1
    frame = data["frames"][0]
    assert frame["frame"] is None  # the default still
    assert frame["size"] == [640, 360]
    assert frame["violations"] == [{"rule": "text_overlap", "message": "text 'A' overlaps 'B' in state 0"}]
    assert {"faces", "texts", "legends"} <= set(frame)
    (scene, states, size), = calls
    assert size == (640, 360) and states == make_timeline("still", scene).sample(1)  # the default still
    assert listing(tmp_path) == [] and "Traceback" not in err


def test_audit_lines_name_frame_rule_and_message(capsys, tmp_path, monkeypatch):
    _fake_audit(monkeypatch, violating_frames={1, 3})
    code, out, err = run(
        capsys, "render", "--left", A_LIT, "--right", B_LIT, "--audit", "--animation", "sweep", "--frames", 4
    )
    assert code == 1 and out == ""
    lines = [line for line in err.splitlines() if ": text_overlap: " in line]
    assert lines == [
        "frame 1: text_overlap: text 'A' overlaps 'B' in state 1",
        "frame 3: text_overlap: text 'A' overlaps 'B' in state 3",
    ]


def test_audit_without_violations_exits_0_and_writes_nothing(capsys, tmp_path, monkeypatch):
    calls = _fake_audit(monkeypatch)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "render", "--left", A_LIT, "--right", B_LIT, "--audit")
    assert code == 0, err
    assert listing(tmp_path) == []  # -o is optional with --audit and nothing is written
    assert len(calls) == 1 and calls[0][2] == (1280, 720)


def test_audit_frames_are_sampled_over_the_animation(capsys, tmp_path, monkeypatch):
    from matviz.animate.timeline import make_timeline

    calls = _fake_audit(monkeypatch)
    code, _, err = run(capsys, "render", "--left", A_LIT, "--right", B_LIT, "--audit", "--frames", 5)
    assert code == 0, err
    scene, states, _ = calls[-1]
    assert states == make_timeline("sweep", scene).sample(5)  # the animation (default sweep), evenly
    code, _, err = run(capsys, "render", "--left", A_LIT, "--right", B_LIT, "--audit", "--animation", "orbit")
    assert code == 0, err
    scene, states, _ = calls[-1]
    assert states == make_timeline("orbit", scene).sample(12)  # --animation without --frames: 12 frames
    code, _, err = run(capsys, "render", "--left", A_LIT, "--right", B_LIT, "--audit", "--duration", "2", "--frames", 3)
    assert calls[-1][1] == make_timeline("sweep", calls[-1][0], 2.0).sample(3)


def test_audit_of_one_attention_head(capsys, tmp_path, monkeypatch):
    import json

    calls = _fake_audit(monkeypatch)
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "attention", "The cat sat", "--layer", 1, "--head", 2, "--audit", "--json")
    assert code == 0, err
    assert len(json.loads(out)["frames"]) == 1 and len(calls[0][0].cubes) == 2
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--audit", "-o", "x.png"], "-o has no effect with --audit"),
        (["--json", "-o", "x.png"], "--json"),
    ],
)
def test_error_audit_arguments(capsys, tmp_path, monkeypatch, argv, needle):
    _fake_audit(monkeypatch)
    lines = fails(capsys, tmp_path, monkeypatch, "render", "--left", A_LIT, "--right", B_LIT, *argv)
    assert needle in lines[0]


def test_audit_of_a_grid_of_heads_audits_the_grid(capsys, tmp_path, monkeypatch):
    """A grid of heads is one picture (flat heatmaps on one scale): --audit measures that picture."""
    calls = _fake_audit(monkeypatch)
    code, _, err = run(capsys, "attention", "The cat", "--head", "0,1", "--audit")
    assert code == 0, err
    assert len(calls) == 1 and isinstance(calls[0][0], list) and len(calls[0][0]) == 2


def _write_scenes(tmp_path) -> Path:
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "one.py").write_text(f"import matviz as mv\n\ndef build():\n    return mv.matmul({A_LIT}, {B_LIT})\n")
    (scenes / "two.py").write_text(f"import matviz as mv\n\ndef build():\n    return mv.expr('softmax(A @ B)', A={A_LIT}, B={B_LIT})\n")
    return scenes


def test_gallery_audit_checks_stills_and_every_12th_sweep_frame_at_each_size(capsys, tmp_path, monkeypatch):
    from matviz.animate.export import frame_count

    calls = _fake_audit(monkeypatch, violating_frames={2})
    scenes = _write_scenes(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    code, out, err = run(capsys, "gallery", "--scenes", scenes, "--audit", "--fps", 10, "--duration", 3)
    assert code == 1, err
    assert listing(tmp_path) == before  # no gallery/ written
    n = frame_count("sweep", 10, None, 3.0, 3.0)
    assert n == 30
    assert [c[2] for c in calls] == [(1280, 720), (960, 540)] * 2
    for scene, states, _ in calls:
        from matviz.animate.timeline import make_timeline

        assert states[0] == make_timeline("still", scene).sample(1)[0]
        assert states[1:] == make_timeline("sweep", scene, 3.0).sample(n)[::12]  # frames 0, 12, 24
    bad = [line for line in err.splitlines() if "text_overlap" in line]
    assert bad[0] == "one 1280x720 frame 12: text_overlap: text 'A' overlaps 'B' in state 2"
    assert len(bad) == 4  # state 2 (frame 12) of each scene at each size


def test_gallery_audit_sizes_and_clean_exit(capsys, tmp_path, monkeypatch):
    import json

    calls = _fake_audit(monkeypatch)
    scenes = _write_scenes(tmp_path)
    code, out, err = run(capsys, "gallery", "--scenes", scenes, "--audit", "--audit-sizes", "320x240", "--json")
    assert code == 0, err
    assert [c[2] for c in calls] == [(320, 240)] * 2
    frames = json.loads(out)["frames"]
    assert {f["scene"] for f in frames} == {"one", "two"} and all(f["size"] == [320, 240] for f in frames)


@pytest.mark.parametrize("argv", [["--audit-sizes", "320x240"], ["--json"], ["--audit", "-o", "elsewhere"]])
def test_error_gallery_audit_arguments(capsys, tmp_path, monkeypatch, argv):
    calls = _fake_audit(monkeypatch)
    scenes = _write_scenes(tmp_path)
    fails(capsys, tmp_path, monkeypatch, "gallery", "--scenes", scenes, *argv)
    assert calls == []


def test_matviz_audit_is_the_api(monkeypatch):
    import matviz

    calls = _fake_audit(monkeypatch)
    scene = matviz.matmul(A, B)
    report = matviz.audit(scene, size=(320, 240))
    assert "audit" in matviz.__all__
    assert report.ok and report.frame is None
    assert calls[0][1] == [None] and calls[0][2] == (320, 240)
