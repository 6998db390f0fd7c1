"""matviz.graphics.figures: flat figures drawn with matplotlib, measured by its renderer, and the
flat audit's rules, each with a figure that breaks it (its negative control)."""

from __future__ import annotations

import numpy as np
import pytest

from matviz.graphics.figures import RULES, Canvas, audit, text_width, wrap


def _rules(sheet) -> set[str]:
    return {v.rule for v in audit(sheet).violations}


def _good() -> Canvas:
    """A small figure that passes every rule: a title, a picture with its range, a colour bar."""
    c = Canvas(320, 200)
    c.lines(10, 10, wrap("a title that is long enough to wrap in two lines", 15, 300), 15, 20,
            whole="a title that is long enough to wrap in two lines")
    pic = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    i = c.image(np.kron(pic, np.ones((8, 8), dtype=np.uint8)), 10, 60)
    c.states(i, -1.5, 2.25, c.lines(10, 112, ["−1.5 (black) … 2.25 (white)"], 13, 17))
    c.colorbar(180, 80, 120, 12, "RdBu_r", -0.5, 0.5, 13)
    return c


def test_pictures_are_placed_unresampled_and_texts_measured_by_the_renderer():
    c = Canvas(301, 157)  # odd sizes: no pixel lost or gained
    rgb = np.random.default_rng(0).integers(0, 256, (23, 37, 3), dtype=np.uint8)
    c.image(rgb, 11, 50)
    c.text(5, 5, "Wide label, 15 px", 15)
    sheet = c.finish()
    assert sheet.image.shape == (157, 301, 3) and sheet.image.dtype == np.uint8
    np.testing.assert_array_equal(sheet.image[50:73, 11:48], rgb)  # the values, pixel for pixel
    assert (sheet.image[49, 11:48] == 255).all() and (sheet.image[73, 11:48] == 255).all()
    (t,) = sheet.texts
    x0, y0, x1, y1 = t["box"]
    assert t["px"] == 15 and x0 == 5 and y0 == 5 and 13 <= y1 - y0 <= 20
    assert abs((x1 - x0) - text_width("Wide label, 15 px", 15)) <= 2
    ink = np.argwhere(sheet.image[..., 0] < 128)  # the dark pixels of the text lie in its box
    ink = ink[ink[:, 0] < 40]
    assert ink[:, 0].min() >= y0 and ink[:, 0].max() < y1 and ink[:, 1].min() >= x0 and ink[:, 1].max() < x1


def test_wrap_keeps_every_character_and_fits_the_width():
    text = 'warp/flip: softmax(warp(A, 8, 24)) @ softmax(flip(B, "h"), cols), T = 0.25 and_a_very_long_identifier_x'
    lines = wrap(text, 15, 150)
    assert len(lines) > 2 and all(text_width(ln, 15) <= 150 for ln in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert wrap("short", 15, 150) == ["short"]
    assert wrap("a title\nin two lines", 15, 300) == ["a title", "in two lines"]  # one text artist per line


def test_a_good_figure_passes_every_rule_and_its_colour_bar_states_its_range():
    sheet = _good().finish()
    report = audit(sheet)
    assert report.violations == [] and set(RULES) == {"text-size", "outside", "overlap", "cut", "range"}
    bar = next(r for r in sheet.ranges if r["picture"] == 1)
    assert bar["texts"] == ["−0.5", "0", "0.5"] and (bar["lo"], bar["hi"]) == (-0.5, 0.5)
    x0, y0, x1, y1 = sheet.pictures[1]
    assert len(np.unique(sheet.image[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].reshape(-1, 3), axis=0)) > 20


@pytest.mark.parametrize("rule", ["text-size", "outside", "overlap", "cut", "range"])
def test_each_rule_fails_on_a_figure_that_breaks_it(rule):
    c = _good()
    if rule == "text-size":
        c.text(10, 150, "too small", 9)
    elif rule == "outside":
        c.text(300, 170, "past the right edge", 13)
    elif rule == "overlap":
        c.text(20, 70, "on the picture", 13)
    elif rule == "cut":
        c.lines(10, 150, ["a label that was cut…"], 13, 17, whole="a label that was cut short")
    else:
        c.image(np.full((10, 10), 7, dtype=np.uint8), 250, 150)  # a picture that says no range
    assert _rules(c.finish()) == {rule}


def test_a_range_written_wrong_is_a_violation():
    c = Canvas(200, 120)
    i = c.image(np.zeros((20, 20), dtype=np.uint8), 10, 10)
    c.states(i, 0.0, 4.56, c.lines(10, 40, ["0 (black) … 4.5 (white)"], 13, 17))  # 4.5 is not 4.56
    assert _rules(c.finish()) == {"range"}
    c = Canvas(200, 120)
    i = c.image(np.zeros((20, 20), dtype=np.uint8), 10, 10)
    c.states(i, 0.0, 4.56, c.lines(10, 40, ["0 (black) … 4.56 (white)"], 13, 17))
    assert _rules(c.finish()) == set()
