"""Reductions and ops along an axis: sum, mean, max, min, logsumexp, softmax, log_softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, apply, data_of
from autograd_lite.ops.common import ArrayLike, Axis, as_tensor, check_axis, kept_shape, spread


class Sum(Node):
    name, category, numpy = "sum", "reduction", (np.sum,)
    formulas = ("1 for every element",)
    forward = staticmethod(np.sum)
    vjps = (lambda g, out, a, axis, keepdims: spread(g, a, axis),)
    jvps = (lambda t, out, a, axis, keepdims: np.sum(t, axis=axis, keepdims=keepdims),)


class Mean(Node):
    name, category, numpy = "mean", "reduction", (np.mean,)
    formulas = ("1/n for every element (n = number averaged)",)
    forward = staticmethod(np.mean)
    vjps = (lambda g, out, a, axis, keepdims: spread(g / _count(a, out), a, axis),)
    jvps = (lambda t, out, a, axis, keepdims: np.mean(t, axis=axis, keepdims=keepdims),)


def _count(a: Any, out: Any) -> int:
    """How many elements of ``a`` were averaged into each element of ``out``."""
    return a.size // out.size if out.size else 1


class Max(Node):
    name, category, numpy = "max", "reduction", (np.max, np.amax)
    formulas = ("1 at the arg-max (split evenly between ties), else 0",)
    forward = staticmethod(np.max)
    vjps = (lambda g, out, a, axis, keepdims: _to_extremes(g, out, a, axis),)
    jvps = (lambda t, out, a, axis, keepdims: np.sum(t * _extreme_weights(out, a, axis), axis=axis, keepdims=keepdims),)


class Min(Node):
    name, category, numpy = "min", "reduction", (np.min, np.amin)
    formulas = ("1 at the arg-min (split evenly between ties), else 0",)
    forward = staticmethod(np.min)
    vjps, jvps = Max.vjps, Max.jvps  # the rules find the extremes by comparing with the output


def _extreme_weights(out: Any, a: Any, axis: Axis) -> np.ndarray:
    """1 at the arg-max (or arg-min) of each reduced slice, split evenly between ties, else 0."""
    out = data_of(out)
    return _to_extremes(np.ones(out.shape, dtype=out.dtype), out, data_of(a), axis)


def _to_extremes(g: Any, out: Any, a: Any, axis: Axis) -> Any:
    kept = kept_shape(a.shape, axis)
    hits = (data_of(a) == data_of(out).reshape(kept)).astype(g.dtype)
    hits /= hits.sum(axis=axis, keepdims=True)
    return g.reshape(kept) * hits


class LogSumExp(Node):
    name, category = "logsumexp", "reduction"
    formulas = ("softmax(a) = exp(a - logsumexp(a))",)

    @staticmethod
    def forward(a: np.ndarray, axis: Axis, keepdims: bool) -> np.ndarray:
        shift = _finite_max(a, axis)
        with np.errstate(divide="ignore"):
            result = np.log(np.sum(np.exp(a - shift), axis=axis, keepdims=True)) + shift
        return result if keepdims else np.squeeze(result, axis=axis)

    vjps = (
        lambda g, out, a, axis, keepdims: (
            g.reshape(kept_shape(a.shape, axis)) * np.exp(a - out.reshape(kept_shape(a.shape, axis)))
        ),
    )
    jvps = (
        lambda t, out, a, axis, keepdims: np.sum(
            t * np.exp(a - out.reshape(kept_shape(a.shape, axis))), axis=axis, keepdims=keepdims
        ),
    )


def _finite_max(a: np.ndarray, axis: Axis) -> np.ndarray:
    # Subtracting the max keeps exp() <= 1. An infinite max shifts by 0, as PyTorch's logsumexp
    # does: log(sum(exp)) of an all -inf row is -inf, and of a row holding +inf it is +inf.
    shift = np.max(a, axis=axis, keepdims=True)
    if not np.isfinite(shift).all():
        shift = np.where(np.isfinite(shift), shift, 0)
    return shift


class Softmax(Node):
    name, category = "softmax", "along an axis"
    formulas = ("s * (grad - sum(grad * s)) with s = softmax(a): d s_i/d a_j = s_i * (delta_ij - s_j)",)

    @staticmethod
    def forward(a: np.ndarray, axis: int) -> np.ndarray:
        # The max shift keeps exp() <= 1; a row holding +inf or only -inf is nan, as in PyTorch.
        e = np.exp(a - np.max(a, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)

    vjps = (lambda g, out, a, axis: out * (g - np.sum(g * out, axis=axis, keepdims=True)),)
    jvps = vjps  # the Jacobian of softmax is symmetric


class LogSoftmax(Node):
    name, category = "log_softmax", "along an axis"
    formulas = ("grad - softmax(a) * sum(grad): d log_softmax(a)_i/d a_j = delta_ij - softmax(a)_j",)

    @staticmethod
    def forward(a: np.ndarray, axis: int) -> np.ndarray:
        shifted = a - np.max(a, axis=axis, keepdims=True)  # as softmax: +inf or all -inf rows are nan
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # the sum is >= 1 (or nan)

    vjps = (lambda g, out, a, axis: g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)
    jvps = (lambda t, out, a, axis: t - np.sum(t * np.exp(out), axis=axis, keepdims=True),)


def sum(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (an int, a tuple, or None for every element)."""
    a = as_tensor(a)
    return apply(Sum, a, axis=check_axis("sum", a, axis), keepdims=keepdims)


def mean(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    a = as_tensor(a)
    return apply(Mean, a, axis=check_axis("mean", a, axis), keepdims=keepdims)


def max(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; the gradient goes to the arg-max, split evenly between ties."""
    a = as_tensor(a)
    return apply(Max, a, axis=check_axis("max", a, axis), keepdims=keepdims)


def min(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; the gradient goes to the arg-min, split evenly between ties."""
    a = as_tensor(a)
    return apply(Min, a, axis=check_axis("min", a, axis), keepdims=keepdims)


def logsumexp(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``axis``, computed by subtracting the max first."""
    a = as_tensor(a)
    return apply(LogSumExp, a, axis=check_axis("logsumexp", a, axis), keepdims=keepdims)


def softmax(a: ArrayLike, axis: int = -1) -> Tensor:
    """exp(a) / sum(exp(a)) along ``axis``, computed by subtracting the max first."""
    a = as_tensor(a)
    return apply(Softmax, a, axis=check_axis("softmax", a, axis))


def log_softmax(a: ArrayLike, axis: int = -1) -> Tensor:
    """a - logsumexp(a) along ``axis``: log-probabilities without overflow or log(0)."""
    a = as_tensor(a)
    return apply(LogSoftmax, a, axis=check_axis("log_softmax", a, axis))
