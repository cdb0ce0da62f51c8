"""Rules in the learner's terms: every op's rule with the tensors' names, and with the numbers that are checked."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.teaching.expression import RefusedError, evaluate_expression
from autograd_lite.teaching.notation import named_rule, plugged_rule, pretty

PER_INPUT = [op for op in ag.OP_TABLE if op.formulas and "{i}" not in op.arguments[0]]


def takes_only_inputs(op: type[ag.Node]) -> bool:
    """Whether the op's forward runs on its inputs alone (no dtype=, slope=, ...)."""
    try:
        with np.errstate(all="ignore"):
            op.forward(*[np.array(0.5)] * len(op.formulas))
    except TypeError:
        return False
    return True


ELEMENTWISE = [op for op in PER_INPUT if op.category == "elementwise" and takes_only_inputs(op)]
LABELS = ("u1", "w2", "z3")


def identifiers(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w.])[A-Za-z_]\w*", text))


@pytest.mark.parametrize("op", PER_INPUT, ids=lambda op: op.__name__)
def test_every_rule_names_the_tensors_instead_of_the_arguments(op) -> None:
    for index in range(len(op.formulas)):
        named = named_rule(op, index, LABELS[: max(len(op.formulas), 1)])
        arguments = set(op.arguments[: len(op.formulas)]) - identifiers(op.function_name())
        assert not (identifiers(named) & arguments), named
        assert f"/d{LABELS[index]}" in named or f"d/d{LABELS[index]} " in named


def test_the_sigmoid_steps_read_as_a_textbook_writes_them() -> None:
    Div, Sigmoid = ag.OP_TABLE[3], next(op for op in ag.OP_TABLE if op.__name__ == "Sigmoid")
    assert named_rule(Div, 1, ["1", "v3"]) == "d(1/v3)/dv3 = -1/v3**2"
    assert pretty(plugged_rule(Div, 1, [1.0, 1.3678794], {})) == "-1/1.368²"
    assert pretty(plugged_rule(Sigmoid, 0, [1.0], {})) == "σ(1)·(1 - σ(1))"
    assert plugged_rule(Div, 1, [1.0, -2.0], {}) == "-1/(-2)**2"  # a negative number keeps its sign to itself
    assert plugged_rule(Div, 1, [np.ones(2), 2.0], {}) is None  # an array has no single line of numbers


@pytest.mark.parametrize("op", ELEMENTWISE, ids=lambda op: op.__name__)
@pytest.mark.parametrize("values", [(0.7, 1.3, 0.2), (-0.4, 2.5, 3.0), (1.9, -0.6, 0.1)])
def test_the_numbers_plugged_in_are_the_engines_local_derivative(op, values) -> None:
    """Evaluated by the explain command's whitelisting evaluator, each plugged rule gives the vjp of ones."""
    count = len(op.formulas)
    inputs = tuple(np.array(value) for value in values[:count])
    with np.errstate(all="ignore"):
        output = op.forward(*inputs)
        for index in range(count):
            plugged = plugged_rule(op, index, inputs, {}, digits=17)
            if plugged is None:
                continue
            local = float(op.vjp(index, np.ones(()), output, inputs, {}))
            try:
                value = float(evaluate_expression(f"({plugged}) + 0 * unused", {"unused": np.array(0.0)}).data)
            except RefusedError:  # the evaluator knows no conditionals, pi, or functions outside ag.OPS
                unknown = [name for name in re.findall(r"(\w+)\(", plugged) if name not in ag.OPS]
                assert unknown or re.search(r"\b(if|pi)\b", plugged), plugged
                continue
            if np.isfinite(local):
                assert value == pytest.approx(local, rel=1e-9, abs=1e-12), plugged


def test_most_elementwise_rules_are_plain_arithmetic() -> None:
    plain = [op for op in ELEMENTWISE if plugged_rule(op, 0, [np.array(0.5)] * len(op.formulas), {}) is not None]
    assert len(ELEMENTWISE) > 40 and len(plain) > 0.6 * len(ELEMENTWISE)  # the test above checks these


def test_prose_rules_get_no_numbers() -> None:
    Sum = next(op for op in ag.OP_TABLE if op.__name__ == "Sum")
    Power = next(op for op in ag.OP_TABLE if op.__name__ == "Power")
    assert plugged_rule(Sum, 0, [2.0], {}) is None  # "1 for every element"
    assert plugged_rule(Power, 0, [2.0, 3.0], {}) is None  # "(0 where a == b == 0)"
