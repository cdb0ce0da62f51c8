"""The op table: one small Node class per op, then the public functions.

Each Node gives ``forward`` (NumPy on arrays) and ``vjps``: one vector-Jacobian
product per input, ``vjp(grad, out, *inputs, **params)``. The vjps use only NumPy
functions and operators that Tensors also support, so the same line computes a plain
gradient or, under ``create_graph=True``, a differentiable one. Gradients may come back
in the broadcast shape: the engine sums them to each input's shape in one place.
"""

from __future__ import annotations

import builtins
from typing import Any, ClassVar

import numpy as np

from autograd_lite.engine import Node, Tensor, apply, constant, data_of

ArrayLike = Any  # a Tensor, a NumPy array or a Python number
Axis = int | tuple[int, ...] | None


# ============================================================================
# Elementwise arithmetic
# ============================================================================
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


# ============================================================================
# Reductions
# ============================================================================
def _kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """The shape of a reduction over ``axis`` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = _normalize_axes(axis, len(shape))
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


def _normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)  # type: ignore[arg-type]
    normalized = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        normalized.append(a % ndim if ndim else 0)
    return tuple(normalized)


def _spread(g: Any, a: Any, axis: Axis) -> Any:
    """Broadcast a reduced gradient back over the reduced axes of ``a``."""
    return np.broadcast_to(g.reshape(_kept_shape(a.shape, axis)), a.shape)


class Sum(Node):
    name, category, numpy = "sum", "reduction", (np.sum,)
    formulas = ("1 for every element",)
    forward = staticmethod(np.sum)
    vjps = (lambda g, out, a, axis, keepdims: _spread(g, a, axis),)


class Mean(Node):
    name, category, numpy = "mean", "reduction", (np.mean,)
    formulas = ("1/n for every element (n = number averaged)",)
    forward = staticmethod(np.mean)
    vjps = (lambda g, out, a, axis, keepdims: _spread(g / _count(a, out), a, axis),)


def _count(a: Any, out: Any) -> int:
    """How many elements of ``a`` were averaged into each element of ``out``."""
    return a.size // out.size if out.size else 1


class Max(Node):
    name, category, numpy = "max", "reduction", (np.max, np.amax)
    formulas = ("1 at the arg-max (split evenly between ties), else 0",)
    forward = staticmethod(np.max)
    vjps = (lambda g, out, a, axis, keepdims: _to_extremes(g, out, a, axis),)


class Min(Node):
    name, category, numpy = "min", "reduction", (np.min, np.amin)
    formulas = ("1 at the arg-min (split evenly between ties), else 0",)
    forward = staticmethod(np.min)
    vjps = (lambda g, out, a, axis, keepdims: _to_extremes(g, out, a, axis),)


def _to_extremes(g: Any, out: Any, a: Any, axis: Axis) -> Any:
    kept = _kept_shape(a.shape, axis)
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
            g.reshape(_kept_shape(a.shape, axis)) * np.exp(a - out.reshape(_kept_shape(a.shape, axis)))
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


class LogSoftmax(Node):
    name, category = "log_softmax", "along an axis"
    formulas = ("grad - softmax(a) * sum(grad): d log_softmax(a)_i/d a_j = delta_ij - softmax(a)_j",)

    @staticmethod
    def forward(a: np.ndarray, axis: int) -> np.ndarray:
        shifted = a - np.max(a, axis=axis, keepdims=True)  # as softmax: +inf or all -inf rows are nan
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))  # the sum is >= 1 (or nan)

    vjps = (lambda g, out, a, axis: g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


# ============================================================================
# Linear algebra
# ============================================================================
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


class Dot(Node):
    name, category, numpy = "dot", "matrix product", (np.dot,)
    formulas, formulas_by_rank = Matmul.formulas, Matmul.formulas_by_rank  # np.dot is np.matmul up to 2-D
    formulas_for = classmethod(Matmul.formulas_for.__func__)  # type: ignore[attr-defined]
    forward = staticmethod(np.dot)
    vjps = Matmul.vjps  # np.dot equals np.matmul for 1-D and 2-D operands


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


class SoftmaxCrossEntropy(Node):
    name, category, arguments = "softmax_cross_entropy", "loss", ("z",)
    signature = "-sum(t * log_softmax(z))"
    formulas = ("softmax(z) * sum(t) - t  (= softmax(z) - t when t sums to 1)",)
    # Fused and stable: log-softmax via log-sum-exp, and the famous simple gradient.

    @staticmethod
    def forward(logits: np.ndarray, labels: np.ndarray | None, target: np.ndarray | None) -> np.ndarray:
        log_probabilities = LogSoftmax.forward(logits, -1)
        if labels is not None:
            return -np.take_along_axis(log_probabilities, labels[..., None], axis=-1)[..., 0]
        # where the target is 0, a log-probability of -inf contributes 0 (not 0 * -inf = nan)
        return -np.sum(np.where(target != 0, target * log_probabilities, 0), axis=-1)

    vjps = (lambda g, out, logits, labels, target: _softmax_minus_target(logits, labels, target) * g[..., None],)


def _softmax_minus_target(logits: Any, labels: np.ndarray | None, target: np.ndarray | None) -> Any:
    if isinstance(logits, Tensor):  # create_graph: keep it differentiable
        if labels is not None:
            target = np.zeros(logits.shape, dtype=logits.dtype)
            np.put_along_axis(target, labels[..., None], 1, axis=-1)
        return softmax(logits) * np.sum(target, axis=-1, keepdims=True) - target
    difference = Softmax.forward(logits, -1)  # a fresh array: subtract the target in place
    if labels is None:
        difference *= np.sum(target, axis=-1, keepdims=True)
        difference -= target
    else:
        rows = difference.reshape(-1, difference.shape[-1])  # a view: one label per row, no repeats
        rows[np.arange(labels.size), labels.reshape(-1)] -= 1
    return difference


# ============================================================================
# Shape and indexing
# ============================================================================
class Reshape(Node):
    name, category, numpy = "reshape", "shape", (np.reshape,)
    formulas = ("grad reshaped back to a's shape",)

    @staticmethod
    def forward(a: np.ndarray, shape: Any) -> np.ndarray:
        return a.reshape(shape)

    vjps = (lambda g, out, a, shape: g.reshape(a.shape),)


class Transpose(Node):
    name, category, numpy = "transpose", "shape", (np.transpose,)
    formulas = ("grad transposed back (the inverse permutation)",)
    forward = staticmethod(np.transpose)
    vjps = (lambda g, out, a, axes: np.transpose(g, None if axes is None else np.argsort(axes)),)


class SwapAxes(Node):
    name, category, numpy = "swapaxes", "shape", (np.swapaxes,)
    formulas = ("grad with the two axes swapped back",)
    forward = staticmethod(np.swapaxes)
    vjps = (lambda g, out, a, axis1, axis2: np.swapaxes(g, axis1, axis2),)


class ExpandDims(Node):
    name, category, numpy = "expand_dims", "shape", (np.expand_dims,)
    formulas = ("grad with the new axes of length 1 dropped",)
    forward = staticmethod(np.expand_dims)
    vjps = (lambda g, out, a, axis: g.reshape(a.shape),)


class BroadcastTo(Node):
    name, category, numpy = "broadcast_to", "shape", (np.broadcast_to,)
    formulas = ("grad summed over the copies",)
    forward = staticmethod(np.broadcast_to)
    vjps = (lambda g, out, a, shape: g,)  # the engine's unbroadcast sums it back


class GetItem(Node):
    name, notation, category = "getitem", "{0}[...]", "shape"
    signature = "a[index]"
    formulas = ("1 at the selected positions (repeats add up)",)

    @staticmethod
    def forward(a: np.ndarray, index: Any) -> np.ndarray:
        return a[index]

    vjps = (lambda g, out, a, index: scatter_add(g, a.shape, index),)


class ScatterAdd(Node):
    name, category, public, arguments = "scatter_add", "shape", False, ("g",)
    formulas = ("grad[index]",)

    @staticmethod
    def forward(g: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
        result = np.zeros(shape, dtype=g.dtype)
        if _is_basic_index(index):
            result[index] = g  # no position can repeat: plain assignment is enough
        else:
            np.add.at(result, index, g)
        return result

    vjps = (lambda g, out, grad_in, shape, index: g[index],)


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


def scatter_add(values: Any, shape: tuple[int, ...], index: Any) -> Any:
    """Zeros of ``shape`` with ``values`` added at ``index`` (np.add.at); differentiable."""
    if isinstance(values, Tensor):
        return apply(ScatterAdd, values, shape=shape, index=index)
    return ScatterAdd.forward(values, shape, index)


class Concatenate(Node):
    name, category, numpy, arguments = "concatenate", "join", (np.concatenate,), ("a_{i}",)
    signature = "concatenate(a_0, a_1, ...)"
    formulas = ("the slice of grad that came from a_{i}",)

    @staticmethod
    def forward(*arrays: np.ndarray, axis: int) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        axis = params["axis"] % grad.ndim
        start = builtins.sum(t.shape[axis] for t in inputs[:index])
        window = (slice(None),) * axis + (slice(start, start + inputs[index].shape[axis]),)
        return grad[window]


class Stack(Node):
    name, category, numpy, arguments = "stack", "join", (np.stack,), ("a_{i}",)
    signature = "stack(a_0, a_1, ...)"
    formulas = ("grad[{i}] along the new axis",)

    @staticmethod
    def forward(*arrays: np.ndarray, axis: int) -> np.ndarray:
        return np.stack(arrays, axis=axis)

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        axis = params["axis"] % grad.ndim
        return grad[(slice(None),) * axis + (index,)]


# ============================================================================
# The op table: derived from the Node classes above, never typed again
# ============================================================================
#: Every op of this module, in the order written. ``ag.OPS``, the NumPy routing, the
#: trace's labels, ``explain``'s shape rules and the tests' registry all come from it.
OP_TABLE: tuple[type[Node], ...] = tuple(
    value
    for value in list(globals().values())
    if isinstance(value, type) and issubclass(value, Node) and value is not Node
)
#: The differentiable public functions, one per op (``ag.OPS``).
OPS: tuple[str, ...] = tuple(op.name for op in OP_TABLE if op.public)
__all__ = list(OPS)


def ops_in(category: str) -> frozenset[str]:
    """The public names of the ops of one ``category`` (e.g. ``"elementwise"``, ``"reduction"``)."""
    return frozenset(op.name for op in OP_TABLE if op.public and op.category == category)


# ============================================================================
# Public functions: one-line wrappers that turn arguments into Tensors
# ============================================================================
def _tensor(value: ArrayLike, like: Tensor | None = None) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, (int, float)) and like.dtype.kind == "f":
        # A Python number takes the other operand's float dtype: float32 stays float32.
        return constant(np.asarray(value, like.dtype))
    return constant(np.asarray(value))


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return a, b
        return a, _tensor(b, a)
    b = _tensor(b)
    return _tensor(a, b), b


def add(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a + b, broadcasting like NumPy."""
    return apply(Add, *_pair(a, b))


def sub(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a - b, broadcasting like NumPy."""
    return apply(Sub, *_pair(a, b))


def mul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a * b, broadcasting like NumPy."""
    return apply(Mul, *_pair(a, b))


def div(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a / b, broadcasting like NumPy."""
    return apply(Div, *_pair(a, b))


def power(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise a ** b, broadcasting like NumPy."""
    return apply(Power, *_pair(a, b))


def maximum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise larger of a and b; on a tie each side gets half the gradient."""
    return apply(Maximum, *_pair(a, b))


def minimum(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise smaller of a and b; on a tie each side gets half the gradient."""
    return apply(Minimum, *_pair(a, b))


def neg(a: ArrayLike) -> Tensor:
    """Elementwise -a."""
    return apply(Neg, _tensor(a))


def exp(a: ArrayLike) -> Tensor:
    """Elementwise e ** a."""
    return apply(Exp, _tensor(a))


def log(a: ArrayLike) -> Tensor:
    """Elementwise natural logarithm; log(0) is -inf, without a warning."""
    return apply(Log, _tensor(a))


def sqrt(a: ArrayLike) -> Tensor:
    """Elementwise square root."""
    return apply(Sqrt, _tensor(a))


def abs(a: ArrayLike) -> Tensor:
    """Elementwise absolute value (derivative sign(a), 0 at 0)."""
    return apply(Abs, _tensor(a))


def sin(a: ArrayLike) -> Tensor:
    """Elementwise sine."""
    return apply(Sin, _tensor(a))


def cos(a: ArrayLike) -> Tensor:
    """Elementwise cosine."""
    return apply(Cos, _tensor(a))


def sigmoid(a: ArrayLike) -> Tensor:
    """Elementwise 1 / (1 + exp(-a)), stable for any magnitude."""
    return apply(Sigmoid, _tensor(a))


def tanh(a: ArrayLike) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return apply(Tanh, _tensor(a))


def relu(a: ArrayLike) -> Tensor:
    """Elementwise max(a, 0); its derivative at 0 is 0."""
    return apply(Relu, _tensor(a))


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (condition is not differentiated)."""
    a, b = _pair(a, b)
    return apply(Where, a, b, condition=np.asarray(data_of(condition), dtype=bool))


def clip(a: ArrayLike, low: Any = None, high: Any = None) -> Tensor:
    """Limit values to [low, high]; a at a bound keeps its gradient, and Tensor bounds get theirs."""
    if low is None and high is None:
        raise ValueError("clip: give at least one of low and high")
    a = _tensor(a)
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
    a = _tensor(a)
    if np.dtype(dtype) == a.dtype:
        return a
    return apply(Cast, a, dtype=np.dtype(dtype))


def _check_axis(name: str, a: Tensor, axis: Axis) -> Axis:
    if axis is None:
        return None
    try:
        axes = _normalize_axes(axis, a.ndim)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: invalid axis {axis!r} for a tensor of shape {a.shape}: {error}") from None
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: repeated axis in {axis!r}")
    return axes[0] if isinstance(axis, (int, np.integer)) else axes


def sum(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (an int, a tuple, or None for every element)."""
    a = _tensor(a)
    return apply(Sum, a, axis=_check_axis("sum", a, axis), keepdims=keepdims)


def mean(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``."""
    a = _tensor(a)
    return apply(Mean, a, axis=_check_axis("mean", a, axis), keepdims=keepdims)


def max(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; the gradient goes to the arg-max, split evenly between ties."""
    a = _tensor(a)
    return apply(Max, a, axis=_check_axis("max", a, axis), keepdims=keepdims)


def min(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; the gradient goes to the arg-min, split evenly between ties."""
    a = _tensor(a)
    return apply(Min, a, axis=_check_axis("min", a, axis), keepdims=keepdims)


def logsumexp(a: ArrayLike, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(a))) over ``axis``, computed by subtracting the max first."""
    a = _tensor(a)
    return apply(LogSumExp, a, axis=_check_axis("logsumexp", a, axis), keepdims=keepdims)


def softmax(a: ArrayLike, axis: int = -1) -> Tensor:
    """exp(a) / sum(exp(a)) along ``axis``, computed by subtracting the max first."""
    a = _tensor(a)
    return apply(Softmax, a, axis=_check_axis("softmax", a, axis))


def log_softmax(a: ArrayLike, axis: int = -1) -> Tensor:
    """a - logsumexp(a) along ``axis``: log-probabilities without overflow or log(0)."""
    a = _tensor(a)
    return apply(LogSoftmax, a, axis=_check_axis("log_softmax", a, axis))


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Matrix product following np.matmul (1-D operands and batched N-D included)."""
    a, b = _pair(a, b)
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
    a, b = _pair(a, b)
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
    x, weight = _pair(x, weight)
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[0]:
        raise ValueError(
            f"linear: x of shape {x.shape} does not fit weight of shape {weight.shape}: need weight (in, out) "
            f"with in == x.shape[-1]"
        )
    if bias is None:
        return matmul(x, weight)
    bias = _tensor(bias, weight)
    if bias.shape != (weight.shape[1],):
        raise ValueError(
            f"linear: bias has shape {bias.shape}, expected ({weight.shape[1]},) for weight {weight.shape}"
        )
    return apply(Linear, x, weight, bias)


def softmax_cross_entropy(logits: ArrayLike, target: ArrayLike) -> Tensor:
    """Cross-entropy of softmax(logits) against ``target``, one value per row (last axis = classes).

    ``target`` is either integer class labels (shape ``logits.shape[:-1]``) or a
    probability distribution per row (one-hot or soft, shape ``logits.shape``). Computed
    from the logits with log-sum-exp, never as log(softmax), so it cannot overflow.
    """
    logits = _tensor(logits)
    target_array = np.asarray(data_of(target))
    if logits.ndim < 1:
        raise ValueError("softmax_cross_entropy: logits need a class axis, got a 0-d tensor")
    classes = logits.shape[-1]
    if target_array.dtype.kind in "iu":
        if target_array.shape != logits.shape[:-1]:
            raise ValueError(
                f"softmax_cross_entropy: integer labels have shape {target_array.shape}, expected "
                f"{logits.shape[:-1]} for logits of shape {logits.shape}"
            )
        if target_array.size and (target_array.min() < 0 or target_array.max() >= classes):
            bad = target_array[(target_array < 0) | (target_array >= classes)].flat[0]
            raise ValueError(
                f"softmax_cross_entropy: label {bad} is out of range for {classes} classes (0..{classes - 1})"
            )
        return apply(SoftmaxCrossEntropy, logits, labels=target_array.astype(np.intp), target=None)
    if target_array.dtype.kind != "f" or target_array.shape != logits.shape:
        raise ValueError(
            f"softmax_cross_entropy: target of shape {target_array.shape} and dtype {target_array.dtype} does not "
            f"fit logits of shape {logits.shape}: give integer labels of shape {logits.shape[:-1]} or "
            f"probabilities of shape {logits.shape}"
        )
    if not np.all(np.isfinite(target_array)):
        raise ValueError("softmax_cross_entropy: target contains NaN or infinity")
    return apply(SoftmaxCrossEntropy, logits, labels=None, target=target_array.astype(logits.dtype, copy=False))


def reshape(a: ArrayLike, shape: int | tuple[int, ...]) -> Tensor:
    """The same values in a new shape (one dimension may be -1)."""
    return apply(Reshape, _tensor(a), shape=shape)


def transpose(a: ArrayLike, axes: tuple[int, ...] | None = None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None)."""
    a = _tensor(a)
    if axes is not None:
        given = tuple(axes)
        in_range = all(-a.ndim <= int(axis) < a.ndim for axis in given)
        axes = tuple(int(axis) % a.ndim for axis in given) if in_range else given
        if not in_range or sorted(axes) != list(range(a.ndim)):
            raise ValueError(f"transpose: axes {given} are not a permutation of the {a.ndim} axes of shape {a.shape}")
    return apply(Transpose, a, axes=axes)


def broadcast_to(a: ArrayLike, shape: tuple[int, ...]) -> Tensor:
    """Repeat values to ``shape`` as NumPy broadcasting would."""
    return apply(BroadcastTo, _tensor(a), shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def swapaxes(a: ArrayLike, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes."""
    a = _tensor(a)
    for axis in (axis1, axis2):
        if not -a.ndim <= axis < a.ndim:
            raise ValueError(f"swapaxes: axis {axis} is out of bounds for a tensor of shape {a.shape}")
    return apply(SwapAxes, a, axis1=axis1, axis2=axis2)


def expand_dims(a: ArrayLike, axis: int | tuple[int, ...]) -> Tensor:
    """Insert axes of length 1."""
    a = _tensor(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = a.ndim + len(axes)
    for position in axes:
        if not -ndim <= position < ndim:
            raise ValueError(f"expand_dims: axis {position} is out of bounds for the result's {ndim} dimensions")
    return apply(ExpandDims, a, axis=axis)


def getitem(a: ArrayLike, index: Any) -> Tensor:
    """``a[index]`` with ints, slices, None, Ellipsis, boolean masks or integer arrays."""
    if isinstance(index, Tensor):
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index) if index else np.zeros(0, dtype=np.intp)
    elif isinstance(index, tuple):
        index = tuple(p.data if isinstance(p, Tensor) else np.asarray(p) if isinstance(p, list) else p for p in index)
    return apply(GetItem, _tensor(a), index=index)


def concatenate(tensors: list[ArrayLike] | tuple[ArrayLike, ...], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis."""
    if len(tensors) == 0:
        raise ValueError("concatenate: needs at least one tensor")
    parts = [_tensor(t) for t in tensors]
    if axis is None:  # NumPy's meaning: flatten everything first
        parts, axis = [reshape(t, -1) for t in parts], 0
    return apply(Concatenate, *parts, axis=axis)


def stack(tensors: list[ArrayLike] | tuple[ArrayLike, ...], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis."""
    if len(tensors) == 0:
        raise ValueError("stack: needs at least one tensor")
    return apply(Stack, *[_tensor(t) for t in tensors], axis=axis)
