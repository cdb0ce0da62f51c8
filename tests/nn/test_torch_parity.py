"""nn's layers against PyTorch's (skipped without PyTorch): the same weights give the same outputs and gradients.

Each case builds a layer both ways in float64, copies our parameters into PyTorch's layer
by name (our names are PyTorch's), runs both on the same drawn input and compares the
outputs, then the gradients of sum(output * cotangent) for the input and every parameter.
Shapes, strides, paddings and dilations are drawn by hypothesis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as ag
import nn

torch = pytest.importorskip("torch")
TOLERANCE = {"rtol": 1e-9, "atol": 1e-11}


def flat_outputs(result: Any) -> list[Any]:
    """A layer's outputs as a flat list: (output, h_n) and (output, (h_n, c_n)) alike."""
    if isinstance(result, (tuple, list)):
        return [item for part in result for item in flat_outputs(part)]
    return [result]


def assert_same_layer(ours: nn.Module, theirs: Any, x: np.ndarray, integer_input: bool = False) -> None:
    """Copy our parameters into ``theirs``; compare outputs and every gradient of a random projection."""
    theirs = theirs.double()
    with torch.no_grad():
        for name, parameter in theirs.named_parameters():
            parameter.copy_(torch.from_numpy(dict(ours.named_parameters())[name].data))
    assert {name for name, _ in theirs.named_parameters()} == {name for name, _ in ours.named_parameters()}
    x_ours = ag.Tensor(x, requires_grad=not integer_input)
    x_theirs = torch.from_numpy(x) if integer_input else torch.tensor(x, requires_grad=True)
    outputs_ours, outputs_theirs = flat_outputs(ours(x_ours)), flat_outputs(theirs(x_theirs))
    rng = np.random.default_rng(0)
    cotangents = [rng.standard_normal(out.shape) for out in outputs_ours]
    for mine, reference in zip(outputs_ours, outputs_theirs):
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), **TOLERANCE)
    sum(ag.sum(out * c) for out, c in zip(outputs_ours, cotangents)).backward()
    sum((out * torch.from_numpy(c)).sum() for out, c in zip(outputs_theirs, cotangents)).backward()
    if not integer_input:
        np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **TOLERANCE)
    mine_by_name = dict(ours.named_parameters())
    for name, parameter in theirs.named_parameters():
        np.testing.assert_allclose(mine_by_name[name].grad, parameter.grad.numpy(), err_msg=name, **TOLERANCE)


def images(draw: Callable[..., Any], channels: int, low: int = 1) -> np.ndarray:
    n, h, w = draw(st.integers(1, 3)), draw(st.integers(low, 9)), draw(st.integers(low, 9))
    return np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal((n, channels, h, w))


@st.composite
def convolutions(draw: Callable[..., Any]) -> tuple[dict[str, Any], np.ndarray]:
    channels, out = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    options = {
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "padding": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        "dilation": (draw(st.integers(1, 2)), draw(st.integers(1, 2))),
        "bias": draw(st.booleans()),
    }
    x = images(draw, channels)
    for side, k, p, d in zip(x.shape[2:], kernel, options["padding"], options["dilation"]):
        if side + 2 * p < d * (k - 1) + 1:  # the kernel must fit the padded input
            x = np.pad(x, ((0, 0), (0, 0), (0, d * (k - 1) + 1), (0, d * (k - 1) + 1)))
    return {"in_channels": channels, "out_channels": out, "kernel_size": kernel, **options}, x


@given(drawn=convolutions())
def test_conv2d_matches_pytorch(drawn: tuple[dict[str, Any], np.ndarray]) -> None:
    arguments, x = drawn
    assert_same_layer(nn.Conv2d(**arguments, dtype=np.float64, rng=0), torch.nn.Conv2d(**arguments), x)


@st.composite
def poolings(draw: Callable[..., Any]) -> tuple[dict[str, Any], np.ndarray]:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    arguments = {
        "kernel_size": kernel,
        "stride": (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        "padding": (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2))),
    }
    x = images(draw, draw(st.integers(1, 3)), low=4)
    return arguments, x


@pytest.mark.parametrize("layers", [(nn.MaxPool2d, "MaxPool2d"), (nn.AvgPool2d, "AvgPool2d")], ids=lambda p: p[1])
@given(drawn=poolings())
def test_pooling_matches_pytorch(layers: tuple[type, str], drawn: tuple[dict[str, Any], np.ndarray]) -> None:
    arguments, x = drawn
    ours, name = layers
    assert_same_layer(ours(**arguments), getattr(torch.nn, name)(**arguments), x)


def test_max_pooling_sends_a_tied_gradient_where_pytorch_does() -> None:
    x = np.zeros((1, 1, 4, 4))  # every window tied: PyTorch picks each window's first position
    assert_same_layer(nn.MaxPool2d(2), torch.nn.MaxPool2d(2), x)
    assert_same_layer(nn.MaxPool2d(3, stride=1, padding=1), torch.nn.MaxPool2d(3, stride=1, padding=1), x)


@given(x=st.integers(0, 2**16).map(lambda s: np.random.default_rng(s).standard_normal((5, 3, 4, 2)) * 3 + 1))
def test_batchnorm2d_trains_and_evaluates_as_pytorch(x: np.ndarray) -> None:
    ours, theirs = nn.BatchNorm2d(3, momentum=0.3, dtype=np.float64), torch.nn.BatchNorm2d(3, momentum=0.3)
    with ag.no_grad():
        ours.weight.data[:] = [0.5, 2.0, -1.0]
        ours.bias.data[:] = [0.1, 0.0, 3.0]
    assert_same_layer(ours, theirs, x)  # training: batch statistics, running ones updated
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).data, getattr(theirs, name).numpy(), **TOLERANCE)
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked)
    ours.eval(), theirs.eval()
    assert_same_layer(ours, theirs, x[:2] - 1)  # evaluation: the running statistics


@given(seed=st.integers(0, 2**16), shape=st.sampled_from([(4,), (3, 4), (2, 3)]))
def test_layernorm_matches_pytorch(seed: int, shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(seed).standard_normal((2, *shape)) * 2 + 0.5
    ours = nn.LayerNorm(shape, dtype=np.float64)
    with ag.no_grad():
        ours.weight.data[...] = np.random.default_rng(seed + 1).standard_normal(shape)
        ours.bias.data[...] = np.random.default_rng(seed + 2).standard_normal(shape)
    assert_same_layer(ours, torch.nn.LayerNorm(shape), x)


RECURRENT = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


@given(
    kind=st.sampled_from(sorted(RECURRENT)),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    steps=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_recurrent_layers_match_pytorch(
    kind: str, layers: int, bidirectional: bool, batch_first: bool, bias: bool, steps: int, seed: int
) -> None:
    arguments = {"num_layers": layers, "bidirectional": bidirectional, "batch_first": batch_first, "bias": bias}
    ours = RECURRENT[kind](3, 4, **arguments, dtype=np.float64, rng=seed)
    x = np.random.default_rng(seed).standard_normal((2, steps, 3) if batch_first else (steps, 2, 3))
    assert_same_layer(ours, getattr(torch.nn, kind)(3, 4, **arguments), x)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_recurrent_cells_match_pytorch(kind: str) -> None:
    x = np.random.default_rng(1).standard_normal((3, 5))
    assert_same_layer(getattr(nn, kind)(5, 4, dtype=np.float64, rng=2), getattr(torch.nn, kind)(5, 4), x)


def test_embedding_matches_pytorch_with_repeated_indices() -> None:
    indices = np.array([[0, 3, 3], [5, 0, 1]])
    ours = nn.Embedding(6, 4, padding_idx=1, dtype=np.float64, rng=0)
    assert_same_layer(ours, torch.nn.Embedding(6, 4, padding_idx=1), indices, integer_input=True)


ACTIVATIONS = [
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(0.7), torch.nn.ELU(0.7)),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU("tanh"), torch.nn.GELU("tanh")),
    (nn.Softplus(2.0, 3.0), torch.nn.Softplus(2.0, 3.0)),
    (nn.LogSoftmax(1), torch.nn.LogSoftmax(1)),
    (nn.Softmax(1), torch.nn.Softmax(1)),
]


@pytest.mark.parametrize("pair", ACTIVATIONS, ids=lambda pair: repr(pair[0]))
@given(seed=st.integers(0, 2**16))
def test_activations_match_pytorch(pair: tuple[nn.Module, Any], seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal((3, 5)) * 4
    assert_same_layer(*pair, x)


@given(seed=st.integers(0, 2**16), reduction=st.sampled_from(["mean", "sum", "none"]))
def test_losses_match_pytorch(seed: int, reduction: str) -> None:
    rng = np.random.default_rng(seed)
    logits, labels = rng.standard_normal((4, 5)) * 3, rng.integers(0, 5, 4)
    targets, probabilities = rng.standard_normal((4, 5)), rng.random((4, 5))
    functional = torch.nn.functional
    cases = [
        (nn.softmax_cross_entropy, functional.cross_entropy, labels),
        (nn.mse_loss, functional.mse_loss, targets),
        (nn.binary_cross_entropy_with_logits, functional.binary_cross_entropy_with_logits, probabilities),
    ]
    for ours, theirs, target in cases:
        x_ours, x_theirs = ag.Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
        loss_ours, loss_theirs = (
            ours(x_ours, target, reduction=reduction),
            theirs(x_theirs, torch.from_numpy(target), reduction=reduction),
        )
        np.testing.assert_allclose(loss_ours.data, loss_theirs.detach().numpy(), err_msg=ours.__name__, **TOLERANCE)
        weights = rng.standard_normal(loss_ours.shape)
        ag.sum(loss_ours * weights).backward()
        (loss_theirs * torch.from_numpy(weights)).sum().backward()
        np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), err_msg=ours.__name__, **TOLERANCE)
