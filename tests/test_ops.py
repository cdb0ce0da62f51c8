"""Every op: forward equals NumPy, backward equals central differences (hypothesis-drawn).

OP_CASES is the op table of the tests: one strategy per public op drawing inputs from
the op's valid domain. ``test_every_op_has_a_property_test`` makes a missing entry fail.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import op_cases
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_testing import (
    Case,
    along_axis,
    binary,
    hnp_shapes_at_least_1d,
    np_logsumexp,
    np_softmax,
    projected_gradient,
    reduction,
    unary,
    weighted_sum,
)
from strategies import (
    arrays,
    away_from_zero,
    broadcastable_arrays,
    dot_operands,
    floats,
    indices_for,
    matmul_operands,
    shapes,
)

import autograd_lite as ag
from autograd_lite import numpy_routing, ops


@st.composite
def far_apart_pair(draw: Any) -> list[np.ndarray]:
    """Two broadcastable arrays with no near-ties (maximum/minimum have a kink there)."""
    a, b = draw(broadcastable_arrays())
    assume(np.all(np.abs(a - b) > 1e-2))
    return [a, b]


@st.composite
def where_case(draw: Any) -> Case:
    a, b, condition = draw(broadcastable_arrays(count=3))
    mask = condition > 0
    return Case(lambda x, y: ag.where(mask, x, y), [a, b], lambda x, y: np.where(mask, x, y))


@st.composite
def clip_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    low, high = -1.0, 1.0
    assume(np.all(np.abs(np.abs(x) - 1.0) > 1e-2))  # away from the kinks at the bounds
    if not draw(st.booleans()):
        return Case(lambda t: ag.clip(t, low, high), [x], lambda a: np.clip(a, low, high))
    # Tensor bounds, differentiated too: drawn apart from x and from each other
    lows = draw(arrays(x.shape, floats(-2.0, -0.5)))
    assume(np.all(np.abs(x - lows) > 1e-2))
    return Case(lambda t, lo: ag.clip(t, lo, high), [x, lows], lambda a, lo: np.clip(a, lo, high))


@st.composite
def reshape_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    new_shape = draw(
        st.sampled_from(
            [(x.size,), (1, x.size), (x.size, 1), (-1,), ()] if x.size == 1 else [(x.size,), (1, x.size), (-1, 1)]
        )
    )
    return Case(lambda t: ag.reshape(t, new_shape), [x], lambda a: np.reshape(a, new_shape))


@st.composite
def transpose_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    axes = draw(st.one_of(st.none(), st.permutations(range(x.ndim)).map(tuple)))
    return Case(lambda t: ag.transpose(t, axes), [x], lambda a: np.transpose(a, axes))


@st.composite
def swapaxes_case(draw: Any) -> Case:
    x = draw(arrays(hnp_shapes_at_least_1d))
    first, second = draw(st.integers(0, x.ndim - 1)), draw(st.integers(-x.ndim, x.ndim - 1))
    return Case(lambda t: ag.swapaxes(t, first, second), [x], lambda a: np.swapaxes(a, first, second))


@st.composite
def broadcast_to_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    target = draw(st.tuples(*[st.sampled_from([size, 3]) if size == 1 else st.just(size) for size in x.shape]))
    target = (2,) + target if draw(st.booleans()) else target
    return Case(lambda t: ag.broadcast_to(t, target), [x], lambda a: np.broadcast_to(a, target))


@st.composite
def expand_dims_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    axis = draw(st.integers(-x.ndim - 1, x.ndim))
    return Case(lambda t: ag.expand_dims(t, axis), [x], lambda a: np.expand_dims(a, axis))


@st.composite
def getitem_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    index = draw(indices_for(x.shape))
    return Case(lambda t: t[index], [x], lambda a: a[index])


@st.composite
def join_case(draw: Any, stack: bool) -> Case:
    base = draw(hnp_shapes_at_least_1d)
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(base) - stack, len(base) - 1 + stack))
    if stack:
        xs = [draw(arrays(base)) for _ in range(count)]
        return Case(lambda *ts: ag.stack(ts, axis=axis), xs, lambda *a: np.stack(a, axis=axis))
    sizes = [draw(st.integers(1, 3)) for _ in range(count)]
    position = axis % len(base)
    xs = [draw(arrays(base[:position] + (size,) + base[position + 1 :])) for size in sizes]
    return Case(lambda *ts: ag.concatenate(ts, axis=axis), xs, lambda *a: np.concatenate(a, axis=axis))


@st.composite
def astype_case(draw: Any) -> Case:
    x = draw(arrays(shapes))
    # float32 rounding limits what central differences can resolve, hence the looser rtol.
    return Case(lambda t: ag.astype(t, np.float32).astype(np.float64), [x], lambda a: a.astype(np.float32), rtol=1e-2)


@st.composite
def linear_case(draw: Any) -> Case:
    rows, inputs, outputs = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(st.sampled_from([(), (2,)]))
    x, weight, bias = draw(arrays(batch + (rows, inputs))), draw(arrays((inputs, outputs))), draw(arrays((outputs,)))
    return Case(ag.linear, [x, weight, bias], lambda a, w, b: a @ w + b)


@st.composite
def softmax_cross_entropy_case(draw: Any) -> Case:
    logits = draw(arrays(st.tuples(st.integers(1, 4), st.integers(1, 4))))
    rows, classes = logits.shape
    if draw(st.booleans()):
        labels = draw(hnp.arrays(np.int64, (rows,), elements=st.integers(0, classes - 1)))
        reference = lambda z: -np.log(np_softmax(z, -1))[np.arange(rows), labels]
        return Case(lambda z: ag.softmax_cross_entropy(z, labels), [logits], reference)
    target = np_softmax(draw(arrays((rows, classes))), -1)
    reference = lambda z: -(target * np.log(np_softmax(z, -1))).sum(-1)
    return Case(lambda z: ag.softmax_cross_entropy(z, target), [logits], reference)


positive = floats(0.2, 3.0)
OP_CASES: dict[str, st.SearchStrategy[Case]] = {
    "add": binary(ag.add, np.add),
    "sub": binary(ag.sub, np.subtract),
    "mul": binary(ag.mul, np.multiply),
    "div": binary(ag.div, np.divide, second=away_from_zero(0.5)),
    "neg": unary(ag.neg, np.negative),
    "power": binary(ag.power, np.power, first=floats(0.5, 2.0), second=floats(-2.0, 2.0)),
    "exp": unary(ag.exp, np.exp),
    "log": unary(ag.log, np.log, positive),
    "sqrt": unary(ag.sqrt, np.sqrt, positive),
    "abs": unary(ag.abs, np.abs, away_from_zero(0.05)),
    "sin": unary(ag.sin, np.sin),
    "cos": unary(ag.cos, np.cos),
    "sigmoid": unary(ag.sigmoid, lambda a: 1 / (1 + np.exp(-a)), floats(-8, 8)),
    "tanh": unary(ag.tanh, np.tanh),
    "relu": unary(ag.relu, lambda a: np.maximum(a, 0), away_from_zero(0.05)),
    "maximum": st.builds(lambda xs: Case(ag.maximum, xs, np.maximum), far_apart_pair()),
    "minimum": st.builds(lambda xs: Case(ag.minimum, xs, np.minimum), far_apart_pair()),
    "where": where_case(),
    "clip": clip_case(),
    "dot": st.builds(lambda xs: Case(ag.dot, list(xs), np.dot), dot_operands()),
    "matmul": st.builds(lambda xs: Case(ag.matmul, list(xs), np.matmul), matmul_operands()),
    "sum": reduction(ag.sum, np.sum),
    "mean": reduction(ag.mean, np.mean),
    "max": reduction(ag.max, np.max, distinct=True),
    "min": reduction(ag.min, np.min, distinct=True),
    "logsumexp": reduction(ag.logsumexp, np_logsumexp),
    "softmax": along_axis(ag.softmax, np_softmax),
    "log_softmax": along_axis(ag.log_softmax, lambda a, axis: np.log(np_softmax(a, axis))),
    "reshape": reshape_case(),
    "transpose": transpose_case(),
    "swapaxes": swapaxes_case(),
    "broadcast_to": broadcast_to_case(),
    "expand_dims": expand_dims_case(),
    "getitem": getitem_case(),
    "concatenate": join_case(stack=False),
    "stack": join_case(stack=True),
    "astype": astype_case(),
    "linear": linear_case(),
    "softmax_cross_entropy": softmax_cross_entropy_case(),
}


for name in op_cases.CASES:  # the families added later keep their cases in op_cases_<family>.py
    assert name not in OP_CASES, f"{name} has two property-test cases"
OP_CASES.update(op_cases.CASES)


def test_every_op_has_a_property_test() -> None:
    assert set(ag.OPS) == set(OP_CASES), f"ops without a property test: {set(ag.OPS) - set(OP_CASES)}"


def test_every_public_function_of_the_op_modules_is_an_op_of_the_table() -> None:
    defined = set(ops.public_functions())
    internal = {op.name for op in ag.OP_TABLE if not op.public}  # ops backward uses, not exported
    assert defined == set(ag.OPS) | internal, f"functions without a Node: {defined - set(ag.OPS) - internal}"
    assert len(set(ag.OPS)) == len(ag.OPS)


@pytest.mark.parametrize("op", ag.OP_TABLE, ids=lambda op: op.__name__)
def test_op_table_entry_holds_every_fact(op: type[ag.Node]) -> None:
    assert op.name and op.category and op.formulas and op.formula, f"{op.__name__} misses a fact"
    function = getattr(ag if op.public else ops, op.name)
    assert callable(function) and function.__doc__
    assert (op.name in ag.__all__) == op.public
    variadic = "{i}" in op.arguments[0]
    if variadic:  # one rule for any number of inputs
        assert len(op.formulas) == 1 and not op.vjps
    else:  # one rule per input, written beside its vjp
        assert len(op.formulas) == len(op.vjps) <= len(op.arguments)
    for index in range(1 if variadic else len(op.formulas)):
        assert op.input_formula(index) in op.formula or variadic
    for numpy_function in op.numpy:
        table = numpy_routing.UFUNCS if isinstance(numpy_function, np.ufunc) else numpy_routing.FUNCTIONS
        assert table[numpy_function] in (function, getattr(op, "from_numpy", None))


def T(m: np.ndarray) -> np.ndarray:  # the rules' .T: the last two axes swapped
    return np.swapaxes(m, -1, -2)


MATMUL_RULES = [  # operand shapes, then each input's rule as shown and as NumPy of (grad, a, b)
    ((2, 3), (3, 4), ("grad @ b.T", lambda g, a, b: g @ T(b)), ("a.T @ grad", lambda g, a, b: T(a) @ g)),
    ((2, 3), (3,), ("outer(grad, b)", lambda g, a, b: np.outer(g, b)), ("a.T @ grad", lambda g, a, b: T(a) @ g)),
    ((3,), (3, 4), ("b @ grad", lambda g, a, b: b @ g), ("outer(a, grad)", lambda g, a, b: np.outer(a, g))),
    ((3,), (3,), ("grad * b", lambda g, a, b: g * b), ("grad * a", lambda g, a, b: g * a)),
]


@pytest.mark.parametrize(("a_shape", "b_shape", "rule_a", "rule_b"), MATMUL_RULES)
def test_matmul_shows_the_rule_that_holds_for_the_ranks_at_hand(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...], rule_a: Any, rule_b: Any
) -> None:
    a, b = np.random.default_rng(0).normal(size=a_shape), np.random.default_rng(1).normal(size=b_shape)
    g = np.random.default_rng(2).normal(size=np.matmul(a, b).shape)
    for op in (ops.Matmul, ops.Dot):
        for index, (shown, numpy_rule) in enumerate((rule_a, rule_b)):
            assert op.input_formula(index, (a, b)).endswith(f"= {shown}")
            np.testing.assert_allclose(op.vjp(index, g, None, (a, b), {}), numpy_rule(g, a, b))


@pytest.mark.parametrize("name", sorted(OP_CASES))
@given(data=st.data())
def test_forward_matches_numpy(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    out = case.function(*[ag.Tensor(x) for x in case.inputs])
    expected = case.reference(*case.inputs)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OP_CASES))
@given(data=st.data())
def test_backward_matches_central_differences(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    originals = [x.copy() for x in case.inputs]
    assert ag.check_grad(weighted_sum(case.function), *case.inputs, atol=1e-6, rtol=case.rtol)
    for before, after in zip(originals, case.inputs):
        np.testing.assert_array_equal(before, after)  # inputs are not mutated


@pytest.mark.parametrize("name", sorted(OP_CASES))
@given(data=st.data())
def test_gradient_shape_and_dtype_match_input(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    leaves = [ag.Tensor(x.astype(np.float32), requires_grad=True) for x in case.inputs]
    out = case.function(*leaves)
    out.sum().backward()
    for leaf in leaves:
        assert leaf.grad is not None and leaf.grad.shape == leaf.shape
        assert leaf.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(OP_CASES))
@given(data=st.data())
def test_forward_mode_matches_central_differences_along_a_direction(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    scalar = weighted_sum(case.function)
    directions = [np.random.default_rng(7 + i).uniform(-1, 1, x.shape) for i, x in enumerate(case.inputs)]
    _, forward = ag.jvp(scalar, tuple(case.inputs), tuple(directions))
    step = 1e-3 if case.rtol >= 1e-2 else 1e-6  # float32 rounding drowns a tiny step

    def at(offset: float) -> float:
        return scalar(*[ag.Tensor(x + offset * d) for x, d in zip(case.inputs, directions)]).item()

    def central(h: float) -> float:
        return (at(h) - at(-h)) / (2 * h)

    # Richardson's extrapolation cancels the step**2 error term, which a product of many 3s magnifies
    expected = (4 * central(step / 2) - central(step)) / 3
    # what rounding the values at x +- step can change in the difference quotients above
    rounding = 16 * np.finfo(np.float64).eps * max(abs(at(step)), abs(at(-step)), 1.0) / step
    np.testing.assert_allclose(forward.item(), expected, rtol=max(case.rtol, 1e-4), atol=1e-6 + rounding)


@pytest.mark.parametrize("name", sorted(OP_CASES))
@settings(max_examples=5)  # a Jacobian is one sweep per element: a few draws per op keep this fast
@given(data=st.data())
def test_jacobian_forward_equals_reverse_for_every_op(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])

    def joined(*tensors: Any) -> Any:  # every output of the op in one vector, so multi-output ops count too
        out = case.function(*tensors)
        parts = out if isinstance(out, (list, tuple)) else [out]
        return ag.concatenate([ag.reshape(part, (-1,)) for part in parts if isinstance(part, ag.Tensor)])

    argnums = tuple(range(len(case.inputs)))
    reverse = ag.jacobian(joined, argnums=argnums)(*case.inputs)
    forward = ag.jacobian(joined, argnums=argnums, mode="forward")(*case.inputs)
    for by_rows, by_columns in zip(reverse, forward):
        np.testing.assert_allclose(by_columns.data, by_rows.data, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("op", ag.OP_TABLE, ids=lambda op: op.__name__)
def test_every_op_has_a_forward_mode_rule_beside_its_vjps(op: type[ag.Node]) -> None:
    own_tangent = "tangent" in vars(op)  # ops of any arity give the whole forward rule
    diagonal = op.category == "elementwise"  # a diagonal Jacobian: the vjps serve forward too
    assert own_tangent or (op.jvps and len(op.jvps) == len(op.vjps)) or diagonal, f"{op.__name__} has no jvps"


SECOND_ORDER = [
    "add", "sub", "mul", "div", "neg", "power", "exp", "log", "sqrt", "sin", "cos", "sigmoid",
    "tanh", "matmul", "dot", "sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax",
    "getitem", "concatenate", "stack", "reshape", "transpose", "broadcast_to", "where", "relu", "abs",
    "linear", "softmax_cross_entropy", *op_cases.SECOND_ORDER,
]  # fmt: skip


@pytest.mark.parametrize("name", SECOND_ORDER)
@given(data=st.data())
def test_second_order_matches_central_differences_of_the_gradient(name: str, data: Any) -> None:
    case = data.draw(OP_CASES[name])
    assert ag.check_grad(projected_gradient(case), *case.inputs, atol=1e-5, rtol=1e-3)


@given(arrays(st.tuples(st.integers(1, 3), st.integers(1, 4))), st.data())
def test_softmax_cross_entropy_with_any_real_target_matches_its_definition(logits: np.ndarray, data: Any) -> None:
    target = data.draw(arrays(logits.shape, floats(-1, 2)))  # multi-hot, unnormalised, even negative
    value = ag.softmax_cross_entropy(logits, target)
    log_p = np.log(np_softmax(logits, -1))
    np.testing.assert_allclose(value.data, -(target * log_p).sum(-1), rtol=1e-10, atol=1e-12)
    assert ag.check_grad(lambda z: (ag.softmax_cross_entropy(z, target) * 1.0).sum(), logits, atol=1e-6)


@settings(max_examples=10)
@given(data=st.data())
def test_softmax_cross_entropy_hessian_forward_over_reverse_equals_reverse_over_reverse(data: Any) -> None:
    # grad of the loss is the op softmax_cross_entropy_grad: its jvps give forward-over-reverse, its vjps the rest
    case = data.draw(softmax_cross_entropy_case())
    scalar = weighted_sum(case.function)
    (logits,) = case.inputs
    reverse = ag.jacobian(ag.grad(scalar))(logits)
    forward = ag.jacobian(ag.grad(scalar), mode="forward")(logits)
    np.testing.assert_allclose(forward.data, reverse.data, rtol=1e-9, atol=1e-12)
    assert ag.check_grad(lambda z: ag.sum(ag.grad(scalar)(z) ** 2), logits, atol=1e-5, rtol=1e-3)  # third order


@pytest.mark.parametrize(
    ("labels", "target", "message"),
    [
        (None, None, "give labels or a target, not both or neither"),
        (np.array([0, 1]), np.full((2, 3), 1 / 3), "give labels or a target, not both or neither"),
        (np.array([0, -1]), None, "label -1 is out of range for 3 classes"),
        (np.array([3, 0]), None, "label 3 is out of range for 3 classes"),
    ],
)
def test_softmax_cross_entropy_grad_refuses_what_it_cannot_compute(labels: Any, target: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ops.softmax_cross_entropy_grad(np.zeros((2, 3)), labels=labels, target=target)


CUMPROD_EDGES = (0.0, 2.2250738585072014e-308, 2.22507386e-311, 1e-160, 0.5, 3.0, 1e160, -1e-310)


@pytest.mark.parametrize("values", list(itertools.product(CUMPROD_EDGES, repeat=2)) + [(1e-160, 1e-160, 3.0)])
def test_cumprod_derivatives_at_zeros_subnormals_and_overflow_equal_the_products_without_division(
    values: tuple[float, ...],
) -> None:
    a, n = np.array(values), len(values)
    weights = np.arange(1.0, n + 1)  # d(sum_k w_k cumprod(a)_k)/da_j = sum_{k>=j} w_k prod_{i<=k, i!=j} a_i
    expected = [sum(weights[k] * math.prod(np.delete(a[: k + 1], j)) for k in range(j, n)) for j in range(n)]
    with np.errstate(all="ignore"):  # 1e160 * 1e160 overflows in the forward, as in NumPy
        gradient = ag.grad(lambda x: ag.sum(ag.cumprod(x) * weights))(a)
        _, tangent = ag.jvp(lambda x: ag.sum(ag.cumprod(x) * weights), (a,), (np.ones(n),))
    np.testing.assert_allclose(gradient.data, expected, rtol=1e-12)
    np.testing.assert_allclose(tangent.item(), sum(expected), rtol=1e-12)
