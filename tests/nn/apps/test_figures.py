"""nn.apps.figures: the confusion matrix against a plain count, and every plot writes a PNG."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import label_pairs

from nn.apps import figures

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@given(pair=label_pairs())
def test_confusion_matrix_counts_every_pair_once(pair):
    labels, predictions = pair
    matrix = figures.confusion_matrix(labels, predictions)
    expected = np.zeros((10, 10), dtype=np.int64)
    for true, predicted in zip(labels, predictions):
        expected[true, predicted] += 1
    np.testing.assert_array_equal(matrix, expected)
    assert np.trace(matrix) == np.sum(labels == predictions)


def test_every_plot_writes_a_png(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((10, 784)).astype(np.float32)
    labels = np.arange(10)
    predictions = np.roll(labels, 1)
    curves = {
        "train_loss": [1.0, 0.5],
        "val_loss": [1.1, 0.7],
        "train_accuracy": [0.6, 0.8],
        "val_accuracy": [0.5, 0.7],
    }
    paths = [
        figures.plot_curves(curves, tmp_path / "curves.png", title="t"),
        figures.plot_digit_grid(images, labels, predictions, tmp_path / "grid.png", columns=4),
        figures.plot_probabilities(images[0], np.full(10, 0.1), 3, tmp_path / "probabilities.png"),
        figures.plot_confusion_matrix(figures.confusion_matrix(labels, predictions), tmp_path / "confusion.png"),
        figures.plot_decision_boundary(
            lambda grid: 1 / (1 + np.exp(-grid[:, 0])), rng.random((20, 2)), np.arange(20) % 2, tmp_path / "b.png"
        ),
        figures.plot_filters(rng.standard_normal((10, 1, 3, 3)), tmp_path / "filters.png"),
        figures.plot_feature_maps(
            images[0], [("conv 1", rng.random((10, 28, 28))), ("conv 2", rng.random((20, 14, 14)))], tmp_path / "f.png"
        ),
    ]
    for path in paths:
        assert path.read_bytes()[:8] == PNG_MAGIC


def test_plot_filters_refuses_weights_that_are_not_conv_weights(tmp_path):
    with pytest.raises(ValueError, match=r"plot_filters: weights need shape \(out, in, kh, kw\), got \(3, 3\)"):
        figures.plot_filters(np.ones((3, 3)), tmp_path / "filters.png")
    assert not (tmp_path / "filters.png").exists()
