"""The top-level API (matviz.graphics / export / load) and the demo and gallery commands."""

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

import matviz as mv
from matviz.cli import main
from matviz.errors import OutputError

TEXTBOOK = (np.array([[1.0, 2, 3], [4, 5, 6]]), np.array([[1.0, -2], [3, 4], [5, 6]]))


def test_render_writes_a_png_of_the_asked_size_that_is_not_blank(tmp_path):
    scene = mv.matmul(*TEXTBOOK, highlight=(1, 0))
    path = mv.render(scene, tmp_path / "still.png", size=(320, 240))
    img = iio.imread(path)[..., :3]
    assert img.shape == (240, 320, 3)
    background = img[0, img.shape[1] // 2]
    assert (np.abs(img.astype(int) - background).max(axis=-1) > 40).mean() > 0.15  # a real picture


def test_render_refuses_a_movie_suffix_and_writes_nothing(tmp_path):
    with pytest.raises(OutputError, match="export"):
        mv.render(mv.matmul(*TEXTBOOK), tmp_path / "still.mp4")
    assert list(tmp_path.iterdir()) == []


def test_top_level_import_does_not_load_pyvista():
    import subprocess
    import sys

    code = "import sys, matviz; s = matviz.matmul([[1.0]], [[2.0]]); print('pyvista' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_demo_scenes_are_listed_once_and_build_frozen_models():
    from dataclasses import FrozenInstanceError

    from matviz.outputs import DEMO, load_scene

    assert DEMO == ("textbook", "mishka_softmax", "attention_causal")  # the demo's scenes are gallery scenes
    for name in DEMO:
        scene = load_scene(f"scene:{name}")
        assert isinstance(scene, (mv.Cube, mv.Chain)), name
        with pytest.raises(FrozenInstanceError):
            scene.title = "changed"


def test_demo_renders_every_builtin_scene(tmp_path, capsys):
    from matviz.outputs import DEMO as SCENES

    assert main(["demo", "-o", str(tmp_path), "--size", "160x120", "--fps", "4", "--duration", "1"]) == 0
    for name in SCENES:
        still = iio.imread(tmp_path / f"{name}.png")
        assert still.shape[:2] == (120, 160)
        frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(tmp_path / f"{name}.mp4"))
        assert frames == 4 and seconds == pytest.approx(1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.{e}" for n in SCENES for e in ("png", "mp4"))


def test_gallery_renders_each_scene_script(tmp_path):
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "tiny.py").write_text(
        "import matviz as mv\n\ndef build():\n    return mv.matmul([[1.0, 2.0]], [[3.0], [4.0]])\n"
    )
    out = tmp_path / "gallery"
    assert (
        main(["gallery", "--scenes", str(scenes), "-o", str(out), "--size", "160x120", "--fps", "4", "--duration", "1"])
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["tiny.mp4", "tiny.png"]
    assert imageio_ffmpeg.count_frames_and_secs(str(out / "tiny.mp4"))[0] == 4


def test_gallery_without_scripts_is_a_one_line_error(tmp_path, capsys):
    assert main(["gallery", "--scenes", str(tmp_path), "-o", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("matviz: error:") and "--scenes" in err[0]
    assert not (tmp_path / "g").exists()


def test_repository_scenes_build(request):
    from pathlib import Path

    from matviz.scene import as_chain
    from matviz.outputs import load_scene

    root = Path(request.config.rootpath)
    scripts = sorted((root / "matviz" / "scenes").glob("*.py"))
    assert [s.stem for s in scripts] == [
        "attention_causal", "attention_grid", "attention_head", "attention_vcols", "digits", "fit", "mishka_poster", "mishka_softmax",
        "mishka_temperature", "subspaces_query", "textbook",
    ]
    from matviz.outputs import is_scene

    for script in scripts:
        built = load_scene(script)
        if not is_scene(built):  # other outputs: tests/test_poster.py, test_fit.py, test_digits.py,
            continue  # tests/test_subspaces_cli.py
        for chain in built if isinstance(built, list) else [as_chain(built)]:  # a grid is a list of heads
            for cube in chain.cubes:  # every cube's result face is its operands' product
                np.testing.assert_allclose(cube.result.values, cube.left.values @ cube.right.values, rtol=1e-9)
    grid = load_scene(root / "matviz" / "scenes" / "attention_grid.py")
    assert len(grid) == 6 * 12  # all-MiniLM-L6-v2: every layer and head
    vcols = as_chain(load_scene(root / "matviz" / "scenes" / "attention_vcols.py"))
    assert len(vcols.cubes) == 4 and vcols.steps == [0, 1, 0, 1]
    np.testing.assert_allclose(vcols.cubes[3].right.values.sum(axis=0), 1.0)  # softmax over V's columns


# ---------------------------------------------------------------- Cube is the name, Scene the old one (refactor 5)


OLD_SCRIPT = """
import numpy as np
import matviz as mv


def build() -> mv.Scene:
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    B = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 6.0]])
    scene: mv.Scene = mv.matmul(A, B, highlight=(1, 0))
    assert isinstance(scene, mv.Scene)
    return scene
"""


def test_cube_is_exported_and_scene_is_its_old_name():
    from matviz import scene as model

    assert mv.Scene is mv.Cube is model.Cube is model.Scene
    assert mv.Cube.__name__ == "Cube"
    assert mv.Placed is model.Placed
    assert {"Cube", "Placed", "Scene", "Chain"} <= set(mv.__all__)
    assert isinstance(mv.matmul(*TEXTBOOK), mv.Cube)
    placed = mv.Placed(mv.matmul(*TEXTBOOK), 0)
    assert mv.Chain([placed]).cubes == [placed.cube]


def test_a_scene_script_written_against_the_old_names_still_loads(tmp_path, capsys):
    from matviz.outputs import load_scene

    path = tmp_path / "old_names.py"
    path.write_text(OLD_SCRIPT)
    scene = load_scene(path)
    assert isinstance(scene, mv.Cube) and isinstance(scene, mv.Scene)
    assert np.array_equal(scene.result.values, TEXTBOOK[0] @ TEXTBOOK[1])
    assert main(["render", str(path), "-o", str(tmp_path / "old.png"), "--size", "160x120"]) == 0
    assert iio.imread(tmp_path / "old.png").shape[:2] == (120, 160)


def test_a_script_returning_something_else_names_both_kinds(tmp_path):
    from matviz.errors import MatvizError
    from matviz.outputs import load_scene

    path = tmp_path / "bad.py"
    path.write_text("def build():\n    return 42\n")
    with pytest.raises(MatvizError, match="build\\(\\) returned int, not a matviz Cube, Chain, list of Chains \\(a grid\\) or Output"):
        load_scene(path)
