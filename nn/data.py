"""Mini-batches: ``for xb, yb in batches(X, y, batch_size=100, shuffle=True, seed=0)``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def batches(
    X: Any,
    y: Any,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X[i], y[i])`` for consecutive groups of ``batch_size`` rows; every row exactly once per pass.

    With ``shuffle``, the rows are visited in a random order drawn from ``seed`` (an int, a
    Generator to continue, or None for a fresh random order). The last batch may be
    smaller unless ``drop_last``.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"batches: X and y need a first (sample) axis, got shapes {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise ValueError(
            f"batches: X has {len(X)} rows (shape {X.shape}) but y has {len(y)} (shape {y.shape}); "
            f"they must have one target per sample"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batches: batch_size must be a positive integer, got {batch_size!r}")
    count = len(X)
    if shuffle:
        generator = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        order = generator.permutation(count)
    else:
        order = None
    stop = count - count % batch_size if drop_last else count
    for start in range(0, stop, batch_size):
        if order is None:
            yield X[start : start + batch_size], y[start : start + batch_size]
        else:
            chosen = order[start : start + batch_size]
            yield X[chosen], y[chosen]


def batch_count(samples: int, batch_size: int, drop_last: bool = False) -> int:
    """How many batches :func:`batches` yields for ``samples`` rows."""
    return samples // batch_size if drop_last else -(-samples // batch_size)


def random_shift(
    images: Any, max_shift: int = 2, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each image moved by its own random whole number of pixels, up to ``max_shift`` in each direction.

    ``images`` has the rows and columns as its last two axes and one image per entry of the
    first axis: (N, H, W) or (N, C, H, W), every channel of an image moved alike. Pixels
    moved in from outside are zeros; pixels moved out are lost. A cheap data augmentation
    for digits: a network that has seen shifted copies no longer needs the digit centred.
    Returns the moved images (a new array, same shape and dtype) and the offsets
    ``(N, 2)`` drawn for each: (down, right), each in ``[-max_shift, max_shift]``.
    """
    images = np.asarray(images)
    if images.ndim < 3:
        raise ValueError(f"random_shift: images need shape (N, H, W) or (N, C, H, W), got shape {images.shape}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"random_shift: max_shift must be a non-negative integer, got {max_shift!r}")
    generator = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    offsets = generator.integers(-max_shift, max_shift + 1, size=(len(images), 2))
    height, width = images.shape[-2:]
    margin = ((0, 0),) * (images.ndim - 2) + ((max_shift, max_shift),) * 2
    padded = np.pad(images, margin)
    # Output pixel (r, c) of image n reads padded pixel (r - down + margin, c - right + margin).
    rows = max_shift - offsets[:, 0, None] + np.arange(height)
    columns = max_shift - offsets[:, 1, None] + np.arange(width)
    picked = np.moveaxis(padded, 0, -3)  # (..., N, H', W') so the fancy indices select per image
    moved = picked[..., np.arange(len(images))[:, None, None], rows[:, :, None], columns[:, None, :]]
    return np.moveaxis(moved, -3, 0), offsets
