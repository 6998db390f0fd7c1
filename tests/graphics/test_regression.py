"""Image regression: offscreen stills compared with committed baselines, with a tolerance.

Regenerate the baselines (after an intended change in the picture, and after looking at it):

    MATVIZ_REGEN_BASELINES=1 python -m pytest tests/graphics/test_regression.py

That run writes tests/baselines/*.png and fails on purpose, so it can never pass silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from matviz.graphics import offscreen

BASELINES = Path(__file__).resolve().parent.parent / "baselines"
SIZE = (400, 300)
MEAN_TOL = 3.0  # mean absolute difference, in 0..255 levels
PIXEL_TOL = 40  # a pixel "differs" when some channel is off by more than this
FRACTION_TOL = 0.02  # at most this fraction of pixels may differ
REGEN = os.environ.get("MATVIZ_REGEN_BASELINES") == "1"


def compare(actual: np.ndarray, expected: np.ndarray) -> tuple[bool, str]:
    """``(ok, report)``: same size, mean |diff| < MEAN_TOL and < FRACTION_TOL of pixels off by > PIXEL_TOL."""
    if actual.shape != expected.shape:
        return False, f"shape {actual.shape} != baseline {expected.shape}"
    d = np.abs(actual[..., :3].astype(int) - expected[..., :3].astype(int))
    mean, frac = float(d.mean()), float((d.max(-1) > PIXEL_TOL).mean())
    ok = mean < MEAN_TOL and frac < FRACTION_TOL
    return ok, f"mean |diff| {mean:.2f} (< {MEAN_TOL}), {frac:.2%} pixels off by > {PIXEL_TOL} (< {FRACTION_TOL:.0%})"


@pytest.fixture(scope="module")
def frames(textbook, image_scene):
    """The stills under test, rendered once: anti-aliased, default camera, 400x300."""
    return {
        "textbook": offscreen.render(textbook, size=SIZE),
        "image": offscreen.render(image_scene, size=SIZE),
    }


@pytest.mark.parametrize("name", ["textbook", "image"])
def test_matches_baseline(frames, name, tmp_path):
    frame = frames[name]
    assert frame.shape == (SIZE[1], SIZE[0], 3) and frame.dtype == np.uint8
    path = BASELINES / f"{name}.png"
    if REGEN:
        BASELINES.mkdir(parents=True, exist_ok=True)
        iio.imwrite(path, frame)
        pytest.fail(f"baseline regenerated: {path} (look at it, then run again without MATVIZ_REGEN_BASELINES)")
    assert path.exists(), f"no baseline {path}: run with MATVIZ_REGEN_BASELINES=1 once and look at the PNG"
    ok, report = compare(frame, iio.imread(path))
    if not ok:
        iio.imwrite(tmp_path / f"{name}.png", frame)
        pytest.fail(f"{name} differs from {path}: {report}; this run's frame is {tmp_path / f'{name}.png'}")


def test_comparison_can_fail(frames):
    """Negative control: the textbook baseline does not match the image scene's frame."""
    baseline = iio.imread(BASELINES / "textbook.png")
    ok, report = compare(frames["image"], baseline)
    assert not ok, f"the tolerance accepts a different scene: {report}"
    # positive control: the same scene passes
    ok, report = compare(frames["textbook"], baseline)
    assert ok, report


def test_small_change_is_caught(textbook):
    """The tolerance is tight enough to catch a moved highlight, not just a different scene."""
    from dataclasses import replace

    moved = offscreen.render(textbook, replace(textbook.initial_state(), highlight=(0, 1)), size=SIZE)
    ok, report = compare(moved, iio.imread(BASELINES / "textbook.png"))
    assert not ok, f"a moved highlight passes as the baseline: {report}"
