"""The exercises, in lesson order, as data: maths, hints, stubs, inputs and classic mistakes.

Solutions are not here: the engine's own op table (``autograd_lite/ops/``) is the reference,
and a learner who is stuck may read it (each exercise says where).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite.engine import Tensor, unbroadcast
from autograd_lite.exercises import cases
from autograd_lite.exercises.exercise import Context, Exercise, Mistake, equals, raises
from autograd_lite.ops import OP_TABLE
from autograd_lite.ops.common import kept_shape, spread

OPS = {op.__name__: op for op in OP_TABLE}
PREAMBLE = "import numpy as np\n\nfrom autograd_lite import Node\n\n\n"


def shaped(context: Context, value: Any) -> Any:
    """``value`` as the engine would deliver it to the input: broadcast to the output, summed to the input."""
    like = context.inputs[context.index]
    return unbroadcast(np.broadcast_to(value, np.broadcast_shapes(np.shape(value), context.out.shape)), like.shape)


def op_stub(class_name: str, doc: str, forward: str, rules: list[tuple[str, str, str]]) -> str:
    """A Node stub: the forward given, one staticmethod per rule raising NotImplementedError.

    ``rules`` holds (method name, signature, what to return) per input.
    """
    methods = "".join(
        f'    @staticmethod\n    def {method}({signature}):\n        """{what}"""\n'
        f'        raise NotImplementedError("write {method}")\n\n'
        for method, signature, what in rules
    )
    kind = "jvps" if rules[0][0].startswith("jvp") else "vjps"
    names = ", ".join(method for method, _, _ in rules) + ("," if len(rules) == 1 else "")
    return (
        f'{PREAMBLE}class {class_name}(Node):\n    """{doc}"""\n\n'
        f"    @staticmethod\n    def forward({forward}\n\n{methods}    {kind} = ({names})\n"
    )


def rule_stub(class_name: str, doc: str, parameters: str, forward: str, inputs: str = "a") -> str:
    """A Node stub whose ``forward(parameters)`` returns ``forward``, with one vjp to write per name in ``inputs``."""
    rules = [
        (
            f"vjp_{name}",
            f"g, out, {parameters}",
            f"The gradient for {name}, shaped like {name}: g (dL/dout) times dout/d{name}.",
        )
        for name in inputs.split(", ")
    ]
    return op_stub(class_name, doc, f"{parameters}):\n        return {forward}", rules)


def _first_of_ties(context: Context) -> Any:
    a, axis = context.inputs[0], context.params["axis"]
    kept = kept_shape(a.shape, axis)
    hits = a == context.out.reshape(kept)
    moved = np.moveaxis(hits, _axes(axis, a.ndim), range(-len(_axes(axis, a.ndim)), 0))
    flat = moved.reshape(*moved.shape[: moved.ndim - len(_axes(axis, a.ndim))], -1)
    first = np.zeros_like(flat)
    np.put_along_axis(first, np.argmax(flat, axis=-1)[..., None], True, axis=-1)
    back = np.moveaxis(first.reshape(moved.shape), range(-len(_axes(axis, a.ndim)), 0), _axes(axis, a.ndim))
    return context.upstream.reshape(kept) * back


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _other_axis(context: Context) -> bool:
    """The softmax gradient taken along some other axis than the softmax's."""
    a, axis = context.inputs[0], context.params["axis"]
    for other in range(a.ndim):
        if other != axis % a.ndim and equals(
            lambda c: OPS["Softmax"].vjp(0, c.upstream, c.out, (a,), {"axis": other})  # noqa: B023
        )(context):
            return True
    return False


def _target(context: Context) -> np.ndarray:
    """The target distribution per row of softmax cross-entropy: one-hot labels, or the target given."""
    labels, target = context.params["labels"], context.params["target"]
    if labels is None:
        return target
    return np.eye(context.inputs[0].shape[-1])[labels]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _assigned(context: Context) -> Any:
    grad = np.zeros_like(context.inputs[0])
    grad[context.params["index"]] = context.upstream
    return grad


def _count(context: Context) -> int:
    """How many elements of the input each output element reduces (1 for nothing reduced)."""
    return max(context.inputs[0].size // max(context.out.size, 1), 1)


def reduction_mistakes(per_element: Any) -> tuple[Mistake, ...]:
    """The axis mistakes of a reduction whose gradient is ``per_element(context)`` times g per reduced element."""
    return (
        Mistake(
            "off-by-one axis",
            "g lined up with the LAST axes of a, not with the reduced ones: reshape g to the keepdims shape "
            "(size 1 on every reduced axis) before broadcasting it to a.shape",
            equals(lambda c: np.broadcast_to(c.upstream * per_element(c), c.inputs[0].shape)),
        ),
        *AXIS_MISTAKES,
    )


AXIS_MISTAKES = (
    Mistake(
        "off-by-one axis",
        "g cannot be broadcast to a.shape as it is: it lacks the reduced axes; reshape it to the keepdims "
        "shape (size 1 on every reduced axis) first",
        raises("broadcast"),
    ),
    Mistake(
        "not spread back",
        "you returned g as it came, in the output's shape: every element of a that was reduced gets its "
        "output's g, so spread g back over the reduced axes (the gradient has a.shape)",
        lambda c: c.got is not None and c.got.shape == c.upstream.shape != c.expected.shape,
    ),
)


def _vjp(
    name: str, title: str, op: str, statement: str, hints: tuple[str, ...], stub: str, draw: Any, **more: Any
) -> Exercise:
    """A ``"vjp"`` exercise graded against the engine's op class ``op``."""
    reference_op = OPS[op]
    where = f"autograd_lite/ops/{reference_op.__module__.rsplit('.', 1)[-1]}.py, class {op}"
    solution = more.pop("solution", op)
    where = more.pop("reference", where)
    return Exercise(
        name, title, "vjp", statement, hints, stub, solution, where, draw, reference_op=reference_op, **more
    )


ADD = _vjp(
    "add",
    "Add, and un-broadcasting",
    "Add",
    "d(a + b)/da = 1 and d(a + b)/db = 1, so each input receives g.\n"
    "But a and b may have different shapes that broadcast: a of shape (3,) added to b of shape (2, 3)\n"
    "was used twice, once per row, so its gradient is the SUM of g over the rows. Here you un-broadcast\n"
    "yourself (the engine does it in one place for every op, engine.unbroadcast): each vjp must return\n"
    "exactly its input's shape.",
    (
        "Start with the shapes: g has the output's shape, np.broadcast_shapes(a.shape, b.shape).",
        "Sum the leading axes the input does not have: g.sum(axis=tuple(range(g.ndim - a.ndim))).",
        "Then sum, with keepdims=True, every axis where the input has size 1 but g does not.",
    ),
    rule_stub("Add", "a + b with broadcasting; each vjp returns exactly its input's shape.", "a, b", "a + b", "a, b"),
    lambda: cases.binary(ag.add),
    edges=cases.broadcasting_edges(ag.add),
    reference="autograd_lite/ops/elementwise.py, class Add, then engine.unbroadcast, which backward applies to "
    "every op's gradients",
    strict_shapes=True,
    mistakes=(
        Mistake(
            "summed every axis",
            "you summed g over every axis: sum only the axes that broadcasting added, and keep the input's own",
            equals(lambda c: np.sum(c.upstream)),
        ),
        Mistake(
            "missing un-broadcast sum",
            "you summed the leading axes, but an axis where the input has size 1 was stretched too: sum it with "
            "keepdims=True",
            equals(lambda c: np.sum(c.upstream, axis=tuple(range(c.upstream.ndim - c.inputs[c.index].ndim)))),
        ),
    ),
)

MUL = _vjp(
    "mul",
    "Mul: the product rule",
    "Mul",
    "d(a * b)/da = b and d(a * b)/db = a: each input's gradient is g times the OTHER input.\n"
    "(Broadcast shapes are summed back by the engine here; you met that in 'add'.)",
    ("Change a a little: a*b changes by b times as much.", "vjp_a returns g * b.", "vjp_b returns g * a."),
    rule_stub("Mul", "a * b, the product rule.", "a, b", "a * b", "a, b"),
    lambda: cases.binary(ag.mul),
    edges=cases.broadcasting_edges(ag.mul),
    mistakes=(
        Mistake(
            "product rule swapped",
            "each input's gradient is g times the OTHER input: d(a*b)/da = b, not a",
            equals(lambda c: shaped(c, c.upstream * np.broadcast_to(c.inputs[c.index], c.out.shape))),
        ),
    ),
)

DIV = _vjp(
    "div",
    "Div: the quotient rule",
    "Div",
    "d(a / b)/da = 1/b and d(a / b)/db = -a/b**2.",
    ("Write a/b as a * b**-1.", "vjp_a: g / b.", "vjp_b: -g * a / b**2, or -g * out / b (out = a/b)."),
    rule_stub("Div", "a / b, b away from 0.", "a, b", "a / b", "a, b"),
    lambda: cases.binary(ag.div, second=cases.away_from_zero(0.5)),
    edges=cases.broadcasting_edges(ag.div, second=3.0),
    mistakes=(
        Mistake(
            "multiplied instead of divided",
            "d(a/b)/da = 1/b: divide g by b",
            equals(lambda c: shaped(c, c.upstream * c.inputs[1]) if c.index == 0 else None),
        ),
        Mistake(
            "missing square",
            "d(a/b)/db = -a/b**2: b is squared",
            equals(lambda c: shaped(c, -c.upstream * c.inputs[0] / c.inputs[1]) if c.index == 1 else None),
        ),
    ),
)

EXP = _vjp(
    "exp",
    "Exp",
    "Exp",
    "d exp(a)/da = exp(a): the derivative is the function itself, already computed as out.",
    ("Look at the forward: what is out?", "The derivative of exp is exp.", "vjp_a returns g * out."),
    rule_stub("Exp", "exp(a).", "a", "np.exp(a)"),
    lambda: cases.unary(ag.exp),
    mistakes=(
        Mistake("times a", "d exp(a)/da is exp(a) itself (out), not a", equals(lambda c: c.upstream * c.inputs[0])),
    ),
)

LOG = _vjp(
    "log",
    "Log",
    "Log",
    "d log(a)/da = 1/a (a > 0 here).",
    ("Which function has exp as its inverse?", "The slope of log at a is 1/a.", "vjp_a returns g / a."),
    rule_stub("Log", "log(a), a > 0.", "a", "np.log(a)"),
    lambda: cases.unary(ag.log, cases.floats(0.2, 3.0)),
    mistakes=(
        Mistake("times a", "d log(a)/da = 1/a: divide g by a", equals(lambda c: c.upstream * c.inputs[0])),
        Mistake("used out", "d log(a)/da = 1/a, not log(a) (out)", equals(lambda c: c.upstream * c.out)),
    ),
)

SIGMOID = _vjp(
    "sigmoid",
    "Sigmoid as one node",
    "Sigmoid",
    "sigmoid(a) = 1 / (1 + exp(-a)); d sigmoid(a)/da = sigmoid(a) * (1 - sigmoid(a)).\n"
    "The forward is given in its stable form; reuse out rather than calling exp again (float32\n"
    "overflows for exp(89) and beyond, and the grader tries large inputs in float32).",
    (
        "Differentiate 1/(1 + exp(-a)) with the quotient rule, then write it with sigmoid itself.",
        "exp(-a) / (1 + exp(-a))**2 = sigmoid(a) * (1 - sigmoid(a)).",
        "vjp_a returns g * out * (1 - out).",
    ),
    op_stub(
        "Sigmoid",
        "sigmoid(a) = 1 / (1 + exp(-a)), as one node.",
        "a):\n        e = np.exp(-np.abs(a))  # never overflows\n"
        "        return np.where(a >= 0, 1 / (1 + e), e / (1 + e))",
        [("vjp_a", "g, out, a", "The gradient for a: g times d sigmoid(a)/da. out is sigmoid(a).")],
    ),
    lambda: cases.unary(ag.sigmoid, cases.floats(-8, 8)),
    edges=cases.elementwise_edges(ag.sigmoid, [-100.0, -20.0, 0.0, 20.0, 100.0]),
    mistakes=(
        Mistake(
            "missing (1 - out)",
            "d sigmoid/da = out * (1 - out): the (1 - out) factor is missing",
            equals(lambda c: c.upstream * c.out),
        ),
        Mistake(
            "missing out factor",
            "d sigmoid/da = out * (1 - out): the out factor is missing",
            equals(lambda c: c.upstream * (1 - c.out)),
        ),
    ),
)


def sigmoid_graph(x: Tensor) -> dict[str, Tensor]:
    """1/(1 + exp(-x)) as four nodes, each value named."""
    n = ag.neg(x)
    e = ag.exp(n)
    d = 1 + e
    return {"x": x, "n": n, "e": e, "d": d, "out": 1 / d}


SIGMOID_GRAPH = Exercise(
    "sigmoid_graph",
    "Sigmoid as a graph: 1/(1 + exp(-x)) node by node",
    "graph",
    "Forward: n = -x, e = exp(n), d = 1 + e, y = 1/d. Backward goes the other way, one node at a time:\n"
    "grad_d = grad_y * d(1/d)/dd, grad_e = grad_d * 1, grad_n = grad_e * exp(n), grad_x = grad_n * (-1).\n"
    "Write backward(g, x) returning {'d': ..., 'e': ..., 'n': ..., 'x': ...} with g = dL/dy.",
    (
        "d(1/d)/dd = -1/d**2.",
        "The + node passes its gradient through; the exp node multiplies by exp(n) = e.",
        "The negation multiplies by -1.",
    ),
    "import numpy as np\n\n\n"
    "def backward(g, x):\n"
    '    """The gradients of y = 1/(1 + exp(-x)) w.r.t. d, e, n and x, given g = dL/dy."""\n'
    "    n = -x\n    e = np.exp(n)\n    d = 1 + e\n    y = 1 / d\n"
    '    raise NotImplementedError("write grad_d, grad_e, grad_n and grad_x")\n'
    '    return {"d": grad_d, "e": grad_e, "n": grad_n, "x": grad_x}  # noqa: F821\n',
    "backward",
    "the engine's Div, Add, Exp and Neg in autograd_lite/ops/elementwise.py (run: autograd-lite explain "
    '"1/(1+exp(-x))" --at x=1)',
    cases.sigmoid_graph,
    mistakes=(
        Mistake(
            "missing square",
            "d(1/d)/dd = -1/d**2: d is squared",
            equals(lambda c: -c.upstream / (1 + np.exp(-c.inputs[0])) if c.name == "d" else None),
        ),
        Mistake(
            "missing local derivative",
            "the exp node's local derivative is missing: grad_n = grad_e * exp(n) = grad_e * e",
            equals(lambda c: c.others["e"] if c.name == "n" else None),
        ),
        Mistake(
            "missing -1",
            "the negation's local derivative is -1: grad_x = -grad_n",
            equals(lambda c: c.others["n"] if c.name == "x" else None),
        ),
    ),
    graph=sigmoid_graph,
    graded=("d", "e", "n", "x"),
)

TANH = _vjp(
    "tanh",
    "Tanh",
    "Tanh",
    "d tanh(a)/da = 1 - tanh(a)**2 = 1 - out**2.",
    ("tanh = sinh/cosh; its slope at 0 is 1.", "1 - tanh(a)**2, and tanh(a) is out.", "g * (1 - out * out)."),
    rule_stub("Tanh", "tanh(a).", "a", "np.tanh(a)"),
    lambda: cases.unary(ag.tanh),
    edges=cases.elementwise_edges(ag.tanh, [-30.0, 0.0, 30.0]),
    mistakes=(
        Mistake("missing square", "1 - tanh(a)**2: the square is missing", equals(lambda c: c.upstream * (1 - c.out))),
        Mistake(
            "used a for out",
            "1 - tanh(a)**2 uses tanh(a) (out), not a",
            equals(lambda c: c.upstream * (1 - c.inputs[0] ** 2)),
        ),
        Mistake("plus for minus", "1 - tanh(a)**2 has a minus", equals(lambda c: c.upstream * (1 + c.out**2))),
    ),
)

RELU = _vjp(
    "relu",
    "ReLU",
    "Relu",
    "relu(a) = max(a, 0); its derivative is 1 where a > 0 and 0 elsewhere (a is drawn away from the kink).",
    ("Where a > 0 relu is a itself; elsewhere it is constant.", "A mask: (a > 0).", "g * (a > 0)."),
    rule_stub("Relu", "relu(a) = max(a, 0).", "a", "np.maximum(a, 0)"),
    lambda: cases.unary(ag.relu, cases.away_from_zero(0.05)),
    mistakes=(
        Mistake(
            "value for derivative",
            "you multiplied g by relu(a), the value; the derivative is 1 where a > 0 and 0 elsewhere",
            equals(lambda c: c.upstream * c.out),
        ),
        Mistake(
            "inverted mask",
            "the mask is inverted: g passes where a > 0",
            equals(lambda c: c.upstream * (c.inputs[0] < 0)),
        ),
        Mistake("no mask", "negative inputs must get 0: relu is flat there", equals(lambda c: c.upstream)),
    ),
)

SUM = _vjp(
    "sum",
    "Sum over axes (un-broadcasting's mirror)",
    "Sum",
    "out = a.sum(axis, keepdims): every element of a that was summed into an output element gets that\n"
    "element's g. So the gradient is g spread back over the reduced axes: the reverse of un-broadcasting.\n"
    "axis is None (everything), an int or a tuple of ints, all non-negative.",
    (
        "With keepdims=True, g already has size 1 on the reduced axes: np.broadcast_to(g, a.shape) works.",
        "With keepdims=False, the reduced axes are gone from g: put them back with size 1 first.",
        "The keepdims shape: 1 on every reduced axis (all of them for axis=None), a's size elsewhere.",
    ),
    rule_stub("Sum", "a.sum(axis, keepdims).", "a, axis, keepdims", "np.sum(a, axis=axis, keepdims=keepdims)"),
    lambda: cases.reduction(ag.sum),
    edges=cases.reduction_edges(ag.sum),
    mistakes=reduction_mistakes(lambda c: 1.0),
)

MEAN = _vjp(
    "mean",
    "Mean",
    "Mean",
    "out = a.mean(axis, keepdims) = sum / n, where n is the number of elements averaged into each output\n"
    "element: each of them gets g / n.",
    (
        "Start from your sum exercise.",
        "n = a.size // out.size.",
        "Spread g / n back over the reduced axes, as for the sum.",
    ),
    rule_stub("Mean", "a.mean(axis, keepdims).", "a, axis, keepdims", "np.mean(a, axis=axis, keepdims=keepdims)"),
    lambda: cases.reduction(ag.mean),
    edges=cases.reduction_edges(ag.mean),
    mistakes=(
        Mistake(
            "missing 1/n",
            "that is the gradient of the sum: the mean divides by n, the number of elements averaged into each output",
            equals(lambda c: spread(c.upstream, c.inputs[0], c.params["axis"])),
        ),
        Mistake(
            "divided by a.size",
            "you divided by all of a's elements: divide by the number averaged into each output (a.size // out.size)",
            equals(lambda c: spread(c.upstream, c.inputs[0], c.params["axis"]) / c.inputs[0].size),
        ),
        *reduction_mistakes(lambda c: 1.0 / _count(c)),
    ),
)

MATMUL = _vjp(
    "matmul",
    "MatMul: the affine layer's backward",
    "Matmul",
    "out = a @ b with a of shape (m, k) and b of shape (k, n) (2-D, as in the affine layer x @ W).\n"
    "grad_a = g @ b.T (shape (m, k)) and grad_b = a.T @ g (shape (k, n)).\n"
    "(The engine's op also takes 1-D and batched operands: ops/linalg.py.)",
    (
        "The gradient of a has a's shape (m, k); g is (m, n). Which product of g and b gives (m, k)?",
        "grad_a = g @ b.T.",
        "grad_b = a.T @ g.",
    ),
    op_stub(
        "Matmul",
        "a @ b for 2-D a (m, k) and b (k, n).",
        "a, b):\n        return a @ b",
        [
            ("vjp_a", "g, out, a, b", "The gradient for a, shape (m, k); g has shape (m, n)."),
            ("vjp_b", "g, out, a, b", "The gradient for b, shape (k, n)."),
        ],
    ),
    cases.matmul,
    edges=lambda: [
        cases.Case((np.linspace(-1.0, 1.0, 6).reshape(2, 3), np.linspace(0.5, 2.0, 12).reshape(3, 4)), ag.matmul)
    ],
    mistakes=(
        Mistake(
            "transposed matmul",
            "the shapes of a matrix product do not fit: grad_a = g (m, n) @ b.T (n, k); grad_b = a.T (k, m) @ g (m, n)",
            raises("mismatch|not aligned|shapes"),
        ),
        Mistake(
            "transposed matmul",
            "b needs a .T: grad_a = g @ b.T",
            equals(lambda c: c.upstream @ c.inputs[1] if c.index == 0 else None),
        ),
        Mistake(
            "transposed matmul",
            "a needs a .T: grad_b = a.T @ g",
            equals(lambda c: c.inputs[0] @ c.upstream if c.index == 1 else None),
        ),
        Mistake(
            "transposed matmul",
            "the factors are in the wrong order: grad_b = a.T @ g, not g.T @ a (that is its transpose)",
            equals(lambda c: (c.upstream.T @ c.inputs[0]) if c.index == 1 else None),
        ),
    ),
)

SOFTMAX = _vjp(
    "softmax",
    "Softmax along an axis",
    "Softmax",
    "s = softmax(a) along axis: s_i = exp(a_i) / sum_j exp(a_j). Every s_i depends on every a_j:\n"
    "d s_i/d a_j = s_i * (delta_ij - s_j), so grad_a = s * (g - sum(g * s, along the axis)).",
    (
        "Write the Jacobian for two elements by hand: d s_1/d a_1 and d s_1/d a_2.",
        "Contract it with g: sum_i g_i s_i (delta_ij - s_j) = s_j (g_j - sum_i g_i s_i).",
        "out * (g - np.sum(g * out, axis=axis, keepdims=True)).",
    ),
    op_stub(
        "Softmax",
        "softmax(a) along axis (an int).",
        "a, axis):\n        e = np.exp(a - np.max(a, axis=axis, keepdims=True))  # shifted: exp never overflows\n"
        "        return e / np.sum(e, axis=axis, keepdims=True)",
        [("vjp_a", "g, out, a, axis", "The gradient for a. out is softmax(a).")],
    ),
    lambda: cases.along_axis(ag.softmax),
    edges=lambda: [
        cases.Case((np.array([[-60.0, 0.0, 60.0], [1.0, 1.0, 1.0]]),), lambda t: ag.softmax(t, axis=-1)),
        cases.Case((np.linspace(-1.0, 2.0, 12).reshape(2, 3, 2),), lambda t: ag.softmax(t, axis=1)),
    ],
    mistakes=(
        Mistake(
            "missing cross terms",
            "only the diagonal of the Jacobian: softmax mixes the whole axis (d s_i/d a_j = s_i (delta_ij - s_j)); "
            "subtract sum(g * s) along the axis",
            equals(lambda c: c.upstream * c.out * (1 - c.out)),
        ),
        Mistake(
            "elementwise product",
            "g * s is only part of it: s * (g - sum(g * s))",
            equals(lambda c: c.upstream * c.out),
        ),
        Mistake("off-by-one axis", "you summed along the wrong axis: use axis, with keepdims=True", _other_axis),
        Mistake(
            "missing keepdims",
            "the sum along the axis lost that axis, so it does not broadcast against s: keepdims=True",
            raises("broadcast"),
        ),
        Mistake(
            "missing keepdims",
            "the sum along the axis lost that axis, so it broadcast along the wrong one: keepdims=True",
            equals(lambda c: c.out * (c.upstream - np.sum(c.upstream * c.out, axis=c.params["axis"]))),
        ),
    ),
)

SOFTMAX_CROSS_ENTROPY = _vjp(
    "softmax_cross_entropy",
    "Softmax with cross-entropy (the loss layer)",
    "SoftmaxCrossEntropy",
    "loss_r = -sum_c t_rc * log softmax(z_r)_c, one value per row r, where t is one-hot of labels (when\n"
    "labels is given) or target (a probability per class). Its gradient is famously simple:\n"
    "d loss_r / d z_r = softmax(z_r) - t_r. g has one value per row.",
    (
        "Build t: np.eye(classes)[labels] when labels is not None, else target.",
        "softmax(z) - t, per row.",
        "Multiply by g[..., None]: one upstream value per row.",
    ),
    op_stub(
        "SoftmaxCrossEntropy",
        "-sum(t * log_softmax(z)) per row; labels (ints) or target (probabilities), the other is None.",
        "logits, labels, target):\n"
        "        shifted = logits - logits.max(-1, keepdims=True)\n"
        "        log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))\n"
        "        if labels is not None:\n"
        "            return -np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]\n"
        "        return -(target * log_p).sum(-1)",
        [("vjp_z", "g, out, logits, labels, target", "The gradient for the logits; g has one value per row.")],
    ),
    cases.softmax_cross_entropy,
    edges=lambda: [
        cases.Case((np.array([[100.0, -100.0, 0.0]]),), lambda z: ag.softmax_cross_entropy(z, np.array([1])))
    ],
    mistakes=(
        Mistake(
            "missing -t",
            "that is softmax(z) alone: the gradient is softmax(z) - t",
            equals(lambda c: c.upstream[..., None] * _softmax(c.inputs[0])),
        ),
        Mistake(
            "g on the wrong axis",
            "g has one value per row: multiply by g[..., None], so it broadcasts over the classes",
            raises("broadcast"),
        ),
        Mistake(
            "g on the wrong axis",
            "g has one value per row: multiply by g[..., None], so it broadcasts over the classes, not along them",
            equals(lambda c: (_softmax(c.inputs[0]) - _target(c)) * c.upstream),
        ),
    ),
)

MAX = _vjp(
    "max",
    "Max, with ties",
    "Max",
    "out = a.max(axis, keepdims). The gradient goes to where the maximum came from. When several\n"
    "elements tie for the maximum, the engine (like np.max's usual convention in PyTorch's amax) splits\n"
    "g evenly between them. Values here tie often.",
    (
        "hits = (a == out with the reduced axes put back as size 1).",
        "Divide hits by their count per reduced slice: hits / hits.sum(axis, keepdims=True).",
        "Multiply by g reshaped to the keepdims shape.",
    ),
    rule_stub("Max", "a.max(axis, keepdims).", "a, axis, keepdims", "np.max(a, axis=axis, keepdims=keepdims)"),
    lambda: cases.reduction(ag.max, cases.tying_values),
    edges=lambda: [
        cases.Case((np.array([[2.0, 2.0, 1.0], [0.5, 0.5, 0.5]]),), lambda t: ag.max(t, axis=1), smooth=False),
        *cases.reduction_edges(ag.max, np.array([2.0, 2.0, -1.0, 0.5, 2.0, 0.0]))(),
    ],
    mistakes=(
        Mistake(
            "ties not split",
            "each tied maximum got the whole gradient: split g evenly between the ties (divide by their count)",
            equals(
                lambda c: (
                    c.upstream.reshape(kept_shape(c.inputs[0].shape, c.params["axis"]))
                    * (c.inputs[0] == c.out.reshape(kept_shape(c.inputs[0].shape, c.params["axis"])))
                )
            ),
        ),
        Mistake(
            "first tie only",
            "only the first of the tied maxima got it (argmax): split g evenly between the ties",
            equals(_first_of_ties),
        ),
        *AXIS_MISTAKES,
    ),
)

GETITEM = _vjp(
    "getitem",
    "Indexing with repeated indices",
    "GetItem",
    "out = a[index] with an integer array index (repeats allowed) into a's first axis. Each position of a\n"
    "gets the sum of g over every place it was picked: a position picked twice gets two contributions.",
    (
        "Start from zeros of a's shape.",
        "grad[index] = g overwrites repeats: only the last one counts.",
        "np.add.at(grad, index, g) adds every repeat.",
    ),
    op_stub(
        "GetItem",
        "a[index], index an integer array (repeats allowed).",
        "a, index):\n        return a[index]",
        [("vjp_a", "g, out, a, index", "The gradient for a (shape a.shape); g has out's shape.")],
    ),
    cases.repeated_indices,
    edges=lambda: [cases.Case((np.array([1.0, 2.0, 3.0]),), lambda t: t[np.array([1, 1, 1, 0])])],
    mistakes=(
        Mistake(
            "repeats overwrite",
            "repeated indices overwrote each other: grad[index] = g keeps the last only; np.add.at(grad, index, g) "
            "adds every repeat",
            equals(_assigned),
        ),
    ),
)


def two_layer_graph(x: Tensor, W1: Tensor, b1: Tensor, W2: Tensor, b2: Tensor, labels: Any) -> dict[str, Tensor]:
    """The two-layer network's forward pass, each value the learner differentiates named."""
    z1 = ag.add(x @ W1, b1)
    h = ag.sigmoid(z1)
    z2 = ag.add(h @ W2, b2)
    loss = ag.mean(ag.softmax_cross_entropy(z2, labels))
    return {"x": x, "W1": W1, "b1": b1, "z1": z1, "h": h, "W2": W2, "b2": b2, "z2": z2, "out": loss}


TWO_LAYER = Exercise(
    "two_layer",
    "A two-layer network's backward, by hand",
    "graph",
    "Forward: z1 = x @ W1 + b1, h = sigmoid(z1), z2 = h @ W2 + b2, L = mean over the N rows of the\n"
    "softmax cross-entropy of z2 against labels. Write the whole backward pass, the lessons' way:\n"
    "delta2 = dL/dz2, dW2, db2, dh, delta1 = dL/dz1, dW1, db1, dx. g = dL/dL is a number (1 usually).",
    (
        "delta2 = g * (softmax(z2) - onehot(labels)) / N: the loss is a mean over the N rows.",
        "dW2 = h.T @ delta2, db2 = delta2.sum(axis=0), dh = delta2 @ W2.T.",
        "delta1 = dh * h * (1 - h); then dW1, db1 and dx as for the second layer.",
    ),
    "import numpy as np\n\n\n"
    "def backward(g, x, W1, b1, W2, b2, labels):\n"
    '    """dL/d(everything) of the two-layer network, given g = dL/dL."""\n'
    "    N = x.shape[0]\n"
    "    z1 = x @ W1 + b1\n    h = 1 / (1 + np.exp(-z1))\n    z2 = h @ W2 + b2\n"
    "    p = np.exp(z2 - z2.max(-1, keepdims=True))\n    p /= p.sum(-1, keepdims=True)  # softmax(z2)\n"
    '    raise NotImplementedError("write the backward pass")\n'
    "    return {\n"
    '        "z2": delta2, "W2": dW2, "b2": db2, "h": dh, "z1": delta1, "W1": dW1, "b1": db1, "x": dx,  # noqa: F821\n'
    "    }\n",
    "backward",
    "the engine's Matmul, Add, Sigmoid, SoftmaxCrossEntropy and Mean in autograd_lite/ops/",
    cases.two_layer,
    mistakes=(
        Mistake(
            "missing 1/N",
            "forgot to divide by N: the loss is the MEAN over the batch, so delta2 = (softmax(z2) - t) / N",
            equals(lambda c: c.expected * c.inputs[0].shape[0] if c.name == "z2" else None),
        ),
        Mistake(
            "wrong bias axis",
            "the bias was added to every row, so its gradient sums delta over the rows (axis=0), not the columns",
            equals(
                lambda c: c.others["z2" if c.name == "b2" else "z1"].sum(axis=1) if c.name in ("b1", "b2") else None
            ),
        ),
        Mistake(
            "missing sigmoid derivative",
            "delta1 = dh * h * (1 - h): the sigmoid's local derivative is missing",
            equals(lambda c: c.others["h"] if c.name == "z1" else None),
        ),
    ),
    graph=two_layer_graph,
    graded=("z2", "W2", "b2", "h", "z1", "W1", "b1", "x"),
)

MATMUL_FORWARD = Exercise(
    "matmul_jvp",
    "A forward-mode rule: MatMul's jvps",
    "jvp",
    "Forward mode pushes a tangent (a small change) through an op: if a changes by t, a @ b changes by\n"
    "t @ b; if b changes by t, by a @ t (the product rule again, forward). Write jvps, one per input:\n"
    "jvp(t, out, a, b) -> the change of out.",
    ("Expand (a + t) @ b.", "jvp_a returns t @ b.", "jvp_b returns a @ t."),
    op_stub(
        "Matmul",
        "a @ b for 2-D a (m, k) and b (k, n), forward mode.",
        "a, b):\n        return a @ b",
        [
            ("jvp_a", "t, out, a, b", "The change of out when a changes by t (t has a's shape)."),
            ("jvp_b", "t, out, a, b", "The change of out when b changes by t (t has b's shape)."),
        ],
    ),
    "Matmul",
    "autograd_lite/ops/linalg.py, class Matmul (its jvps)",
    cases.matmul,
    mistakes=(
        Mistake(
            "product order",
            "the order of a matrix product matters: a changes by t, so out changes by t @ b (and by a @ t for b)",
            raises("mismatch|not aligned|shapes"),
        ),
    ),
    reference_op=OPS["Matmul"],
)

#: The exercises in lesson order.
EXERCISES: tuple[Exercise, ...] = (
    ADD, MUL, DIV, EXP, LOG, SIGMOID, SIGMOID_GRAPH, TANH, RELU, SUM, MEAN, MATMUL, SOFTMAX,
    SOFTMAX_CROSS_ENTROPY, MAX, GETITEM, TWO_LAYER, MATMUL_FORWARD,
)  # fmt: skip
BY_NAME: dict[str, Exercise] = {exercise.name: exercise for exercise in EXERCISES}


def find(name: str) -> Exercise:
    """The exercise called ``name``, or a ValueError listing them."""
    if name not in BY_NAME:
        raise ValueError(f"no exercise called {name!r}; choose from: {', '.join(BY_NAME)}")
    return BY_NAME[name]
