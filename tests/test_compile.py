"""ag.compile: generated code equals eager mode, retraces on new signatures, refuses what it cannot follow."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, expressions, shapes

import autograd_lite as ag


def two_layer_loss(W1: Any, b1: Any, W2: Any, b2: Any, x: Any, t: Any) -> Any:
    h1 = ag.relu(x @ W1 + b1)
    y = ag.sigmoid(h1 @ W2 + b2)
    return ((y - t) ** 2).sum() / 2


def network(rng: np.random.Generator, batch: int = 5, dtype: Any = np.float64) -> list[np.ndarray]:
    shapes_ = [(3, 4), (4,), (4, 2), (2,), (batch, 3), (batch, 2)]
    return [rng.normal(size=shape).astype(dtype) for shape in shapes_]


def assert_close(compiled: Any, eager: Any, rtol: float = 1e-12) -> None:
    np.testing.assert_allclose(np.asarray(compiled.data), np.asarray(eager.data), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_and_grad_of_a_network_equals_eager_at_new_values(dtype: Any) -> None:
    transform = ag.value_and_grad(two_layer_loss, argnums=(0, 1, 2, 3))
    step = ag.compile(transform)
    rng = np.random.default_rng(0)
    step(*network(rng, dtype=dtype))
    for _ in range(3):  # new values, same signature: relu's mask moves, the code must follow
        inputs = network(rng, dtype=dtype)
        (value, grads), (expected, expected_grads) = step(*inputs), transform(*inputs)
        assert value.dtype == dtype and all(g.dtype == dtype for g in grads)
        assert_close(value, expected, 1e-12 if dtype == np.float64 else 1e-5)
        for g, e in zip(grads, expected_grads):
            assert_close(g, e, 1e-12 if dtype == np.float64 else 1e-5)
    assert step.cache_info() == ag.compiler.CacheInfo(hits=3, misses=1, maxsize=32, currsize=1)


def test_new_shapes_trace_again_and_the_cache_is_bounded() -> None:
    transform = ag.value_and_grad(two_layer_loss, argnums=(0, 1, 2, 3))
    step = ag.compile(transform, maxsize=2)
    rng = np.random.default_rng(1)
    for batch in (5, 7, 9, 5):
        inputs = network(rng, batch)
        assert_close(step(*inputs)[1][0], transform(*inputs)[1][0])
    assert step.cache_info() == ag.compiler.CacheInfo(hits=0, misses=4, maxsize=2, currsize=2)


def test_python_numbers_are_part_of_the_signature() -> None:
    step = ag.compile(lambda x, power: (x**power).sum())
    assert step(np.ones(2) * 2, 2).item() == 8.0
    assert step(np.ones(2) * 2, 3).item() == 16.0
    assert step.cache_info().misses == 2


@given(expressions(), arrays(shapes), st.data())
def test_random_programs_compile_to_what_eager_computes(expression: Any, x: np.ndarray, data: Any) -> None:
    _, function = expression
    y = data.draw(arrays(x.shape))

    def scalar(a: Any, b: Any) -> Any:
        return ag.sum(function({"x": a, "y": b}))

    second = ag.grad(lambda a, b: ag.sum(ag.grad(scalar, argnums=(0, 1))(a, b)[0]), argnums=(0, 1))
    tangent = lambda a, b: ag.jvp(scalar, (a, b), (np.ones_like(x), np.full_like(y, 0.5)))
    for transform in (ag.value_and_grad(scalar, argnums=(0, 1)), second, tangent):
        compiled = ag.compile(transform)
        compiled(x, y)
        moved = (y[::-1].copy(), x[::-1].copy()) if x.ndim else (y, x)
        got, expected = compiled(*moved), transform(*moved)
        for g, e in zip(ag.compiler.trees.flatten(got)[0], ag.compiler.trees.flatten(expected)[0]):
            np.testing.assert_allclose(g.data, e.data, rtol=1e-12, atol=1e-12)


# ----- refusals, each with its message ------------------------------------------------------------
def branching(x: Any) -> Any:
    return x.sum() if x.sum() > 0 else -x.sum()


REFUSALS = [
    (branching, "bool\\(\\).*ag.where"),
    (lambda x: x * float(x.sum()), "of a traced value.*ag.where"),
    (lambda x: x * x.sum().item(), "\\.item\\(\\).*ag.where"),
    (lambda x: x * int(x.sum()), "of a traced value.*ag.where"),
    (lambda x: ag.Tensor(np.asarray(x) * 2), "np.asarray/np.array of a Tensor.*ag.where"),
    (lambda x: x * x.tolist()[0], "tolist"),
    (lambda x: x + ag.random.normal(x.shape, rng=0), "ag.random inside a function ag.compile traces"),
]


@pytest.mark.parametrize(("function", "message"), REFUSALS)
def test_what_compile_cannot_follow_is_refused_with_a_clear_message(function: Any, message: str) -> None:
    compiled = ag.compile(ag.grad(lambda x: ag.sum(function(x))))
    with pytest.raises((TypeError, RuntimeError), match=message):
        compiled(np.ones(3))


def test_a_weight_from_a_closure_is_refused_not_frozen() -> None:
    weight = ag.Tensor(np.ones(3), requires_grad=True)
    compiled = ag.compile(ag.grad(lambda x: (x * weight).sum()))
    with pytest.raises(TypeError, match="without taking it as an argument.*pass it as an argument"):
        compiled(np.ones(3))


def test_assigning_values_inside_is_refused() -> None:
    state = ag.Tensor(np.zeros(3))

    def function(x: Any) -> Any:
        state.data = x.data
        return x.sum()

    with pytest.raises(TypeError, match="side effect the compiled code would not repeat"):
        ag.compile(function)(ag.Tensor(np.ones(3)))


def test_source_before_the_first_call_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="call it once to trace it"):
        _ = ag.compile(lambda x: x).source


def test_unneeded_gradients_are_not_computed() -> None:
    source = ag.backward_code(two_layer_loss, *[ag.Tensor(a, requires_grad=i < 4) for i, a in
                                                enumerate(network(np.random.default_rng(2)))])  # fmt: skip
    assert "g_x" not in source and "g_t" not in source  # the data's gradients: nobody asked
    assert "g_W1" in source and "# backward" in source


def classifier_loss(W1: Any, b1: Any, W2: Any, b2: Any, x: Any, labels: Any) -> Any:
    h = ag.relu(ag.linear(x, W1, b1))
    return ag.softmax_cross_entropy(ag.linear(h, W2, b2), labels).mean()


def test_labels_are_inputs_of_the_compiled_code_not_constants() -> None:
    transform = ag.value_and_grad(classifier_loss, argnums=(0, 1, 2, 3))
    step = ag.compile(transform)
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=(6, 5)), np.zeros(5), rng.normal(size=(5, 3)), np.zeros(3)]
    step(*weights, rng.random((4, 6)), rng.integers(0, 3, 4))
    for _ in range(3):  # new data and labels each call
        x, labels = rng.random((4, 6)), rng.integers(0, 3, 4)
        (value, grads), (expected, expected_grads) = step(*weights, x, labels), transform(*weights, x, labels)
        assert_close(value, expected)
        for g, e in zip(grads, expected_grads):
            assert_close(g, e)
    for bad in (3, -1):  # out of range fails in the compiled code as in eager, never a wrong loss (-1: the last)
        with pytest.raises(ValueError, match=rf"softmax_cross_entropy: label {bad} is out of range for 3 classes"):
            step(*weights, rng.random((4, 6)), np.array([0, 1, bad, 2]))


@given(expressions(), st.data())
def test_random_programs_on_large_arrays_write_in_place_and_compute_what_eager_computes(
    expression: Any, data: Any
) -> None:
    _, function = expression
    x, y = data.draw(arrays((24, 30))), data.draw(arrays((24, 30)))  # 5.6 kB each: intermediates reuse buffers

    def scalar(a: Any, b: Any) -> Any:
        return ag.sum(function({"x": a, "y": b}) * function({"x": b, "y": a}))

    transform = ag.value_and_grad(scalar, argnums=(0, 1))
    compiled = ag.compile(transform)
    compiled(x, y)
    (value, grads), (expected, expected_grads) = compiled(y, x), transform(y, x)
    assert_close(value, expected)
    for g, e in zip(grads, expected_grads):
        assert_close(g, e)


def test_a_wide_network_reuses_buffers_and_backward_code_does_not() -> None:
    transform = ag.value_and_grad(two_layer_loss, argnums=(0, 1, 2, 3))
    rng = np.random.default_rng(5)
    inputs = [rng.normal(size=shape) for shape in [(30, 40), (40,), (40, 20), (20,), (64, 30), (64, 20)]]
    step = ag.compile(transform)
    step(*inputs)
    assert ", out=" in step.source
    moved = [rng.normal(size=x.shape) for x in inputs]
    (value, grads), (expected, expected_grads) = step(*moved), transform(*moved)
    assert_close(value, expected)
    for g, e in zip(grads, expected_grads):
        assert_close(g, e)
    assert ", out=" not in ag.backward_code(two_layer_loss, *inputs)


def test_hessians_and_hessian_vector_products_compile() -> None:
    def f(x: Any) -> Any:
        return (ag.tanh(x) ** 3).sum() + (ag.relu(x) * x).sum()

    hessian = ag.hessian(f)
    product = lambda x, v: ag.hvp(f, (x,), (v,))
    compiled_hessian, compiled_product = ag.compile(hessian), ag.compile(product)
    x, v = np.array([0.3, -1.2, 2.0]), np.array([-0.5, 0.7, 1.1])
    compiled_hessian(x)
    compiled_product(x, v)
    assert_close(compiled_hessian(v), hessian(v))  # the relu's kink moved: traced at x, run at v
    assert_close(compiled_product(v, x), product(v, x))


@given(arrays(st.tuples(st.integers(1, 5), st.integers(1, 6))), st.data(), st.sampled_from([np.float32, np.float64]))
def test_loss_and_its_gradient_in_one_call_equal_the_two_ops_bit_for_bit(logits: Any, data: Any, dtype: Any) -> None:
    logits = logits.astype(dtype)
    rows, classes = logits.shape
    if data.draw(st.booleans(), label="labels"):
        labels, target = data.draw(st.lists(st.integers(0, classes - 1), min_size=rows, max_size=rows)), None
        labels = np.array(labels, dtype=np.intp)
    else:
        labels, target = None, np.abs(data.draw(arrays((rows, classes)))).astype(dtype)
    op, gradient_op = ag.ops.SoftmaxCrossEntropy, ag.ops.SoftmaxCrossEntropyGrad
    loss, delta = op.forward_and_gradient(logits, labels, target)
    np.testing.assert_array_equal(loss, op.forward(logits, labels, target))
    np.testing.assert_array_equal(delta, gradient_op.forward(logits, labels, target))
    assert loss.dtype == delta.dtype == dtype


@pytest.mark.parametrize("soft", [False, True])
def test_a_training_step_computes_the_softmax_once_and_equals_eager(soft: bool) -> None:
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=(6, 5)), np.zeros(5), rng.normal(size=(5, 3)), np.zeros(3)]
    x, labels = rng.random((4, 6)), rng.integers(0, 3, 4)
    target = np.eye(3)[labels] * 0.9 + 0.1 / 3 if soft else labels
    transform = ag.value_and_grad(classifier_loss, argnums=(0, 1, 2, 3))
    step = ag.compile(transform)
    (value, grads), (expected, expected_grads) = step(*weights, x, target), transform(*weights, x, target)
    assert "softmax_cross_entropy_and_grad(" in step.source and "softmax_cross_entropy_grad(" not in step.source
    np.testing.assert_array_equal(value.data, expected.data)
    for g, e in zip(grads, expected_grads):
        np.testing.assert_allclose(g.data, e.data, rtol=1e-14, atol=1e-15)
    gradient_only = ag.compile(ag.grad(classifier_loss, argnums=(0, 1, 2, 3)))  # no loss value: nothing to fuse
    gradient_only(*weights, x, target)
    assert "softmax_cross_entropy_grad(" in gradient_only.source and "_and_grad" not in gradient_only.source


def test_the_one_hot_is_subtracted_from_logits_in_any_memory_layout() -> None:
    # a transposed view's softmax is not C-contiguous: a reshape of it would be a copy, the write lost
    rng = np.random.default_rng(0)
    labels, x = np.array([[0, 1], [2, 0], [1, 2]]), rng.normal(size=(3, 2, 3))

    def loss(x: Any) -> Any:
        return ag.sum(ag.softmax_cross_entropy(ag.transpose(x, (2, 1, 0)), labels))

    assert ag.check_grad(loss, x)
    gradient = ag.grad(loss)(x).data
    direction = rng.normal(size=x.shape)
    np.testing.assert_allclose(ag.jvp(loss, (x,), (direction,))[1].item(), (gradient * direction).sum(), rtol=1e-12)
    np.testing.assert_allclose(ag.compile(ag.value_and_grad(loss))(x)[1].data, gradient, rtol=1e-14, atol=1e-15)
    assert ag.check_grad(lambda x: ag.sum(ag.grad(loss)(x) ** 2), x, atol=1e-5, rtol=1e-3)
