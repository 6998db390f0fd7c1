"""Frame writers behind one protocol: ``with open_writer(path, fps, n) as w: w.write_frame(img)``.

Every writer writes to hidden temporary files beside the target and renames them when it closes
without error, so an exception or Ctrl-C never leaves a partial output file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from matviz.errors import OutputError

SUFFIXES = (".png", ".gif", ".mp4")


class FrameWriter(Protocol):
    paths: list[Path]  # what close() will have written

    def write_frame(self, frame: np.ndarray) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


def check_output(path: str | os.PathLike, create: bool = True) -> Path:
    """Validate an output path before any rendering: a known suffix and a writable directory.

    Missing parent directories are created when ``create`` (else only checked to be creatable),
    so a bad input found later leaves no new directory behind.
    """
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise OutputError(f"unknown output extension {suffix or '(none)'!r} in {path}: use .png, .gif or .mp4")
    if path.is_dir():
        raise OutputError(f"output {path} is a directory; give a file name such as {path / 'out.png'}")
    parent = path.parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise OutputError(
            f"cannot create output directory {parent}: {existing} is a file, not a directory; choose another path"
        )
    if create:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create output directory {parent}: {exc.strerror or exc}; choose another path"
            ) from None
        existing = parent
    probe = existing / f".{path.stem}.probe-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"output directory {existing} is not writable ({exc.strerror or exc}); choose another path"
        ) from None
    return path


def _temp(path: Path) -> Path:
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


class _Atomic:
    """Temp-file bookkeeping shared by the writers: ``pairs`` of (temp, final)."""

    def __init__(self) -> None:
        self.pairs: list[tuple[Path, Path]] = []
        self.paths: list[Path] = []

    def _commit(self) -> None:
        for tmp, final in self.pairs:
            os.replace(tmp, final)
        self.paths = [final for _, final in self.pairs]

    def abort(self) -> None:
        for tmp, _ in self.pairs:
            tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def close(self) -> None:
        self._commit()


class PngWriter(_Atomic):
    """One frame → ``path``; several → ``stem_0000.png, stem_0001.png, …`` beside it."""

    def __init__(self, path: Path, n_frames: int) -> None:
        super().__init__()
        self.path, self.n_frames, self.count = path, n_frames, 0

    def write_frame(self, frame: np.ndarray) -> None:
        import imageio.v3 as iio

        final = self.path if self.n_frames == 1 else self.path.with_name(f"{self.path.stem}_{self.count:04d}.png")
        tmp = _temp(final)
        self.pairs.append((tmp, final))
        iio.imwrite(tmp, frame, extension=".png")
        self.count += 1


class _ImageioStream(_Atomic):
    """A streaming imageio writer to one temp file (GIF through Pillow, MP4 through ffmpeg)."""

    def __init__(self, path: Path, **kwargs) -> None:
        import imageio.v2 as iio2

        super().__init__()
        tmp = _temp(path)
        self.pairs.append((tmp, path))
        self._w = iio2.get_writer(tmp, **kwargs)

    def write_frame(self, frame: np.ndarray) -> None:
        self._w.append_data(np.ascontiguousarray(frame))

    def close(self) -> None:
        self._w.close()
        self._commit()

    def abort(self) -> None:
        try:
            self._w.close()
        except Exception:  # the stream may already be broken; the temp file goes either way
            pass
        super().abort()


class GifWriter(_ImageioStream):
    """GIF through Pillow. Pillow merges a frame identical to the one before it into that frame
    (adding the durations), so a GIF may hold fewer frames than written but plays the same."""

    def __init__(self, path: Path, fps: float) -> None:
        super().__init__(path, mode="I", extension=".gif", duration=1000.0 / fps, loop=0)


class Mp4Writer(_ImageioStream):
    """H.264 (libx264, yuv420p) through imageio-ffmpeg; ffmpeg encodes in its own process."""

    def __init__(self, path: Path, fps: float) -> None:
        super().__init__(
            path,
            format="FFMPEG",
            fps=fps,
            codec="libx264",
            quality=7,
            pixelformat="yuv420p",
            macro_block_size=2,
            ffmpeg_log_level="error",
        )


def open_writer(path: str | os.PathLike, fps: float = 30.0, n_frames: int = 1) -> FrameWriter:
    """The writer for ``path``'s suffix (.png, .gif, .mp4), after ``check_output``."""
    path = check_output(path)
    if not fps > 0:
        raise OutputError(f"fps must be > 0, got {fps}")
    suffix = path.suffix.lower()
    if suffix == ".png":
        return PngWriter(path, n_frames)
    if suffix == ".gif":
        return GifWriter(path, fps)
    return Mp4Writer(path, fps)
