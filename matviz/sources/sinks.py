"""Attention sinks: a head is a *sink* when more than half of its attention mass — the mean over
query rows of each key's probability — goes to the first token or to separator tokens
(``[CLS] [SEP] <s> </s> <|endoftext|>`` and the tokenizer's own cls/sep/bos/eos tokens). numpy only;
both the model capture (``models.HeadCapture.sink``) and the ranking of heads (``heads``) read it."""

from __future__ import annotations

import numpy as np

SINK_WORDS = "is an attention sink"  # the wording of every sink note (the fact itself is HeadCapture.sink)
SINK_SHARE = 0.5  # a head is a sink when more than this share of its mass goes to sink tokens
SEPARATORS = ("[CLS]", "[SEP]", "<s>", "</s>", "<|endoftext|>")  # always counted as separators
_SPECIAL_ATTRIBUTES = ("cls_token", "sep_token", "bos_token", "eos_token")


def sink_positions(tokens, separators) -> list[int]:
    """The first position and every separator's position."""
    seps = set(SEPARATORS) | set(separators or ())
    rest = [i for i, t in enumerate(tokens or ()) if i > 0 and str(t) in seps]
    return [0, *rest]


def key_mass(p) -> np.ndarray:
    """Each key's share of a head's attention: the mean over query rows of ``p`` (T×T) → (T,)."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"a head's probabilities are a non-empty (queries, keys) matrix, got shape {p.shape}")
    return p.mean(axis=0)


def sink_mass(p, tokens=None, separators=()) -> float:
    """The share of a head's attention (mean over query rows) on the first token and the separators.

    Without ``tokens`` only the first token counts; with them, also every token in ``SEPARATORS``
    or ``separators`` (e.g. a tokenizer's special tokens)."""
    mass = key_mass(p)
    return float(mass[sink_positions(tokens, separators)].sum())


def is_sink(p, tokens=None, separators=()) -> bool:
    """True when more than half of the head's mass (mean over query rows) goes to the first token
    or to separator tokens (see ``sink_mass``)."""
    return sink_mass(p, tokens, separators) > SINK_SHARE


def sink_note(layer: int, head: int, p, tokens=None, separators=()) -> str | None:
    """``"layer 3 head 5 is an attention sink: 77% of its attention goes to [CLS]"`` for a sink
    head, else None. Several sink tokens are named with their shares, largest first."""
    mass = key_mass(p)
    positions = sink_positions(tokens, separators)
    total = float(mass[positions].sum())
    if not total > SINK_SHARE:
        return None
    shown = sorted((i for i in positions if mass[i] >= 0.005), key=lambda i: -mass[i])
    names = [str(t) for t in tokens] if tokens else ["the first token"]
    if len(shown) <= 1:
        where = names[shown[0] if shown else 0]
    else:
        named = [f"{names[i]} ({mass[i]:.0%})" for i in shown]
        where = ", ".join(named[:-1]) + " and " + named[-1]
    return f"layer {layer} head {head} {SINK_WORDS}: {total:.0%} of its attention goes to {where}"


def special_tokens(tokenizer) -> tuple[str, ...]:
    """A tokenizer's cls/sep/bos/eos tokens (the separators of its model's sink rule)."""
    found = (getattr(tokenizer, name, None) for name in _SPECIAL_ATTRIBUTES)
    return tuple(dict.fromkeys(str(t) for t in found if t))
