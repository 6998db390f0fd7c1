"""``matviz fit``: learn an operand so that an expression of it matches a target (Adam, torch autograd)."""

from __future__ import annotations

import argparse

from matviz.cli.common import name_spec, positive
from matviz.errors import MatvizError

NAME = "fit"

EPILOG = """examples:
  matviz fit 'let X = normalize(norm(A, "y+1", cols)) in normalize(X.T @ X)' --param A=sample:astronaut \\
             --target-of sample:astronaut --warp 8,24 --resize 48x48 --steps 300 --lr 0.01 -o run/
  matviz fit "softmax(A, rows) @ B" --param A=random:16x16 --set B=sample:coins --resize 16x16 \\
             --target target.npy --steps 500 -o run2/
  matviz fit ... -o run/ --resume        # continue after Ctrl-C or a kill, from the last checkpoint

Adam on the entries of NAME, loss = ||EXPR(NAME) - target|| (Frobenius). The run directory gets
loss.csv (step,loss; row k after k steps), NAME.npy (the learned operand), checkpoint.pt (every
--checkpoint-every steps), fit.mp4, summary.png and fit.json. Same seed and settings: the same
NAME.npy, bit for bit, resumed or not."""



def add(sub) -> None:
    f = sub.add_parser(
        NAME,
        help="learn an operand so that an expression of it matches a target (Adam, torch autograd)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("expression", help='the expression, e.g. \'let X = norm(A, "y+1", cols) in normalize(X.T @ X)\'')
    f.add_argument("--param", required=True, metavar="NAME=INIT_SPEC", help="the operand to learn and its start, e.g. A=sample:astronaut")
    target = f.add_mutually_exclusive_group(required=True)
    target.add_argument("--target", metavar="SPEC", help="the matrix EXPR should become (an operand spec)")
    target.add_argument("--target-of", metavar="SPEC", help="the target is EXPR's value at SPEC (after --warp)")
    f.add_argument("--warp", metavar="AMP,WAVELENGTH[,AXIS]", help="with --target-of: warp SPEC first, e.g. 8,24")
    f.add_argument("--set", dest="bindings", action="append", default=[], metavar="NAME=SPEC", help="another name of EXPR")
    f.add_argument("--steps", type=positive(int), default=500, help="Adam steps (default 500)")
    f.add_argument("--lr", type=positive(float), default=0.01, help="Adam's learning rate (default 0.01)")
    f.add_argument("--seed", type=int, default=0, help="torch seed (default 0)")
    f.add_argument("--tol", type=float, default=0.0, help="stop once the loss is at most this (default 0)")
    f.add_argument("--checkpoint-every", type=positive(int), default=50, metavar="K", help="checkpoint every K steps (default 50)")
    again = f.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue the run in -o from its last checkpoint")
    again.add_argument("--force", action="store_true", help="start over in a non-empty -o (files are replaced as they are written)")
    f.add_argument("--resize", metavar="ROWSxCOLS", help="resize every operand (images anti-aliased)")
    f.add_argument("--no-video", action="store_true", help="skip fit.mp4")
    f.add_argument("-o", "--output", required=True, metavar="DIR", help="the run directory")



def run(args, console) -> int:
    """Fit mode: Adam on one operand's pixels; a progress bar with the loss."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from matviz.learning.fit import fit

    param, init = name_spec(args.param, "--param")
    others = {}
    for binding in args.bindings:
        name, spec = name_spec(binding, "--set")
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
