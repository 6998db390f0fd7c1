"""HTML exports in a real browser (headless Chromium, software WebGL), opened from file://.

For each page (a textbook product written by the CLI, an image product and a real attention
head as the example notebook shows them): the canvas is drawn (pixels, not a blank or error page), a
mouse drag turns the camera (the picture changes), the k slider steps the interior through the sum
(the picture changes, the status says where it is), and the page requested nothing but itself.
A page that does phone home (vtk.js's own viewer, unstripped) is caught by the same network check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _web import ALLOWED, embedded_page, scene_outputs

from matviz.cli import main
from matviz.graphics.html import CSP

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pages(tmp_path_factory, executed):
    """The textbook page as ``matviz render -o`` writes it; the image product and the attention
    head as the example notebook embeds them (the same page ``mv.export`` writes)."""
    out = tmp_path_factory.mktemp("pages")
    assert main(["render", str(ROOT / "matviz" / "scenes" / "textbook.py"), "-o", str(out / "textbook.html")]) == 0
    nb, _ = executed
    for name, output in zip(("image", "head"), scene_outputs(nb)[1:]):
        (out / f"{name}.html").write_text(embedded_page(output), encoding="utf-8")
    return out


def scene_region(picture: np.ndarray) -> np.ndarray:
    """The part of the page right of the control panel (which is text on white either way)."""
    return picture[:, picture.shape[1] * 2 // 5 :]


def drawn(picture: np.ndarray) -> tuple[float, float]:
    """(fraction of non-background pixels, grey-level standard deviation) of the scene region."""
    region = scene_region(picture).astype(float)
    inked = (np.abs(region - 255).max(axis=2) > 24).mean()
    return float(inked), float(region.mean(axis=2).std())


def changed(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of scene-region pixels that differ noticeably between two pictures."""
    diff = np.abs(scene_region(a).astype(int) - scene_region(b).astype(int)).max(axis=2)
    return float((diff > 24).mean())


@pytest.mark.parametrize("name", ["textbook", "image", "head"])
def test_page_draws_turns_and_steps_offline(browser, pages, name, tmp_path):
    import imageio.v3 as iio

    requests = browser.open(pages / f"{name}.html")
    assert requests, "the network log recorded nothing, not even the page itself: the check is blind"
    foreign = [u for u in requests if not u.startswith(ALLOWED)]
    assert not foreign, f"{name}.html made network requests: {foreign[:5]}"

    assert browser.js("return window.matvizReady") is True, browser.js(
        "return document.getElementById('matviz-error').textContent"
    )
    assert browser.js("return document.querySelectorAll('canvas').length") >= 1, "no canvas: an error page?"
    first = browser.picture()
    iio.imwrite(tmp_path / f"{name}.png", first)
    inked, spread = drawn(first)
    assert inked > 0.05 and spread > 15, f"{name}: the canvas looks blank (inked {inked:.3f}, std {spread:.1f})"

    height, width = first.shape[:2]
    assert browser.drag((width * 4 // 10, height // 3)), f"{name}: no camera moved during the drag"
    turned = browser.settled(first, moved=0.03)
    assert changed(first, turned) > 0.03, f"{name}: dragging the mouse did not turn the camera"

    browser.js("const s = document.getElementById('matviz-k'); s.value = 0; s.dispatchEvent(new Event('input'))")
    empty = browser.settled(turned, moved=0.01)
    assert browser.js("return window.matvizState.k") == 0
    assert "nothing summed" in browser.js("return document.getElementById('matviz-status').textContent")
    assert changed(turned, empty) > 0.01, f"{name}: hiding the interior's k-blocks changed nothing"
    half = browser.js(
        "const s = document.getElementById('matviz-k'); s.value = Math.ceil(s.max / 2);"
        "s.dispatchEvent(new Event('input')); return Number(s.value)"
    )
    part = browser.settled(empty, moved=0.005)
    assert "sum over k" in browser.js("return document.getElementById('matviz-status').textContent")
    assert changed(empty, part) > 0.005, f"{name}: the first {half} k-blocks did not appear"
    assert changed(part, turned) > 0.001, f"{name}: half the k-blocks look like all of them"

    browser.key("End", 35)  # the window's keys work in the page too
    browser.key("ArrowLeft", 37)
    layers = browser.js("return Number(document.getElementById('matviz-k').max)")
    assert browser.js("return window.matvizState.k") == layers - 1
    browser.key("i", 73)
    assert browser.js("return window.matvizState.interior") is False

    assert not [u for u in browser.requests() if not u.startswith(ALLOWED)], f"{name}.html fetched while used"


def test_the_network_check_catches_vtkjs_favicons(browser, pages, tmp_path):
    """Negative control: the same page with vtk.js's favicon links and without the CSP requests
    kitware.github.io, and the check above sees it."""
    page = (pages / "textbook.html").read_text(encoding="utf-8")
    assert page.count("`data:,`") == 1
    raw = page.replace(f'<meta http-equiv="Content-Security-Policy" content="{CSP}" />', "")
    raw = raw.replace("`data:,`", "`https://kitware.github.io/vtk-js/icon/favicon-${t}x${t}.png`")
    (tmp_path / "raw.html").write_text(raw, encoding="utf-8")
    requests = browser.open(tmp_path / "raw.html")
    assert any(u.startswith("https://kitware.github.io/vtk-js/icon/") for u in requests), requests
