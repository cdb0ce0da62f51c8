"""Elementwise ops: arithmetic, functions of one number, activations, maximum/minimum, where, clip, cast."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, apply, constant, data_of
from autograd_lite.ops.common import ArrayLike, as_pair, as_tensor


class Add(Node):
    name, notation, category, numpy = "add", "{0} + {1}", "elementwise", (np.add,)
    formulas = ("1", "1")
    forward = staticmethod(np.add)
    vjps = (lambda g, out, a, b: g, lambda g, out, a, b: g)


class Sub(Node):
    name, notation, category, numpy = "sub", "{0} - {1}", "elementwise", (np.subtract,)
    formulas = ("1", "-1")
    forward = staticmethod(np.subtract)
    vjps = (lambda g, out, a, b: g, lambda g, out, a, b: -g)


class Mul(Node):
    name, notation, category, numpy = "mul", "{0} * {1}", "elementwise", (np.multiply,)
    formulas = ("b", "a")
    forward = staticmethod(np.multiply)
    vjps = (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a)


class Div(Node):
    name, notation, category, numpy = "div", "{0} / {1}", "elementwise", (np.divide,)
    formulas = ("1/b", "-a/b**2")
    forward = staticmethod(np.divide)
    vjps = (lambda g, out, a, b: g / b, lambda g, out, a, b: -g * out / b)


class Neg(Node):
    name, notation, category, numpy = "neg", "-{0}", "elementwise", (np.negative,)
    formulas = ("-1",)
    forward = staticmethod(np.negative)
    vjps = (lambda g, out, a: -g,)


class Power(Node):
    name, notation, category, numpy = "power", "{0} ** {1}", "elementwise", (np.power,)
    formulas = ("b*a**(b-1) (0 where a == b == 0)", "a**b * log(a) (0 where a == 0 and b >= 0)")
    forward = staticmethod(np.power)
    vjps = (
        lambda g, out, a, b: g * _power_slope(a, b),
        lambda g, out, a, b: g * _power_log_slope(out, a, b),
    )


# PyTorch's conventions at the edges, and the same second derivatives: where a rule's limit
# is used, the unused branch is computed on a harmless stand-in (1), so no 0 * inf = nan
# reaches a gradient of a gradient through np.where.
def _power_slope(a: Any, b: Any) -> Any:
    """b * a**(b-1), and 0 at a = 0 for b = 0: a**0 is constant (PyTorch's value where 0 * inf stands)."""
    constant_power = (data_of(b) == 0) & (data_of(a) == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(constant_power, 0, b * np.where(constant_power, 1, a) ** (b - 1))


def _power_log_slope(out: Any, a: Any, b: Any) -> Any:
    """a**b * log(a): 0 at a = 0 for b >= 0 (the limit), -inf for b < 0, nan for a < 0 (log of a negative)."""
    limit = (data_of(a) == 0) & (data_of(b) >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(limit, 0, out * np.log(np.where(limit, 1, a)))


class Exp(Node):
    name, category, numpy = "exp", "elementwise", (np.exp,)
    formulas = ("exp(a)",)
    forward = staticmethod(np.exp)
    vjps = (lambda g, out, a: g * out,)


class Log(Node):
    name, category, numpy = "log", "elementwise", (np.log,)
    formulas = ("1/a",)
    forward = staticmethod(np.log)  # log(0) = -inf and log(-1) = nan, with NumPy's warnings
    vjps = (lambda g, out, a: g / a,)


class Sqrt(Node):
    name, category, numpy = "sqrt", "elementwise", (np.sqrt,)
    formulas = ("1/(2*sqrt(a))",)
    forward = staticmethod(np.sqrt)
    vjps = (lambda g, out, a: g / (2 * out),)


class Abs(Node):
    name, category, numpy = "abs", "elementwise", (np.absolute,)
    formulas = ("sign(a)",)
    forward = staticmethod(np.abs)
    vjps = (lambda g, out, a: g * np.sign(data_of(a)),)


class Sin(Node):
    name, category, numpy = "sin", "elementwise", (np.sin,)
    formulas = ("cos(a)",)
    forward = staticmethod(np.sin)
    vjps = (lambda g, out, a: g * np.cos(a),)


class Cos(Node):
    name, category, numpy = "cos", "elementwise", (np.cos,)
    formulas = ("-sin(a)",)
    forward = staticmethod(np.cos)
    vjps = (lambda g, out, a: -g * np.sin(a),)


# ============================================================================
# Activations
# ============================================================================
class Sigmoid(Node):
    name, category = "sigmoid", "elementwise"
    formulas = ("sigmoid(a) * (1 - sigmoid(a))",)

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        # exp of a non-positive number never overflows: for a >= 0 use 1/(1+e^-a),
        # for a < 0 the equal e^a/(1+e^a).
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1 / (1 + e), e / (1 + e))

    vjps = (lambda g, out, a: g * out * (1 - out),)


class Tanh(Node):
    name, category, numpy = "tanh", "elementwise", (np.tanh,)
    formulas = ("1 - tanh(a)**2",)
    forward = staticmethod(np.tanh)
    vjps = (lambda g, out, a: g * (1 - out * out),)


class Relu(Node):
    name, category = "relu", "elementwise"
    formulas = ("1 if a > 0 else 0",)

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        return np.maximum(a, 0)

    vjps = (lambda g, out, a: g * (data_of(a) > 0),)


class Maximum(Node):
    name, category, numpy = "maximum", "elementwise", (np.maximum,)
    formulas = ("0 where a < b, 1/2 where a == b, else 1 (nan included)", "0 where b < a, 1/2 where a == b, else 1")
    forward = staticmethod(np.maximum)
    vjps = (
        lambda g, out, a, b: g * _share_of_larger(a, b, g),
        lambda g, out, a, b: g * _share_of_larger(b, a, g),
    )


class Minimum(Node):
    name, category, numpy = "minimum", "elementwise", (np.minimum,)
    formulas = ("0 where a > b, 1/2 where a == b, else 1 (nan included)", "0 where b > a, 1/2 where a == b, else 1")
    forward = staticmethod(np.minimum)
    vjps = (
        lambda g, out, a, b: g * _share_of_larger(b, a, g),
        lambda g, out, a, b: g * _share_of_larger(a, b, g),
    )


def _share_of_larger(mine: Any, other: Any, like: Any) -> np.ndarray:
    """0 where mine < other, 1/2 on ties, else 1 (in the dtype of ``like``).

    As in PyTorch, a nan on either side sends the whole gradient to both (the output is nan).
    """
    mine, other = data_of(mine), data_of(other)
    share = np.asarray(~(mine < other), dtype=like.dtype)
    share[np.broadcast_to(mine == other, share.shape)] = 0.5
    return share


class Where(Node):
    name, category, numpy = "where", "elementwise", (np.where,)
    signature = "where(c, a, b)"
    formulas = ("1 where c, else 0", "0 where c, else 1")

    @staticmethod
    def forward(a: np.ndarray, b: np.ndarray, condition: np.ndarray) -> np.ndarray:
        return np.where(condition, a, b)

    vjps = (
        lambda g, out, a, b, condition: np.where(condition, g, 0),
        lambda g, out, a, b, condition: np.where(condition, 0, g),
    )


class Clip(Node):
    name, category, numpy, arguments = "clip", "elementwise", (np.clip,), ("a", "low", "high")
    formulas = (
        "1 where low <= a <= high, else 0",
        "1 where a < low <= high, else 0",
        "1 where max(a, low) > high, else 0",
    )

    @staticmethod
    def from_numpy(a: Any, *bounds: Any, min: Any = None, max: Any = None) -> Tensor:
        """np.clip's signature on :func:`clip`: both bounds by position (a_min, a_max), or NumPy 2's min=/max=."""
        if len(bounds) not in ((0, 2) if min is None and max is None else (0,)):
            raise TypeError(f"np.clip: give a_min and a_max by position, or min=/max= by keyword, got {len(bounds)}")
        low, high = bounds if bounds else (min, max)
        return clip(a, low, high)

    forward = staticmethod(np.clip)
    # The output is min(max(a, low), high): each gets the gradient where it is what came out
    # (a at a bound keeps it, as in PyTorch); a nan input sends nothing anywhere.
    vjps = (
        lambda g, out, a, low, high: g * ((data_of(a) >= data_of(low)) & (data_of(a) <= data_of(high))),
        lambda g, out, a, low, high: g * ((data_of(a) < data_of(low)) & (data_of(low) <= data_of(high))),
        lambda g, out, a, low, high: g * (np.maximum(data_of(a), data_of(low)) > data_of(high)),
    )


class Cast(Node):
    name, category = "astype", "elementwise"
    formulas = ("1 (the gradient is cast back to a's dtype)",)

    @staticmethod
    def forward(a: np.ndarray, dtype: Any) -> np.ndarray:
        return a.astype(dtype)

    vjps = (lambda g, out, a, dtype: g.astype(a.dtype),)
    jvps = (lambda t, out, a, dtype: t.astype(dtype),)


def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a + b, broadcasting like NumPy."""
    return apply(Add, *as_pair(a, b))


def sub(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a - b, broadcasting like NumPy."""
    return apply(Sub, *as_pair(a, b))


def mul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a * b, broadcasting like NumPy."""
    return apply(Mul, *as_pair(a, b))


def div(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a / b, broadcasting like NumPy."""
    return apply(Div, *as_pair(a, b))


def power(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a ** b, broadcasting like NumPy."""
    return apply(Power, *as_pair(a, b))


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise larger of a and b; on a tie each side gets half the gradient."""
    return apply(Maximum, *as_pair(a, b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise smaller of a and b; on a tie each side gets half the gradient."""
    return apply(Minimum, *as_pair(a, b))


def neg(a: ArrayLike) -> Tensor:
    """Elementwise -a."""
    return apply(Neg, as_tensor(a))


def exp(a: ArrayLike) -> Tensor:
    """Elementwise e ** a."""
    return apply(Exp, as_tensor(a))


def log(a: ArrayLike) -> Tensor:
    """Elementwise natural logarithm; log(0) is -inf, without a warning."""
    return apply(Log, as_tensor(a))


def sqrt(a: ArrayLike) -> Tensor:
    """Elementwise square root."""
    return apply(Sqrt, as_tensor(a))


def abs(a: ArrayLike) -> Tensor:
    """Elementwise absolute value (derivative sign(a), 0 at 0)."""
    return apply(Abs, as_tensor(a))


def sin(a: ArrayLike) -> Tensor:
    """Elementwise sine."""
    return apply(Sin, as_tensor(a))


def cos(a: ArrayLike) -> Tensor:
    """Elementwise cosine."""
    return apply(Cos, as_tensor(a))


def sigmoid(a: ArrayLike) -> Tensor:
    """Elementwise 1 / (1 + exp(-a)), stable for any magnitude."""
    return apply(Sigmoid, as_tensor(a))


def tanh(a: ArrayLike) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return apply(Tanh, as_tensor(a))


def relu(a: ArrayLike) -> Tensor:
    """Elementwise max(a, 0); its derivative at 0 is 0."""
    return apply(Relu, as_tensor(a))


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (condition is not differentiated)."""
    a, b = as_pair(a, b)
    return apply(Where, a, b, condition=np.asarray(data_of(condition), dtype=bool))


def clip(a: ArrayLike, low: Any = None, high: Any = None) -> Tensor:
    """Limit values to [low, high]; a at a bound keeps its gradient, and Tensor bounds get theirs."""
    if low is None and high is None:
        raise ValueError("clip: give at least one of low and high")
    a = as_tensor(a)
    return apply(Clip, a, _bound(low, a, -np.inf), _bound(high, a, np.inf))


def _bound(value: Any, like: Tensor, missing: float) -> Tensor:
    """A clip bound as a Tensor: a number takes the tensor's float dtype (float32 stays float32);
    a missing one is the extreme of the tensor's dtype, so clip(a, None, h) equals clip(a, -inf, h)."""
    if isinstance(value, Tensor):
        return value
    if value is None:
        if like.dtype.kind in "iu":
            limits = np.iinfo(like.dtype)
            return constant(np.asarray(limits.max if missing > 0 else limits.min, like.dtype))
        if like.dtype.kind != "f":
            raise TypeError(f"clip: needs a numeric tensor, got dtype {like.dtype} (shape {like.shape})")
        return constant(np.asarray(missing, like.dtype))
    array = np.asarray(value)
    if array.ndim == 0 and like.dtype.kind == "f" and array.dtype.kind in "biuf":
        array = array.astype(like.dtype)
    return constant(array)


def astype(a: ArrayLike, dtype: Any) -> Tensor:
    """Cast to another dtype; the gradient is cast back."""
    a = as_tensor(a)
    if np.dtype(dtype) == a.dtype:
        return a
    return apply(Cast, a, dtype=np.dtype(dtype))
