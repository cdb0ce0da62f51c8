"""nn.fit(compile=True): the same training as eager mode, with the parameters as inputs of the compiled code."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd_lite as ag
import nn


def classifier(dropout: float = 0.0, batch_norm: bool = False) -> nn.Module:
    layers: list[Any] = [nn.Dense(6, 8, activation="tanh", rng=0, dtype=np.float64)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(8, dtype=np.float64))
    if dropout:
        layers.append(nn.Dropout(dropout, rng=0))
    layers.append(nn.Dense(8, 3, rng=1, dtype=np.float64))
    return nn.Sequential(*layers)


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(70, 6)), rng.integers(0, 3, 70)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_fit_with_compile_ends_with_the_weights_of_eager_training(optimizer: str) -> None:
    trained = {}
    for compile_ in (False, True):
        model = classifier()
        make = getattr(nn.optim, optimizer)
        history = nn.fit(
            model, nn.softmax_cross_entropy, make(model.parameters(), lr=0.05), *data(), epochs=3, batch_size=16,
            validation=data(1), metrics=["accuracy"], progress=False, seed=0, compile=compile_,
        )  # fmt: skip
        trained[compile_] = ([p.data.copy() for p in model.parameters()], history.history)
    (eager, eager_history), (compiled, compiled_history) = trained[False], trained[True]
    for e, c in zip(eager, compiled):
        np.testing.assert_allclose(c, e, rtol=1e-10, atol=1e-12)
    for key in eager_history:
        np.testing.assert_allclose(compiled_history[key], eager_history[key], rtol=1e-10)


def test_the_compiled_step_names_the_parameters_and_runs_generated_code() -> None:
    model = classifier()
    step = nn.training.compiled_forward_backward(
        model, nn.softmax_cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1)
    )
    x, y = data()
    value, _ = step(x[:16], y[:16])
    step(x[16:32], y[16:32])
    assert np.isfinite(value.item())
    assert step.compiled.cache_info().hits == 1
    assert "g_layers_0_weight = " in step.compiled.source
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())


@pytest.mark.parametrize(
    ("model", "error", "message"),
    [
        (classifier(dropout=0.5), ValueError, "draws random numbers in training mode.*compile=False"),
        (classifier(batch_norm=True), TypeError, "side effect the compiled code would not repeat"),
    ],
    ids=["dropout", "batch-norm statistics"],
)
def test_layers_that_draw_numbers_or_update_state_while_training_are_refused(
    model: nn.Module, error: type, message: str
) -> None:
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(error, match=message):
        nn.fit(model, nn.softmax_cross_entropy, optimizer, *data(), progress=False, compile=True)


def test_a_copy_of_an_input_made_behind_the_recorders_back_is_refused() -> None:
    def leaking(w: Any, labels: Any) -> Any:
        frozen = np.array(labels)  # a plain copy: compile cannot follow it
        return ag.sum(w * ag.Tensor(frozen.astype(np.float64)))

    compiled = ag.compile(ag.grad(leaking))
    with pytest.raises(TypeError, match="a copy of the input 'labels' was made outside compile's sight"):
        compiled(np.ones(4), np.array([0, 2, 1, 2]))
