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


def shifted_by_hand(image: np.ndarray, down: int, right: int) -> np.ndarray:
    """One image (..., H, W) moved down and right, zeros in, written pixel by pixel."""
    out = np.zeros_like(image)
    height, width = image.shape[-2:]
    for r in range(height):
        for c in range(width):
            if 0 <= r - down < height and 0 <= c - right < width:
                out[..., r, c] = image[..., r - down, c - right]
    return out


@given(
    shape=st.tuples(st.integers(1, 4), st.integers(0, 2), st.integers(1, 6), st.integers(1, 6)),
    max_shift=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_shift_moves_each_image_by_its_own_offset(shape: tuple[int, ...], max_shift: int, seed: int) -> None:
    shape = shape[:1] + shape[2:] if shape[1] == 0 else shape  # (N, H, W) or (N, C, H, W)
    images = np.random.default_rng(seed).random(shape).astype(np.float32) + 1  # no zeros, so moves show
    moved, offsets = nn.data.random_shift(images, max_shift, seed=seed)
    assert moved.shape == images.shape and moved.dtype == images.dtype
    assert offsets.shape == (len(images), 2) and np.abs(offsets).max() <= max_shift
    for image, result, (down, right) in zip(images, moved, offsets):
        assert np.array_equal(result, shifted_by_hand(image, int(down), int(right)))
    again, _ = nn.data.random_shift(images, max_shift, seed=seed)
    assert np.array_equal(again, moved)  # seeded: reproducible


def test_random_shift_draws_every_offset() -> None:
    _, offsets = nn.data.random_shift(np.ones((2000, 5, 5)), 2, seed=0)
    assert {tuple(o) for o in offsets} == {(a, b) for a in range(-2, 3) for b in range(-2, 3)}


@pytest.mark.parametrize(
    ("images", "max_shift", "message"),
    [(np.ones((3, 4)), 1, r"shape \(N, H, W\)"), (np.ones((2, 4, 4)), -1, "non-negative"),
     (np.ones((2, 4, 4)), 1.5, "non-negative"), (np.ones((2, 4, 4)), True, "non-negative")],
)  # fmt: skip
def test_random_shift_refuses_bad_arguments(images: np.ndarray, max_shift: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nn.data.random_shift(images, max_shift)  # type: ignore[arg-type]
