"""Chains of cubes: an expression's products, attention's two linked cubes, side-by-side comparisons.

    s = expr("softmax(Q @ K.T / sqrt(d), causal=True) @ V", Q=q, K=k, V=v)
    s = attention(q, k, v, tokens=tokens)              # the same, with tokens on the axes
    s = attention(q, k, v, v_cols=True)                # standard form beside softmax over V's columns

Each ``@`` becomes a cube (a ``Cube``). When a product's result (after its stages:
scale, mask, softmax...) is an operand of a later product, the later cube is placed so that its
operand face *is* the earlier result face (``core.layout.link``) and does not draw that face again.
Cubes and chains are frozen: each cube is built complete by ``matmul`` (placement, stages, result
name, caption), and a variant is a ``dataclasses.replace`` copy, never an edit.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from matviz.core import layout as _layout
from matviz.core.expr import Evaluation, evaluate
from matviz.core.operand import Operand, operand, stage_kind, value_kind
from matviz.core.products import DEFAULT_BUDGET
from matviz.errors import ExpressionError, ShapeError
from matviz.scene import Chain, Cube, ModelHead, Placed, Style, matmul

ATTENTION = "softmax(Q @ K.T / sqrt(d){causal}) @ {v}"
_NAME = re.compile(r"[A-Za-z_]\w*")


def _term_operand(label: str, values: np.ndarray, env: dict[str, Operand]) -> Operand:
    """An operand for a term of the expression: a bound name keeps its kind and labels; ``X.T``
    swaps them; a term derived from one image elementwise stays an image with X's labels."""
    if label in env:
        return env[label]
    if label.endswith(".T") and label[:-2] in env:
        return env[label[:-2]].T
    names = [w for w in _NAME.findall(label) if w in env]
    kind = value_kind(values)
    src = env[names[0]] if len(set(names)) == 1 else None
    if src is not None and src.kind == "image" and kind == "nonneg":
        kind = "image"
    op = Operand(label, values, kind)
    if src is not None and src.shape == values.shape:
        op = replace(op, row_labels=src.row_labels, col_labels=src.col_labels)
    return op


def from_evaluation(
    ev: Evaluation,
    env: dict[str, Operand],
    *,
    budget: int = DEFAULT_BUDGET,
    style: Style | None = None,
    title: str | None = None,
) -> Chain:
    """Lay out the products of an evaluated expression as linked cubes."""
    if not ev.products:
        raise ExpressionError(
            f"{ev.text!r} has no @, so there is no product to draw as a cube: write e.g. A @ B "
            "(or softmax(A, rows) @ softmax(B, cols))"
        )
    style = style or Style()
    cubes, hidden, notes, roots = [], [], [], []  # roots[c]: the unlinked cube c's linked tree grows from
    taken: set[int] = set()  # cubes whose result face a later cube already sits behind
    for p in ev.products:
        sides, own = {}, set()
        ops = []
        for side, term in (("left", p.left), ("top", p.right)):
            if term.source is not None:
                src = cubes[term.source].output
                op = replace(src, name=term.label if len(term.label) <= 24 else src.name)
                if term.stages:  # a shared result taken further for this cube alone: its own face
                    op = replace(op, values=term.values, kind=value_kind(term.values))
                    own.add(side)
                ops.append(op)
                if term.source not in taken and term.source not in sides.values():
                    sides[side] = term.source
            else:
                ops.append(_term_operand(term.label, term.values, env))
        placement, hide, root = _linked_placement(ops, sides, cubes, roots, own)
        if sides:
            taken.add(next(iter(sides.values())))
        cube = matmul(
            ops[0],
            ops[1],
            budget=budget,
            style=style,
            title=p.label,
            placement=placement,
            stages=p.stages,
            result_name=p.label if len(p.label) <= 24 else None,
        )
        roots.append(root)
        cubes.append(cube)
        hidden.append(hide)
        notes += [n for n in cube.notes if n not in notes]
    cubes = _spread(cubes, roots)
    value = None
    last = cubes[-1].output.values
    if np.ndim(ev.value) != 2 or np.shape(ev.value) != last.shape or not np.allclose(ev.value, last):
        v = np.atleast_2d(np.asarray(ev.value, dtype=np.float64))
        value = Operand(ev.text, v, value_kind(v))
        notes.append(
            f"the value of the expression ({v.shape[0]}x{v.shape[1]}) is not the last cube's result: "
            "the cubes show its products"
        )
    if ev.d is not None:
        notes.append(f"d was not set, so d = {ev.d:g}, the inner size of the first product")
    return Chain(
        tuple(Placed(c, step, h) for step, (c, h) in enumerate(zip(cubes, hidden))),
        title=title or ev.text,
        notes=notes,
        style=style,
        value=value,
    )


def _linked_placement(
    ops: list[Operand], sides: dict[str, int], cubes: list[Cube], roots: list[int], own: set[str] = frozenset()
) -> tuple[_layout.Placement, frozenset[str], int]:
    """``(placement, hidden faces, root)`` of the next cube, whose operands are ``ops``.

    The cube is linked to the cube behind its first linked operand (``sides``: face "left"/"top" →
    index of the earlier cube whose result it is; a result face carries one linked cube, so a
    later user of a shared result is not linked to it again): its face sits on that cube's result
    face and is not drawn again. When that operand takes steps of its own beyond the shared face
    (``own``, e.g. a shared ``A @ B`` softmaxed differently by its users), the cube is moved back
    from the shared face by two gaps and its operand face is drawn there, showing its own steps.
    A second link (both operands are products) is drawn as a face. An unlinked cube stays at the
    origin and starts a tree of its own (root = its own index)."""
    if not sides:
        return _layout.Placement(), frozenset(), len(cubes)
    side, src = next(iter(sides.items()))
    (m, k), n = ops[0].shape, ops[1].shape[1]
    prev = cubes[src]
    nxt = _layout.CubeLayout(m, k, n)
    placement = _layout.link(prev.layout, prev.placement, nxt, "left" if side == "left" else "right")
    if side not in own:
        return placement, frozenset([side]), roots[src]
    normal = np.asarray(placement.ax_j if side == "left" else placement.ax_i)  # away from the shared face
    origin = tuple(float(v) for v in np.asarray(placement.origin) + 2 * nxt.gap * normal)
    return replace(placement, origin=origin), frozenset(), roots[src]


def _spread(cubes: list[Cube], roots: list[int]) -> list[Cube]:
    """The cubes with each tree of linked cubes moved to the right of the trees before it, so none overlap."""
    cubes = list(cubes)
    right = None
    for root in dict.fromkeys(roots):
        members = [c for c, r in enumerate(roots) if r == root]
        box = _layout.union([cubes[c].bounds for c in members]).bounds
        if right is not None:
            dx = right - float(box[0]) + 2 * max(cubes[c].layout.gap for c in members)
            for c in members:
                cubes[c] = _moved(cubes[c], dx)
            box = _layout.union([cubes[c].bounds for c in members]).bounds
        right = float(box[1])
    return cubes


def _moved(cube: Cube, dx: float, **changes) -> Cube:
    """A copy of ``cube`` moved ``dx`` along x (and with ``changes`` to its other fields)."""
    o = cube.placement.origin
    return replace(cube, placement=replace(cube.placement, origin=(o[0] + dx, o[1], o[2])), **changes)


def expr(
    text: str,
    *,
    budget: int = DEFAULT_BUDGET,
    style: Style | None = None,
    title: str | None = None,
    **operands,
) -> Chain:
    """The chain of cubes of ``text`` with the named operands (arrays, Operands or numbers).

    ``expr("softmax(A, rows) @ softmax(B, cols)", A=img1, B=img2)``; see ``matviz.core.expr``
    for the language.
    """
    env, values = {}, {}
    for name, v in operands.items():
        if np.ndim(v) == 0 and not isinstance(v, Operand):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
                raise ShapeError(
                    f"operand {name} is a {type(v).__name__} ({v!r:.40}): give a number, a 2-D array or "
                    "an Operand (e.g. matviz.load('sample:camera'))"
                )
            values[name] = float(v)
        else:
            env[name] = operand(v, name)
            values[name] = env[name].values
    return from_evaluation(evaluate(text, values), env, budget=budget, style=style, title=title)


def side_by_side(chains: list[Chain], captions: list[str], title: str) -> Chain:
    """Chains placed left to right, built in step with each other (steps are shared)."""
    placed, notes = [], []
    for chain, caption in zip(chains, captions):
        if placed:
            right = _layout.union([p.cube.bounds for p in placed]).bounds
            mine = chain.box.bounds
            dx = float(right[1]) - float(mine[0]) + 0.6 * float(mine[1] - mine[0]) + 2.0
        else:
            dx = 0.0
        for c, p in enumerate(chain.placed):
            cube = _moved(p.cube, dx, caption=caption if c == 0 else p.cube.caption)
            placed.append(replace(p, cube=cube))
        notes += [n for n in chain.notes if n not in notes]
    first = chains[0]
    return Chain(
        tuple(placed), title=title, notes=notes, style=first.style, azimuth=first.azimuth, elevation=first.elevation
    )


def attention(
    q,
    k,
    v,
    *,
    causal: bool = False,
    tokens=None,
    probs: np.ndarray | None = None,
    v_cols: bool = False,
    budget: int = DEFAULT_BUDGET,
    style: Style | None = None,
    title: str | None = None,
) -> Chain:
    """``softmax(Q Kᵀ/√d) V`` as two linked cubes: Q (seq×d) and Kᵀ make the scores, which are
    scaled, masked (``causal``) and softmaxed row by row on the shared face; then the second cube
    multiplies them with V (seq×d_v).

    ``tokens`` label the sequence axes. ``probs`` (seq×seq), e.g. a model's own attention
    probabilities, replaces the computed softmax after checking they agree. ``v_cols=True`` shows
    the standard form beside the one with softmax over V's columns too (Mishka's open question).
    """
    ops = {"Q": operand(q, "Q"), "K": operand(k, "K"), "V": operand(v, "V")}
    if tokens is not None:
        tokens = tuple(str(t) for t in tokens)
        ops = {n: o.labelled(rows=tokens) for n, o in ops.items()}
    seq_k = ops["K"].shape[0]
    if ops["V"].shape[0] != seq_k:
        raise ShapeError(
            f"V has {ops['V'].shape[0]} rows but K has {seq_k}: V needs one row per key (V is seq×d_v, K is seq×d)"
        )
    forms = [("V", "standard")] + ([("softmax(V, cols)", "softmax over the columns of V")] if v_cols else [])
    chains = []
    for vtext, caption in forms:
        text = ATTENTION.format(causal=", causal=True" if causal else "", v=vtext)
        chain = expr(text, budget=budget, style=style, title=title or text, d=ops["Q"].shape[1], **ops)
        if probs is not None:
            chain = with_probs(chain, probs, budget)
        chains.append(chain)
    if not v_cols:
        return chains[0]
    return side_by_side(
        chains, [c for _, c in forms], title or "softmax(Q K^T/sqrt(d)) V: V as is, and softmax(V, cols)"
    )


def with_probs(chain: Chain, probs: np.ndarray, budget: int = DEFAULT_BUDGET) -> Chain:
    """A copy of an attention chain (``attention``'s two cubes) that draws given probabilities (e.g.
    the model's own) as the softmax stage and the second cube's A; the notes say if they differ
    from the computed softmax."""
    probs = np.asarray(probs, dtype=np.float64)
    seq_q, _, seq_k = chain.placed[0].cube.shape  # the first cube is Q @ K.T
    if probs.shape != (seq_q, seq_k):
        raise ShapeError(
            f"probs has shape {probs.shape} but Q K^T is {seq_q}x{seq_k}: give one probability per query and key"
        )
    (scores, second), notes = chain.placed, list(chain.notes)
    last = scores.cube.stages[-1]
    if not np.allclose(last.values, probs, atol=1e-4):
        err = float(np.max(np.abs(last.values - probs)))
        notes.append(
            f"softmax(Q K^T/sqrt(d)) from the projections differs from the given probabilities by up to {err:.2g}; "
            "the given probabilities are drawn"
        )
    given = replace(last, values=probs, kind=stage_kind(probs))
    first = replace(scores.cube, stages=scores.cube.stages[:-1] + (given,))
    old = second.cube
    rebuilt = matmul(
        replace(old.left, values=probs),
        old.right,
        budget=budget,
        style=old.style,
        title=old.title,
        placement=old.placement,
        stages=old.stages,
        caption=old.caption,
        result_name=old.result.name,
    )
    return replace(
        chain, placed=(replace(scores, cube=first), replace(second, cube=rebuilt)), notes=notes, value=None
    )


def model_heads(
    text: str,
    model: str | None = None,
    layers="0",
    heads="0",
    *,
    v_cols: bool = False,
    budget: int = DEFAULT_BUDGET,
    style: Style | None = None,
) -> list[Chain]:
    """One attention chain per requested (layer, head) of a real model run on ``text``: Q, K, V
    from the model's projections (rotary embedding applied), the probabilities it computed itself,
    tokens on the axes. ``layers``/``heads`` take an index, a comma list or ``"all"``. Each chain is
    ``head_chain`` of the head's capture."""
    from matviz.sources.models import run_attention

    run = run_attention(text, model, layers, heads)
    grid = len(run.heads) > 1
    return [
        head_chain(cap, v_cols=v_cols, budget=budget, style=style, title=f"layer {layer} head {head}" if grid else None)
        for (layer, head), cap in run.heads.items()
    ]


# the note ``with_probs`` adds when Q K^T does not give the probabilities; a capture says it itself
_PROBS_DIFFER = "softmax(Q K^T/sqrt(d)) from the projections differs from the given probabilities"


def head_chain(
    capture,
    *,
    v_cols: bool = False,
    budget: int = DEFAULT_BUDGET,
    style: Style | None = None,
    title: str | None = None,
) -> Chain:
    """The chain of one captured head (``matviz.sources.models.HeadCapture``, e.g. from
    ``matviz.attention_head``), built from exactly its arrays: ``q``, ``k`` (after any rotary
    embedding), ``v``, ``probs`` (drawn as the softmax stage and the second cube's operand) and
    ``tokens`` on the axes; its notes come first. ``attention_from_model`` and ``model_heads`` draw this."""
    from matviz.sources.models import DEFAULT_MODEL, DEFAULT_SHORT_NAME

    name = DEFAULT_SHORT_NAME if capture.model == DEFAULT_MODEL else _short_model(capture.model)
    chain = attention(
        capture.q,
        capture.k,
        capture.v,
        causal=capture.causal,
        tokens=capture.tokens or None,
        probs=capture.probs,
        v_cols=v_cols,
        budget=budget,
        style=style,
        title=title or f"{name}, layer {capture.layer} head {capture.head}: softmax(Q K^T/sqrt(d)) V",
    )
    notes = list(capture.notes)
    own_note = any("differs from the model's own probabilities" in n for n in notes)
    notes += [n for n in chain.notes if n not in notes and not (own_note and n.startswith(_PROBS_DIFFER))]
    if not v_cols and not np.allclose(chain.result.values, capture.output, atol=1e-4):
        notes.append("probs @ V differs from the model's own head output by more than 1e-4")
    head = _model_head(capture)
    notes += [head.sink_note] if head.sink else []
    return replace(chain, notes=notes, head=head)


def _model_head(capture) -> ModelHead:
    """The chain's record of ``capture``'s place and sink fact, with the note a sink gets, e.g.
    "layer 3 head 5 is an attention sink: 77% of its attention goes to [CLS]" (``sources.heads``)."""
    from matviz.sources.heads import sink_note

    note = sink_note(capture.layer, capture.head, capture.probs, capture.tokens or None, capture.separators)
    return ModelHead(capture.layer, capture.head, capture.sink, capture.sink_share, note or "")


def _short_model(model: str) -> str:
    return model.rstrip("/").split("/")[-1] or model
