"""Activation modules: forward equals NumPy, gradients equal central differences, Step refuses backward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_testing import check_module_grad
from strategies import arrays, away_from_zero, shapes

import autograd_lite as ag
import nn
from nn.activations import get_activation


def np_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


REFERENCES = {
    nn.Sigmoid: lambda x: 1 / (1 + np.exp(-x)),
    nn.Tanh: np.tanh,
    nn.ReLU: lambda x: np.maximum(x, 0),
    nn.Identity: lambda x: x,
}


@pytest.mark.parametrize("module", list(REFERENCES), ids=lambda m: m.__name__)
@given(x=arrays(shapes, away_from_zero()))  # away from ReLU's kink, where central differences straddle it
def test_elementwise_activation_forward_and_gradient(module: type[nn.Module], x: np.ndarray) -> None:
    activation = module()
    np.testing.assert_allclose(activation(ag.Tensor(x)).data, REFERENCES[module](x), rtol=1e-12, atol=1e-15)
    assert check_module_grad(activation, x)


@given(x=arrays(shapes.filter(lambda s: len(s) >= 1)), data=st.data())
def test_softmax_forward_and_gradient(x: np.ndarray, data: st.DataObject) -> None:
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    softmax = nn.Softmax(axis=axis)
    np.testing.assert_allclose(softmax(x).data, np_softmax(x, axis), rtol=1e-12, atol=1e-15)
    assert check_module_grad(softmax, x)


def test_step_is_the_perceptron_threshold() -> None:
    out = nn.Step()(ag.Tensor([-2.0, 0.0, 0.5, 3.0]))
    assert out.data.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert out.dtype == np.float64 and not out.requires_grad
    assert nn.step(np.array([1, -1])).data.tolist() == [1.0, 0.0]


def test_backpropagating_through_step_raises_a_clear_error() -> None:
    weight = ag.Tensor([[1.0], [-1.0]], requires_grad=True)
    out = nn.Step()(ag.Tensor([[2.0, 1.0], [0.0, 1.0]]) @ weight)
    assert out.data.ravel().tolist() == [1.0, 0.0]
    assert [node.op for node in ag.tape(out)] == ["Matmul", "Step"]
    with pytest.raises(RuntimeError, match=r"nn\.Step.*perceptron"):
        (out * 2).sum().backward()


def test_step_records_nothing_under_no_grad() -> None:
    with ag.no_grad():
        out = nn.step(ag.Tensor([1.0, -1.0], requires_grad=True))
    assert out.node is None and not out.requires_grad


def test_activation_names() -> None:
    assert isinstance(get_activation("ReLU"), nn.ReLU)
    assert isinstance(get_activation("linear"), nn.Identity)
    assert get_activation(None) is None
    tanh = nn.Tanh()
    assert get_activation(tanh) is tanh
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        get_activation("swish")
