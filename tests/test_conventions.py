"""The edge-derivative conventions of docs/conventions.md, one test per row (PyTorch's values).

CONVENTIONS is the table; ``test_the_docs_table_lists_every_tested_row`` keeps docs/conventions.md
and this table the same rows, so a convention cannot be written down without being tested.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

import autograd_lite as ag

inf, nan = np.inf, np.nan


class Convention(NamedTuple):
    name: str  # the row's first cell in docs/conventions.md
    function: Any  # of Tensors
    at: tuple[Any, ...]  # the inputs
    gradients: tuple[Any, ...]  # d function / d each input (the function's output summed)
    value: Any = None  # the expected output, where the row is about it


CONVENTIONS = [
    Convention("relu at 0", ag.relu, (0.0,), (0.0,)),
    Convention("abs at 0", ag.abs, (0.0,), (0.0,)),
    Convention("sqrt at 0", ag.sqrt, (0.0,), (inf,)),
    Convention("log at 0", ag.log, (0.0,), (inf,), -inf),
    Convention("log of a negative number", ag.log, (-1.0,), (-1.0,), nan),
    Convention("maximum, a tie", ag.maximum, (2.0, 2.0), (0.5, 0.5)),
    Convention("minimum, a tie", ag.minimum, (2.0, 2.0), (0.5, 0.5)),
    Convention("maximum with nan", ag.maximum, (nan, 1.0), (1.0, 1.0), nan),
    Convention("minimum with nan", ag.minimum, (1.0, nan), (1.0, 1.0), nan),
    Convention("max over ties", ag.max, (np.array([1.0, 3.0, 3.0]),), (np.array([0.0, 0.5, 0.5]),), 3.0),
    Convention("clip at a number bound", lambda a: ag.clip(a, 0.0, 1.0), (0.0,), (1.0,)),
    Convention("clip at a Tensor bound", ag.clip, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0)),
    Convention("clip above a Tensor bound", ag.clip, (2.0, 0.0, 1.0), (0.0, 0.0, 1.0), 1.0),
    Convention("clip of nan", ag.clip, (nan, 0.0, 1.0), (0.0, 0.0, 0.0), nan),
    Convention("0**b, b > 0", ag.power, (0.0, 2.0), (0.0, 0.0), 0.0),
    Convention("0**b, b = 0", ag.power, (0.0, 0.0), (0.0, 0.0), 1.0),
    Convention("0**b, 0 < b < 1", ag.power, (0.0, 0.5), (inf, 0.0), 0.0),
    Convention("0**b, b < 0", ag.power, (0.0, -1.0), (-inf, -inf), inf),
    Convention("negative base, whole exponent", ag.power, (-2.0, 2.0), (-4.0, nan), 4.0),
    Convention("negative base, fractional exponent", ag.power, (-2.0, 0.5), (nan, nan), nan),
    Convention("second derivative of x**0 at 0", lambda a: ag.grad(lambda x: x**0.0)(a), (0.0,), (0.0,), 0.0),
    Convention("sigmoid at +inf", ag.sigmoid, (inf,), (0.0,), 1.0),
    Convention("tanh at -inf", ag.tanh, (-inf,), (0.0,), -1.0),
    Convention("exp of +inf", ag.exp, (inf,), (inf,), inf),
    Convention("softmax with +inf", ag.softmax, (np.array([inf, 0.0]),), (np.array([nan, nan]),), np.array([nan, nan])),
    Convention("logsumexp of -inf only", ag.logsumexp, (np.array([-inf, -inf]),), (np.array([nan, nan]),), -inf),
    Convention("logsumexp with +inf", ag.logsumexp, (np.array([inf, 0.0]),), (np.array([nan, 0.0]),), inf),
    Convention("a nan input", ag.sin, (nan,), (nan,), nan),
    Convention("relu of nan", ag.relu, (nan,), (1.0,), nan),
    Convention("abs of nan", ag.abs, (nan,), (0.0,), nan),
    Convention("nan**0", ag.power, (nan, 0.0), (0.0, nan), 1.0),
    Convention("max with a nan", ag.max, (np.array([1.0, nan, 3.0]),), (np.array([0.0, 1.0, 0.0]),), nan),
]


@pytest.mark.parametrize("row", CONVENTIONS, ids=[row.name for row in CONVENTIONS])
def test_convention(row: Convention) -> None:
    inputs = [np.asarray(value, dtype=np.float64) for value in row.at]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log(0), inf - inf: the forward warns as NumPy does
        output = row.function(*[ag.Tensor(x) for x in inputs])
        leaves = [ag.Tensor(x, requires_grad=True) for x in inputs]
        total = ag.sum(row.function(*leaves))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # backward is quiet about the limits it takes
        total.backward()
    gradients = [leaf.grad for leaf in leaves]
    for index, (gradient, expected) in enumerate(zip(gradients, row.gradients)):
        np.testing.assert_array_equal(gradient, expected, err_msg=f"{row.name}: d/d input {index}")
    if row.value is not None:
        np.testing.assert_array_equal(output.data, row.value, err_msg=f"{row.name}: value")


def test_the_docs_table_lists_every_tested_row() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "conventions.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| ([^|]+?) \|", page, re.MULTILINE)[1:]  # after the header
    assert documented == [row.name for row in CONVENTIONS]
