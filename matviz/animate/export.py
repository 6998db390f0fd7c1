"""export(scene, path): sample a Timeline, render each state offscreen, stream frames to a writer."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from matviz.animate.timeline import make_timeline
from matviz.animate.writers import (
    MAX_FRAMES,
    check_fps,
    check_gif_memory,
    check_output,
    check_size,
    open_writer,
)
from matviz.errors import OutputError, param
from matviz.scene import Chain, Cube, ViewState

Progress = Callable[[int, int], None]
AA_MAX_SIDE = 4096  # stills wider or taller than this skip supersampling (its framebuffer would not fit)


def frame_count(
    animation: str, fps: float, frames: int | None, duration: float | None, timeline_duration: float
) -> int:
    """How many frames an export of ``animation`` has: ``frames`` if given, 1 for a still, else
    ``duration`` (default: the timeline's own) at ``fps``, at least 2."""
    if frames is not None:
        if isinstance(frames, bool) or not isinstance(frames, (int, float)) or frames != frames or frames < 1:
            raise OutputError(f"frames must be >= 1, got {frames}")
        if frames > MAX_FRAMES:
            raise OutputError(f"frames must be at most {MAX_FRAMES:,}, got {frames:,}")
        return int(frames)
    if animation == "still":
        return 1
    fps = check_fps(fps)
    seconds = duration or timeline_duration
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise OutputError(f"duration must be a number of seconds > 0, got {duration}")
    n = max(2, round(seconds * fps))
    if n > MAX_FRAMES:
        raise OutputError(
            f"duration {seconds:g} s at {fps:g} fps is {n:,} frames, more than the {MAX_FRAMES:,} an export may "
            f"write: use a duration of at most {MAX_FRAMES / fps:g} s"
        )
    return n


def _states(timeline, n: int) -> Iterator[ViewState]:
    """``timeline.sample(n)`` one state at a time (nothing built up front)."""
    if n == 1:
        yield timeline.state_at(timeline.duration)
        return
    for f in range(n):
        yield timeline.state_at(timeline.duration * f / (n - 1))


def sample_states(
    scene: Cube | Chain,
    animation: str = "still",
    *,
    fps: float = 30.0,
    frames: int | None = None,
    duration: float | None = None,
) -> list[ViewState]:
    """The states ``export(scene, ..., animation, fps=, frames=, duration=)`` renders, in order."""
    timeline = make_timeline(animation, scene, duration)
    return timeline.sample(frame_count(animation, fps, frames, duration, timeline.duration))


def export(
    scene: Cube | Chain | list,
    path: str | os.PathLike,
    animation: str = "still",
    *,
    fps: float = 30.0,
    size: tuple[int, int] = (1280, 720),
    frames: int | None = None,
    duration: float | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write ``scene`` as a PNG, PNG sequence, GIF, MP4 or HTML page (by suffix); return the files written.

    ``animation`` is ``still``, ``orbit`` or ``sweep``; ``frames`` or ``duration`` sets the
    length (default: the animation's own duration at ``fps``). Nothing is left behind on error.
    A list of scenes is drawn as a grid of tiles playing in step (e.g. every head of a layer).
    ``.html`` writes one offline page the reader orbits, zooms and steps through the sum over k
    (``matviz.animate.html``; ``animation`` and ``fps`` do not apply to it).
    """
    if Path(path).suffix.lower() == ".html":  # one interactive page holds every state: no frames
        from matviz.animate.html import export_html

        if frames is not None or duration is not None:
            raise OutputError(f"{param('frames')} and {param('duration')} set an animation's length: an HTML page has none (drop them)")
        if animation != "still":
            raise OutputError(
                f"animation {animation!r} has no effect on an HTML page (its slider steps through the sum over k and "
                f"the reader turns the camera): drop {param('animation')}"
            )
        return [export_html(scene, path, size=size)]
    from matviz.graphics.offscreen import frames as render_frames
    from matviz.graphics.offscreen import grid_frames

    scenes = list(scene) if isinstance(scene, (list, tuple)) else [scene]
    width, height = size = check_size(size)
    fps = check_fps(fps)
    timelines = [make_timeline(animation, s, duration) for s in scenes]
    n = frame_count(animation, fps, frames, duration, timelines[0].duration)
    states = [_states(t, n) for t in timelines]
    path = check_output(path)
    if path.suffix.lower() == ".gif":
        check_gif_memory(n, size)
    if path.suffix.lower() == ".mp4" and (width % 2 or height % 2):
        raise OutputError(
            f"MP4 (H.264) needs an even width and height, got {width}x{height}: use e.g. {width + width % 2}x{height + height % 2}"
        )
    if len(scenes) == 1:
        stream = render_frames(scenes[0], states[0], size, aa=n == 1 and max(size) <= AA_MAX_SIDE)
    else:
        stream = grid_frames(scenes, states, size)
    with open_writer(path, fps, n) as writer:
        for done, frame in enumerate(stream, start=1):
            check_frame(frame, size)
            writer.write_frame(frame)
            if progress is not None:
                progress(done, n)
    return writer.paths


def check_frame(frame, size: tuple[int, int]) -> None:
    """Refuse an all-black frame: the renderer's sign that it could not allocate the framebuffer
    (a matviz scene always has a coloured background)."""
    if frame.size and not frame.any():
        raise OutputError(
            f"the renderer returned an empty (all-black) {size[0]}x{size[1]} frame: the graphics driver could "
            "not allocate a framebuffer that large; use a smaller size"
        )
