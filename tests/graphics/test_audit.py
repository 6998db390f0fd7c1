"""The frame audit (issue 8): negative controls for every rule, and regression tests for the bugs
the issue lists.

Negative controls start from a frame that does not break the rule (asserted first), then break it
by hand on the built view (a label put on another's point, a foreign colour range, ...) and
measure again with ``audit.measure``: the audit must name the rule. Expected values come from the
scene's own data through numpy, never from a copied output.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import matviz as mv
import matviz.graphics  # noqa: F401  (selects EGL when there is no display)
from matviz.animate.timeline import make_timeline
from matviz.graphics import audit as au
from matviz.graphics import colors
from matviz.graphics.offscreen import make_plotter
from matviz.graphics.pen import distinct
from matviz.graphics.sceneview import SceneView
from matviz.scene import ViewState, as_chain
from matviz.story import still_state

FULL = (1280, 720)  # the size the limits are written for
SMALL = (640, 360)  # for rules that do not depend on the frame's size

A = np.array([[1, 2, 3], [4, 5, 6]], dtype=float)
B = np.array([[1, -2], [3, 4], [5, 6]], dtype=float)
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dogs", "while", "seven", "birds", "sing"]


def rules(report) -> set[str]:
    return {v.rule for v in report.violations}


def texts(report) -> dict[str, dict]:
    return {t["name"]: t for t in report.texts}


def faces(report) -> dict[str, dict]:
    return {f["name"]: f for f in report.faces}


def softmax_rows(x: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = x / temperature
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---- scenes and frames, built once ------------------------------------------------------------------


@pytest.fixture(scope="module")
def textbook():
    return mv.matmul(A.tolist(), B.tolist(), highlight=(1, 0))


@pytest.fixture(scope="module")
def textbook_still(textbook):
    return au.audit(textbook)  # the default still at 1280x720


@pytest.fixture(scope="module")
def qkv():
    rng = np.random.default_rng(0)
    return tuple(rng.normal(size=(12, 8)) for _ in range(3))


@pytest.fixture(scope="module")
def attention(qkv):
    q, k, v = qkv
    return mv.attention(q, k, v, tokens=WORDS)


@pytest.fixture(scope="module")
def sweep_frames(attention):
    """The attention sweep sampled at 4 frames, each as ``(report, rules)``: the audit's Report
    and, for every text the pen left out, the rule it gives (read from the same built view)."""
    states = make_timeline("sweep", attention, 6.0).sample(4)
    plotter = make_plotter(FULL)
    try:
        view = SceneView(plotter, attention)
        out = []
        for i, state in enumerate(states):
            view.apply(state)
            rep = au.measure(view, state, FULL, frame=i)
            out.append((rep, {n: t.rule for n, t in view.pen.texts.items()}))
        return out
    finally:
        plotter.close()


@pytest.fixture
def view_at():
    """``view_at(scene, state=None, size=SMALL) -> (view, state)``: a fresh SceneView showing
    ``state`` (None: the default still); its plotter is closed after the test."""
    made = []

    def _make(scene, state=None, size=SMALL):
        plotter = make_plotter(size)
        made.append(plotter)
        view = SceneView(plotter, scene)
        state = state if state is not None else still_state(as_chain(scene))
        view.apply(state)
        return view, state

    yield _make
    for p in made:
        p.close()


# ---- negative controls: a frame built to break each rule is flagged -----------------------------------


def test_clean_textbook_still_has_no_violations(textbook_still):
    assert textbook_still.violations == []


def test_every_rule_is_one_function_in_the_table_measure_walks():
    """``CHECKS`` lists each rule of ``RULES`` once, as its own function; a check only names its rule."""
    assert sorted(au.CHECKS) == sorted(au.RULES)
    assert len({id(fn) for fn in au.CHECKS.values()}) == len(au.RULES)


def test_overlap_two_labels_on_one_point(textbook, view_at):
    view, state = view_at(textbook)
    assert "overlap" not in rules(au.measure(view, state, SMALL))
    view.pen.text("x1", "HELLO", role="name", size=14, pos=(300, 180))
    view.pen.text("x2", "WORLD", role="name", size=14, pos=(300, 180))
    rep = au.measure(view, state, SMALL)
    hits = [v for v in rep.violations if v.rule == "overlap"]
    assert any("HELLO" in v.message and "WORLD" in v.message for v in hits), rep.violations


def test_outside_text_beyond_the_frame(textbook, view_at):
    view, state = view_at(textbook)
    assert "outside" not in rules(au.measure(view, state, SMALL))
    view.pen.text("x1", "OUTSIDE", role="name", size=14, pos=(SMALL[0] + 40, SMALL[1] / 2))
    rep = au.measure(view, state, SMALL)
    assert any(v.rule == "outside" and "OUTSIDE" in v.message for v in rep.violations), rep.violations


def test_hidden_anchor_label_forced_drawn(textbook, view_at):
    state = ViewState(k_done=3, show_interior=True, highlight=(1, 0))
    view, state = view_at(textbook, state)
    rep = au.measure(view, state, SMALL)
    assert "hidden-anchor" not in rules(rep)
    seen = texts(rep)
    behind = [t for t in view.pen.texts.values() if t.reason == "hidden" and seen[t.name]["anchor_hidden"]]
    assert behind, "the interior hides no label: the control has nothing to force"
    t = behind[0]
    t.drawn = True
    t.actor.SetVisibility(True)
    rep = au.measure(view, state, SMALL)
    assert any(v.rule == "hidden-anchor" and repr(t.text) in v.message for v in rep.violations), rep.violations


def test_hidden_anchor_number_seen_through_the_back_of_its_face(textbook, view_at):
    """Seen from behind (azimuth 180), C's numbers sit behind C itself; drawn anyway, they are
    labels whose anchor is hidden."""
    view, state = view_at(textbook, ViewState(azimuth=180.0, show_interior=False))
    backs = [t for n, t in view.pen.texts.items() if n.startswith("c0-face-result-n")]
    assert backs and all(not t.drawn and t.reason == "hidden" for t in backs)
    for t in backs:
        t.drawn, t.reason = True, ""
        t.actor.SetVisibility(True)
    rep = au.measure(view, state, SMALL)
    flagged = {v.message for v in rep.violations if v.rule == "hidden-anchor"}
    missed = [t.text for t in backs if not any(repr(t.text) in m for m in flagged)]
    assert not missed, f"numbers drawn through the back of C not flagged: {missed}"


def test_numbers_hidden_behind_their_own_face_are_not_flagged(textbook):
    """From behind (azimuth 180) C's numbers lie behind C: left out as hidden, rightly."""
    rep = au.audit(textbook, ViewState(azimuth=180.0, show_interior=False), SMALL)
    backs = [t for t in rep.texts if t["name"].startswith("c0-face-result-n")]
    assert backs and all(not t["drawn"] and t["reason"] == "hidden" for t in backs)
    assert [v.message for v in rep.violations if v.rule == "not-drawn"] == []


def test_not_drawn_thinned_without_the_frame_saying_so(textbook, view_at):
    view, state = view_at(textbook)
    assert "not-drawn" not in rules(au.measure(view, state, SMALL))
    t = view.pen.texts["c0-face-left-n0-0"]
    assert t.text == colors.fmt(A[0, 0]) and t.drawn
    t.drawn, t.reason, t.rule = False, "thinned", "some rule not in the notes"
    t.actor.SetVisibility(False)
    rep = au.measure(view, state, SMALL)
    assert any(v.rule == "not-drawn" and repr(t.text) in v.message for v in rep.violations), rep.violations


def test_not_drawn_without_any_reason(textbook, view_at):
    view, state = view_at(textbook)
    t = view.pen.texts["c0-face-top-n1-1"]
    assert t.text == colors.fmt(B[1, 1]) and t.drawn
    t.drawn, t.reason, t.rule = False, "", ""
    t.actor.SetVisibility(False)
    rep = au.measure(view, state, SMALL)
    assert any(v.rule == "not-drawn" and repr(t.text) in v.message for v in rep.violations), rep.violations


def test_not_drawn_marked_hidden_but_in_plain_sight(textbook, view_at):
    view, state = view_at(textbook)
    rep = au.measure(view, state, SMALL)
    assert "not-drawn" not in rules(rep)
    name = "c0-face-result-n1-1"
    t = view.pen.texts[name]
    assert t.text == colors.fmt((A @ B)[1, 1]) and t.drawn and not texts(rep)[name]["anchor_hidden"]
    t.drawn, t.reason = False, "hidden"
    t.actor.SetVisibility(False)
    rep = au.measure(view, state, SMALL)
    assert any(v.rule == "not-drawn" and repr(t.text) in v.message for v in rep.violations), rep.violations


def test_text_size_tiny_font(textbook, view_at):
    view, state = view_at(textbook, size=FULL)  # the limit is 11 px at 720 rows
    assert "text-size" not in rules(au.measure(view, state, FULL))
    t = view.pen.texts["c0-name-left"]
    assert t.drawn
    t.size = 6
    t.actor.GetTextProperty().SetFontSize(6)
    rep = au.measure(view, state, FULL)
    assert any(v.rule == "text-size" and repr(t.text) in v.message for v in rep.violations), rep.violations


def test_color_range_foreign_range(textbook, view_at):
    view, state = view_at(textbook)
    assert "color-range" not in rules(au.measure(view, state, SMALL))
    fv = view.views[0].faces["top"]
    hi = 10 * float(np.abs(B).max())
    fv.set_clim((-hi, hi))
    rep = au.measure(view, state, SMALL)
    assert faces(rep)["c0-face-top"]["color_range"] == [-hi, hi]
    assert any(v.rule == "color-range" and "'B'" in v.message for v in rep.violations), rep.violations


def legend_of(view, face: str):
    """The legend that colours ``face`` (legends are keyed by quantity, found by the faces they colour)."""
    return next(leg for leg in view.pen.legends.values() if face in leg.faces)


def test_shared_legend_not_named_shared(textbook, view_at):
    view, state = view_at(textbook)
    assert "shared-legend" not in rules(au.measure(view, state, SMALL))
    leg = legend_of(view, "c0-face-top")
    assert leg.faces == ["c0-face-top"] and not leg.shared
    leg.faces.append("c0-face-left")  # A's face on B's legend
    rep = au.measure(view, state, SMALL)
    assert "shared-legend" in rules(rep), rep.violations


def test_clipped_range_without_a_mark(textbook, view_at):
    view, state = view_at(textbook)
    assert "clipped" not in rules(au.measure(view, state, SMALL))
    fv = view.views[0].faces["left"]
    fv.set_clim((float(A.min()), float(A.max()) - 2))
    leg = legend_of(view, "c0-face-left")
    assert leg.above is None
    rep = au.measure(view, state, SMALL)
    assert any(v.rule == "clipped" for v in rep.violations), rep.violations
    assert next(lg for lg in rep.legends if lg["key"] == leg.key)["clipped"]


def test_subject_covered_by_the_interior(textbook, view_at, textbook_still):
    assert "subject" not in rules(textbook_still)
    state = dataclasses.replace(still_state(as_chain(textbook)), show_interior=True)
    view, state = view_at(textbook, state)
    rep = au.measure(view, state, SMALL, still=True)
    assert faces(rep)["c0-face-result"]["visible"] < au.SUBJECT_VISIBLE
    assert "subject" in rules(rep), rep.violations


def test_subject_seen_from_behind(textbook, view_at):
    """Azimuth 180 looks at the back of C: not the face-on picture the still must show."""
    state = dataclasses.replace(still_state(as_chain(textbook)), azimuth=180.0)
    view, state = view_at(textbook, state)
    rep = au.measure(view, state, SMALL, still=True)
    assert "subject" in rules(rep), (faces(rep)["c0-face-result"], rep.violations)


# ---- regression tests for the bugs of issue 8 -----------------------------------------------------------


def test_no_number_drawn_over_hidden_anchor(textbook):
    rep = au.audit(textbook, ViewState(k_done=1), FULL)
    assert "hidden-anchor" not in rules(rep), rep.violations
    drawn_hidden = [t["text"] for t in rep.texts if t["role"] == "number" and t["drawn"] and t["anchor_hidden"]]
    assert drawn_hidden == []
    five = texts(rep)["c0-face-top-n2-0"]  # B[2, 0], on the face behind the product cubes
    assert five["text"] == colors.fmt(B[2, 0])
    if five["anchor_hidden"]:
        assert not five["drawn"] and five["reason"] == "hidden"


def test_two_softmaxes_keep_their_own_colours_and_legends():
    cam = mv.load("sample:camera", shape=(64, 64))
    scene = mv.expr("softmax(A, rows, temperature=0.05) @ softmax(A, rows, temperature=0.5).T", A=cam)
    rep = au.audit(scene)
    assert not rules(rep) & {"color-range", "shared-legend"}, rep.violations
    top = softmax_rows(np.asarray(cam.values, dtype=float), 0.5).T
    face = faces(rep)["c0-face-top"]
    np.testing.assert_allclose(face["color_range"], [top.min(), top.max()], rtol=1e-6)
    legs = {l["key"]: l for l in rep.legends}
    left, right = legs[faces(rep)["c0-face-left"]["legend"]], legs[face["legend"]]
    assert left["shown"] and right["shown"]
    assert left["title"] != right["title"]
    assert left["faces"] == ["c0-face-left"] and right["faces"] == ["c0-face-top"]


def test_tokens_never_dropped_silently(sweep_frames):
    for rep, rule_of in sweep_frames:
        t = texts(rep)
        notes = t["notes"]["text"] if "notes" in t and t["notes"]["drawn"] else ""
        tokens = [x for x in rep.texts if x["role"] == "token"]
        assert sorted({x["text"] for x in tokens}) == sorted(WORDS)
        for x in tokens:
            if x["drawn"] or x["reason"] == "hidden":
                continue
            assert x["reason"] == "thinned", (rep.frame, x)
            rule = " ".join(rule_of[x["name"]].split())
            assert rule and rule in " ".join(notes.split()), (rep.frame, x["text"], rule, notes)
    assert not any("not-drawn" == v.rule for rep, _ in sweep_frames for v in rep.violations)


def test_sweep_frames_have_no_not_drawn_violation(sweep_frames):
    bad = [(rep.frame, v.message) for rep, _ in sweep_frames for v in rep.violations if v.rule == "not-drawn"]
    assert bad == []


def test_shortened_names_stay_distinct():
    base = "softmax(attention_scores, rows, temperature=0.5) @ softmax(attention_scores, rows, temperature=0.5)"
    names = [base, base + ".T"]
    short = distinct(names, 24)
    assert len(short) == 2 and short[0] != short[1]
    assert short[1].endswith(".T") and not short[0].endswith(".T")


def test_running_sums_coloured_on_a_range_that_holds_them(textbook):
    rep = au.audit(textbook, ViewState(k_done=1), FULL)
    face = faces(rep)["c0-face-result"]
    shown = A[:, :1] @ B[:1, :]  # the sum after one step over k: holds 4 * (-2) = -8
    assert shown.min() == A[1, 0] * B[0, 1]
    np.testing.assert_allclose(face["data_range"], [shown.min(), shown.max()])
    lo, hi = face["color_range"]
    running = np.cumsum(A[:, :, None] * B[None, :, :], axis=1)  # every running sum, (m, k, n)
    assert lo <= running.min() and hi >= running.max()
    assert "color-range" not in rules(rep) and "clipped" not in rules(rep), rep.violations


def test_probability_legend_holds_its_max_or_says_it_saturates(attention, qkv):
    q, k, _ = qkv
    p = softmax_rows(q @ k.T / np.sqrt(q.shape[1]))
    rep = au.audit(attention, None, SMALL)
    probs = [f for f in rep.faces if f["matrix"].startswith("softmax")]
    assert probs, [f["matrix"] for f in rep.faces]
    face = probs[0]
    np.testing.assert_allclose(face["data_range"], [p.min(), p.max()], rtol=1e-9)
    leg = next(l for l in rep.legends if l["key"] == face["legend"])
    assert leg["shown"]
    assert leg["range"][1] >= p.max() - 1e-12 or leg["marked"], leg
    assert "clipped" not in rules(rep), rep.violations


@pytest.mark.parametrize("kind", ["textbook", "images"])
def test_default_still_shows_its_subject(kind, textbook, textbook_still):
    if kind == "textbook":
        rep = textbook_still
    else:
        scene = mv.matmul(mv.load("sample:camera", shape=(48, 48)), mv.load("sample:coins", shape=(48, 48)))
        rep = au.audit(scene)
    assert "subject" not in rules(rep), rep.violations
    assert faces(rep)["c0-face-result"]["visible"] >= 0.9


# ---- found by auditing more than the gallery ------------------------------------------------------------


def test_orbit_hides_numbers_of_faces_seen_edge_on_or_from_behind(textbook):
    """A full orbit passes the audit: numbers on a face seen from behind or edge-on are not drawn,
    and the audit agrees they are out of sight (it used to flag them either way)."""
    from matviz.animate.timeline import make_timeline

    states = make_timeline("orbit", textbook, 6.0).sample(12)
    reports = au.audit_frames(textbook, states, SMALL, still=False)
    assert [v for r in reports for v in r.violations] == []
    hidden = [t for r in reports for t in r.texts if t["role"] == "number" and not t["drawn"] and t["reason"] == "hidden"]
    assert hidden, "an orbit never hides a face's numbers: the back of the box was not reached"


def test_volume_legend_marks_clipping_on_both_ends():
    """A signed volume is coloured on its 99th percentile: both ends saturate and the legend says so."""
    rng = np.random.default_rng(1)
    scene = mv.matmul(rng.standard_normal((32, 24)), rng.standard_normal((24, 64)))
    state = dataclasses.replace(scene.initial_state(), show_interior=True)
    rep = au.audit(scene, state, SMALL)
    leg = next(lg for lg in rep.legends if lg["title"].startswith("products"))
    interior = scene.interior
    assert leg["range"][0] > interior.min() and leg["range"][1] < interior.max()  # clipped on both ends
    assert leg["clipped"] and leg["marked"]
    assert "clipped" not in rules(rep)


def test_a_chain_of_products_shows_its_final_result_flat():
    """(A @ B) @ C: the final result sits at the far end of the chain, small and oblique in 3D;
    the still shows it flat beside the chain, and that panel passes the subject rule."""
    rng = np.random.default_rng(4)
    a, b, c = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal((3, 6))
    chain = mv.expr("(A @ B) @ C", A=a, B=b, C=c)
    rep = au.audit(chain, None, SMALL)
    assert rep.violations == []
    panel = faces(rep)["panel"]
    np.testing.assert_allclose(panel["data_range"], [(a @ b @ c).min(), (a @ b @ c).max()])
    assert panel["area"] >= au.SUBJECT_AREA
