"""matviz.export: sample a timeline, render offscreen, write; read the files back."""

from __future__ import annotations


import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

import matviz
import matviz.graphics.offscreen as offscreen
from matviz.animate import writers
from matviz.errors import OutputError
from _helpers import listing

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
B = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])  # (3, 2)
SIZE = (160, 120)  # width, height
N = 8


def changed_fraction(a: np.ndarray, b: np.ndarray, threshold: int = 40) -> float:
    """Fraction of pixels whose colour differs by more than ``threshold`` in some channel."""
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > threshold).mean())


def assert_frames_move(frames: np.ndarray) -> None:
    first, middle, last = frames[0], frames[len(frames) // 2], frames[-1]
    assert changed_fraction(first, middle) > 0.02
    assert changed_fraction(middle, last) > 0.02
    assert changed_fraction(first, last) > 0.02


def assert_not_blank(frame: np.ndarray) -> None:
    colours = np.unique(frame.reshape(-1, frame.shape[-1]), axis=0)
    assert len(colours) > 20  # a drawn scene, not a single (background) colour
    background = frame[0, 0]
    assert (np.abs(frame.astype(int) - background.astype(int)).max(axis=-1) > 40).mean() > 0.05


@pytest.fixture(scope="module")
def scene():
    return matviz.matmul(A, B)


@pytest.fixture(scope="module")
def sweep_files(scene, tmp_path_factory):
    """The textbook sweep exported once as MP4 and as GIF (8 frames, 10 fps, 160x120)."""
    out = tmp_path_factory.mktemp("sweep")
    calls = {}
    for ext in ("mp4", "gif"):
        seen = []
        paths = matviz.export(
            scene,
            out / f"sweep.{ext}",
            "sweep",
            fps=10,
            size=SIZE,
            frames=N,
            progress=lambda done, n, seen=seen: seen.append((done, n)),
        )
        calls[ext] = (paths, seen)
    return out, calls


def test_export_writes_exactly_the_files_it_returns(sweep_files):
    out, calls = sweep_files
    assert listing(out) == ["sweep.gif", "sweep.mp4"]  # no temp files left
    for ext, (paths, _) in calls.items():
        assert [p.name for p in paths] == [f"sweep.{ext}"]
        assert all(p.is_file() for p in paths)


def test_export_mp4_frames_fps_size_codec(sweep_files):
    out, _ = sweep_files
    path = out / "sweep.mp4"
    n, _secs = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert n == N
    meta = iio.immeta(path)
    assert meta["fps"] == pytest.approx(10)
    assert tuple(meta["size"]) == SIZE
    assert meta["codec"] == "h264"
    frames = iio.imread(path)
    assert frames.shape == (N, SIZE[1], SIZE[0], 3)
    assert_not_blank(frames[0])
    assert_frames_move(frames)


def test_export_gif_frames_fps_size(sweep_files):
    out, _ = sweep_files
    path = out / "sweep.gif"
    frames = iio.imread(path)
    assert frames.shape[0] == N
    assert frames.shape[1:3] == (SIZE[1], SIZE[0])
    for f in range(N):
        assert iio.immeta(path, index=f)["duration"] == pytest.approx(1000 / 10, abs=10)
    assert_not_blank(frames[0][..., :3])
    assert_frames_move(frames[..., :3])


def test_mp4_and_gif_show_the_same_animation(sweep_files):
    out, _ = sweep_files
    mp4 = iio.imread(out / "sweep.mp4").astype(float)
    gif = iio.imread(out / "sweep.gif")[..., :3].astype(float)
    # same states rendered; only compression differs
    assert np.abs(mp4 - gif).mean() < 10


def test_progress_is_called_once_per_frame_in_order(sweep_files):
    _, calls = sweep_files
    for _ext, (_, seen) in calls.items():
        assert seen == [(i, N) for i in range(1, N + 1)]


def test_still_png(scene, tmp_path):
    seen = []
    paths = matviz.export(
        scene, tmp_path / "still.png", "still", size=SIZE, progress=lambda done, n: seen.append((done, n))
    )
    assert [p.name for p in paths] == ["still.png"]
    assert listing(tmp_path) == ["still.png"]
    assert seen == [(1, 1)]
    img = iio.imread(tmp_path / "still.png")
    assert img.shape[:2] == (SIZE[1], SIZE[0])
    assert_not_blank(img[..., :3])


def test_png_sequence(scene, tmp_path):
    paths = matviz.export(scene, tmp_path / "seq.png", "orbit", size=SIZE, frames=4)
    expected = [f"seq_{i:04d}.png" for i in range(4)]
    assert [p.name for p in paths] == expected
    assert listing(tmp_path) == expected
    imgs = [iio.imread(tmp_path / name)[..., :3] for name in expected]
    assert all(img.shape == (SIZE[1], SIZE[0], 3) for img in imgs)
    assert changed_fraction(imgs[0], imgs[1]) > 0.02  # the camera moved


def test_export_through_the_api_module_matches(scene, tmp_path):
    """matviz.export is a thin forward to matviz.animate.export.export."""
    from matviz.animate.export import export

    a = export(scene, tmp_path / "a.png", "still", size=SIZE)
    b = matviz.export(scene, tmp_path / "b.png", "still", size=SIZE)
    assert np.array_equal(iio.imread(a[0]), iio.imread(b[0]))  # same inputs, same frame


@pytest.mark.parametrize("size", [(161, 120), (160, 121), (33, 17)])
def test_mp4_with_odd_size_raises_and_writes_nothing(scene, tmp_path, size):
    with pytest.raises(OutputError) as info:
        matviz.export(scene, tmp_path / "odd.mp4", "sweep", fps=10, size=size, frames=4)
    assert f"{size[0]}x{size[1]}" in str(info.value)
    assert listing(tmp_path) == []


def test_gif_with_odd_size_is_fine(scene, tmp_path):
    matviz.export(scene, tmp_path / "odd.gif", "sweep", fps=10, size=(81, 61), frames=2)
    assert iio.imread(tmp_path / "odd.gif").shape[:3] == (2, 61, 81)


@pytest.mark.parametrize("frames", [0, -3])
def test_frames_must_be_positive(scene, tmp_path, frames):
    with pytest.raises(OutputError, match="frames") as info:
        matviz.export(scene, tmp_path / "x.gif", "sweep", size=SIZE, frames=frames)
    assert str(info.value).startswith(f"frames must be >= 1, got {frames}")  # the parameter, not a CLI flag
    assert "--" not in str(info.value)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "animation, kwargs, n",
    [
        ("still", {}, 1),
        ("still", {"frames": 3}, 3),
        ("sweep", {"fps": 10, "duration": 2.0}, 20),
        ("sweep", {"fps": 10}, 60),  # the sweep's own 6 s
        ("orbit", {"fps": 24, "frames": 7}, 7),
        ("sweep", {"fps": 1, "duration": 1.0}, 2),  # at least a first and a last frame
    ],
)
def test_sample_states_are_the_frames_export_renders(scene, animation, kwargs, n):
    from matviz.animate.export import sample_states
    from matviz.animate.timeline import make_timeline

    states = sample_states(scene, animation, **kwargs)
    assert len(states) == n
    assert states == make_timeline(animation, scene, kwargs.get("duration")).sample(n)


def test_unknown_animation_raises(scene, tmp_path):
    with pytest.raises(matviz.MatvizError, match="nope"):
        matviz.export(scene, tmp_path / "x.gif", "nope", size=SIZE, frames=2)
    assert listing(tmp_path) == []


def _fail_on_call(monkeypatch, owner, attr, n, exc):
    """Make ``owner.attr`` raise ``exc`` on its ``n``-th call; return the call counter."""
    original = getattr(owner, attr)
    count = [0]

    def wrapper(*args, **kwargs):
        count[0] += 1
        if count[0] == n:
            raise exc(f"injected failure on call {n}")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, attr, wrapper)
    return count


@pytest.mark.parametrize("name", ["anim.mp4", "anim.gif", "seq.png"])
@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_failure_while_rendering_leaves_nothing(scene, tmp_path, monkeypatch, name, exc):
    count = _fail_on_call(monkeypatch, offscreen, "screenshot", 3, exc)
    seen = []
    with pytest.raises(exc):
        matviz.export(
            scene, tmp_path / name, "sweep", fps=10, size=SIZE, frames=6, progress=lambda done, n: seen.append(done)
        )
    assert count[0] == 3
    assert seen == [1, 2]  # two frames were written before the failure
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    "cls,name", [(writers.Mp4Writer, "anim.mp4"), (writers.GifWriter, "anim.gif"), (writers.PngWriter, "seq.png")]
)
def test_failure_while_writing_leaves_nothing(scene, tmp_path, monkeypatch, cls, name):
    _fail_on_call(monkeypatch, cls, "write_frame", 3, OSError)
    with pytest.raises(OutputError, match="injected failure on call 3; nothing was left behind"):
        matviz.export(scene, tmp_path / name, "sweep", fps=10, size=SIZE, frames=6)
    assert listing(tmp_path) == []


def test_failure_does_not_touch_an_existing_output(scene, tmp_path, monkeypatch):
    path = tmp_path / "anim.gif"
    matviz.export(scene, path, "sweep", fps=10, size=SIZE, frames=3)
    before = path.read_bytes()
    _fail_on_call(monkeypatch, offscreen, "screenshot", 2, RuntimeError)
    with pytest.raises(RuntimeError):
        matviz.export(scene, path, "orbit", fps=10, size=SIZE, frames=5)
    assert path.read_bytes() == before  # the old file survives a failed export
    assert listing(tmp_path) == ["anim.gif"]
