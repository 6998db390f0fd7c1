"""``matviz render``: a scene (operands, an expression or a scene script) offscreen to .png, .gif,
.mp4 or .html; ``--flat`` writes the result matrix alone; ``--audit`` checks the frames instead."""

from __future__ import annotations

import argparse

from matviz.cli.common import (
    check_flags, check_output_args, notes_of, output_args, scene_args, scene_from_args, scene_mode, set_operands,
    values_of, write_or_audit,
)
from matviz.errors import MatvizError

NAME = "render"

EPILOG = """examples:
  matviz render --left sample:camera --right sample:coins --resize 256x256 -o out/product.mp4
  matviz render --left random:6x5 --right random:5x4:seed=1 --animation sweep -o out/sweep.gif
  matviz render --left uniform:8x6 --right eye:6 -o out/still.png --size 1920x1080
  matviz render --left "[[1,2,3],[4,5,6]]" --right "[[1,-2],[3,4],[5,6]]" --highlight 1,0 -o ab.mp4
  matviz render --left sample:camera --right sample:moon --max-side 128 \\
                --left-transform softmax-rows --right-transform softmax-cols --temperature 0.1 -o m.png
  matviz render scene:textbook -o textbook.mp4                  # a scene script that ships with matviz
  matviz render "softmax(Q @ K.T / sqrt(d)) @ V" --set Q=random:8x4 --set K=random:8x4:seed=1 \\
                --set V=random:8x4:seed=2 -o attn.mp4
  matviz render "softmax(A, rows) @ softmax(B, cols)" --set A=sample:moon --set B=sample:coins --resize 96x96 -o m.png

operands (--left/--right): a file (.npy, .csv, .txt, .png/.jpg/.tif/...), sample:NAME
(camera, coins, moon, astronaut, ...), random:MxN[:seed=S], uniform:MxN, eye:N, tril:N,
gradient:MxN, ones:MxN, or a literal "[[1,2],[3,4]]". Shapes are ROWSxCOLS.
axes: i runs down the left face (A), j across the top face (B), k is depth; the result is the back face."""


def add(sub) -> None:
    r = sub.add_parser(
        NAME,
        help="render a scene offscreen to .png, .gif, .mp4 or an interactive .html page",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scene_args(r)
    output_args(r)
    r.add_argument(
        "--flat",
        action="store_true",
        help="write the result matrix alone as a full-resolution grayscale PNG (min-max, one pixel per entry)",
    )
    r.add_argument("--bits", type=int, choices=(8, 16), default=None, help="with --flat: 8-bit (default) or 16-bit gray")


def run(args, console) -> int:
    if args.flat:
        return flat(args, console)
    if args.bits is not None:
        raise MatvizError("--bits sets the depth of a --flat picture: add --flat")
    check_output_args(args)
    scene = scene_from_args(args)
    for note in notes_of(scene):
        console.note(note)
    return write_or_audit(args, console, scene)


FLAT_IGNORES = {  # render flags that say how to draw a 3-D scene, meaningless for --flat
    "size": "--size", "animation": "--animation", "duration": "--duration", "fps": "--fps",
    "frames": "--frames", "audit": "--audit", "json": "--json", "highlight": "--highlight",
    "budget": "--budget", "interior": "--interior", "numbers": "--numbers", "title": "--title",
    "aggregate": "--aggregate",
}


def flat(args, console) -> int:
    """``render --flat``: the result matrix alone, one pixel per entry, 8- or 16-bit gray."""
    from matviz.paper.flat import flat
    from matviz.paper.poster import check_path

    defaults = argparse.ArgumentParser(add_help=False)
    scene_args(defaults)
    output_args(defaults)
    for dest, flag in FLAT_IGNORES.items():
        if getattr(args, dest) != defaults.get_default(dest):
            raise MatvizError(f"{flag} has no effect with --flat (it writes the result matrix alone, one pixel per entry): drop it")
    if args.output is None:
        raise MatvizError("missing -o/--output: give the .png the flat picture goes to")
    check_path(args.output, (".png",), "a flat picture")
    if scene_mode(args) == "expression":  # evaluated directly: no cubes are built (an expression needs no @)
        from matviz.core.expr import evaluate

        check_flags(args, "expression")
        value = evaluate(args.scene, values_of(set_operands(args)))
    else:
        value = scene_from_args(args)
        for note in notes_of(value):
            console.note(note)
    console.wrote([flat(value, args.output, args.bits or 8, note=console.note)])
    return 0
