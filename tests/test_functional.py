"""grad and value_and_grad, including grad of grad."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import arrays, floats, shapes

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
