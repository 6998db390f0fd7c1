"""Names of a cube's faces (with their axes and sizes), row/column labels (tokens) and captions."""

from __future__ import annotations

import numpy as np

TICKS_MAX = 64  # label rows/columns (tokens) of faces with at most this many


def face_names(cp, cube, hidden, names: dict[str, str]) -> None:
    """``A [i=2 x k=3]`` below A, ``B [k=3 x j=2]`` beside B, ``A@B [i=2 x j=2]`` below C: the
    axes i, k, j and their sizes are named with the faces, so no label floats inside the box."""
    L = cube.layout
    m, k, n = cube.shape
    pad = 0.6 * L.gap  # clear of the face's edge (and of a highlight outline on it)
    spots = {
        "left": (L.left.point(m, k / 2) + np.array([0, -pad, 0]), L.left.point(m / 2, k / 2), f"[i={m} x k={k}]"),
        "top": (L.top.point(k / 2, n) + np.array([pad, 0, 0]), L.top.point(k / 2, n / 2), f"[k={k} x j={n}]"),
        "result": (L.result.point(m, n / 2) + np.array([0, -pad, 0]), L.result.point(m / 2, n / 2), f"[i={m} x j={n}]"),
    }
    for which, (anchor, centre, axes) in spots.items():
        if which in hidden:
            continue
        cp.pen.text(
            cp.name(f"name-{which}"),
            f"{names[which]} {axes}",
            role="name",
            size=14,
            anchor=cp.world(anchor),
            away=cp.world(centre),
            bold=True,
        )


def ticks(cp, cube, hidden) -> None:
    """Row labels of A and column labels of B (tokens), along the faces' outer edges."""
    L = cube.layout
    m, k, n = cube.shape
    pad = 0.3 * L.gap
    sides = []
    if "left" not in hidden and cube.left.row_labels and m <= TICKS_MAX:
        pts = [L.left.point(r + 0.5, 0) + np.array([0, 0, pad]) for r in range(m)]
        sides.append(("rows", cube.left.name, pts, cube.left.row_labels, None))
    if "top" not in hidden and cube.right.col_labels and n <= TICKS_MAX:
        pts = [L.top.point(0, c + 0.5) + np.array([0, 0, pad]) for c in range(n)]
        sides.append(("columns", cube.right.name, pts, cube.right.col_labels, None))
    if "top" not in hidden and cube.right.row_labels and k <= TICKS_MAX:
        pts = [L.top.point(r + 0.5, 0) + np.array([-pad, 0, 0]) for r in range(k)]
        sides.append(("rows", cube.right.name, pts, cube.right.row_labels, None))
    for s, (what, owner, pts, labels, _) in enumerate(sides):
        group = f"{what} of {owner}"
        for t, (pt, label) in enumerate(zip(pts, labels)):
            inward = pt - np.array([0, 0, pad]) if what == "columns" or s == 0 else pt + np.array([pad, 0, 0])
            cp.pen.text(
                cp.name(f"tick-{s}-{t:03d}"),
                str(label),
                role="token",
                size=12,
                anchor=cp.world(pt),
                away=cp.world(inward),
                group=group,
            )


def caption(cp, cube) -> None:
    """A chain's caption for a cube (e.g. "standard"), above it."""
    if not cube.caption:
        return
    b = cube.bounds
    anchor = [(b[0] + b[1]) / 2, b[3] + 0.1 * (b[3] - b[2]), (b[4] + b[5]) / 2]
    centre = [(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2]
    cp.pen.text(cp.name("caption"), cube.caption, role="caption", size=15, anchor=anchor, away=centre, bold=True)
