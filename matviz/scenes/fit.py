"""Mishka's inverse problem (JuliaCon 2021 poster), learned by autodiff: find A whose value
value(A) = normalize(Xᵀ X), X = normalize(norm(A, "y+1", cols)), equals the value of an
oscillatory warp of the image, starting from the image itself. `matviz gallery` runs it into
gallery/fit/ (summary.png: init, warped source, learned A and their values; fit.mp4: A evolving, its
value, the target and the loss curve; loss.csv; A.npy). As on the poster, the learned A is not the
warped image, but its value matches the target. About 10 s on 2 cores."""

from matviz.learning.fit import FitSpec


def build():
    return FitSpec(
        'let X = normalize(norm(A, "y+1", cols)) in normalize(X.T @ X)',
        param="A",
        init="sample:astronaut",
        target_of="sample:astronaut",
        warp=(8, 24),
        resize=(48, 48),
        steps=300,
        lr=0.01,
        seed=0,
    )
