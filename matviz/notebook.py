"""Scenes in Jupyter: a Cube or Chain displays itself the way a matplotlib figure does.

``Cube._repr_mimebundle_`` (and ``Chain``'s) come here: importing this module registers ``png``
and ``mimebundle`` with ``matviz.scene.set_display``, so the model imports no renderer; the
renderer is imported here only inside the functions, when a notebook asks. A notebook gets two
views of the scene:

* ``image/png``: the still that ``mv.render`` writes (offscreen, no display or GPU needed);
* ``text/html``: the interactive page that ``mv.export(scene, "x.html")`` writes, in an iframe
  (orbit, zoom, step through the sum over k, toggle the interior and the highlight). It is the same
  self-contained vtk.js page, so it also works in a notebook exported to HTML and needs no server.

Front ends show the richest one (the page); without the web extra (trame-vtk), or for a scene too
large for a page, only the still, with a one-line note saying why.
"""

from __future__ import annotations

import html
import sys

from matviz.scene import set_display

SIZE = (960, 540)  # pixels of the still and of the page's first frame
HEIGHT = 540  # pixels of the iframe
_said: set[str] = set()


def note(text: str) -> None:
    """One line on stderr (a notebook shows it under the cell), once per message and session."""
    if text not in _said:
        _said.add(text)
        sys.stderr.write(f"matviz: note: {text}\n")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where ``display`` reaches a front end), False in a terminal."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def png(scene, size: tuple[int, int] = SIZE) -> bytes:
    """The scene's still as PNG bytes."""
    import imageio.v3 as iio

    from matviz.graphics import render

    return iio.imwrite("<bytes>", render(scene, None, size, aa=True), extension=".png")


def summary(scene) -> str:
    """One line for ``text/plain`` (the dataclass repr prints every array)."""
    from matviz.scene import as_chain

    chain = as_chain(scene)
    shapes = ", ".join("({}x{}) @ ({}x{})".format(*c.left.shape, *c.right.shape) for c in chain.cubes)
    kind = type(scene).__name__
    return f"<matviz {kind}: {chain.title or 'untitled'}; {shapes}>"


def iframe(page: str, height: int = HEIGHT) -> str:
    """``page`` in a sandboxed iframe (scripts run; it cannot reach the notebook or the network)."""
    return (
        f'<iframe class="matviz-view" srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
        f'style="width:100%;height:{height}px;border:1px solid #ddd"></iframe>'
    )


def mimebundle(scene, include=None, exclude=None) -> dict:
    """``{"image/png": ..., "text/html": ...}`` for ``scene``: the still always, the interactive
    view when the web extra is installed and the scene fits a page."""
    from matviz.errors import MatvizError
    from matviz.graphics.html import PIP_EXTRA, missing_extras

    data = {"image/png": png(scene), "text/plain": summary(scene)}
    wanted = (include is None or "text/html" in include) and not (exclude and "text/html" in exclude)
    if not wanted:
        return data
    if missing_extras():
        note(f"showing a still: the interactive view needs {', '.join(missing_extras())} ({PIP_EXTRA})")
        return data
    from matviz.graphics.html import scene_html

    try:
        data["text/html"] = iframe(scene_html(scene, SIZE))
    except MatvizError as exc:  # too large for a page: the still says it all
        note(f"showing a still, not the interactive view: {exc}")
    return data


def show(scene) -> None:
    """Display ``scene`` inline (``mv.show`` in a notebook)."""
    from IPython.display import display

    display(scene)


set_display(png=png, mimebundle=mimebundle)
