"""``matviz poster``: a contact sheet of flat results over a grid of settings (--vary), or a
temperature sweep (--animate)."""

from __future__ import annotations

import argparse

from matviz.cli.common import FPS_HELP, parse_fps, positive, set_operands, values_of
from matviz.errors import MatvizError

NAME = "poster"

EPILOG = """examples:
  matviz poster "softmax(A, rows, temperature=T) @ softmax(B, cols, temperature=T)" --set A=sample:moon \\
                --set B=sample:coins --resize 96x96 --vary temperature=0.05,0.25,1 -o sheet.png
  matviz poster "L @ softmax(B, cols, temperature=T)" --set A=sample:moon --set B=sample:coins --resize 96x96 \\
                --vary 'L=A' 'L=flip(A, "h")' 'L=warp(A, 8, 24)' --vary temperature=0.1,1 -o grid.png
  matviz poster --vary 'A @ B' 'softmax(A, rows) @ B' 't_product(A)' --set A=sample:moon \\
                --set B=sample:coins --resize 96x96 -o three.png
  matviz poster "softmax(A, rows, temperature=T) @ softmax(B, cols, temperature=T)" --set A=sample:moon \\
                --set B=sample:coins --resize 96x96 --animate T=1:0.02 --frames 48 -o sweep.mp4

--vary (one axis each; the first runs across, the others down): temperature=0.05,0.25,1 binds the
name T (each > 0); NAME=v1,v2 any other name of EXPR; 'L=EXPR1' 'L=EXPR2' a sub-expression for the
name L (as let L = ... in EXPR); 'EXPR1' 'EXPR2' whole expressions (then give no EXPR). Each tile is
its result's own min-max gray (as --flat), scaled by whole pixels, labelled with its setting.
--animate NAME=START:STOP: FRAMES values spaced geometrically, one frame each, labelled; by default
two panels: one gray scale for the whole sweep (it sharpens as T falls) and each frame's own min-max."""



def add(sub) -> None:
    from matviz.paper.poster import RANGES

    p = sub.add_parser(
        NAME,
        help="a contact sheet of flat results over a grid of settings (--vary), or a temperature sweep (--animate)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("expression", nargs="?", help="the expression, e.g. 'softmax(A, rows, temperature=T) @ B'")
    p.add_argument("--set", dest="bindings", action="append", default=[], metavar="NAME=SPEC", help="bind a name to an operand SPEC or a number")
    p.add_argument("--resize", metavar="ROWSxCOLS", help="resize every operand (images anti-aliased)")
    p.add_argument("--max-side", type=positive(int), metavar="N", help="shrink operands so the longer side is at most N")
    p.add_argument("--vary", action="append", nargs="+", default=[], metavar="SETTING", help="one axis of settings (see below)")
    p.add_argument("--animate", metavar="NAME=START:STOP", help="a video over NAME (e.g. T=1:0.02), geometric spacing")
    p.add_argument("--frames", type=positive(int), help="with --animate: number of frames (default 48)")
    p.add_argument("--fps", type=parse_fps, help=f"with --animate: frames per second, {FPS_HELP} (default 12)")
    p.add_argument("--range", choices=RANGES, help="with --animate: the panels drawn (default both)")
    p.add_argument("--columns", type=positive(int), help="tiles per row (default: the first axis's length)")
    p.add_argument("--scale", type=positive(int), help="pixels per entry (default: tiles at least 192 px)")
    p.add_argument("--title", help="the sheet's title (default: the expression)")
    p.add_argument("-o", "--output", required=True, help="the sheet (.png), or with --animate the video (.mp4 or .gif)")



def run(args, console) -> int:
    from matviz.paper import poster as P

    if args.animate is not None:
        if args.vary:
            raise MatvizError("--vary makes a sheet and --animate a video of one expression: give one of them")
        if args.columns is not None:
            raise MatvizError("--columns lays out a sheet: it has no effect with --animate")
        if not args.expression:
            raise MatvizError("missing the expression: --animate needs EXPR, e.g. 'softmax(A, rows, temperature=T) @ B'")
        P.check_path(args.output, (".mp4", ".gif"), "a sweep")
        spec = P.sweep(
            args.expression, args.animate, frames=args.frames or 48, fps=args.fps or 12.0, title=args.title,
            range=args.range or "both", scale=args.scale, operands=values_of(set_operands(args)),
        )
        console.wrote([P.write_sweep(spec, args.output, console.note)])
        return 0
    for flag, given in (("--frames", args.frames), ("--fps", args.fps), ("--range", args.range)):
        if given is not None:
            raise MatvizError(f"{flag} only applies to a sweep: add --animate NAME=START:STOP")
    P.check_path(args.output, (".png",), "a poster sheet")
    spec = P.poster(
        args.expression, vary=args.vary, columns=args.columns, title=args.title, scale=args.scale,
        operands=values_of(set_operands(args)),
    )
    console.wrote([P.write_poster(spec, args.output, console.note)])
    return 0
