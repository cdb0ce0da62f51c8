"""Elementwise ops: arithmetic, functions of one number, activations, maximum/minimum, where, clip, cast."""

from __future__ import annotations

import math
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
    """b * a**(b-1), and 0 at a = 0 (or nan) for b = 0: a**0 is constant (PyTorch's value where 0 * inf stands)."""
    constant_power = (data_of(b) == 0) & ((data_of(a) == 0) | np.isnan(data_of(a)))
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
    formulas = ("sign(a) (0 at a nan, as PyTorch)",)
    forward = staticmethod(np.abs)
    vjps = (lambda g, out, a: g * np.sign(np.where(np.isnan(data_of(a)), 0, data_of(a))),)


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
    formulas = ("0 if a <= 0 else 1",)  # nan gets 1, as in PyTorch

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        return np.maximum(a, 0)

    # out = max(a, 0) is 0 exactly where a <= 0 (and nan where a is): one comparison, and a can be freed
    vjps = (lambda g, out, a: g * (data_of(out) != 0),)


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
    # np.where rather than a write into a converted copy: ag.compile follows it (a copy would be frozen)
    return np.where(mine == other, 0.5, ~(mine < other)).astype(like.dtype)


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


# ============================================================================
# More functions of one number (NumPy's ufuncs), with PyTorch's derivatives
# ============================================================================
_LN2, _LN10 = float(np.log(2)), float(np.log(10))
_SQRT1_2, _SQRT_2_PI, _TWO_SQRT_PI = float(np.sqrt(0.5)), float(np.sqrt(2 / np.pi)), float(2 / np.sqrt(np.pi))


class Tan(Node):
    name, category, numpy = "tan", "elementwise", (np.tan,)
    formulas = ("1 + tan(a)**2",)
    forward = staticmethod(np.tan)
    vjps = (lambda g, out, a: g * (1 + out * out),)


class Arcsin(Node):
    name, category, numpy = "arcsin", "elementwise", (np.arcsin,)
    formulas = ("1/sqrt(1 - a**2)",)
    forward = staticmethod(np.arcsin)
    vjps = (lambda g, out, a: g / np.sqrt((1 - a) * (1 + a)),)


class Arccos(Node):
    name, category, numpy = "arccos", "elementwise", (np.arccos,)
    formulas = ("-1/sqrt(1 - a**2)",)
    forward = staticmethod(np.arccos)
    vjps = (lambda g, out, a: -g / np.sqrt((1 - a) * (1 + a)),)


class Arctan(Node):
    name, category, numpy = "arctan", "elementwise", (np.arctan,)
    formulas = ("1/(1 + a**2)",)
    forward = staticmethod(np.arctan)
    vjps = (lambda g, out, a: g / (1 + a * a),)


class Sinh(Node):
    name, category, numpy = "sinh", "elementwise", (np.sinh,)
    formulas = ("cosh(a)",)
    forward = staticmethod(np.sinh)
    vjps = (lambda g, out, a: g * np.cosh(a),)


class Cosh(Node):
    name, category, numpy = "cosh", "elementwise", (np.cosh,)
    formulas = ("sinh(a)",)
    forward = staticmethod(np.cosh)
    vjps = (lambda g, out, a: g * np.sinh(a),)


class Arcsinh(Node):
    name, category, numpy = "arcsinh", "elementwise", (np.arcsinh,)
    formulas = ("1/sqrt(a**2 + 1)",)
    forward = staticmethod(np.arcsinh)
    vjps = (lambda g, out, a: g / np.hypot(a, 1),)  # hypot: no overflow of a**2


class Arccosh(Node):
    name, category, numpy = "arccosh", "elementwise", (np.arccosh,)
    formulas = ("1/sqrt(a**2 - 1)",)
    forward = staticmethod(np.arccosh)
    vjps = (lambda g, out, a: g / np.sqrt((a - 1) * (a + 1)),)


class Arctanh(Node):
    name, category, numpy = "arctanh", "elementwise", (np.arctanh,)
    formulas = ("1/(1 - a**2)",)
    forward = staticmethod(np.arctanh)
    vjps = (lambda g, out, a: g / ((1 - a) * (1 + a)),)


class Log2(Node):
    name, category, numpy = "log2", "elementwise", (np.log2,)
    formulas = ("1/(a*log(2))",)
    forward = staticmethod(np.log2)
    vjps = (lambda g, out, a: g / (a * _LN2),)


class Log10(Node):
    name, category, numpy = "log10", "elementwise", (np.log10,)
    formulas = ("1/(a*log(10))",)
    forward = staticmethod(np.log10)
    vjps = (lambda g, out, a: g / (a * _LN10),)


class Log1p(Node):
    name, category, numpy = "log1p", "elementwise", (np.log1p,)
    formulas = ("1/(1 + a)",)
    forward = staticmethod(np.log1p)
    vjps = (lambda g, out, a: g / (1 + a),)


class Expm1(Node):
    name, category, numpy = "expm1", "elementwise", (np.expm1,)
    formulas = ("exp(a)",)
    forward = staticmethod(np.expm1)
    vjps = (lambda g, out, a: g * np.exp(a),)  # not out + 1, which loses exp(a) for a << 0


class Exp2(Node):
    name, category, numpy = "exp2", "elementwise", (np.exp2,)
    formulas = ("2**a * log(2)",)
    forward = staticmethod(np.exp2)
    vjps = (lambda g, out, a: g * out * _LN2,)


class Square(Node):
    name, category, numpy = "square", "elementwise", (np.square,)
    formulas = ("2*a",)
    forward = staticmethod(np.square)
    vjps = (lambda g, out, a: g * (2 * a),)


class Reciprocal(Node):
    name, category, numpy = "reciprocal", "elementwise", (np.reciprocal,)
    formulas = ("-1/a**2",)
    forward = staticmethod(np.reciprocal)
    vjps = (lambda g, out, a: -g * out * out,)


class Cbrt(Node):
    name, category, numpy = "cbrt", "elementwise", (np.cbrt,)
    formulas = ("1/(3*cbrt(a)**2)",)
    forward = staticmethod(np.cbrt)  # cbrt'(0) = inf, as sqrt'(0)
    vjps = (lambda g, out, a: g / (3 * out * out),)


class Fabs(Node):
    name, category, numpy = "fabs", "elementwise", (np.fabs,)
    formulas = ("sign(a)",)
    forward = staticmethod(np.fabs)
    vjps = (lambda g, out, a: g * np.sign(data_of(a)),)


class Sign(Node):
    name, category, numpy = "sign", "elementwise", (np.sign,)
    formulas = ("0",)
    forward = staticmethod(np.sign)
    # zeros shaped like the gradient (a Tensor under create_graph), even where it is inf or nan, as in PyTorch
    vjps = (lambda g, out, a: np.where(True, 0, g),)


class Positive(Node):
    name, category, numpy = "positive", "elementwise", (np.positive,)
    formulas = ("1",)
    forward = staticmethod(np.positive)
    vjps = (lambda g, out, a: g,)


class Deg2rad(Node):
    name, category, numpy = "deg2rad", "elementwise", (np.deg2rad, np.radians)
    formulas = ("pi/180",)
    forward = staticmethod(np.deg2rad)
    vjps = (lambda g, out, a: g * (np.pi / 180),)


class Rad2deg(Node):
    name, category, numpy = "rad2deg", "elementwise", (np.rad2deg, np.degrees)
    formulas = ("180/pi",)
    forward = staticmethod(np.rad2deg)
    vjps = (lambda g, out, a: g * (180 / np.pi),)


class Sinc(Node):
    name, category, numpy = "sinc", "elementwise", (np.sinc,)
    formulas = ("(cos(pi*a) - sinc(a))/a (0 at a == 0)",)
    forward = staticmethod(np.sinc)
    vjps = (lambda g, out, a: g * _sinc_slope(a),)


def _sinc_slope(a: Any) -> Any:
    """(cos(pi a) - sinc(a)) / a, by its series near 0 (no cancellation there; 0 at 0)."""
    small = np.abs(data_of(a)) < 1e-3
    near = np.where(small, a, 0)  # each branch computed on harmless values, so no 0 * inf in second derivatives
    far = np.where(small, 1, a)
    squared = near * near
    series = near * (-(np.pi**2) / 3 + squared * (np.pi**4 / 30 - squared * (np.pi**6 / 840)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(small, series, (np.cos(np.pi * far) - np.sinc(far)) / far)


# ============================================================================
# More functions of two numbers
# ============================================================================
def _sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) with NumPy ufuncs that are ops too: exact at +-inf, no overflow."""
    return np.exp(-np.logaddexp(0, -x))


class Logaddexp(Node):
    name, category, numpy = "logaddexp", "elementwise", (np.logaddexp,)
    formulas = ("sigmoid(a - b)", "sigmoid(b - a)")
    forward = staticmethod(np.logaddexp)
    vjps = (lambda g, out, a, b: g * _sigmoid(a - b), lambda g, out, a, b: g * _sigmoid(b - a))


class Logaddexp2(Node):
    name, category, numpy = "logaddexp2", "elementwise", (np.logaddexp2,)
    formulas = ("sigmoid((a - b)*log(2))", "sigmoid((b - a)*log(2))")
    forward = staticmethod(np.logaddexp2)
    vjps = (
        lambda g, out, a, b: g * _sigmoid((a - b) * _LN2),
        lambda g, out, a, b: g * _sigmoid((b - a) * _LN2),
    )


class Arctan2(Node):
    name, category, numpy = "arctan2", "elementwise", (np.arctan2,)
    formulas = ("b/(a**2 + b**2)", "-a/(a**2 + b**2)")
    forward = staticmethod(np.arctan2)
    # (b/h)/h with h = hypot(a, b): no overflow of a**2 + b**2; nan at (0, 0) as in PyTorch
    vjps = (
        lambda g, out, a, b: g * (b / np.hypot(a, b)) / np.hypot(a, b),
        lambda g, out, a, b: -g * (a / np.hypot(a, b)) / np.hypot(a, b),
    )


class Hypot(Node):
    name, category, numpy = "hypot", "elementwise", (np.hypot,)
    formulas = ("a/hypot(a, b)", "b/hypot(a, b)")
    forward = staticmethod(np.hypot)
    vjps = (lambda g, out, a, b: g * a / out, lambda g, out, a, b: g * b / out)  # nan at (0, 0) as in PyTorch


class Fmax(Node):
    name, category, numpy = "fmax", "elementwise", (np.fmax,)
    formulas = (
        "1 where a > b or b is nan, 1/2 where a == b, else 0",
        "1 where b > a or a alone is nan, 1/2 where a == b, else 0",
    )
    forward = staticmethod(np.fmax)
    vjps = (
        lambda g, out, a, b: g * _share_of_fmax(a, b, g, np.greater, first=True),
        lambda g, out, a, b: g * _share_of_fmax(b, a, g, np.greater, first=False),
    )


class Fmin(Node):
    name, category, numpy = "fmin", "elementwise", (np.fmin,)
    formulas = (
        "1 where a < b or b is nan, 1/2 where a == b, else 0",
        "1 where b < a or a alone is nan, 1/2 where a == b, else 0",
    )
    forward = staticmethod(np.fmin)
    vjps = (
        lambda g, out, a, b: g * _share_of_fmax(a, b, g, np.less, first=True),
        lambda g, out, a, b: g * _share_of_fmax(b, a, g, np.less, first=False),
    )


def _share_of_fmax(mine: Any, other: Any, like: Any, wins: Any, first: bool) -> np.ndarray:
    """The share of ``mine`` in fmax/fmin (``wins`` = np.greater/np.less): what came out, 1/2 on ties.

    A nan loses to a number (the number is the output); when both are nan the first input gets it, as in PyTorch.
    """
    mine, other = data_of(mine), data_of(other)
    taken = wins(mine, other) | np.isnan(other)
    if not first:
        taken = taken & ~np.isnan(mine)
    return np.where(mine == other, 0.5, taken).astype(like.dtype)  # as in _share_of_larger


class Remainder(Node):
    name, category, numpy = "remainder", "elementwise", (np.remainder,)
    formulas = ("1", "-floor(a/b)")
    forward = staticmethod(np.remainder)
    vjps = (lambda g, out, a, b: g, lambda g, out, a, b: -g * _floor_quotient(a, b))


def _floor_quotient(a: Any, b: Any) -> np.ndarray:
    """floor(a/b) as NumPy's remainder counts it (a = b * quotient + remainder); constant, as a gradient factor."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.floor_divide(data_of(a), data_of(b))


# ============================================================================
# More activations, and erf
# ============================================================================
class Softplus(Node):
    name, category = "softplus", "elementwise"
    formulas = ("sigmoid(a)",)

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))  # log(1 + exp(a)) without overflow, nan quietly

    vjps = (lambda g, out, a: g * _sigmoid(a),)


class LeakyRelu(Node):
    name, category = "leaky_relu", "elementwise"
    formulas = ("1 if a > 0 else negative_slope",)

    @staticmethod
    def forward(a: np.ndarray, negative_slope: float) -> np.ndarray:
        return np.where(a > 0, a, a * negative_slope)

    vjps = (lambda g, out, a, negative_slope: np.where(data_of(a) > 0, g, g * negative_slope),)


class Elu(Node):
    name, category = "elu", "elementwise"
    formulas = ("1 if a > 0 else alpha*exp(a)",)

    @staticmethod
    def forward(a: np.ndarray, alpha: float) -> np.ndarray:
        return np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))  # expm1 of the positive side is not needed

    vjps = (lambda g, out, a, alpha: _elu_slope(g, a, alpha),)


def _elu_slope(g: Any, a: Any, alpha: float) -> Any:
    """g where a > 0, else g * alpha * exp(a) (alpha at 0, as in PyTorch); exp only of the non-positive side."""
    positive = data_of(a) > 0
    return np.where(positive, g, g * alpha * np.exp(np.where(positive, 0, a)))


class Gelu(Node):
    name, category = "gelu", "elementwise"
    formulas = ("Phi(a) + a*phi(a) (the normal cdf and density; approximate='tanh': of their tanh form)",)

    @staticmethod
    def forward(a: np.ndarray, approximate: str) -> np.ndarray:
        if approximate == "tanh":  # 0.5*a*(1 + tanh(u)) = a*sigmoid(2u), without the cancellation for a << 0
            return a * Sigmoid.forward(2 * _SQRT_2_PI * (a + 0.044715 * a * a * a))
        return 0.5 * a * _erfc_values(-_SQRT1_2 * a)  # a * Phi(a), Phi by erfc: exact for a << 0 too

    vjps = (lambda g, out, a, approximate: g * _gelu_slope(a, approximate),)


def _gelu_slope(a: Any, approximate: str) -> Any:
    """d/da gelu(a), written with ops (so it can be differentiated again)."""
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_PI * (a + 0.044715 * a * a * a))
        return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * (_SQRT_2_PI * (1 + 3 * 0.044715 * a * a))
    return _normal_cdf(a) + a * np.exp(-0.5 * a * a) * (1 / np.sqrt(2 * np.pi))


def _normal_cdf(a: Any) -> Any:
    """Phi(a) = erfc(-a/sqrt(2))/2: the erf op on a Tensor (create_graph), exact erfc values on an array."""
    if isinstance(a, Tensor):
        return 0.5 * (1 + erf(a * _SQRT1_2))
    return 0.5 * _erfc_values(-_SQRT1_2 * a)


_ERF, _ERFC = np.frompyfunc(math.erf, 1, 1), np.frompyfunc(math.erfc, 1, 1)


def _erf_values(a: np.ndarray) -> np.ndarray:
    """erf elementwise by the standard library's math.erf (exact to double precision), in a's float dtype."""
    a = np.asarray(a)
    return np.asarray(_ERF(a), dtype=a.dtype if a.dtype.kind == "f" else np.float64)


def _erfc_values(a: np.ndarray) -> np.ndarray:
    """1 - erf elementwise by math.erfc (no cancellation for large a), in a's float dtype."""
    a = np.asarray(a)
    return np.asarray(_ERFC(a), dtype=a.dtype if a.dtype.kind == "f" else np.float64)


class Erf(Node):
    name, category = "erf", "elementwise"
    formulas = ("2/sqrt(pi) * exp(-a**2)",)
    forward = staticmethod(_erf_values)
    vjps = (lambda g, out, a: g * (_TWO_SQRT_PI * np.exp(-a * a)),)


def _real(name: str, *tensors: Tensor) -> None:
    """Refuse complex inputs: autograd_lite differentiates real numbers only."""
    for tensor in tensors:
        if tensor.dtype.kind == "c":
            raise TypeError(
                f"{name}: complex input (dtype {tensor.dtype}, shape {tensor.shape}) is not supported; "
                f"autograd_lite differentiates real floating point only: pass the real part (np.real) or split it"
            )


def _unary(op: type[Node], a: ArrayLike, **params: Any) -> Tensor:
    a = as_tensor(a)
    _real(op.name, a)
    return apply(op, a, **params)


def _binary(op: type[Node], a: ArrayLike, b: ArrayLike) -> Tensor:
    a, b = as_pair(a, b)
    _real(op.name, a, b)
    return apply(op, a, b)


def _real_number(name: str, parameter: str, value: Any) -> float:
    """A real-number parameter of an activation as a float, or a TypeError naming the op."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: {parameter} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def tan(a: ArrayLike) -> Tensor:
    """Elementwise tangent, as np.tan."""
    return _unary(Tan, a)


def arcsin(a: ArrayLike) -> Tensor:
    """Elementwise inverse sine, as np.arcsin (nan outside [-1, 1])."""
    return _unary(Arcsin, a)


def arccos(a: ArrayLike) -> Tensor:
    """Elementwise inverse cosine, as np.arccos (nan outside [-1, 1])."""
    return _unary(Arccos, a)


def arctan(a: ArrayLike) -> Tensor:
    """Elementwise inverse tangent, as np.arctan."""
    return _unary(Arctan, a)


def sinh(a: ArrayLike) -> Tensor:
    """Elementwise hyperbolic sine, as np.sinh."""
    return _unary(Sinh, a)


def cosh(a: ArrayLike) -> Tensor:
    """Elementwise hyperbolic cosine, as np.cosh."""
    return _unary(Cosh, a)


def arcsinh(a: ArrayLike) -> Tensor:
    """Elementwise inverse hyperbolic sine, as np.arcsinh."""
    return _unary(Arcsinh, a)


def arccosh(a: ArrayLike) -> Tensor:
    """Elementwise inverse hyperbolic cosine, as np.arccosh (nan below 1)."""
    return _unary(Arccosh, a)


def arctanh(a: ArrayLike) -> Tensor:
    """Elementwise inverse hyperbolic tangent, as np.arctanh (nan outside [-1, 1])."""
    return _unary(Arctanh, a)


def log2(a: ArrayLike) -> Tensor:
    """Elementwise base-2 logarithm, as np.log2."""
    return _unary(Log2, a)


def log10(a: ArrayLike) -> Tensor:
    """Elementwise base-10 logarithm, as np.log10."""
    return _unary(Log10, a)


def log1p(a: ArrayLike) -> Tensor:
    """Elementwise log(1 + a), accurate for small a, as np.log1p."""
    return _unary(Log1p, a)


def expm1(a: ArrayLike) -> Tensor:
    """Elementwise exp(a) - 1, accurate for small a, as np.expm1."""
    return _unary(Expm1, a)


def exp2(a: ArrayLike) -> Tensor:
    """Elementwise 2 ** a, as np.exp2."""
    return _unary(Exp2, a)


def square(a: ArrayLike) -> Tensor:
    """Elementwise a * a, as np.square."""
    return _unary(Square, a)


def reciprocal(a: ArrayLike) -> Tensor:
    """Elementwise 1 / a, as np.reciprocal."""
    return _unary(Reciprocal, a)


def cbrt(a: ArrayLike) -> Tensor:
    """Elementwise real cube root, as np.cbrt (derivative inf at 0)."""
    return _unary(Cbrt, a)


def fabs(a: ArrayLike) -> Tensor:
    """Elementwise absolute value of floats, as np.fabs (derivative sign(a), 0 at 0)."""
    return _unary(Fabs, a)


def sign(a: ArrayLike) -> Tensor:
    """Elementwise sign (-1, 0, 1; nan for nan), as np.sign; its gradient is 0."""
    return _unary(Sign, a)


def positive(a: ArrayLike) -> Tensor:
    """Elementwise +a (a copy, recorded), as np.positive."""
    return _unary(Positive, a)


def deg2rad(a: ArrayLike) -> Tensor:
    """Degrees to radians, as np.deg2rad and np.radians."""
    return _unary(Deg2rad, a)


def rad2deg(a: ArrayLike) -> Tensor:
    """Radians to degrees, as np.rad2deg and np.degrees."""
    return _unary(Rad2deg, a)


def sinc(a: ArrayLike) -> Tensor:
    """Normalized sinc, sin(pi a) / (pi a) and 1 at 0, as np.sinc."""
    return _unary(Sinc, a)


def logaddexp(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise log(exp(a) + exp(b)) without overflow, as np.logaddexp."""
    return _binary(Logaddexp, a, b)


def logaddexp2(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise log2(2**a + 2**b) without overflow, as np.logaddexp2."""
    return _binary(Logaddexp2, a, b)


def arctan2(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise angle of the point (b, a), as np.arctan2(a, b); gradient nan at (0, 0) as in PyTorch."""
    return _binary(Arctan2, a, b)


def hypot(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise sqrt(a**2 + b**2) without overflow, as np.hypot; gradient nan at (0, 0) as in PyTorch."""
    return _binary(Hypot, a, b)


def fmax(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise larger of a and b ignoring nan, as np.fmax; a tie gives each side half the gradient."""
    return _binary(Fmax, a, b)


def fmin(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise smaller of a and b ignoring nan, as np.fmin; a tie gives each side half the gradient."""
    return _binary(Fmin, a, b)


def remainder(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a mod b with the sign of b, as np.remainder and np.mod."""
    return _binary(Remainder, a, b)


def softplus(a: ArrayLike) -> Tensor:
    """Elementwise log(1 + exp(a)), computed without overflow; its derivative is sigmoid(a)."""
    return _unary(Softplus, a)


def leaky_relu(a: ArrayLike, negative_slope: float = 0.01) -> Tensor:
    """Elementwise a where a > 0, else negative_slope * a (slope negative_slope at 0, as in PyTorch)."""
    return _unary(LeakyRelu, a, negative_slope=_real_number("leaky_relu", "negative_slope", negative_slope))


def elu(a: ArrayLike, alpha: float = 1.0) -> Tensor:
    """Elementwise a where a > 0, else alpha * (exp(a) - 1) (slope alpha at 0, as in PyTorch)."""
    return _unary(Elu, a, alpha=_real_number("elu", "alpha", alpha))


def gelu(a: ArrayLike, approximate: str = "none") -> Tensor:
    """Elementwise a * Phi(a) (Phi the standard normal cdf), or PyTorch's tanh approximation (approximate="tanh")."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _unary(Gelu, a, approximate=approximate)


def erf(a: ArrayLike) -> Tensor:
    """Elementwise error function 2/sqrt(pi) * integral of exp(-t**2) from 0 to a (exact to double precision)."""
    return _unary(Erf, a)
