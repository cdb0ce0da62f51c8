"""nn.data.batches: every row exactly once per pass, seeded shuffles, partial batches, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from nn.data import batch_count


@given(
    count=st.integers(1, 60),
    batch_size=st.integers(1, 70),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
    drop_last=st.booleans(),
)
def test_batches_cover_every_row_once(count: int, batch_size: int, shuffle: bool, seed: int, drop_last: bool) -> None:
    X = np.arange(count * 2).reshape(count, 2)
    y = np.arange(count)
    pairs = list(nn.data.batches(X, y, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last))
    assert len(pairs) == batch_count(count, batch_size, drop_last)
    seen = np.concatenate([yb for _, yb in pairs]) if pairs else np.array([], dtype=int)
    for xb, yb in pairs:
        assert np.array_equal(xb[:, 0], 2 * yb)  # rows stay paired with their targets
        assert len(yb) <= batch_size
    if drop_last:
        assert all(len(yb) == batch_size for _, yb in pairs)
        assert len(set(seen.tolist())) == len(seen) == count - count % batch_size
    else:
        assert sorted(seen.tolist()) == list(range(count))
    if not shuffle:
        assert seen.tolist() == list(range(len(seen)))


@given(seed=st.integers(0, 2**32 - 1))
def test_the_same_seed_gives_the_same_order(seed: int) -> None:
    X, y = np.arange(50).reshape(50, 1), np.arange(50)
    first = [yb.tolist() for _, yb in nn.data.batches(X, y, 7, shuffle=True, seed=seed)]
    second = [yb.tolist() for _, yb in nn.data.batches(X, y, 7, shuffle=True, seed=seed)]
    assert first == second


def test_a_generator_continues_so_epochs_differ() -> None:
    X, y, rng = np.zeros((30, 1)), np.arange(30), np.random.default_rng(0)
    first = np.concatenate([yb for _, yb in nn.data.batches(X, y, 30, shuffle=True, seed=rng)])
    second = np.concatenate([yb for _, yb in nn.data.batches(X, y, 30, shuffle=True, seed=rng)])
    assert sorted(first) == sorted(second) and not np.array_equal(first, second)


@pytest.mark.parametrize(
    ("X", "y", "batch_size", "message"),
    [
        (np.zeros((3, 2)), np.zeros(4), 2, r"X has 3 rows \(shape \(3, 2\)\) but y has 4"),
        (np.zeros(()), np.zeros(1), 2, "need a first"),
        (np.zeros((3, 2)), np.zeros(3), 0, "batch_size must be a positive integer"),
        (np.zeros((3, 2)), np.zeros(3), 2.0, "batch_size must be a positive integer"),
    ],
)
def test_bad_arguments(X: np.ndarray, y: np.ndarray, batch_size: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next(nn.data.batches(X, y, batch_size))  # type: ignore[arg-type]
