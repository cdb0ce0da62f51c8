"""Property-test cases of the shape ops added to the table after the first forty (see op_testing.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_testing import Case, hnp_shapes_at_least_1d
from strategies import arrays, axes_for, broadcastable_arrays, shapes

import autograd_lite as ag

NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"

VECTOR = np.array([0.3, 0.6, 0.8])
MATRIX = np.array([[2.0, 0.5], [0.3, 1.5]])
CUBE = np.arange(12.0).reshape(2, 3, 2) / 10


def joined(parts: Any) -> ag.Tensor:
    """A list (or tuple, or one) of Tensors as one Tensor: each raveled, then concatenated."""
    parts = [parts] if isinstance(parts, ag.Tensor) else parts
    return ag.concatenate([ag.ravel(p) for p in parts])


def np_joined(parts: Any) -> np.ndarray:
    parts = [parts] if isinstance(parts, np.ndarray) else parts
    return np.concatenate([np.ravel(p) for p in parts])


def simple(draw: Any, shape: Any, function: Any, reference: Any, **params: Any) -> Case:
    """A one-input case calling ``function(t, **params)`` and ``reference(a, **params)``."""
    x = draw(arrays(shape))
    return Case(lambda t: function(t, **params), [x], lambda a: reference(a, **params))


def axis_of(draw: Any, ndim: int) -> int:
    return draw(st.integers(-ndim, ndim - 1))


shapes_2d = shapes.filter(lambda s: len(s) >= 2)
shapes_3d = hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=3)


@st.composite
def flip_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    axis = draw(axes_for(x.ndim))
    return Case(lambda t: ag.flip(t, axis), [x], lambda a: np.flip(a, axis))


@st.composite
def roll_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    shifts = st.integers(-5, 5)
    if x.ndim == 0 or draw(st.booleans()):
        shift, axis = draw(shifts), None
    elif draw(st.booleans()):
        shift, axis = draw(shifts), axis_of(draw, x.ndim)
    else:
        axis = draw(hnp.valid_tuple_axes(x.ndim, min_size=1))
        shift = tuple(draw(shifts) for _ in axis)
    return Case(lambda t: ag.roll(t, shift, axis), [x], lambda a: np.roll(a, shift, axis))


@st.composite
def tile_case(draw: Any) -> Case:
    counts = st.integers(1, 2)
    reps = draw(st.one_of(counts, st.lists(counts, max_size=4).map(tuple)))
    return simple(draw, shapes, ag.tile, np.tile, reps=reps)


@st.composite
def repeat_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    axis = None if x.ndim == 0 or draw(st.booleans()) else axis_of(draw, x.ndim)
    length = x.size if axis is None else x.shape[axis]
    repeats = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=length, max_size=length)))
    return Case(lambda t: ag.repeat(t, repeats, axis), [x], lambda a: np.repeat(a, repeats, axis))


@st.composite
def take_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    axis = None if x.ndim == 0 or draw(st.booleans()) else axis_of(draw, x.ndim)
    length = x.size if axis is None else x.shape[axis]
    mode = draw(st.sampled_from(["raise", "wrap", "clip"]))
    low, high = (-length, length - 1) if mode == "raise" else (-2 * length - 1, 2 * length + 1)
    index_shape = hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)
    indices = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(low, high)))
    return Case(lambda t: ag.take(t, indices, axis, mode=mode), [x], lambda a: np.take(a, indices, axis, mode=mode))


@st.composite
def pad_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    widths = st.integers(0, 3)
    pair = st.tuples(widths, widths)
    forms = [widths, pair, st.tuples(pair)]
    if x.ndim:  # one pair per axis, or {axis: width}
        forms += [
            st.tuples(*[pair] * x.ndim),
            st.dictionaries(st.integers(-x.ndim, x.ndim - 1), st.one_of(widths, pair)),
        ]
    pad_width = draw(st.one_of(forms))
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    extra = {"constant_values": draw(st.floats(-2, 2))} if mode == "constant" and draw(st.booleans()) else {}
    # NumPy 1 has no {axis: width} form: its reference gets the same widths as one pair per axis
    reference_width = _pairs_of(pad_width, x.ndim) if isinstance(pad_width, dict) and NUMPY_1 else pad_width
    return Case(lambda t: ag.pad(t, pad_width, mode, **extra), [x], lambda a: np.pad(a, reference_width, mode, **extra))


def _pairs_of(widths: dict[int, Any], ndim: int) -> list[tuple[int, int]]:
    pairs = [(0, 0)] * ndim
    for axis, width in widths.items():
        pairs[axis % ndim] = (width, width) if isinstance(width, int) else tuple(width)
    return pairs


def triangle_case(function: Any, reference: Any) -> st.SearchStrategy[Case]:
    return st.builds(
        lambda x, k: Case(lambda t: function(t, k), [x], lambda a: reference(a, k)),
        arrays(hnp_shapes_at_least_1d),
        st.integers(-3, 3),
    )


@st.composite
def diagonal_case(draw: Any) -> Case:
    x = draw(arrays(shapes_2d))
    first, second = draw(st.permutations(range(x.ndim)))[:2]
    offset = draw(st.integers(-3, 3))
    first, second = first - draw(st.sampled_from([0, x.ndim])), second
    return Case(lambda t: ag.diagonal(t, offset, first, second), [x], lambda a: np.diagonal(a, offset, first, second))


@st.composite
def ravel_case(draw: Any, function: Any) -> Case:
    return simple(draw, shapes, function, np.ravel, order=draw(st.sampled_from(["C", "F"])))


@st.composite
def squeeze_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    ones = [i for i, size in enumerate(x.shape) if size == 1]
    axis = draw(st.one_of(st.none(), st.lists(st.sampled_from(ones), unique=True).map(tuple))) if ones else None
    if axis is not None and len(axis) == 1 and draw(st.booleans()):
        axis = axis[0] - x.ndim
    return Case(lambda t: ag.squeeze(t, axis), [x], lambda a: np.squeeze(a, axis))


@st.composite
def moveaxis_case(draw: Any) -> Case:
    x = draw(arrays(hnp_shapes_at_least_1d))
    count = draw(st.integers(1, x.ndim))
    source = draw(st.permutations(range(x.ndim)))[:count]
    destination = draw(st.permutations(range(-x.ndim, 0)))[:count]
    if count == 1 and draw(st.booleans()):
        source, destination = source[0], destination[0]
    return Case(lambda t: ag.moveaxis(t, source, destination), [x], lambda a: np.moveaxis(a, source, destination))


@st.composite
def rollaxis_case(draw: Any) -> Case:
    x = draw(arrays(hnp_shapes_at_least_1d))
    axis, start = axis_of(draw, x.ndim), draw(st.integers(-x.ndim, x.ndim))
    return Case(lambda t: ag.rollaxis(t, axis, start), [x], lambda a: np.rollaxis(a, axis, start))


@st.composite
def rot90_case(draw: Any) -> Case:
    x = draw(arrays(shapes_2d))
    first, second = draw(st.permutations(range(x.ndim)))[:2]
    axes, k = (first, second - draw(st.sampled_from([0, x.ndim]))), draw(st.integers(-4, 4))
    return Case(lambda t: ag.rot90(t, k, axes), [x], lambda a: np.rot90(a, k, axes))


@st.composite
def diag_case(draw: Any) -> Case:
    x = draw(arrays(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)))
    return simple(draw, x.shape, ag.diag, np.diag, k=draw(st.integers(-3, 3)))


@st.composite
def split_case(draw: Any, name: str) -> Case:
    minimum = {"vsplit": 2, "dsplit": 3}.get(name, 1)
    x = draw(arrays(hnp.array_shapes(min_dims=minimum, max_dims=3, max_side=4)))
    if name in ("split", "array_split"):
        axis = axis_of(draw, x.ndim)
        params = {"axis": axis}
    else:
        axis, params = {"hsplit": 1 if x.ndim > 1 else 0, "vsplit": 0, "dsplit": 2}[name], {}
    length = x.shape[axis]
    divisors = [n for n in range(1, length + 1) if length % n == 0]
    sections = st.integers(1, 5) if name == "array_split" else st.sampled_from(divisors)
    indices = st.lists(st.integers(-length - 1, length + 1), max_size=3)
    cut = draw(st.one_of(sections, indices))
    function, reference = getattr(ag, name), getattr(np, name)
    return Case(lambda t: joined(function(t, cut, **params)), [x], lambda a: np_joined(reference(a, cut, **params)))


@st.composite
def atleast_case(draw: Any, name: str) -> Case:
    xs = draw(st.lists(arrays(shapes), min_size=1, max_size=3))
    function, reference = getattr(ag, name), getattr(np, name)
    return Case(lambda *ts: joined(function(*ts)), xs, lambda *a: np_joined(reference(*a)))


@st.composite
def stack_case(draw: Any, name: str) -> Case:
    count, n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    sizes = st.integers(1, 3)
    kind = draw(st.sampled_from(["low", "high"]))
    if name == "vstack":
        piece = st.sampled_from([(n,), (draw(sizes), n)]) if kind == "low" else st.tuples(sizes, st.just(n), st.just(m))
    elif name == "hstack":
        piece = st.sampled_from([(), (draw(sizes),)]) if kind == "low" else st.tuples(st.just(n), sizes)
    elif name == "dstack":
        piece = st.sampled_from([(n,), (1, n)]) if kind == "low" else st.tuples(st.just(m), st.just(n), sizes)
    else:  # column_stack
        piece = st.sampled_from([(n,), (n, draw(sizes))])
    xs = [draw(arrays(draw(piece))) for _ in range(count)]
    function, reference = getattr(ag, name), getattr(np, name)
    return Case(lambda *ts: function(list(ts)), xs, lambda *a: reference(list(a)))


@st.composite
def append_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    if x.ndim == 0 or draw(st.booleans()):
        values = draw(arrays(shapes))
        return Case(ag.append, [x, values], np.append)
    axis = axis_of(draw, x.ndim)
    shape = list(x.shape)
    shape[axis] = draw(st.integers(1, 3))
    values = draw(arrays(tuple(shape)))
    return Case(lambda a, b: ag.append(a, b, axis=axis), [x, values], lambda a, b: np.append(a, b, axis=axis))


@st.composite
def select_case(draw: Any) -> Case:
    count = draw(st.integers(1, 3))
    drawn = draw(broadcastable_arrays(count=2 * count + 1))
    conditions = [c > 0 for c in drawn[count + 1 :]]
    if draw(st.booleans()):  # a differentiated default array
        return Case(
            lambda d, *cs: ag.select(conditions, list(cs), d),
            drawn[: count + 1],
            lambda d, *cs: np.select(conditions, list(cs), d),
        )
    default = draw(st.floats(-2, 2))
    return Case(
        lambda *cs: ag.select(conditions, list(cs), default),
        drawn[1 : count + 1],
        lambda *cs: np.select(conditions, list(cs), default),
    )


@st.composite
def broadcast_arrays_case(draw: Any) -> Case:
    xs = draw(broadcastable_arrays(count=draw(st.integers(1, 3))))
    return Case(lambda *ts: ag.stack(ag.broadcast_arrays(*ts)), xs, lambda *a: np.stack(np.broadcast_arrays(*a)))


@st.composite
def meshgrid_case(draw: Any) -> Case:
    xs = draw(st.lists(arrays(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3)), min_size=1, max_size=3))
    params = {"indexing": draw(st.sampled_from(["xy", "ij"])), "sparse": draw(st.booleans())}
    return Case(lambda *ts: joined(ag.meshgrid(*ts, **params)), xs, lambda *a: np_joined(np.meshgrid(*a, **params)))


#: op name -> a strategy drawing a Case (inputs from the op's valid domain).
CASES: dict[str, st.SearchStrategy[Case]] = {
    "flip": flip_case(),
    "roll": roll_case(),
    "tile": tile_case(),
    "repeat": repeat_case(),
    "take": take_case(),
    "pad": pad_case(),
    "tril": triangle_case(ag.tril, np.tril),
    "triu": triangle_case(ag.triu, np.triu),
    "diagonal": diagonal_case(),
    "ravel": ravel_case(ag.ravel),
    "flatten": ravel_case(ag.flatten),
    "squeeze": squeeze_case(),
    "moveaxis": moveaxis_case(),
    "rollaxis": rollaxis_case(),
    "fliplr": st.builds(lambda x: Case(ag.fliplr, [x], np.fliplr), arrays(shapes_2d)),
    "flipud": st.builds(lambda x: Case(ag.flipud, [x], np.flipud), arrays(hnp_shapes_at_least_1d)),
    "rot90": rot90_case(),
    "diag": diag_case(),
    **{name: split_case(name) for name in ("split", "array_split", "hsplit", "vsplit", "dsplit")},
    **{name: atleast_case(name) for name in ("atleast_1d", "atleast_2d", "atleast_3d")},
    **{name: stack_case(name) for name in ("vstack", "hstack", "dstack", "column_stack")},
    "append": append_case(),
    "select": select_case(),
    "broadcast_arrays": broadcast_arrays_case(),
    "meshgrid": meshgrid_case(),
}
#: ops smooth enough for the second-order test (all of these are linear).
SECOND_ORDER: list[str] = list(CASES)
#: "np.name" -> [(arrays, call(f, *arrays))] for NumPy functions that need more than arrays.
NUMPY_CALLS: dict[str, list[tuple[tuple[Any, ...], Any]]] = {
    "np.flip": [((MATRIX,), lambda f, a: f(a, axis=1))],
    "np.roll": [((VECTOR,), lambda f, a: f(a, 1)), ((MATRIX,), lambda f, a: f(a, (1, -1), axis=(0, 1)))],
    "np.tile": [((VECTOR,), lambda f, a: f(a, (2, 2)))],
    "np.repeat": [((VECTOR,), lambda f, a: f(a, [2, 0, 1])), ((MATRIX,), lambda f, a: f(a, 2, axis=1))],
    "np.take": [((VECTOR,), lambda f, a: f(a, [2, 0, 2])), ((MATRIX,), lambda f, a: f(a, [1, 1], axis=1))],
    "np.pad": [
        ((VECTOR,), lambda f, a: f(a, (1, 2), constant_values=0.5)),
        ((MATRIX,), lambda f, a: f(a, ((1, 0), (2, 1)), mode="edge")),
        ((VECTOR,), lambda f, a: f(a, 2, mode="reflect")),
    ],
    "np.tril": [((MATRIX,), lambda f, a: f(a, -1))],
    "np.triu": [((MATRIX,), lambda f, a: f(a, 1))],
    "np.diagonal": [((CUBE,), lambda f, a: f(a, 1, 2, 1))],
    "np.diag": [((VECTOR,), lambda f, a: f(a, -1))],
    "np.squeeze": [((VECTOR.reshape(1, 3),), lambda f, a: f(a, axis=0))],
    "np.moveaxis": [((CUBE,), lambda f, a: f(a, 0, -1))],
    "np.rollaxis": [((CUBE,), lambda f, a: f(a, 2))],
    "np.rot90": [((CUBE,), lambda f, a: f(a, 3, (2, 0)))],
    "np.ravel": [((MATRIX,), lambda f, a: f(a, order="F"))],
    "np.split": [((VECTOR,), lambda f, a: f(a, 3)), ((MATRIX,), lambda f, a: f(a, [1], axis=1))],
    "np.array_split": [((VECTOR,), lambda f, a: f(a, 2))],
    "np.hsplit": [((MATRIX,), lambda f, a: f(a, 2))],
    "np.vsplit": [((MATRIX,), lambda f, a: f(a, [1]))],
    "np.dsplit": [((CUBE,), lambda f, a: f(a, 2))],
    "np.vstack": [((VECTOR, VECTOR), lambda f, a, b: f([a, b]))],
    "np.hstack": [((VECTOR, MATRIX[0]), lambda f, a, b: f((a, b)))],
    "np.dstack": [((MATRIX, MATRIX), lambda f, a, b: f([a, b]))],
    "np.column_stack": [((VECTOR, VECTOR), lambda f, a, b: f([a, b]))],
    "np.append": [((MATRIX, MATRIX), lambda f, a, b: f(a, b, axis=1))],
    "np.select": [((VECTOR, VECTOR * 2), lambda f, a, b: f([VECTOR > 0.5, VECTOR > 0.7], [a, b], 0.1))],
    "np.broadcast_arrays": [((VECTOR, MATRIX[:, :1]), lambda f, a, b: f(a, b))],
    "np.meshgrid": [((VECTOR, MATRIX[0]), lambda f, a, b: f(a, b, indexing="ij"))],
}
