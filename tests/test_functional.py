"""The functional transforms: grad and value_and_grad (any order), vjp, jvp, jacobian, hessian, hvp."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, expressions, floats, shapes

import autograd_lite as ag


@given(arrays(shapes))
def test_grad_of_exp_sum_is_exp(x: np.ndarray) -> None:
    gradient = ag.grad(lambda t: ag.exp(t).sum())(x)
    assert isinstance(gradient, ag.Tensor)
    np.testing.assert_allclose(gradient.data, np.exp(x), rtol=1e-12)


@given(arrays(shapes))
def test_grad_of_grad_of_tanh(x: np.ndarray) -> None:
    second = ag.grad(lambda t: ag.grad(lambda u: ag.tanh(u).sum())(t).sum())(x)
    t = np.tanh(x)
    np.testing.assert_allclose(second.data, -2 * t * (1 - t**2), rtol=1e-10, atol=1e-12)


@given(floats(-2, 2))
def test_third_derivative_of_sin_is_minus_cos(x: float) -> None:
    d1 = ag.grad(ag.sin)
    d2 = ag.grad(lambda t: d1(t))
    d3 = ag.grad(lambda t: d2(t))
    assert d3(x).item() == pytest.approx(-np.cos(x), abs=1e-12)


def test_argnums_tuple_returns_a_tuple_and_value_and_grad_returns_the_value() -> None:
    value, (da, db) = ag.value_and_grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(np.array([1.0, 2.0]), 3.0)
    assert value.item() == 9.0
    np.testing.assert_array_equal(da.data, [3.0, 3.0])
    assert db.item() == 3.0


def test_hessian_vector_product() -> None:
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    v = np.array([1.0, -1.0])
    f = lambda x: 0.5 * (x @ (A @ x))
    hvp = ag.grad(lambda x: (ag.grad(f)(x) * v).sum())(np.array([0.3, 0.7]))
    np.testing.assert_allclose(hvp.data, A @ v)


def test_grad_does_not_touch_dot_grad_of_outer_tensors() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    gradient = ag.grad(lambda x: (x * w).sum())(np.ones(2))
    np.testing.assert_array_equal(gradient.data, [1.0, 2.0])
    assert w.grad is None


def test_unused_argument_gets_zero_gradient() -> None:
    gradient = ag.grad(lambda a, b: (a * 2).sum(), argnums=1)(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(gradient.data, np.zeros(3))


def test_create_graph_backward_gives_differentiable_grad() -> None:
    x = ag.Tensor(1.5, requires_grad=True)
    y = x**3
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, ag.Tensor)
    x.grad = None
    first.backward()
    assert x.grad == pytest.approx(6 * 1.5)


# ----- vjp, jvp, jacobian, hessian, hvp -----------------------------------------------------
def central_jacobian(function: Any, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """d function(x) / d x by central differences, shaped out.shape + x.shape."""
    out_shape = np.shape(function(x))
    jac = np.zeros(out_shape + x.shape)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += step
        down[index] -= step
        jac[(...,) + index] = (np.asarray(function(up)) - np.asarray(function(down))) / (2 * step)
    return jac


@given(expressions(names=("x",)), arrays(st.just((3,)), floats(-1.5, 1.5)))
def test_jacobian_forward_equals_reverse_equals_central_differences(expression: Any, x: np.ndarray) -> None:
    _, build = expression
    function = lambda t: build({"x": t}) * ag.Tensor(np.ones(3))
    reverse = ag.jacobian(function)(x)
    forward = ag.jacobian(function, mode="forward")(x)
    assert reverse.shape == forward.shape == (3, 3)
    np.testing.assert_allclose(forward.data, reverse.data, rtol=1e-10, atol=1e-12)
    numeric = central_jacobian(lambda v: function(ag.Tensor(v)).data, x)
    np.testing.assert_allclose(reverse.data, numeric, rtol=1e-4, atol=1e-6)


@given(expressions(names=("x", "y")), arrays(st.just((2,)), floats(-1.5, 1.5)), arrays(st.just((2,)), floats(-1, 1)))
def test_hessian_is_symmetric_and_hvp_is_hessian_times_v(expression: Any, x: np.ndarray, v: np.ndarray) -> None:
    _, build = expression
    coupling = np.array([[1.0, 0.5], [0.5, 2.0]])
    function = lambda t: ag.sum(build({"x": t, "y": t[::-1]})) + (t @ coupling @ t) * ag.sin(t[0])
    hessian = ag.hessian(function)(x).data
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ag.hvp(function, (x,), (v,)).data, hessian @ v, rtol=1e-8, atol=1e-10)
    numeric = central_jacobian(lambda u: ag.grad(function)(u).data, x)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ag.jacobian(ag.grad(function))(x).data, hessian, rtol=1e-8, atol=1e-10)


@given(arrays(shapes), st.data())
def test_vjp_and_jvp_agree_with_grad_and_each_other(x: np.ndarray, data: Any) -> None:
    function = lambda t: ag.tanh(t) * t + ag.exp(-t)
    cotangent = data.draw(arrays(x.shape))
    tangent = data.draw(arrays(x.shape))
    out, vjp_fn = ag.vjp(function, x)
    (pulled,) = vjp_fn(cotangent)
    np.testing.assert_allclose(pulled.data, ag.grad(lambda t: ag.sum(function(t) * cotangent))(x).data, rtol=1e-10)
    _, pushed = ag.jvp(function, (x,), (tangent,))
    # <cotangent, J tangent> == <J^T cotangent, tangent>
    np.testing.assert_allclose(np.sum(cotangent * pushed.data), np.sum(pulled.data * tangent), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out.data, function(ag.Tensor(x)).data)


def test_grad_of_jvp_and_elementwise_grad() -> None:
    x, v = np.array([0.2, -0.9, 1.4]), np.array([1.0, 2.0, -1.0])
    assert ag.check_grad(lambda t: ag.jvp(lambda u: ag.tanh(u) * u, (t,), (v,))[1].sum(), x)
    np.testing.assert_allclose(ag.elementwise_grad(ag.sin)(x).data, np.cos(x))


def test_hessian_of_an_nn_loss_with_respect_to_a_parameter() -> None:
    import nn

    rng = np.random.default_rng(0)
    inputs, target = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    loss = lambda w: nn.mse_loss(ag.tanh(ag.Tensor(inputs) @ w), target)
    w = rng.normal(size=(3, 1))
    hessian = ag.hessian(loss)(w).data
    assert hessian.shape == (3, 1, 3, 1)
    numeric = central_jacobian(lambda u: ag.grad(loss)(u).data, w)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-4, atol=1e-7)


def test_transforms_refuse_mismatched_shapes_and_modes() -> None:
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        ag.jvp(ag.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(ValueError, match="mode must be"):
        ag.jacobian(ag.sin, mode="sideways")
    with pytest.raises(ValueError, match="cotangent has shape"):
        ag.vjp(ag.sin, np.ones(3))[1](np.ones(2))


# ----- checkpoint ------------------------------------------------------------------------------
def _block(x: Any, w: Any) -> Any:
    return ag.tanh(x @ w) * ag.sigmoid(x @ w)


@given(arrays(st.just((3, 3)), floats(-1, 1)), arrays(st.just((2, 3)), floats(-1, 1)))
def test_checkpoint_gives_the_same_derivatives_of_every_kind(w: np.ndarray, x: np.ndarray) -> None:
    blocks = ag.checkpoint(_block)
    plain = lambda v: ag.sum(_block(_block(ag.Tensor(x), v), v) ** 2)
    checkpointed = lambda v: ag.sum(blocks(blocks(ag.Tensor(x), v), v) ** 2)
    np.testing.assert_allclose(ag.grad(checkpointed)(w).data, ag.grad(plain)(w).data, rtol=1e-10, atol=1e-12)
    leaf = ag.Tensor(w, requires_grad=True)
    checkpointed(leaf).backward()
    np.testing.assert_allclose(leaf.grad, ag.grad(plain)(w).data, rtol=1e-10, atol=1e-12)
    direction = np.ones_like(w)
    np.testing.assert_allclose(
        ag.jvp(checkpointed, (w,), (direction,))[1].data, ag.jvp(plain, (w,), (direction,))[1].data, rtol=1e-10
    )
    expected = ag.hessian(plain)(w).data
    np.testing.assert_allclose(ag.hessian(checkpointed)(w).data, expected, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ag.jacobian(ag.grad(checkpointed))(w).data, expected, rtol=1e-8, atol=1e-10)


def test_checkpoint_keeps_one_node_instead_of_the_inside() -> None:
    w = ag.Tensor(np.eye(3), requires_grad=True)
    x = ag.Tensor(np.ones((2, 3)))
    assert len(ag.tape(ag.checkpoint(_block)(x, w))) == 1
    assert len(ag.tape(_block(x, w))) > 3


def test_stop_at_targets_gives_partial_derivatives() -> None:
    x = ag.Tensor(3.0, requires_grad=True)
    y = x * 2
    z = y * x
    total = ag.run_backward(z, targets=[y, x], retain_graph=True)
    partial = ag.run_backward(z, targets=[y, x], stop_at_targets=True)
    assert [float(g) for g in total] == [3.0, 12.0]  # dz/dx through y too: 2x + 2x
    assert [float(g) for g in partial] == [3.0, 6.0]  # y held fixed: dz/dx = y


def test_checkpoint_refuses_a_closure_over_a_tensor_that_requires_grad() -> None:
    w = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match="pass every such tensor as an argument"):
        ag.checkpoint(lambda a: a * w)(ag.Tensor([4.0, 5.0, 6.0], requires_grad=True))
    with ag.no_grad():  # nothing to differentiate: a closure is fine
        assert ag.checkpoint(lambda a: a * w)(np.ones(3)).shape == (3,)


def test_checkpoint_backward_repeated_with_the_same_seed_array() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = ag.checkpoint(lambda v: v * v)(x)
    seed = np.ones(2)
    for _ in range(3):
        y.backward(seed, retain_graph=True)
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])


def test_checkpoint_with_one_tensor_in_two_positions_and_integer_labels() -> None:
    f = lambda v: ag.checkpoint(lambda a, b: a * b)(v, v).sum()
    np.testing.assert_array_equal(ag.hessian(f)(np.array([1.0, 2.0])).data, 2 * np.eye(2))
    loss = ag.checkpoint(lambda z, labels: ag.softmax_cross_entropy(z, labels).sum())
    gradient = ag.grad(lambda z: loss(z, np.array([0, 1])))(np.zeros((2, 3)))
    np.testing.assert_allclose(gradient.data, [[-2 / 3, 1 / 3, 1 / 3], [1 / 3, -2 / 3, 1 / 3]])


def test_forward_mode_refuses_a_released_graph() -> None:
    x = ag.Tensor(np.ones(2000), requires_grad=True)
    y = ag.exp(ag.sin(x) * 2)
    seeds = {id(x): np.ones(2000)}
    y.sum().backward()
    with pytest.raises(RuntimeError, match="released"):
        ag.push_tangents(y, seeds)
