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


# ----- LeakyReLU, ELU, GELU, Softplus, LogSoftmax (issue 13) ---------------------------------------------------
from math import erf, sqrt  # noqa: E402

from nn.activations import ELU, GELU, LeakyReLU, LogSoftmax, Softplus  # noqa: E402

np_erf = np.vectorize(erf)


def np_softplus(x: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    smooth = np.log1p(np.exp(-np.abs(beta * x))) / beta + np.maximum(x, 0)
    return np.where(beta * x > threshold, x, smooth)


NEW_REFERENCES = {
    "leaky_relu": (LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    "leaky_relu_0.2": (LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu_0.5": (ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "gelu": (GELU(), lambda x: x * 0.5 * (1 + np_erf(x / sqrt(2)))),
    "gelu_tanh": (GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    "softplus": (Softplus(), np_softplus),
    "softplus_beta2": (Softplus(beta=2.0), lambda x: np_softplus(x, beta=2.0)),
}


@pytest.mark.parametrize("name", list(NEW_REFERENCES))
@given(x=arrays(shapes, away_from_zero()))  # away from the kinks at 0
def test_new_elementwise_activations_forward_and_gradient(name: str, x: np.ndarray) -> None:
    module, reference = NEW_REFERENCES[name]
    np.testing.assert_allclose(module(ag.Tensor(x)).data, reference(x), rtol=1e-10, atol=1e-12)
    assert check_module_grad(module, x)


def test_softplus_is_linear_above_its_threshold_and_finite_far_below() -> None:
    x = ag.Tensor(np.array([-1000.0, 0.0, 30.0, 1000.0]), requires_grad=True)
    out = Softplus()(x)
    np.testing.assert_allclose(out.data, [0.0, np.log(2), 30.0, 1000.0], rtol=1e-15, atol=0)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 1.0, 1.0], atol=1e-300)
    assert np.isfinite(Softplus(beta=3.0)(np.array([-1000.0, 1000.0])).data).all()


@given(x=arrays(shapes.filter(lambda s: len(s) >= 1)), data=st.data())
def test_log_softmax_forward_and_gradient(x: np.ndarray, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    module = LogSoftmax(dim=dim)
    np.testing.assert_allclose(module(x).data, np.log(np_softmax(x, dim)), rtol=1e-10, atol=1e-12)
    assert check_module_grad(module, x)


def test_log_softmax_stays_finite_for_huge_logits_and_keeps_float32() -> None:
    out = LogSoftmax(dim=1)(ag.Tensor(np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32)))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [[0.0, -1000.0, -2000.0]])


def test_new_activations_by_name_repr_and_bad_arguments() -> None:
    assert isinstance(get_activation("gelu"), GELU) and isinstance(get_activation("LeakY_ReLU"), LeakyReLU)
    assert isinstance(get_activation("elu"), ELU) and isinstance(get_activation("softplus"), Softplus)
    assert repr(LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(ELU()) == "ELU(alpha=1.0)" and repr(GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(Softplus()) == "Softplus(beta=1, threshold=20)" and repr(LogSoftmax(1)) == "LogSoftmax(dim=1)"
    with pytest.raises(ValueError, match="GELU: approximate must be 'none' or 'tanh'"):
        GELU("erf")
    with pytest.raises(ValueError, match="Softplus: beta must be positive"):
        Softplus(beta=0)
    with pytest.raises(TypeError, match="LogSoftmax: dim must be an integer"):
        LogSoftmax(dim=None)  # type: ignore[arg-type]
