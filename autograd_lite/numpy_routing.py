"""NumPy on Tensors: ``np.exp(t)``, ``np.sum(t, axis=0)``, ``a @ t`` run the differentiable ops.

NumPy hands a call with a Tensor argument to ``Tensor.__array_ufunc__`` (ufuncs) or
``Tensor.__array_function__`` (everything else), which come here. The routing tables are
derived from the op table: each Node lists the NumPy callables it implements in ``numpy``
(and, when NumPy's signature differs from the public function's, gives ``from_numpy``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite import ops
from autograd_lite.engine import data_of


def _route(op: type[ops.Node]) -> Callable[..., Any]:
    return getattr(op, "from_numpy", None) or getattr(ops, op.name)


UFUNCS: dict[np.ufunc, Callable[..., Any]] = {
    function: _route(op) for op in ops.OP_TABLE for function in op.numpy if isinstance(function, np.ufunc)
}
FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    function: _route(op) for op in ops.OP_TABLE for function in op.numpy if not isinstance(function, np.ufunc)
}


def plain(value: Any) -> Any:
    """Tensors replaced by their arrays, inside lists and tuples too."""
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return data_of(value)


def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Route a NumPy ufunc on Tensors to the matching op; others get plain arrays."""
    function = UFUNCS.get(ufunc)
    if function is not None and method == "__call__" and not kwargs:
        return function(*inputs)
    return getattr(ufunc, method)(*plain(inputs), **plain(kwargs))


def dispatch_function(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Route a NumPy function on Tensors to the matching op; others get plain arrays."""
    ours = FUNCTIONS.get(function)
    if ours is not None:  # a keyword we do not support is an error, not a silent loss of the graph
        try:
            return ours(*args, **kwargs)
        except TypeError as error:
            if "keyword argument" not in str(error):
                raise
            raise TypeError(
                f"np.{function.__name__} on a Tensor runs autograd_lite's differentiable version, which "
                f"takes different arguments ({error}); call it on t.data for a plain array instead"
            ) from None
    return function(*plain(args), **plain(kwargs))
