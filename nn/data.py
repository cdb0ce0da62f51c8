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
