"""Frame writers behind one protocol: ``with open_writer(path, fps, n) as w: w.write_frame(img)``.

Every writer writes to hidden temporary files beside the target and renames them when it closes
without error, so an exception, Ctrl-C, SIGTERM or SIGHUP (the CLI turns both into an interrupt)
never leaves a partial output file. Temp files are made by ``tempfile.mkstemp`` in the output's
directory: an unpredictable name (``.STEM.partial-PID-RANDOM.EXT``), created exclusively, so a
symlink planted there is never followed. A run removes the stale partials of its own output left by
a process that no longer exists (SIGKILL, power loss); live runs' partials are left alone.

The same bookkeeping is public for any file a command writes: ``AtomicFiles`` (a context manager
whose ``temp(path)`` makes the temp file and which renames every temp onto its target when the block
ends without error) and ``atomic_write(path, write)``, its one-file form.
"""

from __future__ import annotations

import errno
import math
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from matviz.errors import OutputError, param

SUFFIXES = (".png", ".gif", ".mp4", ".html")  # .html: one interactive page (matviz.animate.html)
FPS_RANGE = (0.1, 240.0)  # frames per second a writer accepts (ffmpeg rounds tiny rates to 0)
MAX_FRAMES = 100_000  # frames one export may write (55 min at 30 fps)
MAX_SIZE = (7680, 4320)  # largest frame, width x height
GIF_MEMORY_LIMIT = 3 * 2**30  # bytes: a GIF is encoded from every frame held in memory at once
GIF_BYTES_PER_PIXEL = 5  # what a buffered GIF frame costs per pixel (RGBA image + its palette copy)
_TEMP_TAIL = ".partial-{pid}-XXXXXXXX"  # what mkstemp adds to ".STEM"; sized for NAME_MAX checks


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
        raise OutputError(f"unknown output extension {suffix or '(none)'!r} in {path}: use .png, .gif, .mp4 or .html")
    if path.is_dir():
        raise OutputError(f"output {path} is a directory; give a file name such as {path / 'out.png'}")
    parent = path.parent
    existing = next((p for p in (parent, *parent.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise OutputError(
            f"cannot create output directory {parent}: {existing} is a file, not a directory; choose another {param('path')}"
        )
    if create:
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create output directory {parent}: {exc.strerror or exc}; choose another {param('path')}"
            ) from None
        existing = parent
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    longest = f".{path.stem}_0000{_TEMP_TAIL.format(pid=os.getpid())}{path.suffix}"  # a sequence's temp name
    if len(os.fsencode(longest)) > name_max:
        raise OutputError(
            f"output name {path.name[:40]}... is too long: its temporary file name would exceed the "
            f"{name_max}-byte limit of file names; use a name of at most {max(1, name_max - len(longest) + len(path.stem))} characters before the extension; choose another {param('path')}"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.stem[:20]}.probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"output directory {existing} is not writable ({exc.strerror or exc}); choose another {param('path')}"
        ) from None
    return path


def check_output_dir(path: str | os.PathLike, what: str = "output directory", name: str = "out") -> Path:
    """Validate a directory a command writes several files into, before anything is computed or
    written: not a file, not under a file, writable (probed with an mkstemp file). Nothing is
    created; ``what`` is how messages call it, ``name`` the parameter they mark."""
    out = Path(path).expanduser()
    again = f"choose another {param(name)}"
    if out.exists() and not out.is_dir():
        raise OutputError(f"{what} {out} is a file: {again}")
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise OutputError(f"cannot create {what} {out}: {existing} is a file; {again}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {existing} is not writable: {again}")
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{what} {existing} is not writable ({exc.strerror or exc}): {again}") from None
    return out


def check_fps(fps) -> float:
    """``fps`` as a float in ``FPS_RANGE``, else an OutputError."""
    try:
        value = float(fps)
    except (TypeError, ValueError):
        raise OutputError(f"{param('fps')} must be a number, got {fps!r}") from None
    lo, hi = FPS_RANGE
    if not (math.isfinite(value) and lo <= value <= hi):
        raise OutputError(f"{param('fps')} must be between {lo:g} and {hi:g}, got {fps}")
    return value


def check_size(size) -> tuple[int, int]:
    """``size`` as (width, height) integers from 1x1 up to ``MAX_SIZE``, else an OutputError."""
    try:
        width, height = size
        if any(isinstance(v, bool) or int(v) != v for v in (width, height)):
            raise ValueError
        width, height = int(width), int(height)
    except (TypeError, ValueError, OverflowError):
        raise OutputError(f"{param('size')} must be (width, height) in whole pixels, e.g. (1280, 720), got {size!r}") from None
    if not (1 <= width <= MAX_SIZE[0] and 1 <= height <= MAX_SIZE[1]):
        raise OutputError(
            f"{param('size')} {width}x{height} is out of range: width and height must be between 1 and "
            f"{MAX_SIZE[0]}x{MAX_SIZE[1]}"
        )
    return width, height


def check_gif_memory(n_frames: int, size: tuple[int, int]) -> None:
    """Refuse a GIF whose frames would not fit ``GIF_MEMORY_LIMIT`` (Pillow encodes them all at the end)."""
    need = n_frames * size[0] * size[1] * GIF_BYTES_PER_PIXEL
    if need > GIF_MEMORY_LIMIT:
        raise OutputError(
            f"a GIF of {n_frames} frames at {size[0]}x{size[1]} needs about {need / 2**30:.1f} GiB of memory "
            f"(every frame is held until the GIF is encoded; the limit is {GIF_MEMORY_LIMIT / 2**30:g} GiB): "
            f"write .mp4 instead, or use a smaller {param('size')} or fewer {param('frames')}/{param('duration')}"
        )


def _temp_pattern(path: Path) -> re.Pattern:
    stem, suffix = re.escape(path.stem), re.escape(path.suffix)
    return re.compile(rf"^\.{stem}(?:_\d{{4,}})?\.partial-(\d+)-[A-Za-z0-9_]{{8}}{suffix}$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_stale_partials(path: Path) -> list[Path]:
    """Delete this program's partial files of ``path`` (its temp-name pattern, for a still or a
    PNG sequence) whose process no longer runs; return what was removed."""
    pattern, removed = _temp_pattern(path), []
    try:
        entries = list(os.scandir(path.parent if str(path.parent) else "."))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or int(match[1]) == os.getpid() or _alive(int(match[1])):
            continue
        try:
            os.unlink(entry.path)  # a symlink is removed, never followed
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


LIVE_TEMPS: set[Path] = set()  # this process's temp files not yet renamed or removed


def discard_live_temps() -> None:
    """Remove every temp file this process still holds (the last resort of a forced exit)."""
    for tmp in list(LIVE_TEMPS):
        tmp.unlink(missing_ok=True)
        LIVE_TEMPS.discard(tmp)


_STOPPING = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}


def _temp(path: Path, pairs: list | None = None) -> Path:
    """A new, empty temp file beside ``path``: unpredictable name, created with O_EXCL (mkstemp),
    and in ``LIVE_TEMPS`` (and ``pairs``, as ``(temp, path)``: a writer's own list) before a Ctrl-C
    or SIGTERM can interrupt (those wait, blocked, until it is: a signal between the file's
    creation and its registration would leave it behind)."""
    mask = hasattr(signal, "pthread_sigmask")
    if mask:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.partial-{os.getpid()}-", suffix=path.suffix, dir=path.parent)
        LIVE_TEMPS.add(Path(name))
        if pairs is not None:
            pairs.append((Path(name), path))
    finally:
        if mask:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes it 0600; the output gets the usual mode
    finally:
        os.close(fd)
    return Path(name)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_error(exc: OSError, path: Path) -> OutputError:
    text = str(exc).strip()
    if exc.errno == errno.ENOSPC or "No space left" in text:
        why, fix = "no space left on the device", f"free some space or choose another {param('path')}"
    else:
        why, fix = exc.strerror or (text.splitlines()[0] if text else type(exc).__name__), f"choose another {param('path')}"
    return OutputError(f"could not write {path}: {why}; nothing was left behind: {fix}")


class AtomicFiles:
    """Files that appear whole or not at all, renamed onto their targets together::

        with AtomicFiles() as files:
            np.save(files.temp(out / "a.npy"), a)
            np.save(files.temp(out / "b.npy"), b)

    ``temp(final)`` makes a new, empty temp file beside ``final`` (mkstemp: an unpredictable name,
    created exclusively) and registers it for signal cleanup (``LIVE_TEMPS``, with SIGINT, SIGTERM
    and SIGHUP held back meanwhile). Leaving the block without error renames every temp onto its
    target (``close``); an error removes them all (``abort``), and an OSError becomes a one-line
    OutputError. Every frame writer is one: ``pairs`` are its (temp, final), ``paths`` what
    ``close`` wrote."""

    def __init__(self) -> None:
        self.pairs: list[tuple[Path, Path]] = []
        self.paths: list[Path] = []

    def temp(self, final: str | os.PathLike) -> Path:
        """A new temp file beside ``final``, renamed onto it on ``close``."""
        return _temp(Path(final), self.pairs)

    def _commit(self) -> None:
        for tmp, final in self.pairs:
            os.replace(tmp, final)
            LIVE_TEMPS.discard(tmp)
        self.paths = [final for _, final in self.pairs]

    def abort(self) -> None:
        for tmp, _ in self.pairs:
            tmp.unlink(missing_ok=True)
            LIVE_TEMPS.discard(tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
            if isinstance(exc, OSError):
                raise _write_error(exc, self.pairs[-1][1] if self.pairs else Path("?")) from None
            return
        try:
            self.close()
        except BaseException as err:
            self.abort()
            if isinstance(err, OSError):
                raise _write_error(err, self.pairs[-1][1] if self.pairs else Path("?")) from None
            raise

    def close(self) -> None:
        self._commit()

    def write_bytes(self, final: Path, data: bytes) -> None:
        """``data`` into a fresh temp file for ``final`` (renamed on ``close``; never through a
        symlink planted at the temp's name)."""
        tmp = self.temp(final)
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0))
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """``write(temp)`` into a temp file beside ``path``, then renamed onto it: ``AtomicFiles`` for
    one file. Returns ``path``."""
    path = Path(path)
    with AtomicFiles() as files:
        write(files.temp(path))
    return path


class PngWriter(AtomicFiles):
    """One frame → ``path``; several → ``stem_0000.png, stem_0001.png, …`` beside it."""

    def __init__(self, path: Path, n_frames: int) -> None:
        super().__init__()
        self.path, self.n_frames, self.count = path, n_frames, 0
        remove_stale_partials(path)

    def write_frame(self, frame: np.ndarray) -> None:
        import imageio.v3 as iio

        final = self.path if self.n_frames == 1 else self.path.with_name(f"{self.path.stem}_{self.count:04d}.png")
        self.write_bytes(final, iio.imwrite("<bytes>", frame, extension=".png"))
        self.count += 1


class _ImageioStream(AtomicFiles):
    """A streaming imageio writer to one temp file (GIF through Pillow, MP4 through ffmpeg)."""

    def __init__(self, path: Path, **kwargs) -> None:
        import imageio.v2 as iio2

        super().__init__()
        remove_stale_partials(path)
        tmp = self.temp(path)
        try:
            self._w = iio2.get_writer(tmp, **kwargs)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def write_frame(self, frame: np.ndarray) -> None:
        try:
            self._w.append_data(np.ascontiguousarray(frame))
        except OSError:
            raise
        except Exception as exc:  # ffmpeg reports a full disk as a broken pipe or a RuntimeError
            if "No space left" in str(exc):
                raise OSError(errno.ENOSPC, "No space left on device") from None
            raise

    def close(self) -> None:
        self._w.close()
        self._commit()

    def abort(self) -> None:
        try:
            self._discard()
        except Exception:  # the stream may already be broken; the temp file goes either way
            pass
        super().abort()

    def _discard(self) -> None:
        self._w.close()


class GifWriter(_ImageioStream):
    """GIF through Pillow. Pillow merges a frame identical to the one before it into that frame
    (adding the durations), so a GIF may hold fewer frames than written but plays the same."""

    def __init__(self, path: Path, fps: float) -> None:
        super().__init__(path, mode="I", extension=".gif", duration=1000.0 / fps, loop=0)

    def _discard(self) -> None:
        """Drop the buffered frames unencoded: closing would encode them all (and imageio's
        ``__del__`` would close it again after the temp file is gone)."""
        self._w.closed = True  # LegacyWriter.__del__ -> close() is now a no-op
        plugin = getattr(self._w, "instance", None)
        if plugin is not None:
            getattr(plugin, "images_to_write", []).clear()
            request = getattr(plugin, "_request", None)
            if request is not None:
                request.finish()


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
            ffmpeg_log_level="quiet",  # its failures become one matviz line (see _failed)
        )

    def _process(self):
        """The ffmpeg process behind imageio's writer generator (None if not started yet)."""
        frame = getattr(getattr(self._w, "_write_gen", None), "gi_frame", None)
        return frame.f_locals.get("p") if frame is not None else None

    def _failed(self, proc) -> OSError:
        folder = self.pairs[0][0].parent
        try:
            full = shutil.disk_usage(folder).free < (4 << 20)
        except OSError:
            full = False
        if full:
            return OSError(errno.ENOSPC, "No space left on device")
        code = proc.returncode if proc is not None else None
        return OSError(errno.EIO, f"ffmpeg failed (exit status {code}) while encoding")

    def write_frame(self, frame: np.ndarray) -> None:
        proc = self._process()
        try:
            super().write_frame(frame)
        except OSError:
            raise self._failed(proc or self._process()) from None

    def close(self) -> None:
        proc = self._process()
        self._w.close()
        if proc is not None and proc.returncode:
            raise self._failed(proc)
        self._commit()

    def _discard(self) -> None:
        """Stop ffmpeg at once: the partial video is thrown away, so nothing is worth waiting for
        (closing imageio's writer would otherwise wait for ffmpeg to finish encoding, which a
        signal-driven abort must not do)."""
        proc = self._process()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        self._w.close()


def open_writer(path: str | os.PathLike, fps: float = 30.0, n_frames: int = 1) -> FrameWriter:
    """The writer for ``path``'s suffix (.png, .gif, .mp4), after ``check_output``."""
    path = check_output(path)
    fps = check_fps(fps)
    suffix = path.suffix.lower()
    if suffix == ".html":
        raise OutputError(f"{path.name}: an HTML page is not a sequence of frames; write it with export()")
    if suffix == ".png":
        return PngWriter(path, n_frames)
    if suffix == ".gif":
        return GifWriter(path, fps)
    return Mp4Writer(path, fps)
