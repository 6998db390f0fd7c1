"""The named transforms (CLI --left-transform / mv.transform) are shorthands for expressions:
evaluated by core/expr, bit-identical to core/ops, names and kinds as before."""

from __future__ import annotations

import numpy as np
import pytest

from matviz.core import expr, ops
from matviz.core.operand import TRANSFORMS, Operand, transform, transform_expression
from matviz.errors import OptionError, ValueProblem

RNG = np.random.default_rng(3)
IMAGE = Operand("moon", RNG.random((9, 7)), "image")  # photograph-like, in [0, 1]
SIGNED = Operand("S", RNG.standard_normal((6, 8)) * 4.0, "signed")
TEMPERATURES = (1.0, 0.25, 0.1 + 0.2, 3.7, 1e-3)  # 0.1 + 0.2 has no short decimal form

ORACLE = {  # today's implementation: one core.ops call per transform
    "minmax": lambda x, t: ops.minmax(x),
    "signed": lambda x, t: ops.signed_minmax(x),
    "softmax-rows": lambda x, t: ops.softmax(x, "rows", t),
    "softmax-cols": lambda x, t: ops.softmax(x, "cols", t),
    "ynorm-rows": lambda x, t: ops.generalized_normalize(x, "y+1", "rows"),
    "ynorm-cols": lambda x, t: ops.generalized_normalize(x, "y+1", "cols"),
}


def test_every_transform_has_an_oracle():
    assert set(ORACLE) | {"none"} == set(TRANSFORMS)


@pytest.mark.parametrize("how", sorted(ORACLE))
@pytest.mark.parametrize("t", TEMPERATURES)
def test_transform_is_bit_identical_to_core_ops(how, t):
    ops_to_try = [IMAGE] if how.startswith("ynorm") else [IMAGE, SIGNED]  # y+1 needs values >= -1
    for op in ops_to_try:
        out = transform(op, how, t)
        want = ORACLE[how](op.values, t)
        assert out.values.dtype == np.float64 and out.values.shape == op.shape
        assert np.array_equal(out.values, want), (how, t, op.name)


@pytest.mark.parametrize("how", sorted(ORACLE))
def test_transform_is_the_expression_it_names(how):
    """The same snippet typed as an expression gives the same matrix: one implementation."""
    text = transform_expression(how)
    value = expr.evaluate(text, {"X": IMAGE.values, "T": 0.25}).value
    assert np.array_equal(transform(IMAGE, how, 0.25).values, value)


def test_transform_expressions_are_written_in_the_expression_language():
    assert transform_expression("none") == "X"
    assert transform_expression("minmax") == "normalize(X)"
    assert transform_expression("signed") == "signed(X)"
    assert transform_expression("softmax-rows") == "softmax(X, rows, temperature=T)"
    assert transform_expression("softmax-cols") == "softmax(X, cols, temperature=T)"
    assert transform_expression("ynorm-rows") == 'norm(X, "y+1", rows)'
    assert transform_expression("ynorm-cols") == 'norm(X, "y+1", cols)'
    for how in TRANSFORMS:
        expr.parse(transform_expression(how))  # valid in the grammar


def test_transform_goes_through_the_expression_evaluator(monkeypatch):
    seen = []
    real = expr.evaluate
    monkeypatch.setattr(expr, "evaluate", lambda text, env: seen.append(text) or real(text, env))
    transform(IMAGE, "softmax-cols", 0.5)
    transform(IMAGE, "signed")
    assert seen == ["softmax(X, cols, temperature=T)", "signed(X)"]


@pytest.mark.parametrize(
    "how, t, name",
    [
        ("softmax-rows", 0.25, "softmax(moon,rows,T=0.25)"),
        ("softmax-cols", 1.0, "softmax(moon,cols)"),
        ("ynorm-rows", 0.25, "ynorm(moon,rows)"),
        ("ynorm-cols", 1.0, "ynorm(moon,cols)"),
        ("minmax", 0.25, "minmax(moon)"),
        ("signed", 1.0, "signed(moon)"),
    ],
)
def test_names_are_unchanged(how, t, name):
    assert transform(IMAGE, how, t).name == name


def test_kinds_are_unchanged():
    assert transform(IMAGE, "none") is IMAGE
    for how in ("minmax", "softmax-rows", "softmax-cols", "ynorm-rows", "ynorm-cols"):
        assert transform(IMAGE, how).kind == "image"  # a normalized photograph stays a photograph
    assert transform(IMAGE, "signed").kind == "signed"
    assert transform(SIGNED, "minmax").kind == "nonneg"
    assert transform(SIGNED, "softmax-rows").kind == "nonneg"


@pytest.mark.parametrize("t", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_temperature_names_the_temperature(t):
    with pytest.raises(ValueProblem, match="temperature must be a finite number > 0"):
        transform(IMAGE, "softmax-rows", t)


def test_expression_errors_speak_of_the_transform_not_of_a_hidden_expression():
    with pytest.raises(ValueProblem) as info:
        transform(SIGNED, "ynorm-rows")
    message = str(info.value)
    assert message.startswith("ynorm-rows of S: f(x) is negative")
    assert "\n" not in message and "X" not in message and "^" not in message


def test_unknown_transform_names_the_choices():
    with pytest.raises(OptionError) as info:
        transform(IMAGE, "softmax-row")  # not a transform (was silently accepted through a loose axis word)
    assert all(t in str(info.value) for t in TRANSFORMS)
