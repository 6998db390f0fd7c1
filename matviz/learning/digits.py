"""The paper's experiment ("Understanding Neural Network Systems for Image Analysis using Vector
Spaces", issue 12 §3–4) on scikit-learn's 8×8 digits, offline: ``matviz digits -o DIR``.

Data: ``sklearn.datasets.load_digits`` (1,797 images, pixels 0..16 scaled to [0, 1]), split 75/25
stratified with the seed. Three networks are trained on the CPU in seconds (``matviz.learning.fit_digits``):
one fully connected layer 64 → 10, five layers with SELU (four square 64 → 64, then 64 → 10) and a
small CNN. Then, in numpy (``matviz.core.subspaces``):

* the weight rows of the 1-layer net as 8×8 images, its signal space (the rows of Vᵀ above the
  rank tolerance) and that of the SELU net's first layer, every layer's condition number σ₁/σᵣ;
* the residual x − P·x of each class's average training digit under the 1-layer net (P the
  projector onto W's row space): the part of the image the layer cannot see, and the energy split;
* the CNN's first-layer 3×3 kernels, its signal kernels and the kernels it rejects (null space);
* inputs for ideal outputs (the SELU net): for class c the ideal output y*_c has the maximum over
  the training set of output c at c and the minimum over the training set of output j at j ≠ c.
  Starting images: avg-img (the class's mean training image), min-img (the training image of the
  class whose output is nearest y*_c), avg-min-img (the mean of the class's training images whose
  distance to y*_c is within the lowest 25th percentile); each is refined by Adam on the input
  with frozen weights (loss ‖f(x) − y*_c‖). And the layer-by-layer inversion of y*_c: pinv of the
  last layer, then SELU⁻¹ and the inverse of each square layer.

``DIR`` gets weights.png, signal_space.png, residuals.png, conv_kernels.png, ideal_inputs.png
(sheets drawn by ``matviz.learning.sheets``) and digits.json (the numbers), each written atomically.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from matviz.animate.writers import atomic_write, check_output_dir
from matviz.errors import MatvizError, MissingDependency, install_hint, param

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_FLOOR = -SELU_LAMBDA * SELU_ALPHA  # SELU maps R onto (floor, ∞)
PERCENTILE = 25  # avg-min-img: the class's images within this lowest percentile of distance
STEPS, LR = 300, 0.01  # refinement of the ideal inputs
FIGURES = ("weights", "signal_space", "residuals", "conv_kernels", "ideal_inputs")
KINDS = ("avg-img", "min-img", "avg-min-img")
SHAPE = (8, 8)


# ---------------------------------------------------------------- data


def load(seed: int = 0):
    """``(X_train, X_test, y_train, y_test)``: 8×8 digits as (N, 64) rows in [0, 1]."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise MissingDependency(
            f"matviz digits needs scikit-learn (its 8x8 digits ship offline): {install_hint('digits')}"
        ) from None
    d = load_digits()
    X = d.data.astype(np.float64) / 16.0
    return train_test_split(X, d.target, test_size=0.25, random_state=seed, stratify=d.target)


# ---------------------------------------------------------------- layers in numpy


def selu(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    return SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def selu_inverse(h: np.ndarray, eps: float = 1e-9) -> tuple[np.ndarray, int]:
    """SELU⁻¹ and how many entries were at or below SELU's floor −λα (outside its range: clipped
    to just above it, where SELU⁻¹ is about log(eps))."""
    h = np.asarray(h, dtype=np.float64)
    low = h <= SELU_FLOOR * (1 - eps)
    hc = np.where(low, SELU_FLOOR * (1 - eps), h)
    z = np.where(hc > 0, hc / SELU_LAMBDA, np.log1p(np.minimum(hc, 0.0) / (SELU_LAMBDA * SELU_ALPHA)))
    return z, int(low.sum())


def forward(layers, X: np.ndarray, upto: int | None = None) -> np.ndarray:
    """Rows of ``X`` through ``layers`` (``(W, b, selu_after)``), the first ``upto`` layers only if given."""
    h = np.asarray(X, dtype=np.float64)
    for W, b, act in layers[:upto]:
        h = h @ W.T + b
        if act:
            h = selu(h)
    return h


def invert(layers, Y: np.ndarray) -> tuple[np.ndarray, int]:
    """Layer by layer from the outputs back to an input: SELU⁻¹, minus the bias, times the
    pseudo-inverse (the inverse of a square full-rank layer; of the 10×64 output layer, the
    minimum-norm preimage, which lies in its signal space). Returns the inputs and how many
    entries SELU⁻¹ had to clip."""
    from matviz.core.subspaces import subspaces

    h = np.asarray(Y, dtype=np.float64)
    clipped = 0
    for W, b, act in reversed(layers):
        if act:
            h, n = selu_inverse(h)
            clipped += n
        h = (h - b) @ subspaces(W).pinv.T
    return h, clipped


# ---------------------------------------------------------------- ideal outputs


def ideal_outputs(logits_train: np.ndarray) -> np.ndarray:
    """(10, 10): row c is y*_c: max over the training set of output c at c, min of output j at j ≠ c."""
    lo, hi = logits_train.min(axis=0), logits_train.max(axis=0)
    ideal = np.tile(lo, (len(lo), 1))
    ideal[np.arange(len(lo)), np.arange(len(lo))] = hi
    return ideal


def starting_images(X: np.ndarray, y: np.ndarray, logits: np.ndarray, ideal: np.ndarray) -> dict[str, np.ndarray]:
    """avg-img, min-img and avg-min-img for each class (each (10, 64)) from the training set."""
    out = {k: np.zeros((len(ideal), X.shape[1])) for k in KINDS}
    for c in range(len(ideal)):
        Xc = X[y == c]
        dist = np.linalg.norm(logits[y == c] - ideal[c], axis=1)
        out["avg-img"][c] = Xc.mean(axis=0)
        out["min-img"][c] = Xc[np.argmin(dist)]
        out["avg-min-img"][c] = Xc[dist <= np.percentile(dist, PERCENTILE)].mean(axis=0)
    return out


# ---------------------------------------------------------------- the experiment


@dataclass
class Experiment:
    """What ``experiment`` computes: the trained nets, their accuracies and the analyses."""

    seed: int
    nets: dict  # kind -> fit_digits.Trained
    accuracy: dict  # kind -> {"train": .., "test": ..}
    layers: dict  # "linear"/"selu" -> [(W, b, selu_after)]
    class_means: np.ndarray  # (10, 64)
    ideal: np.ndarray  # (10, 10)
    starts: dict  # kind -> (10, 64)
    refined: dict  # kind -> (10, 64)
    losses: dict  # kind -> (steps + 1, 10)
    inverted: np.ndarray  # (10, 64)
    inverted_loss: np.ndarray  # (10,)
    clipped: int
    steps: int
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        from matviz.core.subspaces import subspaces

        layers = {}
        for kind, ls in self.layers.items():
            layers[kind] = []
            for i, (W, _, act) in enumerate(ls):
                s = subspaces(W)
                layers[kind].append({"layer": i + 1, "shape": list(W.shape), "rank": s.rank, "selu": act,
                                     "condition_number": s.condition_number, "sigma_1": float(s.singular_values[0]),
                                     "sigma_r": float(s.singular_values[s.rank - 1])})
        k = subspaces(self.nets["cnn"].conv_kernels().reshape(-1, 9))
        return {
            "seed": self.seed,
            "data": "sklearn.datasets.load_digits, 8x8, pixels/16, 75/25 stratified split",
            "accuracy": self.accuracy,
            "layers": layers,
            "conv1": {"kernels": int(k.shape[0]), "rank": k.rank, "condition_number": k.condition_number,
                      "singular_values": [float(v) for v in k.singular_values]},
            "ideal_inputs": {
                "network": "selu",
                "steps": self.steps,
                "loss_start": {kind: [float(v) for v in self.losses[kind][0]] for kind in KINDS},
                "loss_refined": {kind: [float(v) for v in self.losses[kind][-1]] for kind in KINDS},
                "loss_inverted": [float(v) for v in self.inverted_loss],
                "selu_inverse_clipped": self.clipped,
            },
        }  # no wall time here: the same seed gives the same file (the gallery's is what matviz gallery makes)


def experiment(seed: int = 0, steps: int = STEPS, epochs: dict | None = None) -> Experiment:
    """Train the three nets and compute everything the figures show."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:  # torch itself is imported in matviz.learning.fit_digits only
        raise MissingDependency(f"matviz digits needs torch: {install_hint('digits')}")
    from matviz.learning import fit_digits

    started = time.perf_counter()
    Xtr, Xte, ytr, yte = load(seed)
    nets, acc = {}, {}
    for kind in fit_digits.KINDS:
        nets[kind] = fit_digits.train(kind, Xtr, ytr, seed=seed, epochs=(epochs or {}).get(kind))
        acc[kind] = {"train": nets[kind].accuracy(Xtr, ytr), "test": nets[kind].accuracy(Xte, yte)}
    layers = {k: nets[k].dense_layers() for k in ("linear", "selu")}
    means = np.array([Xtr[ytr == c].mean(axis=0) for c in range(10)])
    selu_net = nets["selu"]
    logits = selu_net.logits(Xtr)
    ideal = ideal_outputs(logits)
    starts = starting_images(Xtr, ytr, logits, ideal)
    refined, losses = {}, {}
    for kind in KINDS:
        refined[kind], losses[kind] = fit_digits.refine(selu_net, starts[kind], ideal, steps=steps, lr=LR, seed=seed)
    inverted, clipped = invert(layers["selu"], ideal)
    inv_loss = np.linalg.norm(selu_net.logits(inverted) - ideal, axis=1)
    return Experiment(seed, nets, acc, layers, means, ideal, starts, refined, losses, inverted, inv_loss, clipped,
                      steps, time.perf_counter() - started)


# ---------------------------------------------------------------- figures


def _img(v) -> np.ndarray:
    return np.asarray(v, dtype=np.float64).reshape(SHAPE)


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def figures(ex: Experiment) -> dict:
    """name -> ``sheets.Figure`` of each picture (in ``FIGURES`` order)."""
    draws = (_weights, _signal_space, _residuals, _conv_kernels, _ideal_inputs)
    return {name: draw(ex) for name, draw in zip(FIGURES, draws)}


def _test_accuracy(ex: Experiment, kind: str) -> str:
    return f"{100 * ex.accuracy[kind]['test']:.1f}%"


def _weights(ex: Experiment):
    """The weight rows of the 1-layer net and of the SELU net's first layer, as 8x8 images."""
    from matviz.learning.sheets import Cell, Figure, Scale

    W1 = ex.layers["linear"][0][0]
    selu_rows = ex.layers["selu"][0][0][:10]
    return Figure(
        title=f"Weight rows as 8x8 images (digits, seed {ex.seed}). Row c of the 1-layer net's W scores class c: red pixels "
              "raise it, blue lower it; the SELU net's layer-1 rows feed hidden units.",
        headers=[f"row {c}" for c in range(10)],
        rows=[
            (f"1-layer net W (10x64), test accuracy {_test_accuracy(ex, 'linear')}", [Cell(_img(w), "w1") for w in W1]),
            (f"5-layer SELU net, layer 1 (64x64): rows 0-9, test acc. {_test_accuracy(ex, 'selu')}",
             [Cell(_img(w), "w5") for w in selu_rows]),
        ],
        scales={"w1": Scale.signed("1-layer W: one scale for its 10 rows", W1),
                "w5": Scale.signed("SELU layer 1: one scale for the 10 rows", selu_rows)},
    )


def _signal_space(ex: Experiment):
    """Right singular vectors of the 1-layer net and of the SELU net's first layer, and condition numbers."""
    from matviz.core.subspaces import subspaces
    from matviz.learning.sheets import Cell, Figure, Scale

    s1, S1 = subspaces(ex.layers["linear"][0][0]), subspaces(ex.layers["selu"][0][0])
    conds = "; ".join(
        f"layer {i + 1} ({W.shape[0]}x{W.shape[1]}) {subspaces(W).condition_number:.3g}" for i, (W, _, _) in enumerate(ex.layers["selu"])
    )
    shown = [s1.Vt[:10], S1.Vt[:10], S1.Vt[S1.rank - 10 : S1.rank]]

    def _vec(sub, i):  # right singular vector i as an image, captioned with its index and sigma
        return Cell(_img(sub.Vt[i]), "v", f"v{i + 1}: {sub.singular_values[i]:.2g}")

    return Figure(
        title="Signal space: right singular vectors v_i (rows of Vt) as 8x8 images, captioned v_i: sigma_i. "
              "An input is seen by a layer only through its projection on these.",
        headers=[],
        rows=[
            (f"1-layer net (rank {s1.rank} of 64)", [_vec(s1, i) for i in range(10)]),
            (f"SELU layer 1: top 10 of rank {S1.rank}", [_vec(S1, i) for i in range(10)]),
            ("SELU layer 1: the 10 weakest", [_vec(S1, S1.rank - 10 + i) for i in range(10)]),
        ],
        scales={"v": Scale.signed("unit vectors: one scale for the 30", *shown)},
        notes=[
            f"condition numbers sigma_1/sigma_r: 1-layer net {s1.condition_number:.3g} (rank {s1.rank}); SELU net: {conds}.",
        ],
    )


def _residuals(ex: Experiment):
    """Each class's average digit split by the 1-layer net's projector: what it sees and what it ignores."""
    from matviz.core.subspaces import subspaces
    from matviz.learning.sheets import Cell, Figure, Scale

    s1 = subspaces(ex.layers["linear"][0][0])
    proj = s1.project(ex.class_means.T)  # columns
    parts = (ex.class_means.T, proj.signal, proj.residual)
    scale = Scale.signed("x, P x and x - P x: one scale for all", *parts)
    return Figure(
        title=f"What the 1-layer net ignores: each class's average digit x = P x + (x - P x), P the projector on the "
              f"signal space of W (rank {s1.rank}); W (x - P x) = 0. Under x - P x: its share of |x|^2.",
        headers=[f"class {c}" for c in range(10)],
        rows=[
            ("average digit x", [Cell(_img(parts[0][:, c]), "xr") for c in range(10)]),
            ("signal P x", [Cell(_img(parts[1][:, c]), "xr", _pct(proj.energy.signal[c])) for c in range(10)]),
            ("residual x - P x", [Cell(_img(parts[2][:, c]), "xr", _pct(proj.energy.residual[c])) for c in range(10)]),
        ],
        scales={"xr": scale},
    )


def _conv_kernels(ex: Experiment):
    """The small CNN's first-layer 3x3 kernels, its signal kernels and the patterns it rejects."""
    from matviz.core.subspaces import subspaces
    from matviz.learning.sheets import Cell, Figure, Scale

    K = ex.nets["cnn"].conv_kernels()
    k = subspaces(K.reshape(len(K), 9))
    null = k.null_space.T
    return Figure(
        title=f"Small CNN (test accuracy {_test_accuracy(ex, 'cnn')}): its first convolution's {len(K)} kernels (3x3) read as the rows of a "
              f"{len(K)}x9 matrix: signal kernels (rows of Vt, with sigma) and the 3x3 patterns it rejects (null space).",
        headers=[f"{i + 1}" for i in range(max(len(K), 9 - k.rank))],
        rows=[
            ("kernels", [Cell(kk, "k") for kk in K]),
            ("signal kernels", [Cell(k.Vt[i].reshape(3, 3), "u", f"{k.singular_values[i]:.3g}") for i in range(k.rank)]),
            (f"rejected ({9 - k.rank})", [Cell(v.reshape(3, 3), "u") for v in null]),
        ],
        scales={"k": Scale.signed("kernels: one scale", K), "u": Scale("unit vectors", "signed", -1.0, 1.0)},
        notes=[f"rank {k.rank} of 9, condition number {k.condition_number:.3g}; a 3x3 patch in the rejected "
               "space gives every kernel the response 0."],
        pixels=16,
    )


def _ideal_inputs(ex: Experiment):
    """Fig. 3: the starting images for ideal outputs, refined, and y* inverted layer by layer."""
    from matviz.learning.sheets import Cell, Figure, Scale

    cols = []
    for kind in KINDS:
        cols += [(kind, ex.starts[kind], ex.losses[kind][0]), (f"{kind}, refined", ex.refined[kind], ex.losses[kind][-1])]
    cols.append(("y* inverted (pinv, SELU^-1)", ex.inverted, ex.inverted_loss))
    scales = {}
    for i, (name, imgs, _) in enumerate(cols):
        scales[f"c{i}"] = Scale.gray(f"{name}: its column", imgs)
    return Figure(
        title=f"Inputs for ideal outputs, 5-layer SELU net (test accuracy {_test_accuracy(ex, 'selu')}). Under each image: |f(x) - y*| "
              f"(refined: {ex.steps} Adam steps on the input, weights frozen).",
        headers=["avg-img", "refined", "min-img", "refined", "avg-min-img", "refined", "y* inverted"],
        rows=[(f"class {c}", [Cell(_img(imgs[c]), f"c{i}", f"{loss[c]:.3g}") for i, (_, imgs, loss) in enumerate(cols)])
              for c in range(10)],
        scales=scales,
        notes=[
            "y* of class c: the maximum over the training set of output c at c, the minimum over the training set of "
            "output j at every other j. avg-img: the class's mean training image; min-img: its training image whose "
            f"output is nearest y*; avg-min-img: the mean of its training images within the lowest {PERCENTILE}th "
            "percentile of that distance.",
            f"Inversion: pinv of the 10x64 output layer (the minimum-norm preimage, in its signal space), then SELU^-1 "
            f"and the inverse of each square layer. {ex.clipped} of {len(ex.ideal) * sum(W.shape[0] for W, _, a in ex.layers['selu'] if a)} entries fell at or below "
            "SELU's floor -1.758, where SELU^-1 is undefined, and were clipped: y* is not an output this network "
            "can produce from that preimage, hence the large miss." if ex.clipped else
            "Inversion: pinv of the 10x64 output layer (the minimum-norm preimage, in its signal space), then SELU^-1 "
            "and the inverse of each square layer: exact, nothing clipped.",
        ],
        row_label_width=70,
        pixels=10,
    )


# ---------------------------------------------------------------- writing


def run(out, seed: int = 0, steps: int = STEPS, note: Callable[[str], None] | None = None,
        epochs: dict | None = None) -> tuple[Experiment, list[Path]]:
    """Train, analyse and write the figures and digits.json into ``out``."""
    from matviz.learning import sheets

    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise MatvizError(f"{param('seed')} must be a whole number >= 0, got {seed!r}")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise MatvizError(f"{param('steps')} must be a whole number >= 1, got {steps!r}")
    out = check_output_dir(out)  # before anything is computed or written
    load(seed)  # scikit-learn is there (one line if not) before anything is created
    ex = experiment(int(seed), int(steps), epochs)
    figs = figures(ex)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in FIGURES:
        path = out / f"{name}.png"
        sheets.write(figs[name], path)
        paths.append(path)
    info = ex.summary()
    paths.append(atomic_write(out / "digits.json", lambda tmp: tmp.write_text(json.dumps(info, indent=1) + "\n")))
    if note is not None:
        a = ex.accuracy
        note("test accuracy: " + ", ".join(f"{k} {100 * a[k]['test']:.1f}%" for k in ("linear", "selu", "cnn"))
             + f" (trained and analysed in {ex.seconds:.1f} s)")
    return ex, paths


@dataclass(frozen=True)
class DigitsSpec:
    """``matviz digits`` as an ``Output``: ``write`` writes ``OUT/STEM/``; ``audit`` checks
    the figures' sheets with the posters' flat rules (sizes do not apply), writing nothing."""

    seed: int = 0
    steps: int = STEPS
    suffixes = ("/",)  # a folder of figures and digits.json

    def write(self, out, stem: str, note=None, progress=None) -> list[Path]:
        return run(Path(out) / stem, self.seed, self.steps, note)[1]

    def audit(self, sizes=None) -> list:
        from matviz.graphics.figures import audit
        from matviz.learning.sheets import draw

        figs = figures(experiment(self.seed, self.steps))
        return [audit(draw(figs[name])) for name in FIGURES]


__all__ = ["DigitsSpec", "Experiment", "experiment", "figures", "forward", "ideal_outputs", "invert", "load", "run",
           "selu", "selu_inverse", "starting_images"]
