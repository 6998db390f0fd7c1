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
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from matviz.errors import ExpressionError, MatvizError, OutputError

__all__ = ["FitResult", "fit", "FRAMES", "CHECKPOINT"]

CHECKPOINT = "checkpoint.pt"
FRAMES = 96  # snapshots of A kept for fit.mp4 (evenly spaced steps)
FPS = 24.0
PANEL = 224  # pixels per image panel in fit.mp4


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
            f"warp {warp!r} is not AMPLITUDE,WAVELENGTH[,AXIS]: write e.g. 8,24 (pixels) or 8,24,cols"
        ) from None
    if not wavelength > 0:
        raise MatvizError(f"the wavelength of the warp must be > 0 pixels (got {wavelength:g}): e.g. 8,24")
    if axis not in ("rows", "cols"):
        raise MatvizError(f"the axis of the warp is {axis!r}: use rows or cols")
    return amplitude, wavelength, axis


def _check_run_dir(out: Path, resume: bool, force: bool) -> None:
    """Fail before anything is written: a file, a non-empty dir without resume/force, unwritable."""
    if resume and force:
        raise MatvizError("--resume continues the run in the directory and --force starts it over: give one")
    if out.exists() and not out.is_dir():
        raise OutputError(f"run directory {out} is a file: choose another -o")
    if out.is_dir() and any(out.iterdir()) and not (resume or force):
        raise OutputError(
            f"run directory {out} is not empty: --resume to continue its run, --force to start over, or choose another -o"
        )
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise OutputError(f"cannot create run directory {out}: {existing} is a file; choose another -o")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"run directory {existing} is not writable: choose another -o")
    probe = existing / f".fit.probe-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"run directory {existing} is not writable ({exc.strerror or exc}): choose another -o") from None


def _atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """``write(tmp)`` to a temp file beside ``path`` (the writers' ``_temp``), renamed to ``path``."""
    from matviz.animate.writers import LIVE_TEMPS, _temp

    tmp = _temp(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        LIVE_TEMPS.discard(tmp)
    return path


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


@contextlib.contextmanager
def _deterministic(torch, seed: int):
    """One thread, deterministic algorithms, seeded; restored afterwards."""
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
    Bad input raises a one-line MatvizError before anything is written."""
    from matviz.core.expr import evaluate
    from matviz.core import transforms as _tf

    started = time.perf_counter()
    notes: list[str] = []

    def say(text: str) -> None:
        if text not in notes:
            notes.append(text)
            if note is not None:
                note(text)

    # ---- validate everything before touching the disk
    if not isinstance(param, str) or not param.isidentifier():
        raise MatvizError(f"the parameter name {param!r} is not a name: e.g. param='A'")
    if init is None:
        raise MatvizError(f"missing the initial value of {param}: give --param {param}=SPEC (e.g. sample:astronaut)")
    if (target is None) == (target_of is None):
        raise MatvizError("give one target: --target SPEC (the values to match) or --target-of SPEC (EXPR's value at SPEC)")
    if warp is not None and target_of is None:
        raise MatvizError("--warp warps the operand of --target-of: give --target-of SPEC too")
    for what, v, ok in (
        ("steps", steps, isinstance(steps, (int, np.integer)) and steps >= 1),
        ("lr", lr, isinstance(lr, (int, float)) and np.isfinite(lr) and lr > 0),
        ("checkpoint_every", checkpoint_every, isinstance(checkpoint_every, (int, np.integer)) and checkpoint_every >= 1),
        ("tol", tol, isinstance(tol, (int, float)) and np.isfinite(tol) and tol >= 0),
    ):
        if not ok:
            raise MatvizError(f"{what} must be {'>= 0' if what == 'tol' else '> 0'}{' (a whole number)' if what in ('steps', 'checkpoint_every') else ''}, got {v!r}")
    steps, checkpoint_every = int(steps), int(checkpoint_every)
    others = dict(others or {})
    if param in others:
        raise MatvizError(f"{param} is the parameter and also given with --set: give it once, as --param {param}=SPEC")
    a0, init_label = _load(init, param, resize)
    if isinstance(a0, float):
        raise MatvizError(f"the parameter {param} must be a matrix, but its initial value {init!r} is a number")
    env = {name: _load(spec, name, resize)[0] for name, spec in others.items()}
    try:
        ev0 = evaluate(expr, {**env, param: a0})
    except ExpressionError as err:
        raise _one_line(err) from None
    if param not in ev0.names:
        raise MatvizError(f"the expression does not use {param}: nothing to fit; name the operand to learn with --param")
    if isinstance(ev0.value, float):
        raise MatvizError(f"the expression's value is a number, not a matrix: fit mode matches a matrix to a target")
    source = None
    warp_args = None
    if target_of is not None:
        source, source_label = _load(target_of, param, resize)
        if isinstance(source, float) or source.shape != a0.shape:
            got = "a number" if isinstance(source, float) else _dims(source.shape)
            raise MatvizError(
                f"--target-of {source_label} is {got} but {param} is {_dims(a0.shape)}: "
                f"EXPR is evaluated at it in {param}'s place, so give the same shape (e.g. --resize)"
            )
        if warp is not None:
            warp_args = _parse_warp(warp)
            source = _tf.warp(source, *warp_args)
        try:
            target_values = np.asarray(evaluate(expr, {**env, param: source}).value, dtype=np.float64)
        except ExpressionError as err:
            raise _one_line(err) from None
        target_label = f"value({source_label}{' warped' if warp_args else ''})"
    else:
        target_values, target_label = _load(target, "target", resize)
        if isinstance(target_values, float):
            raise MatvizError(f"--target {target!r} is a number: give a matrix (a file, sample:NAME, ...)")
    out_shape = np.shape(ev0.value)
    if target_values.shape != out_shape:
        raise MatvizError(
            f"the target is {_dims(target_values.shape)} but {expr} is {_dims(out_shape)} at {param} ({_dims(a0.shape)}): "
            "give a target of the expression's shape (e.g. --resize, or --target-of an operand like the init)"
        )
    out = Path(out).expanduser()
    _check_run_dir(out, resume, force)

    # ---- torch from here on
    import torch

    from matviz.learning.fit_torch import TorchExpression

    texpr = TorchExpression(expr)
    tenv = {k: (v if isinstance(v, float) else torch.from_numpy(v.copy())) for k, v in env.items()}
    if ev0.d is not None:
        tenv["d"] = ev0.d
    target_t = torch.from_numpy(target_values.copy())
    settings = {
        "expr": expr,
        "param": param,
        "shape": list(a0.shape),
        "init": _digest(a0),
        "target": _digest(target_values),
        "others": _digest(*[env[k] for k in sorted(env)]) + ",".join(sorted(env)),
        "steps": steps,
        "lr": float(lr),
        "seed": int(seed),
        "tol": float(tol),
        "checkpoint_every": checkpoint_every,
    }
    schedule = sorted({round(i * steps / (FRAMES - 1)) for i in range(FRAMES)})
    ckpt_path = out / CHECKPOINT

    with _deterministic(torch, int(seed)):
        A = torch.from_numpy(a0.copy()).requires_grad_(True)
        opt = torch.optim.Adam([A], lr=float(lr))
        losses: list[float] = []
        frames: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        start, resumed_from = 0, None
        if resume and ckpt_path.exists():
            state = torch.load(ckpt_path, weights_only=False)
            if state["settings"] != settings:
                diff = [k for k in settings if state["settings"].get(k) != settings[k]]
                raise MatvizError(
                    f"the run in {out} was made with other settings ({', '.join(diff)} differ): "
                    "resume with the same command, or --force to start over"
                )
            with torch.no_grad():
                A.copy_(state["A"])
            opt.load_state_dict(state["optimizer"])
            losses = list(state["losses"])
            frames = dict(state["frames"])
            start = resumed_from = int(state["step"])
            say(f"resuming from the checkpoint at step {start} of {steps}")
        elif resume:
            say(f"no checkpoint in {out}: starting from step 0")
        out.mkdir(parents=True, exist_ok=True)
        _clean_partials(out)

        def save_checkpoint(k: int) -> None:
            state = {
                "settings": settings,
                "step": k,
                "A": A.detach().clone(),
                "optimizer": opt.state_dict(),
                "losses": list(losses),
                "frames": dict(frames),
            }
            _atomic_write(ckpt_path, lambda tmp: torch.save(state, tmp))

        last_good = resumed_from
        stopped = "steps"
        k = start
        while True:
            opt.zero_grad(set_to_none=True)
            value = texpr({**tenv, param: A})
            loss = torch.sqrt(((value - target_t) ** 2).sum())
            lv = float(loss.detach())
            if k == 0 and texpr.notes:
                for text in texpr.notes:
                    say(text)
            if not np.isfinite(lv):
                kept = f"the last good checkpoint (step {last_good}) is kept in {ckpt_path}" if last_good is not None else "no checkpoint was written yet"
                raise FitDiverged(
                    f"the fit diverged: the loss is {lv} at step {k} (after {k} Adam steps); {kept}; lower --lr (now {lr:g})"
                )
            if k < len(losses):
                losses[k] = lv
            else:
                losses.append(lv)
            if k in schedule or lv <= tol or k == steps:
                frames[k] = (A.detach().numpy().astype(np.float32), value.detach().numpy().astype(np.float32))
            done = k == steps or lv <= tol
            if done and k < steps:
                stopped = "tol"
            if k > start and (k % checkpoint_every == 0 or done):
                save_checkpoint(k)
                last_good = k
            if progress is not None:
                progress(k, steps, lv)
            if done:
                break
            loss.backward()
            opt.step()
            k += 1
        if last_good != k:  # e.g. a resumed run that was already finished
            save_checkpoint(k)
        learned = A.detach().numpy().copy()

    if stopped == "tol":
        say(f"stopped early at step {k}: the loss {losses[-1]:.4g} is at most --tol {tol:g}")

    # ---- outputs
    paths = [
        _atomic_write(out / "loss.csv", lambda tmp: _write_losses(tmp, losses)),
        _atomic_write(out / f"{param}.npy", lambda tmp: _save_npy(tmp, learned)),
    ]
    try:
        value_learned = np.asarray(evaluate(expr, {**env, param: learned}).value)
    except ExpressionError:  # out of a function's domain in numpy: use the torch value
        value_learned = frames[k][1]
    try:
        value_init = ev0.value
    except Exception:  # pragma: no cover
        value_init = frames[0][1]
    paths.append(
        _atomic_write(
            out / "summary.png",
            lambda tmp: _summary(
                tmp, expr, param, a0, init_label, source, target_label, target_values, learned,
                np.asarray(value_init), value_learned, losses, warp_args,
            ),
        )
    )
    if video:
        paths.append(_video(out / "fit.mp4", expr, param, frames, target_values, losses, steps))
    info = {
        "expr": expr,
        "param": param,
        "init": init_label,
        "target": target_label,
        "warp": list(warp_args) if warp_args else None,
        "steps_run": k,
        "stopped": stopped,
        "loss_first": losses[0],
        "loss_last": losses[-1],
        "settings": settings,
    }
    paths.append(_atomic_write(out / "fit.json", lambda tmp: tmp.write_text(json.dumps(info, indent=1) + "\n")))
    return FitResult(
        out=out, param=param, A=learned, losses=losses, steps=k, stopped=stopped, resumed_from=resumed_from,
        notes=notes, paths=paths, seconds=time.perf_counter() - started,
    )


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


class _CallableModule(types.ModuleType):
    """``matviz.learning.fit`` is this module and the function at once: importing the submodule rebinds the
    package attribute ``matviz.learning.fit`` to the module, so the module itself calls :func:`fit`."""

    def __call__(self, *args, **kwargs) -> FitResult:
        return fit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


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
