"""Matrix products: matmul, dot, and the fused dense layer linear."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from autograd_lite.engine import Node, Tensor, apply
from autograd_lite.ops.common import ArrayLike, as_pair, as_tensor
from autograd_lite.ops.elementwise import mul


def _matmul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # (..., m, k) @ (k,) -> (..., m): outer product of g and b
        return g[..., None] * b
    if a.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
        return (b @ g[..., None])[..., 0]
    return g @ np.swapaxes(b, -1, -2)


def _matmul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, n): outer product of a and g
        return a[:, None] * g[..., None, :]
    if b.ndim == 1:  # (..., m, k) @ (k,)
        return (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
    return np.swapaxes(a, -1, -2) @ g


class Matmul(Node):
    name, notation, category, numpy = "matmul", "{0} @ {1}", "matrix product", (np.matmul,)
    formulas = ("grad @ b.T", "a.T @ grad")  # 2-D and batched operands (.T swaps the last two axes)
    #: (a is 1-D, b is 1-D) -> the rules that hold for those ranks.
    formulas_by_rank: ClassVar[dict[tuple[bool, bool], tuple[str, str]]] = {
        (True, True): ("grad * b", "grad * a"),
        (False, True): ("outer(grad, b)", "a.T @ grad"),
        (True, False): ("b @ grad", "outer(a, grad)"),
    }

    @classmethod
    def formulas_for(cls, inputs: tuple[Any, ...]) -> tuple[str, ...]:
        return cls.formulas_by_rank.get((inputs[0].ndim == 1, inputs[1].ndim == 1), cls.formulas)

    forward = staticmethod(np.matmul)
    vjps = (
        lambda g, out, a, b: g * b if a.ndim == 1 and b.ndim == 1 else _matmul_vjp_a(g, out, a, b),
        _matmul_vjp_b,
    )
    jvps = (lambda t, out, a, b: t @ b, lambda t, out, a, b: a @ t)


class Dot(Node):
    name, category, numpy = "dot", "matrix product", (np.dot,)
    formulas, formulas_by_rank = Matmul.formulas, Matmul.formulas_by_rank  # np.dot is np.matmul up to 2-D
    formulas_for = classmethod(Matmul.formulas_for.__func__)  # type: ignore[attr-defined]
    forward = staticmethod(np.dot)
    vjps = Matmul.vjps  # np.dot equals np.matmul for 1-D and 2-D operands
    jvps = (lambda t, out, a, b: np.dot(t, b), lambda t, out, a, b: np.dot(a, t))


class Linear(Node):
    name, category, arguments = "linear", "matrix product", ("x", "W", "b")
    signature = "x@W+b"
    formulas = ("grad @ W.T", "x.T @ grad", "grad summed over rows")
    # Fused dense layer: one node instead of Matmul + Add, and the bias gradient is a
    # plain row sum instead of the general un-broadcasting path.

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        out = x @ weight
        out += bias
        return out

    vjps = (
        lambda g, out, x, weight, bias: g @ np.swapaxes(weight, -1, -2),
        lambda g, out, x, weight, bias: np.swapaxes(x.reshape(-1, x.shape[-1]), -1, -2) @ g.reshape(-1, g.shape[-1]),
        lambda g, out, x, weight, bias: np.sum(g.reshape(-1, g.shape[-1]), axis=0),
    )
    jvps = (lambda t, out, x, weight, bias: t @ weight, lambda t, out, x, weight, bias: x @ t, lambda t, *_: t)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Matrix product following np.matmul (1-D operands and batched N-D included)."""
    a, b = as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}; use mul"
        )
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of a ({inner_a}) must "
            f"equal the {'only' if b.ndim == 1 else 'second-to-last'} axis of b ({inner_b})"
        )
    return apply(Matmul, a, b)


def dot(a: ArrayLike, b: ArrayLike) -> Tensor:
    """np.dot for 0-D, 1-D and 2-D operands (use matmul for batches)."""
    a, b = as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim > 2 or b.ndim > 2:
        raise ValueError(
            f"dot: supports 1-D and 2-D operands, got shapes {a.shape} and {b.shape}; use matmul for batches"
        )
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} do not fit: {a.shape[-1]} != {inner_b}")
    return apply(Dot, a, b)


def linear(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> Tensor:
    """``x @ weight + bias`` as one fused node (a dense layer); weight has shape (in, out)."""
    x, weight = as_pair(x, weight)
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[0]:
        raise ValueError(
            f"linear: x of shape {x.shape} does not fit weight of shape {weight.shape}: need weight (in, out) "
            f"with in == x.shape[-1]"
        )
    if bias is None:
        return matmul(x, weight)
    bias = as_tensor(bias, weight)
    if bias.shape != (weight.shape[1],):
        raise ValueError(
            f"linear: bias has shape {bias.shape}, expected ({weight.shape[1]},) for weight {weight.shape}"
        )
    return apply(Linear, x, weight, bias)
