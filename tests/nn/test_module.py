"""nn.Module and nn.Parameter: discovery, names, state dicts (all-or-nothing), modes, repr."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_testing import assert_same_parameters, parameters_snapshot

import autograd_lite as ag
import nn


class Block(nn.Module):
    """Parameters directly, in a list, in a dict, and a nested module."""

    def __init__(self) -> None:
        self.scale = nn.Parameter(np.ones(3))
        self.pieces = [nn.Parameter(np.zeros(2)), "not a parameter", nn.Dense(3, 2, dtype=np.float64, rng=0)]
        self.table = {"first": nn.Parameter(np.full(1, 5.0))}
        self.plain = ag.Tensor(np.ones(2), requires_grad=True)  # a Tensor, not a Parameter: not found

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return self.pieces[2](x * self.scale)


def test_parameters_are_found_in_attributes_lists_dicts_and_submodules_in_assignment_order() -> None:
    names = [name for name, _ in Block().named_parameters()]
    assert names == ["scale", "pieces.0", "pieces.2.weight", "pieces.2.bias", "table.first"]


def test_sequential_names_are_dotted_and_stable() -> None:
    model = nn.Sequential(nn.Dense(4, 3, rng=0), nn.ReLU(), nn.Dense(3, 2, rng=1))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert [name for name, _ in model.named_parameters()] == names
    assert [p.shape for p in model.parameters()] == [(4, 3), (3,), (3, 2), (2,)]
    assert model.parameter_count() == 4 * 3 + 3 + 3 * 2 + 2


def test_a_shared_parameter_is_listed_once() -> None:
    layer = nn.Dense(2, 2, rng=0)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(model.parameters()) == 2
    assert [name for name, _ in model.named_parameters()] == ["layers.0.weight", "layers.0.bias"]


def test_zero_grad_clears_every_gradient() -> None:
    model = Block()
    model(ag.Tensor(np.ones((2, 3)))).sum().backward()
    assert model.scale.grad is not None and model.pieces[2].weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_switch_every_submodule() -> None:
    model = nn.Sequential(nn.Dense(2, 2), nn.Sequential(nn.ReLU(), nn.Dense(2, 1)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_is_a_copy() -> None:
    model = nn.Dense(2, 3, rng=0)
    state = model.state_dict()
    model.weight.data += 1
    assert not np.array_equal(state["weight"], model.weight.data)


@given(st.integers(0, 2**32 - 1))
def test_load_state_dict_round_trip_is_exact(seed: int) -> None:
    source, target = nn.MLP([3, 4, 2], rng=seed), nn.MLP([3, 4, 2], rng=seed + 1)
    target.load_state_dict(source.state_dict())
    assert_same_parameters(target, parameters_snapshot(source))


def _bad_states(model: nn.Module) -> dict[str, tuple[dict, str]]:
    good = model.state_dict()
    missing = dict(good)
    missing.pop("layers.1.bias")
    extra = {**good, "layers.9.weight": np.zeros(2, np.float32)}
    shape = {**good, "layers.0.weight": np.zeros((4, 3), np.float32)}
    dtype = {**good, "layers.1.weight": good["layers.1.weight"].astype(np.float64)}
    return {
        "missing": (missing, "missing"),
        "unexpected": (extra, "unexpected"),
        "shape": (shape, "shape"),
        "dtype": (dtype, "dtype"),
    }


@pytest.mark.parametrize("case", ["missing", "unexpected", "shape", "dtype"])
def test_a_bad_state_raises_and_changes_nothing(case: str) -> None:
    model = nn.MLP([3, 4, 2], rng=0)
    state, words = _bad_states(nn.MLP([3, 4, 2], rng=1))[case]
    before = parameters_snapshot(model)
    with pytest.raises(ValueError, match=words):
        model.load_state_dict(state)
    assert_same_parameters(model, before)


def test_strict_false_ignores_unexpected_keys_but_not_missing_ones() -> None:
    model, source = nn.MLP([3, 2], rng=0), nn.MLP([3, 2], rng=1)
    model.load_state_dict({**source.state_dict(), "extra": np.zeros(1)}, strict=False)
    assert_same_parameters(model, parameters_snapshot(source))
    with pytest.raises(ValueError, match="missing"):
        model.load_state_dict({"layers.0.weight": source.state_dict()["layers.0.weight"]}, strict=False)


def test_load_state_dict_bumps_versions_so_stale_graphs_cannot_backpropagate() -> None:
    model = nn.Dense(2, 1, rng=0)
    loss = model(np.ones((1, 2))).sum()
    model.load_state_dict(nn.Dense(2, 1, rng=1).state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_repr_lists_layers_and_parameter_counts() -> None:
    text = repr(nn.Sequential(nn.Dense(784, 100, rng=0), nn.ReLU(), nn.Dense(100, 10, rng=0)))
    lines = text.splitlines()
    assert lines[0] == "Sequential("
    assert "(layers.0): Dense(784 -> 100, dtype=float32)  # 78,500 parameters" in lines[1]
    assert lines[2].strip() == "(layers.1): ReLU()"
    assert "1,010 parameters" in lines[3]
    assert lines[-1] == ")  # 79,510 parameters"


def test_forward_must_be_defined() -> None:
    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        type("Empty", (nn.Module,), {})()(1)


def test_parameter_requires_grad_and_converts_integers() -> None:
    parameter = nn.Parameter([1, 2])
    assert parameter.requires_grad and parameter.dtype == np.float64
    assert repr(parameter).startswith("Parameter([1., 2.]")
    assert nn.Parameter(np.zeros(2), dtype=np.float32).dtype == np.float32


def test_load_state_dict_needs_a_mapping() -> None:
    with pytest.raises(TypeError, match="mapping"):
        nn.Dense(1, 1).load_state_dict([np.zeros((1, 1))])
