"""Dense, Sequential and MLP: gradients by check_grad, dtypes, initialisation, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_testing import check_module_grad
from strategies import arrays

import autograd_lite as ag
import nn
from nn.layers import as_generator

sizes = st.integers(1, 3)


@given(
    batch=st.one_of(st.just(()), st.tuples(sizes), st.tuples(sizes, sizes)),
    features=st.tuples(sizes, sizes),
    bias=st.booleans(),
    activation=st.sampled_from([None, "sigmoid", "tanh", "softmax"]),
    seed=st.integers(0, 1000),
    data=st.data(),
)
def test_dense_gradients_match_central_differences(
    batch: tuple, features: tuple, bias: bool, activation: str | None, seed: int, data: st.DataObject
) -> None:
    layer = nn.Dense(*features, bias=bias, activation=activation, dtype=np.float64, rng=seed)
    x = data.draw(arrays(batch + (features[0],)))
    assert check_module_grad(layer, x)


@given(x=arrays((3, 2)), seed=st.integers(0, 1000))
def test_dense_computes_x_weight_plus_bias(x: np.ndarray, seed: int) -> None:
    layer = nn.Dense(2, 4, dtype=np.float64, rng=seed)
    layer.bias.data = np.arange(4.0)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + np.arange(4.0), rtol=1e-12)
    relu_layer = nn.Dense(2, 4, activation="relu", dtype=np.float64, rng=seed)
    np.testing.assert_allclose(relu_layer(x).data, np.maximum(x @ relu_layer.weight.data, 0), rtol=1e-12)


@given(seed=st.integers(0, 1000), data=st.data())
def test_mlp_gradients_match_central_differences(seed: int, data: st.DataObject) -> None:
    activation = data.draw(st.sampled_from(["sigmoid", "tanh"]))
    model = nn.MLP([2, 3, 2], activation=activation, output_activation="softmax", dtype=np.float64, rng=seed)
    assert check_module_grad(model, data.draw(arrays((2, 2))))


def test_sequential_with_relu_gradients_away_from_the_kink() -> None:
    model = nn.Sequential(nn.Dense(3, 4, dtype=np.float64, rng=3), nn.ReLU(), nn.Dense(4, 2, dtype=np.float64, rng=4))
    x = np.random.default_rng(0).standard_normal((5, 3))
    hidden = x @ model[0].weight.data
    assert np.min(np.abs(hidden)) > 1e-3  # no pre-activation sits on the kink
    assert check_module_grad(model, x)


def test_parameters_default_to_float32_and_float64_inputs_do_not_upcast() -> None:
    model = nn.MLP([3, 5, 2], rng=0)
    assert all(p.dtype == np.float32 for p in model.parameters())
    out = model(np.ones((4, 3)))  # float64 data
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_a_float64_tensor_that_needs_a_gradient_is_cast_differentiably() -> None:
    layer = nn.Dense(2, 1, rng=0)
    x = ag.Tensor(np.ones((1, 2)), requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, layer.weight.data.T.astype(np.float64), rtol=1e-7)


def test_integer_inputs_are_accepted() -> None:
    assert nn.Dense(2, 1, rng=0)(np.array([[1, 0]])).dtype == np.float32


def test_wrong_number_of_features_names_the_layer() -> None:
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2\): input has shape \(4, 5\).*3 features"):
        nn.Dense(3, 2)(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2\)"):
        nn.Dense(3, 2)(ag.Tensor(1.0))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_sizes_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Dense(bad, 2)  # type: ignore[arg-type]


def test_dtype_must_be_floating() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        nn.Dense(2, 2, dtype=np.int32)


def test_he_initialisation_has_std_sqrt_2_over_fan_in() -> None:
    weight = nn.Dense(400, 300, init="he", dtype=np.float64, rng=0).weight.data
    assert abs(weight.std() / np.sqrt(2 / 400) - 1) < 0.02
    assert abs(weight.mean()) < 0.01 * np.sqrt(2 / 400) * 10


def test_xavier_initialisation_is_uniform_within_the_glorot_limit() -> None:
    weight = nn.Dense(400, 200, init="xavier", dtype=np.float64, rng=0).weight.data
    limit = np.sqrt(6 / 600)
    assert np.max(np.abs(weight)) <= limit
    assert abs(weight.std() / (limit / np.sqrt(3)) - 1) < 0.02  # the std of U(-a, a) is a / sqrt(3)


def test_default_init_follows_the_activation() -> None:
    relu = nn.Dense(500, 400, activation="relu", dtype=np.float64, rng=0).weight.data
    sigmoid = nn.Dense(500, 400, activation="sigmoid", dtype=np.float64, rng=0).weight.data
    assert abs(relu.std() / np.sqrt(2 / 500) - 1) < 0.02
    assert abs(sigmoid.std() / np.sqrt(2 / 900) - 1) < 0.02


def test_seeded_layers_are_reproducible_and_biases_start_at_zero() -> None:
    first, second, other = nn.MLP([4, 3, 2], rng=7), nn.MLP([4, 3, 2], rng=7), nn.MLP([4, 3, 2], rng=8)
    for a, b in zip(first.parameters(), second.parameters()):
        assert np.array_equal(a.data, b.data)
    assert not np.array_equal(first[0].weight.data, other[0].weight.data)
    assert not np.any(first[0].bias.data)


def test_custom_and_bad_initialisers() -> None:
    layer = nn.Dense(2, 3, init=lambda shape, rng: np.full(shape, 0.5), bias=False)
    assert np.all(layer.weight.data == 0.5) and layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match="unknown init 'lecun'"):
        nn.Dense(2, 3, init="lecun")
    with pytest.raises(ValueError, match=r"init returned shape \(3, 2\), expected \(2, 3\)"):
        nn.Dense(2, 3, init=lambda shape, rng: np.zeros((3, 2)))
    with pytest.raises(TypeError, match="rng must be"):
        as_generator("seed")  # type: ignore[arg-type]


def test_sequential_applies_layers_in_order() -> None:
    first, second = nn.Dense(2, 3, dtype=np.float64, rng=0), nn.Dense(3, 1, dtype=np.float64, rng=1)
    model = nn.Sequential(first, nn.Tanh(), second)
    x = np.array([[0.5, -1.0]])
    expected = np.tanh(x @ first.weight.data) @ second.weight.data
    np.testing.assert_allclose(model(x).data, expected, rtol=1e-12)
    assert len(model) == 3 and model[1].__class__ is nn.Tanh and list(model)[2] is second
    model.append(nn.Sigmoid())
    assert len(model) == 4
    with pytest.raises(TypeError, match="item 1 is a ufunc, not an nn.Module"):
        nn.Sequential(first, np.tanh)


def test_mlp_structure() -> None:
    model = nn.MLP([784, 100, 10], activation="sigmoid", output_activation="softmax", rng=0)
    assert [(layer.in_features, layer.out_features) for layer in model] == [(784, 100), (100, 10)]
    assert isinstance(model[0].activation, nn.Sigmoid) and isinstance(model[1].activation, nn.Softmax)
    assert model.parameter_count() == 784 * 100 + 100 + 100 * 10 + 10
    np.testing.assert_allclose(model(np.zeros((2, 784))).data.sum(axis=1), 1, rtol=1e-6)
    with pytest.raises(ValueError, match="at least an input and an output size"):
        nn.MLP([3])
