"""Tensors made from scratch: zeros, ones, full, the *_like forms, arange, linspace, eye.

Each takes ``dtype=`` (float64 by default, as NumPy) and ``requires_grad=`` (then the dtype
must be real floating point, as for ``Tensor``). ``autograd_lite.random`` makes seeded random ones.

>>> import autograd_lite as ag
>>> ag.zeros((2, 3), requires_grad=True)
Tensor([[0., 0., 0.],
        [0., 0., 0.]], requires_grad=True)
>>> ag.linspace(0, 1, 5)
Tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.engine import Tensor, data_of

Shape = int | tuple[int, ...]


def _made(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad)


def zeros(shape: Shape, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return _made(np.zeros(shape, dtype=dtype), requires_grad)


def ones(shape: Shape, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _made(np.ones(shape, dtype=dtype), requires_grad)


def full(shape: Shape, fill_value: float, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value`` everywhere (a plain number: the fill is not differentiated)."""
    return _made(np.full(shape, data_of(fill_value), dtype=dtype), requires_grad)


def zeros_like(a: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros in the shape (and dtype, unless given) of ``a``."""
    return _made(np.zeros_like(data_of(a), dtype=dtype), requires_grad)


def ones_like(a: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones in the shape (and dtype, unless given) of ``a``."""
    return _made(np.ones_like(data_of(a), dtype=dtype), requires_grad)


def full_like(a: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` in the shape (and dtype, unless given) of ``a``."""
    return _made(np.full_like(data_of(a), data_of(fill_value), dtype=dtype), requires_grad)


def empty_like(a: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor shaped like ``a``; its values are zeros here (NumPy's would be whatever memory held)."""
    return zeros_like(a, dtype, requires_grad)


def arange(
    start: float, stop: float | None = None, step: float = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Evenly spaced values in [start, stop) (from 0 to ``start`` when ``stop`` is missing), as np.arange."""
    values = np.arange(start, stop, step, dtype=dtype) if stop is not None else np.arange(start, dtype=dtype)
    return _made(values, requires_grad)


def linspace(
    start: float, stop: float, num: int = 50, endpoint: bool = True, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """``num`` evenly spaced values from ``start`` to ``stop``, as np.linspace."""
    return _made(np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, k: int = 0, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """The identity matrix (ones on diagonal ``k``), as np.eye."""
    return _made(np.eye(n, m, k, dtype=dtype), requires_grad)
