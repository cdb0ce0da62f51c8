"""Numerical gradients by central differences, and a checker that compares them with backprop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite.engine import Tensor, no_grad, run_backward


class GradientCheckError(AssertionError):
    """Backprop and central differences disagree; the message holds a table of the worst cases."""


def _float_copies(inputs: tuple[Any, ...]) -> list[np.ndarray]:
    # C order: numerical_grad writes through reshape(-1), which is a view only of a C-contiguous array
    return [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64, order="C") for x in inputs]


def _scalar(function: Callable[..., Any], arrays: list[np.ndarray]) -> float:
    value = function(*[Tensor(a) for a in arrays])
    value = value.data if isinstance(value, Tensor) else np.asarray(value)
    if value.size != 1:
        raise ValueError(f"numerical_grad: the function must return a single number, got shape {value.shape}")
    return float(value.reshape(()))


def numerical_grad(function: Callable[..., Any], *inputs: Any, h: float = 1e-4) -> Any:
    """Central differences (f(x+h) - f(x-h)) / 2h for every element of every input.

    ``function`` receives Tensors (float64 copies of the inputs) and returns a single
    number. Returns one array shaped like each input: a single array for one input, a
    tuple for several.
    """
    arrays = _float_copies(inputs)
    gradients = []
    with no_grad():
        for array in arrays:
            gradient = np.zeros_like(array)
            flat, flat_gradient = array.reshape(-1), gradient.reshape(-1)
            for i in range(flat.size):
                original = flat[i]
                flat[i] = original + h
                above = _scalar(function, arrays)
                flat[i] = original - h
                below = _scalar(function, arrays)
                flat[i] = original
                flat_gradient[i] = (above - below) / (2 * h)
            gradients.append(gradient)
    return gradients[0] if len(gradients) == 1 else tuple(gradients)


def analytic_grad(function: Callable[..., Any], *inputs: Any) -> list[np.ndarray]:
    """Backprop gradients of ``function`` at float64 copies of the inputs (zeros if unused)."""
    leaves = [Tensor(a, requires_grad=True) for a in _float_copies(inputs)]
    output = function(*leaves)
    if not isinstance(output, Tensor):
        output = Tensor(output)  # a plain number: it does not depend on the inputs
    if output.size != 1:
        raise ValueError(f"check_grad: the function must return a single number, got shape {output.shape}")
    if not output.requires_grad:
        return [np.zeros_like(leaf.data) for leaf in leaves]
    found = run_backward(output, None, targets=leaves)
    assert found is not None
    return [
        np.zeros_like(leaf.data) if g is None else np.asarray(g, dtype=np.float64) for leaf, g in zip(leaves, found)
    ]


def check_grad(
    function: Callable[..., Any],
    *inputs: Any,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    h: float = 1e-4,
    fast: bool = False,
    seed: int | None = 0,
    rows: int = 8,
) -> bool:
    """Compare backprop with central differences; return True or raise GradientCheckError.

    An element passes when |analytic - numerical| <= atol + rtol * |numerical|. The
    error shows the worst mismatches as a table. ``fast=True`` checks one random
    directional derivative (a projection of the Jacobian) instead of every element:
    two evaluations of ``function`` instead of two per element.
    """
    analytic = analytic_grad(function, *inputs)
    if fast:
        return _check_projection(function, inputs, analytic, atol, rtol, h, seed)
    numerical = numerical_grad(function, *inputs, h=h)
    numerical = [numerical] if len(inputs) == 1 else list(numerical)
    table = []
    for number, (a, n) in enumerate(zip(analytic, numerical)):
        error = np.abs(a - n)
        bad = ~(error <= atol + rtol * np.abs(n))  # NaN counts as a mismatch
        for flat in np.flatnonzero(bad):
            index = tuple(int(i) for i in np.unravel_index(flat, bad.shape))
            table.append((number, index, a[index], n[index], error[index]))
    if not table:
        return True
    table.sort(key=lambda row: -np.nan_to_num(row[4], nan=np.inf))
    lines = [
        f"check_grad: {len(table)} gradient element(s) disagree (atol={atol}, rtol={rtol})",
        f"{'input':>5}  {'index':<14}{'analytic':>14}{'numerical':>14}{'abs error':>12}{'rel error':>12}",
    ]
    for number, index, a_value, n_value, error in table[:rows]:
        relative = error / abs(n_value) if n_value != 0 else np.inf
        lines.append(f"{number:>5}  {str(index):<14}{a_value:>14.6g}{n_value:>14.6g}{error:>12.3g}{relative:>12.3g}")
    raise GradientCheckError("\n".join(lines))


def _check_projection(
    function: Callable[..., Any],
    inputs: tuple[Any, ...],
    analytic: list[np.ndarray],
    atol: float,
    rtol: float,
    h: float,
    seed: int | None,
) -> bool:
    rng = np.random.default_rng(seed)
    arrays = _float_copies(inputs)
    directions = [rng.standard_normal(a.shape) for a in arrays]
    predicted = float(sum(np.sum(g * d) for g, d in zip(analytic, directions)))
    with no_grad():
        above = _scalar(function, [a + h * d for a, d in zip(arrays, directions)])
        below = _scalar(function, [a - h * d for a, d in zip(arrays, directions)])
    measured = (above - below) / (2 * h)
    error = abs(predicted - measured)
    if error <= atol + rtol * abs(measured):
        return True
    raise GradientCheckError(
        "check_grad(fast=True): the directional derivative along a random direction disagrees\n"
        f"  analytic (grad . u) = {predicted:.8g}\n  numerical           = {measured:.8g}\n"
        f"  abs error = {error:.3g}, rel error = {error / max(abs(measured), 1e-300):.3g}"
    )
