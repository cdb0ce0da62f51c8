"""nn.init: each scheme's bounds and standard deviation against PyTorch's formulas for the fans, in place, seeded."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn import init
from nn.module import Parameter

weight_shapes = st.one_of(
    st.tuples(st.integers(1, 40), st.integers(1, 40)),
    st.tuples(st.integers(1, 8), st.integers(1, 8), st.integers(1, 3), st.integers(1, 3)),
)


def pytorch_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """torch.nn.init._calculate_fan_in_and_fan_out, written out."""
    receptive = 1
    for side in shape[2:]:
        receptive *= side
    return shape[1] * receptive, shape[0] * receptive


@given(shape=weight_shapes)
def test_fans_follow_pytorchs_layout(shape: tuple[int, ...]) -> None:
    assert init.calculate_fan_in_and_fan_out(np.empty(shape)) == pytorch_fans(shape)


def test_fans_need_two_dimensions() -> None:
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(Parameter(np.zeros(5)))


def test_gains_are_pytorchs() -> None:
    assert init.calculate_gain("linear") == init.calculate_gain("conv2d") == init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def big(shape: tuple[int, ...] = (300, 200, 3), dtype: type = np.float32) -> Parameter:
    return Parameter(np.full(shape, np.nan), dtype=dtype)


def uniform_bound_and_std(values: np.ndarray, bound: float) -> None:
    """Inside ±bound, reaching near it, with the uniform's std bound/√3."""
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() > 0.99 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(values.mean()) < 0.02 * bound


def normal_std(values: np.ndarray, std: float) -> None:
    assert abs(values.std() - std) < 0.02 * std
    assert abs(values.mean()) < 0.02 * std


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(gain: float) -> None:
    fan_in, fan_out = pytorch_fans((300, 200, 3))
    weight = big()
    assert init.xavier_uniform_(weight, gain=gain, rng=0) is weight
    uniform_bound_and_std(weight.data, gain * math.sqrt(6 / (fan_in + fan_out)))
    normal_std(init.xavier_normal_(big(), gain=gain, rng=0).data, gain * math.sqrt(2 / (fan_in + fan_out)))


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0.0), ("leaky_relu", 0.0), ("leaky_relu", 0.2), ("tanh", 0.0)])
def test_kaiming(mode: str, nonlinearity: str, a: float) -> None:
    fan_in, fan_out = pytorch_fans((300, 200, 3))
    fan = fan_in if mode == "fan_in" else fan_out
    gain = init.calculate_gain(nonlinearity, a)
    weight = init.kaiming_uniform_(big(), a=a, mode=mode, nonlinearity=nonlinearity, rng=1)
    uniform_bound_and_std(weight.data, gain * math.sqrt(3 / fan))
    weight = init.kaiming_normal_(big(), a=a, mode=mode, nonlinearity=nonlinearity, rng=1)
    normal_std(weight.data, gain / math.sqrt(fan))


def test_kaiming_default_is_pytorchs_leaky_relu_with_a_zero() -> None:
    a = init.kaiming_uniform_(big((50, 40)), rng=3).data
    b = init.kaiming_uniform_(big((50, 40)), a=0, mode="fan_in", nonlinearity="relu", rng=3).data
    np.testing.assert_array_equal(a, b)  # gain √2 either way
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(big((3, 3)), mode="fan_avg")


def test_uniform_normal_trunc_normal() -> None:
    values = init.uniform_(big(), -2.0, 3.0, rng=0).data
    assert values.min() >= -2 and values.max() < 3 and abs(values.mean() - 0.5) < 0.02
    values = init.normal_(big(), mean=1.0, std=0.5, rng=0).data
    assert abs(values.mean() - 1.0) < 0.01 and abs(values.std() - 0.5) < 0.01
    values = init.trunc_normal_(big(), std=1.0, a=-1.0, b=2.0, rng=0).data
    assert values.min() >= -1 and values.max() <= 2
    # N(0, 1) truncated to [-1, 2]: the mean is (φ(-1) - φ(2)) / (Φ(2) - Φ(-1))
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))
    assert abs(values.mean() - (pdf(-1) - pdf(2)) / (cdf(2) - cdf(-1))) < 0.01


def test_constants_and_eye() -> None:
    weight = Parameter(np.random.default_rng(0).standard_normal((3, 4)))
    assert (init.zeros_(weight).data == 0).all()
    assert (init.ones_(weight).data == 1).all()
    assert (init.constant_(weight, 0.25).data == 0.25).all()
    np.testing.assert_array_equal(init.eye_(weight).data, np.eye(3, 4))


@given(rows=st.integers(1, 12), cols=st.integers(1, 12), gain=st.sampled_from([1.0, 2.0]))
def test_orthogonal(rows: int, cols: int, gain: float) -> None:
    weight = init.orthogonal_(Parameter(np.zeros((rows, cols))), gain=gain, rng=0).data / gain
    small = weight.T @ weight if rows >= cols else weight @ weight.T
    np.testing.assert_allclose(small, np.eye(min(rows, cols)), atol=1e-10)  # orthonormal columns (or rows)


def test_fills_in_place_keeps_dtype_and_records_nothing() -> None:
    weight = Parameter(np.zeros((4, 5)), dtype=np.float32)
    buffer = weight.data
    out = (weight * 2).sum()  # a graph built on the old values
    init.kaiming_normal_(weight, rng=0)
    assert weight.data is buffer and weight.dtype == np.float32 and weight.node is None
    assert weight.grad is None and (weight.data != 0).any()
    with pytest.raises(RuntimeError):
        out.backward()  # the in-place fill bumped the version: stale graphs refuse
    array = np.zeros((3, 3))
    assert init.normal_(array, rng=0) is array and (array != 0).any()


def test_seeds_and_generators() -> None:
    a = init.xavier_uniform_(big((20, 30)), rng=5).data
    b = init.xavier_uniform_(big((20, 30)), rng=np.random.default_rng(5)).data
    np.testing.assert_array_equal(a, b)
    generator = np.random.default_rng(5)
    first = init.normal_(big((10, 10)), rng=generator).data
    assert not np.array_equal(first, init.normal_(big((10, 10)), rng=generator).data)
    with pytest.raises(TypeError, match="rng"):
        init.normal_(big((2, 2)), rng="seed")


def test_refusals_are_one_line() -> None:
    with pytest.raises(TypeError, match="floating-point"):
        init.normal_(np.zeros((2, 2), dtype=np.int64), rng=0)
    with pytest.raises(TypeError, match="expected an ag.Tensor"):
        init.zeros_([1.0, 2.0])
    with pytest.raises(ValueError, match="need a <= b"):
        init.uniform_(big((2, 2)), 1.0, 0.0)
