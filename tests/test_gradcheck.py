"""numerical_grad, check_grad, and the worked examples people learn from."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import arrays, shapes

import autograd_lite as ag


def sum_of_squares(x: ag.Tensor) -> ag.Tensor:
    return (x**2).sum()


@pytest.mark.parametrize(
    ("point", "expected"), [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))]
)
def test_numerical_gradient_of_x0_squared_plus_x1_squared(point: tuple, expected: tuple) -> None:
    np.testing.assert_allclose(ag.numerical_grad(sum_of_squares, np.array(point)), expected, atol=1e-6)


def test_derivative_of_sigmoid_at_one() -> None:
    assert ag.grad(ag.sigmoid)(1.0).item() == pytest.approx(0.19661193324148185, abs=1e-15)


def gradient_descent(learning_rate: float, steps: int = 100) -> np.ndarray:
    x = ag.Tensor([-3.0, 4.0], requires_grad=True)
    for _ in range(steps):
        x.zero_grad()
        sum_of_squares(x).backward()
        x.data -= learning_rate * x.grad
    return x.data


def test_gradient_descent_outcomes_for_three_learning_rates() -> None:
    near_origin = gradient_descent(0.1)
    np.testing.assert_allclose(near_origin, 0.0, atol=1e-9)  # each coordinate within 1e-9
    np.testing.assert_allclose(near_origin, np.array([-3.0, 4.0]) * 0.8**100, rtol=1e-9)  # x <- 0.8 x
    assert np.linalg.norm(gradient_descent(10.0)) > 1e10  # diverges
    np.testing.assert_allclose(gradient_descent(1e-10), [-3.0, 4.0], atol=1e-6)  # barely moves


def test_numerical_grad_returns_one_array_per_input() -> None:
    da, db = ag.numerical_grad(lambda a, b: (a * b).sum(), np.ones(2), np.full(3, 2.0).reshape(3, 1))
    assert da.shape == (2,) and db.shape == (3, 1)


def test_check_grad_reports_a_table_of_the_worst_mismatches() -> None:
    class WrongExp(ag.ops.Exp):
        vjps = (lambda g, out, a: g * out * 1.5,)

    def broken(t: ag.Tensor) -> ag.Tensor:
        return ag.engine.apply(WrongExp, t).sum()

    with pytest.raises(ag.GradientCheckError) as caught:
        ag.check_grad(broken, np.array([[0.0, 1.0], [2.0, 3.0]]))
    message = str(caught.value)
    assert "4 gradient element(s) disagree" in message
    assert "analytic" in message and "numerical" in message and "rel error" in message
    first_row = message.splitlines()[2].split()
    assert first_row[:2] == ["0", "(1,"]  # the largest error: exp(3) at index (1, 1)
    with pytest.raises(ag.GradientCheckError, match="directional derivative"):
        ag.check_grad(broken, np.array([[0.0, 1.0], [2.0, 3.0]]), fast=True)


@given(arrays(shapes))
def test_fast_check_agrees_for_a_correct_function(x: np.ndarray) -> None:
    assert ag.check_grad(lambda t: (ag.tanh(t) * t).sum(), x, fast=True)


@pytest.mark.parametrize("layout", ["transposed", "strided", "fortran"])
def test_numerical_grad_of_an_input_in_any_memory_layout(layout: str) -> None:
    # a copy keeping a transposed layout made reshape(-1) a copy too: every write was lost, the gradient 0
    base = np.arange(1.0, 13.0).reshape(3, 4)
    x = {"transposed": base.T, "strided": base[:, ::2], "fortran": np.asfortranarray(base)}[layout]
    np.testing.assert_allclose(ag.numerical_grad(lambda a: ag.sum(a * a), x), 2 * x, rtol=1e-6)
    assert ag.check_grad(lambda a: ag.sum(a * a), x)
