"""autograd-lite demo --export-onnx PATH: the trained network as an ONNX file that classifies as the demo reported."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from nn.apps import demo
from nn.datasets import load_mnist


def test_the_exported_network_classifies_the_held_out_digits_as_the_demo_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no Graphviz: the quickest pictures
    path = tmp_path / "digits.onnx"
    assert (
        demo.main(["--epochs", "1", "--no-progress", "--out", str(tmp_path / "out"), "--export-onnx", str(path)]) == 0
    )
    printed = capsys.readouterr().out
    assert f"ONNX model (input 'input': (batch, 784) float32, any batch size): {path}" in printed
    reported = float(re.search(r"Held-out accuracy: ([\d.]+)%", printed).group(1)) / 100  # type: ignore[union-attr]
    _, (images, labels) = load_mnist()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    one = session.run(None, {"input": images[:1].astype(np.float32)})[0]
    logits = session.run(None, {"input": images.astype(np.float32)})[0]
    assert one.shape == (1, 10) and logits.shape == (len(labels), 10)
    assert abs(float(np.mean(logits.argmax(axis=1) == labels)) - reported) <= 0.0015  # the printed rounding


@pytest.mark.parametrize("problem", ["no onnx", "no folder"])
def test_export_problems_stop_the_demo_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], problem: str
) -> None:
    path = tmp_path / ("missing/model.onnx" if problem == "no folder" else "model.onnx")
    if problem == "no onnx":
        monkeypatch.setitem(sys.modules, "onnx", None)  # what find_spec reports for a package that is not there
    assert (
        demo.main(["--epochs", "1", "--no-progress", "--out", str(tmp_path / "out"), "--export-onnx", str(path)]) == 1
    )
    captured = capsys.readouterr()
    words = 'pip install "autograd_lite[onnx]"' if problem == "no onnx" else f"the folder {path.parent} does not exist"
    assert words in captured.err and "Training" not in captured.out


def test_the_demos_cnn_exports_and_runs_the_same(tmp_path: Path) -> None:
    """--model cnn's network (untrained here: the layers are what matters) at batch sizes 1 and 37."""
    onnxruntime = pytest.importorskip("onnxruntime")
    model = demo.RECIPES["cnn"].build(0)
    x = np.random.default_rng(0).random((37, *demo.RECIPES["cnn"].input_shape)).astype(np.float32)
    path = nn.export_onnx(model, tmp_path / "cnn.onnx", x[:2])
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch in (1, 37):
        assert np.max(np.abs(session.run(None, {"input": x[:batch]})[0] - model(x[:batch]).data)) <= 1e-5
