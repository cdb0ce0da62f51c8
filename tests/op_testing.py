"""The shared pieces of the op property tests: a Case per op, strategies for op shapes, references.

The op table of the tests is assembled in test_ops.py from OP_CASES there (the first ops)
and ``CASES`` of each ``op_cases_<family>.py`` module beside it; a family module may also
list ``SECOND_ORDER`` ops and ``NUMPY_CALLS`` (how to call a NumPy function that needs more
than arrays, for test_numpy_routing's enumeration).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from strategies import arrays, axes_for, broadcastable_arrays, shapes


class Case(NamedTuple):
    function: Any  # takes Tensors, returns a Tensor
    inputs: list  # float64 arrays
    reference: Any  # the same computation in plain NumPy
    rtol: float = 1e-4  # for the gradient check


def unary(op: Any, reference: Any, elements: Any = None) -> st.SearchStrategy[Case]:
    return st.builds(lambda x: Case(op, [x], reference), arrays(shapes, elements))


def binary(op: Any, reference: Any, first: Any = None, second: Any = None) -> st.SearchStrategy[Case]:
    return st.builds(lambda xs: Case(op, xs, reference), broadcastable_arrays(elements_list=[first, second]))


def reduction(op: Any, reference: Any, distinct: bool = False) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        x = draw(arrays(shapes, unique=distinct))
        if distinct:  # max/min have a kink at ties: keep values apart by more than the step h
            assume(x.size < 2 or np.min(np.diff(np.sort(x, axis=None))) > 1e-2)
        axis, keepdims = draw(axes_for(x.ndim)), draw(st.booleans())
        return Case(
            lambda t: op(t, axis=axis, keepdims=keepdims), [x], lambda a: reference(a, axis=axis, keepdims=keepdims)
        )

    return build()


def along_axis(op: Any, reference: Any) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: Any) -> Case:
        x = draw(arrays(hnp_shapes_at_least_1d))
        axis = draw(st.integers(-x.ndim, x.ndim - 1))
        return Case(lambda t: op(t, axis=axis), [x], lambda a: reference(a, axis=axis))

    return build()


hnp_shapes_at_least_1d = shapes.filter(lambda s: len(s) >= 1)


def np_softmax(a: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_logsumexp(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))


def weighted_sum(function: Any) -> Any:
    """Reduce an op's output to a scalar with fixed random weights, so every output element matters."""
    weights: dict[tuple, np.ndarray] = {}

    def scalar(*tensors: Any) -> Any:
        out = function(*tensors)
        if out.shape not in weights:
            weights[out.shape] = np.random.default_rng(len(out.shape)).uniform(0.5, 1.5, out.shape)
        return (out * weights[out.shape]).sum()

    return scalar


def projected_gradient(case: Case) -> Any:
    """A random projection of the gradient of ``weighted_sum(case.function)``: its gradient is a Hessian-vector
    product in which every element of the Hessian matters (the second-order tests differentiate it)."""
    import autograd_lite as ag

    first = weighted_sum(case.function)
    directions = [np.random.default_rng(i).uniform(-1, 1, x.shape) for i, x in enumerate(case.inputs)]
    argnums = tuple(range(len(case.inputs)))

    def projected(*tensors: Any) -> Any:
        gradients = ag.grad(first, argnums=argnums)(*tensors)
        return ag.sum(ag.stack([ag.sum(g * d) for g, d in zip(gradients, directions)]))

    return projected
