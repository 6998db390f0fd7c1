"""The example notebook runs (nbclient, a fresh kernel) and every scene cell shows the scene: a
still (a real PNG with a drawn cube, not a blank frame) and the interactive view (the offline
page in an iframe); its executed copy converts to HTML (nbconvert) with both kept. The pages
embedded here are opened in a real browser by ``test_browser.py``."""

from __future__ import annotations

import base64
import io

import numpy as np
from _web import embedded_page, scene_outputs

SCENE_CELLS = 3  # a textbook product, an image product (shown with mv.show), a real attention head


def test_every_scene_cell_shows_a_still_and_the_interactive_view(executed):
    import imageio.v3 as iio

    nb, _ = executed
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0].get("evalue")
    outputs = scene_outputs(nb)
    assert len(outputs) == SCENE_CELLS, [o.output_type for o in outputs]
    kinds = [o.output_type for o in outputs]
    assert kinds.count("display_data") == 1, "mv.show(scene) in a notebook displays inline (display_data)"
    for out in outputs:
        picture = iio.imread(io.BytesIO(base64.b64decode(out.data["image/png"])))[..., :3]
        assert picture.shape[:2] == (540, 960)
        background = np.all(picture > 245, axis=2).mean()
        assert background < 0.97 and picture.std() > 20, "the still looks blank"
        page = embedded_page(out)
        assert page.startswith("<!doctype html>") and "OfflineLocalView" in page and "matviz-panel" in page
        assert "kitware.github.io/vtk-js/icon" not in page
        assert out.data["text/plain"].startswith("<matviz ")


def test_the_executed_notebook_converts_to_html(executed):
    from nbconvert import HTMLExporter

    nb, folder = executed
    body, _ = HTMLExporter().from_notebook_node(nb)
    (folder / "matviz.html").write_text(body, encoding="utf-8")
    assert body.count('<iframe class="matviz-view"') == SCENE_CELLS  # nbconvert keeps the richest: the view
