"""What the op modules share: turning arguments into Tensors, and axis bookkeeping."""

from __future__ import annotations

from typing import Any, overload

import numpy as np

from autograd_lite.engine import Tensor, constant

ArrayLike = Any  # a Tensor, a NumPy array or a Python number
#: NumPy 1.x (the project supports 1.24 and later) lacks or reads differently a few things ops rely on.
NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"
Axis = int | tuple[int, ...] | None


def as_tensor(value: ArrayLike, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; a Python number takes ``like``'s float dtype (float32 stays float32)."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, (int, float)) and like.dtype.kind == "f":
        # A Python number takes the other operand's float dtype: float32 stays float32.
        return constant(np.asarray(value, like.dtype))
    return constant(np.asarray(value))


def as_pair(a: ArrayLike, b: ArrayLike) -> tuple[Tensor, Tensor]:
    """Two operands as Tensors, a Python number taking the other operand's float dtype."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a, b
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


@overload
def check_axis(name: str, a: Tensor, axis: int | np.integer) -> int: ...
@overload
def check_axis(name: str, a: Tensor, axis: None) -> None: ...
@overload
def check_axis(name: str, a: Tensor, axis: Axis) -> Axis: ...
def check_axis(name: str, a: Tensor, axis: Axis | np.integer) -> Axis:
    """``axis`` normalised for ``a`` (ints in range, no repeats), or a ValueError naming the op."""
    if axis is None:
        return None
    try:
        axes = normalize_axes(axis, a.ndim)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: invalid axis {axis!r} for a tensor of shape {a.shape}: {error}") from None
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axis in {axis!r}")
    return axes[0] if isinstance(axis, (int, np.integer)) else axes


def kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """The shape of a reduction over ``axis`` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = normalize_axes(axis, len(shape))
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def normalize_axes(axis: Axis | np.integer, ndim: int) -> tuple[int, ...]:
    """The axes as non-negative ints, or a ValueError for one out of range."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)  # type: ignore[arg-type]
    normalized: list[Any] = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        normalized.append(a % ndim if ndim else 0)
    return tuple(normalized)


def spread(g: Any, a: Any, axis: Axis) -> Any:
    """Broadcast a reduced gradient back over the reduced axes of ``a``."""
    return np.broadcast_to(g.reshape(kept_shape(a.shape, axis)), a.shape)
