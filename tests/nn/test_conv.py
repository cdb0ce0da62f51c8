"""Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d and Flatten: values against the ops and plain nested-loop
references, gradients by check_grad (input and every parameter), PyTorch's initialisation, float32, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_testing import check_module_grad
from op_cases_conv import conv2d_reference, pool_reference
from strategies import arrays

import autograd_lite as ag
import nn
from nn.conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, Flatten, MaxPool2d


@st.composite
def conv_layers(draw: Any) -> tuple[Conv2d, np.ndarray]:
    """A float64 Conv2d and an input it fits: 1x1 kernels up to kernels as large as the padded input."""
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    padding, dilation, stride = draw(st.integers(0, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    kernels = [draw(st.integers(1, (side + 2 * padding - 1) // dilation + 1)) for side in (height, width)]
    bias, seed = draw(st.booleans()), draw(st.integers(0, 99))
    layer = Conv2d(c, o, tuple(kernels), stride, padding, dilation, bias=bias, dtype=np.float64, rng=seed)
    return layer, draw(arrays((n, c, height, width)))


@given(conv_layers())
def test_conv2d_gradients_match_central_differences(drawn: tuple[Conv2d, np.ndarray]) -> None:
    layer, x = drawn
    assert check_module_grad(layer, x)


@given(conv_layers())
def test_conv2d_equals_the_op_and_a_nested_loop_reference(drawn: tuple[Conv2d, np.ndarray]) -> None:
    layer, x = drawn
    out = layer(x)
    bias = None if layer.bias is None else layer.bias.data
    np.testing.assert_array_equal(
        out.data, ag.conv2d(x, layer.weight.data, bias, layer.stride, layer.padding, layer.dilation).data
    )
    expected = conv2d_reference(x, layer.weight.data, bias, layer.stride, layer.padding, layer.dilation)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_is_initialised_as_pytorch_and_seeded() -> None:
    layer = Conv2d(4, 8, 3, rng=0)
    bound = 1 / np.sqrt(4 * 3 * 3)  # kaiming_uniform(a=sqrt(5)) is uniform on ±1/sqrt(fan_in); the bias too
    assert layer.weight.shape == (8, 4, 3, 3) and layer.bias.shape == (8,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.8 * bound  # uniform over the whole range, not a narrower one
    np.testing.assert_array_equal(layer.weight.data, Conv2d(4, 8, 3, rng=0).weight.data)
    assert Conv2d(4, 8, (3, 5), bias=False).bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_conv2d_keeps_float32_end_to_end() -> None:
    layer = Conv2d(2, 3, 3, padding=1, rng=0)
    x = ag.Tensor(np.random.default_rng(0).standard_normal((2, 2, 5, 5)), requires_grad=True)  # float64 input
    out = layer(x)
    assert out.dtype == np.float32 and out.shape == (2, 3, 5, 5)
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    assert x.grad.dtype == np.float64  # the cast is differentiable: x keeps its own dtype


@pytest.mark.parametrize(
    ("make", "x_shape", "message"),
    [
        (lambda: Conv2d(3, 2, 3), (1, 2, 5, 5), r"^Conv2d\(3 -> 2\): input has shape \(1, 2, 5, 5\).*3 channels$"),
        (lambda: Conv2d(3, 2, 3), (3, 5, 5), r"^Conv2d: input has shape \(3, 5, 5\), but it must be 4-D"),
        (lambda: Conv2d(1, 2, 7), (1, 1, 5, 5), r"^conv2d: the kernel \(7, 7\).*does not fit the input"),
        (lambda: MaxPool2d(3, padding=2), None, r"^MaxPool2d: padding 2 must be at most half the kernel"),
        (lambda: AvgPool2d(0), None, r"^AvgPool2d: kernel_size must be an int >= 1 or a pair of them, got 0$"),
        (lambda: Conv2d(0, 2, 3), None, r"^Conv2d: in_channels must be a positive integer, got 0$"),
        (lambda: Conv2d(1, 2, 3, stride=(1, 2, 3)), None, r"^Conv2d: stride must be an int >= 1 or a pair"),
        (lambda: AdaptiveAvgPool2d(2), None, r"^AdaptiveAvgPool2d: only output_size=1"),
        (lambda: Flatten(start_dim=3), (2, 3), r"^Flatten: start_dim=3, end_dim=-1 do not fit an input of shape"),
    ],
)
def test_errors_name_the_layer_and_the_shapes_in_one_line(make: Any, x_shape: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        make()(np.zeros(x_shape))
    assert "\n" not in str(caught.value)


@st.composite
def pool_layers(draw: Any, kind: type) -> tuple[Any, np.ndarray]:
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    height, width = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kernel = (draw(st.integers(1, height)), draw(st.integers(1, width)))  # up to as large as the input
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    order = np.array(draw(st.permutations(range(n * c * height * width))), dtype=np.float64)
    x = (order * 0.05 - 1.0).reshape(n, c, height, width)  # distinct values: no ties at the arg-max
    return kind(kernel, stride, padding), x


@pytest.mark.parametrize(("kind", "how"), [(MaxPool2d, "max"), (AvgPool2d, "avg")])
@given(data=st.data())
def test_pooling_values_and_gradients(kind: type, how: str, data: Any) -> None:
    layer, x = data.draw(pool_layers(kind))
    out = layer(x)
    expected = pool_reference(x, layer.kernel_size, layer.stride, layer.padding, how)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert check_module_grad(layer, x)


def test_max_pool_sends_the_gradient_to_the_first_of_tied_maxima_as_pytorch() -> None:
    x = ag.Tensor(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]), requires_grad=True)
    MaxPool2d(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_pooling_keeps_float32() -> None:
    x = ag.Tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    for layer in (MaxPool2d(2), AvgPool2d(3, 2, 1), AdaptiveAvgPool2d(1), Flatten()):
        out = layer(x)
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32
        x.zero_grad()


@given(x=arrays(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))))
def test_adaptive_avg_pool_is_the_mean_of_each_channel(x: np.ndarray) -> None:
    layer = AdaptiveAvgPool2d(1)
    out = layer(x)
    assert out.shape == x.shape[:2] + (1, 1)
    np.testing.assert_allclose(out.data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-12, atol=1e-15)
    assert AdaptiveAvgPool2d((1, 1))(x).shape == out.shape
    assert check_module_grad(layer, x)


@given(x=arrays(st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 4))))
def test_flatten_joins_every_axis_but_the_batch(x: np.ndarray) -> None:
    out = Flatten()(x)
    np.testing.assert_array_equal(out.data, x.reshape(x.shape[0], -1))
    np.testing.assert_array_equal(Flatten(0)(x).data, x.reshape(-1))
    np.testing.assert_array_equal(Flatten(1, 2)(x).data, x.reshape(x.shape[0], -1, x.shape[3]))
    assert Flatten()(np.zeros((0, 2, 3))).shape == (0, 6)
    assert check_module_grad(Flatten(), x)


def test_a_small_cnn_is_differentiable_end_to_end() -> None:
    model = nn.Sequential(
        Conv2d(1, 2, 3, padding=1, dtype=np.float64, rng=0),
        nn.Tanh(),
        AvgPool2d(2),
        Conv2d(2, 3, 2, dtype=np.float64, rng=1),
        AdaptiveAvgPool2d(1),
        Flatten(),
        nn.Dense(3, 2, dtype=np.float64, rng=2),
    )
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6))
    assert model(x).shape == (2, 2)
    assert check_module_grad(model, x)


def test_reprs_show_the_arguments() -> None:
    assert (
        repr(Conv2d(1, 2, 3, padding=1))
        == "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # 20 parameters"
    )
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert repr(Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


@given(conv_layers())
def test_second_order_through_a_nonlinearity_matches_central_differences(drawn: tuple[Conv2d, np.ndarray]) -> None:
    # tanh after the convolution makes every derivative rule of the gradient ops matter (grad of grad).
    layer, x = drawn
    params = {"stride": layer.stride, "padding": layer.padding, "dilation": layer.dilation}
    w = layer.weight.data
    directions = [np.random.default_rng(i).uniform(-1, 1, a.shape) for i, a in enumerate((x, w))]

    def projected_gradient(t: ag.Tensor, u: ag.Tensor) -> ag.Tensor:
        grads = ag.grad(lambda a, b: ag.tanh(ag.conv2d(a, b, **params)).sum(), argnums=(0, 1))(t, u)
        return (grads[0] * directions[0]).sum() + (grads[1] * directions[1]).sum()

    assert ag.check_grad(projected_gradient, x, w, atol=1e-5, rtol=1e-3)
    # forward over reverse: the tangent of the gradient runs the gradient ops' own jvps
    _, forward = ag.jvp(projected_gradient, (x, w), tuple(directions))
    step = 1e-6
    shifted = [
        projected_gradient(ag.Tensor(x + s * directions[0]), ag.Tensor(w + s * directions[1])) for s in (step, -step)
    ]
    expected = (shifted[0].item() - shifted[1].item()) / (2 * step)
    np.testing.assert_allclose(forward.item(), expected, rtol=1e-4, atol=1e-6)
