"""Hypothesis strategies shared by the engine's property tests and the exercises' grader.

The op property tests (``tests/strategies.py`` re-exports these) and ``autograd-lite exercise
check`` draw shapes and values the same way, so a learner's backward meets exactly the inputs
the engine's own op is tested on: 0-d to 3-d shapes with small sides, broadcasting shapes,
reduction axes, values in an op's domain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: Shapes from 0-d up to 3-d with small sides (size-1 axes included).
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def floats(low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[float]:
    """Finite float64 values in [low, high]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


def away_from_zero(low: float = 0.2, high: float = 3.0) -> st.SearchStrategy[float]:
    """Values with low <= |x| <= high, either sign (for ops with a kink or pole at 0)."""
    return st.builds(
        lambda magnitude, negative: -magnitude if negative else magnitude, floats(low, high), st.booleans()
    )


def arrays(shape: Any, elements: st.SearchStrategy[float] | None = None, unique: bool = False) -> st.SearchStrategy:
    """float64 arrays of ``shape`` (a tuple or a strategy of tuples)."""
    return hnp.arrays(np.float64, shape, elements=floats() if elements is None else elements, unique=unique)


@st.composite
def broadcastable_arrays(draw: Any, count: int = 2, elements: Any = None, elements_list: Any = None) -> list:
    """``count`` arrays whose shapes broadcast together (like NumPy's rules allow)."""
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=count, min_dims=0, max_dims=3, min_side=1, max_side=3))
    element_strategies = elements_list or [elements] * count
    return [draw(arrays(shape, element_strategies[i])) for i, shape in enumerate(drawn.input_shapes)]


@st.composite
def axes_for(draw: Any, ndim: int) -> Any:
    """None, a single (possibly negative) axis, or a tuple of distinct axes valid for ``ndim``."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return draw(hnp.valid_tuple_axes(ndim, min_size=1))
