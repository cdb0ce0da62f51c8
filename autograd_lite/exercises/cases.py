"""How each exercise's inputs are drawn: the strategies of the engine's own op tests, as Cases.

The domains are those of the op table's property tests (``tests/test_ops.py`` OP_CASES):
log on [0.2, 3], sigmoid on [-8, 8], relu away from its kink at 0, divisors away from 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
from autograd_lite.exercises.exercise import Case
from autograd_lite.exercises.strategies import arrays, away_from_zero, axes_for, broadcastable_arrays, floats, shapes


def unary(function: Callable[..., Any], elements: Any = None) -> st.SearchStrategy[Case]:
    """One array of any shape (0-d to 3-d) with values from ``elements``."""
    return st.builds(lambda x: Case((x,), function), arrays(shapes, elements))


def binary(function: Callable[..., Any], first: Any = None, second: Any = None) -> st.SearchStrategy[Case]:
    """Two arrays whose shapes broadcast together."""
    return st.builds(lambda xs: Case(tuple(xs), function), broadcastable_arrays(elements_list=[first, second]))


def reduction(function: Callable[..., Any], elements: Any = None) -> st.SearchStrategy[Case]:
    """An array, an axis (None, an int or a tuple) and keepdims; ties of max make the case not smooth."""

    @st.composite
    def build(draw: Any) -> Case:
        x = draw(arrays(shapes, elements))
        axis, keepdims = draw(axes_for(x.ndim)), draw(st.booleans())
        ties = x.size > 1 and np.min(np.diff(np.sort(x, axis=None))) <= 1e-2
        return Case((x,), lambda t: function(t, axis=axis, keepdims=keepdims), smooth=not ties)

    return build()


#: Few distinct values, so that maxima tie often.
tying_values = st.sampled_from([-1.0, 0.0, 0.5, 2.0])


def along_axis(function: Callable[..., Any], elements: Any = None) -> st.SearchStrategy[Case]:
    """An array of at least one axis and one axis of it."""

    @st.composite
    def build(draw: Any) -> Case:
        x = draw(arrays(shapes.filter(lambda s: len(s) >= 1), elements))
        axis = draw(st.integers(-x.ndim, x.ndim - 1))
        return Case((x,), lambda t: function(t, axis=axis))

    return build()


@st.composite
def matrices(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two matrices of shapes (m, k) and (k, n), as in the affine layer x @ W."""
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    return draw(arrays((m, k))), draw(arrays((k, n)))


def matmul() -> st.SearchStrategy[Case]:
    """2-D operands of a matrix product."""
    return st.builds(lambda ab: Case(ab, ag.matmul), matrices())


@st.composite
def softmax_cross_entropy(draw: Any) -> Case:
    """Logits (rows, classes) with integer labels or a probability distribution per row."""
    logits = draw(arrays(st.tuples(st.integers(1, 4), st.integers(1, 4))))
    rows, classes = logits.shape
    if draw(st.booleans()):
        labels = draw(hnp.arrays(np.int64, (rows,), elements=st.integers(0, classes - 1)))
        return Case((logits,), lambda z: ag.softmax_cross_entropy(z, labels))
    scores = draw(arrays((rows, classes)))
    target = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    return Case((logits,), lambda z: ag.softmax_cross_entropy(z, target))


@st.composite
def repeated_indices(draw: Any) -> Case:
    """An array and an integer index array into its first axis, with repeats."""
    x = draw(arrays(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)))
    index = draw(hnp.arrays(np.intp, st.integers(1, 5), elements=st.integers(0, x.shape[0] - 1)))
    return Case((x,), lambda t: t[index])


def sigmoid_graph() -> st.SearchStrategy[Case]:
    """x for 1/(1 + exp(-x)), any shape."""
    return st.builds(lambda x: Case((x,)), arrays(shapes, floats(-8, 8)))


@st.composite
def two_layer(draw: Any) -> Case:
    """A batch x (N, D), weights and biases of a D-H-C network, and N class labels."""
    n, d, h, c = (draw(st.integers(1, 3)) for _ in range(4))
    parts = tuple(draw(arrays(shape)) for shape in [(n, d), (d, h), (h,), (h, c), (c,)])
    labels = draw(hnp.arrays(np.intp, (n,), elements=st.integers(0, c - 1)))
    return Case(parts, constants={"labels": labels})


def elementwise_edges(function: Callable[..., Any], values: list[float]) -> Callable[[], list[Case]]:
    """Edge values (large magnitudes, zero) as one 1-d case, tried before anything is drawn."""
    return lambda: [Case((np.array(values, dtype=np.float64),), function)]


__all__ = ["away_from_zero", "floats", "tying_values"]


def reduction_edges(function: Callable[..., Any], values: Any = None) -> Callable[[], list[Case]]:
    """Reductions over a middle or trailing axis, where g must be put back on the reduced axes (tried last)."""

    def build() -> list[Case]:
        data = values if values is not None else np.linspace(-1.0, 2.0, 12)
        wide, deep = np.resize(data, (2, 3)), np.resize(data, (2, 3, 2))
        return [
            Case((wide,), lambda t: function(t, axis=1, keepdims=False), smooth=values is None),
            Case((deep,), lambda t: function(t, axis=(0, 2), keepdims=False), smooth=values is None),
            Case((deep,), lambda t: function(t, axis=1, keepdims=True), smooth=values is None),
        ]

    return build


def broadcasting_edges(function: Callable[..., Any], second: float = 0.0) -> Callable[[], list[Case]]:
    """Operands broadcast against each other along leading and size-1 axes (tried last)."""

    def build() -> list[Case]:
        grid = np.linspace(-1.0, 2.0, 6).reshape(2, 3)
        return [
            Case((grid, np.array([0.7, -1.3, 1.1]) + second), function),
            Case((grid[:, :1], np.array([[0.6, -1.2, 0.9]]) + second), function),
        ]

    return build
