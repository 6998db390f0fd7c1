"""The interactive window: orbit with the mouse, play the Timeline, step through k, pick a cell.

Keys (also printed when the window opens):

    space        play / pause the timeline (sum over k)
    Right, Left  one k-block forward / back (pauses)
    Home, End    no k summed / all k summed
    i            show / hide the interior
    h            clear the highlight
    right-click  on the result face: highlight the row·column dot product behind that cell
                 and print A[i,k], B[k,j], their products and the sum
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from matviz.graphics.offscreen import make_plotter
from matviz.graphics.view import SceneView
from matviz.scene import Scene, ViewState

HELP = __doc__.split("Keys (also printed when the window opens):", 1)[1].strip("\n")
FPS = 30


class Window:
    """A pyvista window showing one Scene, driven by a timeline (anything with
    ``state_at(t)`` and ``duration``). ``echo`` receives the text printed for picks and keys."""

    def __init__(
        self,
        scene: Scene,
        timeline,
        *,
        size: tuple[int, int] = (1280, 720),
        off_screen: bool = False,
        echo: Callable[[str], None] = print,
    ):
        self.scene, self.timeline, self.echo = scene, timeline, echo
        self.plotter = make_plotter(size, off_screen=off_screen)
        self.view = SceneView(self.plotter, scene)
        self.t = timeline.duration  # open on the finished picture
        self.playing = False
        self._last_tick: float | None = None
        self.state: ViewState = self.view.state
        self._camera_set = True
        keys = {
            "space": self.toggle_play,
            "Right": lambda: self.step(+1),
            "Left": lambda: self.step(-1),
            "Home": lambda: self.set_k(0),
            "End": lambda: self.set_k(scene.k_steps),
            "i": self.toggle_interior,
            "h": lambda: self.highlight(None),
        }
        for key, fn in keys.items():
            self.plotter.add_key_event(key, fn)
        if self.plotter.iren is not None:
            self.plotter.iren.add_observer("RightButtonPressEvent", self._on_right_click)
        self.plotter.add_text(
            "space play  <- -> step k  i interior  right-click a result cell",
            position="upper_edge",
            font_size=self.view.font(9),
            color="gray",
            name="keys",
        )

    # ---- state changes (each key and the timer end here) ----------------------------------
    def _set(self, **changes) -> None:
        """Change the shown state but keep the user's camera (the mouse owns it)."""
        camera = self.plotter.camera_position
        self.state = replace(self.state, **changes)
        self.view.apply(self.state)
        self.plotter.camera_position = camera
        self.plotter.render()

    @property
    def k_done(self) -> int:
        return self.scene.k_steps if self.state.k_done is None else self.state.k_done

    def toggle_play(self) -> None:
        self.playing = not self.playing
        if self.playing and self.t >= self.timeline.duration:
            self.t = 0.0  # replay from the start
        self._last_tick = None

    def step(self, delta: int) -> None:
        self.playing = False
        self.set_k(self.k_done + delta)

    def set_k(self, k_done: int) -> None:
        self._set(k_done=int(np.clip(k_done, 0, self.scene.k_steps)), show_interior=True)

    def toggle_interior(self) -> None:
        self._set(show_interior=not self.state.show_interior)

    def highlight(self, cell: tuple[int, int] | None) -> str | None:
        """Highlight the dot product behind result cell ``(i, j)`` and return (and echo) its terms."""
        self._set(highlight=cell)
        if cell is None:
            return None
        text = dot_product_report(self.scene, *cell)
        self.echo(text)
        return text

    def tick(self, now: float | None = None) -> None:
        """Advance the timeline by the wall-clock time since the last tick (the timer calls this)."""
        if not self.playing:
            return
        now = time.monotonic() if now is None else now
        dt = 0.0 if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        self.t = min(self.t + dt, self.timeline.duration)
        target = self.timeline.state_at(self.t)
        self._set(k_done=target.k_done, show_interior=target.show_interior)
        if self.t >= self.timeline.duration:
            self.playing = False

    # ---- picking ------------------------------------------------------------------------------
    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The result cell ``(i, j)`` under display pixel ``(x, y)``, or None."""
        import vtk

        picker = vtk.vtkCellPicker()
        picker.SetTolerance(0.0005)
        picker.PickFromListOn()
        picker.AddPickList(self.view.faces["result"].actor)
        if not picker.Pick(x, y, 0, self.plotter.renderer) or picker.GetCellId() < 0:
            return None
        er, ec = self.view.faces["result"].edges
        rows = len(er) - 1
        cid = picker.GetCellId()
        r, c = cid % rows, cid // rows  # cell data is in VTK (first index fastest) order
        return int(er[r]), int(ec[c])

    def display_point(self, i: int, j: int) -> tuple[int, int]:
        """Display pixel of the centre of result cell ``(i, j)`` (for tests and scripted picks)."""
        import vtk

        coord = vtk.vtkCoordinate()
        coord.SetCoordinateSystemToWorld()
        coord.SetValue(*self.view.layout.result.point(i + 0.5, j + 0.5))
        x, y = coord.GetComputedDisplayValue(self.plotter.renderer)
        return int(x), int(y)

    def _on_right_click(self, obj, _event) -> None:
        x, y = obj.GetEventPosition()
        cell = self.cell_at(x, y)
        if cell is not None:
            self.highlight(cell)

    # ---- running --------------------------------------------------------------------------------
    def show(self) -> None:
        """Open the window and block until it is closed."""
        self.echo(HELP)
        self.plotter.add_timer_event(max_steps=10**9, duration=int(1000 / FPS), callback=lambda _step: self.tick())
        self.plotter.show(title=f"matviz: {self.scene.title}")


def dot_product_report(scene: Scene, i: int, j: int) -> str:
    """The terms of ``C[i, j] = Σ_k A[i,k]·B[k,j]``, one k per line (the first 16 and the sum)."""
    row, col = scene.dot_terms(i, j)
    a, b, c = scene.left.name, scene.right.name, scene.result.name
    lines = [f"{c}[{i},{j}] = sum over k of {a}[{i},k] * {b}[k,{j}]"]
    shown = min(len(row), 16)
    for k in range(shown):
        lines.append(f"  k={k:<4d} {row[k]: .6g} * {col[k]: .6g} = {row[k] * col[k]: .6g}")
    if shown < len(row):
        lines.append(f"  ... {len(row) - shown} more terms")
    lines.append(f"  sum = {float(row @ col):.10g}   ({c}[{i},{j}] = {scene.result.values[i, j]:.10g})")
    return "\n".join(lines)
