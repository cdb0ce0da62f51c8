"""Property-test cases of the elementwise ops added to the table after the first forty (see op_testing.py)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from op_testing import Case, binary, unary
from strategies import arrays, away_from_zero, broadcastable_arrays, floats, shapes

import autograd_lite as ag

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _np_gelu(a: np.ndarray, approximate: str) -> np.ndarray:
    if approximate == "tanh":
        return 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))
    return 0.5 * a * (1 + _erf(a / np.sqrt(2)))


@st.composite
def _apart(draw: Any, op: Any, reference: Any) -> Case:
    """Two broadcastable arrays with no near-ties (fmax/fmin have a kink there)."""
    a, b = draw(broadcastable_arrays())
    assume(np.all(np.abs(a - b) > 1e-2))
    return Case(op, [a, b], reference)


@st.composite
def _remainder(draw: Any) -> Case:
    """b away from 0 and a/b away from whole numbers (remainder jumps there)."""
    a, b = draw(broadcastable_arrays(elements_list=[floats(), away_from_zero(0.5)]))
    quotient = a / b
    assume(np.all(np.abs(quotient - np.round(quotient)) > 1e-2))
    return Case(ag.remainder, [a, b], np.remainder)


@st.composite
def _with_parameter(draw: Any, op: Any, reference: Any, name: str, values: Any) -> Case:
    x = draw(arrays(shapes, away_from_zero(0.05)))  # away from the kink at 0
    value = draw(values)
    return Case(lambda t: op(t, **{name: value}), [x], lambda a: reference(a, value))


#: op name -> a strategy drawing a Case (inputs from the op's valid domain).
CASES: dict[str, st.SearchStrategy[Case]] = {
    "tan": unary(ag.tan, np.tan, floats(-1.4, 1.4)),
    "arcsin": unary(ag.arcsin, np.arcsin, floats(-0.9, 0.9)),
    "arccos": unary(ag.arccos, np.arccos, floats(-0.9, 0.9)),
    "arctan": unary(ag.arctan, np.arctan),
    "sinh": unary(ag.sinh, np.sinh),
    "cosh": unary(ag.cosh, np.cosh),
    "arcsinh": unary(ag.arcsinh, np.arcsinh),
    "arccosh": unary(ag.arccosh, np.arccosh, floats(1.1, 3.0)),
    "arctanh": unary(ag.arctanh, np.arctanh, floats(-0.9, 0.9)),
    "log2": unary(ag.log2, np.log2, floats(0.2, 3.0)),
    "log10": unary(ag.log10, np.log10, floats(0.2, 3.0)),
    "log1p": unary(ag.log1p, np.log1p, floats(-0.8, 3.0)),
    "expm1": unary(ag.expm1, np.expm1),
    "exp2": unary(ag.exp2, np.exp2),
    "square": unary(ag.square, np.square),
    "reciprocal": unary(ag.reciprocal, np.reciprocal, away_from_zero(0.5)),
    "cbrt": unary(ag.cbrt, np.cbrt, away_from_zero(0.2)),
    "fabs": unary(ag.fabs, np.fabs, away_from_zero(0.05)),
    "sign": unary(ag.sign, np.sign, away_from_zero(0.05)),
    "positive": unary(ag.positive, np.positive),
    "deg2rad": unary(ag.deg2rad, np.deg2rad),
    "rad2deg": unary(ag.rad2deg, np.rad2deg),
    "sinc": unary(ag.sinc, np.sinc),
    "logaddexp": binary(ag.logaddexp, np.logaddexp),
    "logaddexp2": binary(ag.logaddexp2, np.logaddexp2),
    "arctan2": binary(ag.arctan2, np.arctan2, first=away_from_zero(0.2)),  # away from the cut and from (0, 0)
    "hypot": binary(ag.hypot, np.hypot, first=away_from_zero(0.2)),
    "fmax": _apart(ag.fmax, np.fmax),
    "fmin": _apart(ag.fmin, np.fmin),
    "remainder": _remainder(),
    "softplus": unary(ag.softplus, lambda a: np.log1p(np.exp(a))),
    "leaky_relu": _with_parameter(
        ag.leaky_relu, lambda a, s: np.where(a > 0, a, s * a), "negative_slope", st.sampled_from([0.01, 0.2, -0.5])
    ),
    "elu": _with_parameter(ag.elu, lambda a, s: np.where(a > 0, a, s * np.expm1(a)), "alpha", floats(0.1, 2.0)),
    "gelu": _with_parameter(ag.gelu, _np_gelu, "approximate", st.sampled_from(["none", "tanh"])),
    "erf": unary(ag.erf, _erf),
}
#: ops smooth enough for the second-order test.
SECOND_ORDER: list[str] = [
    "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "log2", "log10",
    "log1p", "expm1", "exp2", "square", "reciprocal", "cbrt", "fabs", "sign", "positive", "deg2rad", "rad2deg",
    "sinc", "logaddexp", "logaddexp2", "arctan2", "hypot", "fmax", "fmin", "remainder", "softplus",
    "leaky_relu", "elu", "gelu", "erf",
]  # fmt: skip
#: "np.name" -> [(arrays, call(f, *arrays))] for NumPy functions that need more than arrays.
_DIVIDEND, _DIVISOR = np.array([0.3, 0.6, 0.8]), np.array([0.35, 0.35, 0.35])  # a / b away from integers
NUMPY_CALLS: dict[str, list[tuple[tuple[Any, ...], Any]]] = {
    "np.remainder": [((_DIVIDEND, _DIVISOR), lambda f, a, b: f(a, b))],
    "np.mod": [((_DIVIDEND, _DIVISOR), lambda f, a, b: f(a, b))],
    "np.arccosh": [((np.array([1.3, 1.6, 2.8]),), lambda f, a: f(a))],  # its domain is a > 1
    "np.acosh": [((np.array([1.3, 1.6, 2.8]),), lambda f, a: f(a))],
}
