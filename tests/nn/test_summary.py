"""nn.summary: rows, output shapes, parameter counts and totals; eval mode and no graph during the pass; restored."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as ag
import nn
from nn.summary import summary


class Probe(nn.Module):
    """Doubles its input and notes the mode and whether a graph was recorded."""

    def __init__(self) -> None:
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        out = x * self.scale
        self.seen.append((self.training, out.requires_grad))
        return out


class Pair(nn.Module):
    """Returns a tuple; calls ``shared`` twice; holds a module it never calls."""

    def __init__(self) -> None:
        self.shared = Probe()
        self.unused = nn.Dense(2, 2, rng=0)

    def forward(self, x: ag.Tensor) -> tuple:
        return self.shared(x), (self.shared(x).sum(axis=1), x)


@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4), batch=st.integers(1, 3))
def test_dense_stack_shapes_and_counts(sizes: list[int], batch: int) -> None:
    model = nn.Sequential(*[nn.Dense(a, b, rng=i) for i, (a, b) in enumerate(zip(sizes, sizes[1:]))])
    result = summary(model, (batch, sizes[0]))
    counts = [a * b + b for a, b in zip(sizes, sizes[1:])]
    assert result.total_params == result.trainable_params == sum(counts) and result.non_trainable_params == 0
    assert result.rows[0] == ("", "Sequential", str((batch, sizes[-1])), sum(counts))
    expected = [(f"layers.{i}", "Dense", str((batch, b)), c) for i, (b, c) in enumerate(zip(sizes[1:], counts))]
    assert result.rows[1:] == expected
    text = str(result)
    assert f"Total params: {sum(counts):,}" in text and repr(result) == text
    assert all(f"layers.{i} (Dense)" in text for i in range(len(counts)))


def test_modes_graph_and_forward_are_restored() -> None:
    model = Pair()
    model.unused.train()
    model.shared.eval()  # mixed modes come back as they were
    result = summary(model, (4, 2))
    assert model.shared.seen == [(False, False), (False, False)]  # eval mode, no graph
    assert model.shared.training is False and model.unused.training is True and model.training is True
    assert all("forward" not in vars(module) for module in model.modules())
    rows = {name: (shape, count) for name, _, shape, count in result.rows}
    assert rows == {
        "": ("[(4, 2), [(4,), (4, 2)]]", 7),
        "shared": ("(4, 2) ×2", 1),
        "unused": ("--", 6),
    }
    frozen = nn.MLP([2, 3], rng=0)
    frozen.layers[0].bias.requires_grad = False
    assert summary(frozen, (1, 2)).non_trainable_params == 3


def test_errors() -> None:
    with pytest.raises(ValueError, match="summary: input_shape must be a tuple of non-negative integers"):
        summary(nn.MLP([2, 3], rng=0), (1, -2))
    with pytest.raises(TypeError, match="summary: expected an nn.Module"):
        summary(lambda x: x, (1, 2))
    model = nn.MLP([2, 3], rng=0)
    with pytest.raises(ValueError):
        summary(model, (1, 5))  # the layer's own error comes through; the model is left as it was
    assert all("forward" not in vars(module) for module in model.modules()) and model.training
