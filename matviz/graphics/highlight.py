"""The dot product behind one result cell: orange outlines through the cube, its formula with the
numbers, and (textbook sizes) each product written on its cube."""

from __future__ import annotations

import numpy as np
import pyvista as pv

from matviz.graphics import colors


def formula(cube, i: int, j: int, upto: int | None = None) -> str:
    """The dot product behind ``C[i, j]``, with the numbers when k is small."""
    row, col = cube.dot_terms(i, j)
    k = len(row)
    upto = k if upto is None else upto
    total = float(row[:upto] @ col[:upto])
    names = (cube.left.name, cube.right.name, cube.result.name)
    a, b, c = names if max(map(len, names)) <= 12 else ("A", "B", "C")
    head = f"{c}[{i},{j}] = sum_k {a}[{i},k]*{b}[k,{j}]"
    if k <= 6:
        terms = " + ".join(f"{_num(x)}*{_num(y)}" for x, y in zip(row[:upto], col[:upto]))
        return f"{head}\n= {terms or '0'} = {colors.fmt(total)}"
    return f"{head}\n(k < {upto}) = {total:.4g}" + ("" if upto < k else " (complete)")


def _num(v: float) -> str:
    """A factor of the formula: negatives in parentheses, so ``9*(-1)`` never reads ``9*-1``."""
    s = colors.fmt(v)
    return f"({s})" if s.startswith("-") else s


class Highlight:
    """Outlines, formula and product numbers for the highlighted cell of one cube."""

    def __init__(self, cp, cube, numbers: bool, interior):
        self.cp, self.cube, self.numbers, self.interior = cp, cube, numbers, interior
        self.formula: str | None = None
        self.name = cp.name("highlight")  # the outlines' actor (the web page toggles it)

    def update(self, hl, upto: int, interior_shown: bool) -> None:
        cp, pen = self.cp, self.cp.pen
        pen.remove(cp.name("product-"))
        if hl is None:
            cp.plotter.remove_actor(self.name, render=False)
            self.formula = None
            return
        i, j = hl
        boxes = cp.layout.highlight_boxes(i, j, upto, self.cube.blocks)
        lines = pv.merge([pv.Box(bounds=b).outline() for b in boxes])
        cp.add_mesh(lines, color=colors.HIGHLIGHT, line_width=4, lighting=False, name=self.name)
        self.formula = formula(self.cube, i, j, upto)
        if self.numbers and self.cube.blocks.unit and interior_shown and self.interior.slices and upto > 0:
            self._products(i, j, upto)

    def _products(self, i: int, j: int, upto: int) -> None:
        """Write A[i,k]·B[k,j] on each cube of the highlighted line summed so far, on the side of
        the cube the camera sees (so the number is never inside geometry)."""
        row, col = self.cube.dot_terms(i, j)
        products = row[:upto] * col[:upto]
        f = self.interior.fraction[i, :, j]
        dark = colors.is_dark(products, self.interior.kind, self.interior.clim)
        for kk in range(upto):
            centre = self.cp.layout.cell_center(i + 0.5, kk + 0.5, j + 0.5)
            half = 0.5 * f[kk]
            box = np.array([centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half,
                            centre[2] - half, centre[2] + half])
            self.cp.pen.text(
                self.cp.name(f"product-{kk}"),
                colors.fmt(products[kk]),
                role="number",
                size=15,
                anchor=self.cp.world(centre),
                inside=self.cp.world_box(box),
                justify=("center", "center"),
                color="white" if dark[kk] else "black",
                bold=True,
            )
