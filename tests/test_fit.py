"""Fit mode: the torch evaluator equals the numpy one, the fit lowers the loss, resume after a kill
ends bit-identical to an uninterrupted run, bad input is one line and exit 2, nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from matviz.core.expr import evaluate  # noqa: E402
from matviz.learning.fit_torch import evaluate_torch  # noqa: E402

POSTER = 'let X = normalize(norm(A, "y+1", cols)) in normalize(X.T @ X)'
rng = np.random.default_rng(3)
ENV = {
    "A": rng.uniform(size=(12, 16)),
    "B": rng.normal(size=(16, 12)),
    "S": rng.uniform(size=(9, 9)),
    "Q": rng.normal(size=(8, 4)),
    "K": rng.normal(size=(8, 4)),
    "V": rng.normal(size=(8, 4)),
}
EXPRESSIONS = [
    "softmax(Q @ K.T / sqrt(d)) @ V",
    "softmax(Q @ K.T / sqrt(d), causal=True) @ V",
    POSTER,
    "X = normalize(norm(A, cols)); normalize(X.T @ X)",
    "t_product(warp(A, 3, 7))",
    "warp(A, 2.5, 5, cols) @ B",
    'flip(A, "h") - flip(A, "v") + 1',
    "rot90(A, 3) @ rot90(B)",
    "roll(A, 3) + roll(A, -2, cols)",
    "blur(A, 1.3)",
    "resize(A, 7, 9)",
    "resize(A, 30, 20)",
    "A[2:10:3, ::-2] * 2",
    "A[1:5]",
    "relu(B - 0.1) @ tanh(A)",
    "selu(B) * exp(-1)",
    "signed(A @ B)",
    "softmax(A @ B, cols, temperature=0.3)",
    'norm(A, "exp", rows)',
    "norm(normalize(A @ B), cols, causal=True)",
    "2 / (A + 1) - A / 4",
    "X = A @ B; softmax(X, rows) @ softmax(X, cols)",
    "sqrt(S) * -S.T",
]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_torch_and_numpy_give_the_same_values(text):
    ev = evaluate(text, ENV)
    env = dict(ENV, **({"d": ev.d} if ev.d is not None else {}))
    got = evaluate_torch(text, env)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), ev.value, rtol=1e-6, atol=1e-12)


def test_gradients_flow_through_every_transform():
    a = torch.from_numpy(ENV["A"].copy()).requires_grad_(True)
    text = "t_product(blur(resize(warp(roll(flip(rot90(A, 2), \"h\"), 2), 2, 6), 10, 10), 0.8)[1:9, 1:9])"
    out = evaluate_torch(text, {"A": a})
    out.sum().backward()
    assert a.grad is not None and torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0


# ---------------------------------------------------------------- the fit


def _files(run: Path) -> set[str]:
    return {p.name for p in run.iterdir()}


def test_the_fit_lowers_the_loss_by_90_percent(tmp_path):
    import matviz as mv

    result = mv.fit(
        POSTER, param="A", init="sample:astronaut", target_of="sample:astronaut", warp=(6, 16),
        resize=(32, 32), steps=300, lr=0.01, checkpoint_every=100, out=tmp_path / "run",
    )  # how long it takes is benchmarks/' business
    assert result.losses[-1] <= 0.1 * result.losses[0], (result.losses[0], result.losses[-1])
    run = tmp_path / "run"
    assert _files(run) == {"loss.csv", "A.npy", "checkpoint.pt", "fit.mp4", "summary.png", "fit.json"}
    rows = (run / "loss.csv").read_text().splitlines()
    assert rows[0] == "step,loss" and len(rows) == 1 + 301 and rows[1].startswith("0,")
    learned = np.load(run / "A.npy")
    assert learned.shape == (32, 32) and np.array_equal(learned, result.A)


def test_tol_stops_early(tmp_path):
    import matviz as mv

    result = mv.fit("normalize(A.T @ A)", init="sample:camera", target_of="sample:camera", warp=(3, 8),
                    resize=(16, 16), steps=400, lr=0.02, tol=1.0, out=tmp_path / "r", video=False)
    assert result.stopped == "tol" and result.steps < 400 and result.losses[-1] <= 1.0
    assert len((tmp_path / "r" / "loss.csv").read_text().splitlines()) == result.steps + 2


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "matviz.cli", "fit", *args]


def _env(**extra: str) -> dict[str, str]:
    """This process's environment, with this checkout's matviz first on the path."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])
    return {**os.environ, "PYTHONPATH": path, **extra}


FIT_ARGS = (POSTER, "--param", "A=sample:astronaut", "--target-of", "sample:astronaut", "--warp", "6,16",
            "--resize", "24x24", "--steps", "400", "--lr", "0.01", "--seed", "7", "--checkpoint-every", "10",
            "--no-video")


def test_resume_after_a_kill_ends_bit_identical(tmp_path):
    """The child holds after its checkpoint at step 200 of 400 (fit's MATVIZ_FIT_HOLD_AFTER_CHECKPOINT
    hook) and is killed there: no race between the kill and the run."""
    import matviz as mv

    run, held = tmp_path / "killed", tmp_path / "held"
    hold = _env(MATVIZ_FIT_HOLD_AFTER_CHECKPOINT=f"200:{held}")
    proc = subprocess.Popen(_cli(*FIT_ARGS, "-o", str(run)), env=hold, stderr=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        while not held.exists() and proc.poll() is None:
            time.sleep(0.05)  # waiting for a child that will wait for us: no timing involved
        assert held.exists(), f"the fit ended before its checkpoint at step 200: {proc.communicate()[1]!r}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert held.read_text() == "200\n" and (run / "checkpoint.pt").exists() and not (run / "A.npy").exists()
    again = subprocess.run(_cli(*FIT_ARGS, "-o", str(run)), env=_env(), capture_output=True, text=True)
    assert again.returncode == 2 and "not empty" in again.stderr  # refused; its wording is checked last
    resumed = subprocess.run(_cli(*FIT_ARGS, "-o", str(run), "--resume"), env=_env(), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from the checkpoint at step 200 of 400" in resumed.stderr
    whole = mv.fit(POSTER, param="A", init="sample:astronaut", target_of="sample:astronaut", warp=(6, 16),
                   resize="24x24", steps=400, lr=0.01, seed=7, checkpoint_every=10, out=tmp_path / "whole",
                   video=False)
    a = np.load(run / "A.npy")
    assert a.tobytes() == whole.A.tobytes()  # bit-identical
    assert (run / "loss.csv").read_text() == (tmp_path / "whole" / "loss.csv").read_text()
    assert not [p for p in run.iterdir() if ".partial" in p.name]
    assert "--resume" in again.stderr  # the CLI says the flag the user types


def test_resume_with_other_settings_is_refused(tmp_path):
    import matviz as mv

    kw = dict(init="sample:camera", target_of="sample:camera", warp=(3, 8), resize=(12, 12), steps=20,
              checkpoint_every=5, video=False, out=tmp_path / "r")
    mv.fit("normalize(A.T @ A)", **kw)
    with pytest.raises(mv.MatvizError, match="other settings \\(lr"):
        mv.fit("normalize(A.T @ A)", lr=0.5, resume=True, **kw)


# ---------------------------------------------------------------- bad input


def _bad(tmp_path, *args: str, out: Path | None = None) -> str:
    out = out or tmp_path / "run"
    r = subprocess.run(_cli(*args, "-o", str(out)), capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matviz: error: "), r.stderr
    return lines[0]


def test_bad_inputs_are_one_line_exit_2_and_write_nothing(tmp_path):
    small = ("--param", "A=sample:camera", "--resize", "8x8", "--steps", "3")
    line = _bad(tmp_path, "A[0:4] @ A", *small, "--target", "random:8x8")
    assert "the target is 8×8 but A[0:4] @ A is 4×8" in line  # both shapes
    line = _bad(tmp_path, "softmax(A, rows, temperature=0) @ A", *small, "--target", "random:8x8")
    assert "temperature must be > 0" in line
    line = _bad(tmp_path, "softmax(A, rows, temperature=-1) @ A", *small, "--target-of", "sample:camera")
    assert "temperature" in line
    assert not (tmp_path / "run").exists()  # nothing written, no directory made
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = _bad(tmp_path, "A.T @ A", *small, "--target", "random:8x8", out=blocker / "run")
    assert "is a file" in line
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    line = _bad(tmp_path, "A.T @ A", *small, "--target", "random:8x8", out=full)
    assert "not empty" in line and _files(full) == {"keep.txt"}


def _raised(tmp_path, expr="A.T @ A", **kw) -> Exception:
    """What ``fit`` raises for these arguments (small operands), nothing written."""
    from matviz.errors import MatvizError
    from matviz.learning.fit import fit

    args = dict(init="random:4x4", target="random:4x4", steps=3, video=False, out=tmp_path / "run")
    with pytest.raises(MatvizError) as info:
        fit(expr, **{**args, **kw})
    return info.value


def test_errors_name_the_parameters_not_the_cli_flags(tmp_path):
    """Library errors say the keyword a Python user passed and carry it as data (the CLI maps it to a flag)."""
    cases = [
        (dict(steps=0), "steps must be > 0 (a whole number), got 0", ("steps",)),
        (dict(lr=-1.0), "lr must be > 0, got -1.0", ("lr",)),
        (dict(checkpoint_every=0), "checkpoint_every must be > 0", ("checkpoint_every",)),
        (dict(tol=-1.0), "tol must be >= 0", ("tol",)),
        (dict(resume=True, force=True), "resume continues the run in the directory and force starts it over", ("resume", "force")),
        (dict(warp=(3, 8)), "warp warps the operand of target_of", ("warp", "target_of", "target_of")),
        (dict(target=None, target_of="random:5x5"), "target_of random:5x5 is 5×5 but A is 4×4", ("target_of", "resize")),
        (dict(target=None, target_of="random:4x4", warp="3,0"), "the wavelength of warp must be > 0", ("warp",)),
        (dict(others={"A": "random:4x4"}), "A is the parameter and also in others", ("others", "init")),
        (dict(target="random:5x5"), "give a target of the expression's shape (e.g. resize, or target_of", ("resize", "target_of")),
    ]
    for kw, words, params in cases:
        err = _raised(tmp_path, **kw)
        assert words in str(err) and "--" not in str(err), (kw, str(err))
        assert err.params == params, (kw, err.params)
    err = _raised(tmp_path, "B @ B", others={"B": "random:4x4"})
    assert str(err).endswith("name the operand to learn with param") and err.params == ("param",)
    assert not (tmp_path / "run").exists()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    err = _raised(tmp_path)
    assert str(err).endswith("not empty: resume to continue its run, force to start over, or choose another out")
    assert err.params == ("resume", "force", "out")
    err = _raised(tmp_path, out=tmp_path / "run" / "keep.txt")
    assert "is a file" in str(err) and err.params == ("out",)


NO_TORCH = """
import runpy, sys
sys.modules["torch"] = None  # import torch fails from here on, as on a machine without it
from matviz.errors import MissingDependency
from matviz.learning.fit import fit
try:
    fit("A.T @ A", init="random:4x4", target="random:4x4", out=sys.argv[-1])
except MissingDependency as err:
    print("library:", err)
runpy.run_module("matviz", run_name="__main__", alter_sys=True)  # python -m matviz fit ...
"""


def test_fit_without_torch_is_one_line_and_exit_2(tmp_path):
    run = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "fit", "A.T @ A", "--param", "A=random:4x4", "--target", "random:4x4", "-o", str(run)],
        env=_env(), capture_output=True, text=True,
    )
    assert r.stdout.startswith("library: fit mode needs torch"), (r.stdout, r.stderr)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("matviz: error: fit mode needs torch"), r.stderr
    assert "pip install 'matviz3d[models]'" in lines[0] and "download.pytorch.org/whl/cpu" in lines[0]
    assert not run.exists()


def test_a_constant_image_is_noted_and_the_fit_goes_on(tmp_path):
    r = subprocess.run(
        _cli("normalize(A) + A", "--param", "A=ones:6x6", "--target", "random:6x6", "--steps", "5", "--no-video",
             "-o", str(tmp_path / "run")),
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "normalize(A) min-max normalizes a constant matrix" in r.stderr
    assert np.isfinite(np.load(tmp_path / "run" / "A.npy")).all()


def test_a_diverging_fit_stops_says_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "run"
    r = subprocess.run(
        _cli("sqrt(A)", "--param", "A=ones:6x6", "--target", "random:6x6:seed=3", "--steps", "300", "--lr",
             "0.05", "--checkpoint-every", "2", "-o", str(run)),
        capture_output=True, text=True,
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "diverged" in lines[0] and "at step" in lines[0], r.stderr
    assert "last good checkpoint (step" in lines[0]
    assert _files(run) == {"checkpoint.pt"}  # kept; nothing half-written
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    assert np.isfinite(state["losses"]).all()


def test_gallery_fit_scene_runs_into_its_folder(tmp_path):
    """scenes/fit.py is a FitSpec: the gallery runs it into gallery/fit/ and keeps results, not the
    checkpoint. Here a 16x16, 40-step version of it, written to a temp folder."""
    import dataclasses
    from pathlib import Path

    from matviz.learning.fit import FitSpec
    from matviz.outputs import load_scene

    spec = load_scene(Path(__file__).resolve().parent.parent / "matviz" / "scenes" / "fit.py")
    assert isinstance(spec, FitSpec)
    small = dataclasses.replace(spec, resize=(16, 16), steps=40)
    result = small.run(tmp_path / "fit")
    names = sorted(p.name for p in (tmp_path / "fit").iterdir())
    assert {"A.npy", "loss.csv", "summary.png", "fit.mp4"} <= set(names)
    assert not [n for n in names if n.startswith("checkpoint") or ".partial" in n]
    losses = [float(line.split(",")[1]) for line in (tmp_path / "fit" / "loss.csv").read_text().splitlines()[1:]]
    assert len(losses) == 41 and losses[-1] < losses[0]
    assert result.reduction > 0
