"""The interior of a cube: the products ``A[i,k]·B[k,j]`` (or their exact block aggregates).

Two visuals behind one ``show(k_done, visible)``: opaque glyph cubes (one actor per k-block, so
the sweep only toggles visibility) up to ``CUBES_MAX`` cells, a volume beyond (DESIGN.md timings).
``INTERIORS`` picks one by the style's ``interior`` value.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv

from matviz.graphics import colors

CUBES_MAX = 32**3  # glyph cubes up to this many interior cells, a volume beyond
MOVING_CUBES = 4096  # while a window's camera moves, about this many cubes at most are drawn
SHRINK = 0.6  # small grids: cubes take this fraction of their block's side, leaving gaps to see through
UNIFORM_MAX_SIDE = 8  # grids with more blocks along any side size their cubes by magnitude
_HEX = np.array(
    [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=float
)  # VTK hexahedron order


def cubes(lo: np.ndarray, hi: np.ndarray, fraction: np.ndarray) -> pv.UnstructuredGrid:
    """Axis-aligned cubes, one cell each: box ``lo..hi`` (N, 3) shrunk about its centre by ``fraction`` (N,)."""
    center = (lo + hi) / 2.0
    half = (hi - lo) / 2.0 * fraction[:, None]
    points = (center[:, None, :] + half[:, None, :] * _HEX[None]).reshape(-1, 3)  # (8N, 3)
    n = len(lo)
    cells = np.hstack([np.full((n, 1), 8), np.arange(8 * n).reshape(n, 8)]).ravel()
    return pv.UnstructuredGrid(cells, np.full(n, pv.CellType.HEXAHEDRON, dtype=np.uint8), points)


def interior_kind(cube) -> str:
    return "signed" if float(cube.interior.min()) < 0 else "nonneg"


def interior_title(cube, sized: bool) -> str:
    size = " (size ~ |value|)" if sized else ""
    if cube.blocks.unit:
        return f"products {cube.left.name}[i,k]*{cube.right.name}[k,j]{size}"
    gm, gk, gn = cube.blocks.shape
    return f"products: block {cube.aggregate}s, {gm}x{gk}x{gn} grid{size}"


class CubesInterior:
    """Opaque cubes, one actor per k-block. Small grids draw equal cubes (to carry numbers and
    colours); larger ones size each cube by its magnitude, as mm sizes its dots."""

    mode = "cubes"

    def __init__(self, cp, cube):
        self.cube = cube
        gm, gk, gn = cube.blocks.shape
        self.sized = max(gm, gk, gn) > UNIFORM_MAX_SIDE
        if not self.sized:
            fraction = np.full(cube.interior.shape, SHRINK)
        else:
            vmax = float(np.percentile(np.abs(cube.interior), 99)) or 1.0
            fraction = 0.9 * np.sqrt(np.clip(np.abs(cube.interior) / vmax, 0.0, 1.0))
        self.kind = interior_kind(cube)
        self.clim = colors.clim(cube.interior, self.kind)
        self.fraction = fraction
        self.slices: list = []
        self.boxes: list[np.ndarray] = []  # per k-block: (gm*gn, 6) local boxes as drawn
        # a mirrored placement (a chain's linked cube) turns the cubes' faces inside out
        self.culling = "front" if np.linalg.det(cube.placement.matrix[:3, :3]) < 0 else "back"
        self.cp = cp
        for b in range(gk):
            lo, hi = cp.layout.block_boxes(cube.blocks, b)  # (gm*gn, 3) each, i slow, j fast
            f = fraction[:, b, :].ravel()
            actor = self._add(lo, hi, f, cube.interior[:, b, :].ravel(), f"interior-{b}")
            self.slices.append(actor)
            centre, half = (lo + hi) / 2, (hi - lo) / 2 * f[:, None]
            local = np.column_stack([centre - half, centre + half])[:, [0, 3, 1, 4, 2, 5]]
            keep = f > 0.05  # cubes too small to hide anything
            cp.pen.occluder(actor, cp.world_boxes(local[keep]))
            self.boxes.append(local)
        self.volume = None
        self.lut = self.slices[0].mapper.lookup_table if self.slices else None
        self.title = interior_title(cube, self.sized)
        self.shown = [False] * gk
        self.coarse: list | None = None  # the moving camera's cubes, per group of k-blocks (made when first asked for)
        self.groups: list[list[int]] = []  # the k-blocks each of those merges
        self.moving = False

    def _add(self, lo, hi, fraction, values, name: str):
        """One actor of cubes ``lo..hi`` shrunk by ``fraction``, coloured by ``values``."""
        mesh = cubes(lo, hi, fraction)
        mesh.cell_data["values"] = values
        return self.cp.add_mesh(
            mesh,
            scalars="values",
            cmap=colors.cmap(self.kind),
            clim=self.clim,
            show_scalar_bar=False,
            ambient=0.45,
            diffuse=0.6,
            specular=0.0,  # shaded enough to read as cubes, colours stay true
            culling=self.culling,  # closed cubes: their back faces are never seen
            name=self.cp.name(name),
        )

    def show(self, k_done: int, visible: bool) -> None:
        self.shown = [visible and b < k_done for b in range(len(self.slices))]
        self._draw()

    def _draw(self) -> None:
        """Show the k-blocks in ``shown``: the exact cubes, or while moving the merged cubes of
        every group of k-blocks shown in full (and the exact cubes of a group shown in part)."""
        whole = [self.moving and all(self.shown[b] for b in g) for g in self.groups]
        merged = {b for g, w in zip(self.groups, whole) if w for b in g}
        for b, actor in enumerate(self.slices):
            actor.SetVisibility(self.shown[b] and b not in merged)
        for actor, w in zip(self.coarse or [], whole):
            actor.SetVisibility(w)

    def set_moving(self, moving: bool) -> None:
        """Level of detail: while the camera moves, draw blocks merged ``f`` × ``f`` × ``f``, about
        ``MOVING_CUBES`` cubes in all (each coloured by the mean of the blocks it merges, on the
        same colours, sized by their mean size); a group of k-blocks the sweep has only partly
        summed keeps its exact cubes, so the picture never runs ahead of the sum. The exact cubes
        again when it stops."""
        if moving and self.coarse is None:
            self.groups, self.coarse = self._coarse_slices()
        self.moving = bool(moving)
        self._draw()

    def _coarse_slices(self) -> tuple[list, list]:
        cube, cp = self.cube, self.cp
        gm, gk, gn = cube.blocks.shape
        f = int(np.ceil(np.cbrt(gm * gk * gn / MOVING_CUBES) - 1e-9))
        if f <= 1:
            return [], []  # few enough: the exact cubes are the moving ones
        ri, rj = np.arange(0, gm, f), np.arange(0, gn, f)

        def merge(x, how):  # f × f groups of (i, j) blocks, combined by the ufunc ``how``
            return how.reduceat(how.reduceat(x, ri, axis=0), rj, axis=1)

        groups, actors = [], []
        for k0 in range(0, gk, f):
            blocks = list(range(k0, min(k0 + f, gk)))
            boxes = [(v.reshape(gm, gn, 3) for v in cp.layout.block_boxes(cube.blocks, b)) for b in blocks]
            los, his = zip(*boxes)
            lo = merge(np.minimum.reduce(los), np.minimum).reshape(-1, 3)
            hi = merge(np.maximum.reduce(his), np.maximum).reshape(-1, 3)
            count = np.outer(np.diff(np.r_[ri, gm]), np.diff(np.r_[rj, gn])) * len(blocks)
            values = (merge(cube.interior[:, blocks, :].sum(axis=1), np.add) / count).ravel()
            fraction = (merge(self.fraction[:, blocks, :].sum(axis=1), np.add) / count).ravel()
            actor = self._add(lo, hi, fraction, values, f"interior-moving-{k0}")
            actor.SetVisibility(False)
            groups.append(blocks)
            actors.append(actor)
        return groups, actors


class VolumeInterior:
    """The interior as a volume. Values sit on *points* at block centres and are drawn with
    nearest-neighbour interpolation, so each block shows its exact aggregate (pyvista would
    average cell data onto points, blurring signed data towards 0)."""

    mode = "volume"

    def __init__(self, cp, cube):
        self.cube, self.cp = cube, cp
        self.kind = interior_kind(cube)
        self.sized = False
        origin, spacing, dims = cp.layout.volume_grid(cube.blocks)
        grid = pv.ImageData(dimensions=dims, spacing=spacing, origin=origin)
        grid.point_data["values"] = cube.interior[::-1, ::-1, :].transpose(1, 0, 2).ravel()  # (z, y, x)
        # a robust range (99th percentile) so a few extreme blocks do not wash the rest out
        r = float(np.percentile(np.abs(cube.interior), 99)) or 1.0
        self.clim = (-r, r) if self.kind == "signed" else (float(cube.interior.min()), r)
        top, bottom = float(cube.interior.max()), float(cube.interior.min())
        self.above = top if top > self.clim[1] else None  # the colours saturate beyond the range: say so
        self.below = bottom if bottom < self.clim[0] else None
        opacity = [0.6, 0.15, 0.0, 0.15, 0.6] if self.kind == "signed" else [0.0, 0.08, 0.6]
        m, k, n = cube.shape
        self.volume = cp.plotter.add_volume(
            grid,
            scalars="values",
            cmap=colors.cmap(self.kind),
            clim=self.clim,
            opacity=opacity,
            show_scalar_bar=False,
            opacity_unit_distance=max(m, k, n) / 8.0,  # opacities are per eighth of the box
            name=cp.name("interior-volume"),
        )
        cp.place(self.volume)
        self.volume.prop.interpolation_type = "nearest"
        self.volume.mapper.SetCroppingRegionFlagsToSubVolume()
        self.slices: list = []
        self.lut = self.volume.mapper.lookup_table
        self.title = interior_title(cube, False)

    def set_moving(self, moving: bool) -> None:
        """Nothing to swap: the volume mapper coarsens itself (``SceneView.level_of_detail``)."""

    def show(self, k_done: int, visible: bool) -> None:
        gk = self.cube.k_steps
        self.volume.SetVisibility(visible and k_done > 0)
        self.volume.mapper.SetCropping(k_done < gk)
        self.volume.mapper.SetCroppingRegionPlanes(*self.cp.layout.crop_planes(int(self.cube.blocks.edges_k[k_done])))


class NoInterior:
    mode = "none"
    slices: list = []
    volume = None
    lut = None
    sized = False
    kind = "nonneg"
    clim = (0.0, 1.0)

    def __init__(self, cp, cube):
        pass

    def show(self, k_done: int, visible: bool) -> None:
        pass

    def set_moving(self, moving: bool) -> None:
        pass


INTERIORS = {"cubes": CubesInterior, "volume": VolumeInterior, "none": NoInterior}


def make_interior(cp, cube):
    """The interior visual the cube's style asks for (``auto``: cubes up to CUBES_MAX cells)."""
    mode = cube.style.interior
    if mode == "auto":
        mode = "cubes" if int(np.prod(cube.blocks.shape)) <= CUBES_MAX else "volume"
    try:
        cls = INTERIORS[mode]
    except KeyError:
        from matviz.errors import MatvizError

        raise MatvizError(f"unknown interior {mode!r}: use one of auto, {', '.join(INTERIORS)}") from None
    return cls(cp, cube)
