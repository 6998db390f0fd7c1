"""The ``matviz`` command: parse, build what the flags describe, write or audit it, print. The only
user of rich and of sys.exit. One module per subcommand (``NAME``, ``add(subparsers)``,
``run(args, console)``), registered in ``SUBCOMMANDS``; what they share is in ``common``.

Every error a user can cause is printed as one line ``matviz: error: …`` and exits with 2; a
library error names its parameters as data (``MatvizError.params``), said here as flags (``FLAGS``).
``--audit`` writes nothing and exits 1 if a checked frame breaks a rule of the frame audit.
"""

from __future__ import annotations

import argparse
import signal
import sys

from matviz.cli import attention, demo, digits, fit, gallery, heads, poster, render, show, subspaces
from matviz.cli.common import Console, Parser
from matviz.errors import MatvizError

SUBCOMMANDS = (render, show, attention, heads, demo, gallery, fit, poster, subspaces, digits)  # one line per subcommand

# A parameter of the library as the flag a CLI user typed: --NAME with - for _, except these.
FLAGS = {
    "out": "-o", "path": "-o", "output": "-o", "from_token": "--from", "to_token": "--to", "bindings": "--set",
    "others": "--set", "init": "--param", "operands": "--set", "expression": "EXPR",
}


def flag(name: str) -> str:
    return FLAGS.get(name, "--" + name.replace("_", "-"))


EPILOG = """examples:
  matviz demo                                              # built-in scenes -> ./matviz-out/
  matviz render --left sample:camera --right sample:coins --resize 256x256 -o out/product.mp4
  matviz render --left "[[1,2,3],[4,5,6]]" --right "[[1,-2],[3,4],[5,6]]" --highlight 1,0 -o ab.png
  matviz show --left sample:camera --right sample:coins --resize 128x128   # interactive window
  matviz render "softmax(Q @ K.T / sqrt(d), causal=True) @ V" --set Q=random:8x4 --set K=random:8x4:seed=1 \\
                --set V=random:8x4:seed=2 -o attn.mp4       # an expression: one cube per @
  matviz attention "The cat sat on the mat because it was tired" --layer 5 --head 11 -o head.mp4   # a real model
  matviz attention "The cat sat on the mat" --layer 0 --head all -o heads.png
  matviz show --attention "The cat sat on the mat because it was tired" --layer 5 --head 11
  matviz heads "The cat sat on the mat because it was tired" --from it --to cat   # which head links them
  matviz render scene:textbook -o textbook.mp4             # a scene script that ships with matviz
  matviz gallery -o my-gallery/                            # every built-in scene -> my-gallery/
  matviz fit "normalize(A.T @ A)" --param A=sample:camera --target-of sample:camera --warp 8,24 \\
             --resize 48x48 -o run/                        # learn A so that EXPR(A) matches a target

see 'matviz render --help' for operands, transforms and output options."""


def build_parser() -> argparse.ArgumentParser:
    from matviz import __version__

    parser = Parser(
        prog="matviz",
        description="Matrix multiplication as a 3D scene: A on the left face, "
        "B on the top face, the products A[i,k]*B[k,j] inside, C = A @ B on the back face.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"matviz {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in SUBCOMMANDS:
        command.add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; 0 on success, 1 if an audit found violations, 2 for bad input, 130 if interrupted."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # a bare `matviz`: the help, as `matviz --help`
        parser.print_help()
        return 0
    console = Console()
    previous = _catch_signals()
    try:
        with console.notes():
            run = next(c.run for c in SUBCOMMANDS if c.NAME == args.command)
            return run(args, console) or 0
    except MatvizError as exc:
        sys.stderr.write(f"matviz: error: {exc.say(flag, assign=' ')}\n")
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
