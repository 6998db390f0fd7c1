"""``matviz show``: the interactive window (a real display, or Xvfb)."""

from __future__ import annotations

import argparse

from matviz.cli.common import check_flags, default_animation, model_args, scene_args, scene_from_args, scene_mode
from matviz.errors import MatvizError

NAME = "show"

EPILOG = """examples:
  matviz show --left sample:camera --right sample:coins --resize 256x256
  matviz show --left random:6x5 --right random:5x4:seed=1 --animation orbit
  matviz show --left "[[1,2,3],[4,5,6]]" --right "[[1,-2],[3,4],[5,6]]" --highlight 1,0
  matviz show scene:textbook
  matviz show "softmax(Q @ K.T / sqrt(d)) @ V" --set Q=random:8x4 --set K=random:8x4:seed=1 --set V=random:8x4:seed=2
  matviz show --attention "The cat sat on the mat because it was tired" --layer 5 --head 11

The window opens paused on the finished picture. Keys (also printed when it opens):
  space        play / pause the sum over k (in a chain, cube after cube)
  Right, Left  one step forward / back: a k-block, or a stage such as softmax (pauses)
  Home, End    the start / the finished picture
  i            show / hide the interior
  h            clear the highlight (and the token's)
  c            frame the scene again (once the mouse has moved the camera, keys keep its view)
  right-click  a result cell: outline its row·column dot product and print its terms;
               a token of the flat panel: outline its row or column in both views
  ] [          with --attention: next / previous head (same layer)
  } {          next / previous layer (same head); also PageDown / PageUp
  mouse        drag to orbit, wheel to zoom, shift-drag to pan
Operands and flags as for 'matviz render --help' (no -o: nothing is written)."""


def add(sub) -> None:
    s = sub.add_parser(NAME, help="open the interactive window", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    scene_args(s)
    s.add_argument("--attention", metavar="TEXT", help="show a real model's attention on TEXT (see 'matviz attention')")
    model_args(s)


def run(args, console) -> int:

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
    mv.show(scene, default_animation(args, None), duration=args.duration, size=args.size, heads=heads)
    return 0
