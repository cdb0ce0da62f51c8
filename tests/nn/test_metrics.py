"""nn.accuracy: arg-max for several outputs, a threshold for one, labels or one-hot targets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays

import autograd_lite as ag
import nn


@given(st.data())
def test_multiclass_accuracy_counts_argmax_hits(data: st.DataObject) -> None:
    n, k = data.draw(st.integers(1, 20)), data.draw(st.integers(2, 5))
    outputs = data.draw(arrays((n, k), st.integers(-100, 100).map(float)))
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    hits = sum(int(np.argmax(row) == label) for row, label in zip(outputs, labels))
    assert nn.accuracy(outputs, labels) == hits / n
    assert nn.accuracy(ag.Tensor(outputs), np.eye(k)[labels]) == hits / n


def test_single_output_uses_a_threshold() -> None:
    probabilities = np.array([[0.9], [0.2], [0.6], [0.4]])
    assert nn.accuracy(probabilities, np.array([1, 0, 0, 0])) == 0.75
    assert nn.accuracy(probabilities.ravel(), np.array([1.0, 0.0, 1.0, 0.0])) == 1.0
    logits = np.array([[2.0], [-1.0], [0.3]])
    assert nn.accuracy(logits, np.array([[1.0], [0.0], [0.0]]), threshold=0.0) == 2 / 3


def test_mismatched_shapes_are_an_error() -> None:
    with pytest.raises(ValueError, match=r"accuracy: outputs of shape \(3, 2\) give predictions of shape \(3,\)"):
        nn.accuracy(np.zeros((3, 2)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="at least one sample"):
        nn.accuracy(np.zeros((0, 2)), np.zeros(0, dtype=int))
