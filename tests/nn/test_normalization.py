"""BatchNorm1d/2d, LayerNorm, Dropout, Embedding and buffers: NumPy references of PyTorch's formulas,
gradients against central differences, train/eval behaviour, and running statistics through save/load."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
import nn
from nn.module import Buffer
from nn.normalization import BatchNorm1d, BatchNorm2d, Dropout, Embedding, LayerNorm
from tests.nn.nn_testing import check_module_grad


def spread_arrays(shape: Any) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of distinct values a tenth apart at least: every channel has a clear variance."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-40, 40).map(lambda v: v / 10), unique=True)


@st.composite
def batchnorm_inputs(draw: Any) -> tuple[type, np.ndarray]:
    """A BatchNorm class and an input it accepts: (N, C), (N, C, L) or (N, C, H, W), at least 2 values per channel."""
    kind = draw(st.sampled_from(["1d", "1d-L", "2d"]))
    n, c = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    extra = {"1d": (), "1d-L": (draw(st.integers(1, 3)),), "2d": (draw(st.integers(1, 2)), draw(st.integers(1, 3)))}
    return (BatchNorm2d if kind == "2d" else BatchNorm1d), draw(spread_arrays((n, c, *extra[kind])))


def reference_batchnorm(
    batches: list[np.ndarray], momentum: float | None, eps: float, weight: np.ndarray, bias: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """PyTorch's BatchNorm in training mode, in plain NumPy: outputs per batch and the final running stats."""
    running_mean, running_var = np.zeros(weight.shape), np.ones(weight.shape)
    outputs = []
    for tracked, x in enumerate(batches, start=1):
        axes = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean, var = x.mean(axis=axes), x.var(axis=axes)  # biased variance normalises
        n = x.size // x.shape[1]
        factor = 1.0 / tracked if momentum is None else momentum
        running_mean = (1 - factor) * running_mean + factor * mean
        running_var = (1 - factor) * running_var + factor * var * n / (n - 1)  # unbiased variance is tracked
        normalised = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
        outputs.append(normalised * weight.reshape(shape) + bias.reshape(shape))
    return outputs, running_mean, running_var


# ----- BatchNorm ------------------------------------------------------------------------------------
@given(batchnorm_inputs(), st.sampled_from([0.1, 0.5, 1.0, None]), st.integers(2, 4))
def test_batchnorm_running_statistics_and_outputs_match_pytorchs_formulas(
    drawn: tuple[type, np.ndarray], momentum: float | None, steps: int
) -> None:
    kind, x = drawn
    layer = kind(x.shape[1], momentum=momentum, eps=1e-3, dtype=np.float64)
    rng = np.random.default_rng(0)
    layer.weight.data = rng.standard_normal(x.shape[1])
    layer.bias.data = rng.standard_normal(x.shape[1])
    batches = [x * (step + 1) + step for step in range(steps)]  # batches with other means and variances
    outputs = [layer(batch).data for batch in batches]
    expected, running_mean, running_var = reference_batchnorm(
        batches, momentum, 1e-3, layer.weight.data, layer.bias.data
    )
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.running_mean.data, running_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.running_var.data, running_var, rtol=1e-12, atol=1e-12)
    assert int(layer.num_batches_tracked.data) == steps
    # Evaluation mode: the running statistics normalise, and nothing is updated.
    layer.eval()
    shape = (1, -1) + (1,) * (x.ndim - 2)
    want = (x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + 1e-3)
    want = want * layer.weight.data.reshape(shape) + layer.bias.data.reshape(shape)
    np.testing.assert_allclose(layer(x).data, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.running_mean.data, running_mean, rtol=1e-12, atol=1e-12)
    assert int(layer.num_batches_tracked.data) == steps


def test_batchnorm_float32_keeps_float32_and_normalises_each_channel() -> None:
    x = np.random.default_rng(1).normal(3.0, 2.0, (8, 3, 4, 4))  # float64 data into a float32 layer
    layer = BatchNorm2d(3)
    out = layer(x)
    assert out.dtype == np.float32 and layer.running_var.dtype == np.float32
    np.testing.assert_allclose(out.data.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.data.var(axis=(0, 2, 3)), 1.0, atol=1e-3)
    np.testing.assert_allclose(layer.running_mean.data, 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-5)


def test_batchnorm_train_and_eval_differ_and_without_running_stats_eval_uses_the_batch() -> None:
    x = np.random.default_rng(2).normal(5.0, 3.0, (6, 2))
    layer = BatchNorm1d(2, dtype=np.float64)
    train_out = layer(x).data
    eval_out = layer.eval()(x).data
    assert not np.allclose(train_out, eval_out)
    free = BatchNorm1d(2, track_running_stats=False, affine=False, dtype=np.float64)
    assert free.buffers() == [] and free.parameters() == []
    normalised = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(free.eval()(x).data, normalised, rtol=1e-12)
    np.testing.assert_allclose(free.train()(x).data, normalised, rtol=1e-12)


def test_batchnorm_refuses_bad_inputs_and_arguments_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): input has shape \(2, 4\), expected \(N, C, H, W\)"):
        BatchNorm2d(3)(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): input has shape \(2, 4\), expected \(N, C\) or"):
        BatchNorm1d(3)(np.ones((2, 4)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm1d(3)(np.ones((1, 3)))
    assert BatchNorm1d(3).eval()(np.ones((1, 3))).shape == (1, 3)  # one sample is fine in eval
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm2d(0)


@given(batchnorm_inputs(), st.booleans())
def test_batchnorm_gradients_match_central_differences(drawn: tuple[type, np.ndarray], training: bool) -> None:
    kind, x = drawn
    layer = kind(x.shape[1], dtype=np.float64)
    rng = np.random.default_rng(3)
    layer.weight.data = rng.standard_normal(x.shape[1])
    layer.bias.data = rng.standard_normal(x.shape[1])
    layer.running_mean.data = rng.standard_normal(x.shape[1])
    layer.running_var.data = rng.uniform(0.5, 2.0, x.shape[1])
    layer.train(training)
    assert check_module_grad(layer, x)


# ----- LayerNorm ------------------------------------------------------------------------------------
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3), st.integers(1, 2), st.data())
def test_layernorm_matches_numpy_and_its_gradients_central_differences(
    shape: tuple[int, ...], count: int, data: Any
) -> None:
    count = min(count, len(shape))
    x = data.draw(spread_arrays(shape))
    layer = LayerNorm(shape[len(shape) - count :], eps=1e-4, dtype=np.float64)
    rng = np.random.default_rng(4)
    layer.weight.data = rng.standard_normal(layer.normalized_shape)
    layer.bias.data = rng.standard_normal(layer.normalized_shape)
    axes = tuple(range(len(shape) - count, len(shape)))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    want = (x - mean) / np.sqrt(var + 1e-4) * layer.weight.data + layer.bias.data
    np.testing.assert_allclose(layer(x).data, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.eval()(x).data, want, rtol=1e-10, atol=1e-10)  # no mode difference
    assert check_module_grad(layer, x)


def test_layernorm_refuses_a_mismatched_input() -> None:
    with pytest.raises(ValueError, match=r"LayerNorm\(4,\): input has shape \(2, 3\), but its last axes must be"):
        LayerNorm(4)(np.ones((2, 3)))
    assert LayerNorm(3)(np.ones((2, 3))).dtype == np.float32
    assert LayerNorm((3,), elementwise_affine=False).parameters() == []


# ----- Dropout --------------------------------------------------------------------------------------
@given(st.sampled_from([0.1, 0.25, 0.5, 0.8]), st.integers(0, 2**32 - 1))
def test_dropout_zeros_with_probability_p_and_scales_the_rest(p: float, seed: int) -> None:
    x = np.random.default_rng(seed).uniform(1.0, 2.0, (200, 50))
    layer = Dropout(p, rng=seed)
    inputs = ag.Tensor(x, requires_grad=True)
    out = layer(inputs)
    kept = out.data != 0
    assert abs(1 - kept.mean() - p) < 0.03  # 10,000 draws: p within 3 standard deviations and more
    np.testing.assert_allclose(out.data[kept], x[kept] / (1 - p), rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(inputs.grad, kept / (1 - p), rtol=1e-12)  # the gradient is the mask
    assert np.array_equal(Dropout(p, rng=seed)(x).data, out.data)  # the same seed, the same mask
    assert not np.array_equal(layer(x).data, out.data)  # the next call draws a new mask


def test_dropout_is_the_identity_in_eval_and_extremes_behave() -> None:
    x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    layer = Dropout(0.5, rng=0).eval()
    assert layer(x) is x
    assert Dropout(0.0)(x) is x
    assert np.array_equal(Dropout(1.0)(x).data, np.zeros((2, 3)))
    assert Dropout(0.5, rng=0)(np.ones((4, 4), dtype=np.float32)).dtype == np.float32
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match="Dropout: p must be a probability"):
            Dropout(bad)


def test_dropout_in_a_model_follows_the_models_mode() -> None:
    model = nn.Sequential(nn.Dense(4, 4, rng=0), Dropout(0.5, rng=0))
    x = np.ones((3, 4))
    assert np.array_equal(model.eval()(x).data, model(x).data)
    assert not np.array_equal(model.train()(x).data, model(x).data)


# ----- Embedding ------------------------------------------------------------------------------------
@given(st.integers(1, 6), st.integers(1, 4), hnp.array_shapes(min_dims=1, max_dims=2, max_side=5), st.data())
def test_embedding_gathers_rows_and_scatter_adds_the_gradient(
    count: int, dim: int, shape: tuple[int, ...], data: Any
) -> None:
    indices = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, count - 1)))
    layer = Embedding(count, dim, dtype=np.float64, rng=0)
    out = layer(indices)
    assert out.shape == (*shape, dim)
    np.testing.assert_array_equal(out.data, layer.weight.data[indices])
    upstream = np.random.default_rng(1).standard_normal(out.shape)
    (out * upstream).sum().backward()
    expected = np.zeros((count, dim))
    np.add.at(expected, indices.reshape(-1), upstream.reshape(-1, dim))  # repeats add up
    np.testing.assert_allclose(layer.weight.grad, expected, rtol=1e-12, atol=1e-12)
    assert ag.check_grad(lambda w: (ag.getitem(w, indices) * upstream).sum(), layer.weight.data.copy())


def test_embedding_padding_row_gets_no_gradient_and_bad_indices_are_refused() -> None:
    layer = Embedding(4, 3, padding_idx=1, rng=0)
    assert np.array_equal(layer.weight.data[1], np.zeros(3))
    layer.weight.data[1] = 7.0  # a padding row the user set: returned as it is, never trained
    out = layer(np.array([[1, 2, 1]]))
    assert np.array_equal(out.data[0, 0], np.full(3, 7.0, dtype=np.float32))
    out.sum().backward()
    assert np.array_equal(layer.weight.grad, np.array([[0, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0]]))
    with pytest.raises(ValueError, match=r"Embedding\(4, 3\): index 4 is out of range \(indices must be 0..3\)"):
        layer(np.array([0, 4]))
    with pytest.raises(TypeError, match="indices must be integers"):
        layer(np.array([0.0, 1.0]))


# ----- buffers, modes and checkpoints ------------------------------------------------------------------
def small_model(seed: int) -> nn.Sequential:
    return nn.Sequential(nn.Dense(3, 4, rng=seed), BatchNorm1d(4), nn.ReLU(), Dropout(0.2, rng=seed))


def test_buffers_are_state_but_never_parameters() -> None:
    model = small_model(0)
    assert [name for name, _ in model.named_buffers()] == [
        "layers.1.running_mean",
        "layers.1.running_var",
        "layers.1.num_batches_tracked",
    ]
    assert all(not isinstance(p, Buffer) for p in model.parameters())
    assert list(model.state_dict()) == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
        "layers.1.running_mean",
        "layers.1.running_var",
        "layers.1.num_batches_tracked",
    ]
    assert model.state_dict()["layers.1.num_batches_tracked"].dtype == np.int64
    opt = nn.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.5)
    x = np.random.default_rng(0).standard_normal((8, 3))
    model(x).sum().backward()
    before = model.layers[1].running_mean.data.copy()
    opt.step()  # the optimizer moves parameters only
    assert np.array_equal(model.layers[1].running_mean.data, before)


def test_register_buffer_and_non_persistent_buffers() -> None:
    class Counter(nn.Module):
        def __init__(self) -> None:
            self.register_buffer("count", np.zeros(2))
            self.register_buffer("scratch", np.ones(1), persistent=False)

        def forward(self, x: Any) -> Any:
            return x

    counter = Counter()
    assert isinstance(counter.count, Buffer) and not counter.count.requires_grad
    assert [name for name, _ in counter.named_buffers()] == ["count", "scratch"]
    assert list(counter.state_dict()) == ["count"]
    counter.load_state_dict({"count": np.array([3.0, 4.0])})
    assert counter.count.data.tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="missing from the state: count"):
        counter.load_state_dict({})
    with pytest.raises(ValueError, match="register_buffer: name must be an identifier"):
        counter.register_buffer("a.b", np.zeros(1))


def test_running_statistics_survive_save_and_load_bit_exactly(tmp_path: Any) -> None:
    model = small_model(0)
    rng = np.random.default_rng(5)
    for _ in range(3):
        model(rng.normal(2.0, 3.0, (16, 3)))
    path = tmp_path / "bn.npz"
    nn.save(model, path)
    copy = nn.load(small_model(1), path)
    for (name, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items()):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    assert int(copy.layers[1].num_batches_tracked.data) == 3
    x = rng.standard_normal((5, 3))
    assert np.array_equal(model.eval()(x).data, copy.eval()(x).data)
    # A checkpoint without the running statistics does not load into a model that has them.
    np.savez(tmp_path / "old.npz", **{k: v for k, v in model.state_dict().items() if "running" not in k})
    with pytest.raises(ValueError, match="missing from the state: layers.1.running_mean"):
        nn.load(small_model(1), tmp_path / "old.npz")


def test_fit_trains_in_train_mode_and_evaluates_in_eval_mode() -> None:
    class ModeRecorder(nn.Module):
        def __init__(self) -> None:
            self.dense = nn.Dense(2, 1, rng=0)
            self.modes: list[bool] = []

        def forward(self, x: Any) -> Any:
            self.modes.append(self.dense.training)
            return self.dense(x)

    model = ModeRecorder()
    X, y = np.ones((4, 2)), np.zeros((4, 1))
    model.eval()  # fit switches to training mode itself
    nn.fit(model, nn.mse_loss, nn.optim.SGD(model.parameters(), lr=0.1), X, y, epochs=2, batch_size=2,
           validation=(X, y), progress=False)  # fmt: skip
    assert model.modes == [True, True, False, False] * 2  # per epoch: two training batches, two validation ones
    model.modes.clear()
    model.eval()
    nn.predict(model, X)
    nn.evaluate(model, nn.mse_loss, X, y)
    assert model.modes == [False, False] and not model.training  # the previous mode is restored
