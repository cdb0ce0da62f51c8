"""Functional transforms: ``grad`` and ``value_and_grad``, to any order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite.engine import Tensor, enable_grad, run_backward


def value_and_grad(function: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """Return ``f`` that computes ``(function(*args), gradient)``.

    The gradient is taken with respect to argument ``argnums`` (a tuple of gradients
    when ``argnums`` is a tuple). Arguments may be arrays, numbers or Tensors; the
    gradients are Tensors that carry their own graph, so they can be differentiated
    again (``grad(grad(f))``).
    """
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args: Any) -> tuple[Tensor, Any]:
        arguments = list(args)
        targets = []
        for position in positions:
            if position >= len(arguments):
                raise TypeError(f"grad: argnums={argnums} but the function got {len(arguments)} arguments")
            value = arguments[position]
            if not (isinstance(value, Tensor) and value.requires_grad):
                value = Tensor(value, requires_grad=True)
            arguments[position] = value
            targets.append(value)
        with enable_grad():
            output = function(*arguments)
        if not isinstance(output, Tensor):
            output = Tensor(output)
        if output.size != 1:
            raise ValueError(
                f"grad: the function must return a single number, but it returned shape {output.shape}; "
                f"reduce it (e.g. .sum()) or use backward(grad=...)"
            )
        if output.requires_grad:
            # Record the backward pass (create_graph) so the gradients can be differentiated again.
            found = run_backward(output, None, retain_graph=True, create_graph=True, targets=targets)
        else:
            found = [None] * len(targets)
        assert found is not None
        gradients = tuple(
            Tensor(np.zeros_like(target.data)) if gradient is None else gradient
            for target, gradient in zip(targets, found)
        )
        return output, gradients[0] if isinstance(argnums, int) else gradients

    return wrapped


def grad(function: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """Return the function's gradient as a function: ``grad(f)(x)`` is df/dx at x.

    ``f`` must return a single number. The result is a Tensor (a tuple of them when
    ``argnums`` is a tuple) that can be differentiated again.
    """
    with_value = value_and_grad(function, argnums)

    def gradient(*args: Any) -> Any:
        return with_value(*args)[1]

    return gradient
