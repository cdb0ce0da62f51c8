"""Property-test cases of the convolution and pooling ops (see op_testing.py).

The references are plain nested loops over every output element, written independently
of the ops' im2col formulation.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from hypothesis import strategies as st
from op_testing import Case
from strategies import arrays, floats

import autograd_lite as ag


def as_pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def padded(x: np.ndarray, padding: Any, fill: float = 0.0) -> np.ndarray:
    ph, pw = as_pair(padding)
    out = np.full((*x.shape[:2], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), fill)
    out[:, :, ph : ph + x.shape[2], pw : pw + x.shape[3]] = x
    return out


def conv2d_reference(x: np.ndarray, w: np.ndarray, b: Any, stride: Any, padding: Any, dilation: Any) -> np.ndarray:
    """out[n, o, i, j] = b[o] + sum over c, a, e of xp[n, c, i*sh + a*dh, j*sw + e*dw] * w[o, c, a, e]."""
    (sh, sw), (dh, dw) = as_pair(stride), as_pair(dilation)
    xp = padded(x, padding)
    n_, c_, height, width = xp.shape
    o_, _, kh, kw = w.shape
    rows, cols = (height - dh * (kh - 1) - 1) // sh + 1, (width - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n_, o_, rows, cols))
    for n, o, i, j in itertools.product(range(n_), range(o_), range(rows), range(cols)):
        total = 0.0 if b is None else b[o]
        for c, a, e in itertools.product(range(c_), range(kh), range(kw)):
            total += xp[n, c, i * sh + a * dh, j * sw + e * dw] * w[o, c, a, e]
        out[n, o, i, j] = total
    return out


def pool_reference(x: np.ndarray, kernel: Any, stride: Any, padding: Any, how: str) -> np.ndarray:
    """Max (padding -inf) or mean (padding 0, counted) over each window, one output element at a time."""
    (kh, kw) = as_pair(kernel)
    (sh, sw) = as_pair(kernel if stride is None else stride)
    xp = padded(x, padding, -np.inf if how == "max" else 0.0)
    rows, cols = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.zeros((*x.shape[:2], rows, cols))
    for n, c, i, j in itertools.product(range(x.shape[0]), range(x.shape[1]), range(rows), range(cols)):
        window = xp[n, c, i * sh : i * sh + kh, j * sw : j * sw + kw]
        out[n, c, i, j] = window.max() if how == "max" else window.sum() / (kh * kw)
    return out


def int_or_pair(first: int, second: int, draw: Any) -> Any:
    return first if first == second and draw(st.booleans()) else (first, second)


@st.composite
def conv2d_case(draw: Any) -> Case:
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sides: list[tuple[int, ...]] = []
    for side in (height, width):
        padding, dilation, stride = draw(st.integers(0, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
        largest = (side + 2 * padding - 1) // dilation + 1  # the kernel as large as the padded input
        kernel = draw(st.one_of(st.just(1), st.just(largest), st.integers(1, largest)))
        sides.append((kernel, stride, padding, dilation))
    (kh, sh, ph, dh), (kw, sw, pw, dw) = sides
    stride, padding, dilation = int_or_pair(sh, sw, draw), int_or_pair(ph, pw, draw), int_or_pair(dh, dw, draw)
    x, w = draw(arrays((n, c, height, width))), draw(arrays((o, c, kh, kw)))
    if draw(st.booleans()):
        b = draw(arrays((o,)))
        return Case(
            lambda t, u, v: ag.conv2d(t, u, v, stride=stride, padding=padding, dilation=dilation),
            [x, w, b],
            lambda a, f, g: conv2d_reference(a, f, g, stride, padding, dilation),
        )
    return Case(
        lambda t, u: ag.conv2d(t, u, stride=stride, padding=padding, dilation=dilation),
        [x, w],
        lambda a, f: conv2d_reference(a, f, None, stride, padding, dilation),
    )


@st.composite
def pool_case(draw: Any, how: str) -> Case:
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kh, kw = draw(st.integers(1, height)), draw(st.integers(1, width))  # up to as large as the input
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kernel, padding = int_or_pair(kh, kw, draw), int_or_pair(ph, pw, draw)
    stride = draw(st.one_of(st.none(), st.just(int_or_pair(sh, sw, draw))))
    x = draw(arrays((n, c, height, width)))
    if how == "max":  # the arg-max is a kink at ties: values 0.05 apart (far more than the step h), shuffled
        order = draw(st.permutations(range(x.size)))
        x = (np.array(order, dtype=np.float64) * 0.05 - 1.0 + draw(floats(-1, 1))).reshape(x.shape)
    op = ag.max_pool2d if how == "max" else ag.avg_pool2d
    return Case(
        lambda t: op(t, kernel, stride, padding),
        [x],
        lambda a: pool_reference(a, kernel, stride, padding, how),
    )


#: op name -> a strategy drawing a Case (inputs from the op's valid domain).
CASES: dict[str, st.SearchStrategy[Case]] = {
    "conv2d": conv2d_case(),
    "max_pool2d": pool_case("max"),
    "avg_pool2d": pool_case("avg"),
}
#: ops smooth enough for the second-order test.
SECOND_ORDER: list[str] = ["conv2d", "max_pool2d", "avg_pool2d"]
#: "np.name" -> [(arrays, call(f, *arrays))] for NumPy functions that need more than arrays.
NUMPY_CALLS: dict[str, list[tuple[tuple[Any, ...], Any]]] = {}
