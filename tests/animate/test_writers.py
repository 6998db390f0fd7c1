"""matviz.animate.writers: PNG / PNG sequence / GIF / MP4 writers, read back; atomic on error."""

from __future__ import annotations


import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

from matviz.animate import writers
from matviz.animate.writers import AtomicFiles, atomic_write, check_output, check_output_dir, open_writer
from matviz.errors import OutputError
from _helpers import listing

W, H = 64, 48
COLOURS = np.array(
    [  # one distinct, well-separated colour per frame
        (230, 30, 30),
        (30, 200, 40),
        (40, 60, 220),
        (240, 220, 40),
        (200, 40, 210),
        (40, 210, 210),
        (250, 250, 250),
        (20, 20, 20),
    ],
    dtype=np.uint8,
)


def synthetic(n: int) -> list[np.ndarray]:
    """``n`` frames of (H, W, 3) uint8, frame f filled with COLOURS[f] plus a small marker."""
    frames = []
    for f in range(n):
        img = np.empty((H, W, 3), np.uint8)
        img[:] = COLOURS[f % len(COLOURS)]
        img[:4, :4] = 255 - COLOURS[f % len(COLOURS)]  # top-left marker: frames are not all flat
        frames.append(img)
    return frames


def mean_colour(frame: np.ndarray) -> np.ndarray:
    return frame[8:, 8:, :3].reshape(-1, 3).mean(axis=0)  # away from the marker


def write(path, frames, fps=10.0):
    with open_writer(path, fps, len(frames)) as writer:
        for frame in frames:
            writer.write_frame(frame)
    return writer


# ---------------------------------------------------------------- round trips


def test_png_single_frame_round_trip(tmp_path):
    (frame,) = synthetic(1)
    path = tmp_path / "still.png"
    writer = write(path, [frame])
    assert listing(tmp_path) == ["still.png"]
    assert [p.resolve() for p in writer.paths] == [path.resolve()]
    back = iio.imread(path)
    assert back.shape[:2] == (H, W)
    assert np.array_equal(back[..., :3], frame)  # PNG is lossless


def test_png_sequence_is_numbered(tmp_path):
    frames = synthetic(5)
    path = tmp_path / "seq.png"
    writer = write(path, frames)
    expected = [f"seq_{i:04d}.png" for i in range(5)]
    assert listing(tmp_path) == expected  # no un-numbered seq.png, no temp files
    assert [p.name for p in writer.paths] == expected
    for name, frame in zip(expected, frames):
        assert np.array_equal(iio.imread(tmp_path / name)[..., :3], frame)


@pytest.mark.parametrize("fps", [10.0, 8.0])
def test_gif_round_trip(tmp_path, fps):
    frames = synthetic(6)
    path = tmp_path / "anim.gif"
    write(path, frames, fps)
    assert listing(tmp_path) == ["anim.gif"]
    back = iio.imread(path)  # (n, H, W, 3)
    assert back.shape[0] == len(frames)
    assert back.shape[1:3] == (H, W)
    for f, frame in enumerate(frames):
        assert np.allclose(mean_colour(back[f]), mean_colour(frame), atol=3)
        duration = iio.immeta(path, index=f)["duration"]  # ms; GIF stores centiseconds
        assert duration == pytest.approx(1000.0 / fps, abs=10)
    assert iio.immeta(path)["loop"] == 0


def test_identical_frames_are_all_kept_in_mp4(tmp_path):
    """A still exported with --frames 4 has 4 frames in an MP4."""
    frame = synthetic(1)[0]
    path = tmp_path / "same.mp4"
    write(path, [frame] * 4, fps=10)
    assert imageio_ffmpeg.count_frames_and_secs(str(path))[0] == 4


def test_gif_plays_every_written_frame_for_its_time(tmp_path):
    """Pillow merges a frame identical to the one before it (adding the durations), so a GIF may
    hold fewer frames than written; what it shows at every instant must still be the frame that
    was written for that instant, and the total length must be n / fps."""
    a, b, c = synthetic(3)
    written = [a, a, b, b, b, c]
    fps = 10.0
    path = tmp_path / "runs.gif"
    write(path, written, fps=fps)
    back = iio.imread(path)
    durations = [iio.immeta(path, index=f)["duration"] for f in range(back.shape[0])]
    assert sum(durations) == pytest.approx(len(written) * 1000.0 / fps, abs=10)
    ends = np.cumsum(durations)
    for w, frame in enumerate(written):
        t = (w + 0.5) * 1000.0 / fps  # the middle of written frame w
        shown = back[int(np.searchsorted(ends, t, side="right"))]
        assert np.allclose(mean_colour(shown), mean_colour(frame), atol=3), w


@pytest.mark.parametrize("fps", [10.0, 24.0])
def test_mp4_round_trip(tmp_path, fps):
    frames = synthetic(8)
    path = tmp_path / "anim.mp4"
    write(path, frames, fps)
    assert listing(tmp_path) == ["anim.mp4"]
    n, _secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert n == len(frames)
    meta = iio.immeta(path)
    assert meta["codec"] == "h264"
    assert meta["fps"] == pytest.approx(fps)
    assert tuple(meta["size"]) == (W, H)
    back = iio.imread(path)
    assert back.shape == (len(frames), H, W, 3)
    means = np.array([mean_colour(f) for f in back])
    assert np.allclose(means, [mean_colour(f) for f in frames], atol=12)  # lossy, but close
    assert np.all(np.abs(np.diff(means, axis=0)).max(axis=1) > 50)  # consecutive frames differ


def test_output_appears_only_on_close(tmp_path):
    path = tmp_path / "x.mp4"
    with open_writer(path, 10, 3) as writer:
        for frame in synthetic(3):
            writer.write_frame(frame)
        assert not path.exists()  # written to a temp file first, renamed on close
    assert path.exists() and [p.name for p in writer.paths] == ["x.mp4"]
    assert listing(tmp_path) == ["x.mp4"]


def test_uppercase_suffix_is_accepted(tmp_path):
    path = tmp_path / "SHOUT.PNG"
    write(path, synthetic(1))
    assert listing(tmp_path) == ["SHOUT.PNG"]
    assert iio.imread(path, extension=".png").shape[:2] == (H, W)


# ---------------------------------------------------------------- atomicity


@pytest.mark.parametrize("name,n", [("a.png", 1), ("seq.png", 4), ("a.gif", 4), ("a.mp4", 4)])
@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_error_inside_with_leaves_nothing(tmp_path, name, n, exc):
    out = tmp_path / "out"
    out.mkdir()
    frames = synthetic(n)
    with pytest.raises(exc):
        with open_writer(out / name, 10, n) as writer:
            writer.write_frame(frames[0])
            if n > 2:
                writer.write_frame(frames[1])
            raise exc("stop")
    assert listing(out) == []  # no output file, no hidden temp file


@pytest.mark.parametrize("name", ["a.gif", "a.mp4", "a.png"])
def test_error_before_any_frame_leaves_nothing(tmp_path, name):
    with pytest.raises(ValueError):
        with open_writer(tmp_path / name, 10, 3):
            raise ValueError("before the first frame")
    assert listing(tmp_path) == []


def test_successful_write_leaves_no_temp_files_beside_existing_ones(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    write(tmp_path / "a.gif", synthetic(3))
    write(tmp_path / "a.gif", synthetic(2))  # overwrite in place
    assert listing(tmp_path) == ["a.gif", "keep.txt"]
    assert iio.imread(tmp_path / "a.gif").shape[0] == 2


# ---------------------------------------------------------------- check_output


@pytest.mark.parametrize("name,shown", [("out.xyz", ".xyz"), ("out.jpg", ".jpg"), ("noext", "(none)")])
def test_check_output_unknown_extension(tmp_path, name, shown):
    with pytest.raises(OutputError) as info:
        check_output(tmp_path / name)
    assert shown in str(info.value)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("rel", ["file.txt/out.png", "file.txt/sub/deeper/out.mp4"])
def test_check_output_parent_is_a_regular_file(tmp_path, rel):
    (tmp_path / "file.txt").write_text("not a directory")
    with pytest.raises(OutputError) as info:
        check_output(tmp_path / rel)
    assert "file.txt" in str(info.value)
    assert str(info.value).endswith("choose another path")  # the parameter, not a CLI flag (-o)
    assert info.value.params == ("path",)
    assert listing(tmp_path) == ["file.txt"]
    with pytest.raises(OutputError):
        open_writer(tmp_path / rel, 10, 2)


def test_check_output_creates_missing_parents(tmp_path):
    target = tmp_path / "a" / "b" / "c" / "out.gif"
    assert check_output(target) == target
    assert target.parent.is_dir()
    assert listing(tmp_path) == ["a", "a/b", "a/b/c"]  # the probe file is gone, no output yet
    write(target, synthetic(2))
    assert target.is_file()


def test_check_output_rejects_a_directory(tmp_path):
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(OutputError, match="directory"):
        check_output(tmp_path / "dir.png")


@pytest.mark.parametrize("fps", [0, -5.0])
def test_open_writer_rejects_non_positive_fps(tmp_path, fps):
    with pytest.raises(OutputError, match="fps"):
        open_writer(tmp_path / "a.mp4", fps, 3)
    assert listing(tmp_path) == []


def test_gif_memory_names_the_parameters_not_flags(tmp_path):
    with pytest.raises(OutputError) as info:
        writers.check_gif_memory(10_000, (4000, 4000))
    assert "smaller size or fewer frames/duration" in str(info.value) and "--" not in str(info.value)
    assert info.value.params == ("size", "frames", "duration")


# ---------------------------------------------------------------- atomic files and output directories


def test_atomic_files_appear_together_on_success(tmp_path):
    with AtomicFiles() as files:
        first, second = files.temp(tmp_path / "a.txt"), files.temp(tmp_path / "b.txt")
        first.write_text("a")
        second.write_text("b")
        assert first.name.startswith(".a.partial-") and first.suffix == ".txt"
        assert {first, second} <= writers.LIVE_TEMPS  # registered for signal cleanup
        assert listing(tmp_path) == sorted([first.name, second.name])  # nothing under the final names yet
    assert listing(tmp_path) == ["a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "a" and files.paths == [tmp_path / "a.txt", tmp_path / "b.txt"]
    assert not {first, second} & writers.LIVE_TEMPS


def test_atomic_files_leave_nothing_on_error(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with AtomicFiles() as files:
            files.temp(tmp_path / "a.txt").write_text("new")
            raise RuntimeError("boom")
    assert listing(tmp_path) == ["a.txt"] and (tmp_path / "a.txt").read_text() == "old"


def test_atomic_write_turns_an_os_error_into_one_line(tmp_path):
    def fails(tmp):
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError) as info:
        atomic_write(tmp_path / "x.json", fails)
    assert "no space left" in str(info.value) and "\n" not in str(info.value)
    assert listing(tmp_path) == []
    assert atomic_write(tmp_path / "x.json", lambda tmp: tmp.write_text("{}")) == tmp_path / "x.json"
    assert listing(tmp_path) == ["x.json"]


def test_check_output_dir_creates_nothing_and_names_the_parameter(tmp_path):
    assert check_output_dir(tmp_path / "new" / "run") == tmp_path / "new" / "run"
    assert listing(tmp_path) == []  # checked, not created; the probe is gone
    (tmp_path / "file").write_text("x")
    for bad in (tmp_path / "file", tmp_path / "file" / "run"):
        with pytest.raises(OutputError, match="is a file") as info:
            check_output_dir(bad, "run directory")
        assert str(info.value).endswith("choose another out") and info.value.params == ("out",)
    assert listing(tmp_path) == ["file"]
