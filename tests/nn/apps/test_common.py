"""nn.apps.common: the command-line helpers and the classifier training the commands and examples share."""

from __future__ import annotations

import argparse
import contextlib

import numpy as np
import pytest

import nn
from nn.apps.common import blas_threads, learning_curves, require_positive, train_classifier


def test_require_positive_names_the_option_and_exits_with_a_usage_error(capsys):
    parser = argparse.ArgumentParser(prog="example")
    require_positive(parser, epochs=1, max_iterations=None)  # None: not given, nothing to check
    with pytest.raises(SystemExit) as exit_info:
        require_positive(parser, max_iterations=0)
    assert exit_info.value.code == 2
    assert "--max-iterations must be at least 1, got 0" in capsys.readouterr().err


def test_zero_blas_threads_leaves_the_library_alone():
    assert isinstance(blas_threads(0), contextlib.nullcontext)
    with blas_threads(1):  # a real limit, or a no-op without threadpoolctl
        pass


def test_train_classifier_reports_each_epoch_and_returns_the_four_curves():
    rng = np.random.default_rng(0)
    images, labels = rng.random((40, 6), dtype=np.float32), np.arange(40) % 3
    model = nn.MLP([6, 5, 3], activation="relu", rng=0)
    lines: list[str] = []
    data = ((images, labels), (images[:10], labels[:10]))
    optimizer = nn.optim.Adam(model.parameters())
    history = train_classifier(
        model, optimizer, data, epochs=2, batch_size=8, seed=0, progress=False, report=lines.append
    )
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    curves = learning_curves(history)
    assert set(curves) == {"train_loss", "val_loss", "train_accuracy", "val_accuracy"}
    assert all(len(values) == 2 for values in curves.values())
