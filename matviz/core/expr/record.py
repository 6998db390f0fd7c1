"""The record the renderer draws: an expression's value and its products (cubes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from matviz.core.values import Stage

__all__ = ["Evaluation", "Product", "Term", "Value"]

Value = Union[np.ndarray, float]  # a (m, n) float64 matrix or a number


@dataclass(frozen=True)
class Term:
    """One operand of a product."""

    label: str  # the operand's source text, e.g. "Q", "K.T", "softmax(A, rows)"
    values: np.ndarray  # (r, c) float64
    source: int | None  # index into Evaluation.products of the product whose staged result this is
    # steps from the source's staged result face to ``values`` that this use alone takes (the
    # source is a shared node whose other uses differ); () when values is the face's last stage
    stages: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class Product:
    """One ``@``: one cube."""

    left: Term
    right: Term
    values: np.ndarray  # (m, n) = left.values @ right.values
    label: str  # source text of the whole @ expression, e.g. "Q @ K.T"
    stages: tuple[Stage, ...]  # unary steps applied to this result before it is used
    span: tuple[int, int]  # columns of the @ node in the text


@dataclass(frozen=True)
class Evaluation:
    """The value of an expression and the products (cubes) that make it."""

    text: str
    value: Value  # the final result
    products: tuple[Product, ...]  # evaluation order: an operand's source product comes before its user
    names: tuple[str, ...]  # env names the expression used, in order of first use (plus "d" if defaulted)
    d: float | None  # the value used for d if it was defaulted, else None
    bindings: tuple[str, ...] = ()  # names bound by let / NAME = ...; in the expression, in order
