"""Every op of the table compiled: values, gradients, second derivatives and jvps equal eager mode.

Each case is traced at the drawn inputs and then run at the same values shuffled within each
input: the domain stays valid while signs, ties and masks move, so a value the trace froze
into the code (a relu mask, a branch taken) would show as a difference.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from op_testing import projected_gradient, weighted_sum
from test_ops import OP_CASES, SECOND_ORDER

import autograd_lite as ag
from autograd_lite.compiler.trees import flatten

#: Ops whose rules branch on the values in Python: compile refuses them with its message (for some shapes
#: only, for some), never computes them wrong; every other op must compile. Enumerated.
BRANCHING = {"average", "det", "nanmean", "prod", "norm", "eigh", "eigvalsh", "svd", "svdvals"}
BRANCHING_SECOND = BRANCHING
BRANCHING_JVP = BRANCHING


def shuffled(arrays: list[np.ndarray], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.permutation(x.ravel()).reshape(x.shape) for x in arrays]


def eager_or_skip(function: Any, inputs: list[np.ndarray]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return function(*inputs)
        except (ValueError, np.linalg.LinAlgError):
            assume(False)


def assert_same(compiled: Any, eager: Any) -> None:
    flat_c, flat_e = flatten(compiled)[0], flatten(eager)[0]
    assert len(flat_c) == len(flat_e)
    for c, e in zip(flat_c, flat_e):
        c, e = np.asarray(getattr(c, "data", c)), np.asarray(getattr(e, "data", e))
        assert c.shape == e.shape and c.dtype == e.dtype
        np.testing.assert_allclose(c, e, rtol=1e-12, atol=1e-12)


def check_compiled(transform: Any, inputs: list[np.ndarray], may_refuse: bool) -> None:
    compiled = ag.compile(transform)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compiled(*inputs)
        except TypeError as refusal:
            if may_refuse and "cannot see which way a branch on the data goes" in str(refusal):
                return
            raise
    for seed in (1, 2):
        moved = shuffled(inputs, seed)
        expected = eager_or_skip(transform, moved)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert_same(compiled(*moved), expected)
    assert compiled.cache_info().misses == 1


@pytest.mark.parametrize("name", sorted(OP_CASES))
@settings(max_examples=2)
@given(data=st.data())
def test_compiled_value_and_gradient_equal_eager(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    argnums = tuple(range(len(case.inputs)))
    check_compiled(ag.value_and_grad(weighted_sum(case.function), argnums=argnums), case.inputs, name in BRANCHING)


@pytest.mark.parametrize("name", sorted(set(SECOND_ORDER)))
@settings(max_examples=1)
@given(data=st.data())
def test_compiled_second_derivatives_equal_eager(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    argnums = tuple(range(len(case.inputs)))
    check_compiled(ag.grad(projected_gradient(case), argnums=argnums), case.inputs, name in BRANCHING_SECOND)


@pytest.mark.parametrize("name", sorted(OP_CASES))
@settings(max_examples=1)
@given(data=st.data())
def test_compiled_jvp_equals_eager(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    scalar = weighted_sum(case.function)
    directions = tuple(np.random.default_rng(7 + i).uniform(-1, 1, x.shape) for i, x in enumerate(case.inputs))
    check_compiled(lambda *xs: ag.jvp(scalar, xs, directions), case.inputs, name in BRANCHING_JVP)


REFUSED_CASES = [  # one case each that must be refused, with the message
    ("det", lambda a: ag.det(a), np.eye(2) * 2),
    ("nanmean", lambda a: ag.nanmean(a), np.arange(3.0)),
]


@pytest.mark.parametrize(("name", "function", "x"), REFUSED_CASES, ids=[case[0] for case in REFUSED_CASES])
def test_ops_whose_rules_branch_on_the_values_are_refused(name: str, function: Any, x: np.ndarray) -> None:
    compiled = ag.compile(ag.grad(lambda a: ag.sum(function(a))))
    with pytest.raises(TypeError, match="cannot see which way a branch on the data goes.*ag.where"):
        compiled(x)
