"""``matviz gallery``: every scene script (default: the ones that ship with matviz) into gallery/, or
``--audit`` them, writing nothing. The loops are ``matviz.gallery``'s; this module parses and prints."""

from __future__ import annotations

from pathlib import Path

from matviz.cli.common import output_args, parse_size, parse_sizes, print_audit
from matviz.errors import MatvizError

NAME = "gallery"


def add(sub) -> None:
    from matviz.gallery import AUDIT_SIZES

    g = sub.add_parser(
        NAME, help="render every built-in scene script to gallery/ (PNG + MP4, and textbook.html), or --audit them"
    )
    g.add_argument("--scenes", default=None, metavar="DIR", help="a directory of scene scripts (default: the built-in scenes)")
    output_args(g, directory="gallery", fps=24.0)
    g.add_argument("--size", type=parse_size, default=(960, 540), metavar="WxH", help="frame size (default 960x540)")
    g.add_argument(
        "--audit",
        action="store_true",
        help="write nothing: audit each scene's still and every 12th frame of its sweep at --audit-sizes",
    )
    g.add_argument(
        "--audit-sizes",
        type=parse_sizes,
        default=None,
        metavar="WxH,...",
        help=f"frame sizes the gallery audit checks (default {','.join(f'{w}x{h}' for w, h in AUDIT_SIZES)})",
    )
    g.add_argument("--json", action="store_true", help="with --audit: print the reports as JSON on stdout")


def run(args, console) -> int:
    from matviz.gallery import AUDIT_SIZES, audit_gallery, scene_scripts, write_gallery
    from matviz.outputs import Look

    if not args.audit:
        for flag, given in (("--audit-sizes", args.audit_sizes is not None), ("--json", args.json)):
            if given:
                raise MatvizError(f"{flag} only applies to the gallery audit: add --audit")
    elif args.output != "gallery" or args.size != (960, 540):
        flag = "-o" if args.output != "gallery" else "--size"
        raise MatvizError(f"{flag} has no effect with --audit (it writes nothing; sizes come from --audit-sizes)")
    scripts = scene_scripts(args.scenes)
    look = Look(size=args.size, fps=args.fps, duration=args.duration)
    if args.audit:
        findings = audit_gallery(args.audit_sizes or AUDIT_SIZES, scripts, look)
        reports = [f.report for f in findings]
        extra = [{"scene": f.scene} for f in findings]
        lines = [line for f in findings for line in f.lines()]
        return print_audit(console, reports, args.json, extra, lines)
    write_gallery(Path(args.output), scripts, look, note=console.note, progress=console.progress, wrote=console.wrote)
    return 0
