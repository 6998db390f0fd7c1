"""One Timeline: tracks of keyframes over the numeric fields of a ViewState (manim's idea).

``timeline.state_at(t)`` is random access, so the window can scrub and the exporter can sample
any frame rate from the same description.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from matviz.errors import MatvizError
from matviz.scene import Scene, ViewState

RateFn = Callable[[float], float]


def linear(a: float) -> float:
    return a


def smooth(a: float) -> float:
    """Ease in and out (smoothstep)."""
    return a * a * (3.0 - 2.0 * a)


@dataclass(frozen=True)
class Key:
    t: float  # seconds
    value: float
    rate: RateFn = smooth  # how the value moves from the previous key to this one


@dataclass(frozen=True)
class Track:
    keys: tuple[Key, ...]  # sorted by t

    def at(self, t: float) -> float:
        ks = self.keys
        if t <= ks[0].t:
            return ks[0].value
        for a, b in zip(ks, ks[1:]):
            if t <= b.t:
                alpha = 0.0 if b.t == a.t else (t - a.t) / (b.t - a.t)
                return a.value + (b.value - a.value) * b.rate(alpha)
        return ks[-1].value


@dataclass(frozen=True)
class Timeline:
    """``duration`` seconds of ViewStates: ``base`` with its fields overridden by ``tracks``.

    Track names are ViewState fields: ``azimuth``, ``elevation``, ``zoom``, ``k_done`` (rounded
    down to whole k-blocks) and ``show_interior`` (shown while >= 0.5).
    """

    duration: float
    base: ViewState
    tracks: dict[str, Track] = field(default_factory=dict)

    def state_at(self, t: float) -> ViewState:
        values = {name: track.at(t) for name, track in self.tracks.items()}
        if "k_done" in values:
            values["k_done"] = int(np.floor(values["k_done"] + 1e-9))
        if "show_interior" in values:
            values["show_interior"] = values["show_interior"] >= 0.5
        return replace(self.base, **values)

    def sample(self, n_frames: int) -> list[ViewState]:
        """``n_frames`` states evenly spaced over the duration, first and last included."""
        if n_frames == 1:
            return [self.state_at(self.duration)]
        return [self.state_at(self.duration * f / (n_frames - 1)) for f in range(n_frames)]


def still(scene: Scene, duration: float = 0.0) -> Timeline:
    """The finished product from the default camera."""
    return Timeline(duration, scene.initial_state())


def orbit(scene: Scene, duration: float = 6.0) -> Timeline:
    """One turn of the camera around the vertical axis, everything shown."""
    base = scene.initial_state()
    return Timeline(
        duration, base, {"azimuth": Track((Key(0.0, base.azimuth), Key(duration, base.azimuth + 360.0, linear)))}
    )


def sweep(scene: Scene, duration: float = 6.0) -> Timeline:
    """The sum over k, one k-block at a time: slices fill in while the result face accumulates
    partial sums; then the interior steps aside to show the finished result."""
    base = scene.initial_state()
    gk, d = scene.k_steps, duration
    return Timeline(
        d,
        base,
        {
            # k_done reaches gk at 80% of the time, one k-block per equal slice of time
            "k_done": Track((Key(0.05 * d, 0.0), Key(0.80 * d, gk + 0.0, linear))),
            "azimuth": Track((Key(0.0, base.azimuth - 10.0), Key(d, base.azimuth + 10.0))),
            "show_interior": Track((Key(0.0, 1.0), Key(0.90 * d, 1.0), Key(0.90 * d + 1e-6, 0.0, linear))),
        },
    )


TIMELINES: dict[str, Callable[..., Timeline]] = {"still": still, "orbit": orbit, "sweep": sweep}
DEFAULT_DURATION = {"still": 0.0, "orbit": 6.0, "sweep": 6.0}


def make_timeline(name: str, scene: Scene, duration: float | None = None) -> Timeline:
    try:
        factory = TIMELINES[name]
    except KeyError:
        raise MatvizError(f"unknown animation {name!r}: use one of {', '.join(TIMELINES)}") from None
    if duration is not None and not duration > 0:
        raise MatvizError(f"duration must be > 0 seconds, got {duration}")
    return factory(scene, DEFAULT_DURATION[name] if duration is None else duration)
