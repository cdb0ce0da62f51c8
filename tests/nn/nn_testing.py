"""Helpers for the nn tests: check a module's gradients (input and every parameter) with ag.check_grad."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
import nn


def _owner(module: nn.Module, dotted: str) -> tuple[Any, str]:
    """The object holding the parameter called ``dotted`` and the attribute (or index) it sits at."""
    *path, last = dotted.split(".")
    owner: Any = module
    for part in path:
        owner = owner[int(part)] if isinstance(owner, (list, tuple)) else getattr(owner, part)
    return owner, last


def _put(owner: Any, key: str, value: Any) -> None:
    if isinstance(owner, list):
        owner[int(key)] = value
    else:
        setattr(owner, key, value)


def _get(owner: Any, key: str) -> Any:
    return owner[int(key)] if isinstance(owner, list) else getattr(owner, key)


def check_module_grad(
    module: nn.Module, x: np.ndarray, reduce: Callable[[ag.Tensor], ag.Tensor] | None = None, **tolerances: Any
) -> bool:
    """ag.check_grad of ``reduce(module(x))`` with respect to x and every parameter (all float64).

    The parameters are swapped for check_grad's own leaf tensors during each call and put
    back afterwards, so the module is checked exactly as it computes.
    """
    names = [name for name, _ in module.named_parameters()]
    places = [_owner(module, name) for name in names]
    rng = np.random.default_rng(0)
    weights = None

    def default_reduce(out: ag.Tensor) -> ag.Tensor:
        nonlocal weights
        if weights is None or weights.shape != out.shape:
            weights = rng.standard_normal(out.shape)  # a random projection: every output element matters
        return (out * weights).sum()

    reducer = reduce or default_reduce

    def function(inputs: ag.Tensor, *values: ag.Tensor) -> ag.Tensor:
        originals = [_get(owner, key) for owner, key in places]
        try:
            for (owner, key), value in zip(places, values):
                _put(owner, key, value)
            return reducer(module(inputs))
        finally:
            for (owner, key), original in zip(places, originals):
                _put(owner, key, original)

    arrays = [np.asarray(x, dtype=np.float64)] + [np.array(p.data, dtype=np.float64) for p in module.parameters()]
    return ag.check_grad(function, *arrays, **tolerances)


def parameters_snapshot(module: nn.Module) -> dict[str, np.ndarray]:
    """A copy of every parameter, for 'nothing changed' comparisons."""
    return {name: parameter.data.copy() for name, parameter in module.named_parameters()}


def assert_same_parameters(module: nn.Module, snapshot: dict[str, np.ndarray]) -> None:
    """Every parameter is bit-identical (values, dtype, shape) to ``snapshot``."""
    current = dict(module.named_parameters())
    assert list(current) == list(snapshot)
    for name, values in snapshot.items():
        assert current[name].dtype == values.dtype, name
        assert current[name].shape == values.shape, name
        assert current[name].data.tobytes() == values.tobytes(), name


def small_checkpoint_outcome(path: Path) -> str:
    """Load a checkpoint of ``Sequential(Dense(1, 1, rng=0))`` with SGD(lr=0.5) from ``path`` into a fresh model.

    'ok' (and the values are exactly the saved ones) or 'refused' (a one-line ValueError naming the
    file, and the model and optimizer unchanged): any other outcome fails the test.
    """
    model = nn.Sequential(nn.Dense(1, 1, rng=1))
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    before = parameters_snapshot(model)
    try:
        nn.load(model, path, optimizer=optimizer)
    except ValueError as error:
        assert str(path) in str(error) and "\n" not in str(error), str(error)
        assert_same_parameters(model, before)
        assert optimizer.lr == 0.1
        return "refused"
    assert_same_parameters(model, parameters_snapshot(nn.Sequential(nn.Dense(1, 1, rng=0))))
    assert optimizer.lr == 0.5
    return "ok"


def truncated_and_flipped_outcomes(content: bytes, path: Path) -> tuple[list[str], list[str]]:
    """small_checkpoint_outcome of every truncation of ``content``, and of ``content`` with one bit of each byte
    flipped (a different bit each time), written to ``path``."""
    truncated, flipped = [], []
    for length in range(len(content)):
        path.write_bytes(content[:length])
        truncated.append(small_checkpoint_outcome(path))
    for position in range(len(content)):
        data = bytearray(content)
        data[position] ^= 1 << (position * 3 % 8)
        path.write_bytes(bytes(data))
        flipped.append(small_checkpoint_outcome(path))
    return truncated, flipped
