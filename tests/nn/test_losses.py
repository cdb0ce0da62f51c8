"""Losses: values against stable NumPy references, gradients against central differences
(hypothesis-drawn, extreme logits ±1e3 included), reductions, and clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, floats

import autograd_lite as ag
import nn

rows, classes = st.integers(1, 4), st.integers(2, 4)
#: Ordinary logits, plus the extremes where exp() of a naive implementation overflows.
logit_values = st.one_of(floats(-5, 5), st.sampled_from([-1e3, 1e3]), floats(-1e3, 1e3))


def np_log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@st.composite
def logits_and_labels(draw: st.DrawFn, values: st.SearchStrategy[float] = logit_values) -> tuple:
    n, k = draw(rows), draw(classes)
    return draw(arrays((n, k), values)), np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))


@st.composite
def logits_and_distributions(draw: st.DrawFn) -> tuple:
    n, k = draw(rows), draw(classes)
    weights = draw(arrays((n, k), floats(0, 1)))
    weights[:, 0] += 0.1  # no all-zero row
    return draw(arrays((n, k), logit_values)), weights / weights.sum(axis=1, keepdims=True)


def no_warnings(function: object, *args: object) -> ag.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning fails the test
        return function(*args)  # type: ignore[operator]


# ----- softmax_cross_entropy ---------------------------------------------------------
@given(logits_and_labels())
def test_softmax_cross_entropy_with_labels(case: tuple) -> None:
    logits, labels = case
    loss = no_warnings(nn.softmax_cross_entropy, ag.Tensor(logits), labels)
    expected = -np_log_softmax(logits)[np.arange(len(labels)), labels].mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-10, atol=1e-12)
    assert ag.check_grad(lambda z: nn.softmax_cross_entropy(z, labels), logits)


@given(logits_and_distributions())
def test_softmax_cross_entropy_with_probability_rows(case: tuple) -> None:
    logits, target = case
    loss = no_warnings(nn.softmax_cross_entropy, ag.Tensor(logits), target)
    np.testing.assert_allclose(loss.item(), -(target * np_log_softmax(logits)).sum(axis=1).mean(), rtol=1e-10)
    assert ag.check_grad(lambda z: nn.softmax_cross_entropy(z, target, reduction="sum"), logits)


def test_softmax_cross_entropy_gradient_is_softmax_minus_one_hot_at_extremes() -> None:
    logits = ag.Tensor([[1e3, -1e3, 0.0], [-1e3, -1e3, 1e3]], requires_grad=True)
    loss = no_warnings(nn.softmax_cross_entropy, logits, np.array([1, 2]), "sum")
    assert loss.item() == 2000.0
    loss.backward()
    np.testing.assert_array_equal(logits.grad, [[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])


# ----- binary_cross_entropy_with_logits ------------------------------------------------
@given(st.data())
def test_binary_cross_entropy_with_logits(data: st.DataObject) -> None:
    shape = data.draw(st.tuples(rows, st.integers(1, 3)))
    logits = data.draw(arrays(shape, logit_values))
    target = data.draw(arrays(shape, st.one_of(st.sampled_from([0.0, 1.0]), floats(0, 1))))
    loss = no_warnings(nn.binary_cross_entropy_with_logits, ag.Tensor(logits), target)
    expected = np.mean(np.logaddexp(0, logits) - logits * target)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-10, atol=1e-12)
    assert ag.check_grad(lambda z: nn.binary_cross_entropy_with_logits(z, target, reduction="sum"), logits)


@given(arrays(st.tuples(rows), logit_values), st.data())
def test_binary_cross_entropy_gradient_is_sigmoid_minus_target(logits: np.ndarray, data: st.DataObject) -> None:
    target = data.draw(arrays(logits.shape, floats(0, 1)))
    z = ag.Tensor(logits, requires_grad=True)
    no_warnings(nn.binary_cross_entropy_with_logits, z, target, "sum").backward()
    sigmoid = np.where(
        logits >= 0, 1 / (1 + np.exp(-np.abs(logits))), np.exp(-np.abs(logits)) / (1 + np.exp(-np.abs(logits)))
    )
    np.testing.assert_allclose(z.grad, sigmoid - target, rtol=1e-12, atol=1e-15)


def test_binary_cross_entropy_gradient_at_zero_logit_is_one_half_minus_target() -> None:
    z = ag.Tensor(np.zeros(2), requires_grad=True)
    nn.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0]), reduction="sum").backward()
    np.testing.assert_array_equal(z.grad, [0.5, -0.5])


# ----- squared errors ---------------------------------------------------------------------
@given(st.data())
def test_squared_errors(data: st.DataObject) -> None:
    shape = data.draw(st.tuples(rows, st.integers(1, 3)))
    prediction, target = data.draw(arrays(shape)), data.draw(arrays(shape))
    np.testing.assert_allclose(nn.mse_loss(prediction, target).item(), np.mean((prediction - target) ** 2), rtol=1e-12)
    np.testing.assert_allclose(
        nn.sum_squared_error(prediction, target).item(), 0.5 * np.sum((prediction - target) ** 2), rtol=1e-12
    )
    assert ag.check_grad(lambda p: nn.mse_loss(p, target), prediction)
    assert ag.check_grad(lambda p, t: nn.sum_squared_error(p, t), prediction, target)
    p = ag.Tensor(prediction, requires_grad=True)
    nn.sum_squared_error(p, target).backward()
    # the textbook's reason for the ½ (below the smallest normal number the order of rounding decides)
    np.testing.assert_allclose(p.grad, prediction - target, rtol=1e-12, atol=np.finfo(np.float64).tiny)


# ----- cross_entropy on probabilities ---------------------------------------------------------
@given(st.data())
def test_cross_entropy_on_probabilities(data: st.DataObject) -> None:
    n, k = data.draw(rows), data.draw(classes)
    probabilities = data.draw(arrays((n, k), floats(0.05, 0.95)))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    loss = nn.cross_entropy(probabilities, labels)
    np.testing.assert_allclose(loss.item(), -np.log(probabilities[np.arange(n), labels]).mean(), rtol=1e-12)
    one_hot = np.eye(k)[labels]
    np.testing.assert_allclose(nn.cross_entropy(probabilities, one_hot).item(), loss.item(), rtol=1e-12)
    assert ag.check_grad(lambda p: nn.cross_entropy(p, labels), probabilities)


def test_cross_entropy_clips_zero_probabilities() -> None:
    loss = no_warnings(nn.cross_entropy, np.array([[0.0, 1.0]]), np.array([0]))
    np.testing.assert_allclose(loss.item(), -np.log(1e-7), rtol=1e-12)


def test_cross_entropy_refuses_logits() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: predictions must be probabilities.*softmax_cross_entropy"):
        nn.cross_entropy(np.array([[2.0, -1.0]]), np.array([0]))


# ----- reductions and module forms -------------------------------------------------------------
LOSSES = [
    (nn.mse_loss, nn.MSELoss, lambda rng: rng.standard_normal((3, 2))),
    (nn.sum_squared_error, nn.SumSquaredError, lambda rng: rng.standard_normal((3, 2))),
    (nn.binary_cross_entropy_with_logits, nn.BinaryCrossEntropyWithLogits, lambda rng: rng.uniform(0, 1, (3, 2))),
    (nn.softmax_cross_entropy, nn.SoftmaxCrossEntropy, lambda rng: np.array([0, 1, 1])),
    (nn.cross_entropy, nn.CrossEntropy, lambda rng: np.array([0, 1, 1])),
]


@pytest.mark.parametrize(("function", "module", "make_target"), LOSSES, ids=lambda x: getattr(x, "__name__", ""))
def test_reductions_and_module_forms(function: object, module: type, make_target: object) -> None:
    rng = np.random.default_rng(0)
    prediction = rng.uniform(0.1, 0.9, (3, 2))
    target = make_target(rng)  # type: ignore[operator]
    per_item = function(prediction, target, reduction="none").data  # type: ignore[operator]
    assert per_item.shape == ((3,) if target.ndim == 1 else (3, 2))
    np.testing.assert_allclose(function(prediction, target, reduction="sum").item(), per_item.sum(), rtol=1e-12)
    np.testing.assert_allclose(function(prediction, target, reduction="mean").item(), per_item.mean(), rtol=1e-12)
    default = function(prediction, target).item()  # type: ignore[operator]
    assert module()(prediction, target).item() == default
    with pytest.raises(ValueError, match=f"{function.__name__}: reduction must be one of"):  # type: ignore[attr-defined]
        function(prediction, target, reduction="average")  # type: ignore[operator]
    with pytest.raises(ValueError, match="reduction must be one of"):
        module(reduction="total")


def test_float32_logits_stay_float32() -> None:
    logits = ag.Tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    loss = nn.softmax_cross_entropy(logits, np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]))
    assert loss.dtype == np.float32
    assert nn.binary_cross_entropy_with_logits(logits, np.ones((2, 3))).dtype == np.float32


# ----- errors ----------------------------------------------------------------------------------
SCE, BCE, Z = nn.softmax_cross_entropy, nn.binary_cross_entropy_with_logits, np.zeros((2, 3))
BAD_TARGETS = [
    (SCE, Z, np.array([0, 3]), r"softmax_cross_entropy: label 3 is out of range for 3 classes"),
    (SCE, Z, np.array([-1, 0]), r"label -1 is out of range"),
    (SCE, Z, np.array([0, 1, 2]), r"integer labels have shape \(3,\), expected \(2,\)"),
    (SCE, Z, np.array([0.0, 1.0]), r"labels stored as floats.*astype"),
    (SCE, Z, np.full((2, 3), np.nan), r"softmax_cross_entropy: the target \(shape \(2, 3\)\) contains 6 NaN"),
    (SCE, Z, -np.ones((2, 3)), r"probability targets must be >= 0"),
    (SCE, Z, np.array(["a", "b"]), r"target has dtype <U1"),
    (SCE, np.zeros(()), np.array(0), r"need a class axis"),
    (nn.cross_entropy, np.full((1, 2), 0.5), np.array([2]), r"cross_entropy: label 2 is out of range"),
    (nn.mse_loss, np.zeros((4, 1)), np.zeros(4), r"mse_loss: prediction has shape \(4, 1\) but target .*reshape"),
    (nn.mse_loss, np.zeros(2), np.array([1.0, np.nan]), r"mse_loss: the target \(shape \(2,\)\) contains 1 NaN"),
    (nn.sum_squared_error, np.zeros(2), np.zeros(3), r"sum_squared_error: prediction has shape"),
    (BCE, np.zeros(2), np.array([0.0, 2.0]), r"binary_cross_entropy_with_logits: targets must lie in \[0, 1\]"),
    (BCE, np.zeros(2), np.array([0.0, np.nan]), r"contains 1 NaN"),
    (BCE, np.zeros((3, 1)), np.zeros(3), r"prediction has shape \(3, 1\) but target has shape \(3,\)"),
]


@pytest.mark.parametrize(("function", "prediction", "target", "message"), BAD_TARGETS)
def test_bad_targets_raise_errors_naming_the_loss(
    function: object, prediction: np.ndarray, target: np.ndarray, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        function(prediction, target)  # type: ignore[operator]
