"""Reductions and ops along an axis: sum, mean, max, min, logsumexp, softmax, log_softmax."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, apply, data_of
from autograd_lite.ops.common import ArrayLike, Axis, as_tensor, check_axis, kept_shape, normalize_axes, spread
from autograd_lite.ops.elementwise import where
from autograd_lite.ops.shape import getitem, reshape, transpose


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
    values, extremes = data_of(a), data_of(out).reshape(kept)
    # the gradient goes where the output came from: the extremes, or the nans that made it nan
    hits = ((values == extremes) | (np.isnan(values) & np.isnan(extremes))).astype(g.dtype)
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
        e = np.exp(a - a.max(axis=axis, keepdims=True))  # methods: the same reductions, without np.max's dispatch
        return e / e.sum(axis=axis, keepdims=True)

    vjps = (lambda g, out, a, axis: out * (g - np.sum(g * out, axis=axis, keepdims=True)),)
    jvps = vjps  # the Jacobian of softmax is symmetric


class LogSoftmax(Node):
    name, category = "log_softmax", "along an axis"
    formulas = ("grad - softmax(a) * sum(grad): d log_softmax(a)_i/d a_j = delta_ij - softmax(a)_j",)

    @staticmethod
    def forward(a: np.ndarray, axis: int) -> np.ndarray:
        shifted = a - a.max(axis=axis, keepdims=True)  # as softmax: +inf or all -inf rows are nan
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))  # the sum is >= 1 (or nan)

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


# ============================================================================
# Products, scans, spreads, statistics of order, NaN-skipping reductions
# ============================================================================
class Prod(Node):
    name, category, numpy = "prod", "reduction", (np.prod,)
    formulas = ("grad * the product of the other elements (exclusive products from both ends: no division)",)
    forward = staticmethod(np.prod)
    vjps = (lambda g, out, a, axis, keepdims: spread(g, a, axis) * _others_product(a, axis),)
    jvps = (lambda t, out, a, axis, keepdims: np.sum(t * _others_product(a, axis), axis=axis, keepdims=keepdims),)


def _reduced_last(a: Any, axis: Axis) -> tuple[Any, tuple[int, ...], tuple[int, ...]]:
    """``a`` with the reduced axes moved to the end and flattened into one: (x, permutation, permuted shape)."""
    axes = tuple(range(a.ndim)) if axis is None else normalize_axes(axis, a.ndim)
    permutation = tuple(i for i in range(a.ndim) if i not in axes) + axes
    moved = np.transpose(a, permutation)
    kept = moved.shape[: a.ndim - len(axes)]
    return moved.reshape(kept + (-1,)), permutation, moved.shape


def _exclusive_cumprod(x: Any) -> Any:
    """The product of the elements before each one along the last axis (1 for the first): no division."""
    if x.shape[-1] == 0:
        return x
    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    return np.cumprod(np.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)


def _others_product(a: Any, axis: Axis) -> Any:
    """For every element, the product of the other elements of its reduced slice (exact at zeros)."""
    x, permutation, moved_shape = _reduced_last(a, axis)
    reverse = (Ellipsis, slice(None, None, -1))
    others = _exclusive_cumprod(x) * _exclusive_cumprod(x[reverse])[reverse]
    return np.transpose(others.reshape(moved_shape), np.argsort(permutation))


def _flip(x: Any, axis: int) -> Any:
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _scan_axis(a: Any, axis: int | None) -> tuple[Any, int]:
    """The array a scan runs over and its axis: flattened for axis None, as NumPy's cumsum does."""
    return (a.reshape(-1), 0) if axis is None else (a, axis)


def _reverse_cumsum(g: Any, axis: int) -> Any:
    return _flip(np.cumsum(_flip(g, axis), axis=axis), axis)


class Cumsum(Node):
    name, category, numpy = "cumsum", "along an axis", (np.cumsum,)
    formulas = ("reverse cumulative sum of grad along the axis",)
    forward = staticmethod(np.cumsum)
    vjps = (lambda g, out, a, axis: _reverse_cumsum(g, 0 if axis is None else axis).reshape(a.shape),)
    jvps = (lambda t, out, a, axis: np.cumsum(t, axis=axis),)


class Cumprod(Node):
    name, category, numpy = "cumprod", "along an axis", (np.cumprod,)
    formulas = ("sum over k >= j of grad_k * prod(a_i, i <= k, i != j) (no division, exact at zeros)",)
    forward = staticmethod(np.cumprod)
    vjps = (lambda g, out, a, axis: _cumprod_vjp(g, out, a, axis),)
    jvps = (lambda t, out, a, axis: _cumprod_jvp(t, out, a, axis),)


def _cumprod_vjp(g: Any, out: Any, a: Any, axis: int | None) -> Any:
    (x, k), g, out = _scan_axis(a, axis), _scan_axis(g, axis)[0], _scan_axis(out, axis)[0]
    # PyTorch's rule, out_k / a_j for k >= j, while every a_j and out_k is a normal number: else an a_i is 0,
    # subnormal, or the product underflowed or overflowed, and dividing would lose the gradient, so the
    # products around each a_j are formed without dividing.
    if _dividing_is_exact(x, out, g):
        divided = _reverse_cumsum(g * out, k) / x
        if _all_finite_if(divided, g):
            return divided.reshape(a.shape)
    xs, gs = np.swapaxes(x, k, -1), np.swapaxes(g, k, -1)
    before, after, upper = _products_around(xs)  # grad_j = before_j * sum_k [k >= j] g_k after_jk
    share = before * np.sum(gs[..., None, :] * after * upper, axis=-1)
    return np.swapaxes(share, k, -1).reshape(a.shape)


def _cumprod_jvp(t: Any, out: Any, a: Any, axis: int | None) -> Any:
    (x, k), t, out = _scan_axis(a, axis), _scan_axis(t, axis)[0], _scan_axis(out, axis)[0]
    if _dividing_is_exact(x, out, t):  # as in _cumprod_vjp
        divided = out * np.cumsum(t / x, axis=k)
        if _all_finite_if(divided, t):
            return divided
    xs, ts = np.swapaxes(x, k, -1), np.swapaxes(t, k, -1)
    before, after, upper = _products_around(xs)  # dout_k = sum_j [j <= k] t_j before_j after_jk
    return np.swapaxes(np.sum((ts * before)[..., None] * after * upper, axis=-2), k, -1)


def _dividing_is_exact(x: Any, out: Any, incoming: Any) -> bool:
    """Whether out / x keeps full precision: every a_j and every out_k normal (not 0, not subnormal).

    Only on arrays: differentiated again (create_graph), out / x gives two terms of size 1/x that
    cancel, and at a tiny x their rounding is the whole answer.
    """
    if isinstance(x, Tensor) or isinstance(incoming, Tensor):
        return False
    tiny = np.finfo(data_of(out).dtype).tiny if data_of(out).dtype.kind == "f" else 1
    return bool(np.all(np.abs(data_of(out)) >= tiny) and np.all(np.abs(data_of(x)) >= tiny))


def _all_finite_if(result: Any, direction: Any) -> bool:
    """False when dividing overflowed: the result has an inf or nan that the incoming values do not."""
    return bool(np.all(np.isfinite(data_of(result)))) or not np.all(np.isfinite(data_of(direction)))


def _products_around(x: Any) -> tuple[Any, Any, np.ndarray]:
    """Along the last axis (n): prod(x_i, i < j), prod(x_i, j < i <= k) as an (..., n, n) array, and [k >= j]."""
    n = x.shape[-1]
    later = np.triu(np.ones((n, n), dtype=bool), 1)  # [i > j] at [j, i]
    after = np.cumprod(np.where(later, x[..., None, :], 1), axis=-1)
    return _exclusive_cumprod(x), after, np.triu(np.ones((n, n), dtype=data_of(x).dtype))


class Var(Node):
    name, category, numpy = "var", "reduction", (np.var,)
    formulas = ("grad * 2 * (a - mean(a)) / (n - ddof)",)
    forward = staticmethod(np.var)
    vjps = (lambda g, out, a, axis, ddof, keepdims: _var_vjp(g, a, axis, ddof),)
    jvps = (lambda t, out, a, axis, ddof, keepdims: _var_jvp(t, a, axis, ddof, keepdims),)


class Std(Node):
    name, category, numpy = "std", "reduction", (np.std,)
    formulas = ("grad * (a - mean(a)) / ((n - ddof) * std(a)); 0 where std(a) == 0, as PyTorch",)
    forward = staticmethod(np.std)
    # PyTorch's std_backward masks grad / (2 std) to 0 where std == 0 (all values equal): a valid
    # subgradient instead of 0/0 = nan. The stand-in 1 keeps inf * 0 out of second derivatives too.
    vjps = (lambda g, out, a, axis, ddof, keepdims: _var_vjp(_over_twice(g, out), a, axis, ddof),)
    jvps = (lambda t, out, a, axis, ddof, keepdims: _over_twice(_var_jvp(t, a, axis, ddof, keepdims), out),)


def _divisor(a: Any, axis: Axis, ddof: float) -> float:
    """n - ddof (at least 0, as NumPy), n being the number of elements in each reduced slice."""
    n = int(np.prod([a.shape[i] for i in normalize_axes(axis, a.ndim)])) if axis is not None else a.size
    return float(np.maximum(n - ddof, 0))


def _var_vjp(g: Any, a: Any, axis: Axis, ddof: float) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):  # n == ddof: nan, as PyTorch
        return spread(g, a, axis) * (2 * (a - np.mean(a, axis=axis, keepdims=True)) / _divisor(a, axis, ddof))


def _var_jvp(t: Any, a: Any, axis: Axis, ddof: float, keepdims: bool) -> Any:
    centered = a - np.mean(a, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(2 * centered * t, axis=axis, keepdims=keepdims) / _divisor(a, axis, ddof)


def _over_twice(g: Any, out: Any) -> Any:
    """g / (2 * out), and 0 where out == 0 (PyTorch's std at zero spread)."""
    zero = data_of(out) == 0
    return np.where(zero, 0, g / (2 * np.where(zero, 1, out)))


class Trace(Node):
    name, category, numpy = "trace", "linear algebra", (np.trace,)
    formulas = ("grad on the (offset) diagonal of the axes axis1, axis2, 0 elsewhere",)
    forward = staticmethod(np.trace)
    vjps = (
        lambda g, out, a, offset, axis1, axis2: (
            g.reshape(_trace_kept(a, axis1, axis2)) * _diagonal(a, g, offset, axis1, axis2)
        ),
    )
    jvps = (lambda t, out, a, offset, axis1, axis2: np.trace(t, offset=offset, axis1=axis1, axis2=axis2),)


def _trace_kept(a: Any, axis1: int, axis2: int) -> tuple[int, ...]:
    return tuple(1 if i in (axis1, axis2) else size for i, size in enumerate(a.shape))


def _diagonal(a: Any, like: Any, offset: int, axis1: int, axis2: int) -> np.ndarray:
    """1 on the diagonal np.trace sums (rows along axis1, columns along axis2), shaped to broadcast against a."""
    mask = np.eye(a.shape[axis1], a.shape[axis2], k=offset, dtype=like.dtype)
    mask = mask if axis1 < axis2 else mask.T
    return mask.reshape(tuple(size if i in (axis1, axis2) else 1 for i, size in enumerate(a.shape)))


def _real(name: str, a: Tensor) -> Tensor:
    """``a`` if its dtype is real (complex numbers are out of scope), else a TypeError naming the op."""
    if a.dtype.kind == "c":
        raise TypeError(f"{name}: complex input (dtype {a.dtype}, shape {a.shape}) is not supported; use real parts")
    return a


def _scan_checked(name: str, a: Tensor, axis: int | None) -> int | None:
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise ValueError(f"{name}: axis must be an int or None, got {axis!r} for a tensor of shape {a.shape}")
    return check_axis(name, a, axis)


def prod(
    a: ArrayLike, axis: Axis = None, dtype: Any = None, out: None = None, keepdims: bool = False
) -> Tensor:  # fmt: skip
    """Product over ``axis`` as np.prod; the gradient is the product of the other elements, exact at zeros."""
    a = _real("prod", _not_out("prod", as_tensor(a), out, dtype))
    return apply(Prod, a, axis=check_axis("prod", a, axis), keepdims=keepdims)


def cumsum(a: ArrayLike, axis: int | None = None, dtype: Any = None, out: None = None) -> Tensor:
    """Cumulative sum along ``axis`` (over the flattened values when None), as np.cumsum."""
    a = _real("cumsum", _not_out("cumsum", as_tensor(a), out, dtype))
    return apply(Cumsum, a, axis=_scan_checked("cumsum", a, axis))


def cumprod(a: ArrayLike, axis: int | None = None, dtype: Any = None, out: None = None) -> Tensor:
    """Cumulative product along ``axis`` (flattened when None) as np.cumprod; its gradient is exact at zeros."""
    a = _real("cumprod", _not_out("cumprod", as_tensor(a), out, dtype))
    return apply(Cumprod, a, axis=_scan_checked("cumprod", a, axis))


def _ddof(name: str, ddof: Any, correction: Any) -> float:
    if correction is not None:
        if ddof != 0:
            raise ValueError(f"{name}: give ddof or correction, not both (got ddof={ddof}, correction={correction})")
        ddof = correction
    return float(ddof)


def var(
    a: ArrayLike, axis: Axis = None, dtype: Any = None, out: None = None, ddof: float = 0, keepdims: bool = False,
    *, correction: float | None = None,
) -> Tensor:  # fmt: skip
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom, as np.var."""
    a = _real("var", _not_out("var", as_tensor(a), out, dtype))
    return apply(Var, a, axis=check_axis("var", a, axis), ddof=_ddof("var", ddof, correction), keepdims=keepdims)


def std(
    a: ArrayLike, axis: Axis = None, dtype: Any = None, out: None = None, ddof: float = 0, keepdims: bool = False,
    *, correction: float | None = None,
) -> Tensor:  # fmt: skip
    """Standard deviation over ``axis`` as np.std; its gradient is 0 where it is 0 (PyTorch's value)."""
    a = _real("std", _not_out("std", as_tensor(a), out, dtype))
    return apply(Std, a, axis=check_axis("std", a, axis), ddof=_ddof("std", ddof, correction), keepdims=keepdims)


def _not_out(name: str, a: Tensor, out: Any, dtype: Any = None) -> Tensor:
    """Refuse NumPy's ``out=`` (a result is a new Tensor); ``dtype`` casts first, as NumPy computes in it."""
    if out is not None:
        raise TypeError(f"{name}: out= is not supported on Tensors (shape {a.shape}); use the returned Tensor")
    return a if dtype is None else a.astype(dtype)


def trace(a: ArrayLike, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: None = None) -> Tensor:
    """Sum along a diagonal (``offset`` above the main one) of the axes ``axis1`` and ``axis2``, as np.trace."""
    a = _real("trace", _not_out("trace", as_tensor(a), out, dtype))
    if a.ndim < 2:
        raise ValueError(f"trace: needs at least 2 dimensions, got shape {a.shape}")
    first, second = (check_axis("trace", a, axis) for axis in (axis1, axis2))
    if first == second:
        raise ValueError(f"trace: axis1 and axis2 are the same axis ({axis1}, {axis2}) of shape {a.shape}")
    return apply(Trace, a, offset=int(offset), axis1=first, axis2=second)


def ptp(a: ArrayLike, axis: Axis = None, out: None = None, keepdims: bool = False) -> Tensor:
    """max - min over ``axis`` (peak to peak), as np.ptp; ties share the gradient as in max and min."""
    a = _real("ptp", _not_out("ptp", as_tensor(a), out))
    axis = check_axis("ptp", a, axis)
    return max(a, axis, keepdims) - min(a, axis, keepdims)


def nansum(
    a: ArrayLike, axis: Axis = None, dtype: Any = None, out: None = None, keepdims: bool = False
) -> Tensor:  # fmt: skip
    """Sum over ``axis`` treating nan as 0, as np.nansum; nan entries get a zero gradient."""
    a = _real("nansum", _not_out("nansum", as_tensor(a), out, dtype))
    return sum(where(np.isnan(a.data), 0, a), check_axis("nansum", a, axis), keepdims)


def nanmean(
    a: ArrayLike, axis: Axis = None, dtype: Any = None, out: None = None, keepdims: bool = False
) -> Tensor:  # fmt: skip
    """Mean over ``axis`` of the values that are not nan, as np.nanmean; nan entries get a zero gradient."""
    a = _real("nanmean", _not_out("nanmean", as_tensor(a), out, dtype))
    axis = check_axis("nanmean", a, axis)
    count = np.sum(~np.isnan(a.data), axis=axis, keepdims=keepdims)
    if np.any(count == 0):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)  # NumPy's warning; the mean is nan
    with np.errstate(invalid="ignore"):
        return nansum(a, axis, keepdims=keepdims) / np.asarray(count, dtype=a.dtype)


def average(
    a: ArrayLike, axis: Axis = None, weights: ArrayLike = None, returned: bool = False, *, keepdims: bool = False
) -> Tensor:  # fmt: skip
    """Weighted mean over ``axis`` as np.average (returned=False); Tensor weights are differentiated too."""
    a = _real("average", as_tensor(a))
    if returned:
        raise ValueError("average: returned=True is not supported; compute the sum of the weights separately")
    axis = check_axis("average", a, axis)
    if weights is None:
        return mean(a, axis, keepdims)
    w = _real("average", as_tensor(weights, a))
    if w.shape != a.shape:
        w = _weights_along(a, w, axis)
    total = sum(w, axis, keepdims)
    if np.any(total.data == 0):
        raise ZeroDivisionError(f"average: the weights (shape {w.shape}) sum to zero along axis {axis}")
    return sum(a * w, axis, keepdims) / total


def _weights_along(a: Tensor, w: Tensor, axis: Axis) -> Tensor:
    """1-D (or one axis per reduced axis) weights placed along the reduced axes of ``a``, as NumPy does."""
    if axis is None:
        raise TypeError(f"average: weights of shape {w.shape} differ from a's shape {a.shape}; give axis")
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if w.shape != tuple(a.shape[i] for i in axes):
        raise ValueError(
            f"average: weights of shape {w.shape} must be a's shape {a.shape} or its sizes along axis {axis}"
        )
    w = transpose(w, tuple(int(i) for i in np.argsort(axes)))  # the weights' axes in a's order
    return reshape(w, tuple(size if i in axes else 1 for i, size in enumerate(a.shape)))


def take_along_axis(arr: ArrayLike, indices: ArrayLike, axis: int | None = -1) -> Tensor:
    """Values at ``indices`` along ``axis``, as np.take_along_axis; the indices are not differentiated."""
    a = _real("take_along_axis", as_tensor(arr))
    positions = np.asanyarray(data_of(indices))  # asanyarray: ag.compile follows traced indices
    if positions.dtype.kind not in "iu":
        raise IndexError(f"take_along_axis: indices must be integers, got dtype {positions.dtype}")
    if axis is None:
        if positions.ndim != 1:
            raise ValueError(f"take_along_axis: with axis=None the indices must be 1-D, got shape {positions.shape}")
        a, axis = reshape(a, -1), 0
    if positions.ndim != a.ndim:
        raise ValueError(
            f"take_along_axis: indices of shape {positions.shape} need as many dimensions as the tensor {a.shape}"
        )
    axis = _scan_checked("take_along_axis", a, axis)
    index = tuple(
        positions if i == axis else np.arange(size).reshape((1,) * i + (-1,) + (1,) * (a.ndim - i - 1))
        for i, size in enumerate(a.shape)
    )
    return getitem(a, index)


def sort(a: ArrayLike, axis: int | None = -1, kind: Any = None, order: None = None, *, stable: Any = None) -> Tensor:
    """Sorted along ``axis`` (flattened when None) as np.sort; the gradient goes back through the permutation."""
    a = _real("sort", as_tensor(a))
    if order is not None:
        raise ValueError("sort: order= sorts structured arrays, which a Tensor is not")
    if axis is None:
        a, axis = reshape(a, -1), 0
    if a.ndim == 0:
        raise ValueError("sort: cannot sort a 0-d tensor (give axis=None to sort it as 1-d)")
    axis = _scan_checked("sort", a, axis)
    # kind is ignored: every sort gives the same values. The permutation is the stable one, so tied values
    # each take the gradient of the sorted position they landed in, in their original order (as PyTorch's
    # sort-based median and quantile do), instead of sharing it as max and min do.
    return take_along_axis(a, np.argsort(a.data, axis=axis, kind="stable"), axis)


def _sorted_slices(name: str, a: Tensor, axis: Axis) -> tuple[Tensor, np.ndarray]:
    """Each reduced slice of ``a`` flattened into the last axis and sorted; and which slices hold a nan."""
    x = _reduced_last(a, axis)[0]
    if x.shape[-1] == 0:
        raise ValueError(f"{name}: the reduced axes of shape {a.shape} (axis {axis}) hold no values")
    ordered = sort(x, axis=-1)
    return ordered, np.isnan(ordered.data[..., -1])  # nan sorts last


def median(
    a: ArrayLike, axis: Axis = None, out: None = None, overwrite_input: bool = False, keepdims: bool = False
) -> Tensor:  # fmt: skip
    """Median over ``axis`` as np.median (the mean of the two middle values for an even count; nan if any)."""
    a = _real("median", _not_out("median", as_tensor(a), out))
    axis = check_axis("median", a, axis)
    ordered, has_nan = _sorted_slices("median", a, axis)
    n = ordered.shape[-1]
    middle = ordered[..., n // 2] if n % 2 else mean(ordered[..., n // 2 - 1 : n // 2 + 1], axis=-1)
    result = where(has_nan, np.nan, middle)
    return reshape(result, kept_shape(a.shape, axis)) if keepdims else result


def quantile(
    a: ArrayLike, q: ArrayLike, axis: Axis = None, out: None = None, overwrite_input: bool = False,
    method: str = "linear", keepdims: bool = False, *, weights: None = None, interpolation: None = None,
) -> Tensor:  # fmt: skip
    """The ``q``-th quantiles over ``axis`` as np.quantile (method="linear"); ``q`` is not differentiated."""
    # The gradient goes to the two order statistics each quantile interpolates between (weights 1 - gamma
    # and gamma), through sort's permutation; slices holding a nan give nan and send no gradient.
    a = _real("quantile", _not_out("quantile", as_tensor(a), out))
    if method != "linear" or interpolation is not None or weights is not None:
        chosen = f"interpolation={interpolation!r}" if interpolation is not None else f"method={method!r}"
        chosen = "weights=" if weights is not None else chosen
        raise ValueError(f"quantile: only method='linear' without weights is differentiable here, got {chosen}")
    if isinstance(q, Tensor) and q.requires_grad:
        raise TypeError(f"quantile: q (shape {q.shape}) is not differentiated; pass q.detach() or an array")
    levels = np.asarray(data_of(q), dtype=np.float64)
    if not np.all((levels >= 0) & (levels <= 1)):
        raise ValueError(f"quantile: q must be in [0, 1] (percentile: in [0, 100]), got {data_of(q)!r}")
    axis = check_axis("quantile", a, axis)
    ordered, has_nan = _sorted_slices("quantile", a, axis)
    result = _interpolated(ordered, levels.reshape(-1))
    result = where(has_nan[..., None], np.nan, result)
    result = transpose(result, (result.ndim - 1, *range(result.ndim - 1)))  # the levels first, as NumPy
    return reshape(result, levels.shape + (kept_shape(a.shape, axis) if keepdims else ordered.shape[:-1]))


def _interpolated(ordered: Tensor, levels: np.ndarray) -> Tensor:
    """Linear interpolation between the order statistics around (n - 1) * q, for each level q (last axis)."""
    n = ordered.shape[-1]
    virtual = (n - 1) * levels
    below = np.clip(np.floor(virtual), 0, n - 1).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    gamma = np.asarray(virtual - below, dtype=ordered.dtype)
    low, high = ordered[..., below], ordered[..., above]
    step = high - low
    return where(gamma >= 0.5, high - step * (1 - gamma), low + step * gamma)  # NumPy's _lerp, both halves


def percentile(
    a: ArrayLike, q: ArrayLike, axis: Axis = None, out: None = None, overwrite_input: bool = False,
    method: str = "linear", keepdims: bool = False, *, weights: None = None, interpolation: None = None,
) -> Tensor:  # fmt: skip
    """The ``q``-th percentiles (0..100) over ``axis`` as np.percentile: quantile at q / 100."""
    if isinstance(q, Tensor) and q.requires_grad:
        raise TypeError(f"percentile: q (shape {q.shape}) is not differentiated; pass q.detach() or an array")
    levels = np.true_divide(np.asarray(data_of(q)), 100)
    return quantile(
        a, levels, axis, out, overwrite_input, method, keepdims, weights=weights, interpolation=interpolation
    )


#: Public functions built from other ops, with the NumPy callables they implement.
COMPOSITES = {
    "ptp": (np.ptp,),
    "nansum": (np.nansum,),
    "nanmean": (np.nanmean,),
    "average": (np.average,),
    "take_along_axis": (np.take_along_axis,),
    "sort": (np.sort,),
    "median": (np.median,),
    "quantile": (np.quantile,),
    "percentile": (np.percentile,),
}
