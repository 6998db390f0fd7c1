"""Peak memory of a grid of every head of a real model as one PNG, whole process, against the model
alone (load + one forward pass with attentions over the same sentence) in its own process.

    matviz attention "The cat sat on the mat because it was tired" --layer all --head all -o grid.png

Peak RSS is each child's own ru_maxrss (os.wait4).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Target, fmt_mib, fmt_time, run_measured  # noqa: E402

SENTENCE = "The cat sat on the mat because it was tired"

MODEL_ALONE = """
import sys, torch
from transformers import AutoModel, AutoTokenizer
from matviz.sources.models import _default_model_path
path = _default_model_path()
model = AutoModel.from_pretrained(path, attn_implementation="eager", local_files_only=True)
tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
with torch.no_grad():
    out = model(**tok(sys.argv[1], return_tensors="pt"), output_attentions=True)
print(len(out.attentions), out.attentions[0].shape[1])
"""


def run() -> list[Target]:
    cli = ["-m", "matviz"]  # what the `matviz` script runs
    with tempfile.TemporaryDirectory() as tmp:
        t_model, rss_model, out = run_measured(["-c", MODEL_ALONE, SENTENCE])
        layers, heads = map(int, out.split()[:2])
        t_grid, rss_grid, _ = run_measured([*cli, "attention", SENTENCE, "--layer", "all", "--head", "all",
                                            "-o", f"{tmp}/grid.png"])
        if not Path(f"{tmp}/grid.png").exists():
            raise RuntimeError("the grid PNG was not written")
    over = rss_grid - rss_model
    return [
        Target(
            f"{layers * heads}-head grid PNG ({layers} layers × {heads} heads, all-MiniLM-L6-v2), "
            f"whole process, peak RSS (wall {fmt_time(t_grid)}; model alone {fmt_time(t_model)})",
            fmt_mib(rss_grid),
            f"{fmt_mib(rss_model)} (model load + forward)",
            f"model + {fmt_mib(over)}",
            "≤ model + 0.5 GiB",
            over <= 512 * 2**20,
        )
    ]


if __name__ == "__main__":
    from _common import target_table

    print(target_table(run()))
