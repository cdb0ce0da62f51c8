"""Solutions for the exercise tests: the engine's own (which must pass) and typical wrong ones (which must fail).

``WRONG`` enumerates, per exercise, the classic mistakes a learner makes, each with the
diagnosis the grader must give. Wrong Node solutions subclass the engine's op and replace
its rules, so their forward is exactly the op's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite.exercises import EXERCISES, find
from autograd_lite.exercises.exercise import Exercise
from autograd_lite.ops import common, elementwise, linalg, losses, reductions, shape

Sigmoid, Tanh, Relu, Exp, Log = (
    elementwise.Sigmoid,
    elementwise.Tanh,
    elementwise.Relu,
    elementwise.Exp,
    elementwise.Log,
)
Add, Mul, Div = elementwise.Add, elementwise.Mul, elementwise.Div
Sum, Mean, Max, Softmax = reductions.Sum, reductions.Mean, reductions.Max, reductions.Softmax
Matmul, SoftmaxCrossEntropy, GetItem = linalg.Matmul, losses.SoftmaxCrossEntropy, shape.GetItem


def engine_backward(exercise: Exercise) -> Any:
    """A graph exercise's backward computed by the engine itself (the "engine's own" solution)."""

    def backward(g: Any, *arrays: Any, **constants: Any) -> dict[str, Any]:
        tensors = [ag.Tensor(x, requires_grad=True) for x in arrays]
        named = exercise.graph(*tensors, **constants)
        found = ag.run_backward(named["out"], g, targets=[named[name] for name in exercise.graded])
        return {
            name: np.zeros(named[name].shape) if value is None else value for name, value in zip(exercise.graded, found)
        }

    return backward


def engine_solution(exercise: Exercise) -> Any:
    """What the engine itself answers for ``exercise``: its op class, or its backward through the graph.

    Where the exercise has the learner un-broadcast (``strict_shapes``), the op's rules are followed
    by the engine's own un-broadcasting, which backward otherwise applies to every op in one place.
    """
    if exercise.kind == "graph":
        return engine_backward(exercise)
    op = exercise.reference_op
    if exercise.strict_shapes:
        return rules(
            op, *[lambda g, o, *xs, rule=rule, i=i: unb(rule(g, o, *xs), xs[i]) for i, rule in enumerate(op.vjps)]
        )
    return op


def rules(op: type[ag.Node], *vjps: Any, jvps: Any = None) -> type[ag.Node]:
    """The engine's op with other rules (a learner's class with the op's forward)."""
    body = {"vjps": vjps} if jvps is None else {"jvps": jvps}
    return type(op.__name__, (op,), body)


def unb(g: Any, like: Any) -> Any:
    """g summed to like's shape (the right un-broadcast)."""
    return ag.unbroadcast(np.asarray(g), np.shape(like))


def spread(g: Any, a: Any, axis: Any) -> Any:
    return common.spread(g, a, axis)


def softmax(z: Any) -> Any:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def onehot(z: Any, labels: Any, target: Any) -> Any:
    return np.eye(z.shape[-1])[labels] if labels is not None else target


def ties_whole(g: Any, out: Any, a: Any, axis: Any, keepdims: bool) -> Any:
    kept = common.kept_shape(a.shape, axis)
    return g.reshape(kept) * (a == out.reshape(kept))


def ties_first(g: Any, out: Any, a: Any, axis: Any, keepdims: bool) -> Any:
    """Gradient to the first maximum only (argmax), reduced over the last axis or everything."""
    kept = common.kept_shape(a.shape, axis)
    hits = (a == out.reshape(kept)).reshape(-1) if axis is None else None
    if axis is None:
        first = np.zeros(a.size)
        first[np.argmax(hits)] = 1
        return g.reshape(kept) * first.reshape(a.shape)
    axes = (axis,) if isinstance(axis, int) else axis
    moved = np.moveaxis(a == out.reshape(kept), axes, range(-len(axes), 0))
    flat = moved.reshape(*moved.shape[: moved.ndim - len(axes)], -1)
    first = np.zeros(flat.shape)
    np.put_along_axis(first, np.argmax(flat, axis=-1)[..., None], 1, axis=-1)
    return g.reshape(kept) * np.moveaxis(first.reshape(moved.shape), range(-len(axes), 0), axes)


def sigmoid_in_place(g: Any, out: Any, a: Any) -> Any:
    g *= out * (1 - out)  # the right numbers, but it writes into the engine's upstream buffer
    return g


def assigned(g: Any, out: Any, a: Any, index: Any) -> Any:
    grad = np.zeros_like(a)
    grad[index] = g
    return grad


def sigmoid_graph(slip: str) -> Any:
    def backward(g: Any, x: Any) -> dict[str, Any]:
        n = -x
        e = np.exp(n)
        d = 1 + e
        gd = {"square": -g / d, "sign": g / d**2}.get(slip, -g / d**2)
        ge = gd
        gn = ge if slip == "local" else ge * e
        gx = gn if slip == "minus" else -gn
        return {"d": gd, "e": ge, "n": gn, "x": gx}

    return backward


def two_layer(slip: str) -> Any:
    def backward(g: Any, x: Any, W1: Any, b1: Any, W2: Any, b2: Any, labels: Any) -> dict[str, Any]:
        n = x.shape[0]
        z1 = x @ W1 + b1
        h = 1 / (1 + np.exp(-z1))
        p = softmax(h @ W2 + b2)
        delta2 = g * (p - np.eye(p.shape[-1])[labels]) / (1 if slip == "batch" else n)
        dW2 = delta2.T @ h if slip == "transposed" else h.T @ delta2
        db2 = delta2.sum(axis=1) if slip == "bias axis" else delta2.sum(axis=0)
        dh = delta2 @ W2.T
        delta1 = dh if slip == "sigmoid" else dh * h * (1 - h)
        return {
            "z2": delta2, "W2": dW2, "b2": db2, "h": dh, "z1": delta1,
            "W1": x.T @ delta1, "b1": delta1.sum(axis=0), "x": delta1 @ W1.T,
        }  # fmt: skip

    return backward


WRONG: list[tuple[str, str, Any]] = [  # (exercise, the diagnosis it must get, the wrong solution)
    ("add", "missing un-broadcast sum", rules(Add, lambda g, o, a, b: g, lambda g, o, a, b: g)),
    ("add", "sign slip", rules(Add, lambda g, o, a, b: unb(g, a), lambda g, o, a, b: -unb(g, b))),
    (
        "add",
        "missing upstream factor",
        rules(Add, lambda g, o, a, b: np.ones_like(a), lambda g, o, a, b: np.ones_like(b)),
    ),
    ("add", "summed every axis", rules(Add, lambda g, o, a, b: np.sum(g), lambda g, o, a, b: np.sum(g))),
    ("mul", "product rule swapped", rules(Mul, lambda g, o, a, b: g * a, lambda g, o, a, b: g * b)),
    ("mul", "sign slip", rules(Mul, lambda g, o, a, b: -g * b, lambda g, o, a, b: -g * a)),
    (
        "mul",
        "missing upstream factor",
        rules(Mul, lambda g, o, a, b: np.broadcast_to(b, o.shape), lambda g, o, a, b: np.broadcast_to(a, o.shape)),
    ),
    ("div", "multiplied instead of divided", rules(Div, lambda g, o, a, b: g * b, Div.vjps[1])),
    ("div", "missing square", rules(Div, Div.vjps[0], lambda g, o, a, b: -g * a / b)),
    ("div", "sign slip", rules(Div, lambda g, o, a, b: -g / b, lambda g, o, a, b: g * a / b**2)),
    ("exp", "times a", rules(Exp, lambda g, o, a: g * a)),
    ("exp", "sign slip", rules(Exp, lambda g, o, a: -g * o)),
    ("exp", "missing upstream factor", rules(Exp, lambda g, o, a: o)),
    ("log", "times a", rules(Log, lambda g, o, a: g * a)),
    ("log", "used out", rules(Log, lambda g, o, a: g * o)),
    ("log", "sign slip", rules(Log, lambda g, o, a: -g / a)),
    ("log", "missing upstream factor", rules(Log, lambda g, o, a: 1 / a)),
    ("sigmoid", "missing (1 - out)", rules(Sigmoid, lambda g, o, a: g * o)),
    ("sigmoid", "missing out factor", rules(Sigmoid, lambda g, o, a: g * (1 - o))),
    ("sigmoid", "sign slip", rules(Sigmoid, lambda g, o, a: -g * o * (1 - o))),
    ("sigmoid", "missing upstream factor", rules(Sigmoid, lambda g, o, a: o * (1 - o))),
    ("sigmoid", "overflow", rules(Sigmoid, lambda g, o, a: g * np.exp(-a) / (1 + np.exp(-a)) ** 2)),
    ("sigmoid", "changed in place", rules(Sigmoid, sigmoid_in_place)),
    ("sigmoid_graph", "missing square", sigmoid_graph("square")),
    ("sigmoid_graph", "missing local derivative", sigmoid_graph("local")),
    ("sigmoid_graph", "missing -1", sigmoid_graph("minus")),
    ("sigmoid_graph", "sign slip", sigmoid_graph("sign")),
    ("tanh", "missing square", rules(Tanh, lambda g, o, a: g * (1 - o))),
    ("tanh", "used a for out", rules(Tanh, lambda g, o, a: g * (1 - a**2))),
    ("tanh", "plus for minus", rules(Tanh, lambda g, o, a: g * (1 + o**2))),
    ("tanh", "sign slip", rules(Tanh, lambda g, o, a: -g * (1 - o**2))),
    ("relu", "value for derivative", rules(Relu, lambda g, o, a: g * o)),
    ("relu", "inverted mask", rules(Relu, lambda g, o, a: g * (a < 0))),
    ("relu", "no mask", rules(Relu, lambda g, o, a: g)),
    ("relu", "missing upstream factor", rules(Relu, lambda g, o, a: (a > 0) * 1.0)),
    ("sum", "off-by-one axis", rules(Sum, lambda g, o, a, axis, keepdims: np.broadcast_to(g, a.shape))),
    ("sum", "not spread back", rules(Sum, lambda g, o, a, axis, keepdims: g)),
    ("sum", "sign slip", rules(Sum, lambda g, o, a, axis, keepdims: -spread(g, a, axis))),
    ("sum", "missing upstream factor", rules(Sum, lambda g, o, a, axis, keepdims: np.ones_like(a))),
    ("mean", "missing 1/n", rules(Mean, lambda g, o, a, axis, keepdims: spread(g, a, axis))),
    ("mean", "divided by a.size", rules(Mean, lambda g, o, a, axis, keepdims: spread(g, a, axis) / a.size)),
    (
        "mean",
        "off-by-one axis",
        rules(Mean, lambda g, o, a, axis, keepdims: np.broadcast_to(g * o.size / a.size, a.shape)),
    ),
    ("mean", "sign slip", rules(Mean, lambda g, o, a, axis, keepdims: -spread(g, a, axis) * o.size / a.size)),
    ("matmul", "transposed matmul", rules(Matmul, lambda g, o, a, b: g @ b, lambda g, o, a, b: a.T @ g)),
    ("matmul", "transposed matmul", rules(Matmul, lambda g, o, a, b: g @ b.T, lambda g, o, a, b: g.T @ a)),
    ("matmul", "transposed matmul", rules(Matmul, lambda g, o, a, b: g @ b.T, lambda g, o, a, b: a @ g)),
    ("matmul", "sign slip", rules(Matmul, lambda g, o, a, b: -g @ b.T, lambda g, o, a, b: a.T @ g)),
    (
        "matmul",
        "missing upstream factor",
        rules(Matmul, lambda g, o, a, b: np.ones_like(g) @ b.T, lambda g, o, a, b: a.T @ np.ones_like(g)),
    ),
    ("softmax", "missing cross terms", rules(Softmax, lambda g, o, a, axis: g * o * (1 - o))),
    ("softmax", "elementwise product", rules(Softmax, lambda g, o, a, axis: g * o)),
    (
        "softmax",
        "off-by-one axis",
        rules(Softmax, lambda g, o, a, axis: o * (g - np.sum(g * o, axis=-1, keepdims=True))),
    ),
    ("softmax", "missing keepdims", rules(Softmax, lambda g, o, a, axis: o * (g - np.sum(g * o, axis=axis)))),
    ("softmax", "sign slip", rules(Softmax, lambda g, o, a, axis: -o * (g - np.sum(g * o, axis=axis, keepdims=True)))),
    (
        "softmax_cross_entropy",
        "missing -t",
        rules(SoftmaxCrossEntropy, lambda g, o, z, labels, target: softmax(z) * g[..., None]),
    ),
    (
        "softmax_cross_entropy",
        "missing upstream factor",
        rules(SoftmaxCrossEntropy, lambda g, o, z, labels, target: softmax(z) - onehot(z, labels, target)),
    ),
    (
        "softmax_cross_entropy",
        "sign slip",
        rules(
            SoftmaxCrossEntropy, lambda g, o, z, labels, target: (onehot(z, labels, target) - softmax(z)) * g[..., None]
        ),
    ),
    (
        "softmax_cross_entropy",
        "g on the wrong axis",
        rules(SoftmaxCrossEntropy, lambda g, o, z, labels, target: (softmax(z) - onehot(z, labels, target)) * g),
    ),
    ("max", "ties not split", rules(Max, ties_whole)),
    ("max", "first tie only", rules(Max, ties_first)),
    (
        "max",
        "off-by-one axis",
        rules(
            Max,
            lambda g, o, a, axis, keepdims: (
                np.broadcast_to(g, a.shape)
                * (a == np.max(a, axis=axis, keepdims=True))
                / np.sum(a == np.max(a, axis=axis, keepdims=True), axis=axis, keepdims=True)
            ),
        ),
    ),
    ("max", "sign slip", rules(Max, lambda g, o, a, axis, keepdims: -Max.vjps[0](g, o, a, axis, keepdims))),
    ("getitem", "repeats overwrite", rules(GetItem, assigned)),
    ("getitem", "sign slip", rules(GetItem, lambda g, o, a, index: -shape.scatter_add(g, a.shape, index))),
    (
        "getitem",
        "missing upstream factor",
        rules(GetItem, lambda g, o, a, index: shape.scatter_add(np.ones_like(g), a.shape, index)),
    ),
    ("two_layer", "missing 1/N", two_layer("batch")),
    ("two_layer", "transposed", two_layer("transposed")),
    ("two_layer", "wrong bias axis", two_layer("bias axis")),
    ("two_layer", "missing sigmoid derivative", two_layer("sigmoid")),
    ("matmul_jvp", "product order", rules(Matmul, jvps=(lambda t, o, a, b: b @ t, lambda t, o, a, b: a @ t))),
    ("matmul_jvp", "sign slip", rules(Matmul, jvps=(lambda t, o, a, b: -(t @ b), lambda t, o, a, b: -(a @ t)))),
    ("matmul_jvp", "transposed", rules(Matmul, jvps=(lambda t, o, a, b: t @ b, lambda t, o, a, b: (t.T @ a.T).T.T))),
]

__all__ = ["EXERCISES", "WRONG", "engine_solution", "find"]
