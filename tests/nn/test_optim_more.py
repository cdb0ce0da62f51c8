"""RMSprop and Adagrad against NumPy re-implementations of PyTorch's update rules, step by step; state save/load."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import floats

import nn
from nn.optim import Adagrad, RMSprop

SHAPES = [(3, 2), (2,)]
STEPS = 6


def gradient_sequence(seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(STEPS)]


def initial(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    return [rng.standard_normal(shape) for shape in SHAPES]


def run(optimizer_class: type, seed: int, steps: range = range(STEPS), **hyper: object) -> list[list[np.ndarray]]:
    """Parameter values after each step (float64), the gradients set by hand."""
    params = [nn.Parameter(value) for value in initial(seed)]
    optimizer = optimizer_class(params, **hyper)
    history = []
    for gradients in gradient_sequence(seed):
        for parameter, gradient in zip(params, gradients):
            parameter.grad = gradient.copy()
        optimizer.step()
        history.append([p.data.copy() for p in params])
    return history


def reference_rmsprop(
    seed: int, lr: float, alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool
) -> list:
    """torch.optim.RMSprop's single-tensor algorithm, written out."""
    params = initial(seed)
    square_avg = [np.zeros(s) for s in SHAPES]
    grad_avg = [np.zeros(s) for s in SHAPES]
    buf = [np.zeros(s) for s in SHAPES]
    history = []
    for gradients in gradient_sequence(seed):
        for i, g in enumerate(gradients):
            g = g + weight_decay * params[i]
            square_avg[i] = alpha * square_avg[i] + (1 - alpha) * g * g
            if centered:
                grad_avg[i] = grad_avg[i] + (1 - alpha) * (g - grad_avg[i])
                avg = np.sqrt(square_avg[i] - grad_avg[i] ** 2) + eps
            else:
                avg = np.sqrt(square_avg[i]) + eps
            if momentum > 0:
                buf[i] = momentum * buf[i] + g / avg
                params[i] = params[i] - lr * buf[i]
            else:
                params[i] = params[i] - lr * g / avg
        history.append([p.copy() for p in params])
    return history


def reference_adagrad(
    seed: int, lr: float, lr_decay: float, weight_decay: float, initial_value: float, eps: float
) -> list:
    """torch.optim.Adagrad's single-tensor algorithm, written out."""
    params = initial(seed)
    sums = [np.full(s, initial_value) for s in SHAPES]
    history = []
    for step, gradients in enumerate(gradient_sequence(seed), start=1):
        for i, g in enumerate(gradients):
            g = g + weight_decay * params[i]
            clr = lr / (1 + (step - 1) * lr_decay)
            sums[i] = sums[i] + g * g
            params[i] = params[i] - clr * g / (np.sqrt(sums[i]) + eps)
        history.append([p.copy() for p in params])
    return history


def assert_histories_match(actual: list, expected: list, rtol: float = 1e-10) -> None:
    for step, (got, want) in enumerate(zip(actual, expected), start=1):
        for index, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=f"step {step}, parameter {index}")


@given(
    seed=st.integers(0, 10_000),
    lr=floats(1e-4, 0.1),
    alpha=floats(0.5, 0.999),
    eps=st.sampled_from([1e-8, 1e-6, 1e-2]),
    weight_decay=st.one_of(st.just(0.0), floats(0.0, 0.1)),
    momentum=st.one_of(st.just(0.0), floats(0.0, 0.95)),
    centered=st.booleans(),
)
def test_rmsprop_matches_pytorchs_rule(
    seed: int, lr: float, alpha: float, eps: float, weight_decay: float, momentum: float, centered: bool
) -> None:
    hyper = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum}
    actual = run(RMSprop, seed, centered=centered, **hyper)
    assert_histories_match(actual, reference_rmsprop(seed, centered=centered, **hyper))


@given(
    seed=st.integers(0, 10_000),
    lr=floats(1e-4, 0.5),
    lr_decay=st.one_of(st.just(0.0), floats(0.0, 0.5)),
    weight_decay=st.one_of(st.just(0.0), floats(0.0, 0.1)),
    initial_value=st.one_of(st.just(0.0), floats(0.0, 1.0)),
    eps=st.sampled_from([1e-10, 1e-6, 1e-2]),
)
def test_adagrad_matches_pytorchs_rule(
    seed: int, lr: float, lr_decay: float, weight_decay: float, initial_value: float, eps: float
) -> None:
    actual = run(
        Adagrad,
        seed,
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        initial_accumulator_value=initial_value,
        eps=eps,
    )
    assert_histories_match(actual, reference_adagrad(seed, lr, lr_decay, weight_decay, initial_value, eps))


OPTIMIZERS = [
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    (RMSprop, {"lr": 0.01}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
]


@pytest.mark.parametrize(("optimizer_class", "hyper"), OPTIMIZERS)
@given(seed=st.integers(0, 1000), split=st.integers(0, STEPS))
def test_state_dict_and_checkpoint_resume_bit_exactly(
    optimizer_class: type, hyper: dict, seed: int, split: int
) -> None:
    """Stopping after ``split`` steps, saving (state_dict, then an nn.save checkpoint) and resuming changes nothing."""
    whole = run(optimizer_class, seed, **hyper)
    gradients = gradient_sequence(seed)
    params = [nn.Parameter(value) for value in initial(seed)]
    first = optimizer_class(params, **hyper)
    for step in range(split):
        for parameter, gradient in zip(params, gradients[step]):
            parameter.grad = gradient.copy()
        first.step()
    second = optimizer_class(params, **{**hyper, "lr": 0.5})
    second.load_state_dict(first.state_dict())
    path = os.path.join(tempfile.mkdtemp(), "state.npz")
    np.savez(path, **second.state_dict())
    third = optimizer_class(params, lr=0.7)
    third.load_state_dict(dict(np.load(path)))
    for step in range(split, STEPS):
        for parameter, gradient in zip(params, gradients[step]):
            parameter.grad = gradient.copy()
        third.step()
        assert all(np.array_equal(p.data, w) for p, w in zip(params, whole[step]))


def test_checkpoint_round_trip_through_nn_save() -> None:
    model = nn.MLP([3, 4, 2], rng=0)
    optimizer = RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True)
    nn.mse_loss(model(np.ones((2, 3))), np.zeros((2, 2))).backward()
    optimizer.step()
    path = os.path.join(tempfile.mkdtemp(), "model.npz")
    nn.save(model, path, optimizer=optimizer)
    copy = RMSprop(model.parameters())
    nn.load(model, path, optimizer=copy)
    assert copy.centered is True and copy.momentum == 0.5
    state, loaded = optimizer.state_dict(), copy.state_dict()
    assert state.keys() == loaded.keys() and all(np.array_equal(state[k], loaded[k]) for k in state)


def test_float32_stays_float32_and_centered_never_nan() -> None:
    parameter = nn.Parameter(np.ones(4, dtype=np.float32))
    optimizer = RMSprop([parameter], centered=True, alpha=0.5)
    for _ in range(40):  # a constant gradient: v - ḡ² tends to 0 and rounds below it at step 24
        parameter.grad = np.full(4, 1.7, dtype=np.float32)
        optimizer.step()
    assert parameter.data.dtype == np.float32 and np.all(np.isfinite(parameter.data))
    adagrad = Adagrad([parameter])
    adagrad.step()
    assert parameter.data.dtype == np.float32 and adagrad.state["sum"][0].dtype == np.float32


def test_errors_name_the_optimizer() -> None:
    parameter = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="RMSprop: alpha must be >= 0.0"):
        RMSprop([parameter], alpha=-0.1)
    with pytest.raises(ValueError, match="Adagrad: lr_decay must be >= 0.0"):
        Adagrad([parameter], lr_decay=-1)
    with pytest.raises(ValueError, match="saved by RMSprop, not Adagrad"):
        Adagrad([parameter]).load_state_dict(RMSprop([parameter]).state_dict())
