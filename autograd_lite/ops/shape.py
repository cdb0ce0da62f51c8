"""Shape and indexing: reshape, transpose, swapaxes, expand_dims, broadcast_to, getitem, concatenate, stack.

Then the rearranging ops NumPy users expect (flip, roll, tile, repeat, take, pad, tril/triu,
diagonal: one Node each, the gathers' gradients scatter-adds) and the functions composed
exactly of them (ravel, squeeze, moveaxis, rot90, diag, the splits and stacks, atleast_Nd,
append, select, broadcast_arrays, meshgrid: ``COMPOSITES``).
"""

from __future__ import annotations

import builtins
import operator
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, TracedArray, apply, data_of
from autograd_lite.ops.common import ArrayLike, as_pair, as_tensor, check_axis
from autograd_lite.ops.elementwise import astype, where


class Reshape(Node):
    name, category, numpy = "reshape", "shape", (np.reshape,)
    formulas = ("grad reshaped back to a's shape",)

    @staticmethod
    def forward(a: np.ndarray, shape: Any) -> np.ndarray:
        return a.reshape(shape)

    vjps = (lambda g, out, a, shape: g.reshape(a.shape),)
    jvps = (lambda t, out, a, shape: np.reshape(t, out.shape),)


class Transpose(Node):
    name, category, numpy = "transpose", "shape", (np.transpose,)
    formulas = ("grad transposed back (the inverse permutation)",)
    forward = staticmethod(np.transpose)
    vjps = (lambda g, out, a, axes: np.transpose(g, None if axes is None else np.argsort(axes)),)
    jvps = (lambda t, out, a, axes: np.transpose(t, axes),)


class SwapAxes(Node):
    name, category, numpy = "swapaxes", "shape", (np.swapaxes,)
    formulas = ("grad with the two axes swapped back",)
    forward = staticmethod(np.swapaxes)
    vjps = (lambda g, out, a, axis1, axis2: np.swapaxes(g, axis1, axis2),)
    jvps = vjps  # swapping two axes is its own inverse


class ExpandDims(Node):
    name, category, numpy = "expand_dims", "shape", (np.expand_dims,)
    formulas = ("grad with the new axes of length 1 dropped",)
    forward = staticmethod(np.expand_dims)
    vjps = (lambda g, out, a, axis: g.reshape(a.shape),)
    jvps = (lambda t, out, a, axis: np.reshape(t, out.shape),)


class BroadcastTo(Node):
    name, category, numpy = "broadcast_to", "shape", (np.broadcast_to,)
    formulas = ("grad summed over the copies",)
    forward = staticmethod(np.broadcast_to)
    vjps = (lambda g, out, a, shape: g,)  # the engine's unbroadcast sums it back
    jvps = (lambda t, out, a, shape: t,)  # and push_tangents broadcasts forward


class GetItem(Node):
    name, notation, category = "getitem", "{0}[...]", "shape"
    signature = "a[index]"
    formulas = ("1 at the selected positions (repeats add up)",)

    @staticmethod
    def forward(a: np.ndarray, index: Any) -> np.ndarray:
        return a[index]

    vjps = (lambda g, out, a, index: scatter_add(g, a.shape, index),)
    jvps = (lambda t, out, a, index: t[index],)


class ScatterAdd(Node):
    name, category, public, arguments = "scatter_add", "shape", False, ("g",)
    formulas = ("grad[index]",)

    @staticmethod
    def forward(g: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
        if _is_full_integer_index(index, shape, g):
            return _counted_scatter(g, shape, index)
        result = np.zeros(shape, dtype=g.dtype)
        if _is_basic_index(index):
            result[index] = g  # no position can repeat: plain assignment is enough
        else:
            np.add.at(result, index, g)
        return result

    vjps = (lambda g, out, grad_in, shape, index: g[index],)
    jvps = (lambda t, out, grad_in, shape, index: scatter_add(t, shape, index),)


def _is_full_integer_index(index: Any, shape: tuple[int, ...], g: np.ndarray) -> bool:
    """An integer array for every axis (as max_pool2d's gather), the values real: bincount can scatter them."""
    return (
        isinstance(index, tuple)
        and len(index) == len(shape) > 0
        and g.dtype.kind == "f"
        and all(isinstance(part, np.ndarray) and part.dtype.kind in "iu" for part in index)
    )


def _counted_scatter(g: np.ndarray, shape: tuple[int, ...], index: tuple[np.ndarray, ...]) -> np.ndarray:
    """np.add.at(zeros(shape), index, g) by ``bincount`` on flat positions: the same sums, several times faster.

    Forward already checked the indices are in range; ``wrap`` maps negative ones as NumPy does.
    bincount adds in float64, which is at least as accurate as adding in g's dtype.
    """
    flat = np.ravel_multi_index(np.broadcast_arrays(*index), shape, mode="wrap")
    sums = np.bincount(flat.ravel(), weights=np.broadcast_to(g, flat.shape).ravel(), minlength=int(np.prod(shape)))
    return sums.astype(g.dtype, copy=False).reshape(shape)


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


def scatter_add(values: Any, shape: tuple[int, ...], index: Any) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index`` (np.add.at); differentiable."""
    if isinstance(values, Tensor):
        return apply(ScatterAdd, values, shape=shape, index=index)
    return ScatterAdd.forward(values, shape, index)


class Concatenate(Node):
    name, category, numpy, arguments = "concatenate", "join", (np.concatenate,), ("a_{i}",)
    signature = "concatenate(a_0, a_1, ...)"
    formulas = ("the slice of grad that came from a_{i}",)

    @staticmethod
    def forward(*arrays: np.ndarray, axis: int) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        axis = params["axis"] % grad.ndim
        start = builtins.sum(t.shape[axis] for t in inputs[:index])
        window = (slice(None),) * axis + (slice(start, start + inputs[index].shape[axis]),)
        return grad[window]

    @classmethod
    def tangent(cls, tangents: list[Any], out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        """The inputs' tangents joined the same way (zeros for inputs without one)."""
        return np.concatenate(_with_zeros(tangents, inputs), axis=params["axis"])


class Stack(Node):
    name, category, numpy, arguments = "stack", "join", (np.stack,), ("a_{i}",)
    signature = "stack(a_0, a_1, ...)"
    formulas = ("grad[{i}] along the new axis",)

    @staticmethod
    def forward(*arrays: np.ndarray, axis: int) -> np.ndarray:
        return np.stack(arrays, axis=axis)

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        axis = params["axis"] % grad.ndim
        return grad[(slice(None),) * axis + (index,)]

    @classmethod
    def tangent(cls, tangents: list[Any], out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        """The inputs' tangents stacked the same way (zeros for inputs without one)."""
        return np.stack(_with_zeros(tangents, inputs), axis=params["axis"])


def _with_zeros(tangents: list[Any], inputs: tuple[Any, ...]) -> list[Any]:
    return [np.zeros(x.shape, dtype=x.dtype) if t is None else t for t, x in zip(tangents, inputs)]


def reshape(a: ArrayLike, shape: int | tuple[int, ...]) -> Tensor:
    """The same values in a new shape (one dimension may be -1)."""
    return apply(Reshape, as_tensor(a), shape=shape)


def transpose(a: ArrayLike, axes: tuple[int, ...] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None)."""
    a = as_tensor(a)
    if axes is not None:
        given = tuple(axes)
        in_range = all(-a.ndim <= int(axis) < a.ndim for axis in given)
        axes = tuple(int(axis) % a.ndim for axis in given) if in_range else given
        if not in_range or sorted(axes) != list(range(a.ndim)):
            raise ValueError(f"transpose: axes {given} are not a permutation of the {a.ndim} axes of shape {a.shape}")
    return apply(Transpose, a, axes=axes)


def broadcast_to(a: ArrayLike, shape: tuple[int, ...]) -> Tensor:
    """Repeat values to ``shape`` as NumPy broadcasting would."""
    return apply(BroadcastTo, as_tensor(a), shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def swapaxes(a: ArrayLike, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    a = as_tensor(a)
    for axis in (axis1, axis2):
        if not -a.ndim <= axis < a.ndim:
            raise ValueError(f"swapaxes: axis {axis} is out of bounds for a tensor of shape {a.shape}")
    return apply(SwapAxes, a, axis1=axis1, axis2=axis2)


def expand_dims(a: ArrayLike, axis: int | tuple[int, ...]) -> Tensor:
    """Insert axes of length 1."""
    a = as_tensor(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = a.ndim + len(axes)
    for position in axes:
        if not -ndim <= position < ndim:
            raise ValueError(f"expand_dims: axis {position} is out of bounds for the result's {ndim} dimensions")
    return apply(ExpandDims, a, axis=axis)


def getitem(a: ArrayLike, index: Any) -> Tensor:
    """``a[index]`` with ints, slices, None, Ellipsis, boolean masks or integer arrays."""
    parts = index if isinstance(index, tuple) else (index,)
    # Array indices are copied: backward needs them as they were, whatever the caller does next.
    parts = tuple(_index_part(part) for part in parts)
    return apply(GetItem, as_tensor(a), index=parts if isinstance(index, tuple) else parts[0])


def _index_part(part: Any) -> Any:
    if isinstance(part, Tensor):
        part = part.data
    if isinstance(part, list):
        return np.array(part) if part else np.zeros(0, dtype=np.intp)
    # subok: an index ag.compile is tracing stays traced (a plain copy would freeze it into the code)
    return np.array(part, subok=isinstance(part, TracedArray)) if isinstance(part, np.ndarray) else part


def concatenate(tensors: list[ArrayLike] | tuple[ArrayLike, ...], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis."""
    if len(tensors) == 0:
        raise ValueError("concatenate: needs at least one tensor")
    parts = [as_tensor(t) for t in tensors]
    if axis is None:  # NumPy's meaning: flatten everything first
        parts, axis = [reshape(t, -1) for t in parts], 0
    return apply(Concatenate, *parts, axis=axis)


def stack(tensors: list[ArrayLike] | tuple[ArrayLike, ...], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    if len(tensors) == 0:
        raise ValueError("stack: needs at least one tensor")
    return apply(Stack, *[as_tensor(t) for t in tensors], axis=axis)


# ----- flips, rolls, repeats, pads, triangles, diagonals, gathers (one Node each) ------------
def _ints(name: str, what: str, value: Any) -> int | tuple[int, ...]:
    """An int or a tuple of ints, or a TypeError naming the op (floats and Tensors are not counts)."""
    try:
        if np.ndim(value) == 0 and not isinstance(value, Tensor):
            return operator.index(value)
        return tuple(operator.index(v) for v in np.asarray(value).reshape(-1))
    except TypeError:
        raise TypeError(
            f"{name}: {what} must be integers, got {value!r}; pass Python ints (not floats or Tensors)"
        ) from None


def _int(name: str, what: str, value: Any) -> int:
    """One int, or a TypeError naming the op."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: {what} must be an integer, got {value!r}; pass a Python int") from None


def _along(axis: int, index: Any) -> tuple[Any, ...]:
    """The index selecting ``index`` along ``axis`` (every position of the axes before it)."""
    return (slice(None),) * axis + (index,)


class Flip(Node):
    name, category, numpy = "flip", "shape", (np.flip,)
    formulas = ("grad flipped back along the same axes",)
    forward = staticmethod(np.flip)
    vjps = (lambda g, out, a, axis: np.flip(g, axis),)
    jvps = vjps  # flipping is its own inverse


class Roll(Node):
    name, category, numpy = "roll", "shape", (np.roll,)
    formulas = ("grad rolled back by -shift",)
    forward = staticmethod(np.roll)
    vjps = (lambda g, out, a, shift, axis: np.roll(g, _negated(shift), axis),)
    jvps = (lambda t, out, a, shift, axis: np.roll(t, shift, axis),)


def _negated(shift: int | tuple[int, ...]) -> int | tuple[int, ...]:
    return -shift if isinstance(shift, int) else tuple(-s for s in shift)


class Tile(Node):
    name, category, numpy = "tile", "shape", (np.tile,)
    formulas = ("grad summed over the tiles",)
    forward = staticmethod(np.tile)
    vjps = (lambda g, out, a, reps: _untile(g, a.shape, reps),)
    jvps = (lambda t, out, a, reps: np.tile(t, reps),)


def _untile(g: Any, shape: tuple[int, ...], reps: tuple[int, ...]) -> Any:
    """Sum the tiles of ``g`` (one per entry of ``reps``, as long as ``g.ndim``) into ``shape``."""
    sides = (1,) * (len(reps) - len(shape)) + tuple(shape)
    interleaved = tuple(size for pair in zip(reps, sides) for size in pair)
    return np.sum(g.reshape(interleaved), axis=tuple(range(0, 2 * len(reps), 2))).reshape(shape)


class Repeat(Node):
    name, category, numpy = "repeat", "shape", (np.repeat,)
    formulas = ("grad summed over the copies of each element",)
    forward = staticmethod(np.repeat)
    vjps = (lambda g, out, a, repeats, axis: _gathered_back(g, a.shape, _repeated(a, repeats, axis), axis),)
    jvps = (lambda t, out, a, repeats, axis: np.repeat(t, repeats, axis),)


def _repeated(a: Any, repeats: Any, axis: int | None) -> np.ndarray:
    """Which element (along ``axis``, or of the flattened array) each output position copies."""
    return np.repeat(np.arange(a.size if axis is None else a.shape[axis]), repeats)


def _gathered_back(g: Any, shape: tuple[int, ...], index: Any, axis: int | None) -> Any:
    """The vjp of taking ``index`` along ``axis`` (of the flattened array when None): a scatter-add."""
    if axis is None:
        return scatter_add(g, (int(np.prod(shape)),), index).reshape(shape)
    return scatter_add(g, shape, _along(axis, index))


class Take(Node):
    name, category, numpy = "take", "shape", (np.take,)
    formulas = ("grad added at the taken positions (repeats add up)",)

    @staticmethod
    def forward(a: np.ndarray, indices: np.ndarray, axis: int | None) -> np.ndarray:
        return np.take(a, indices, axis=axis)

    vjps = (lambda g, out, a, indices, axis: _gathered_back(g, a.shape, indices, axis),)
    jvps = (lambda t, out, a, indices, axis: np.take(t, indices, axis=axis),)


class Pad(Node):
    name, category, numpy = "pad", "shape", (np.pad,)
    formulas = ("the interior of grad (constant); grad added back to the copied positions (edge, reflect, ...)",)

    @staticmethod
    def forward(a: np.ndarray, pad_width: Any, mode: Any, constant_values: Any) -> np.ndarray:  # mode: pad's checked
        if mode == "constant":  # a 0-d array has no widths: np.pad takes 0 for it
            return np.pad(a, pad_width or 0, mode, constant_values=constant_values)
        return np.pad(a, pad_width or 0, mode)

    vjps = (lambda g, out, a, pad_width, mode, constant_values: _unpadded(g, a.shape, pad_width, mode),)
    jvps = (lambda t, out, a, pad_width, mode, constant_values: np.pad(t, pad_width or 0, mode),)  # constants: 0


def _unpadded(g: Any, shape: tuple[int, ...], pad_width: Any, mode: Any) -> Any:
    if mode == "constant":
        return g[tuple(slice(before, before + size) for (before, _), size in zip(pad_width, shape))]
    # The copying modes are separable: output = a[ix_(source_0, source_1, ...)], each source the padded arange.
    sources = np.ix_(*[np.pad(np.arange(size), widths, mode) for size, widths in zip(shape, pad_width)])
    return scatter_add(g, shape, sources)


class Tril(Node):
    name, category, numpy = "tril", "shape", (np.tril,)
    formulas = ("tril(grad, k)",)
    forward = staticmethod(np.tril)
    vjps = (lambda g, out, m, k: np.tril(g, k),)  # a 1-D m was broadcast over rows: the engine sums them
    jvps = vjps


class Triu(Node):
    name, category, numpy = "triu", "shape", (np.triu,)
    formulas = ("triu(grad, k)",)
    forward = staticmethod(np.triu)
    vjps = (lambda g, out, m, k: np.triu(g, k),)
    jvps = vjps


class Diagonal(Node):
    name, category, numpy = "diagonal", "shape", (np.diagonal,)
    formulas = ("grad placed on the diagonal of zeros shaped like a",)
    forward = staticmethod(np.diagonal)
    vjps = (lambda g, out, a, offset, axis1, axis2: _undiagonal(g, a.shape, offset, axis1, axis2),)
    jvps = (lambda t, out, a, offset, axis1, axis2: np.diagonal(t, offset, axis1, axis2),)


def _diagonal_positions(length: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(length)
    return rows + builtins.max(-offset, 0), rows + builtins.max(offset, 0)


def _undiagonal(g: Any, shape: tuple[int, ...], offset: int, axis1: int, axis2: int) -> Any:
    """Zeros shaped like the input with ``g`` on the diagonal (built with the two axes last, then moved back)."""
    order = (*(i for i in range(len(shape)) if i not in (axis1, axis2)), axis1, axis2)
    moved = scatter_add(g, tuple(shape[i] for i in order), (Ellipsis, *_diagonal_positions(g.shape[-1], offset)))
    return np.transpose(moved, tuple(int(i) for i in np.argsort(order)))


def flip(m: ArrayLike, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Reverse the order of elements along ``axis`` (every axis when None), as np.flip."""
    m = as_tensor(m)
    return apply(Flip, m, axis=check_axis("flip", m, axis))


def roll(a: ArrayLike, shift: int | tuple[int, ...], axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Shift elements cyclically along ``axis`` (of the flattened tensor when None), as np.roll."""
    a = as_tensor(a)
    shift = _ints("roll", "shift", shift)
    return apply(Roll, a, shift=shift, axis=check_axis("roll", a, axis))  # np.roll pairs shifts with axes


def tile(A: ArrayLike, reps: int | tuple[int, ...]) -> Tensor:
    """Repeat the whole tensor ``reps`` times along each axis, as np.tile."""
    A = as_tensor(A)
    given = _ints("tile", "reps", reps)
    counts = (given,) if isinstance(given, int) else given
    if any(count < 0 for count in counts):
        raise ValueError(f"tile: negative reps {reps} for shape {A.shape}; give counts >= 0")
    counts = (1,) * (A.ndim - len(counts)) + counts  # as long as the result's rank, as np.tile pads it
    return apply(Tile, A, reps=counts)


def repeat(a: ArrayLike, repeats: int | ArrayLike, axis: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (one count, or one per element) along ``axis``, as np.repeat."""
    a = as_tensor(a)
    axis = check_axis("repeat", a, axis)
    counts = _ints("repeat", "repeats", repeats)
    length = a.size if axis is None else a.shape[axis]
    if not isinstance(counts, int) and len(counts) not in (1, length) or np.any(np.asarray(counts) < 0):
        raise ValueError(
            f"repeat: repeats {repeats} must be one count >= 0 or {length} of them (the length along axis {axis} "
            f"of shape {a.shape})"
        )
    return apply(Repeat, a, repeats=counts if isinstance(counts, int) else np.asarray(counts), axis=axis)


def take(a: ArrayLike, indices: ArrayLike, axis: int | None = None, out: None = None, mode: str = "raise") -> Tensor:
    """The elements at ``indices`` along ``axis`` (of the flattened tensor when None), as np.take."""
    a = as_tensor(a)
    if out is not None:
        raise TypeError("take: out= would write into an array behind the graph's back; use the returned Tensor")
    axis = check_axis("take", a, axis)
    index = np.asanyarray(data_of(indices))  # asanyarray: ag.compile follows a traced index
    if index.dtype.kind not in "iu" and not (index.size == 0 and index.dtype.kind in "fb"):
        raise TypeError(f"take: indices must be integers, got dtype {index.dtype}; convert with .astype(int)")
    index = index.astype(np.intp)
    length = a.size if axis is None else a.shape[axis]
    if mode == "wrap" and length:
        index = index % length
    elif mode == "clip":
        index = np.clip(index, 0, length - 1)
    elif mode != "raise" or np.any((index < -length) | (index >= length)):
        problem = f"unknown mode {mode!r}" if mode != "raise" else f"an index out of range {-length}..{length - 1}"
        raise (ValueError if mode != "raise" else IndexError)(
            f"take: {problem} for shape {a.shape} along axis {axis}; use mode 'raise', 'wrap' or 'clip'"
        )
    return apply(Take, a, indices=index, axis=axis)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(array: ArrayLike, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Tensor:
    """Pad with a constant or with copies of the edges (edge, reflect, symmetric, wrap), as np.pad."""
    array = as_tensor(array)
    extra = set(kwargs) - {"constant_values", "reflect_type"}
    if mode not in _PAD_MODES or extra or kwargs.get("reflect_type", "even") != "even":
        raise ValueError(
            f"pad: mode {mode!r} with {sorted(kwargs)} is not differentiable here; use one of {_PAD_MODES} "
            "(constant_values with 'constant', reflect_type 'even' only)"
        )
    constant_values = kwargs.get("constant_values", 0)
    if isinstance(constant_values, Tensor) and constant_values.requires_grad:
        raise TypeError("pad: constant_values are not differentiated; pass numbers or constant_values.detach()")
    if mode != "constant" and "constant_values" in kwargs:
        raise ValueError(f"pad: constant_values go with mode 'constant', not {mode!r}")
    widths = _pad_widths(array, pad_width)
    if mode != "constant" and array.size == 0 and any(w != (0, 0) for w in widths):
        raise ValueError(f"pad: mode {mode!r} cannot pad the empty shape {array.shape}; use mode 'constant'")
    return apply(Pad, array, pad_width=widths, mode=mode, constant_values=data_of(constant_values))


def _pad_widths(array: Tensor, pad_width: Any) -> tuple[tuple[int, int], ...]:
    """``pad_width`` in any form np.pad accepts, as one (before, after) pair per axis."""
    if isinstance(pad_width, dict):  # {axis: width or (before, after)}; the other axes are not padded
        pairs = [(0, 0)] * array.ndim
        for axis, width in pad_width.items():
            pairs[check_axis("pad", array, axis)] = tuple(np.broadcast_to(np.asarray(width), (2,)))
        pad_width = pairs
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths, (array.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit shape {array.shape}; give n, (before, after) or one "
            "(before, after) per axis"
        ) from None
    if np.any(widths < 0):
        raise ValueError(f"pad: pad_width {pad_width!r} has negative widths; widths must be >= 0")
    return tuple((int(before), int(after)) for before, after in widths)


def tril(m: ArrayLike, k: int = 0) -> Tensor:
    """Zeros above the ``k``-th diagonal of the last two axes (a 1-D m is a row repeated), as np.tril."""
    return _triangle(Tril, m, k)


def triu(m: ArrayLike, k: int = 0) -> Tensor:
    """Zeros below the ``k``-th diagonal of the last two axes (a 1-D m is a row repeated), as np.triu."""
    return _triangle(Triu, m, k)


def _triangle(op: type[Node], m: ArrayLike, k: int) -> Tensor:
    m = as_tensor(m)
    if m.ndim == 0:
        raise ValueError(f"{op.name}: needs at least 1 dimension, got a 0-d tensor; reshape it first")
    return apply(op, m, k=_int(op.name, "k", k))


def diagonal(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the matrices in axes ``axis1``, ``axis2`` (as the last axis), as np.diagonal."""
    a = as_tensor(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {a.shape}; use diag for a 1-D tensor")
    first, second = (check_axis("diagonal", a, _int("diagonal", "axis1 and axis2", axis)) for axis in (axis1, axis2))
    if first == second:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({axis1}, {axis2}) of shape {a.shape}")
    return apply(Diagonal, a, offset=_int("diagonal", "offset", offset), axis1=first, axis2=second)


# ----- composites: built exactly from the ops above, no Node of their own ----------------------
def ravel(a: ArrayLike, order: str = "C") -> Tensor:
    """The elements as a 1-D tensor, in row-major ('C') or column-major ('F') order, as np.ravel."""
    a = as_tensor(a)
    if order in ("A", "K") and a.data.flags.c_contiguous:
        order = "C"  # NumPy's memory order is row-major here
    if order not in ("C", "F"):
        raise ValueError(f"ravel: order {order!r} is not supported for shape {a.shape}; use 'C' or 'F'")
    return reshape(a if order == "C" else transpose(a), -1)


def flatten(a: ArrayLike, order: str = "C") -> Tensor:
    """The elements as a 1-D tensor (the function form of ndarray.flatten; same as ravel)."""
    return ravel(a, order)


def squeeze(a: ArrayLike, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Drop axes of length 1 (all of them when ``axis`` is None), as np.squeeze."""
    a = as_tensor(a)
    axes = check_axis("squeeze", a, axis)
    if axes is None:
        axes = tuple(i for i, size in enumerate(a.shape) if size == 1)
    axes = (axes,) if isinstance(axes, int) else axes
    if any(a.shape[i] != 1 for i in axes):
        raise ValueError(f"squeeze: axis {axis} of shape {a.shape} does not have length 1; choose axes of length 1")
    return reshape(a, tuple(size for i, size in enumerate(a.shape) if i not in axes))


def moveaxis(a: ArrayLike, source: int | tuple[int, ...], destination: int | tuple[int, ...]) -> Tensor:
    """Move axes to new positions, the others keeping their order, as np.moveaxis."""
    a = as_tensor(a)
    sources, destinations = (_axis_tuple("moveaxis", a, axes) for axes in (source, destination))
    if len(sources) != len(destinations):
        raise ValueError(f"moveaxis: source {source} and destination {destination} need as many axes")
    order = [i for i in range(a.ndim) if i not in sources]
    for position, axis in sorted(zip(destinations, sources)):
        order.insert(position, axis)
    return transpose(a, tuple(order))


def _axis_tuple(name: str, a: Tensor, axes: Any) -> tuple[int, ...]:
    normalized = check_axis(name, a, _ints(name, "axes", axes))
    return (normalized,) if isinstance(normalized, int) else tuple(normalized or ())


def rollaxis(a: ArrayLike, axis: int, start: int = 0) -> Tensor:
    """Move ``axis`` to just before position ``start``, as np.rollaxis."""
    a = as_tensor(a)
    axis = check_axis("rollaxis", a, _int("rollaxis", "axis", axis))
    start = _int("rollaxis", "start", start)
    start = start + a.ndim if start < 0 else start
    if not 0 <= start <= a.ndim:
        raise ValueError(f"rollaxis: start {start} is out of range 0..{a.ndim} for shape {a.shape}")
    order = [i for i in range(a.ndim) if i != axis]
    order.insert(start - (axis < start), axis)
    return transpose(a, tuple(order))


def fliplr(m: ArrayLike) -> Tensor:
    """Reverse the columns (axis 1), as np.fliplr."""
    m = as_tensor(m)
    if m.ndim < 2:
        raise ValueError(f"fliplr: needs at least 2 dimensions, got shape {m.shape}")
    return flip(m, 1)


def flipud(m: ArrayLike) -> Tensor:
    """Reverse the rows (axis 0), as np.flipud."""
    m = as_tensor(m)
    if m.ndim < 1:
        raise ValueError("flipud: needs at least 1 dimension, got a 0-d tensor")
    return flip(m, 0)


def rot90(m: ArrayLike, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first towards the second), as np.rot90."""
    m = as_tensor(m)
    if len(tuple(axes)) != 2:
        raise ValueError(f"rot90: axes {tuple(axes)} must be two axes")
    first, second = (check_axis("rot90", m, _int("rot90", "axes", axis)) for axis in axes)
    if first == second:
        raise ValueError(f"rot90: axes {axes} must be two different axes of shape {m.shape}")
    k = _int("rot90", "k", k) % 4
    if k == 0:
        return reshape(m, m.shape)
    if k == 2:
        return flip(m, (first, second))
    order = list(range(m.ndim))
    order[first], order[second] = second, first
    return transpose(flip(m, second), tuple(order)) if k == 1 else flip(transpose(m, tuple(order)), second)


def diag(v: ArrayLike, k: int = 0) -> Tensor:
    """The ``k``-th diagonal of a matrix, or a matrix with a 1-D ``v`` on its ``k``-th diagonal, as np.diag."""
    v = as_tensor(v)
    k = _int("diag", "k", k)
    if v.ndim == 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: needs a 1-D or 2-D tensor, got shape {v.shape}; use diagonal for more axes")
    side = v.shape[0] + abs(k)
    return scatter_add(v, (side, side), _diagonal_positions(v.shape[0], k))


def array_split(ary: ArrayLike, indices_or_sections: int | Any, axis: int = 0) -> list[Tensor]:
    """Split into sections of nearly equal length, or at the given indices, along ``axis``, as np.array_split."""
    ary = as_tensor(ary)
    axis = check_axis("array_split", ary, _int("array_split", "axis", axis))
    length = ary.shape[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = _int("array_split", "sections", indices_or_sections)
        if sections <= 0:
            raise ValueError(f"array_split: the number of sections must be at least 1, got {sections}")
        each, extra = divmod(length, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = [0, *np.cumsum(sizes).tolist()]
    else:
        indices = _ints("array_split", "indices", indices_or_sections)
        bounds = [0, *(indices if isinstance(indices, tuple) else (indices,)), length]
    return [getitem(ary, _along(axis, slice(start, end))) for start, end in zip(bounds[:-1], bounds[1:])]


def split(ary: ArrayLike, indices_or_sections: int | Any, axis: int = 0) -> list[Tensor]:
    """Split into equal sections, or at the given indices, along ``axis``, as np.split."""
    ary = as_tensor(ary)
    if np.ndim(indices_or_sections) == 0:
        sections = _int("split", "sections", indices_or_sections)
        length = ary.shape[check_axis("split", ary, _int("split", "axis", axis))]
        if sections <= 0 or length % sections:
            raise ValueError(
                f"split: {sections} sections do not divide length {length} (axis {axis} of shape {ary.shape}) "
                "equally; use array_split for unequal sections"
            )
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary: ArrayLike, indices_or_sections: int | Any) -> list[Tensor]:
    """Split along the columns (axis 1; axis 0 of a 1-D tensor), as np.hsplit."""
    ary = as_tensor(ary)
    if ary.ndim == 0:
        raise ValueError("hsplit: needs at least 1 dimension, got a 0-d tensor")
    return split(ary, indices_or_sections, 1 if ary.ndim > 1 else 0)


def vsplit(ary: ArrayLike, indices_or_sections: int | Any) -> list[Tensor]:
    """Split along the rows (axis 0) of a tensor of at least 2 dimensions, as np.vsplit."""
    return _split_at_least("vsplit", ary, indices_or_sections, 0, 2)


def dsplit(ary: ArrayLike, indices_or_sections: int | Any) -> list[Tensor]:
    """Split along the depth (axis 2) of a tensor of at least 3 dimensions, as np.dsplit."""
    return _split_at_least("dsplit", ary, indices_or_sections, 2, 3)


def _split_at_least(name: str, ary: ArrayLike, indices_or_sections: Any, axis: int, ndim: int) -> list[Tensor]:
    ary = as_tensor(ary)
    if ary.ndim < ndim:
        raise ValueError(f"{name}: needs at least {ndim} dimensions, got shape {ary.shape}")
    return split(ary, indices_or_sections, axis)


def atleast_1d(*arys: ArrayLike) -> Tensor | tuple[Tensor, ...]:
    """Each argument with at least 1 dimension (one tensor, or a tuple for several), as np.atleast_1d."""
    return _at_least(arys, lambda shape: shape or (1,))


def atleast_2d(*arys: ArrayLike) -> Tensor | tuple[Tensor, ...]:
    """Each argument with at least 2 dimensions (a 1-D tensor becomes a row), as np.atleast_2d."""
    return _at_least(arys, lambda shape: (1,) * (2 - len(shape)) + shape if len(shape) < 2 else shape)


def atleast_3d(*arys: ArrayLike) -> Tensor | tuple[Tensor, ...]:
    """Each argument with at least 3 dimensions ((n,) -> (1, n, 1), (m, n) -> (m, n, 1)), as np.atleast_3d."""
    grown = {0: lambda s: (1, 1, 1), 1: lambda s: (1, *s, 1), 2: lambda s: (*s, 1)}
    return _at_least(arys, lambda shape: grown[len(shape)](shape) if len(shape) < 3 else shape)


def _at_least(arys: tuple[ArrayLike, ...], grown: Any) -> Tensor | tuple[Tensor, ...]:
    tensors = [as_tensor(a) for a in arys]
    results = tuple(t if grown(t.shape) == t.shape else reshape(t, grown(t.shape)) for t in tensors)
    return results[0] if len(results) == 1 else results


def _sequence(name: str, tup: Any) -> list[Tensor]:
    if isinstance(tup, Tensor):
        tup = list(tup)  # NumPy iterates an array given in place of a sequence: its rows
    parts = [as_tensor(t) for t in tup]
    if not parts:
        raise ValueError(f"{name}: needs at least one tensor")
    return parts


def _cast(name: str, parts: list[Tensor], dtype: Any, casting: str) -> list[Tensor]:
    """The parts cast to ``dtype`` as NumPy's joins do (unchanged when None)."""
    if dtype is None:
        return parts
    for part in parts:
        if not np.can_cast(part.dtype, dtype, casting=casting):  # type: ignore[arg-type]
            raise TypeError(f"{name}: cannot cast {part.dtype} to {np.dtype(dtype)} with casting={casting!r}")
    return [astype(part, dtype) for part in parts]


def vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    """Join along the rows (1-D tensors become rows), as np.vstack."""
    parts = _cast("vstack", _sequence("vstack", tup), dtype, casting)
    return concatenate(_listed(atleast_2d(*parts)), axis=0)


def hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    """Join along the columns (along axis 0 for 1-D tensors), as np.hstack."""
    parts = _listed(atleast_1d(*_cast("hstack", _sequence("hstack", tup), dtype, casting)))
    return concatenate(parts, axis=0 if parts[0].ndim == 1 else 1)


def dstack(tup: Any) -> Tensor:
    """Join along the depth, the third axis (after atleast_3d), as np.dstack."""
    return concatenate(_listed(atleast_3d(*_sequence("dstack", tup))), axis=2)


def column_stack(tup: Any) -> Tensor:
    """Join 1-D tensors as columns (and 2-D ones as they are) into a 2-D tensor, as np.column_stack."""
    parts = _sequence("column_stack", tup)
    return concatenate([reshape(t, (-1, 1)) if t.ndim < 2 else t for t in parts], axis=1)


def _listed(result: Tensor | tuple[Tensor, ...]) -> list[Tensor]:
    return [result] if isinstance(result, Tensor) else list(result)


def append(arr: ArrayLike, values: ArrayLike, axis: int | None = None) -> Tensor:
    """``values`` joined after ``arr`` along ``axis`` (both flattened when None), as np.append."""
    arr, values = as_pair(arr, values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def select(condlist: Any, choicelist: Any, default: ArrayLike = 0) -> Tensor:
    """From each choice where its condition holds (the first one wins), else ``default``, as np.select."""
    if len(condlist) != len(choicelist) or not len(condlist):
        raise ValueError(
            f"select: {len(condlist)} conditions and {len(choicelist)} choices; give as many of each, at least one"
        )
    conditions = [np.asarray(data_of(c)) for c in condlist]
    for position, condition in enumerate(conditions):
        if condition.dtype != bool:
            raise TypeError(f"select: condition {position} has dtype {condition.dtype}; conditions must be boolean")
    choices = [as_tensor(c) for c in choicelist]
    result = as_tensor(default, choices[0])
    shape = np.broadcast_shapes(result.shape, *(c.shape for c in choices), *(c.shape for c in conditions))
    for condition, choice in zip(conditions[::-1], choices[::-1]):
        result = where(condition, choice, result)
    return result if result.shape == shape else broadcast_to(result, shape)


def broadcast_arrays(*args: ArrayLike, subok: bool = False) -> tuple[Tensor, ...]:
    """The arguments broadcast against each other to one shape, as np.broadcast_arrays."""
    tensors = [as_tensor(a) for a in args]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"broadcast_arrays: shapes {shapes} do not broadcast together") from None
    return tuple(t if t.shape == shape else broadcast_to(t, shape) for t in tensors)


def meshgrid(*xi: ArrayLike, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple[Tensor, ...]:
    """Coordinate tensors from coordinate vectors ('xy': Cartesian, 'ij': matrix indexing), as np.meshgrid."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    count = len(xi)
    sides = [(1,) * i + (-1,) + (1,) * (count - i - 1) for i in range(count)]
    if indexing == "xy" and count > 1:  # the first two axes swapped
        sides[0], sides[1] = (1, -1) + sides[0][2:], (-1, 1) + sides[1][2:]
    grids = tuple(reshape(as_tensor(x), side) for x, side in zip(xi, sides))
    return grids if sparse else broadcast_arrays(*grids)


#: Public functions built from the ops above (no Node of their own) -> the NumPy callables they implement.
COMPOSITES: dict[str, tuple[Any, ...]] = {
    "ravel": (np.ravel,),
    "flatten": (),  # NumPy has ndarray.flatten only; the function mirrors ravel
    "squeeze": (np.squeeze,),
    "moveaxis": (np.moveaxis,),
    "rollaxis": (np.rollaxis,),
    "fliplr": (np.fliplr,),
    "flipud": (np.flipud,),
    "rot90": (np.rot90,),
    "diag": (np.diag,),
    "split": (np.split,),
    "array_split": (np.array_split,),
    "hsplit": (np.hsplit,),
    "vsplit": (np.vsplit,),
    "dsplit": (np.dsplit,),
    "atleast_1d": (np.atleast_1d,),
    "atleast_2d": (np.atleast_2d,),
    "atleast_3d": (np.atleast_3d,),
    "vstack": tuple(getattr(np, name) for name in ("vstack", "row_stack") if hasattr(np, name)),
    "hstack": (np.hstack,),
    "dstack": (np.dstack,),
    "column_stack": (np.column_stack,),
    "append": (np.append,),
    "select": (np.select,),
    "broadcast_arrays": (np.broadcast_arrays,),
    "meshgrid": (np.meshgrid,),
}
