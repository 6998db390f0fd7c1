"""What the subcommands share: the one-line argparse parser, value converters, the flag groups of a
scene, the scene a set of flags describes, the rich console, and the frame audit's printing."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from matviz.errors import MatvizError

class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str):  # noqa: D102
        sys.stderr.write(f"matviz: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--size {text!r} is not WIDTHxHEIGHT in pixels: write e.g. 1280x720"
        ) from None
    if not (16 <= w <= 7680 and 16 <= h <= 4320):
        raise argparse.ArgumentTypeError(f"--size {text}: width and height must be between 16 and 7680x4320")
    return w, h




def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``1280x720,960x540`` → ((1280, 720), (960, 540))."""
    sizes = tuple(parse_size(part.strip()) for part in text.split(",") if part.strip())
    if not sizes:
        raise argparse.ArgumentTypeError(f"--audit-sizes {text!r} names no size: write e.g. 1280x720,960x540")
    return sizes


def parse_cell(text: str) -> tuple[int, int]:
    try:
        i, j = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--highlight {text!r} is not I,J (two integers, e.g. 1,0)") from None
    return i, j


def positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be > 0")
        return value

    return parse


def finite_positive(text: str) -> float:
    value = positive(float)(text)
    if value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a finite number")
    return value


FPS_HELP = "0.1 to 240"


def parse_fps(text: str) -> float:
    from matviz.animate.writers import FPS_RANGE

    value = finite_positive(text)
    if not FPS_RANGE[0] <= value <= FPS_RANGE[1]:
        raise argparse.ArgumentTypeError(f"--fps {text} is out of range: use {FPS_RANGE[0]:g} to {FPS_RANGE[1]:g}")
    return value


def parse_frames(text: str) -> int:
    from matviz.animate.writers import MAX_FRAMES

    value = positive(int)(text)
    if value > MAX_FRAMES:
        raise argparse.ArgumentTypeError(f"--frames {text} is more than the {MAX_FRAMES:,} frames an export may write")
    return value


def scene_args(p: argparse.ArgumentParser) -> None:
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
        "--max-side", type=positive(int), metavar="N", help="shrink operands so the longer side is at most N"
    )
    p.add_argument(
        "--left-transform", choices=TRANSFORMS, default="none", help="transform A first (Mishka: softmax-rows)"
    )
    p.add_argument(
        "--right-transform", choices=TRANSFORMS, default="none", help="transform B first (Mishka: softmax-cols)"
    )
    p.add_argument("--temperature", type=positive(float), default=1.0, help="softmax temperature (default 1)")
    p.add_argument("--highlight", type=parse_cell, metavar="I,J", help="outline the row·column dot product behind C[I,J]")
    p.add_argument(
        "--budget",
        type=positive(int),
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
    view_args(p)


def view_args(p: argparse.ArgumentParser) -> None:
    """Frame size and animation: how any scene is shown (render, show, attention)."""
    from matviz.animate.timeline import DEFAULT_DURATION, TIMELINES

    p.add_argument(
        "--size", type=parse_size, default=(1280, 720), metavar="WxH", help="frame size in pixels (default 1280x720)"
    )
    p.add_argument(
        "--animation",
        choices=list(TIMELINES),
        default=None,
        help="still (default for .png), sweep (default for .gif/.mp4 and the window) or orbit",
    )
    p.add_argument(
        "--duration",
        type=finite_positive,
        metavar="SECONDS",
        help=f"animation length (default {DEFAULT_DURATION['sweep']:g} s; at most 100,000 frames at --fps)",
    )


def output_args(p: argparse.ArgumentParser, *, directory: str | None = None, fps: float = 30.0) -> None:
    """Where frames go and how many: ``-o FILE``, ``--fps``, ``--frames`` (render, attention);
    with ``directory``, ``-o DIR`` (default ``directory``) plus the size and MP4 length (demo, gallery)."""
    if directory is None:
        p.add_argument(
            "-o",
            "--output",
            help="output file: .png (still, or a numbered sequence with --frames), .gif, .mp4 (H.264) or .html "
            "(one offline page to orbit, zoom and step through k); not with --audit",
        )
        p.add_argument("--fps", type=parse_fps, default=fps, help=f"frames per second, {FPS_HELP} (default {fps:g})")
        p.add_argument(
            "--frames",
            type=parse_frames,
            help="number of frames, at most 100,000 (default: duration × fps); with --audit, frames audited "
            "from the animation",
        )
        p.add_argument("--audit", action="store_true", help="check what the frames show instead of writing them")
        p.add_argument("--json", action="store_true", help="with --audit: print the reports as JSON on stdout")
        return
    p.add_argument("-o", "--output", default=directory, help=f"output directory (default ./{directory})")
    p.add_argument("--fps", type=parse_fps, default=fps, help=f"frames per second (default {fps:g})")
    p.add_argument(
        "--duration", type=finite_positive, default=6.0, metavar="SECONDS", help="length of each MP4 (default 6)"
    )



def model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="a local model folder or a cached Hugging Face id (default: all-MiniLM-L6-v2)")
    p.add_argument("--layer", default="0", help="layer index, a comma list or 'all' (default 0)")
    p.add_argument("--head", default="0", help="head index, a comma list or 'all' (default 0)")
    p.add_argument(
        "--v-cols",
        action="store_true",
        help="also show softmax over the columns of V, beside the standard form (Mishka's open question)",
    )


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
    scene_args(defaults)
    model_args(defaults)
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
        return "script" if args.scene.endswith(".py") or args.scene.startswith("scene:") else "expression"
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

    operands = set_operands(args)
    style = mv.Style(interior=args.interior, numbers=args.numbers, highlight=args.highlight)
    return mv.expr(args.scene, budget=args.budget or DEFAULT_BUDGET, style=style, title=args.title, **operands)


def set_operands(args) -> dict:
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


class Console:
    """rich output on stderr: notes, a progress bar per export, the files written."""

    def __init__(self) -> None:
        from rich.console import Console as RichConsole

        self.err = RichConsole(stderr=True, highlight=False)

    def note(self, text: str) -> None:
        self.err.print(f"[cyan]matviz: note:[/] {text}", soft_wrap=True, markup=True)

    @contextlib.contextmanager
    def notes(self):
        """While a command runs, the library's notes (logger ``matviz``) print here, as ``note`` does."""
        import logging

        from matviz.errors import LOG, NOTES

        console = self

        class ToConsole(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                console.note(record.getMessage())

        handler = ToConsole()
        LOG.removeHandler(NOTES)
        LOG.addHandler(handler)
        try:
            yield
        finally:
            LOG.removeHandler(handler)
            LOG.addHandler(NOTES)

    def wrote(self, paths) -> None:
        paths = list(paths)
        shown = paths if len(paths) <= 3 else [paths[0], "…", paths[-1]]
        self.err.print(f"[green]wrote[/] {len(paths)} file(s): " + ", ".join(str(p) for p in shown), soft_wrap=True)

    @contextlib.contextmanager
    def progress(self, label: str):
        """A progress bar labelled ``label`` (on a terminal only), yielding ``update(done, total)``."""
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
            task = bar.add_task(label, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)

    def export(self, scene, path, animation, label: str | None = None, **kwargs):
        from matviz.animate.export import export

        with self.progress(label or f"rendering {Path(path).name}") as update:
            paths = export(scene, path, animation, progress=update, **kwargs)
        self.wrote(paths)
        return paths


def default_animation(args, output: str | None) -> str:
    """``--animation``, else a still for a .png and a sweep for a video or the window."""
    if args.animation:
        return args.animation
    if output is None or Path(output).suffix.lower() in (".gif", ".mp4"):
        return "sweep"
    return "still"


def check_output_args(args) -> None:
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


def write_or_audit(args, console: Console, scene) -> int:
    if args.audit:
        return audit_scene(args, console, scene)
    console.export(
        scene,
        args.output,
        default_animation(args, args.output),
        fps=args.fps,
        size=args.size,
        frames=args.frames,
        duration=args.duration,
    )
    return 0


def notes_of(scene) -> list[str]:
    """A scene's notes; a grid's, said once (its tiles share the model run)."""
    if isinstance(scene, list):
        return list(dict.fromkeys(n for s in scene for n in s.notes))
    return list(scene.notes)


# ---- the audit: what the frames show, measured on the real render (matviz.graphics.audit) ----


def audit_states(args, scene) -> tuple[list, list[int | None]]:
    """The states ``--audit`` checks and their frame numbers: the default still (frame None);
    with ``--frames N``, N frames sampled evenly over the animation (default 12 with ``--animation``)."""
    from matviz.animate.export import sample_states

    scene = scene[0] if isinstance(scene, list) else scene  # a grid plays its tiles in step
    if args.frames is None and args.animation in (None, "still"):
        return sample_states(scene, "still"), [None]
    states = sample_states(
        scene, default_animation(args, None), fps=args.fps, frames=args.frames or 12, duration=args.duration
    )
    return states, list(range(len(states)))


def run_audit(scene, states, frames: list[int | None], size) -> list:
    """One Report per state, each named by its frame number (None: the still)."""
    from matviz.graphics import audit

    reports = audit.audit_frames(scene, states, size, still=[frame is None for frame in frames])
    for report, frame in zip(reports, frames):
        report.frame = frame
    return reports


def violation_lines(reports, prefix: str = "") -> list[str]:
    return [
        f"{prefix}{'still' if r.frame is None else f'frame {r.frame}'}: {v.rule}: {v.message}"
        for r in reports
        for v in r.violations
    ]


def print_audit(console: Console, reports, as_json: bool, extra=None, lines=None) -> int:
    """JSON on stdout, or the violations on stderr; exit status 1 if any."""
    import json

    if as_json:
        frames = [dict(r.to_dict(), **(extra[i] if extra else {})) for i, r in enumerate(reports)]
        sys.stdout.write(json.dumps({"frames": frames}, default=jsonable) + "\n")
    bad = sum(len(r.violations) for r in reports)
    if not as_json:
        for line in lines if lines is not None else violation_lines(reports):
            console.err.print(line, markup=False, highlight=False, soft_wrap=True)
    verdict = "[red]audit failed[/]" if bad else "[green]audit passed[/]"
    console.err.print(f"{verdict}: {len(reports)} frame(s), {bad} violation(s)", soft_wrap=True)
    return 1 if bad else 0


def jsonable(value):
    """numpy scalars and arrays in a report, as JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def audit_scene(args, console: Console, scene) -> int:
    states, frames = audit_states(args, scene)
    return print_audit(console, run_audit(scene, states, frames, args.size), args.json)


def values_of(operands: dict) -> dict:
    """Operands as their value arrays (numbers stay numbers)."""
    return {name: getattr(v, "values", v) for name, v in operands.items()}


def name_spec(text: str, flag: str) -> tuple[str, str]:
    """``NAME=SPEC`` of ``flag`` (--param, --set) as (name, spec)."""
    name, eq, spec = text.partition("=")
    name = name.strip()
    if not eq or not name.isidentifier() or not spec:
        raise MatvizError(f"{flag} {text!r} is not NAME=SPEC: write e.g. {flag} A=sample:astronaut")
    return name, spec
