"""matviz.graphics.sceneview.SceneView of a chain: chains of cubes (attention) on real offscreen frames.

Faces are drawn unlit, so the pixel at the projected centre of a face cell has the colour the
colormap gives its value: every expectation below comes from the inputs (numpy oracles of
softmax(Q K^T / sqrt(d)) V), the cube geometry (``view.world(face.point(r + 0.5, c + 0.5))``) and
the colormaps, never from what the renderer produced.

Pixel probes pin the camera (``CAMERA``) so they do not depend on the chain's default angles, and
use compact views (no legends, axis names or tokens) so no label lies over a probed cell.
"""

from __future__ import annotations

from dataclasses import replace

import imageio.v3 as iio
import numpy as np
import pytest

import matviz
from matviz.animate.timeline import make_timeline
from matviz.chain import attention
from matviz.graphics import offscreen
from matviz.graphics.faces import GHOST, HIDDEN
from matviz.graphics.sceneview import SceneView
from matviz.scene import ViewState

SEQ, D = 6, 4  # tokens, head size
SIZE = (640, 360)
CAMERA = dict(azimuth=20.0, elevation=-38.0)  # sees the shared face from the front of the first cube
SIDE = dict(azimuth=70.0, elevation=-20.0)  # sees the second cube's result face (edge-on from CAMERA)
COLOR_TOL = 8.0  # per channel, 0..255
NAN_RGB = np.array([0xBB, 0xBB, 0xBB])  # the stages' nan_color: masked entries
BACKGROUND = np.array([255, 255, 255])


def qkv(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((SEQ, D)) for _ in range(3))


def oracle(seed: int = 0, causal: bool = False) -> dict[str, np.ndarray]:
    """What attention draws, computed here with plain numpy."""
    q, k, v = qkv(seed)
    scores = q @ k.T  # the first cube's sum
    scaled = scores / np.sqrt(D)
    masked = np.where(np.triu(np.ones((SEQ, SEQ), dtype=bool), 1), -np.inf, scaled) if causal else scaled
    e = np.exp(masked - masked.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    return dict(q=q, k=k, v=v, scores=scores, scaled=scaled, masked=masked, probs=probs, out=probs @ v)


def signed_lim(values: np.ndarray) -> tuple[float, float]:
    r = float(np.abs(values[np.isfinite(values)]).max())
    return -r, r


def drawn(fa) -> np.ndarray:
    """The values a face grid carries, as a (rows, cols) matrix (VTK stores them first index fastest)."""
    er, ec = fa.edges
    return np.asarray(fa.grid.cell_data["values"]).reshape((len(er) - 1, len(ec) - 1), order="F")


def ghosts(fa) -> np.ndarray:
    er, ec = fa.edges
    return np.asarray(fa.grid.cell_data[GHOST]).reshape((len(er) - 1, len(ec) - 1), order="F")


def pixel(img, plotter, project, view, fa, r: int, c: int) -> np.ndarray:
    """The frame's colour at the centre of cell ``[r, c]`` of face ``fa`` of ``view`` (placed in the world)."""
    return img[project(plotter, view.world(fa.face.point(r + 0.5, c + 0.5)))].astype(float)


def far(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).max())


def changed_fraction(a: np.ndarray, b: np.ndarray, threshold: int = 40) -> float:
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > threshold).mean())


def coloured(img: np.ndarray) -> np.ndarray:
    """Pixels that are neither background white nor gray/black text: some channel spread."""
    px = img[..., :3].astype(int)
    return (px.max(-1) - px.min(-1)) > 40


@pytest.fixture(scope="module")
def chain():
    return attention(*qkv())


@pytest.fixture(scope="module")
def causal_chain():
    return attention(*qkv(), causal=True)


@pytest.fixture
def make_chain_view():
    """Factory ``make_chain_view(chain, size=SIZE, compact=True) -> (plotter, SceneView)``, closed afterwards."""
    made = []

    def _make(chain, size=SIZE, compact=True):
        plotter = offscreen.make_plotter(size)
        made.append(plotter)
        return plotter, SceneView(plotter, chain, compact=compact)

    yield _make
    for p in made:
        p.close()


def show(plotter, cv, **state) -> np.ndarray:
    """Apply a state (camera pinned to CAMERA unless given, interior hidden unless asked) and return the frame."""
    state = {**CAMERA, "show_interior": False, **state}
    cv.apply(ViewState(**state))
    return offscreen.screenshot(plotter)


# ---------------------------------------------------------------- the chain's structure


def test_attention_chain_is_two_linked_cubes(chain):
    o = oracle()
    assert len(chain.cubes) == 2 and chain.steps == [0, 1]
    first, second = chain.cubes
    assert first.shape == (SEQ, D, SEQ) and second.shape == (SEQ, SEQ, D)
    assert [s.label for s in first.stages] == ["/ sqrt(d)", "softmax(rows)"] and not second.stages
    np.testing.assert_allclose(first.result.values, o["scores"])
    np.testing.assert_allclose(first.stages[-1].values, o["probs"])
    np.testing.assert_allclose(second.left.values, o["probs"])
    np.testing.assert_allclose(chain.result.values, o["out"])


def test_shared_face_is_drawn_once_where_both_cubes_meet(chain, make_chain_view):
    plotter, cv = make_chain_view(chain)
    first, second = cv.views
    assert set(first.faces) == {"left", "top", "result"}
    assert "left" not in second.faces and set(second.faces) == {"top", "result"}
    names = set(plotter.actors)
    assert "c0-face-left" in names and "c1-face-top" in names and "c1-face-result" in names
    assert "c1-face-left" not in names
    # the hidden face of the second cube lies exactly on the first cube's result face, cell by cell
    rows, cols = np.arange(SEQ + 1), np.arange(SEQ + 1)
    mine = second.world(second.layout.left.corners(rows, cols))
    theirs = first.world(first.layout.result.corners(rows, cols))
    np.testing.assert_allclose(mine, theirs, atol=1e-9)


# ---------------------------------------------------------------- the result face's stages


def test_probability_face_shows_the_softmax_colours(chain, make_chain_view, project, cmap_rgb):
    o = oracle()
    plotter, cv = make_chain_view(chain)
    img = show(plotter, cv)  # the finished picture
    first = cv.views[0]
    fa = first.stage_faces[-1]
    assert fa.actor.GetVisibility() and not first.faces["result"].actor.GetVisibility()
    assert not first.stage_faces[0].actor.GetVisibility()
    np.testing.assert_allclose(drawn(fa), o["probs"])
    assert (ghosts(fa) == 0).all()
    # probabilities: a sequential map from 0, saturating the top 0.5% (most weights are small)
    assert fa.clim[0] == 0.0 and fa.clim[1] == pytest.approx(np.percentile(o["probs"], 99.5))
    for r in range(SEQ):
        for c in range(SEQ):
            got = pixel(img, plotter, project, first, fa, r, c)
            want = cmap_rgb("nonneg", fa.clim, o["probs"][r, c])
            assert far(got, want) <= COLOR_TOL, f"P[{r},{c}]={o['probs'][r, c]:.3f}: pixel {got}, colormap {want}"
            # not drawn transposed: where P[c, r] has a clearly different colour, the pixel is not it
            other = cmap_rgb("nonneg", fa.clim, o["probs"][c, r])
            if far(other, want) > 4 * COLOR_TOL:
                assert far(got, other) > 2 * COLOR_TOL, f"P[{r},{c}] drawn with the colour of P[{c},{r}]"


def test_before_the_stages_the_face_shows_the_raw_scores(chain, make_chain_view, project, cmap_rgb):
    o = oracle()
    plotter, cv = make_chain_view(chain)
    img = show(plotter, cv, cube=0, k_done=None, post=0.0)
    first = cv.views[0]
    fa = first.faces["result"]
    assert fa.actor.GetVisibility()
    assert not any(s.actor.GetVisibility() for s in first.stage_faces)
    np.testing.assert_allclose(drawn(fa), o["scores"])
    lim = signed_lim(o["scores"])  # signed: symmetric about 0
    assert first.face_clim("result") == pytest.approx(lim)
    prob_lim = (0.0, float(np.percentile(o["probs"], 99.5)))
    differs = 0
    for r in range(SEQ):
        for c in range(SEQ):
            got = pixel(img, plotter, project, first, fa, r, c)
            want = cmap_rgb("signed", lim, o["scores"][r, c])
            assert far(got, want) <= COLOR_TOL, f"S[{r},{c}]={o['scores'][r, c]:.3f}: pixel {got}, colormap {want}"
            differs += far(got, cmap_rgb("nonneg", prob_lim, o["probs"][r, c])) > 4 * COLOR_TOL
    assert differs >= SEQ * SEQ - 2, "the scores look like the probabilities"


def test_causal_mask_stage_draws_masked_cells_gray(causal_chain, make_chain_view, project, cmap_rgb):
    o = oracle(causal=True)
    plotter, cv = make_chain_view(causal_chain)
    first = cv.views[0]
    assert [s.label for s in first.cube.stages] == ["/ sqrt(d)", "causal mask", "softmax(rows)"]
    img = show(plotter, cv, cube=0, k_done=None, post=2.0)  # scaled and masked, softmax not started
    fa = first.stage_faces[1]
    assert [bool(s.actor.GetVisibility()) for s in first.stage_faces] == [False, True, False]
    lim = signed_lim(o["masked"])
    assert fa.clim == pytest.approx(lim)
    upper = np.triu(np.ones((SEQ, SEQ), dtype=bool), 1)
    assert np.isnan(drawn(fa)[upper]).all()
    np.testing.assert_allclose(drawn(fa)[~upper], o["scaled"][~upper])
    for r in range(SEQ):
        for c in range(SEQ):
            got = pixel(img, plotter, project, first, fa, r, c)
            want = NAN_RGB if c > r else cmap_rgb("signed", lim, o["scaled"][r, c])
            assert far(got, want) <= COLOR_TOL, f"masked scores [{r},{c}]: pixel {got}, want {want}"
    # after the softmax the masked entries are exact zeros: drawn in the colour of 0, not gray
    img = show(plotter, cv, cube=0, k_done=None, post=None)
    fp = first.stage_faces[2]
    zero = cmap_rgb("nonneg", fp.clim, 0.0)
    assert far(zero, NAN_RGB) > 4 * COLOR_TOL
    for r, c in [(0, 1), (0, 5), (2, 4), (4, 5)]:
        got = pixel(img, plotter, project, first, fp, r, c)
        assert far(got, zero) <= COLOR_TOL, f"P[{r},{c}] (masked) is {got}, want the colour of 0 {zero}"


def test_softmax_part_way_shows_probabilities_above_and_scores_below(causal_chain, make_chain_view, project, cmap_rgb):
    """post = 2.5 with three stages: the causal mask is done, the softmax has reached half the rows."""
    o = oracle(causal=True)
    plotter, cv = make_chain_view(causal_chain)
    first = cv.views[0]
    img = show(plotter, cv, cube=0, k_done=None, post=2.5)
    done = SEQ // 2  # rows 0..2 are softmaxed
    scaled_fa, masked_fa, probs_fa = first.stage_faces
    assert not first.faces["result"].actor.GetVisibility() and not scaled_fa.actor.GetVisibility()
    assert masked_fa.actor.GetVisibility() and probs_fa.actor.GetVisibility()
    row = np.arange(SEQ)[:, None] * np.ones((1, SEQ), dtype=int)
    np.testing.assert_array_equal(ghosts(probs_fa), np.where(row < done, 0, HIDDEN))
    np.testing.assert_array_equal(ghosts(masked_fa), np.where(row < done, HIDDEN, 0))
    # one row on each side of the cut, every cell
    above, below = 1, 4
    for c in range(SEQ):
        got = pixel(img, plotter, project, first, probs_fa, above, c)
        want = cmap_rgb("nonneg", probs_fa.clim, o["probs"][above, c])
        assert far(got, want) <= COLOR_TOL, f"row {above} (softmaxed) [{c}]: pixel {got}, want {want}"
        got = pixel(img, plotter, project, first, masked_fa, below, c)
        want = NAN_RGB if c > below else cmap_rgb("signed", masked_fa.clim, o["scaled"][below, c])
        assert far(got, want) <= COLOR_TOL, f"row {below} (masked scores) [{c}]: pixel {got}, want {want}"
        # ... and not the other level's colour (the hidden cells of the coplanar face are really hidden)
        if far(want, cmap_rgb("nonneg", probs_fa.clim, o["probs"][below, c])) > 4 * COLOR_TOL:
            assert far(got, cmap_rgb("nonneg", probs_fa.clim, o["probs"][below, c])) > 2 * COLOR_TOL
    # the whole softmax done: no ghosts left, the probabilities everywhere
    show(plotter, cv, cube=0, k_done=None, post=3.0)
    assert (ghosts(probs_fa) == 0).all() and not masked_fa.actor.GetVisibility()


# ---------------------------------------------------------------- steps of the chain


def test_first_step_leaves_the_second_cube_empty(chain, make_chain_view, project, cmap_rgb):
    o = oracle()
    plotter, cv = make_chain_view(chain)
    first, second = cv.views
    sub = cv.sub_state(1, ViewState(cube=0))
    assert (sub.k_done, sub.post) == (0, 0.0)
    cv.apply(ViewState(**CAMERA, cube=0))  # the first cube finished, interior on
    assert all(a.GetVisibility() for a in first.interior.slices) and len(first.interior.slices) == D
    assert first.stage_faces[-1].actor.GetVisibility()
    assert second.interior.slices and not any(a.GetVisibility() for a in second.interior.slices)
    np.testing.assert_array_equal(drawn(second.faces["result"]), np.zeros((SEQ, D)))
    # pixels of the empty result face: the colour of 0 in its (final) range
    img = show(plotter, cv, cube=0, **SIDE)
    fa = second.faces["result"]
    lim = second.face_clim("result")
    assert lim == pytest.approx(signed_lim(o["out"]))
    zero, full = cmap_rgb("signed", lim, 0.0), cmap_rgb("signed", lim, o["out"])
    for r in range(SEQ):
        for c in range(D):
            got = pixel(img, plotter, project, second, fa, r, c)
            assert far(got, zero) <= COLOR_TOL, f"empty result [{r},{c}]: pixel {got}, want {zero}"
            if far(full[r, c], zero) > 4 * COLOR_TOL:
                assert far(got, full[r, c]) > 2 * COLOR_TOL, f"empty result [{r},{c}] shows the final value"
    # the finished chain: every interior slice of both cubes, the output P @ V on the last face
    cv.apply(ViewState(**CAMERA))
    assert all(a.GetVisibility() for v in cv.views for a in v.interior.slices)
    assert first.stage_faces[-1].actor.GetVisibility() and fa.actor.GetVisibility()
    np.testing.assert_allclose(drawn(fa), o["out"])
    img = show(plotter, cv, **SIDE)
    for r in range(SEQ):
        for c in range(D):
            got = pixel(img, plotter, project, second, fa, r, c)
            assert far(got, full[r, c]) <= COLOR_TOL, f"output [{r},{c}]={o['out'][r, c]:.3f}: {got}, want {full[r, c]}"


def test_sweep_frames_move_through_both_cubes(chain):
    timeline = make_timeline("sweep", chain)
    states = timeline.sample(8)
    assert {s.cube for s in states} == {0, 1}
    shots = list(offscreen.frames(chain, states, size=(320, 180)))
    assert len(shots) == 8
    for i, (a, b) in enumerate(zip(shots, shots[1:])):
        assert changed_fraction(a, b) > 0.005, f"sweep frames {i} and {i + 1} are the same picture"


# ---------------------------------------------------------------- whole frames


def test_frame_is_drawn_and_both_cubes_contribute(chain, make_chain_view, project):
    plotter, cv = make_chain_view(chain, compact=False)  # default camera, legends, labels
    img = offscreen.screenshot(plotter)
    painted = np.abs(img.astype(int) - BACKGROUND).max(-1) > 30
    # the chain is framed to fill the area between the title band and the legend band
    h = img.shape[0]
    top = h - min(t.box(cv.pen.renderer)[2] for t in cv.pen.texts.values() if t.anchor is None and t.drawn
                  and t.role in ("title", "status", "note"))
    bottom = h - cv.pen.bottom_band
    rows, cols = np.nonzero(painted[int(top) : int(bottom)])
    assert rows.size, "nothing is drawn between the bands"
    span = max(np.ptp(rows) / (bottom - top), np.ptp(cols) / img.shape[1])
    assert span > 0.8, f"the chain fills only {span:.0%} of the room left by title and legends"
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 100
    # hide each cube's own actors in turn: the pixels that change lie in that cube's projected box
    for c, view in enumerate(cv.views):
        corners = np.array(
            [[x, y, z] for x in view.cube.bounds[0:2] for y in view.cube.bounds[2:4] for z in view.cube.bounds[4:6]]
        )
        px = np.array([project(plotter, p) for p in corners])
        (r0, c0), (r1, c1) = np.clip(px.min(0), 0, None), np.minimum(px.max(0) + 1, img.shape[:2])
        region = img[r0:r1, c0:c1]
        assert region.size and coloured(region).mean() > 0.15, f"cube {c}'s region has little colour"
        own = {a: a.GetVisibility() for name, a in plotter.actors.items() if name.startswith(f"c{c}-")}
        assert own
        for a in own:
            a.SetVisibility(False)
        without = offscreen.screenshot(plotter)
        for a, visible in own.items():
            a.SetVisibility(visible)
        diff = np.abs(img.astype(int) - without.astype(int)).max(-1) > 40
        assert diff.sum() > 500, f"cube {c} draws almost nothing ({diff.sum()} pixels)"
        inside = diff[r0:r1, c0:c1].sum()
        assert inside > 0.8 * diff.sum(), f"cube {c}'s pixels are not where its geometry projects"


def test_grid_of_chains_is_one_png_of_flat_heatmaps(tmp_path, cmap_rgb):
    """A list of attention chains is one picture: each head's probabilities as a flat heatmap on one
    shared scale; every probed cell has the colour of its probability (numpy softmax oracle)."""
    from matviz.graphics.heads_grid import HeadGrid

    chains = [attention(*qkv(seed), title=f"layer 0 head {seed}") for seed in (1, 2, 3)]
    paths = matviz.export(chains, tmp_path / "g.png", size=(640, 360))
    assert paths == [tmp_path / "g.png"]
    img = iio.imread(tmp_path / "g.png")[..., :3]
    assert img.shape == (360, 640, 3)
    plotter = offscreen.make_plotter((640, 360))
    try:
        grid = HeadGrid(plotter, chains)
        lim = grid.lut.GetRange()
        assert lim[0] == 0.0
        for seed, tile in zip((1, 2, 3), grid.tiles):
            probs = oracle(seed)["probs"]
            x0, x1, y0, y1 = tile.rect
            side = (x1 - x0) / SEQ
            for r, c in [(0, 0), (2, 3), (SEQ - 1, SEQ - 1), (4, 1)]:
                col, row = int(x0 + (c + 0.5) * side), int(360 - 1 - (y1 - (r + 0.5) * side))
                want = cmap_rgb("nonneg", lim, min(probs[r, c], lim[1]))
                assert far(img[row, col], want) < COLOR_TOL, (seed, r, c, img[row, col], want)
    finally:
        plotter.close()


def test_grid_frames_the_sink_heads_and_says_what_the_frame_means(tmp_path):
    """A head whose chain says it is a sink (``chain.head.sink``, as model heads get it) is framed
    in gray in the gap around its tile; the other tiles are not; the notes line explains the frame.
    The fact travels as data: a chain that only says so in its notes is not framed."""
    from dataclasses import replace as _replace

    from matviz.graphics.heads_grid import SINK_FRAME, SINK_RULE
    from matviz.scene import ModelHead
    from matviz.sources.heads import sink_mass, sink_note

    chains = [attention(*qkv(seed), title=f"layer 0 head {seed}") for seed in (1, 2, 3)]
    sunk = np.zeros((SEQ, SEQ))
    sunk[:, 0] = 1.0  # every query on the first token
    note = sink_note(0, 2, sunk)
    assert note is not None
    chains = [_replace(c, head=ModelHead(0, seed)) for seed, c in zip((1, 2, 3), chains)]
    chains[1] = _replace(chains[1], head=ModelHead(0, 2, True, sink_mass(sunk), note))
    chains[2] = _replace(chains[2], notes=(*chains[2].notes, sink_note(0, 3, sunk)))  # prose only: no frame
    size = (640, 360)
    plotter = offscreen.make_plotter(size)
    try:
        grid = HeadGrid_of(plotter, chains)
        img = offscreen.screenshot(plotter)
        notes = grid.pen.texts["notes"]
        assert SINK_RULE in notes.text and notes.drawn
        gray = np.array(SINK_FRAME) * 255
        for tile, framed in zip(grid.tiles, (False, True, False)):
            x0, x1, y0, y1 = tile.rect
            d = grid.sink_gap  # where the frame runs, in the gap around the tile
            assert d >= 2
            mid_r, mid_c = int(round(size[1] - 1 - (y0 + y1) / 2)), int(round((x0 + x1) / 2))
            ring = [(mid_r, int(round(x0 - d))), (mid_r, int(round(x1 + d))),
                    (int(round(size[1] - 1 - (y1 + d))), mid_c), (int(round(size[1] - 1 - (y0 - d))), mid_c)]
            hits = [np.abs(img[r - 1:r + 2, c - 1:c + 2].astype(int) - gray).max(-1).min() < 30 for r, c in ring]
            assert all(hits) if framed else not any(hits), (tile.matrix, hits)
    finally:
        plotter.close()


def HeadGrid_of(plotter, chains):
    from matviz.graphics.heads_grid import HeadGrid

    grid = HeadGrid(plotter, chains)
    plotter.render_window.Render()
    return grid


# ---------------------------------------------------------------- image regression


@pytest.fixture(scope="module")
def regression_chain():
    """A small fixed attention chain: causal, tokens on the axes; camera pinned (not the chain default)."""
    chain = attention(*qkv(), causal=True, tokens="the cat sat on the mat".split())
    return chain, replace(chain.initial_state(), azimuth=50.0, elevation=-35.0)


def test_attention_matches_baseline(regression_chain, tmp_path):
    from test_regression import BASELINES, REGEN, SIZE as REG_SIZE, compare

    chain, state = regression_chain
    frame = offscreen.render(chain, state, size=REG_SIZE)
    assert frame.shape == (REG_SIZE[1], REG_SIZE[0], 3) and frame.dtype == np.uint8
    path = BASELINES / "attention.png"
    if REGEN:
        iio.imwrite(path, frame)
        pytest.fail(f"baseline regenerated: {path} (look at it, then run again without MATVIZ_REGEN_BASELINES)")
    assert path.exists(), f"no baseline {path}: run with MATVIZ_REGEN_BASELINES=1 once and look at the PNG"
    baseline = iio.imread(path)
    ok, report = compare(frame, baseline)
    if not ok:
        iio.imwrite(tmp_path / "attention.png", frame)
        pytest.fail(f"attention differs from {path}: {report}; this run's frame is {tmp_path / 'attention.png'}")
    # negative control: the same chain before its softmax (scores on the shared face) is caught
    before = offscreen.render(chain, replace(state, cube=0, k_done=None, post=0.0), size=REG_SIZE)
    ok, report = compare(before, baseline)
    assert not ok, f"the tolerance accepts the chain before its softmax: {report}"
