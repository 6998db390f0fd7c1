"""export(scene, path): sample a Timeline, render each state offscreen, stream frames to a writer."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from matviz.animate.timeline import make_timeline
from matviz.animate.writers import check_output, open_writer
from matviz.errors import OutputError
from matviz.scene import Chain, Cube, ViewState

Progress = Callable[[int, int], None]


def frame_count(
    animation: str, fps: float, frames: int | None, duration: float | None, timeline_duration: float
) -> int:
    """How many frames an export of ``animation`` has: ``frames`` if given, 1 for a still, else
    ``duration`` (default: the timeline's own) at ``fps``, at least 2."""
    if frames is not None:
        if frames < 1:
            raise OutputError(f"frames must be >= 1, got {frames}")
        return int(frames)
    if animation == "still":
        return 1
    return max(2, round((duration or timeline_duration) * fps))


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
    """Write ``scene`` as a PNG, PNG sequence, GIF or MP4 (by suffix); return the files written.

    ``animation`` is ``still``, ``orbit`` or ``sweep``; ``frames`` or ``duration`` sets the
    length (default: the animation's own duration at ``fps``). Nothing is left behind on error.
    A list of scenes is drawn as a grid of tiles playing in step (e.g. every head of a layer).
    """
    from matviz.graphics.offscreen import frames as render_frames
    from matviz.graphics.offscreen import grid_frames

    scenes = list(scene) if isinstance(scene, (list, tuple)) else [scene]
    states = [sample_states(s, animation, fps=fps, frames=frames, duration=duration) for s in scenes]
    n = len(states[0])
    path = check_output(path)
    width, height = size
    if path.suffix.lower() == ".mp4" and (width % 2 or height % 2):
        raise OutputError(
            f"MP4 (H.264) needs an even width and height, got {width}x{height}: use e.g. {width + width % 2}x{height + height % 2}"
        )
    if len(scenes) == 1:
        stream = render_frames(scenes[0], states[0], size, aa=n == 1)
    else:
        stream = grid_frames(scenes, states, size)
    with open_writer(path, fps, n) as writer:
        for done, frame in enumerate(stream, start=1):
            writer.write_frame(frame)
            if progress is not None:
                progress(done, n)
    return writer.paths
