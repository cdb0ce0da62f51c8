"""nn.layer_groups: which ops each layer recorded, for a drawing with one box per layer (autograd_lite knows no nn)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as ag
import nn


def test_each_layer_holds_its_ops_and_parameters_and_the_labels_count_them() -> None:
    model = nn.Sequential(nn.Dense(3, 4, activation="tanh", rng=0), nn.ReLU(), nn.Dense(4, 2, rng=0))
    with nn.layer_groups(model) as groups:
        output = model(np.ones((5, 3)))
    assert list(groups) == ["layers.0: Dense, 16 parameters", "layers.1: ReLU, 0 parameters",
                            "layers.2: Dense, 10 parameters"]  # fmt: skip
    ops = {label: [member.op for member in members if isinstance(member, ag.Node)] for label, members in groups.items()}
    assert ops == {
        "layers.0: Dense, 16 parameters": ["Linear", "Tanh"],  # the Dense's activation is the Dense's
        "layers.1: ReLU, 0 parameters": ["Relu"],
        "layers.2: Dense, 10 parameters": ["Linear"],
    }
    parameters = [member for members in groups.values() for member in members if isinstance(member, nn.Parameter)]
    assert [id(p) for p in parameters] == [id(p) for p in model.parameters()]
    tape = ag.tape(output)
    grouped = [member for members in groups.values() for member in members if isinstance(member, ag.Node)]
    assert [id(node) for node in grouped] == [id(node) for node in tape]  # every op once, in order


def test_the_forwards_are_the_modules_own_again_after_the_block_even_after_an_error() -> None:
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(ValueError), nn.layer_groups(model):
        model(np.ones((1, 5)))  # wrong width: the Dense refuses
    assert all("forward" not in vars(module) for module in model.modules())
    before = model(np.ones((1, 2))).data
    with nn.layer_groups(model) as groups:
        np.testing.assert_array_equal(model(np.ones((1, 2))).data, before)
    assert len(groups) == 2
    with pytest.raises(TypeError, match="expected an nn.Module"):
        with nn.layer_groups("model"):  # type: ignore[arg-type]
            pass


def test_the_demo_drawing_boxes_every_layer() -> None:
    pytest.importorskip("graphviz")
    model = nn.MLP([4, 5, 3], rng=0)
    with nn.layer_groups(model) as groups:
        loss = nn.softmax_cross_entropy(model(np.ones((2, 4))), np.array([0, 2]))
    source = ag.draw_graph(loss, groups=groups).source
    assert source.count("subgraph cluster_") == 2
    assert 'label="layers.0: Dense, 25 parameters"' in source and 'label="layers.1: Dense, 18 parameters"' in source
