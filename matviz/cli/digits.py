"""``matviz digits``: train small nets on the 8x8 digits (offline, CPU, seconds) and draw their weights,
signal spaces, residual images, conv kernels and inputs for ideal outputs."""

from __future__ import annotations

NAME = "digits"


def add(sub) -> None:
    from matviz.learning.digits import STEPS

    p = sub.add_parser(
        NAME,
        help="train small nets on the 8x8 digits (offline, CPU, seconds) and draw their weights, signal spaces, "
        "residual images, conv kernels and inputs for ideal outputs",
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for the figures and digits.json")
    p.add_argument("--seed", type=int, default=0, help="data split, initialisation and refinement seed (default 0)")
    p.add_argument("--steps", type=int, default=STEPS, help=f"Adam steps refining each ideal input (default {STEPS})")



def run(args, console) -> int:
    from matviz.learning.digits import run

    _, paths = run(args.output, seed=args.seed, steps=args.steps, note=console.note)
    console.wrote(paths)
    return 0
