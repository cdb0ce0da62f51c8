"""Constructors and seeded random tensors: NumPy's values, requires_grad and dtype honoured."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autograd_lite as ag

LIKE = np.arange(6.0).reshape(2, 3)
CONSTRUCTORS = {
    "zeros": (lambda **kw: ag.zeros((2, 3), **kw), np.zeros((2, 3))),
    "ones": (lambda **kw: ag.ones((2, 3), **kw), np.ones((2, 3))),
    "full": (lambda **kw: ag.full((2, 3), 2.5, **kw), np.full((2, 3), 2.5)),
    "zeros_like": (lambda **kw: ag.zeros_like(ag.Tensor(LIKE), **kw), np.zeros_like(LIKE)),
    "ones_like": (lambda **kw: ag.ones_like(LIKE, **kw), np.ones_like(LIKE)),
    "full_like": (lambda **kw: ag.full_like(LIKE, 7.0, **kw), np.full_like(LIKE, 7.0)),
    "empty_like": (lambda **kw: ag.empty_like(LIKE, **kw), np.zeros_like(LIKE)),
    "arange": (lambda **kw: ag.arange(1.0, 4.0, 0.5, **kw), np.arange(1.0, 4.0, 0.5)),
    "linspace": (lambda **kw: ag.linspace(-1, 1, 7, **kw), np.linspace(-1, 1, 7)),
    "eye": (lambda **kw: ag.eye(3, 4, 1, **kw), np.eye(3, 4, 1)),
}


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_constructor_gives_numpys_values_and_records_when_asked(name: str) -> None:
    make, expected = CONSTRUCTORS[name]
    plain = make()
    np.testing.assert_array_equal(plain.data, expected)
    assert not plain.requires_grad
    leaf = make(requires_grad=True)
    (leaf * 3).sum().backward()
    np.testing.assert_array_equal(leaf.grad, np.full(expected.shape, 3.0))
    assert make(dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("make", [lambda: ag.zeros(3, dtype=np.complex128, requires_grad=True)])
def test_a_constructor_that_requires_grad_refuses_complex(make: Any) -> None:
    with pytest.raises(TypeError, match="real floating-point"):
        make()


def test_random_tensors_are_reproducible_by_seed_and_take_their_arguments() -> None:
    a, b = ag.random.normal((3, 2), loc=1.0, scale=0.5, rng=7), ag.random.normal((3, 2), loc=1.0, scale=0.5, rng=7)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.data, np.random.default_rng(7).normal(1.0, 0.5, (3, 2)))
    u = ag.random.uniform(1000, low=-2.0, high=-1.0, rng=0, dtype=np.float32, requires_grad=True)
    assert u.dtype == np.float32 and u.requires_grad and -2.0 <= u.data.min() and u.data.max() < -1.0
    generator = np.random.default_rng(3)
    assert ag.random.randn(2, 3, rng=generator).shape == (2, 3)
