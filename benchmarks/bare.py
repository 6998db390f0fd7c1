"""The baseline every render row is measured against: the *same content* as a matviz frame, drawn
the cheapest way bare pyvista can (issue 10, "Benchmarks that measure the right thing").

* cube interiors: ONE merged PolyData of all the cubes matviz draws (same boxes, same colours),
  back faces culled;
* a volume interior: the same ImageData and ``add_volume`` with the same settings (colour map,
  range, opacity, unit distance, nearest-neighbour interpolation, placement);
* faces: one quad per face with a nearest-neighbour texture of the colours matviz shows;
* no labels, legends, panels or highlights (those are what matviz adds on top).

The camera is copied from matviz's plotter before every bare frame, so both draw the same
picture area. Geometry comes from the scene's model (``cube.face_values``, ``layout``,
``interior.boxes``), not from matviz's actors, so the baseline does not change when matviz
changes how it draws.
"""

from __future__ import annotations

import numpy as np
import pyvista as pv
from matplotlib import colormaps

from matviz.graphics import colors

_QUADS = np.array([[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]])
# corners of a box (xmin,xmax,ymin,ymax,zmin,zmax) indexed by bits x|y<<1|z<<2, faces outward


class RenderCounter:
    """Counts the render window's StartEvent (one per render of the whole scene)."""

    def __init__(self, plotter: pv.Plotter):
        self.count = 0
        plotter.render_window.AddObserver("StartEvent", self._tick)

    def _tick(self, *_):
        self.count += 1


def merged_cubes(boxes: np.ndarray, values: np.ndarray) -> pv.PolyData:
    """All boxes (N, 6) as one PolyData of 6 quads each, cell scalars ``values`` (N,)."""
    b = np.asarray(boxes, float).reshape(-1, 6)
    n = len(b)
    bits = np.arange(8)
    pts = np.stack(
        [b[:, 0 + (bits & 1)], b[:, 2 + ((bits >> 1) & 1)], b[:, 4 + ((bits >> 2) & 1)]], axis=-1
    ).reshape(-1, 3)  # (8N, 3)
    quads = (np.arange(n)[:, None, None] * 8 + _QUADS[None]).reshape(-1, 4)
    faces = np.hstack([np.full((len(quads), 1), 4), quads]).ravel()
    mesh = pv.PolyData(pts, faces)
    mesh.cell_data["values"] = np.repeat(np.asarray(values, float), 6)
    return mesh


def rgb(values: np.ndarray, kind: str) -> np.ndarray:
    lo, hi = colors.clim(values[np.isfinite(values)] if np.isfinite(values).any() else np.zeros(1), kind)
    x = np.clip((np.nan_to_num(values, nan=lo) - lo) / ((hi - lo) or 1.0), 0, 1)
    return (colormaps[colors.cmap(kind)](x)[..., :3] * 255).astype(np.uint8)


def textured_quad(face, values: np.ndarray, kind: str) -> tuple[pv.PolyData, pv.Texture]:
    rows, cols = face.shape
    c = face.corners([0, rows], [0, cols]).reshape(4, 3)  # (r0c0, r0c1, r1c0, r1c1)
    quad = pv.PolyData(c[[2, 3, 1, 0]], [4, 0, 1, 2, 3])  # bottom-left, bottom-right, top-right, top-left
    quad.active_texture_coordinates = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    tex = pv.Texture(rgb(np.asarray(values, float), kind))  # pyvista puts image row 0 at v = 1 (checked by eye)
    tex.interpolate = False  # nearest neighbour: cells stay sharp
    tex.mipmap = False
    return quad, tex


class Bare:
    """A bare pyvista plotter drawing what ``view`` (a matviz SceneView) draws, cheapest way."""

    def __init__(self, view, size):
        self.plotter = p = pv.Plotter(off_screen=True, window_size=list(size))
        p.disable_anti_aliasing()
        p.set_background(view.chain.cubes[0].style.background)
        p.camera_set = True  # the camera is matviz's, copied each frame: pyvista must not reset it
        self.interiors = []  # the interior actors (hidden for the "no interior" floor)
        for v in view.views:
            cube, layout = v.cube, v.layout
            m = v.cp.placement.matrix
            matrix = None if np.allclose(m, np.eye(4)) else m
            actors = []
            interior = v.interior
            if interior.mode == "cubes":
                boxes = np.concatenate(interior.boxes)  # per k-block (gm*gn, 6), i slow, j fast
                values = np.concatenate([cube.interior[:, b, :].ravel() for b in range(len(interior.boxes))])
                actors.append(
                    p.add_mesh(
                        merged_cubes(boxes, values), scalars="values", cmap=colors.cmap(interior.kind),
                        clim=interior.clim, show_scalar_bar=False, ambient=0.45, diffuse=0.6, specular=0.0,
                        culling="back", reset_camera=False, render=False,
                    )
                )
            elif interior.mode == "volume":
                origin, spacing, dims = layout.volume_grid(cube.blocks)
                grid = pv.ImageData(dimensions=dims, spacing=spacing, origin=origin)
                grid.point_data["values"] = cube.interior[::-1, ::-1, :].transpose(1, 0, 2).ravel()
                kind = interior.kind
                mm, kk, nn = cube.shape
                vol = p.add_volume(
                    grid, scalars="values", cmap=colors.cmap(kind), clim=interior.clim,
                    opacity=[0.6, 0.15, 0.0, 0.15, 0.6] if kind == "signed" else [0.0, 0.08, 0.6],
                    show_scalar_bar=False, opacity_unit_distance=max(mm, kk, nn) / 8.0, render=False,
                    reset_camera=False,
                )
                vol.prop.interpolation_type = "nearest"
                actors.append(vol)
            self.interiors += actors
            ops = {"left": cube.left, "top": cube.right, "result": cube.result}
            for which in ("left", "top", "result"):
                if which in v.hidden:
                    continue
                quad, tex = textured_quad(getattr(layout, which), cube.face_values(which), ops[which].kind)
                actors.append(p.add_mesh(quad, texture=tex, lighting=False, reset_camera=False, render=False))
            if matrix is not None:
                for a in actors:
                    a.user_matrix = matrix
        self.counter = RenderCounter(p)

    def frame(self, camera, interior: bool = True) -> np.ndarray:
        """Render with a copy of ``camera`` (matviz's, this frame) and read the pixels back;
        ``interior=False`` draws the faces alone (what a frame costs without its interior)."""
        for a in self.interiors:
            a.SetVisibility(interior)
        self.plotter.renderer.GetActiveCamera().DeepCopy(camera)
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(return_img=True))[..., :3]

    def close(self):
        self.plotter.close()
