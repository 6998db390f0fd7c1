"""matviz.animate.timeline: tracks of keyframes, the sweep/orbit/still timelines, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matviz.animate.timeline import Key, Timeline, Track, linear, make_timeline, orbit, smooth, still, sweep
from matviz.errors import MatvizError
from matviz.chain import attention, expr
from matviz.scene import ViewState, as_chain, matmul
from matviz.story import beat_index, beats, stage_progress

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
B = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])  # (3, 2)


@pytest.fixture(scope="module")
def textbook():
    return matmul(A, B)


@pytest.fixture(scope="module")
def blocked():
    """k = 300 split into fewer k-blocks than k by a small budget."""
    rng = np.random.default_rng(1)
    scene = matmul(rng.standard_normal((6, 300)), rng.standard_normal((300, 5)), budget=6 * 5 * 20)
    assert 1 < scene.k_steps < 300
    return scene


# ---------------------------------------------------------------- rate functions and tracks


@pytest.mark.parametrize("rate", [linear, smooth])
def test_rate_functions_fix_the_ends_and_increase(rate):
    assert rate(0.0) == 0.0
    assert rate(1.0) == 1.0
    a = np.linspace(0.0, 1.0, 201)
    values = np.array([rate(x) for x in a])
    assert np.all(np.diff(values) >= 0)
    assert np.all((values >= 0) & (values <= 1))


def test_track_values_at_and_beyond_keys():
    track = Track((Key(1.0, 2.0), Key(2.0, 5.0, linear), Key(4.0, -1.0, smooth)))
    assert track.at(1.0) == 2.0
    assert track.at(2.0) == 5.0
    assert track.at(4.0) == -1.0
    assert track.at(-3.0) == 2.0  # before the first key: held
    assert track.at(0.999) == 2.0
    assert track.at(4.001) == -1.0  # after the last key: held
    assert track.at(100.0) == -1.0
    assert track.at(1.5) == pytest.approx(3.5)  # linear segment: halfway
    assert track.at(3.0) == pytest.approx(2.0)  # smooth is symmetric: halfway at mid-time


def test_track_is_monotonic_between_keys():
    track = Track((Key(0.0, 0.0), Key(1.0, 10.0, smooth), Key(3.0, 4.0, linear), Key(3.5, 4.0)))
    up = [track.at(t) for t in np.linspace(0.0, 1.0, 101)]
    down = [track.at(t) for t in np.linspace(1.0, 3.0, 101)]
    flat = [track.at(t) for t in np.linspace(3.0, 3.5, 11)]
    assert np.all(np.diff(up) >= 0) and up[0] == 0.0 and up[-1] == 10.0
    assert np.all(np.diff(down) <= 0) and down[0] == 10.0 and down[-1] == 4.0
    assert np.allclose(flat, 4.0)
    # strictly inside a segment the value is strictly between the two keys
    assert 0.0 < track.at(0.5) < 10.0
    assert 4.0 < track.at(2.0) < 10.0


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.floats(-100, 100, allow_nan=False), min_size=2, max_size=6, unique=True),
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=6, max_size=6),
    rates=st.lists(st.sampled_from([linear, smooth]), min_size=6, max_size=6),
)
def test_track_property_endpoints_and_monotonic(times, values, rates):
    times = sorted(times)
    if min(np.diff(times)) < 1e-3:
        return  # keys too close to sample between
    keys = tuple(Key(t, v, r) for t, v, r in zip(times, values, rates))
    track = Track(keys)
    for key in keys:
        assert track.at(key.t) == pytest.approx(key.value, abs=1e-9)
    for a, b in zip(keys, keys[1:]):
        ts = np.linspace(a.t, b.t, 25)
        vs = np.array([track.at(t) for t in ts])
        tol = 1e-9 * (1 + abs(a.value) + abs(b.value))
        lo, hi = min(a.value, b.value), max(a.value, b.value)
        assert np.all(vs >= lo - tol) and np.all(vs <= hi + tol)
        steps = np.diff(vs) * np.sign(b.value - a.value)
        assert np.all(steps >= -tol)


# ---------------------------------------------------------------- the timelines


def test_timeline_overrides_only_tracked_fields():
    base = ViewState(azimuth=10.0, elevation=20.0, zoom=1.5, highlight=(1, 0))
    tl = Timeline(2.0, base, {"zoom": Track((Key(0.0, 1.0), Key(2.0, 3.0, linear)))})
    s = tl.state_at(1.0)
    assert s.zoom == pytest.approx(2.0)
    assert (s.azimuth, s.elevation, s.highlight, s.k_done, s.show_interior) == (10.0, 20.0, (1, 0), None, True)


@pytest.mark.parametrize("which", ["textbook", "blocked"])
def test_sweep_k_done_counts_every_block_in_order(which, request):
    scene = request.getfixturevalue(which)
    tl = sweep(scene, duration=6.0)
    states = tl.sample(12 * scene.k_steps + 10)
    ks = [s.k_done for s in states]
    assert all(isinstance(k, int) for k in ks)
    assert ks[0] == 0
    assert ks[-1] == scene.k_steps
    assert np.all(np.diff(ks) >= 0)
    assert sorted(set(ks)) == list(range(scene.k_steps + 1))  # every partial sum is shown


@pytest.mark.parametrize("which", ["textbook", "blocked"])
def test_sweep_hides_the_interior_only_at_the_end(which, request):
    scene = request.getfixturevalue(which)
    d = 6.0
    tl = sweep(scene, duration=d)
    states = tl.sample(121)
    shown = [s.show_interior for s in states]
    assert all(isinstance(v, bool) for v in shown)
    assert shown[0] is True and shown[-1] is False
    first_hidden = shown.index(False)
    assert all(shown[:first_hidden]) and not any(shown[first_hidden:])  # one switch, never back
    # the interior steps aside only after every k-block has been summed
    assert all(s.k_done == scene.k_steps for s in states[first_hidden:])
    assert first_hidden / (len(states) - 1) * d > 0.8 * d


def test_sweep_moves_the_camera_and_keeps_the_highlight():
    scene = matmul(A, B, highlight=(1, 0))
    tl = sweep(scene)
    states = tl.sample(9)
    az = [s.azimuth for s in states]
    assert np.all(np.diff(az) > 0)
    assert all(s.highlight == (1, 0) for s in states)


def test_orbit_turns_once(textbook):
    tl = orbit(textbook, duration=4.0)
    states = tl.sample(9)
    az = np.array([s.azimuth for s in states])
    assert az[-1] - az[0] == pytest.approx(360.0)
    assert az[0] == pytest.approx(textbook.initial_state().azimuth)
    assert np.allclose(np.diff(az), 360.0 / 8)  # linear: evenly spaced
    assert all(s.k_done is None and s.show_interior for s in states)  # everything shown


@pytest.mark.parametrize("n", [2, 3, 7, 30])
def test_sample_returns_n_states_including_both_ends(textbook, n):
    tl = orbit(textbook, duration=3.0)
    states = tl.sample(n)
    assert len(states) == n
    assert states[0] == tl.state_at(0.0)
    assert states[-1] == tl.state_at(tl.duration)
    assert all(isinstance(s, ViewState) for s in states)
    expected = [tl.state_at(tl.duration * f / (n - 1)) for f in range(n)]
    assert states == expected


def test_still_is_the_finished_picture_without_the_interior(textbook):
    """The default still is the clearest state: everything summed, the interior stepped aside."""
    from dataclasses import replace

    tl = still(textbook)
    assert tl.sample(1) == [replace(textbook.initial_state(), show_interior=False)]
    assert tl.state_at(0.0) == replace(textbook.initial_state(), show_interior=False)


@pytest.mark.parametrize("name", ["still", "orbit", "sweep"])
def test_make_timeline_known_names_and_durations(textbook, name):
    tl = make_timeline(name, textbook, 2.5)
    assert isinstance(tl, Timeline) and tl.duration == 2.5
    default = make_timeline(name, textbook)  # None: the animation's own length
    assert (default.duration > 0) == (name != "still")


def test_make_timeline_unknown_name_raises(textbook):
    with pytest.raises(MatvizError) as info:
        make_timeline("nope", textbook)
    message = str(info.value)
    assert "nope" in message and "sweep" in message  # names the input and the choices


@pytest.mark.parametrize("duration", [0, 0.0, -1.0, float("nan")])
def test_make_timeline_rejects_non_positive_duration(textbook, duration):
    with pytest.raises(MatvizError, match="duration"):
        make_timeline("sweep", textbook, duration)


# ---------------------------------------------------------------- chains: cube after cube


@pytest.fixture(scope="module")
def attention_chain():
    """softmax(Q Kᵀ/√d) V with k-blocks: 20×40 @ 40×20 then 20×20 @ 20×10, a small budget."""
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((20, 40)), rng.standard_normal((20, 40)), rng.standard_normal((20, 10))
    chain = attention(q, k, v, budget=20 * 20 * 8)
    assert [c.k_steps for c in chain.cubes] == [chain.k_steps(0), chain.k_steps(1)]
    assert 1 < chain.k_steps(0) < 40
    assert len(chain.cubes[0].stages) == 2 and chain.cubes[1].stages == ()
    return chain


def test_chain_sweep_builds_cube_after_cube(attention_chain):
    chain = attention_chain
    gk = [chain.k_steps(0), chain.k_steps(1)]
    n_stages = len(chain.cubes[0].stages)
    tl = sweep(chain, duration=6.0)
    assert set(tl.tracks) >= {"cube", "post", "k_done"}
    states = tl.sample(2001)
    cubes = [s.cube for s in states]
    assert all(isinstance(c, int) for c in cubes)
    assert cubes[0] == 0 and cubes[-1] == 1
    assert np.all(np.diff(cubes) >= 0)  # never goes back
    assert set(cubes) == {0, 1}
    for step in (0, 1):
        ks = [s.k_done for s in states if s.cube == step]
        assert ks[0] == 0 and ks[-1] == gk[step]
        assert np.all(np.diff(ks) >= 0), step
        assert sorted(set(ks)) == list(range(gk[step] + 1)), step  # every partial sum of every step
    first = [s for s in states if s.cube == 0]
    posts = [s.post for s in first]
    assert posts[0] == 0.0
    assert np.all(np.diff(posts) >= 0)
    assert posts[-1] == pytest.approx(n_stages)  # the softmax is done before the second cube starts
    # the stages run only after the sum over k of the first cube is complete
    assert all(s.k_done == gk[0] for s in first if s.post > 0)
    # the stages are applied row by row: intermediate values are seen
    assert any(0 < p < n_stages and p != int(p) for p in posts)
    end = tl.state_at(tl.duration)
    assert end.cube == 1 and end.k_done == gk[1]
    assert end == states[-1]
    # the last frame is the finished picture: every step built, every stage applied, interior aside
    assert end.post >= chain.stage_count(1)
    assert end.show_interior is False
    assert stage_progress(chain.cubes[end.cube], end.post) == (len(chain.cubes[1].stages), 0)


def test_chain_sweep_turns_the_camera_further_than_a_single_cube(attention_chain, textbook):
    chain_az = [s.azimuth for s in sweep(attention_chain).sample(11)]
    single_az = [s.azimuth for s in sweep(textbook).sample(11)]
    assert np.all(np.diff(chain_az) > 0) and np.all(np.diff(single_az) > 0)
    assert chain_az[-1] - chain_az[0] > single_az[-1] - single_az[0]


@pytest.mark.parametrize("which", ["textbook", "blocked"])
def test_single_cube_sweep_has_no_chain_tracks(which, request):
    scene = request.getfixturevalue(which)
    tl = sweep(scene)
    assert "cube" not in tl.tracks and "post" not in tl.tracks
    assert all(s.cube is None and s.post is None for s in tl.sample(25))


def test_single_cube_with_stages_has_post_but_no_cube():
    chain = expr("softmax(A @ B)", A=A, B=B)
    tl = sweep(chain)
    assert "post" in tl.tracks and "cube" not in tl.tracks
    states = tl.sample(301)
    assert states[0].post == 0.0 and states[-1].post == pytest.approx(1.0)
    assert all(s.k_done == chain.k_steps(0) for s in states if s.post > 0)


# ---------------------------------------------------------------- the beats the window steps over


def positions(chain):
    """The ``(cube, k_done, post)`` each beat shows (what the window's step keys visit)."""
    return [(b.cube, b.k_done, b.post) for b in beats(chain)]


def test_positions_of_a_plain_scene(blocked, textbook):
    for scene in (blocked, textbook):
        gk = scene.k_steps
        assert positions(as_chain(scene)) == [(None, k, None) for k in range(gk)] + [(None, None, None)]


def test_positions_of_a_causal_attention_chain():
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((6, 5)), rng.standard_normal((6, 5)), rng.standard_normal((6, 3))
    chain = attention(q, k, v, causal=True)
    assert [s.label for s in chain.cubes[0].stages] == ["/ sqrt(d)", "causal mask", "softmax(rows)"]
    gk0, gk1 = chain.k_steps(0), chain.k_steps(1)
    assert (gk0, gk1) == (5, 6)  # unit blocks: one k per step
    pos = positions(chain)
    assert pos[0] == (0, 0, 0.0)
    assert pos[-1] == (None, None, None)
    for p in (1.0, 2.0, 3.0):
        assert (0, None, p) in pos
    assert (0, gk0, 0.0) in pos  # the first cube summed, before its stages
    assert (1, 0, 0.0) in pos and (1, gk1 - 1, 0.0) in pos
    # every k of each step, then every stage, once each and in order; the finished picture replaces the last
    assert len(pos) == (gk0 + 1 + 3) + (gk1 + 1)
    assert len(set(pos)) == len(pos)
    steps = [c for c, _, _ in pos[:-1]]
    assert steps == sorted(steps)
    k0 = [k for c, k, _ in pos if c == 0 and k is not None]
    assert k0 == list(range(gk0 + 1))
    assert [p for c, k, p in pos if c == 0 and k is None] == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("which", ["textbook", "blocked", "attention_chain"])
def test_sweep_plays_every_beat_in_order(which, request):
    """The exporter's sweep and the window's step keys tell the same story: sampled finely, the
    sweep shows every beat, in the order ``beats`` lists them, ending on the last."""
    chain = as_chain(request.getfixturevalue(which))
    plan = beats(chain)
    tl = sweep(chain, duration=6.0)
    seen = [beat_index(chain, s, plan) for s in tl.sample(4001)]
    assert np.all(np.diff(seen) >= 0)
    assert sorted(set(seen)) == list(range(len(plan)))
    assert seen[-1] == len(plan) - 1


def test_sweep_gives_each_beat_its_weight_of_time(attention_chain):
    """A k-block of a step takes 1/k_steps of that step's sum; a stage STAGE_WEIGHT of it."""
    chain = attention_chain
    plan = beats(chain)
    tl = sweep(chain, duration=6.0)
    n = 60001
    seen = np.array([beat_index(chain, s, plan) for s in tl.sample(n)])
    share = np.bincount(seen, minlength=len(plan)) / (n - 1) * tl.duration
    unit = 0.75 * tl.duration / sum(1.0 + 0.5 * chain.stage_count(s) for s in range(chain.n_steps))
    tol = 2 * tl.duration / n
    assert share[0] == pytest.approx(0.05 * tl.duration + plan[1].weight * unit, abs=tol)  # after a lead-in
    checked = 0
    for i, b in enumerate(plan[1:-1], start=1):
        nxt = plan[i + 1]
        if nxt.step == b.step:  # a beat is shown until the next move ends
            assert share[i] == pytest.approx(nxt.weight * unit, abs=tol), (i, b)
            checked += 1
    assert checked == len(plan) - 3  # all but the first, the step boundary and the last
