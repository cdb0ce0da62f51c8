"""Shape and indexing: reshape, transpose, swapaxes, expand_dims, broadcast_to, getitem, concatenate, stack."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, apply
from autograd_lite.ops.common import ArrayLike, as_tensor


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
        result = np.zeros(shape, dtype=g.dtype)
        if _is_basic_index(index):
            result[index] = g  # no position can repeat: plain assignment is enough
        else:
            np.add.at(result, index, g)
        return result

    vjps = (lambda g, out, grad_in, shape, index: g[index],)
    jvps = (lambda t, out, grad_in, shape, index: scatter_add(t, shape, index),)


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
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index) if index else np.zeros(0, dtype=np.intp)
    elif isinstance(index, tuple):
        index = tuple(p.data if isinstance(p, Tensor) else np.asarray(p) if isinstance(p, list) else p for p in index)
    return apply(GetItem, as_tensor(a), index=index)


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
