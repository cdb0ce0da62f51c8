"""Hypothesis strategies shared by every test module (written once, used everywhere)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# The basic strategies live in the library, where the exercises' grader draws from them too.
from autograd_lite.exercises.strategies import arrays, away_from_zero, axes_for, broadcastable_arrays, floats, shapes

__all__ = [
    "arrays", "away_from_zero", "axes_for", "broadcastable_arrays", "floats", "shapes", "matmul_operands",
    "dot_operands", "indices_for", "expressions", "label_pairs",
]  # fmt: skip


@st.composite
def matmul_operands(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Operand shapes np.matmul accepts: 1-D, 2-D and batched N-D (broadcast batch axes)."""
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=2))
    a_shape = draw(st.sampled_from([(k,), batch.input_shapes[0] + (m, k)]))
    b_shape = draw(st.sampled_from([(k,), batch.input_shapes[1] + (k, n)]))
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@st.composite
def dot_operands(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """Operand shapes np.dot accepts with 1-D and 2-D arrays."""
    m, k, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a_shape = draw(st.sampled_from([(k,), (m, k)]))
    b_shape = draw(st.sampled_from([(k,), (k, n)]))
    return draw(arrays(a_shape)), draw(arrays(b_shape))


@st.composite
def indices_for(draw: Any, shape: tuple[int, ...]) -> Any:
    """Basic indices, integer arrays (with repeats) or a boolean mask for ``shape``."""
    kind = draw(st.sampled_from(["basic", "integers", "mask"] if shape else ["basic"]))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    if kind == "integers":
        return draw(hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
    return draw(hnp.arrays(bool, shape))


@st.composite
def expressions(draw: Any, names: tuple[str, ...] = ("x", "y"), max_ops: int = 6) -> tuple[str, Any]:
    """A random expression as (source text, function of a dict name -> Tensor) computing the same thing.

    Built from + - * **2, unary minus, tanh, sin and sigmoid, so values stay bounded; variables
    are often reused, which exercises gradient accumulation. At least one variable appears.
    """
    import autograd_lite as ag

    budget = [draw(st.integers(1, max_ops))]
    used: list[str] = []

    def leaf() -> tuple[str, Any]:
        if draw(st.integers(0, 3)) == 0:
            number = draw(st.sampled_from([0.5, 1, 2, 3]))
            return repr(number), lambda env: number
        name = draw(st.sampled_from(names))
        used.append(name)
        return name, lambda env: env[name]

    def build() -> tuple[str, Any]:
        if budget[0] <= 0:
            return leaf()
        budget[0] -= 1
        kind = draw(st.sampled_from(["+", "-", "*", "**2", "neg", "tanh", "sin", "sigmoid"]))
        if kind in ("+", "-", "*"):
            (left_text, left), (right_text, right) = build(), build()
            operation = {"+": ag.add, "-": ag.sub, "*": ag.mul}[kind]
            return f"({left_text} {kind} {right_text})", lambda env: operation(left(env), right(env))
        text, inner = build()
        if kind == "**2":
            return f"({text})**2", lambda env: ag.power(inner(env), 2)
        if kind == "neg":
            return f"(-{text})", lambda env: ag.neg(inner(env))
        function = getattr(ag, kind)
        return f"{kind}({text})", lambda env: function(inner(env))

    text, function = build()
    if not used:
        name = draw(st.sampled_from(names))
        text, inner = f"({text} + {name})", function
        function = lambda env: ag.add(inner(env), env[name])
    return text, function


@st.composite
def label_pairs(draw: Any, classes: int = 10, max_size: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Two int64 arrays of equal length with values in 0..classes-1: true labels and predictions."""
    size = draw(st.integers(1, max_size))
    labels = hnp.arrays(np.int64, size, elements=st.integers(0, classes - 1))
    return draw(labels), draw(labels)
