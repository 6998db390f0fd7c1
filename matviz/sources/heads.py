"""Find the head worth looking at: rank every (layer, head) by the attention from one token to another.

    tokens, ranking = head_ranking("The cat sat on the mat because it was tired", "it", "cat")
    ranking[0]          # HeadScore(layer=..., head=..., weight=..., sink=..., sink_mass=...)

``rank_heads(probs, tokens, from_token, to_token)`` does the ranking on any array of attention
probabilities shaped (layers, heads, T, T) (rows: queries, columns: keys, each row sums to 1);
``head_ranking`` runs a model once (all layers and heads, through ``matviz.sources.models``) and
ranks its own ``output_attentions``.

**Sinks.** A head is an attention *sink* when more than half of its attention mass — the mean
over query rows of each key's probability — goes to the first token or to separator tokens
(``[CLS] [SEP] <s> </s> <|endoftext|>`` and the tokenizer's own cls/sep/bos/eos tokens). Such a
head parks its attention rather than relating words, so it teaches little even when read well.

**Naming a token.** ``from_token``/``to_token`` are matched against the model's tokens exactly,
else ignoring case and the word-piece marks ``##``, ``Ġ`` and ``▁``. A token that occurs several
times means its *first* occurrence; ``"the#2"`` means the second occurrence of ``the`` (``#n``
counts from 1). A token not in the text is a ``ModelError`` that lists the tokens.

Only numpy is imported here; torch and transformers load when a model is run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from matviz.errors import ModelError
from matviz.sources.sinks import (  # re-exported: ranking and its users speak of sinks
    SEPARATORS, SINK_SHARE, SINK_WORDS, is_sink, key_mass, sink_mass, sink_note, sink_positions, special_tokens,
)

__all__ = [
    "SEPARATORS", "SINK_SHARE", "SINK_WORDS", "Attentions", "HeadScore", "capture", "find_token", "head_ranking",
    "is_sink", "key_mass", "rank_heads", "separators_of", "sink_mass", "sink_note", "special_tokens",
]

_PIECE_MARKS = ("##", "Ġ", "▁")
_OCCURRENCE = re.compile(r"^(?P<token>.+)#(?P<n>\d+)$")


@dataclass(frozen=True)
class HeadScore:
    """One head's attention from the ``from`` token to the ``to`` token, and whether it is a sink."""

    layer: int
    head: int
    weight: float  # probs[layer, head, from position, to position]
    sink: bool  # more than half of the head's mass goes to the first or a separator token
    sink_mass: float  # the share of the head's mass on those tokens (0..1)


@dataclass(frozen=True, eq=False)
class Attentions:
    """Every head's probabilities from one forward pass, with the tokens on the axes."""

    model: str  # the name shown to users
    tokens: tuple[str, ...]
    probs: np.ndarray  # (layers, heads, T, T) float64, the model's own output_attentions
    separators: tuple[str, ...]  # the tokens counted as separators for the sink rule
    notes: tuple[str, ...]  # e.g. the truncation note


# ---- tokens -------------------------------------------------------------------------------


def _plain(token: str) -> str:
    """A token without its word-piece mark, lower case: ``Ġcat`` / ``##cat`` / ``▁Cat`` → ``cat``."""
    for mark in _PIECE_MARKS:
        if token.startswith(mark) and len(token) > len(mark):
            token = token[len(mark) :]
            break
    return token.lower()


def _positions(tokens, token: str) -> list[int]:
    """Positions of ``token``: exact matches if any, else matches ignoring case and piece marks."""
    exact = [i for i, t in enumerate(tokens) if t == token]
    if exact:
        return exact
    plain = _plain(token)
    return [i for i, t in enumerate(tokens) if _plain(t) == plain]


def find_token(tokens, token: str, name: str = "token") -> int:
    """The position of ``token`` in ``tokens``: its first occurrence, or the n-th for ``"token#n"``.

    ``name`` is how the message names the argument (``from_token``, or a CLI flag). Raises
    ``ModelError`` listing the tokens when the token is not there."""
    tokens = [str(t) for t in tokens]
    listed = " ".join(tokens)
    text = str(token).strip() if token is not None else ""
    if not text:
        raise ModelError(f"{name} is empty: give one of the tokens: {listed}")
    found = _positions(tokens, text)
    if found:
        return found[0]
    match = _OCCURRENCE.match(text)
    if match:
        base, n = match["token"], int(match["n"])
        found = _positions(tokens, base)
        if found and 1 <= n <= len(found):
            return found[n - 1]
        if found:
            times = "once" if len(found) == 1 else f"{len(found)} times"
            raise ModelError(
                f"{name} {text!r}: {base!r} occurs {times} in the text, so #{n} does not exist; "
                f"the tokens are: {listed}"
            )
    raise ModelError(f"{name} {text!r} is not one of the text's tokens, which are: {listed}")


# ---- ranking ------------------------------------------------------------------------------


def rank_heads(probs, tokens, from_token: str, to_token: str, separators=()) -> list[HeadScore]:
    """Every (layer, head) scored by its attention from ``from_token`` to ``to_token``, best first.

    ``probs`` is (layers, heads, T, T) with queries on rows and keys on columns; ``tokens`` are
    the T tokens. The weight is ``probs[layer, head, i, j]`` with ``i`` the query position of
    ``from_token`` and ``j`` the key position of ``to_token``. A token that occurs several times
    means its first occurrence; write ``"the#2"`` for the second (see ``find_token``). Sorted by
    weight, descending; equal weights by (layer, head). ``separators`` add to ``SEPARATORS`` for
    the sink rule (``is_sink``)."""
    probs = np.asarray(probs, dtype=np.float64)
    tokens = [str(t) for t in tokens]
    if probs.ndim != 4 or probs.shape[2] != probs.shape[3]:
        raise ValueError(f"probs must be (layers, heads, T, T), got shape {probs.shape}")
    if probs.shape[2] != len(tokens):
        raise ValueError(f"probs has {probs.shape[2]} positions but there are {len(tokens)} tokens")
    i = find_token(tokens, from_token, "from_token")
    j = find_token(tokens, to_token, "to_token")
    sinks = sink_positions(tokens, separators)
    masses = probs.mean(axis=2)[:, :, sinks].sum(axis=-1)  # (layers, heads)
    scores = [
        HeadScore(
            layer=layer,
            head=head,
            weight=float(probs[layer, head, i, j]),
            sink=bool(masses[layer, head] > SINK_SHARE),
            sink_mass=float(masses[layer, head]),
        )
        for layer in range(probs.shape[0])
        for head in range(probs.shape[1])
    ]
    return sorted(scores, key=lambda s: (-s.weight, s.layer, s.head))


# ---- the model ----------------------------------------------------------------------------


def separators_of(model: str | None = None) -> tuple[str, ...]:
    """The tokenizer's cls/sep/bos/eos tokens for ``model`` (loaded once and cached by
    ``matviz.sources.models``), or ``()`` when they cannot be had; ``SEPARATORS`` always count."""
    try:
        from matviz.sources import models

        source, display, _, is_folder = models.resolve(model)
        _, tokenizer = models.load_model(source, display, is_folder)
    except Exception:  # the sink rule then falls back on SEPARATORS and the first token
        return ()
    return special_tokens(tokenizer)


def capture(text: str, model: str | None = None) -> Attentions:
    """Run ``model`` (default all-MiniLM-L6-v2) once on ``text`` and keep every head's probabilities."""
    from matviz.sources.models import run_attention

    run = run_attention(text, model, "all", "all")
    probs = np.zeros((run.n_layers, run.n_heads, len(run.tokens), len(run.tokens)))
    for (layer, head), cap in run.heads.items():
        probs[layer, head] = cap.probs
    return Attentions(run.model, tuple(run.tokens), probs, separators_of(model), tuple(run.notes))


def head_ranking(text: str, from_token: str, to_token: str, model: str | None = None):
    """``(tokens, ranking)``: run ``model`` once on ``text`` (all layers and heads) and rank its heads
    by the attention from ``from_token`` to ``to_token`` (``rank_heads``)."""
    found = capture(text, model)
    return found.tokens, rank_heads(found.probs, found.tokens, from_token, to_token, found.separators)
