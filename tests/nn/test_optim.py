"""Optimizers against hand-written NumPy references, step by step; state dicts; in-place updates; errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import floats

import autograd_lite as ag
import nn
from nn.optim import SGD, Adam, AdamW

SHAPES = [(3, 2), (2,)]
STEPS = 6


def gradient_sequence(seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(shape) for shape in SHAPES] for _ in range(STEPS)]


def run(optimizer_class: type, seed: int, **hyper: object) -> list[list[np.ndarray]]:
    """Parameter values after each step, with the given gradients set by hand (float64)."""
    rng = np.random.default_rng(seed + 1)
    params = [nn.Parameter(rng.standard_normal(shape)) for shape in SHAPES]
    optimizer = optimizer_class(params, **hyper)
    history = []
    for gradients in gradient_sequence(seed):
        for parameter, gradient in zip(params, gradients):
            parameter.grad = gradient.copy()
        optimizer.step()
        history.append([p.data.copy() for p in params])
    return history


def reference_sgd(seed: int, lr: float, momentum: float, nesterov: bool, weight_decay: float) -> list:
    rng = np.random.default_rng(seed + 1)
    params = [rng.standard_normal(shape) for shape in SHAPES]
    buffers: list = [None] * len(params)
    history = []
    for gradients in gradient_sequence(seed):
        for i, g in enumerate(gradients):
            g = g + weight_decay * params[i]
            if momentum:
                buffers[i] = g.copy() if buffers[i] is None else momentum * buffers[i] + g
                g = g + momentum * buffers[i] if nesterov else buffers[i]
            params[i] = params[i] - lr * g
        history.append([p.copy() for p in params])
    return history


def reference_adam(seed: int, lr: float, betas: tuple, eps: float, weight_decay: float, decoupled: bool) -> list:
    """Algorithm 1 of Kingma & Ba (2015); L2 added to the gradient, or decoupled decay (AdamW)."""
    rng = np.random.default_rng(seed + 1)
    params = [rng.standard_normal(shape) for shape in SHAPES]
    m = [np.zeros(shape) for shape in SHAPES]
    v = [np.zeros(shape) for shape in SHAPES]
    history = []
    for t, gradients in enumerate(gradient_sequence(seed), start=1):
        for i, g in enumerate(gradients):
            if decoupled:
                params[i] = params[i] - lr * weight_decay * params[i]
            else:
                g = g + weight_decay * params[i]
            m[i] = betas[0] * m[i] + (1 - betas[0]) * g
            v[i] = betas[1] * v[i] + (1 - betas[1]) * g**2
            m_hat = m[i] / (1 - betas[0] ** t)
            v_hat = v[i] / (1 - betas[1] ** t)
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append([p.copy() for p in params])
    return history


def assert_histories_match(actual: list, expected: list, atol: float) -> None:
    for step, (got, want) in enumerate(zip(actual, expected), start=1):
        for index, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=f"step {step}, parameter {index}")


@given(
    seed=st.integers(0, 10_000),
    lr=floats(1e-4, 0.5),
    momentum=st.one_of(st.just(0.0), floats(0.0, 0.99)),
    nesterov=st.booleans(),
    weight_decay=st.one_of(st.just(0.0), floats(0.0, 0.1)),
)
def test_sgd_matches_the_reference_step_by_step(
    seed: int, lr: float, momentum: float, nesterov: bool, weight_decay: float
) -> None:
    nesterov = nesterov and momentum > 0
    actual = run(SGD, seed, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    assert_histories_match(actual, reference_sgd(seed, lr, momentum, nesterov, weight_decay), atol=1e-12)


@pytest.mark.parametrize("optimizer_class", [Adam, AdamW])
@given(
    seed=st.integers(0, 10_000),
    lr=floats(1e-4, 0.1),
    beta1=floats(0.0, 0.99),
    beta2=floats(0.9, 0.9999),
    eps=st.sampled_from([1e-8, 1e-6, 1e-3]),
    weight_decay=st.one_of(st.just(0.0), floats(0.0, 0.1)),
)
def test_adam_and_adamw_match_the_reference_to_1e_12(
    optimizer_class: type, seed: int, lr: float, beta1: float, beta2: float, eps: float, weight_decay: float
) -> None:
    actual = run(optimizer_class, seed, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    expected = reference_adam(seed, lr, (beta1, beta2), eps, weight_decay, decoupled=optimizer_class is AdamW)
    assert_histories_match(actual, expected, atol=1e-12)


def test_adam_first_step_moves_each_weight_by_about_lr() -> None:
    parameter = nn.Parameter(np.zeros(3))
    parameter.grad = np.array([1e-3, -5.0, 20.0])
    Adam([parameter], lr=0.1).step()
    np.testing.assert_allclose(parameter.data, [-0.1, 0.1, -0.1], rtol=1e-4)  # the bias-corrected sign step


def test_parameters_without_gradient_are_left_alone() -> None:
    used, unused = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    optimizer = SGD([used, unused], lr=0.5, momentum=0.9)
    used.grad = np.ones(2)
    optimizer.step()
    assert used.data.tolist() == [0.5, 0.5] and unused.data.tolist() == [1.0, 1.0]
    assert optimizer.state["momentum_buffer"][1] is None


def test_steps_update_in_place_without_graph_and_keep_float32() -> None:
    model = nn.MLP([3, 4, 2], rng=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    weight = model[0].weight
    array_before = weight.data
    loss = nn.softmax_cross_entropy(model(np.ones((5, 3))), np.zeros(5, dtype=int))
    loss.backward(retain_graph=True)
    optimizer.step()
    assert weight.data is array_before  # updated in place
    assert all(p.node is None and p.requires_grad and p.dtype == np.float32 for p in model.parameters())
    assert all(buffer.dtype == np.float32 for buffer in optimizer.state["exp_avg"])
    with pytest.raises(RuntimeError, match="modified in place"):  # the old graph saw the old weights
        loss.backward()
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_gradient_tensors_from_create_graph_are_accepted() -> None:
    parameter = nn.Parameter(np.array([2.0]))
    (parameter**2).sum().backward(create_graph=True)
    assert isinstance(parameter.grad, ag.Tensor)
    SGD([parameter], lr=0.25).step()
    assert parameter.data.tolist() == [1.0]


@pytest.mark.parametrize(
    ("optimizer_class", "hyper"),
    [(SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}), (Adam, {"lr": 0.01}), (AdamW, {})],
)
def test_state_dict_resumes_training_exactly(optimizer_class: type, hyper: dict) -> None:
    def make() -> tuple[nn.Module, object]:
        model = nn.MLP([2, 3, 2], dtype=np.float64, rng=0)
        return model, optimizer_class(model.parameters(), **hyper)

    def train(model: nn.Module, optimizer: object, start: int, stop: int) -> None:
        rng = np.random.default_rng(0)
        batches = [(rng.standard_normal((4, 2)), rng.integers(0, 2, 4)) for _ in range(stop)]
        for x, y in batches[start:stop]:
            optimizer.zero_grad()  # type: ignore[attr-defined]
            nn.softmax_cross_entropy(model(x), y).backward()
            optimizer.step()  # type: ignore[attr-defined]

    straight, straight_optimizer = make()
    train(straight, straight_optimizer, 0, 6)
    first, first_optimizer = make()
    train(first, first_optimizer, 0, 3)
    model_state, optimizer_state = first.state_dict(), first_optimizer.state_dict()  # type: ignore[attr-defined]
    resumed, resumed_optimizer = make()
    resumed_optimizer.lr = 123.0  # overwritten by the saved hyperparameters
    resumed.load_state_dict(model_state)
    resumed_optimizer.load_state_dict(optimizer_state)  # type: ignore[attr-defined]
    train(resumed, resumed_optimizer, 3, 6)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert np.array_equal(a.data, b.data)


def test_a_bad_optimizer_state_raises_and_changes_nothing() -> None:
    params = [nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))]
    optimizer = Adam(params, lr=0.01)
    for p in params:
        p.grad = np.ones(p.shape)
    optimizer.step()
    good = optimizer.state_dict()
    before = {key: np.copy(value) for key, value in good.items()}
    bad_states = {
        "saved by SGD": {**good, "kind": np.array("SGD")},
        "missing key": {key: value for key, value in good.items() if key != "beta2"},
        "unexpected key": {**good, "exp_avg.7": np.zeros(2)},
        "shape": {**good, "exp_avg_sq.1": np.zeros(2)},
        "dtype": {**good, "exp_avg.0": np.zeros(2, np.float32)},
        "finite number": {**good, "lr": np.array(np.nan)},
        "non-negative integer": {**good, "steps": np.array(1.5)},
    }
    for words, state in bad_states.items():
        with pytest.raises(ValueError, match=words):
            optimizer.load_state_dict(state)
        now = optimizer.state_dict()
        assert now.keys() == before.keys() and all(np.array_equal(now[k], before[k]) for k in now), words


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda p: SGD([], lr=0.1), ValueError, "no parameters"),
        (lambda p: SGD([ag.Tensor(np.ones(2))], lr=0.1), TypeError, "does not require grad"),
        (lambda p: SGD([p, p], lr=0.1), ValueError, "appears twice"),
        (lambda p: SGD([p], lr=-1.0), ValueError, r"lr must be >= 0.0"),
        (lambda p: SGD([p], lr="fast"), TypeError, "lr must be a finite number"),
        (lambda p: SGD([p], lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
        (lambda p: Adam([p], betas=(0.9, 1.0)), ValueError, r"beta2 must be in \[0.0, 1.0\)"),
        (lambda p: Adam([p], betas=(0.9,)), ValueError, "betas must be a pair"),
    ],
)
def test_bad_arguments(make: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make(nn.Parameter(np.ones(2)))  # type: ignore[operator]


@pytest.mark.parametrize("optimizer_class", [nn.optim.Adam, nn.optim.AdamW])
def test_adam_counts_steps_per_parameter(optimizer_class: type) -> None:
    # b has no gradient for two steps; its first real step must still be a first Adam step (size lr).
    w, b = nn.Parameter(np.array([1.0])), nn.Parameter(np.array([0.5]))
    optimizer = optimizer_class([w, b], lr=0.1, weight_decay=0.0)
    for step in range(3):
        w.grad = np.array([1.0])
        b.grad = np.array([2.0]) if step == 2 else None
        optimizer.step()
    np.testing.assert_allclose(b.data, [0.5 - 0.1 * 2 / (2 + 1e-8)], rtol=1e-12)  # m̂ = g, v̂ = g²
    assert optimizer.state_dict()["step.1"] == 1 and optimizer.state_dict()["step.0"] == 3


def test_loading_an_invalid_learning_rate_is_refused() -> None:
    w = nn.Parameter(np.array([1.0]))
    optimizer = nn.optim.Adam([w])
    state = optimizer.state_dict()
    state["lr"] = np.array(-1.0)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optimizer.load_state_dict(state)
    assert optimizer.lr == 1e-3
