"""autograd-lite demo --export-onnx PATH: the trained network as an ONNX file that classifies as the demo reported."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

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
