"""nn.apps.mnist (autograd-lite mnist): the recipes, argument errors and data-loading failures."""

from __future__ import annotations

import pytest

from nn.apps import mnist


def test_recipes_build_the_documented_networks():
    model, optimizer = mnist.RECIPES["textbook"].build(seed=0)
    assert [layer.weight.shape for layer in model] == [(784, 50), (50, 10)]
    assert type(optimizer).__name__ == "SGD" and optimizer.lr == 0.1
    model, optimizer = mnist.RECIPES["modern"].build(seed=0)
    assert [layer.weight.shape for layer in model] == [(784, 256), (256, 128), (128, 10)]
    assert type(optimizer).__name__ == "Adam"
    assert "10,000 iterations" in mnist.RECIPES["textbook"].describe()


@pytest.mark.parametrize("arguments", [["--iterations", "0"], ["--recipe", "x"]])
def test_bad_arguments_exit_with_a_usage_error(arguments, capsys):
    with pytest.raises(SystemExit) as exit_info:
        mnist.main(arguments)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_mnist_command_names_a_missing_data_folder_and_a_corrupt_file(tmp_path, capsys):
    assert mnist.main(["--data", str(tmp_path / "nowhere"), "--no-progress"]) == 1
    assert "nowhere does not exist" in capsys.readouterr().err
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (tmp_path / name).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05\x01")  # declares 5 labels, holds 1
    assert mnist.main(["--data", str(tmp_path), "--no-progress"]) == 1
    assert "train-images-idx3-ubyte is truncated" in capsys.readouterr().err


@pytest.mark.parametrize("error", [MemoryError(), PermissionError("read_idx: cannot read x.idx (Permission denied)")])
def test_mnist_command_turns_a_data_loading_failure_into_one_line(monkeypatch, tmp_path, capsys, error):
    def failing_load(directory, **options):
        raise error

    monkeypatch.setattr(mnist, "load_mnist", failing_load)
    assert mnist.main(["--data", str(tmp_path), "--no-progress"]) == 1
    message = capsys.readouterr().err
    assert message.startswith("autograd-lite mnist: ") and message.count("\n") == 1
    assert str(tmp_path) in message or "x.idx" in message
