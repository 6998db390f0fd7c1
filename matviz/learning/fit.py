"""Fit mode: learn the pixels of one operand so that an expression of it matches a target.

    mv.fit('let X = normalize(norm(A, "y+1", cols)) in normalize(X.T @ X)', param="A",
           init="sample:astronaut", target_of="sample:astronaut", warp=(8, 24), resize=(48, 48),
           steps=300, lr=0.01, out="run/")

minimizes ``loss(A) = ‖EXPR(A) − target‖`` (Frobenius) with Adam on the entries of A, the expression
evaluated in torch (``matviz.learning.fit_torch``: the same parsed tree as ``matviz.core.expr``). The target
is an operand (``target=``) or the value of the expression at another operand, optionally warped
first (``target_of=`` with ``warp=(amplitude, wavelength[, axis])``: Mishka's inverse problem).

The run directory gets, each file written to a hidden temporary file and renamed:

* ``loss.csv``: ``step,loss``, one row per step; row k is the loss after k Adam steps (row 0: init);
* ``A.npy`` (the parameter's name): the learned operand, values in its own scale;
* ``checkpoint.pt``: every ``checkpoint_every`` steps (and at the end) the parameter, Adam's state,
  the losses and the frames so far; ``resume=True`` continues from it;
* ``fit.mp4``: A evolving, EXPR(A), the target and the loss curve;
* ``summary.png``: init, the target's source, the learned A, and their values.

Deterministic: float64, one torch thread, ``torch.use_deterministic_algorithms``; a resumed run
ends bit-identical to an uninterrupted one with the same settings.

``fit`` reads as its steps: check the arguments, build the problem in numpy (``_problem``), check
the run directory, run Adam in torch (``_train``: resume, the loop, checkpoints), write the outputs.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import importlib.util
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from matviz.animate.writers import atomic_write, check_output_dir
from matviz.errors import ExpressionError, MatvizError, MissingDependency, OutputError, install_hint
from matviz.errors import param as named  # ``param`` is fit's own keyword: the operand to learn

__all__ = ["FitResult", "fit", "deterministic", "FRAMES", "CHECKPOINT"]

CHECKPOINT = "checkpoint.pt"
FRAMES = 96  # snapshots of A kept for fit.mp4 (evenly spaced steps)
FPS = 24.0
PANEL = 224  # pixels per image panel in fit.mp4
# A test's hook: MATVIZ_FIT_HOLD_AFTER_CHECKPOINT=N:PATH makes a fit that has just written its
# checkpoint at step N create PATH and wait there until it is killed, so a kill lands at step N.
HOLD_AFTER_CHECKPOINT = "MATVIZ_FIT_HOLD_AFTER_CHECKPOINT"


class FitDiverged(MatvizError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class FitResult:
    out: Path
    param: str
    A: np.ndarray  # the learned operand
    losses: list[float]  # losses[k] after k Adam steps
    steps: int  # Adam steps taken in all (losses has steps + 1 entries)
    stopped: str  # "steps" or "tol"
    resumed_from: int | None  # the checkpoint step this run resumed from, if any
    notes: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def reduction(self) -> float:
        """1 − final loss / initial loss."""
        return 1.0 - self.losses[-1] / self.losses[0] if self.losses[0] else 0.0


# ---------------------------------------------------------------- inputs


def _one_line(err: ExpressionError) -> MatvizError:
    """An expression error as one line (its first), the expression quoted."""
    return MatvizError(str(err).split("\n")[0])


def _evaluate(expr: str, env: dict):
    """The numpy evaluation of ``expr``; an expression error as one line."""
    from matviz.core.expr import evaluate

    try:
        return evaluate(expr, env)
    except ExpressionError as err:
        raise _one_line(err) from None


def _load(spec, name: str, resize):
    """``(values, label)`` of an operand spec, array or number."""
    from matviz.sources import load

    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return float(spec), str(spec)
    if isinstance(spec, str):
        try:
            return float(spec), spec
        except ValueError:
            pass
    op = load(spec, default_name=name, shape=resize)
    label = spec if isinstance(spec, str) else f"{name} ({op.values.shape[0]}×{op.values.shape[1]} array)"
    return np.array(op.values, dtype=np.float64), label


def _dims(shape) -> str:
    return "×".join(str(s) for s in shape)


def _parse_warp(warp) -> tuple[float, float, str]:
    if isinstance(warp, str):
        warp = [w.strip() for w in warp.split(",")]
    try:
        parts = list(warp)
        amplitude, wavelength = float(parts[0]), float(parts[1])
        axis = str(parts[2]) if len(parts) > 2 else "rows"
        if len(parts) > 3:
            raise ValueError
    except (TypeError, ValueError, IndexError):
        raise MatvizError(
            f"{named('warp')} {warp!r} is not AMPLITUDE,WAVELENGTH[,AXIS]: write e.g. 8,24 (pixels) or 8,24,cols"
        ) from None
    if not wavelength > 0:
        raise MatvizError(f"the wavelength of {named('warp')} must be > 0 pixels (got {wavelength:g}): e.g. 8,24")
    if axis not in ("rows", "cols"):
        raise MatvizError(f"the axis of {named('warp')} is {axis!r}: use rows or cols")
    return amplitude, wavelength, axis


def _require_torch() -> None:
    """One line, before anything imports torch, when it is not installed."""
    if importlib.util.find_spec("torch") is None:
        raise MissingDependency(f"fit mode needs torch (autodiff): {install_hint('models')}")


def _check_arguments(param, init, target, target_of, warp, steps, lr, checkpoint_every, tol) -> None:
    """The arguments that need no loading: names, one target, the numbers of the run."""
    if not isinstance(param, str) or not param.isidentifier():
        raise MatvizError(f"{named('param')} {param!r} is not a name: e.g. A")
    if init is None:
        raise MatvizError(f"missing the initial value of {param}: give {named('init')} (e.g. sample:astronaut)")
    if (target is None) == (target_of is None):
        raise MatvizError(
            f"give one target: {named('target')} (the values to match) or {named('target_of')} (EXPR's value at an operand)"
        )
    if warp is not None and target_of is None:
        raise MatvizError(f"{named('warp')} warps the operand of {named('target_of')}: give {named('target_of')} too")
    for what, v, ok in (
        ("steps", steps, isinstance(steps, (int, np.integer)) and steps >= 1),
        ("lr", lr, isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0),
        ("checkpoint_every", checkpoint_every, isinstance(checkpoint_every, (int, np.integer)) and checkpoint_every >= 1),
        ("tol", tol, isinstance(tol, (int, float)) and np.isfinite(tol) and tol >= 0),
    ):
        if not ok:
            whole = " (a whole number)" if what in ("steps", "checkpoint_every") else ""
            raise MatvizError(f"{named(what)} must be {'>= 0' if what == 'tol' else '> 0'}{whole}, got {v!r}")


@dataclass
class _Problem:
    """A fit's checked inputs, in numpy: the expression, the parameter's start and the target."""

    expr: str
    param: str
    a0: np.ndarray
    init_label: str
    env: dict  # the expression's other names: arrays or numbers
    ev0: object  # the numpy evaluation at a0
    target: np.ndarray
    target_label: str
    source: np.ndarray | None = None  # the operand (warped) whose value is the target, with target_of
    warp: tuple[float, float, str] | None = None


def _problem(expr, param, init, target, target_of, warp, others, resize) -> _Problem:
    """Load the operands, evaluate the expression at the init and build the target; every shape checked."""
    others = dict(others or {})
    if param in others:
        raise MatvizError(
            f"{param} is the parameter and also in {named('others')}: give it once, as {named('init')}"
        )
    a0, init_label = _load(init, param, resize)
    if isinstance(a0, float):
        raise MatvizError(f"the parameter {param} must be a matrix, but its initial value {init!r} is a number")
    env = {name: _load(spec, name, resize)[0] for name, spec in others.items()}
    ev0 = _evaluate(expr, {**env, param: a0})
    if param not in ev0.names:
        raise MatvizError(f"the expression does not use {param}: nothing to fit; name the operand to learn with {named('param')}")
    if isinstance(ev0.value, float):
        raise MatvizError("the expression's value is a number, not a matrix: fit mode matches a matrix to a target")
    p = _Problem(expr, param, a0, init_label, env, ev0, None, "")
    if target_of is not None:
        _target_of(p, target_of, warp, resize)
    else:
        p.target, p.target_label = _load(target, "target", resize)
        if isinstance(p.target, float):
            raise MatvizError(f"{named('target')} {target!r} is a number: give a matrix (a file, sample:NAME, ...)")
    out_shape = np.shape(ev0.value)
    if p.target.shape != out_shape:
        raise MatvizError(
            f"the target is {_dims(p.target.shape)} but {expr} is {_dims(out_shape)} at {param} ({_dims(a0.shape)}): "
            f"give a target of the expression's shape (e.g. {named('resize')}, or {named('target_of')} an operand like the init)"
        )
    return p


def _target_of(p: _Problem, target_of, warp, resize) -> None:
    """The target as the expression's value at ``target_of`` (warped first if asked), into ``p``."""
    from matviz.core import transforms

    source, source_label = _load(target_of, p.param, resize)
    if isinstance(source, float) or source.shape != p.a0.shape:
        got = "a number" if isinstance(source, float) else _dims(source.shape)
        raise MatvizError(
            f"{named('target_of')} {source_label} is {got} but {p.param} is {_dims(p.a0.shape)}: "
            f"EXPR is evaluated at it in {p.param}'s place, so give the same shape (e.g. {named('resize')})"
        )
    if warp is not None:
        p.warp = _parse_warp(warp)
        source = transforms.warp(source, *p.warp)
    p.source = source
    p.target = np.asarray(_evaluate(p.expr, {**p.env, p.param: source}).value, dtype=np.float64)
    p.target_label = f"value({source_label}{' warped' if p.warp else ''})"


def _check_run_dir(out: Path, resume: bool, force: bool) -> None:
    """Fail before anything is written: a file, a non-empty dir without resume/force, unwritable."""
    if resume and force:
        raise MatvizError(f"{named('resume')} continues the run in the directory and {named('force')} starts it over: give one")
    if out.is_dir() and any(out.iterdir()) and not (resume or force):
        raise OutputError(
            f"run directory {out} is not empty: {named('resume')} to continue its run, {named('force')} to start over, "
            f"or choose another {named('out')}"
        )
    check_output_dir(out, "run directory")


def _clean_partials(out: Path) -> None:
    """Temporary files a killed run left (``.NAME.partial-PID.EXT``)."""
    if out.is_dir():
        for p in out.glob(".*.partial-*"):
            p.unlink(missing_ok=True)


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _settings(p: _Problem, steps: int, lr: float, seed: int, tol: float, checkpoint_every: int) -> dict:
    """What a checkpoint must agree with to be resumed."""
    return {
        "expr": p.expr,
        "param": p.param,
        "shape": list(p.a0.shape),
        "init": _digest(p.a0),
        "target": _digest(p.target),
        "others": _digest(*[p.env[k] for k in sorted(p.env)]) + ",".join(sorted(p.env)),
        "steps": steps,
        "lr": float(lr),
        "seed": int(seed),
        "tol": float(tol),
        "checkpoint_every": checkpoint_every,
    }


@contextlib.contextmanager
def deterministic(torch, seed: int):
    """One thread, deterministic algorithms, seeded; restored afterwards (fit and the digits nets)."""
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    # torch.use_deterministic_algorithms imports torch._inductor (3 s); its C switch is the same flag
    set_deterministic = getattr(torch._C, "_set_deterministic_algorithms", torch.use_deterministic_algorithms)
    torch.set_num_threads(1)
    set_deterministic(True)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        set_deterministic(det)


# ---------------------------------------------------------------- the fit


def fit(
    expr: str,
    param: str = "A",
    init=None,
    target=None,
    *,
    target_of=None,
    warp=None,
    others: Mapping[str, object] | None = None,
    steps: int = 500,
    lr: float = 0.01,
    seed: int = 0,
    tol: float = 0.0,
    checkpoint_every: int = 50,
    out: str | os.PathLike = "fit-run",
    resume: bool = False,
    force: bool = False,
    resize: tuple[int, int] | str | None = None,
    video: bool = True,
    progress: Callable[[int, int, float], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> FitResult:
    """Minimize ``‖expr(param) − target‖`` over the entries of ``param`` with Adam; see the module
    docstring for what is written to ``out``. ``init``: the operand spec or array A starts from;
    ``target``: a spec or array, or ``target_of``: a spec whose value (after ``warp``) is the
    target; ``others``: the expression's other names (specs, arrays or numbers); ``resize``: ROWSxCOLS
    for every operand; ``tol``: stop once the loss is at most this; ``progress(step, steps, loss)``
    after each step; ``note(text)`` for remarks (default: collected in ``FitResult.notes``).
    Bad input raises a one-line MatvizError before anything is written; without torch, a
    MissingDependency before anything else."""
    started = time.perf_counter()
    notes: list[str] = []

    def say(text: str) -> None:
        if text not in notes:
            notes.append(text)
            if note is not None:
                note(text)

    _require_torch()
    _check_arguments(param, init, target, target_of, warp, steps, lr, checkpoint_every, tol)
    steps, checkpoint_every = int(steps), int(checkpoint_every)
    problem = _problem(expr, param, init, target, target_of, warp, others, resize)
    out = Path(out).expanduser()
    _check_run_dir(out, resume, force)
    settings = _settings(problem, steps, lr, seed, tol, checkpoint_every)
    run = _train(problem, settings, out, resume, progress, say)
    if run.stopped == "tol":
        say(f"stopped early at step {run.k}: the loss {run.losses[-1]:.4g} is at most --tol {tol:g}")
    paths = _write_outputs(out, problem, settings, run, video)
    return FitResult(
        out=out, param=param, A=run.learned, losses=run.losses, steps=run.k, stopped=run.stopped,
        resumed_from=run.resumed_from, notes=notes, paths=paths, seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------- Adam in torch


def _hold_if_asked(k: int) -> None:
    """The ``HOLD_AFTER_CHECKPOINT`` hook, after the checkpoint at step ``k`` is written."""
    step, _, marker = os.environ.get(HOLD_AFTER_CHECKPOINT, "").partition(":")
    if marker and step.strip().isdigit() and int(step) == k:
        atomic_write(Path(marker), lambda tmp: tmp.write_text(f"{k}\n"))  # whole when it appears
        while True:
            time.sleep(60)


class _Adam:
    """Adam on the parameter: its losses, the frames kept for the video, and the checkpoints."""

    def __init__(self, torch, a0: np.ndarray, settings: dict, out: Path) -> None:
        self.torch, self.settings, self.out = torch, settings, out
        self.ckpt = out / CHECKPOINT
        self.A = torch.from_numpy(a0.copy()).requires_grad_(True)
        self.opt = torch.optim.Adam([self.A], lr=settings["lr"])
        self.losses: list[float] = []
        self.frames: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.k = 0  # the step: Adam steps taken
        self.resumed_from: int | None = None
        self.last_good: int | None = None  # the step of the last checkpoint written
        self.stopped = "steps"
        self.learned: np.ndarray | None = None

    def resume(self, say) -> None:
        """Continue from the run directory's checkpoint, which must have the same settings."""
        if not self.ckpt.exists():
            say(f"no checkpoint in {self.out}: starting from step 0")
            return
        state = self.torch.load(self.ckpt, weights_only=False)
        if state["settings"] != self.settings:
            diff = [k for k in self.settings if state["settings"].get(k) != self.settings[k]]
            own = ("steps", "lr", "seed", "tol", "checkpoint_every")  # settings that are parameters as they are
            shown = ", ".join(named(k) if k in own else k for k in diff)
            raise MatvizError(
                f"the run in {self.out} was made with other settings ({shown} differ): "
                f"resume with the same command, or {named('force')} to start over"
            )
        with self.torch.no_grad():
            self.A.copy_(state["A"])
        self.opt.load_state_dict(state["optimizer"])
        self.losses = list(state["losses"])
        self.frames = dict(state["frames"])
        self.k = self.resumed_from = self.last_good = int(state["step"])
        say(f"resuming from the checkpoint at step {self.k} of {self.settings['steps']}")

    def checkpoint(self) -> None:
        """The parameter, Adam's state, the losses and the frames at this step, written atomically."""
        state = {
            "settings": self.settings,
            "step": self.k,
            "A": self.A.detach().clone(),
            "optimizer": self.opt.state_dict(),
            "losses": list(self.losses),
            "frames": dict(self.frames),
        }
        atomic_write(self.ckpt, lambda tmp: self.torch.save(state, tmp))
        self.last_good = self.k
        _hold_if_asked(self.k)

    def run(self, value_of, target, progress, say, remarks=lambda: ()) -> None:
        """Step until ``steps`` or ``tol``: row k of the losses is the loss after k steps;
        ``remarks()``: the evaluator's notes, said after the first evaluation at step 0."""
        torch, steps, tol = self.torch, self.settings["steps"], self.settings["tol"]
        schedule = {round(i * steps / (FRAMES - 1)) for i in range(FRAMES)}
        start = self.k
        while True:
            self.opt.zero_grad(set_to_none=True)
            value = value_of(self.A)
            loss = torch.sqrt(((value - target) ** 2).sum())
            lv = float(loss.detach())
            if self.k == 0:
                for text in remarks():
                    say(text)
            if not np.isfinite(lv):
                self._diverged(lv)
            if self.k < len(self.losses):
                self.losses[self.k] = lv
            else:
                self.losses.append(lv)
            done = self.k == steps or lv <= tol
            if self.k in schedule or done:
                self.frames[self.k] = (self.A.detach().numpy().astype(np.float32), value.detach().numpy().astype(np.float32))
            if done and self.k < steps:
                self.stopped = "tol"
            if self.k > start and (self.k % self.settings["checkpoint_every"] == 0 or done):
                self.checkpoint()
            if progress is not None:
                progress(self.k, steps, lv)
            if done:
                break
            loss.backward()
            self.opt.step()
            self.k += 1
        if self.last_good != self.k:  # e.g. a resumed run that was already finished
            self.checkpoint()
        self.learned = self.A.detach().numpy().copy()

    def _diverged(self, lv: float) -> None:
        kept = (f"the last good checkpoint (step {self.last_good}) is kept in {self.ckpt}" if self.last_good is not None
                else "no checkpoint was written yet")
        raise FitDiverged(
            f"the fit diverged: the loss is {lv} at step {self.k} (after {self.k} Adam steps); {kept}; "
            f"lower {named('lr')} (now {self.settings['lr']:g})"
        )


def _train(p: _Problem, settings: dict, out: Path, resume: bool, progress, say) -> _Adam:
    """Adam from the init (or the checkpoint, with ``resume``) to the end, deterministically."""
    import torch

    from matviz.learning.fit_torch import TorchExpression

    texpr = TorchExpression(p.expr)
    tenv = {k: (v if isinstance(v, float) else torch.from_numpy(v.copy())) for k, v in p.env.items()}
    if p.ev0.d is not None:
        tenv["d"] = p.ev0.d
    target = torch.from_numpy(p.target.copy())

    def value_of(A):
        return texpr({**tenv, p.param: A})

    with deterministic(torch, settings["seed"]):
        run = _Adam(torch, p.a0, settings, out)
        if resume:
            run.resume(say)
        out.mkdir(parents=True, exist_ok=True)
        _clean_partials(out)
        run.run(value_of, target, progress, say, lambda: texpr.notes)
    return run


# ---------------------------------------------------------------- outputs


def _write_outputs(out: Path, p: _Problem, settings: dict, run: _Adam, video: bool) -> list[Path]:
    """loss.csv, PARAM.npy, summary.png, fit.mp4 (if ``video``) and fit.json, each atomically."""
    paths = [
        atomic_write(out / "loss.csv", lambda tmp: _write_losses(tmp, run.losses)),
        atomic_write(out / f"{p.param}.npy", lambda tmp: _save_npy(tmp, run.learned)),
    ]
    from matviz.core.expr import evaluate

    try:
        value_learned = np.asarray(evaluate(p.expr, {**p.env, p.param: run.learned}).value)
    except ExpressionError:  # out of a function's domain in numpy: use the torch value
        value_learned = run.frames[run.k][1]
    paths.append(
        atomic_write(
            out / "summary.png",
            lambda tmp: _summary(
                tmp, p.expr, p.param, p.a0, p.init_label, p.source, p.target_label, p.target, run.learned,
                np.asarray(p.ev0.value), value_learned, run.losses, p.warp,
            ),
        )
    )
    if video:
        paths.append(_video(out / "fit.mp4", p.expr, p.param, run.frames, p.target, run.losses, settings["steps"]))
    info = {
        "expr": p.expr,
        "param": p.param,
        "init": p.init_label,
        "target": p.target_label,
        "warp": list(p.warp) if p.warp else None,
        "steps_run": run.k,
        "stopped": run.stopped,
        "loss_first": run.losses[0],
        "loss_last": run.losses[-1],
        "settings": settings,
    }
    paths.append(atomic_write(out / "fit.json", lambda tmp: tmp.write_text(json.dumps(info, indent=1) + "\n")))
    return paths


def _write_losses(path: Path, losses: list[float]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "loss"])
        for k, v in enumerate(losses):
            w.writerow([k, repr(float(v))])


def _save_npy(path: Path, a: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(fh, a)


# ---------------------------------------------------------------- pictures


def _gray(a: np.ndarray, lo: float, hi: float, side: int = PANEL) -> np.ndarray:
    """(side, side, 3) uint8: ``a`` scaled to [lo, hi], nearest-neighbour fitted and centred."""
    a = np.asarray(a, dtype=np.float64)
    m, n = a.shape
    scale = side / max(m, n)
    h, w = max(1, int(round(m * scale))), max(1, int(round(n * scale)))
    rows = np.minimum((np.arange(h) * m / h).astype(int), m - 1)
    cols = np.minimum((np.arange(w) * n / w).astype(int), n - 1)
    span = hi - lo if hi > lo else 1.0
    g = (np.clip((a[np.ix_(rows, cols)] - lo) / span, 0, 1) * 255).astype(np.uint8)
    cell = np.full((side, side, 3), 255, np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    cell[top : top + h, left : left + w] = g[..., None]
    return cell


def _figure_to_array(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def _video(path: Path, expr: str, param: str, frames, target, losses, steps) -> Path:
    """A (own range over the run), EXPR(A) and the target (the target's range), and the loss curve."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from matviz.animate.writers import open_writer

    order = sorted(frames)
    a_lo = min(float(frames[k][0].min()) for k in order)
    a_hi = max(float(frames[k][0].max()) for k in order)
    t_lo, t_hi = float(target.min()), float(target.max())
    dpi = 100
    title_h = 40
    # static titles, once
    fig = Figure(figsize=(4 * PANEL / dpi, title_h / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    short = expr if len(expr) <= 34 else expr[:33] + "…"
    for i, text in enumerate((f"{param} (learned)", f"value({param}) = {short}", "target", "loss ‖value − target‖")):
        fig.text((i + 0.5) / 4, 0.5, text, ha="center", va="center", fontsize=8.5)
    titles = _figure_to_array(fig)
    # the loss curve, drawn twice by matplotlib (grey: to come, red: done); a frame shows red up to
    # the current step and a dot there, composed in numpy
    cfig = Figure(figsize=(PANEL / dpi, PANEL / dpi), dpi=dpi)
    FigureCanvasAgg(cfig)
    ax = cfig.add_axes((0.22, 0.16, 0.73, 0.72))
    xs = np.arange(len(losses))
    ys = np.maximum(np.asarray(losses), 1e-300)
    (line,) = ax.plot(xs, ys, color="0.7", lw=1.5)
    ax.set_yscale("log")
    ax.set_xlim(0, max(len(losses) - 1, 1))
    ax.set_xlabel("step", fontsize=7)
    ax.tick_params(labelsize=6)
    cfig.text(0.55, 0.93, f"{losses[0]:.3g} → {losses[-1]:.3g}", ha="center", fontsize=7.5)
    grey = _figure_to_array(cfig)
    line.set_color("C3")
    red = _figure_to_array(cfig)
    height = grey.shape[0]
    points = ax.transData.transform(np.column_stack([xs, ys]))  # display pixels, origin bottom-left
    px = np.round(points[:, 0]).astype(int)
    py = height - 1 - np.round(points[:, 1]).astype(int)
    columns = np.arange(grey.shape[1])[None, :, None]
    with open_writer(path, fps=FPS) as writer:
        for k in order:
            a, v = frames[k]
            curve = np.where(columns <= px[k], red, grey)
            y0, x0 = int(np.clip(py[k], 3, height - 4)), int(np.clip(px[k], 3, grey.shape[1] - 4))
            curve[y0 - 3 : y0 + 4, x0 - 3 : x0 + 4] = (200, 30, 30)
            row = np.concatenate([_gray(a, a_lo, a_hi), _gray(v, t_lo, t_hi), _gray(target, t_lo, t_hi), curve], axis=1)
            frame = np.concatenate([titles, row], axis=0)
            writer.write_frame(frame)
        for _ in range(int(FPS)):  # hold the last frame a second
            writer.write_frame(frame)
    return path


def _summary(path, expr, param, init, init_label, source, target_label, target, learned, v_init, v_learned, losses, warp_args):
    """The poster's figure: top row operands (init, target source, learned), bottom row their values."""
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(9, 6.6), dpi=100)
    FigureCanvasAgg(fig)
    src_title = "target source" + (f" (warp {warp_args[0]:g}, {warp_args[1]:g}, {warp_args[2]})" if warp_args else "")
    cells = [
        (init, f"init {param}: {init_label}"),
        (source, src_title if source is not None else "(target given directly)"),
        (learned, f"learned {param}"),
        (v_init, f"value(init)  loss {losses[0]:.4g}"),
        (target, f"target: {target_label}"),
        (v_learned, f"value(learned)  loss {losses[-1]:.4g}"),
    ]
    lo, hi = float(target.min()), float(target.max())
    for i, (a, title) in enumerate(cells):
        ax = fig.add_subplot(2, 3, i + 1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)
        if a is None:
            ax.axis("off")
            continue
        kw = {"vmin": lo, "vmax": hi} if i >= 3 else {}
        ax.imshow(a, cmap="gray", interpolation="nearest", **kw)
    fig.suptitle(f"fit {param}:  {expr}\n{len(losses) - 1} Adam steps, loss {losses[0]:.4g} → {losses[-1]:.4g}", fontsize=9)
    fig.savefig(path, format="png")



@dataclass(frozen=True)
class FitSpec:
    """A fit as a scene script's ``build()`` result: ``matviz gallery`` runs it into
    ``gallery/NAME/`` (the arguments of ``fit`` except the run directory and its flags)."""

    expr: str
    param: str = "A"
    init: object = None
    target: object = None
    target_of: object = None
    warp: object = None
    others: tuple = ()  # (name, spec) pairs
    steps: int = 500
    lr: float = 0.01
    seed: int = 0
    tol: float = 0.0
    resize: object = None

    suffixes = ("/",)  # a run folder: summary.png, fit.mp4, loss.csv, the learned operand, fit.json

    def write(self, out, stem: str, note=None, progress=None) -> list[Path]:  # the Output protocol
        """Run the fit into ``out/stem/`` and return what it holds."""
        folder = Path(out) / stem
        self.run(folder, note)
        return sorted(folder.iterdir())

    def audit(self, sizes=None) -> list:
        """Nothing to audit: a fit's pictures are matplotlib figures of its results, not frames of a scene."""
        return []

    def run(self, out, note=None) -> FitResult:
        """Run the fit into ``out`` from scratch and drop its checkpoint (a gallery keeps results)."""
        result = fit(
            self.expr, self.param, self.init, self.target, target_of=self.target_of, warp=self.warp,
            others=dict(self.others), steps=self.steps, lr=self.lr, seed=self.seed, tol=self.tol,
            checkpoint_every=self.steps, out=out, force=True, resize=self.resize, note=note,
        )
        for leftover in Path(out).glob("checkpoint*"):
            leftover.unlink()
        return result
