"""The torch half of ``matviz digits``: train three small classifiers of the 8×8 digits on the CPU
and refine inputs with frozen weights (Adam, as fit mode does).

* ``"linear"``: one fully connected layer, 64 → 10 (no activation: the logits are W x + b);
* ``"selu"``: five fully connected layers, four square 64 → 64 each followed by SELU, then 64 → 10.
  Square layers with SELU (a bijection of R onto (−λα, ∞)) keep every hidden layer invertible, as
  in the paper; only the last layer (10×64) loses information (its null space);
* ``"cnn"``: conv 3×3 (1 → ``CNN_CHANNELS`` channels, padding 1), ReLU, 2×2 max-pool, 64·… → 10.

Everything runs in float64, on one thread, with torch's deterministic algorithms and a fixed seed
(``matviz.learning.fit.deterministic``): the same seed gives the same weights. The numpy side
(``matviz.learning.digits``) gets the weights as arrays and does the linear algebra.
"""

from __future__ import annotations

import numpy as np

from matviz.learning.fit import deterministic

KINDS = ("linear", "selu", "cnn")
HIDDEN = 4  # square SELU layers before the 64 → 10 output layer
CNN_CHANNELS = 6  # 6 kernels of 3×3 = 9 pixels: rank ≤ 6, so 3 kernels' worth of patterns are rejected
EPOCHS = {"linear": 150, "selu": 100, "cnn": 150}  # full-batch Adam steps
LR = {"linear": 0.05, "selu": 0.001, "cnn": 0.01}
# The SELU net is trained gently and without weight decay so that it stays invertible in practice:
# weight decay shrinks the weights of pixels that are always 0 (the border) towards 0 (σ_min of
# layer 1 ~1e-6), and a longer, faster training saturates SELU (outputs at its floor −λα, where
# SELU⁻¹ is ill-conditioned). Measured (seed 0): inverting the hidden layers then gives x back to
# ~1e-9 instead of ~1e3.
WEIGHT_DECAY = {"linear": 1e-4, "selu": 0.0, "cnn": 1e-4}


def _net(kind: str, torch):
    nn = torch.nn
    if kind == "linear":
        return nn.Sequential(nn.Linear(64, 10))
    if kind == "selu":
        layers = []
        for _ in range(HIDDEN):
            layers += [nn.Linear(64, 64), nn.SELU()]
        return nn.Sequential(*layers, nn.Linear(64, 10))
    if kind == "cnn":
        return nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),
            nn.Conv2d(1, CNN_CHANNELS, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(CNN_CHANNELS * 16, 10),
        )
    raise ValueError(f"unknown network kind {kind!r}: use one of {', '.join(KINDS)}")


class Trained:
    """A trained network: ``net`` (torch, float64, frozen) and its training losses."""

    def __init__(self, kind: str, net, losses: list[float]):
        self.kind, self.net, self.losses = kind, net, losses

    def logits(self, X: np.ndarray) -> np.ndarray:
        """(N, 10) outputs for (N, 64) images (pixels in [0, 1])."""
        import torch

        with torch.no_grad():
            return self.net(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))).numpy()

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.logits(X).argmax(axis=1) == y))

    def dense_layers(self) -> list[tuple[np.ndarray, np.ndarray, bool]]:
        """``(W (out, in), b, selu_after)`` of each Linear in order (fully connected nets)."""
        import torch

        mods = list(self.net)
        out = []
        for i, m in enumerate(mods):
            if isinstance(m, torch.nn.Linear):
                selu = i + 1 < len(mods) and isinstance(mods[i + 1], torch.nn.SELU)
                out.append((m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy(), selu))
        return out

    def conv_kernels(self) -> np.ndarray:
        """(channels, 3, 3): the first convolution's kernels (one input channel)."""
        import torch

        conv = next(m for m in self.net if isinstance(m, torch.nn.Conv2d))
        return conv.weight.detach().numpy()[:, 0].copy()


def train(kind: str, X: np.ndarray, y: np.ndarray, *, seed: int = 0, epochs: int | None = None) -> Trained:
    """Full-batch Adam on cross-entropy: (N, 64) images in [0, 1], labels 0..9."""
    import torch

    steps = EPOCHS[kind] if epochs is None else int(epochs)
    with deterministic(torch, seed):
        net = _net(kind, torch).double()
        opt = torch.optim.Adam(net.parameters(), lr=LR[kind], weight_decay=WEIGHT_DECAY[kind])
        xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float64))
        yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
        losses = []
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(xt), yt)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
    for p in net.parameters():
        p.requires_grad_(False)
    net.eval()
    return Trained(kind, net, losses)


def refine(trained: Trained, x0: np.ndarray, targets: np.ndarray, *, steps: int = 300, lr: float = 0.01,
           seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train the inputs with frozen weights: minimize ``‖f(x_i) − target_i‖`` (Euclidean) over each
    row x_i of ``x0`` (N, 64) with Adam, all rows at once (Adam acts entry by entry and the loss is
    a sum over rows, so this is N independent fits). Returns the refined inputs (N, 64) and the
    losses (steps + 1, N): row k after k steps."""
    import torch

    with deterministic(torch, seed):
        x = torch.from_numpy(np.array(x0, dtype=np.float64)).requires_grad_(True)
        t = torch.from_numpy(np.asarray(targets, dtype=np.float64))
        opt = torch.optim.Adam([x], lr=lr)
        history = []
        for k in range(steps + 1):
            opt.zero_grad(set_to_none=True)
            each = torch.sqrt(((trained.net(x) - t) ** 2).sum(dim=1))
            history.append(each.detach().numpy().copy())
            if k == steps:
                break
            each.sum().backward()
            opt.step()
        return x.detach().numpy().copy(), np.array(history)


__all__ = ["KINDS", "Trained", "train", "refine"]
