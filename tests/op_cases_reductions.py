"""Property-test cases of the reductions ops added to the table after the first forty (see op_testing.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_testing import Case, hnp_shapes_at_least_1d, reduction
from strategies import arrays, axes_for, floats, shapes

import autograd_lite as ag

#: Values with exact zeros now and then (prod and cumprod must handle them without dividing).
WITH_ZEROS = st.one_of(st.just(0.0), floats())
#: For running products over up to 36 factors: near 1 in size, so central differences resolve them.
SMALL_WITH_ZEROS = st.one_of(st.just(0.0), floats(-1.2, 1.2))
VECTOR = np.array([0.3, 0.6, 0.8])
MATRIX = np.array([[2.0, 0.5], [0.3, 1.5]])


def apart(x: np.ndarray, gap: float = 1e-2) -> None:
    """Values at least ``gap`` apart: sorting, medians and quantiles have kinks at ties."""
    assume(x.size < 2 or np.min(np.diff(np.sort(x, axis=None))) > gap)


@st.composite
def scan_case(draw: Any, op: Any, reference: Any, elements: Any = None) -> Case:
    x = draw(arrays(shapes, elements))
    axis = None if x.ndim == 0 else draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    return Case(lambda t: op(t, axis=axis), [x], lambda a: reference(a, axis=axis))


@st.composite
def spread_case(draw: Any, op: Any, reference: Any) -> Case:
    x = draw(arrays(shapes, unique=True))
    axis, keepdims, ddof = draw(axes_for(x.ndim)), draw(st.booleans()), draw(st.sampled_from([0, 1]))
    counted = x.size if axis is None else int(np.prod([x.shape[i] for i in np.atleast_1d(axis)]))
    assume(counted > ddof)
    assume(np.all(np.std(x, axis=axis) > 0.1) or counted == 1 and op is ag.var)  # std has a kink at 0
    return Case(
        lambda t: op(t, axis=axis, ddof=ddof, keepdims=keepdims),
        [x],
        lambda a: reference(a, axis=axis, ddof=ddof, keepdims=keepdims),
    )


@st.composite
def average_case(draw: Any) -> Case:
    x = draw(arrays(hnp_shapes_at_least_1d))
    kind = draw(st.sampled_from(["same", "along", "none"]))
    keepdims = draw(st.booleans())
    if kind == "none":
        axis = draw(axes_for(x.ndim))
        return Case(
            lambda t: ag.average(t, axis, keepdims=keepdims), [x], lambda a: np.average(a, axis, keepdims=keepdims)
        )
    axis = draw(axes_for(x.ndim)) if kind == "same" else draw(st.integers(-x.ndim, x.ndim - 1))
    shape = x.shape if kind == "same" else (x.shape[axis],)
    w = draw(arrays(shape, floats(0.2, 2.0)))  # positive: the weights never sum to zero
    call = lambda t, v: ag.average(t, axis, weights=v, keepdims=keepdims)
    return Case(call, [x, w], lambda a, v: np.average(a, axis, weights=v, keepdims=keepdims))


@st.composite
def trace_case(draw: Any) -> Case:
    x = draw(arrays(hnp.array_shapes(min_dims=2, max_dims=3, max_side=4)))
    first, second = draw(st.permutations(range(-x.ndim, 0)).map(lambda p: p[:2]))
    offset = draw(st.integers(-2, 2))
    return Case(lambda t: ag.trace(t, offset, first, second), [x], lambda a: np.trace(a, offset, first, second))


@st.composite
def distinct_reduction(draw: Any, op: Any, reference: Any) -> Case:
    x = draw(arrays(shapes, unique=True))
    apart(x)
    axis, keepdims = draw(axes_for(x.ndim)), draw(st.booleans())
    return Case(lambda t: op(t, axis, keepdims=keepdims), [x], lambda a: reference(a, axis, keepdims=keepdims))


@st.composite
def quantile_case(draw: Any, op: Any, reference: Any, scale: float) -> Case:
    x = draw(arrays(shapes, unique=True))
    apart(x)
    axis, keepdims = draw(axes_for(x.ndim)), draw(st.booleans())
    q = draw(st.one_of(floats(0.0, 1.0), arrays(st.sampled_from([(2,), (2, 1)]), floats(0.0, 1.0)))) * scale
    call = lambda t: op(t, q, axis, keepdims=keepdims)
    return Case(call, [x], lambda a: reference(a, q, axis, keepdims=keepdims))


@st.composite
def nan_case(draw: Any, op: Any, reference: Any) -> Case:
    x = draw(arrays(shapes))
    holes = draw(hnp.arrays(bool, x.shape))
    x = np.where(holes, np.nan, x)
    axis, keepdims = draw(axes_for(x.ndim)), draw(st.booleans())
    assume(np.all(np.sum(~np.isnan(x), axis=axis) > 0))  # nanmean of only nan is nan (and warns)
    return Case(lambda t: op(t, axis, keepdims=keepdims), [x], lambda a: reference(a, axis, keepdims=keepdims))


@st.composite
def sort_case(draw: Any) -> Case:
    x = draw(arrays(shapes, unique=True))
    apart(x)
    axis = None if x.ndim == 0 else draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    return Case(lambda t: ag.sort(t, axis), [x], lambda a: np.sort(a, axis))


@st.composite
def take_along_axis_case(draw: Any) -> Case:
    x = draw(arrays(hnp_shapes_at_least_1d))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    shape = tuple(draw(st.integers(1, 4)) if i == axis % x.ndim else size for i, size in enumerate(x.shape))
    indices = draw(hnp.arrays(np.intp, shape, elements=st.integers(-x.shape[axis], x.shape[axis] - 1)))
    call = lambda t: ag.take_along_axis(t, indices, axis)
    return Case(call, [x], lambda a: np.take_along_axis(a, indices, axis))


#: op name -> a strategy drawing a Case (inputs from the op's valid domain).
CASES: dict[str, st.SearchStrategy[Case]] = {
    "prod": st.builds(
        lambda x, axis, keepdims: Case(
            lambda t: ag.prod(t, axis, keepdims=keepdims), [x], lambda a: np.prod(a, axis, keepdims=keepdims)
        ),
        arrays(shapes, WITH_ZEROS),
        st.none(),
        st.booleans(),
    )
    | reduction(ag.prod, np.prod),
    "cumsum": scan_case(ag.cumsum, np.cumsum),
    "cumprod": scan_case(ag.cumprod, np.cumprod, SMALL_WITH_ZEROS),
    "var": spread_case(ag.var, np.var),
    "std": spread_case(ag.std, np.std),
    "average": average_case(),
    "trace": trace_case(),
    "ptp": distinct_reduction(ag.ptp, np.ptp),
    "median": distinct_reduction(ag.median, np.median),
    "quantile": quantile_case(ag.quantile, np.quantile, 1.0),
    "percentile": quantile_case(ag.percentile, np.percentile, 100.0),
    "nansum": nan_case(ag.nansum, np.nansum),
    "nanmean": nan_case(ag.nanmean, np.nanmean),
    "sort": sort_case(),
    "take_along_axis": take_along_axis_case(),
}
#: ops smooth enough for the second-order test (the piecewise-linear ones away from their kinks).
SECOND_ORDER: list[str] = list(CASES)
#: "np.name" -> [(arrays, call(f, *arrays))] for NumPy functions that need more than arrays.
NUMPY_CALLS: dict[str, list[tuple[tuple[Any, ...], Any]]] = {
    "np.prod": [((np.array([0.3, 0.0, 0.8]),), lambda f, a: f(a)), ((MATRIX,), lambda f, a: f(a, axis=1))],
    "np.cumsum": [((MATRIX,), lambda f, a: f(a, axis=0))],
    "np.cumprod": [((np.array([0.3, 0.0, 0.8, 0.5]),), lambda f, a: f(a)), ((MATRIX,), lambda f, a: f(a, axis=1))],
    "np.var": [((MATRIX,), lambda f, a: f(a, axis=0, ddof=1))],
    "np.std": [((MATRIX,), lambda f, a: f(a, axis=1, ddof=1, keepdims=True))],
    "np.average": [((MATRIX, VECTOR[:2].copy()), lambda f, a, w: f(a, axis=1, weights=w))],
    "np.trace": [((MATRIX,), lambda f, a: f(a, offset=1))],
    "np.median": [((MATRIX,), lambda f, a: f(a, axis=0))],
    "np.quantile": [((VECTOR,), lambda f, a: f(a, [0.25, 0.9]))],
    "np.percentile": [((MATRIX,), lambda f, a: f(a, 40, axis=1))],
    "np.nansum": [((np.array([0.3, np.nan, 0.8]),), lambda f, a: f(a))],
    "np.nanmean": [((np.array([0.3, np.nan, 0.8]),), lambda f, a: f(a))],
    "np.sort": [((MATRIX,), lambda f, a: f(a, axis=0))],
    "np.take_along_axis": [((MATRIX,), lambda f, a: f(a, np.array([[1, 0, 1]]).T[:2], axis=1))],
}
