"""``matviz subspaces``: the SVD chain of a weight matrix (U @ diag(S) @ Vt = W) with its singular
values, signal vectors and an input's signal/residual split."""

from __future__ import annotations

import sys

from matviz.cli.common import parse_size
from matviz.errors import MatvizError

NAME = "subspaces"


def add(sub) -> None:
    from matviz.sources.models import PROJECTION_MATRICES

    p = sub.add_parser(
        NAME,
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
    p.add_argument("--size", type=parse_size, default=(1280, 720), metavar="WxH", help="frame size (default 1280x720)")



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


def run(args, console) -> int:
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


def _subspaces_write(args, console, sub, shape, x) -> int:
    from matviz.chain import expr
    from matviz.graphics import subspace_panels as sp
    from matviz.story import still_state

    which = f" = {args.w_label}" if getattr(args, "w_label", None) else ""
    chain = expr("svd(W)", W=sub.matrix, title=f"svd(W) = U @ diag(S) @ Vt, W{which} ({sub.shape[0]}x{sub.shape[1]})")
    if args.audit:

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
