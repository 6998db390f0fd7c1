"""``matviz demo``: the built-in scenes that need no model and no files (``matviz.outputs.DEMO``), each
as a still and a sweep, into ./matviz-out/."""

from __future__ import annotations

from pathlib import Path

from matviz.cli.common import output_args, parse_size

NAME = "demo"


def add(sub) -> None:
    from matviz.outputs import DEMO

    d = sub.add_parser(NAME, help=f"render the built-in scenes {', '.join(DEMO)} to ./matviz-out/ (PNG + MP4)")
    output_args(d, directory="matviz-out", fps=30.0)
    d.add_argument("--size", type=parse_size, default=(1280, 720), metavar="WxH", help="frame size (default 1280x720)")


def run(args, console) -> int:
    from matviz.gallery import write_demo
    from matviz.outputs import Look

    look = Look(size=args.size, fps=args.fps, duration=args.duration)
    write_demo(Path(args.output), look, note=console.note, progress=console.progress, wrote=console.wrote)
    return 0
