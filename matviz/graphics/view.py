"""SceneView: the actors of one matmul cube, built once and updated from a ViewState.

Actors: three faces (cell-coloured grids), the interior (glyph cubes, one actor per k-block, or a
volume cropped along k), the dot-product highlight, numbers on small faces, names, legends and a
status line. ``apply(state)`` only touches what the state changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyvista as pv

from matviz.core.layout import Face, camera
from matviz.core.products import block_reduce
from matviz.graphics import colors
from matviz.scene import Operand, Scene, ViewState

GHOST = "vtkGhostType"  # VTK's per-cell flags; HIDDEN cells are not drawn
HIDDEN = 32  # vtkDataSetAttributes::HIDDENCELL
TICKS_MAX = 64  # label rows/columns (tokens) of faces with at most this many
CUBES_MAX = 32**3  # glyph cubes up to this many interior cells, a volume beyond (DESIGN.md timings)
NUMBERS_MAX_SIDE = 6  # write values on faces whose sides are all at most this (auto mode)
SHRINK = 0.6  # small grids: cubes take this fraction of their block's side, leaving gaps to see through
UNIFORM_MAX_SIDE = 8  # grids with more blocks along any side size their cubes by magnitude
_HEX = np.array(
    [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=float
)  # VTK hexahedron order


@dataclass
class _FaceActors:
    grid: pv.StructuredGrid
    actor: object
    face: Face
    edges: tuple[np.ndarray, np.ndarray]  # display row/column boundaries, in elements
    op: object  # the Operand drawn
    labels: bool = False
    clim: tuple[float, float] | None = None


def masked_means(values: np.ndarray, row_edges: np.ndarray, col_edges: np.ndarray) -> np.ndarray:
    """Block means over the finite entries (masked -inf cells left out); NaN where all are masked."""
    finite = np.isfinite(values)
    total = block_reduce(np.where(finite, values, 0.0), row_edges, col_edges, how="sum")
    count = block_reduce(finite.astype(np.float64), row_edges, col_edges, how="sum")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def face_grid(face: Face, row_edges: np.ndarray, col_edges: np.ndarray, values: np.ndarray) -> pv.StructuredGrid:
    """A flat grid on ``face`` whose cell ``[r, c]`` carries ``values[r, c]``."""
    pts = face.corners(row_edges, col_edges)  # (R+1, C+1, 3)
    grid = pv.StructuredGrid(pts[..., 0, None], pts[..., 1, None], pts[..., 2, None])
    grid.cell_data["values"] = values.ravel(order="F")  # VTK: first index fastest
    return grid


def cubes(lo: np.ndarray, hi: np.ndarray, fraction: np.ndarray) -> pv.UnstructuredGrid:
    """Axis-aligned cubes, one cell each: box ``lo..hi`` (N, 3) shrunk about its centre by ``fraction`` (N,)."""
    center = (lo + hi) / 2.0
    half = (hi - lo) / 2.0 * fraction[:, None]
    points = (center[:, None, :] + half[:, None, :] * _HEX[None]).reshape(-1, 3)  # (8N, 3)
    n = len(lo)
    cells = np.hstack([np.full((n, 1), 8), np.arange(8 * n).reshape(n, 8)]).ravel()
    return pv.UnstructuredGrid(cells, np.full(n, pv.CellType.HEXAHEDRON, dtype=np.uint8), points)


def short(name: str, width: int = 24) -> str:
    """A name cut to ``width`` characters for legends and labels."""
    return name if len(name) <= width else name[: width - 3] + "..."


def _bar(title: str, slot: int, font, fmt: str = "%.3g", origin=(0.03, 0.02), step: float = 0.24) -> dict:
    """Scalar-bar arguments: horizontal legends side by side along the bottom (four per row)."""
    return dict(
        title=title,
        vertical=False,
        position_x=origin[0] + step * slot,
        position_y=origin[1],
        width=step * 0.83,
        height=0.07,
        n_labels=3,
        fmt=fmt,
        color=colors.TEXT,
        title_font_size=font(14),
        label_font_size=font(12),
    )


class SceneView:
    """Everything drawn for one Scene in one plotter."""

    def __init__(
        self,
        plotter: pv.Plotter,
        scene: Scene,
        *,
        legends: bool = True,
        labels: bool = True,
        prefix: str = "",
        hidden: frozenset[str] = frozenset(),
        standalone: bool = True,
        legend_origin: tuple[float, float] = (0.03, 0.02),
        legend_step: float = 0.24,
        ticks: bool = True,
    ):
        """``standalone`` views own the camera, title and status line; in a chain the ChainView
        does. ``prefix`` keeps actor names apart, ``hidden`` faces are drawn by another cube."""
        self.plotter = plotter
        self.scene = scene
        self.layout = scene.layout
        self.legends = legends
        self.prefix = prefix
        self.hidden = hidden
        self.standalone = standalone
        self.legend_origin, self.legend_step = legend_origin, legend_step
        self.matrix = None if scene.placement.identity else scene.placement.matrix
        self.state: ViewState | None = None
        self.font = lambda pt: max(6, round(pt * plotter.window_size[1] / 720))  # sizes are for 720p
        self.sized = False  # interior cubes sized by magnitude (set by _add_cubes)
        self._result_shown = scene.face_values("result")  # the running sum on the result face
        plotter.set_background(scene.style.background)
        m, k, n = scene.shape
        self.numbers = scene.style.numbers
        if self.numbers is None:  # in a chain, numbers on every face would be clutter: ask for them
            self.numbers = standalone and max(m, k, n) <= NUMBERS_MAX_SIDE
        self.faces = {
            which: self._add_face(which, slot)
            for slot, which in enumerate(("left", "top", "result"))
            if which not in hidden
        }
        self.stage_faces = [self._add_stage(s) for s in range(len(scene.stages))]
        if ticks:
            self._add_ticks()
        self.mode = scene.style.interior
        if self.mode == "auto":
            self.mode = "cubes" if int(np.prod(scene.blocks.shape)) <= CUBES_MAX else "volume"
        self._interior_clim = colors.clim(scene.interior, self._interior_kind)
        self.slices: list = []
        self.volume = None
        if self.mode == "cubes":
            self._add_cubes()
        elif self.mode == "volume":
            self._add_volume()
        if labels:
            self._add_names()
        if standalone:
            plotter.add_text(
                scene.title,
                position="upper_left",
                font_size=self.font(12),
                color=colors.TEXT,
                name="title",
                font=colors.FORMULA_FONT,
            )
        self.apply(scene.initial_state())

    # ---- placement ----------------------------------------------------------------------------
    def name(self, base: str) -> str:
        return self.prefix + base

    def world(self, points) -> np.ndarray:
        """Local (cube) coordinates to world coordinates."""
        return self.scene.placement.to_world(points)

    def place(self, actor):
        """Move an actor built in local coordinates to the cube's place in the world."""
        if self.matrix is not None:
            actor.user_matrix = self.matrix
        return actor

    # ---- building -------------------------------------------------------------------------
    @property
    def _interior_kind(self) -> str:
        return "signed" if float(self.scene.interior.min()) < 0 else "nonneg"

    def _operand(self, which: str):
        return {"left": self.scene.left, "top": self.scene.right, "result": self.scene.result}[which]

    def _add_face(self, which: str, slot: int) -> _FaceActors:
        op, face, values = self._operand(which), getattr(self.layout, which), self.scene.face_values(which)
        rows, cols = op.shape
        edges = (self.scene.face_edges(rows), self.scene.face_edges(cols))
        grid = face_grid(face, *edges, values)
        small = max(values.shape) <= 32
        actor = self.add_mesh(
            grid,
            scalars="values",
            cmap=colors.cmap(op.kind),
            clim=self.face_clim(which, op),
            lighting=False,
            show_edges=small,
            edge_color="#777777",
            line_width=1,
            show_scalar_bar=self.legends,
            scalar_bar_args=self.bar(f"{short(op.name)} {rows}x{cols}", slot),
            name=self.name(f"face-{which}"),
        )
        fa = _FaceActors(grid, actor, face, edges, op)
        if self.numbers and values.size <= 40 * 40:
            fa.labels = self._add_numbers(which, fa, values)
        return fa

    # ---- stages of the result face (scale, mask, softmax) ----------------------------------------
    def _add_stage(self, index: int) -> _FaceActors:
        """The result face after stage ``index``, drawn in the result's place and shown by
        ``_update_stages``. Masked entries (-inf) are gray; only the last stage has a legend,
        one row above the cube's own (where a linked next cube's hidden face would have its own)."""
        stage = self.scene.stages[index]
        m, _, n = self.scene.shape
        edges = (self.scene.face_edges(m), self.scene.face_edges(n))
        values = masked_means(stage.values, *edges)
        grid = face_grid(self.layout.result, *edges, values)
        grid.cell_data[GHOST] = np.zeros(grid.n_cells, dtype=np.uint8)
        op = Operand(stage.label, np.where(np.isneginf(stage.values), np.nan, stage.values), stage.kind)
        last = index == len(self.scene.stages) - 1
        finite = values[np.isfinite(values)]
        lim = colors.clim(finite if finite.size else np.zeros(1), stage.kind)
        if stage.rowwise and finite.size:  # probabilities: most are tiny, so saturate the top 0.5%
            lim = (0.0, max(float(np.percentile(finite, 99.5)), 1e-12))
        bar = _bar(
            f"{short(stage.label)} {m}x{n}",
            0,
            self.font,
            origin=(self.legend_origin[0], self.legend_origin[1] + 0.1),
            step=self.legend_step,
        )
        actor = self.add_mesh(
            grid,
            scalars="values",
            cmap=colors.cmap(stage.kind),
            clim=lim,
            nan_color="#bbbbbb",
            lighting=False,
            show_edges=max(values.shape) <= 32,
            edge_color="#777777",
            line_width=1,
            show_scalar_bar=self.legends and last,
            scalar_bar_args=bar,
            name=self.name(f"stage-{index}"),
        )
        actor.SetVisibility(False)
        fa = _FaceActors(grid, actor, self.layout.result, edges, op)
        fa.clim = lim
        return fa

    def _levels(self) -> list:
        """Face actors of the result at each level: 0 = the sum, s = after stage s."""
        return [self.faces.get("result")] + self.stage_faces

    def _update_stages(self, after_sum: bool, post: float | None) -> None:
        """Show the level of the result face ``post`` asks for; part-way through a row-wise stage
        the first rows (columns) show the new level and the rest the previous one."""
        if not self.stage_faces:
            return
        levels = self._levels()
        whole, rows = self.scene.stage_values(post) if after_sum else (0, 0)
        shown = {whole: None}
        if rows > 0:
            nxt = self.scene.stages[whole]
            er, ec = levels[whole + 1].edges
            cut = int(np.searchsorted(er if nxt.rowwise == "rows" else ec, rows, side="left"))
            shown = {whole: (nxt.rowwise, cut, False), whole + 1: (nxt.rowwise, cut, True)}
        for level, fa in enumerate(levels):
            if fa is None:
                continue
            visible = level in shown
            fa.actor.SetVisibility(visible)
            ghost = np.zeros(fa.grid.n_cells, dtype=np.uint8)
            if visible and shown[level] is not None:
                axis, cut, first = shown[level]
                r, c = len(fa.edges[0]) - 1, len(fa.edges[1]) - 1
                idx = np.arange(r)[:, None] if axis == "rows" else np.arange(c)[None, :]
                keep = np.broadcast_to(idx < cut if first else idx >= cut, (r, c))
                ghost = np.where(keep, 0, HIDDEN).astype(np.uint8).ravel(order="F")
            fa.grid.cell_data[GHOST] = ghost
            fa.grid.Modified()
        if self.numbers and levels[0] is not None and levels[0].labels:
            self._stage_numbers(shown)

    def _stage_numbers(self, shown: dict) -> None:
        """Numbers on the result face for whatever level each cell shows."""
        for level, fa in enumerate(self._levels()):
            name = f"numbers-result-{level}" if level else "numbers-result"
            if level == 0 and level in shown and shown[level] is None:
                continue  # _update_result writes the sum's numbers
            if level not in shown:
                if level:
                    self._write_values(name, np.zeros((0, 3)), np.zeros(0), "nonneg", (0.0, 1.0))
                continue
            er, ec = fa.edges
            rc, cc = (er[:-1] + er[1:]) / 2.0, (ec[:-1] + ec[1:]) / 2.0
            values = fa.op.values if level else self.scene.result.values
            keep = np.ones(values.shape, dtype=bool)
            if shown[level] is not None:
                axis, cut, first = shown[level]
                idx = np.arange(values.shape[0])[:, None] if axis == "rows" else np.arange(values.shape[1])[None, :]
                keep = np.broadcast_to(idx < cut if first else idx >= cut, values.shape)
            pts = np.array([fa.face.point(r, c) + 0.03 * fa.face.normal for r in rc for c in cc])
            flat, mask = values.ravel(), keep.ravel()
            if level == 0:
                self._write_values(name, pts[mask], flat[mask], fa.op.kind, self.face_clim("result"))
            else:
                self._write_values(name, pts[mask], flat[mask], fa.op.kind, fa.clim)

    # ---- token labels ---------------------------------------------------------------------------
    def _add_ticks(self) -> None:
        """Row/column labels (tokens) along the front edges of the operand faces, when few enough."""
        s, L = self.scene, self.layout
        m, k, n = s.shape
        pad = 0.35 * L.gap
        pts, text = [], []
        if "left" not in self.hidden and s.left.row_labels and m <= TICKS_MAX:
            pts += [L.left.point(r + 0.5, 0) + np.array([0, 0, pad]) for r in range(m)]
            text += list(s.left.row_labels)
        if "top" not in self.hidden and s.right.col_labels and n <= TICKS_MAX:
            pts += [L.top.point(0, c + 0.5) + np.array([0, 0, pad]) for c in range(n)]
            text += list(s.right.col_labels)
        if "top" not in self.hidden and s.right.row_labels and k <= TICKS_MAX:
            pts += [L.top.point(r + 0.5, 0) + np.array([-pad, 0, 0]) for r in range(k)]
            text += list(s.right.row_labels)
        if pts:
            self.plotter.add_point_labels(
                self.world(np.array(pts)),
                [short(t, 12) for t in text],
                font_size=self.font(10 if len(text) <= 40 else 7),
                font_family=colors.FORMULA_FONT,  # tokens like [CLS]: arial would draw (CLS)
                text_color="#333333",
                shape=None,
                show_points=False,
                always_visible=True,
                name=self.name("ticks"),
                justification_horizontal="center",
                justification_vertical="center",
            )

    def add_mesh(self, mesh, **kwargs):
        """``plotter.add_mesh`` placed in the world (names are prefixed by the caller)."""
        return self.place(self.plotter.add_mesh(mesh, **kwargs))

    def bar(self, title: str, slot: int) -> dict:
        return _bar(title, slot, self.font, origin=self.legend_origin, step=self.legend_step)

    def face_clim(self, which: str, op=None) -> tuple[float, float]:
        """A face's colour range (shown in its legend).

        Operands: their own range. The result, for numbers: C's range widened to hold 0, where the
        sweep's running sums start, so the colours show them grow. The result of two photographs:
        the min-max of what is shown now (Mishka's normalization), so each running sum is seen
        with full contrast instead of a washed-out fraction of the final range.
        """
        op = op or self._operand(which)
        if which != "result":
            return colors.clim(op.values, op.kind)
        if op.kind == "image":
            return colors.clim(self._result_shown, op.kind)
        lo, hi = colors.clim(op.values, op.kind)
        return min(lo, 0.0), max(hi, 0.0)

    def _add_numbers(self, which: str, fa: _FaceActors, values: np.ndarray) -> bool:
        """Write each value at its cell centre, white on dark cells and black on light ones."""
        er, ec = fa.edges
        rc = (er[:-1] + er[1:]) / 2.0
        cc = (ec[:-1] + ec[1:]) / 2.0
        pts = np.array([fa.face.point(r, c) + 0.02 * fa.face.normal for r in rc for c in cc])
        self._write_values(f"numbers-{which}", pts, values.ravel(order="C"), fa.op.kind, self.face_clim(which, fa.op))
        return True

    def _interior_title(self) -> str:
        s = self.scene
        size = " (cube size ~ |value|)" if self.sized else ""
        if s.blocks.unit:
            return f"{short(s.left.name, 10)}[i,k]*{short(s.right.name, 10)}[k,j]{size}"
        gm, gk, gn = s.blocks.shape
        return f"block {s.aggregate} of products, {gm}x{gk}x{gn} grid{size}"

    def _add_cubes(self) -> None:
        """One opaque actor of cubes per k-block, so the sweep only toggles visibility.

        Small grids (every side <= ``UNIFORM_MAX_SIDE``) draw equal cubes, to carry numbers and
        colours; larger ones size each cube by its magnitude (as mm sizes its dots), so the big
        products stand out and the small ones leave room to see through to the result face.
        """
        s, (gm, gk, gn) = self.scene, self.scene.blocks.shape
        bl = s.blocks
        self.sized = max(gm, gk, gn) > UNIFORM_MAX_SIDE
        if not self.sized:
            fraction = np.full(s.interior.shape, SHRINK)
        else:
            vmax = float(np.percentile(np.abs(s.interior), 99)) or 1.0
            fraction = 0.9 * np.sqrt(np.clip(np.abs(s.interior) / vmax, 0.0, 1.0))
        ii, jj = np.meshgrid(np.arange(gm), np.arange(gn), indexing="ij")  # (gm, gn): i slow, j fast
        ii, jj = ii.ravel(), jj.ravel()
        actors = []
        for b in range(gk):
            lo = np.stack([bl.edges_j[jj], -bl.edges_i[ii + 1], np.full(ii.size, -bl.edges_k[b + 1])], axis=1)
            hi = np.stack([bl.edges_j[jj + 1], -bl.edges_i[ii], np.full(ii.size, -bl.edges_k[b])], axis=1)
            mesh = cubes(lo.astype(float), hi.astype(float), fraction[:, b, :].ravel())
            mesh.cell_data["values"] = s.interior[:, b, :].ravel()
            actors.append(
                self.add_mesh(
                    mesh,
                    scalars="values",
                    cmap=colors.cmap(self._interior_kind),
                    clim=self._interior_clim,
                    show_scalar_bar=self.legends and b == 0,
                    ambient=0.45,
                    diffuse=0.6,
                    specular=0.0,  # shaded enough to read as cubes, colours stay true
                    scalar_bar_args=self.bar(self._interior_title(), 3),
                    name=self.name(f"interior-{b}"),
                )
            )
        self.slices = actors

    def _add_volume(self) -> None:
        """The interior as a volume. Values sit on *points* at block centres and are drawn with
        nearest-neighbour interpolation, so each block shows its exact aggregate (pyvista would
        average cell data onto points, blurring signed data towards 0)."""
        s, (gm, gk, gn) = self.scene, self.scene.blocks.shape
        m, k, n = s.shape
        step = (n / gn, m / gm, k / gk)
        grid = pv.ImageData(
            dimensions=(gn, gm, gk), spacing=step, origin=(step[0] / 2, -m + step[1] / 2, -k + step[2] / 2)
        )
        grid.point_data["values"] = s.interior[::-1, ::-1, :].transpose(1, 0, 2).ravel()  # (z, y, x)
        # a robust range (99th percentile) so a few extreme blocks do not wash the rest out
        r = float(np.percentile(np.abs(s.interior), 99)) or 1.0
        self._interior_clim = (-r, r) if self._interior_kind == "signed" else (float(s.interior.min()), r)
        opacity = [0.6, 0.15, 0.0, 0.15, 0.6] if self._interior_kind == "signed" else [0.0, 0.08, 0.6]
        self.volume = self.plotter.add_volume(
            grid,
            scalars="values",
            cmap=colors.cmap(self._interior_kind),
            clim=self._interior_clim,
            opacity=opacity,
            show_scalar_bar=self.legends,
            opacity_unit_distance=max(m, k, n) / 8.0,  # opacities are per eighth of the box
            scalar_bar_args=self.bar(self._interior_title(), 3),
            name=self.name("interior-volume"),
        )
        self.place(self.volume)
        self.volume.prop.interpolation_type = "nearest"
        self.volume.mapper.SetCroppingRegionFlagsToSubVolume()

    def _add_names(self) -> None:
        s, L = self.scene, self.layout
        m, k, n = s.shape
        pad = 0.6 * L.gap
        pts = [
            L.left.point(m, k / 2) + np.array([0, -pad, 0]),
            L.top.point(k / 2, n) + np.array([pad, 0, 0]),
            L.result.point(m, n / 2) + np.array([0, -pad, 0]),
            L.left.point(m / 2, 0) + np.array([-pad, 0, 0]),
            np.array([-L.gap, L.gap, -k / 2]),
            L.top.point(0, n / 2) + np.array([0, pad, 0]),
        ]
        text = [
            f"{short(s.left.name, 32)} ({m}x{k})",
            f"{short(s.right.name, 32)} ({k}x{n})",
            f"{short(s.result.name, 32)} ({m}x{n})",
            f"i (m={m})",
            f"k (k={k})",
            f"j (n={n})",
        ]
        self.plotter.add_point_labels(
            self.world(np.array(pts)),
            text,
            font_size=self.font(15),
            bold=True,
            text_color=colors.TEXT,
            shape=None,
            show_points=False,
            always_visible=True,
            name=self.name("names"),
        )

    # ---- updating -------------------------------------------------------------------------
    def apply(self, state: ViewState) -> None:
        """Show ``state``: camera, how much of the sum over k is done, interior, highlight."""
        old, self.state = self.state, state
        if self.standalone:
            pos, focal, up = camera(self.layout, state.azimuth, state.elevation, state.zoom)
            self.plotter.camera_position = [tuple(pos), tuple(focal), tuple(up)]
            self.plotter.camera.view_angle = 30.0
            self.plotter.reset_camera_clipping_range()
        gk = self.scene.k_steps
        k_done = gk if state.k_done is None else int(np.clip(state.k_done, 0, gk))
        keys = ("k_done", "show_interior", "highlight", "post")
        changed = old is None or any(getattr(old, a) != getattr(state, a) for a in keys)
        if not changed:
            return
        self._update_stages(k_done >= gk and state.post != 0, state.post)
        upto = int(self.scene.blocks.edges_k[k_done])
        for b, actor in enumerate(self.slices):
            actor.SetVisibility(state.show_interior and b < k_done)
        if self.volume is not None:
            self.volume.SetVisibility(state.show_interior and k_done > 0)
            m, k, n = self.scene.shape
            self.volume.mapper.SetCropping(k_done < gk)
            self.volume.mapper.SetCroppingRegionPlanes(0, n, -m, 0, -upto, 0)
        if old is None or old.k_done != state.k_done:
            self._update_result(upto)
        self._update_highlight(state.highlight, upto)
        self._update_status(k_done, gk, upto)

    def _update_result(self, upto: int) -> None:
        if "result" not in self.faces:
            return
        fa = self.faces["result"]
        values = self.scene.face_values("result", upto_k=upto)
        self._result_shown = values
        fa.grid.cell_data["values"] = values.ravel(order="F")
        if fa.op.kind == "image":
            fa.actor.mapper.scalar_range = self.face_clim("result")
        if fa.labels:
            self._add_numbers("result", fa, values)

    def status(self, k_done: int | None = None) -> str:
        """The status line: how much of the sum over k (and of the stages) is shown."""
        state = self.state
        gk, k = self.scene.k_steps, self.scene.shape[1]
        k_done = (gk if state.k_done is None else int(np.clip(state.k_done, 0, gk))) if k_done is None else k_done
        upto = int(self.scene.blocks.edges_k[k_done])
        text = f"sum over k: {upto}/{k}" if k_done < gk else f"sum over k: all {k}"
        if self.scene.stages and k_done >= gk:
            whole, rows = self.scene.stage_values(state.post)
            if whole > 0 or rows > 0:
                text += ", then " + self.scene.stages[min(whole, len(self.scene.stages)) - (rows == 0)].label
        return text

    def _update_status(self, k_done: int, gk: int, upto: int) -> None:
        if self.standalone:
            text = self.status(k_done)
            self.plotter.add_text(
                text, position="upper_right", font_size=self.font(11), color=colors.TEXT, name="status"
            )

    def _update_highlight(self, hl: tuple[int, int] | None, upto: int) -> None:
        self.plotter.remove_actor(
            [self.name("highlight-products-white"), self.name("highlight-products-black")], render=False
        )
        if hl is None:
            self.plotter.remove_actor([self.name("highlight"), self.name("formula")], render=False)
            return
        i, j = hl
        s, L = self.scene, self.layout
        m, k, n = s.shape
        g, eps = L.gap, 0.01 * L.gap
        bi, _, bj = s.blocks.block_of(i, 0, j)
        i0, i1 = s.blocks.edges_i[bi], s.blocks.edges_i[bi + 1]
        j0, j1 = s.blocks.edges_j[bj], s.blocks.edges_j[bj + 1]
        boxes = [
            (-g + eps, -g + eps, -(i + 1), -i, -k, 0),  # row i of A
            (j, j + 1, g - eps, g - eps, -k, 0),  # column j of B
            (j, j + 1, -(i + 1), -i, -k - g + eps, -k - g + eps),  # C[i, j]
        ]
        if upto > 0:
            boxes.append((j0, j1, -i1, -i0, -upto, 0))  # the products summed so far
        lines = pv.merge([pv.Box(bounds=b).outline() for b in boxes])
        self.add_mesh(
            lines, color=colors.HIGHLIGHT, line_width=4, lighting=False, name=self.name("highlight"), reset_camera=False
        )
        if self.numbers and s.blocks.unit and self.slices and self.state.show_interior:
            self._label_products(i, j, upto)
        height = self.plotter.window_size[1]
        self.plotter.add_text(
            self.formula(i, j, upto),
            position=(8, height - self.font(12) * 3 - self.font(11) * 5),
            font_size=self.font(11),
            color=colors.HIGHLIGHT,
            name=self.name("formula"),
            font=colors.FORMULA_FONT,
        )

    def _write_values(self, name: str, pts: np.ndarray, values: np.ndarray, kind: str, clim) -> None:
        """Write ``values`` at ``pts`` (replacing labels of the same name): white on cells the
        colormap makes dark, black on light ones."""
        dark = colors.is_dark(values, kind, clim)
        for shade, mask in (("white", dark), ("black", ~dark)):
            self.plotter.remove_actor(self.name(f"{name}-{shade}"), render=False)
            if mask.any():
                self.plotter.add_point_labels(
                    self.world(pts[mask]),
                    [colors.fmt(v) for v in values[mask]],
                    font_size=self.font(16),
                    bold=True,
                    text_color=shade,
                    shape=None,
                    show_points=False,
                    always_visible=True,
                    name=self.name(f"{name}-{shade}"),
                    justification_horizontal="center",
                    justification_vertical="center",
                )

    def _label_products(self, i: int, j: int, upto: int) -> None:
        """Write A[i,k]·B[k,j] on each cube of the highlighted line summed so far (textbook sizes)."""
        if upto == 0:
            return
        row, col = self.scene.dot_terms(i, j)
        products = row[:upto] * col[:upto]
        pts = np.array([self.layout.cell_center(i + 0.5, kk + 0.5, j + 0.5) for kk in range(upto)])
        self._write_values("highlight-products", pts, products, self._interior_kind, self._interior_clim)

    def formula(self, i: int, j: int, upto: int | None = None) -> str:
        """The dot product behind ``C[i, j]``, with the numbers when k is small."""
        row, col = self.scene.dot_terms(i, j)
        k = len(row)
        upto = k if upto is None else upto
        total = float(row[:upto] @ col[:upto])
        names = (self.scene.left.name, self.scene.right.name, self.scene.result.name)
        a, b, c = names if max(map(len, names)) <= 12 else ("A", "B", "C")
        head = f"{c}[{i},{j}] = sum_k {a}[{i},k]*{b}[k,{j}]"
        if k <= 6:
            terms = " + ".join(f"{colors.fmt(x)}*{colors.fmt(y)}" for x, y in zip(row[:upto], col[:upto]))
            return f"{head}\n= {terms or '0'} = {colors.fmt(total)}"
        return f"{head}\n(k < {upto}) = {total:.4g}" + ("" if upto < k else " (complete)")
