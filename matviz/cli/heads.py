"""``matviz heads``: rank every head of a model by the attention from one token to another, offline."""

from __future__ import annotations

import argparse
import sys

from matviz.cli.common import positive

NAME = "heads"

EPILOG = """examples:
  matviz heads "The cat sat on the mat because it was tired" --from it --to cat
  matviz heads "The cat sat on the mat" --from the#2 --to cat --top 5    # the second "the"
  matviz heads "The cat sat on the mat" --from mat --to cat --json       # every head, as JSON

Every head of every layer is scored by the probability with which the --from token (as query)
attends to the --to token (as key), from one forward pass. A token that occurs more than once means
its first occurrence; TOKEN#N picks the N-th. Tokens match exactly, else ignoring case and the
word-piece marks ##, Ġ and ▁. A head is a sink when more than half of its attention (mean over
query rows) goes to the first token or to separator tokens ([CLS], [SEP], <s>, </s>, ...)."""


HEADS_TOP = 10  # rows of the `matviz heads` table by default


def add(sub) -> None:
    h = sub.add_parser(
        NAME,
        help="rank every head of a model by the attention from one token to another, offline",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    h.add_argument("text", help="the text to run through the model")
    h.add_argument("--from", dest="from_token", required=True, metavar="TOKEN", help="the query token, e.g. it")
    h.add_argument("--to", dest="to_token", required=True, metavar="TOKEN", help="the key token, e.g. cat")
    h.add_argument("--model", help="a local model folder or a cached Hugging Face id (default: all-MiniLM-L6-v2)")
    h.add_argument(
        "--top",
        type=positive(int),
        default=None,
        metavar="N",
        help=f"show the N best heads (default {HEADS_TOP} in the table; with --json every head)",
    )
    h.add_argument("--json", action="store_true", help="print the ranking as a JSON list on stdout")


def run(args, console) -> int:
    """Rank every (layer, head) by the attention from --from to --to: a rich table, or --json."""
    import json

    from rich.console import Console
    from rich.table import Table

    from matviz.sources.heads import capture, find_token, rank_heads
    from matviz.sources.models import DEFAULT_MODEL, DEFAULT_SHORT_NAME

    found = capture(args.text, args.model)
    i = find_token(found.tokens, args.from_token, "--from")
    j = find_token(found.tokens, args.to_token, "--to")
    ranking = rank_heads(found.probs, found.tokens, args.from_token, args.to_token, found.separators)
    for note in found.notes:
        console.note(note)
    if args.json:
        shown = ranking[: args.top] if args.top else ranking
        rows = [{"layer": s.layer, "head": s.head, "weight": s.weight, "sink": s.sink} for s in shown]
        sys.stdout.write(json.dumps(rows) + "\n")
        return 0
    name = DEFAULT_SHORT_NAME if found.model == DEFAULT_MODEL else found.model
    layers, heads = found.probs.shape[:2]
    src, dst = found.tokens[i], found.tokens[j]
    out = Console(highlight=False)
    out.print(
        f'attention from "{src}" (token {i}) to "{dst}" (token {j}), {name}: {layers} layers x {heads} heads',
        markup=False,
        soft_wrap=True,
    )
    table = Table()
    for column in ("rank", "layer", "head", "weight"):
        table.add_column(column, justify="right")
    table.add_column("sink?", justify="left")
    for rank, s in enumerate(ranking[: args.top or HEADS_TOP], start=1):
        sink = f"yes ({s.sink_mass:.0%})" if s.sink else ""
        table.add_row(str(rank), str(s.layer), str(s.head), f"{s.weight:.3f}", sink)
    out.print(table)
    best = next((s for s in ranking if not s.sink), None)
    if best is not None:
        out.print(
            f"top head that is not a sink: layer {best.layer} head {best.head} "
            f'sends {best.weight:.0%} of "{src}" to "{dst}"',
            markup=False,
            soft_wrap=True,
        )
    out.print(
        "sink: more than half of the head's attention (the share shown) goes to the first or separator tokens",
        markup=False,
        soft_wrap=True,
    )
    return 0
