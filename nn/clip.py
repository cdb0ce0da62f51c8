"""Gradient clipping as PyTorch's torch.nn.utils: clip_grad_norm_ and clip_grad_value_.

Both change the ``.grad`` of the given parameters (a new array each, so a gradient array
shared by two parameters is never scaled twice) and record no graph.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

import autograd_lite as ag

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_gradients(parameters: ag.Tensor | Iterable[ag.Tensor], caller: str) -> list[ag.Tensor]:
    """The parameters (one Tensor or an iterable of them) that have a gradient."""
    if isinstance(parameters, ag.Tensor):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(
            f"{caller}: expected a Tensor or an iterable of Tensors (model.parameters()), "
            f"got {type(parameters).__name__}"
        ) from None
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, ag.Tensor):
            raise TypeError(f"{caller}: item {index} is a {type(parameter).__name__}, not a Tensor")
    return [parameter for parameter in parameters if parameter.grad is not None]


def _values(gradient: Any) -> np.ndarray:
    return gradient.data if isinstance(gradient, ag.Tensor) else np.asarray(gradient)


def _replace(parameter: ag.Tensor, values: np.ndarray) -> None:
    """Set the gradient to ``values``, keeping its kind (array or Tensor) and dtype."""
    old = parameter.grad
    values = values.astype(_values(old).dtype, copy=False)
    parameter.grad = ag.Tensor(values) if isinstance(old, ag.Tensor) else values


def _number(caller: str, name: str, value: Any, allow_infinity: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
        raise TypeError(f"{caller}: {name} must be a number, got {value!r}")
    if math.isinf(value) and not allow_infinity:
        raise ValueError(f"{caller}: {name} must be finite, got {value}")
    return float(value)


def clip_grad_norm_(
    parameters: ag.Tensor | Iterable[ag.Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> ag.Tensor:
    """Scale all gradients together so that their total norm is at most ``max_norm``; return the total norm.

    The total norm is the ``norm_type``-norm of the vector of every gradient value (the norm of
    the per-parameter norms; ``float('inf')`` for the largest absolute value). When it exceeds
    ``max_norm``, every gradient is multiplied by max_norm / (total_norm + 1e-6), as PyTorch
    does; parameters without a gradient are skipped. The norm is computed in float64 (no
    overflow of squared float32 values) and returned as a 0-d Tensor in the gradients' dtype.
    A NaN or infinite total norm raises with ``error_if_nonfinite``, else it spreads to the gradients.
    """
    caller = "clip_grad_norm_"
    max_norm = _number(caller, "max_norm", max_norm, allow_infinity=True)
    norm_type = _number(caller, "norm_type", norm_type, allow_infinity=True)
    if norm_type <= 0:
        raise ValueError(
            f"{caller}: norm_type must be > 0 (2.0 for the Euclidean norm, inf for the max), got {norm_type}"
        )
    with_gradients = _with_gradients(parameters, caller)
    if not with_gradients:
        return ag.Tensor(np.float32(0.0))
    gradients = [_values(parameter.grad) for parameter in with_gradients]
    norms = [np.linalg.norm(g.astype(np.float64, copy=False).ravel(), ord=norm_type) for g in gradients]
    total = float(np.linalg.norm(np.array(norms), ord=norm_type))
    dtype = np.result_type(*gradients)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{caller}: the total norm of order {norm_type} of the gradients is {total}; "
            f"pass error_if_nonfinite=False to clip anyway, or find where the loss diverged"
        )
    coefficient = max_norm / (total + 1e-6)
    if not coefficient >= 1.0:  # also NaN (a NaN norm), which PyTorch spreads to every gradient too
        for parameter, gradient in zip(with_gradients, gradients):
            _replace(parameter, gradient * coefficient)
    return ag.Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: ag.Tensor | Iterable[ag.Tensor], clip_value: float) -> None:
    """Clip every gradient value into [-clip_value, clip_value], in place of the old gradients."""
    clip_value = _number("clip_grad_value_", "clip_value", clip_value, allow_infinity=True)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for parameter in _with_gradients(parameters, "clip_grad_value_"):
        gradient = _values(parameter.grad)
        _replace(parameter, np.clip(gradient, -clip_value, clip_value))
