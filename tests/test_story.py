"""matviz.story: the active step, progress within a cube, per-cube states and the beats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matviz import story
from matviz.chain import attention, expr
from matviz.scene import ViewState, as_chain, matmul

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3)
B = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])  # (3, 2)
SEQ, D, DV = 5, 4, 3


@pytest.fixture(scope="module")
def chain():
    """softmax(Q Kᵀ/√d) V: a 5×4 @ 4×5 cube with 2 stages, then a 5×5 @ 5×3 cube."""
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((SEQ, D)), rng.standard_normal((SEQ, D)), rng.standard_normal((SEQ, DV))
    ch = attention(q, k, v)
    assert len(ch.cubes) == 2 and ch.steps == [0, 1]
    assert [len(c.stages) for c in ch.cubes] == [2, 0]
    assert [c.k_steps for c in ch.cubes] == [D, SEQ]  # unit blocks: one k per step
    return ch


@pytest.fixture(scope="module")
def side():
    """Two attention chains side by side: two cubes per step."""
    rng = np.random.default_rng(8)
    q, k, v = rng.standard_normal((SEQ, D)), rng.standard_normal((SEQ, D)), rng.standard_normal((SEQ, DV))
    ch = attention(q, k, v, v_cols=True)
    assert ch.n_steps == 2 and len(ch.cubes) == 4
    return ch


# ---------------------------------------------------------------- active step and progress


def test_active_step_is_the_last_when_cube_is_none_and_clipped_otherwise(chain):
    assert story.active_step(chain, ViewState()) == 1
    assert story.active_step(chain, ViewState(cube=0)) == 0
    assert story.active_step(chain, ViewState(cube=1)) == 1
    assert story.active_step(chain, ViewState(cube=7)) == 1
    assert story.active_step(chain, ViewState(cube=-3)) == 0


def test_active_cubes_are_those_of_the_active_step(side):
    first = [c for c, s in enumerate(side.steps) if s == 0]
    second = [c for c, s in enumerate(side.steps) if s == 1]
    assert len(first) == 2 and len(second) == 2
    assert story.active_cubes(side, ViewState(cube=0)) == first
    assert story.active_cubes(side, ViewState()) == second


def test_k_done_is_all_of_k_by_default_and_clipped():
    scene = matmul(A, B)
    assert scene.k_steps == 3
    assert story.k_done(scene, ViewState()) == 3
    assert story.k_done(scene, ViewState(k_done=2)) == 2
    assert story.k_done(scene, ViewState(k_done=0)) == 0
    assert story.k_done(scene, ViewState(k_done=99)) == 3
    assert story.k_done(scene, ViewState(k_done=-4)) == 0


def test_stage_progress_row_by_row_and_whole(chain):
    cube = chain.cubes[0]
    assert [s.rowwise for s in cube.stages] == [None, "rows"]
    assert story.stage_progress(cube, None) == (2, 0)
    assert story.stage_progress(cube, 0.0) == (0, 0)
    assert story.stage_progress(cube, -1.0) == (0, 0)
    assert story.stage_progress(cube, 0.7) == (0, 0)  # the scale is not row-wise: no partial rows
    assert story.stage_progress(cube, 1.0) == (1, 0)
    for r in range(SEQ):
        assert story.stage_progress(cube, 1 + r / SEQ) == (1, r)
    assert story.stage_progress(cube, 2.0) == (2, 0)
    assert story.stage_progress(cube, 9.5) == (2, 0)
    assert story.stage_progress(cube, 2.0 - 1e-12) == (2, 0)  # rounding up to the end, not past it
    assert story.stage_progress(chain.cubes[1], 0.5) == (0, 0)  # no stages: nothing to apply


@settings(max_examples=40, deadline=None)
@given(post=st.one_of(st.none(), st.floats(-3.0, 5.0, allow_nan=False)))
def test_stage_progress_stays_in_range(chain, post):
    """Every post, including one a hair below the stage count (where an old rule indexed past the
    end), gives a whole number of stages in range and a row count inside the face."""
    for cube in chain.cubes:
        whole, rows = story.stage_progress(cube, post)
        assert 0 <= whole <= len(cube.stages) and 0 <= rows < max(cube.shape)


def test_stage_progress_rounds_up_to_all_applied_instead_of_indexing_past_the_end(chain):
    cube = chain.cubes[0]
    n = len(cube.stages)
    assert story.stage_progress(cube, n - 1e-12) == (n, 0)  # the old rule raised IndexError here


# ---------------------------------------------------------------- what each cube shows


def test_cube_state_earlier_cubes_are_finished_later_ones_empty(chain):
    state = ViewState(azimuth=12.0, elevation=-5.0, zoom=1.3, cube=0, k_done=2, post=0.0, show_interior=False)
    first, second = (story.cube_state(chain, c, state) for c in (0, 1))
    assert (first.k_done, first.post, first.cube) == (2, 0.0, None)
    assert (second.k_done, second.post, second.cube) == (0, 0.0, None)  # not started
    for sub in (first, second):
        assert (sub.azimuth, sub.elevation, sub.zoom, sub.show_interior) == (12.0, -5.0, 1.3, False)
    late = ViewState(cube=1, k_done=3, post=0.0)
    done = story.cube_state(chain, 0, late)
    assert (done.k_done, done.post, done.highlight) == (None, None, None)  # finished: all of k and stages
    assert (story.cube_state(chain, 1, late).k_done, story.cube_state(chain, 1, late).post) == (3, 0.0)


def test_cube_state_highlight_goes_to_the_first_cube_of_the_active_step_if_inside(chain, side):
    state = ViewState(cube=1, highlight=(4, 2))  # inside the 5×3 output
    assert story.cube_state(chain, 1, state).highlight == (4, 2)
    assert story.cube_state(chain, 0, state).highlight is None  # not the active step
    outside = ViewState(cube=1, highlight=(4, 3))  # column 3 is outside the 5×3 output
    assert story.cube_state(chain, 1, outside).highlight is None
    assert story.cube_state(chain, 0, ViewState(cube=0, highlight=(4, 4))).highlight == (4, 4)
    first, other = story.active_cubes(side, ViewState(cube=0))
    s = ViewState(cube=0, highlight=(0, 0))
    assert story.cube_state(side, first, s).highlight == (0, 0)
    assert story.cube_state(side, other, s).highlight is None  # one highlight per step


# ---------------------------------------------------------------- the beats


def test_beats_of_an_attention_chain(chain):
    plan = story.beats(chain)
    gk0, gk1, st0 = D, SEQ, 2
    # each step: its start, each k-block summed, each stage applied
    assert len(plan) == (1 + gk0 + st0) + (1 + gk1)
    assert sum(b.kind == "sum" for b in plan) == gk0 + gk1
    assert sum(b.kind == "stage" for b in plan) == st0
    assert [b.kind for b in plan if b.step == 0] == ["start"] + ["sum"] * gk0 + ["stage"] * st0
    assert [b.order for b in plan] == sorted(b.order for b in plan)
    assert len({b.order for b in plan}) == len(plan)
    assert plan[0].patch() == {"cube": 0, "k_done": 0, "post": 0.0}
    assert [b.patch() for b in plan if b.step == 0 and b.kind == "stage"] == [
        {"cube": 0, "k_done": None, "post": 1.0},
        {"cube": 0, "k_done": None, "post": 2.0},
    ]
    assert plan[gk0].patch() == {"cube": 0, "k_done": gk0, "post": 0.0}  # summed, before its stages
    assert plan[-2].patch() == {"cube": 1, "k_done": gk1 - 1, "post": 0.0}
    # weights: a step's sum takes 1, a stage STAGE_WEIGHT, a start nothing
    for s in (0, 1):
        assert sum(b.weight for b in plan if b.step == s and b.kind == "sum") == pytest.approx(1.0)
    assert all(b.weight == story.STAGE_WEIGHT for b in plan if b.kind == "stage")
    assert all(b.weight == 0.0 for b in plan if b.kind == "start")


def test_the_last_beat_shows_everything(chain):
    last = story.beats(chain)[-1]
    assert last.patch() == {"cube": None, "k_done": None, "post": None}
    assert last.order == (1, SEQ, 0)
    shown = last.state(chain.initial_state())
    assert shown == chain.initial_state()  # the finished picture is the default one
    for c, cube in enumerate(chain.cubes):
        sub = story.cube_state(chain, c, shown)
        assert story.k_done(cube, sub) == cube.k_steps
        assert story.stage_progress(cube, sub.post) == (len(cube.stages), 0)


def test_beat_state_keeps_camera_interior_and_highlight(chain):
    base = ViewState(azimuth=3.0, zoom=2.0, show_interior=False, highlight=(1, 1))
    s = story.beats(chain)[2].state(base)
    assert (s.azimuth, s.zoom, s.show_interior, s.highlight) == (3.0, 2.0, False, (1, 1))
    assert (s.cube, s.k_done, s.post) == (0, 2, 0.0)


def test_beats_of_a_plain_scene_have_no_steps():
    scene = matmul(A, B)
    plan = story.beats(as_chain(scene))
    assert [b.patch() for b in plan] == [{"cube": None, "k_done": k, "post": None} for k in range(3)] + [
        {"cube": None, "k_done": None, "post": None}
    ]


def test_beats_of_one_cube_with_stages():
    ch = expr("softmax(A @ B)", A=A, B=B)
    plan = story.beats(ch)
    assert [b.patch() for b in plan] == [{"cube": 0, "k_done": k, "post": 0.0} for k in range(4)] + [
        {"cube": None, "k_done": None, "post": None}
    ]


def test_beat_index_finds_every_beat_and_the_nearest_before(chain):
    plan = story.beats(chain)
    base = chain.initial_state()
    for i, b in enumerate(plan):
        assert story.beat_index(chain, b.state(base), plan) == i
    assert story.beat_index(chain, base) == len(plan) - 1  # the opening picture: the end
    # a step's finished picture (the window shows one after a pick): the step's last beat
    last_of_0 = max(i for i, b in enumerate(plan) if b.step == 0)
    assert story.beat_index(chain, ViewState(cube=0)) == last_of_0
    # half a stage applied: the beat before it; the sweep's end (k and post numbers): the end
    assert story.beat_index(chain, ViewState(cube=0, k_done=D, post=1.5)) == D + 1  # start, D sums, stage 1
    assert story.beat_index(chain, ViewState(cube=1, k_done=SEQ, post=0.0)) == len(plan) - 1
    assert story.beat_index(chain, ViewState(cube=1, k_done=2, post=2.0)) == plan.index(
        next(b for b in plan if b.order == (1, 2, 0))
    )
