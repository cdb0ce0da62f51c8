"""Tensor's rich display in a notebook: name, shape, dtype, every value of a small array, the grad, escaped."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
from autograd_lite import display
from tests.strategies import arrays

CELL = re.compile(r"<td>([^<]*)</td>")


@given(arrays(hnp.array_shapes(min_dims=1, max_dims=2, max_side=8)))  # up to 64 values: GRID_LIMIT
def test_a_small_array_shows_every_value_in_a_grid(values: np.ndarray) -> None:
    shown = ag.Tensor(values)._repr_html_()
    cells = CELL.findall(shown)
    assert len(cells) == values.size
    np.testing.assert_allclose([float(cell) for cell in cells], values.ravel(), rtol=1e-3, atol=1e-300)


def test_the_header_says_name_shape_dtype_and_origin_and_user_text_is_escaped() -> None:
    w = ag.Tensor(np.ones((2, 3), np.float32), requires_grad=True, name="<w>")
    text = w._repr_html_()
    assert "&lt;w&gt;" in text and "<w>" not in text
    assert "2 × 3 float32" in text and "leaf, requires grad" in text
    assert "None (call backward())" in text
    y = (w * w).sum()
    y.backward()
    assert "made by Sum" in y._repr_html_() and "scalar" in y._repr_html_()
    assert CELL.findall(w._repr_html_())[-6:] == ["2"] * 6  # the grad 2w, after the values
    assert "constant" in ag.Tensor([1.0])._repr_html_() and "grad" not in ag.Tensor([1.0])._repr_html_()


def test_a_large_array_is_abbreviated_with_its_summary() -> None:
    text = display.array_html(np.arange(10_000.0).reshape(100, 100))
    assert "..." in text and "min 0 · mean 5000 · max 9999" in text
    assert len(text) < 2_000
    assert CELL.findall(display.array_html(np.array(["<b>", "1"]))) == ["&lt;b&gt;", "1"]
