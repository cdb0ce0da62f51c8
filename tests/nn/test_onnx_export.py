"""nn.export_onnx: the file passes onnx.checker, runs in onnxruntime at any batch size and computes the model's outputs.

Every supported layer is exported and run (the table below must name each one), an MLP and a
CNN at batch sizes 1 and 37; unsupported layers are refused by name before anything is written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import autograd_lite as ag
import nn
import nn.onnx_export

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

#: float32 outputs of order 1: the runtime sums in another order, nothing more.
TOLERANCE = 1e-5
RNG = np.random.default_rng(0)


def mlp() -> nn.Module:
    return nn.MLP([6, 32, 16, 5], activation="tanh", output_activation="softmax", rng=0)


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=1, dilation=1, rng=2), nn.ReLU(), nn.AvgPool2d(2, padding=1), nn.Flatten(),
        nn.Dropout(0.3), nn.Dense(32, 10, rng=3), nn.LogSoftmax(dim=1),
    )  # fmt: skip


def run(path: Path, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def largest_difference(model: nn.Module, path: Path, x: np.ndarray) -> float:
    """Max |runtime - model| on ``x``, the model in evaluation mode."""
    out = model.eval()(x)
    expected = out.data if isinstance(out, ag.Tensor) else np.asarray(out)  # (Identity passes arrays through)
    got = run(path, x)
    assert got.shape == expected.shape and got.dtype == expected.dtype == np.float32
    return float(np.max(np.abs(got - expected)))


def with_moved_statistics(model: nn.Module, x: np.ndarray) -> nn.Module:
    """Training-mode passes move the batch norms' running statistics away from 0 and 1."""
    model.train()
    for scale, shift in ((1.0, 0.5), (2.0, -0.3)):
        model(x * scale + shift)
    return model


@pytest.mark.parametrize(("build", "shape"), [(mlp, (6,)), (cnn, (1, 8, 8))], ids=["mlp", "cnn"])
def test_the_runtime_computes_the_models_outputs_at_any_batch_size(
    tmp_path: Path, build: Callable[[], nn.Module], shape: tuple[int, ...]
) -> None:
    x = RNG.standard_normal((37, *shape)).astype(np.float32)
    model = with_moved_statistics(build(), x)
    path = nn.export_onnx(model, tmp_path / "model.onnx", x[:2])
    assert path == tmp_path / "model.onnx" and model.training  # the model is left in its mode
    for batch in (1, 37):
        assert largest_difference(model, path, x[:batch]) <= TOLERANCE
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    for value in (*proto.graph.input, *proto.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.producer_name == "autograd_lite"


#: One small model per supported layer (input shape without the batch axis); must name every one.
LAYER_CASES: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "Dense": (lambda: nn.Dense(4, 3, rng=0), (4,)),
    "Sequential": (lambda: nn.Sequential(nn.Sequential(nn.Dense(4, 3, rng=0)), nn.ReLU()), (4,)),
    "MLP": (lambda: nn.MLP([4, 3, 2], rng=0), (4,)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), bias=False, rng=0),
               (2, 7, 6)),
    "MaxPool2d": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 7, 7)),
    "AvgPool2d": (lambda: nn.AvgPool2d((2, 3), stride=1, padding=(1, 1)), (2, 5, 6)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(1), (3, 4, 5)),
    "Flatten": (lambda: nn.Sequential(nn.Flatten(start_dim=2), nn.Flatten(1, 1)), (2, 3, 4)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3, affine=False, eps=1e-3), (3, 5)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3, momentum=None), (3, 4, 4)),
    "LayerNorm": (lambda: nn.LayerNorm((3, 4), elementwise_affine=False), (3, 4)),
    "Dropout": (lambda: nn.Sequential(nn.Dropout(0.5)), (5,)),
    "Identity": (lambda: nn.Sequential(nn.Identity()), (5,)),
    "ReLU": (lambda: nn.ReLU(), (5,)),
    "Sigmoid": (lambda: nn.Sigmoid(), (5,)),
    "Tanh": (lambda: nn.Tanh(), (5,)),
    "Softmax": (lambda: nn.Softmax(axis=1), (5, 2)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=-1), (5,)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (5,)),
    "ELU": (lambda: nn.ELU(0.7), (5,)),
    "GELU": (lambda: nn.Sequential(nn.GELU(), nn.GELU(approximate="tanh")), (5,)),
    "Softplus": (lambda: nn.Sequential(nn.Softplus(), nn.Softplus(beta=2.0, threshold=3.0)), (5,)),
    "Step": (lambda: nn.Step(), (5,)),
}  # fmt: skip


def test_the_table_names_every_supported_layer() -> None:
    assert sorted(LAYER_CASES) == nn.onnx_export.SUPPORTED


@pytest.mark.parametrize("name", LAYER_CASES)
def test_every_supported_layer_computes_what_it_computes_here(tmp_path: Path, name: str) -> None:
    build, shape = LAYER_CASES[name]
    x = (RNG.standard_normal((37, *shape)) * 3).astype(np.float32)
    model = build()
    if not isinstance(model, nn.Sequential):
        model = nn.Sequential(model)
    with_moved_statistics(model, x)
    path = nn.export_onnx(model, tmp_path / f"{name}.onnx", x[:3])
    for batch in (1, 37):
        assert largest_difference(model, path, x[:batch]) <= TOLERANCE


class Doubling(nn.Module):
    def forward(self, x: Any) -> Any:
        return x * 2


@pytest.mark.parametrize(
    ("model", "shape", "words"),
    [(nn.Sequential(nn.Dense(3, 4), nn.LSTM(4, 2), nn.Embedding(5, 2)), (3,),
      r"no ONNX translation for layers.1 \(LSTM\), layers.2 \(Embedding\); the supported layers are .*Conv2d"),
     (nn.Sequential(nn.Dense(3, 3, activation=Doubling())), (3,), r"layers.0.activation \(Doubling\)"),
     (Doubling(), (3,), r"Doubling \(Doubling\)"),
     (nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False)), (3,),
      r"layers.0 \(BatchNorm1d with track_running_stats=False\)"),
     (nn.Sequential(nn.Flatten(start_dim=0)), (3, 2), r"layers.0 \(Flatten joining the batch axis, start_dim=0\)")],
    ids=["recurrent and embedding", "custom activation", "not a Sequential", "batch statistics", "flatten batch"],
)  # fmt: skip
def test_unsupported_layers_are_named_and_nothing_is_written(
    tmp_path: Path, model: nn.Module, shape: tuple[int, ...], words: str
) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the previous export")
    with pytest.raises(NotImplementedError, match=words):
        nn.export_onnx(model, path, np.zeros((2, *shape), np.float32))
    assert path.read_bytes() == b"the previous export" and os.listdir(tmp_path) == ["model.onnx"]


def test_bad_examples_and_mixed_dtypes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"example_input must be a batch .* got shape \(3,\)"):
        nn.export_onnx(nn.Sequential(nn.Dense(3, 2)), tmp_path / "m.onnx", np.zeros(3))
    mixed = nn.Sequential(nn.Dense(3, 2), nn.Dense(2, 2, dtype=np.float64))
    with pytest.raises(ValueError, match=r"mixes dtypes \['float32', 'float64'\]"):
        nn.export_onnx(mixed, tmp_path / "m.onnx", np.zeros((2, 3)))
    assert os.listdir(tmp_path) == []


def test_without_the_package_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ModuleNotFoundError, match=r'pip install "autograd_lite\[onnx\]"'):
        nn.export_onnx(mlp(), tmp_path / "m.onnx", np.zeros((2, 6), np.float32))
    assert os.listdir(tmp_path) == []
