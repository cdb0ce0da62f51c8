"""Seeded random tensors: ``ag.random.normal``, ``uniform``, ``randn``.

``rng`` is a seed (int), a ``numpy.random.Generator``, or None (fresh entropy): the same seed
gives the same tensor on every machine, as NumPy's Generator guarantees.

>>> import autograd_lite as ag
>>> w = ag.random.normal((2, 2), scale=0.1, rng=0, requires_grad=True)
>>> w.shape, w.requires_grad
((2, 2), True)
>>> bool((ag.random.randn(3, rng=1).data == ag.random.randn(3, rng=1).data).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.engine import Tensor, tracing

Seed = int | np.random.Generator | None


def _generator(rng: Seed) -> np.random.Generator:
    if tracing():
        raise RuntimeError(
            "ag.random inside a function ag.compile traces: the compiled code would repeat the same draws on every "
            "call; draw the numbers outside and pass them as an argument"
        )
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def normal(
    shape: int | tuple[int, ...], loc: float = 0.0, scale: float = 1.0, rng: Seed = None, dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Draws from N(loc, scale**2)."""
    values = _generator(rng).normal(loc, scale, shape).astype(dtype, copy=False)
    return Tensor(values, requires_grad=requires_grad)


def uniform(
    shape: int | tuple[int, ...], low: float = 0.0, high: float = 1.0, rng: Seed = None, dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Draws from the uniform distribution on [low, high)."""
    values = _generator(rng).uniform(low, high, shape).astype(dtype, copy=False)
    return Tensor(values, requires_grad=requires_grad)


def randn(*shape: int, rng: Seed = None, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """Standard normal draws in the given shape (``randn(2, 3)``), as np.random.randn but seeded."""
    return normal(shape, rng=rng, dtype=dtype, requires_grad=requires_grad)
