"""The story of a scene: which step is being built, how far it has got, and the beats in between.

Pure functions over ``Chain`` and ``ViewState`` (no pyvista). A chain is told step after step;
each step sums its cubes over k, one k-block at a time, then applies the stages of its result
face (a scale, a mask, a softmax row by row). ``beats(chain)`` lists those moments; the exporter's
sweep lays them out in time and the window's step keys walk them. "Which step is active" is
answered here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from matviz.scene import Chain, Cube, ViewState


def active_step(chain: Chain, state: ViewState) -> int:
    """The step being built: ``state.cube`` clipped into range; None means the last step."""
    last = chain.n_steps - 1
    return last if state.cube is None else int(np.clip(state.cube, 0, last))


def active_cubes(chain: Chain, state: ViewState) -> list[int]:
    """Indices of the cubes built in the active step (the first one carries the highlight)."""
    active = active_step(chain, state)
    return [c for c, s in enumerate(chain.steps) if s == active]


def k_done(cube: Cube, state: ViewState) -> int:
    """k-blocks of ``cube`` summed in ``state``: ``state.k_done`` (None: all), clipped to 0..k_steps."""
    gk = cube.k_steps
    return gk if state.k_done is None else int(np.clip(state.k_done, 0, gk))


def stage_progress(cube: Cube, post: float | None) -> tuple[int, int]:
    """``(whole, rows)``: ``post`` stages applied means the first ``whole`` stages of ``cube`` are
    done and the next one has reached ``rows`` rows (columns for a column-wise stage).
    ``post=None`` means every stage is applied."""
    n = len(cube.stages)
    if post is None or post >= n:
        return n, 0
    post = max(0.0, float(post))
    whole = int(np.floor(post + 1e-9))
    if whole >= n:  # a hair below n rounds up to "all applied"
        return n, 0
    nxt = cube.stages[whole]
    if nxt.rowwise is None:
        return whole, 0
    count = cube.shape[0] if nxt.rowwise == "rows" else cube.shape[2]
    return whole, int(np.floor((post - whole) * count + 1e-9))


def _inside(cube: Cube, cell) -> bool:
    if cell is None:
        return False
    m, _, n = cube.shape
    return 0 <= cell[0] < m and 0 <= cell[1] < n


def cube_state(chain: Chain, c: int, state: ViewState) -> ViewState:
    """What cube ``c`` shows when the chain shows ``state``: earlier steps are finished, later ones
    have not started (no interior, empty result), the active step shows ``k_done`` and ``post``.
    The highlight goes to the first cube of the active step, if the cell lies inside it."""
    active = active_step(chain, state)
    step = chain.steps[c]
    base = ViewState(state.azimuth, state.elevation, state.zoom, show_interior=state.show_interior)
    if step < active:
        return base
    if step > active:
        return replace(base, k_done=0, post=0.0)
    first = chain.steps.index(step) == c
    hl = state.highlight if first and _inside(chain.cubes[c], state.highlight) else None
    return replace(base, k_done=state.k_done, post=state.post, highlight=hl)


@dataclass(frozen=True)
class Beat:
    """One moment of the explanation, and the move that leads to it.

    ``step`` is the step of the chain being built, ``k`` the k-blocks of that step summed so far
    and ``stages`` the stages applied. Time is counted in whole sums over k: ``weight`` is the
    time of the move into this beat (a k-block ``1/k_steps``, a stage ``STAGE_WEIGHT``, a step's
    start 0) and ``at`` is when that move ends, from the start of the step (``k/k_steps +
    stages·STAGE_WEIGHT``). ``cube``, ``k_done`` and ``post`` are the ViewState fields this beat
    shows (all None: the finished picture).
    """

    step: int
    k: int
    stages: int
    weight: float
    at: float
    cube: int | None
    k_done: int | None
    post: float | None

    @property
    def kind(self) -> str:
        """``"start"`` (a step begins), ``"sum"`` (one more k-block) or ``"stage"`` (one more stage)."""
        return "stage" if self.stages else "sum" if self.k else "start"

    @property
    def order(self) -> tuple[int, int, int]:
        """Where the beat sits in the story; beats are sorted by it."""
        return self.step, self.k, self.stages

    def patch(self) -> dict:
        """The ViewState fields this beat sets."""
        return {"cube": self.cube, "k_done": self.k_done, "post": self.post}

    def state(self, base: ViewState) -> ViewState:
        """``base`` showing this beat (camera, interior and highlight kept)."""
        return replace(base, **self.patch())


STAGE_WEIGHT = 0.5  # time for one stage of the result face, relative to one step's sum over k


def beats(chain: Chain) -> list[Beat]:
    """The beats of ``chain`` in order: for each step, its start, each k-block summed, then each
    of its stages; the last beat is the finished picture (cube, k_done and post all None).

    A single cube without stages keeps ``cube`` and ``post`` None throughout (it has no steps).
    """
    plain = len(chain.cubes) == 1 and not chain.cubes[0].stages
    out = []
    for s in range(chain.n_steps):
        gk, n_stages = chain.k_steps(s), chain.stage_count(s)
        cube, post = (None, None) if plain else (s, 0.0)
        out += [Beat(s, k, 0, 1.0 / gk if k else 0.0, k / gk, cube, k, post) for k in range(gk + 1)]
        out += [
            Beat(s, gk, p, STAGE_WEIGHT, 1.0 + STAGE_WEIGHT * p, cube, None, float(p))
            for p in range(1, n_stages + 1)
        ]
    return out[:-1] + [replace(out[-1], cube=None, k_done=None, post=None)]


def beat_index(chain: Chain, state: ViewState, plan: list[Beat] | None = None) -> int:
    """Index into ``beats(chain)`` (or ``plan``) of the beat ``state`` shows, or of the nearest
    one before it (a stage half applied counts as not yet applied; ``k_done=None`` and ``post=None``
    mean the active step is finished)."""
    plan = beats(chain) if plan is None else plan
    step = active_step(chain, state)
    gk, n_stages = chain.k_steps(step), chain.stage_count(step)
    k = gk if state.k_done is None else int(np.clip(state.k_done, 0, gk))
    if state.post is None or k < gk:
        stages = n_stages if state.post is None and k >= gk else 0
    else:
        stages = int(np.clip(np.floor(state.post + 1e-9), 0, n_stages))
    here = (step, k, stages)
    return max((i for i, b in enumerate(plan) if b.order <= here), default=0)


def still_state(chain: Chain) -> ViewState:
    """The default still of a scene: its clearest state, the finished picture with the interior
    stepped aside (so the interior never covers the result, as in the sweep's last frame)."""
    return replace(chain.initial_state(), show_interior=False)
