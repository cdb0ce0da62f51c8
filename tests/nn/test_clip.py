"""clip_grad_norm_ and clip_grad_value_ against NumPy written here (PyTorch's semantics)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, floats, shapes

import autograd_lite as ag
import nn
from nn.clip import clip_grad_norm_, clip_grad_value_


def parameters_with(gradients: list[np.ndarray]) -> list[nn.Parameter]:
    params = []
    for gradient in gradients:
        parameter = nn.Parameter(np.zeros(gradient.shape))
        parameter.grad = gradient.copy()
        params.append(parameter)
    return params


@given(
    gradients=st.lists(arrays(shapes), min_size=1, max_size=4),
    max_norm=floats(0.0, 5.0),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
)
def test_clip_grad_norm_scales_by_max_norm_over_the_total_norm(
    gradients: list[np.ndarray], max_norm: float, norm_type: float
) -> None:
    params = parameters_with(gradients)
    params.append(nn.Parameter(np.ones(2)))  # no gradient: skipped
    flat = np.concatenate([g.ravel() for g in gradients])
    total = np.abs(flat).max() if norm_type == math.inf else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    returned = clip_grad_norm_(params, max_norm, norm_type)
    assert isinstance(returned, ag.Tensor) and returned.item() == pytest.approx(total, rel=1e-12, abs=1e-300)
    coefficient = min(1.0, max_norm / (total + 1e-6))
    for parameter, gradient in zip(params, gradients):
        np.testing.assert_allclose(parameter.grad, gradient * coefficient, rtol=1e-12, atol=0)
    assert params[-1].grad is None
    if total > max_norm:
        clipped = np.concatenate([p.grad.ravel() for p in params[:-1]])
        assert np.linalg.norm(clipped, ord=norm_type) <= max_norm + 1e-12


def test_clip_grad_norm_float32_and_shared_arrays() -> None:
    shared = np.full(3, 1e20, dtype=np.float32)  # squares overflow float32: the norm is taken in float64
    a, b = nn.Parameter(np.zeros(3, dtype=np.float32)), nn.Parameter(np.zeros(3, dtype=np.float32))
    a.grad = b.grad = shared
    total = clip_grad_norm_([a, b], 1.0)
    assert total.dtype == np.float32 and total.item() == pytest.approx(np.sqrt(6) * 1e20, rel=1e-6)
    assert a.grad.dtype == np.float32 and a.grad is not shared and shared[0] == np.float32(1e20)
    np.testing.assert_allclose(a.grad, b.grad)
    np.testing.assert_allclose(np.linalg.norm(np.concatenate([a.grad, b.grad]).astype(np.float64)), 1.0, rtol=1e-5)
    assert clip_grad_norm_(nn.Parameter(np.zeros(2)), 1.0).item() == 0.0  # nothing to clip


def test_clip_grad_norm_nonfinite() -> None:
    (parameter,) = parameters_with([np.array([np.nan, 1.0])])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of order 2.0 of the gradients is nan"):
        clip_grad_norm_([parameter], 1.0, error_if_nonfinite=True)
    clip_grad_norm_([parameter], 1.0)
    assert np.isnan(parameter.grad).all()  # as PyTorch: the NaN spreads
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        clip_grad_norm_([parameter], 1.0, norm_type=0)


@given(gradients=st.lists(arrays(shapes), min_size=1, max_size=3), clip_value=floats(0.0, 3.0))
def test_clip_grad_value(gradients: list[np.ndarray], clip_value: float) -> None:
    params = parameters_with(gradients)
    assert clip_grad_value_(params, clip_value) is None
    for parameter, gradient in zip(params, gradients):
        np.testing.assert_array_equal(parameter.grad, np.minimum(np.maximum(gradient, -clip_value), clip_value))


def test_clip_errors_and_backward_gradients() -> None:
    model = nn.MLP([3, 4, 1], rng=0)
    nn.mse_loss(model(np.ones((5, 3)) * 100), np.zeros((5, 1))).backward()
    total = clip_grad_norm_(model.parameters(), 0.5)
    assert total.item() > 0.5
    after = np.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in model.parameters()))
    assert after == pytest.approx(0.5, rel=1e-5)
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be >= 0"):
        clip_grad_value_(model.parameters(), -1.0)
    with pytest.raises(TypeError, match="clip_grad_norm_: item 0 is a str, not a Tensor"):
        clip_grad_norm_(["w"], 1.0)
