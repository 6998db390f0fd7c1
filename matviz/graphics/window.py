"""The interactive window: orbit with the mouse, play the Timeline, step through k, pick a cell.

Keys (also printed when the window opens):

    space        play / pause the timeline (sum over k; in a chain, cube after cube)
    Right, Left  one step forward / back: a k-block, or a stage such as softmax (pauses)
    Home, End    the start / the finished picture
    i            show / hide the interior
    h            clear the highlight (and the token's)
    c            frame the scene again (once the mouse has moved the camera, keys keep its view)
    right-click  on a result face: highlight the row·column dot product behind that cell
                 and print A[i,k], B[k,j], their products and the sum
    right-click  on a token of the flat panel (row labels: queries, column labels: keys):
                 outline its row or column of the probabilities in both views (again: clear)
    ] [          a model's attention: next / previous head (same layer), in the same window
    } {          next / previous layer (same head); also PageDown / PageUp

While the mouse moves the camera, a volume interior is drawn coarser (level of detail) and in
full again when the mouse lets go; exported frames are always drawn in full.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from matviz import story
from matviz.graphics.offscreen import make_plotter
from matviz.graphics.panels import HeatmapPanel
from matviz.graphics.sceneview import SceneView
from matviz.scene import Chain, Cube, ViewState, as_chain

HELP = __doc__.split("Keys (also printed when the window opens):", 1)[1].strip("\n")
FPS = 30
MOVING_FPS = 30.0  # the frame rate asked of VTK while the mouse moves the camera (level of detail)
KEYS = "space play, <- -> step, i interior, c reframe, right-click a result cell"
HEAD_KEYS = "] [ head, } { layer, right-click a token"
# The keysyms VTK reports on X (XKeysymToString) for the head and layer keys: ] [ } { PageDown PageUp
NEXT_HEAD, PREV_HEAD = ("bracketright",), ("bracketleft",)
NEXT_LAYER, PREV_LAYER = ("braceright", "Next"), ("braceleft", "Prior")


class HeadSource:
    """Every head of one model run, for the window's head and layer keys: the model runs once
    (``run_attention`` captures all layers and heads); each head's chain is built when first shown."""

    def __init__(self, run, layer: int = 0, head: int = 0, *, v_cols: bool = False):
        self.run, self.layer, self.head, self.v_cols = run, int(layer), int(head), v_cols
        self._chains: dict[tuple[int, int], Chain] = {}

    @classmethod
    def from_model(cls, text: str, model: str | None = None, layer=0, head=0, *, v_cols: bool = False) -> HeadSource:
        """Run ``model`` on ``text`` once for all heads; start at ``layer``/``head`` (one index each,
        checked as ``matviz.chain.model_heads`` checks them)."""
        from matviz.errors import MatvizError, param
        from matviz.sources.models import parse_index, resolve, run_attention

        run = run_attention(text, model, "all", "all")
        owner = resolve(model)[2]
        layers = parse_index(layer, run.n_layers, "layer", owner)
        heads = parse_index(head, run.n_heads, "head", owner)
        if len(layers) > 1 or len(heads) > 1:
            raise MatvizError(
                f"the window shows one head: give {param('layer')} N and {param('head')} N (grids of heads: matviz attention -o)"
            )
        return cls(run, layers[0], heads[0], v_cols=v_cols)

    @property
    def n_layers(self) -> int:
        return self.run.n_layers

    @property
    def n_heads(self) -> int:
        return self.run.n_heads

    def chain(self, layer: int | None = None, head: int | None = None) -> Chain:
        """The chain of ``(layer, head)`` (default: the current one), built once."""
        from matviz.chain import head_chain

        key = (self.layer if layer is None else layer, self.head if head is None else head)
        if key not in self._chains:
            self._chains[key] = head_chain(self.run.heads[key], v_cols=self.v_cols)
        return self._chains[key]

    def move(self, layers: int = 0, heads: int = 0) -> tuple[int, int]:
        """Step the current head (wrapping around at either end); returns ``(layer, head)``."""
        self.layer = (self.layer + layers) % self.n_layers
        self.head = (self.head + heads) % self.n_heads
        return self.layer, self.head


class Window:
    """A pyvista window showing a Cube or Chain, driven by a timeline (anything with
    ``state_at(t)`` and ``duration``). ``echo`` receives the text printed for picks and keys."""

    def __init__(
        self,
        scene: Cube | Chain,
        timeline,
        *,
        size: tuple[int, int] = (1280, 720),
        off_screen: bool = False,
        echo: Callable[[str], None] = print,
        heads: HeadSource | None = None,
    ):
        """``heads``: the model run behind an attention scene: the head and layer keys switch
        to its other heads (``scene`` is then ``heads.chain()``)."""
        self.timeline, self.echo, self.heads = timeline, echo, heads
        self.token: tuple[str, int] | None = None  # the token picked on the panel: ("rows"|"columns", index)
        self.plotter = make_plotter(size, off_screen=off_screen)
        self._build(scene)
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
            "c": self.reframe,  # not "r": VTK's own style resets the camera on r, after our handler
        }
        if heads is not None:
            for names, move in ((NEXT_HEAD, (0, 1)), (PREV_HEAD, (0, -1)), (NEXT_LAYER, (1, 0)), (PREV_LAYER, (-1, 0))):
                for name in names:
                    keys[name] = lambda move=move: self.switch_head(*move)
        for key, fn in keys.items():
            self.plotter.add_key_event(key, fn)
        if self.plotter.iren is not None:
            self.plotter.iren.add_observer("RightButtonPressEvent", self._on_right_click)
            self.plotter.iren.interactor.SetDesiredUpdateRate(MOVING_FPS)
        # The frame's bands (title, status, legends) belong to the view: the keys are said in the
        # window's title bar and on the terminal, not drawn over the title and status.
        # Texts are 2D items placed for one camera: when the mouse moves the camera, place them again.
        self.plotter.renderer.AddObserver("StartEvent", self._before_render)
        self._framed = self._camera()  # the camera as the view framed it
        self._placed = self._framed  # the camera the texts were placed for
        self.user_camera = False  # True once the mouse has moved the camera: keys keep it then

    def _build(self, scene: Cube | Chain) -> None:
        """The view of ``scene`` in this window's plotter (drawn from nothing)."""
        self.scene = scene
        self.chain = as_chain(scene)
        self.view = SceneView(self.plotter, scene)
        self.view.level_of_detail(True)
        self._moving = False
        self.beats = story.beats(self.chain)  # what the step keys walk: the story the sweep plays

    @property
    def title(self) -> str:
        keys = f"{KEYS}, {HEAD_KEYS}" if self.heads is not None else KEYS
        return f"matviz: {self.chain.title}   [{keys}]"

    # ---- state changes (each key and the timer end here) ----------------------------------
    def _set(self, **changes) -> None:
        """Change the shown state. Until the mouse moves the camera, the view frames it for each
        state (the bands change: a formula line appears, legends come and go); once the user has
        moved it, the user's camera is kept and the texts are placed for it."""
        self.user_camera = self.user_camera or self._moved(self._framed)
        camera = self.plotter.camera_position
        self.state = replace(self.state, **changes)
        self._show(camera)

    def _show(self, camera) -> None:
        """Draw ``self.state`` (and the picked token); keep ``camera`` if it is the user's."""
        self.view.apply(self.state)
        self.view.highlight_token(*(self.token or (None, None)))
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
        """Each render: while the mouse moves the camera (VTK then asks for a frame rate above the
        still one), cube interiors draw their moving cubes, and their exact ones again after; if
        the camera moved since the texts were placed, place them again."""
        moving = self.plotter.render_window.GetDesiredUpdateRate() >= 1.0
        if moving != self._moving:
            self._moving = moving
            self.view.moving(moving)
        if self._moved(self._placed):
            self.view.follow_camera()
            self._placed = self._camera()

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

    def reframe(self) -> None:
        """Hand the camera back to the view: frame the scene as an export would."""
        self.user_camera = False
        self._framed = self._camera()  # whatever the mouse did is not the user's camera any more
        self._show(None)

    def toggle_interior(self) -> None:
        self._set(show_interior=not self.state.show_interior)

    def highlight(self, cell: tuple[int, int] | None) -> str | None:
        """Highlight the dot product behind result cell ``(i, j)`` and return (and echo) its terms.
        ``None`` clears it, and the picked token too."""
        if cell is None:
            self.token = None
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
    def highlighted_cube(self) -> Cube:
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
        token = self.token_at(x, y)
        if token is not None:
            self.highlight_token(*(token if token != self.token else (None, None)))  # again: clear
            return
        hit = self.pick(x, y)
        if hit is None:
            return
        cube, cell = hit
        step = self.chain.steps[cube]
        if step != story.active_step(self.chain, self.state):
            self._set(cube=step, k_done=None, post=None)  # the picked cube's finished picture
        self.highlight(cell)

    # ---- tokens and heads (a model's attention) -------------------------------------------------
    def token_at(self, x: float, y: float) -> tuple[str, int] | None:
        """``("rows", i)`` (a query) or ``("columns", j)`` (a key): the flat panel's token label
        drawn under display pixel ``(x, y)``, or None."""
        panel = self.view.panel
        return panel.token_at(x, y) if isinstance(panel, HeatmapPanel) else None

    def token_point(self, axis: str, index: int) -> tuple[float, float]:
        """Display pixel of the centre of the panel's label of token ``index`` on ``axis``."""
        pen = self.view.pen
        x0, x1, y0, y1 = pen.texts[self.view.panel.tokens[(axis, index)]].box(pen.renderer)
        return (x0 + x1) / 2, (y0 + y1) / 2

    def highlight_token(self, axis: str | None, index: int | None = None) -> str | None:
        """Outline the row of query ``index`` (``axis="rows"``) or the column of key ``index``
        (``"columns"``) of the probabilities in both views; echo (and return) where its attention
        goes. ``None`` clears it."""
        self.token = None if axis is None or index is None else (axis, int(index))
        self._set()
        if self.token is None:
            return None
        text = token_report(self.chain, *self.token)
        self.echo(text)
        return text

    def switch_head(self, layers: int = 0, heads: int = 0) -> str | None:
        """Show the head ``heads`` on (and the layer ``layers`` on) of the model run, in this
        window: the scene is drawn again, at the same step of the story, with the same camera if
        the user moved it, the same picked cell and token. Echoes (and returns) the new head."""
        if self.heads is None:
            return None
        layer, head = self.heads.move(layers, heads)
        self.user_camera = self.user_camera or self._moved(self._framed)
        camera = self.plotter.camera_position
        beats = len(self.beats)
        renderer = self.plotter.renderer
        renderer.clear_actors()
        renderer.RemoveAllViewProps()  # the 2D texts, panels and legends the pen added itself
        self._build(self.heads.chain())
        if len(self.beats) != beats:  # a story of another shape: its own first picture
            self.state = self.view.state
        self._show(camera)
        if self.plotter.ren_win is not None:
            self.plotter.ren_win.SetWindowName(self.title)
        drawn = self.chain.head
        notes = [drawn.sink_note] if drawn is not None and drawn.sink else []
        text = (f"layer {layer} head {head} (of {self.heads.n_layers} layers x {self.heads.n_heads} heads): "
                f"{self.chain.title}" + "".join(f"\n  {n}" for n in notes))
        self.echo(text)
        return text

    # ---- running --------------------------------------------------------------------------------
    def show(self) -> None:
        """Open the window and block until it is closed."""
        self.echo(HELP)
        self.plotter.add_timer_event(max_steps=10**9, duration=int(1000 / FPS), callback=lambda _step: self.tick())
        self.plotter.show(title=self.title)


def dot_product_report(cube: Cube, i: int, j: int) -> str:
    """The terms of ``C[i, j] = Σ_k A[i,k]·B[k,j]``, one k per line (the first 16 and the sum)."""
    row, col = cube.dot_terms(i, j)
    a, b, c = cube.left.name, cube.right.name, cube.result.name
    lines = [f"{c}[{i},{j}] = sum over k of {a}[{i},k] * {b}[k,{j}]"]
    shown = min(len(row), 16)
    for k in range(shown):
        lines.append(f"  k={k:<4d} {row[k]: .6g} * {col[k]: .6g} = {row[k] * col[k]: .6g}")
    if shown < len(row):
        lines.append(f"  ... {len(row) - shown} more terms")
    lines.append(f"  sum = {float(row @ col):.10g}   ({c}[{i},{j}] = {cube.result.values[i, j]:.10g})")
    return "\n".join(lines)


def token_report(chain: Chain, axis: str, index: int, top: int = 3) -> str:
    """Where the attention of query ``index`` goes (``axis="rows"``), or where the attention to
    key ``index`` comes from (``"columns"``): the largest probabilities with their tokens."""
    c = next(c for c, cube in enumerate(chain.cubes) if cube.stages and cube.stages[-1].rowwise)
    cube = chain.cubes[c]
    probs = np.nan_to_num(np.asarray(cube.stages[-1].values, dtype=np.float64), neginf=0.0)
    rows = cube.result.row_labels or tuple(str(i) for i in range(probs.shape[0]))
    cols = cube.result.col_labels or tuple(str(j) for j in range(probs.shape[1]))
    if axis == "rows":
        line, others, head = probs[index], cols, f"query {rows[index]!r} (row {index}): attends most to"
    else:
        line, others, head = probs[:, index], rows, f"key {cols[index]!r} (column {index}): attended most by"
    best = np.argsort(-line, kind="stable")[:top]
    return head + ",".join(f" {others[t]!r} {line[t]:.3f}" for t in best)
