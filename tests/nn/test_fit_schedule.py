"""fit(scheduler=..., clip_grad_norm=...): per-epoch and per-batch scheduler steps as PyTorch documents; clipping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from nn.lr_scheduler import CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau, StepLR
from nn.optim import SGD, Adam


def data(rows: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 3)).astype(np.float32)
    return X, (X @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)) * 10


@settings(max_examples=10, deadline=None)
@given(epochs=st.integers(1, 8), step_size=st.integers(1, 3))
def test_an_epoch_scheduler_steps_once_per_epoch(epochs: int, step_size: int) -> None:
    model = nn.MLP([3, 4, 1], rng=0)
    optimizer = SGD(model.parameters(), lr=0.01)
    scheduler = StepLR(optimizer, step_size=step_size, gamma=0.5)
    rates: list[float] = []
    nn.fit(
        model,
        nn.mse_loss,
        optimizer,
        *data(),
        epochs=epochs,
        batch_size=4,
        progress=False,
        scheduler=scheduler,
        on_epoch=lambda epoch, values: rates.append(optimizer.lr),
    )
    assert rates == [0.01 * 0.5 ** (epoch // step_size) for epoch in range(1, epochs + 1)]
    assert scheduler.last_epoch == epochs


def test_one_cycle_steps_after_every_batch_and_must_cover_the_run() -> None:
    model = nn.MLP([3, 4, 1], rng=0)
    optimizer = Adam(model.parameters())
    scheduler = OneCycleLR(optimizer, max_lr=0.05, epochs=3, steps_per_epoch=4)
    nn.fit(model, nn.mse_loss, optimizer, *data(), epochs=3, batch_size=4, progress=False, scheduler=scheduler)
    assert scheduler.last_epoch == 12 and optimizer.lr == pytest.approx(scheduler.get_last_lr()[0])
    short = OneCycleLR(Adam(model.parameters()), max_lr=0.05, total_steps=11)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"fit: the OneCycleLR has 11 steps left, but fit takes 12"):
        nn.fit(model, nn.mse_loss, short.optimizer, *data(), epochs=3, batch_size=4, progress=False, scheduler=short)
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))  # refused before training


class Spy(ReduceLROnPlateau):
    def __init__(self, optimizer: SGD) -> None:
        super().__init__(optimizer, patience=0)
        self.metrics: list[float] = []

    def step(self, metrics: float) -> None:
        self.metrics.append(metrics)
        super().step(metrics)


@pytest.mark.parametrize("with_validation", [True, False])
def test_reduce_on_plateau_gets_the_validation_loss_or_else_the_training_loss(with_validation: bool) -> None:
    model = nn.MLP([3, 4, 1], rng=0)
    optimizer = SGD(model.parameters(), lr=0.01)
    spy = Spy(optimizer)
    X, y = data()
    validation = (X[:5], y[:5] + 3) if with_validation else None
    history = nn.fit(
        model,
        nn.mse_loss,
        optimizer,
        X,
        y,
        epochs=4,
        batch_size=4,
        progress=False,
        validation=validation,
        scheduler=spy,
    )
    assert spy.metrics == history["val_loss" if with_validation else "loss"]


@given(max_norm=st.sampled_from([1e-3, 0.1, 1.0, 1e6]))
@settings(max_examples=4, deadline=None)
def test_clip_grad_norm_clips_every_step_before_the_optimizer(max_norm: float) -> None:
    X, y = data(8)
    model, twin = nn.MLP([3, 4, 1], rng=0), nn.MLP([3, 4, 1], rng=0)
    nn.fit(
        model,
        nn.mse_loss,
        SGD(model.parameters(), lr=0.1),
        X,
        y,
        epochs=2,
        batch_size=8,
        shuffle=False,
        progress=False,
        clip_grad_norm=max_norm,
    )
    for _ in range(2):  # the same two steps by hand, the clipping written out in NumPy
        twin.zero_grad()
        nn.mse_loss(twin(X), y).backward()
        total = np.sqrt(sum((p.grad.astype(np.float64) ** 2).sum() for p in twin.parameters()))
        scale = min(1.0, max_norm / (total + 1e-6))
        for parameter in twin.parameters():
            parameter.data -= np.float32(0.1) * (parameter.grad * scale).astype(np.float32)
    for a, b in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_fit_refuses_bad_scheduler_and_clipping_arguments() -> None:
    model = nn.MLP([3, 1], rng=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    other = CosineAnnealingLR(SGD(model.parameters(), lr=0.1), T_max=3)
    with pytest.raises(ValueError, match="fit: the scheduler adjusts another optimizer"):
        nn.fit(model, nn.mse_loss, optimizer, *data(), progress=False, scheduler=other)
    with pytest.raises(TypeError, match="fit: scheduler must be"):
        nn.fit(model, nn.mse_loss, optimizer, *data(), progress=False, scheduler="cosine")
    with pytest.raises(ValueError, match="fit: clip_grad_norm must be a positive number or None"):
        nn.fit(model, nn.mse_loss, optimizer, *data(), progress=False, clip_grad_norm=0)
