"""One Timeline: tracks of keyframes over the numeric fields of a ViewState (manim's idea).

``timeline.state_at(t)`` is random access, so the window can scrub and the exporter can sample
any frame rate from the same description.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from matviz.errors import MatvizError
from matviz.scene import CHAIN_TURN, Chain, Cube, ViewState, as_chain
from matviz.story import beats

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
    down to whole k-blocks), ``show_interior`` (shown while >= 0.5), and for chains ``cube``
    (rounded down to a step) and ``post`` (stages applied; the fraction is rows done).
    """

    duration: float
    base: ViewState
    tracks: dict[str, Track] = field(default_factory=dict)

    def state_at(self, t: float) -> ViewState:
        values = {name: track.at(t) for name, track in self.tracks.items()}
        for whole in ("k_done", "cube"):
            if whole in values:
                values[whole] = int(np.floor(values[whole] + 1e-9))
        if "show_interior" in values:
            values["show_interior"] = values["show_interior"] >= 0.5
        return replace(self.base, **values)

    def sample(self, n_frames: int) -> list[ViewState]:
        """``n_frames`` states evenly spaced over the duration, first and last included."""
        if n_frames == 1:
            return [self.state_at(self.duration)]
        return [self.state_at(self.duration * f / (n_frames - 1)) for f in range(n_frames)]


def still(scene: Cube | Chain, duration: float = 0.0) -> Timeline:
    """The default still: the finished product with the interior stepped aside (``story.still_state``)."""
    from matviz.story import still_state

    return Timeline(duration, still_state(as_chain(scene)))


def orbit(scene: Cube | Chain, duration: float = 6.0) -> Timeline:
    """One turn of the camera around the vertical axis, everything shown."""
    base = as_chain(scene).initial_state()
    return Timeline(
        duration, base, {"azimuth": Track((Key(0.0, base.azimuth), Key(duration, base.azimuth + 360.0, linear)))}
    )


JUMP = 1e-6  # seconds between two keys that make a track jump


def sweep(scene: Cube | Chain, duration: float = 6.0) -> Timeline:
    """The beats of ``story.beats`` laid out in time: the sum over k, one k-block at a time (slices
    fill in while the result face accumulates partial sums), then the interior steps aside to show
    the finished result, while the camera turns.

    A chain does this step after step: each cube sums over k, then its result face goes through
    its stages (softmax row by row), then the next cube sums. Everything is built between 5 % and
    80 % of the time, each beat taking its ``weight``; the interior steps aside at 90 %.
    """
    chain = as_chain(scene)
    base = chain.initial_state()
    d = duration
    turn = (-10.0, 10.0) if chain.n_steps == 1 else (-30.0, CHAIN_TURN - 30.0)
    tracks = {
        "azimuth": Track((Key(0.0, base.azimuth + turn[0]), Key(d, base.azimuth + turn[1]))),
        "show_interior": Track((Key(0.0, 1.0), Key(0.90 * d, 1.0), Key(0.90 * d + JUMP, 0.0, linear))),
    }
    plan = beats(chain)
    ends = [b for b, nxt in zip(plan, [*plan[1:], None]) if nxt is None or nxt.step != b.step]
    unit = 0.75 * d / sum(b.at for b in ends)  # each step takes its last beat's ``at``
    k_keys, post_keys, cube_keys, t = [], [], [], 0.05 * d
    for beat in plan:
        if beat.kind == "start":
            if beat.step > 0:  # hold the finished step, then jump: the next step starts from nothing
                prev = ends[beat.step - 1]
                t += prev.at * unit
                k_keys.append(Key(t, float(prev.k), linear))
                post_keys.append(Key(t, float(prev.stages), linear))
                cube_keys.append(Key(t, float(prev.step), linear))
                t += JUMP
            k_keys.append(Key(t, 0.0, linear))
            post_keys.append(Key(t, 0.0, linear))
            cube_keys.append(Key(t, float(beat.step), linear))
        else:  # each move ends at its beat: one more k-block, or one more stage
            k_keys.append(Key(t + beat.at * unit, float(beat.k), linear))
            post_keys.append(Key(t + beat.at * unit, float(beat.stages), linear))
    tracks["k_done"] = Track(tuple(k_keys))
    if chain.n_steps > 1:
        tracks["cube"] = Track(tuple(cube_keys))
    if any(b.kind == "stage" for b in plan):
        tracks["post"] = Track(tuple(post_keys))
    return Timeline(d, base, tracks)


TIMELINES: dict[str, Callable[..., Timeline]] = {"still": still, "orbit": orbit, "sweep": sweep}
DEFAULT_DURATION = {"still": 0.0, "orbit": 6.0, "sweep": 6.0}


def make_timeline(name: str, scene: Cube | Chain, duration: float | None = None) -> Timeline:
    try:
        factory = TIMELINES[name]
    except KeyError:
        raise MatvizError(f"unknown animation {name!r}: use one of {', '.join(TIMELINES)}") from None
    if duration is not None and not duration > 0:
        raise MatvizError(f"duration must be > 0 seconds, got {duration}")
    return factory(scene, DEFAULT_DURATION[name] if duration is None else duration)
