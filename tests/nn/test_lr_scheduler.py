"""Each scheduler's learning-rate sequence over 30 epochs against its formula written here; state dicts; errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import floats

import nn
from nn.lr_scheduler import CosineAnnealingLR, ExponentialLR, OneCycleLR, ReduceLROnPlateau, StepLR
from nn.optim import SGD, Adagrad, Adam

EPOCHS = 30


def optimizer(lr: float = 0.1, cls: type = SGD, **kwargs: object) -> object:
    return cls([nn.Parameter(np.zeros(2))], lr=lr, **kwargs)


def sequence(scheduler: object, steps: int = EPOCHS) -> list[float]:
    """The rate of epoch 0 (set on creation), then after each step()."""
    rates = [scheduler.optimizer.lr]
    for _ in range(steps):
        scheduler.step()
        assert scheduler.get_last_lr() == [scheduler.optimizer.lr]
        rates.append(scheduler.optimizer.lr)
    return rates


@given(lr=floats(1e-4, 1.0), step_size=st.integers(1, 12), gamma=floats(0.05, 1.0))
def test_step_lr(lr: float, step_size: int, gamma: float) -> None:
    rates = sequence(StepLR(optimizer(lr), step_size, gamma))
    np.testing.assert_allclose(rates, [lr * gamma ** (t // step_size) for t in range(EPOCHS + 1)], rtol=1e-12)


@given(lr=floats(1e-4, 1.0), gamma=floats(0.5, 1.0))
def test_exponential_lr(lr: float, gamma: float) -> None:
    rates = sequence(ExponentialLR(optimizer(lr), gamma))
    np.testing.assert_allclose(rates, [lr * gamma**t for t in range(EPOCHS + 1)], rtol=1e-12)


@given(lr=floats(1e-3, 1.0), t_max=st.integers(1, 40), eta_min=floats(0.0, 1e-3))
def test_cosine_annealing_lr(lr: float, t_max: int, eta_min: float) -> None:
    rates = sequence(CosineAnnealingLR(optimizer(lr), T_max=t_max, eta_min=eta_min))
    expected = [eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2 for t in range(EPOCHS + 1)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12, atol=1e-15)
    if t_max <= EPOCHS:
        assert rates[t_max] == pytest.approx(eta_min, abs=1e-15)


def one_cycle_reference(t: int, total: int, max_lr: float, pct: float, div: float, final: float, cos: bool) -> float:
    """PyTorch's OneCycleLR (two phases), written out: up to max_lr at step pct·total - 1, then down."""
    initial, minimum = max_lr / div, max_lr / div / final
    peak = pct * total - 1
    if t <= peak:
        start, end, fraction = initial, max_lr, t / peak
    else:
        start, end, fraction = max_lr, minimum, (t - peak) / (total - 1 - peak)
    if cos:
        return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2
    return start + (end - start) * fraction


@given(
    max_lr=floats(1e-3, 1.0),
    pct=floats(0.1, 0.9),
    div=floats(2.0, 50.0),
    final=floats(10.0, 1e4),
    cos=st.booleans(),
)
def test_one_cycle_lr(max_lr: float, pct: float, div: float, final: float, cos: bool) -> None:
    total = EPOCHS
    scheduler = OneCycleLR(
        optimizer(0.5, Adam),
        max_lr,
        total_steps=total,
        pct_start=pct,
        div_factor=div,
        final_div_factor=final,
        anneal_strategy="cos" if cos else "linear",
    )
    rates = sequence(scheduler, total - 1)
    expected = [one_cycle_reference(t, total, max_lr, pct, div, final, cos) for t in range(total)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    assert rates[0] == pytest.approx(max_lr / div) and rates[-1] == pytest.approx(max_lr / div / final)
    assert max(rates) <= max_lr * (1 + 1e-12)


def test_one_cycle_lr_cycles_momentum_and_refuses_steps_past_the_end() -> None:
    scheduler = OneCycleLR(optimizer(cls=SGD), max_lr=1.0, epochs=2, steps_per_epoch=5)
    assert scheduler.total_steps == 10 and scheduler.optimizer.momentum == 0.95
    sequence(scheduler, 3)  # the rate peaks at step 0.3·10 - 1 = 2; step 3 is 1/7 of the way down
    assert scheduler.optimizer.momentum == pytest.approx(0.95 - 0.1 * (1 + math.cos(math.pi / 7)) / 2, rel=1e-12)
    sequence(scheduler, 7)
    with pytest.raises(ValueError, match="tried to step 11 times, but total_steps is 10"):
        scheduler.step()
    with pytest.raises(ValueError, match="has no momentum or beta1"):
        OneCycleLR(optimizer(cls=Adagrad), max_lr=1.0, total_steps=5)
    with pytest.raises(ValueError, match="give total_steps, or both epochs and steps_per_epoch"):
        OneCycleLR(optimizer(), max_lr=1.0, epochs=3)


def plateau_reference(
    metrics: list[float], lr: float, factor: float, patience: int, threshold: float, cooldown: int, min_lr: float
) -> list[float]:
    """PyTorch's ReduceLROnPlateau in min/rel mode, written out."""
    best, bad, cool, rates = math.inf, 0, 0, []
    for value in metrics:
        if value < best * (1 - threshold):
            best, bad = value, 0
        else:
            bad += 1
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            lr = new if lr - new > 1e-8 else lr
            cool, bad = cooldown, 0
        rates.append(lr)
    return rates


@given(
    metrics=st.lists(st.sampled_from([1.0, 0.9, 0.8, 0.95, 1.2, 0.79995]), min_size=EPOCHS, max_size=EPOCHS),
    factor=floats(0.1, 0.9),
    patience=st.integers(0, 4),
    cooldown=st.integers(0, 3),
    min_lr=st.sampled_from([0.0, 1e-3]),
)
def test_reduce_lr_on_plateau(metrics: list[float], factor: float, patience: int, cooldown: int, min_lr: float) -> None:
    scheduler = ReduceLROnPlateau(optimizer(0.1), factor=factor, patience=patience, cooldown=cooldown, min_lr=min_lr)
    rates = []
    for value in metrics:
        scheduler.step(value)
        rates.append(scheduler.get_last_lr()[0])
    np.testing.assert_allclose(
        rates, plateau_reference(metrics, 0.1, factor, patience, 1e-4, cooldown, min_lr), rtol=1e-12
    )


def test_reduce_lr_on_plateau_by_hand() -> None:
    scheduler = ReduceLROnPlateau(optimizer(1.0), mode="max", factor=0.5, patience=1)
    rates = []
    for accuracy in [0.5, 0.6, 0.6, 0.6, 0.7, 0.6, 0.6]:
        scheduler.step(accuracy)
        rates.append(scheduler.optimizer.lr)
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


@settings(max_examples=10)
@given(split=st.integers(0, EPOCHS))
def test_state_dict_resumes_the_same_sequence(split: int) -> None:
    for make in [lambda o: StepLR(o, 4, 0.5), lambda o: CosineAnnealingLR(o, 10), lambda o: OneCycleLR(o, 1.0, 40)]:
        whole = sequence(make(optimizer()))
        first = make(optimizer())
        sequence(first, split)
        second = make(optimizer())
        second.load_state_dict(first.state_dict())
        second.optimizer.lr = first.optimizer.lr
        assert sequence(second, EPOCHS - split) == whole[split:]


def test_errors_name_the_scheduler() -> None:
    with pytest.raises(ValueError, match="StepLR: step_size must be >= 1"):
        StepLR(optimizer(), 0)
    with pytest.raises(TypeError, match="ExponentialLR: expected an nn.optim optimizer"):
        ExponentialLR(object(), 0.9)
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        ReduceLROnPlateau(optimizer(), factor=1.5)
    with pytest.raises(ValueError, match="keys differ"):
        StepLR(optimizer(), 2).load_state_dict({"last_epoch": 3})
    assert nn.optim.lr_scheduler.StepLR is StepLR
