"""The interactive window: orbit with the mouse, play the Timeline, step through k, pick a cell.

Keys (also printed when the window opens):

    space        play / pause the timeline (sum over k; in a chain, cube after cube)
    Right, Left  one step forward / back: a k-block, or a stage such as softmax (pauses)
    Home, End    the start / the finished picture
    i            show / hide the interior
    h            clear the highlight
    right-click  on a result face: highlight the row·column dot product behind that cell
                 and print A[i,k], B[k,j], their products and the sum
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from matviz import story
from matviz.graphics.offscreen import make_plotter
from matviz.graphics.sceneview import SceneView
from matviz.scene import Chain, Scene, ViewState, as_chain

HELP = __doc__.split("Keys (also printed when the window opens):", 1)[1].strip("\n")
FPS = 30
KEYS = "space play, <- -> step, i interior, right-click a result cell"


class Window:
    """A pyvista window showing a Scene or Chain, driven by a timeline (anything with
    ``state_at(t)`` and ``duration``). ``echo`` receives the text printed for picks and keys."""

    def __init__(
        self,
        scene: Scene | Chain,
        timeline,
        *,
        size: tuple[int, int] = (1280, 720),
        off_screen: bool = False,
        echo: Callable[[str], None] = print,
    ):
        self.scene, self.timeline, self.echo = scene, timeline, echo
        self.chain = as_chain(scene)
        self.plotter = make_plotter(size, off_screen=off_screen)
        self.view = SceneView(self.plotter, scene)
        self.beats = story.beats(self.chain)  # what the step keys walk: the story the sweep plays
        self.t = timeline.duration  # open on the finished picture
        self.playing = False
        self._last_tick: float | None = None
        self.state: ViewState = self.view.state
        keys = {
            "space": self.toggle_play,
            "Right": lambda: self.step(+1),
            "Left": lambda: self.step(-1),
            "Home": lambda: self.goto(0),
            "End": lambda: self.goto(len(self.beats) - 1),
            "i": self.toggle_interior,
            "h": lambda: self.highlight(None),
        }
        for key, fn in keys.items():
            self.plotter.add_key_event(key, fn)
        if self.plotter.iren is not None:
            self.plotter.iren.add_observer("RightButtonPressEvent", self._on_right_click)
        # The frame's bands (title, status, legends) belong to the view: the keys are said in the
        # window's title bar and on the terminal, not drawn over the title and status.
        # Texts are 2D items placed for one camera: when the mouse moves the camera, place them again.
        self.plotter.renderer.AddObserver("StartEvent", self._before_render)
        self._framed = self._camera()  # the camera as the view framed it
        self._placed = self._framed  # the camera the texts were placed for
        self.user_camera = False  # True once the mouse has moved the camera: keys keep it then

    # ---- state changes (each key and the timer end here) ----------------------------------
    def _set(self, **changes) -> None:
        """Change the shown state. Until the mouse moves the camera, the view frames it for each
        state (the bands change: a formula line appears, legends come and go); once the user has
        moved it, the user's camera is kept and the texts are placed for it."""
        self.user_camera = self.user_camera or self._moved(self._framed)
        camera = self.plotter.camera_position
        self.state = replace(self.state, **changes)
        self.view.apply(self.state)
        self._framed = self._camera()
        if self.user_camera:
            self.plotter.camera_position = camera
            self.view.follow_camera()
        self._placed = self._camera()
        self.plotter.render()

    def _camera(self) -> np.ndarray:
        """The camera's pose (clipping range left out: renders reset it)."""
        cam = self.plotter.renderer.GetActiveCamera()
        return np.r_[
            cam.GetPosition(), cam.GetFocalPoint(), cam.GetViewUp(), cam.GetViewAngle(), cam.GetParallelScale()
        ]

    def _moved(self, since: np.ndarray) -> bool:
        return not np.allclose(self._camera(), since, rtol=1e-9, atol=1e-9)

    def _before_render(self, _obj=None, _event=None) -> None:
        """Each render: if the camera moved since the texts were placed, place them again."""
        if self._moved(self._placed):
            self.view.follow_camera()
            self._placed = self._camera()

    @property
    def k_done(self) -> int:
        """k-blocks summed in the step being built."""
        active = story.active_step(self.chain, self.state)
        return self.chain.k_steps(active) if self.state.k_done is None else self.state.k_done

    @property
    def position(self) -> int:
        """Index into ``beats`` of the shown state (the nearest one at or before it)."""
        return story.beat_index(self.chain, self.state, self.beats)

    def toggle_play(self) -> None:
        self.playing = not self.playing
        if self.playing and self.t >= self.timeline.duration:
            self.t = 0.0  # replay from the start
        self._last_tick = None

    def step(self, delta: int) -> None:
        self.playing = False
        self.goto(self.position + delta)

    def goto(self, index: int) -> None:
        """Show ``beats[index]``: a number of k-blocks or stages of one step of the chain."""
        beat = self.beats[int(np.clip(index, 0, len(self.beats) - 1))]
        self._set(**beat.patch(), show_interior=True)

    def toggle_interior(self) -> None:
        self._set(show_interior=not self.state.show_interior)

    def highlight(self, cell: tuple[int, int] | None) -> str | None:
        """Highlight the dot product behind result cell ``(i, j)`` and return (and echo) its terms."""
        self._set(highlight=cell)
        if cell is None:
            return None
        text = dot_product_report(self.highlighted_cube(), *cell)
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
        self._set(k_done=target.k_done, show_interior=target.show_interior, cube=target.cube, post=target.post)
        if self.t >= self.timeline.duration:
            self.playing = False

    # ---- picking ------------------------------------------------------------------------------
    def highlighted_cube(self) -> Scene:
        """The cube the highlight belongs to: the first of the step being built."""
        return self.chain.cubes[story.active_cubes(self.chain, self.state)[0]]

    def pick(self, x: int, y: int) -> tuple[int, tuple[int, int]] | None:
        """``(cube, (i, j))``: the result cell under display pixel ``(x, y)``, on any cube."""
        return self.view.cell_at(x, y)

    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The result cell ``(i, j)`` under display pixel ``(x, y)``, or None."""
        hit = self.pick(x, y)
        return None if hit is None else hit[1]

    def display_point(self, i: int, j: int, cube: int = -1) -> tuple[int, int]:
        """Display pixel of the centre of result cell ``(i, j)`` of ``cube`` (default: the last)."""
        return self.view.display_point(i, j, cube)

    def _on_right_click(self, obj, _event) -> None:
        x, y = obj.GetEventPosition()
        hit = self.pick(x, y)
        if hit is None:
            return
        cube, cell = hit
        step = self.chain.steps[cube]
        if step != story.active_step(self.chain, self.state):
            self._set(cube=step, k_done=None, post=None)  # the picked cube's finished picture
        self.highlight(cell)

    # ---- running --------------------------------------------------------------------------------
    def show(self) -> None:
        """Open the window and block until it is closed."""
        self.echo(HELP)
        self.plotter.add_timer_event(max_steps=10**9, duration=int(1000 / FPS), callback=lambda _step: self.tick())
        self.plotter.show(title=f"matviz: {self.scene.title}   [{KEYS}]")


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
