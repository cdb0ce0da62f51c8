"""Property-test cases of the convolution and pooling ops (see op_testing.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from op_testing import Case

#: op name -> a strategy drawing a Case (inputs from the op's valid domain).
CASES: dict[str, st.SearchStrategy[Case]] = {}
#: ops smooth enough for the second-order test.
SECOND_ORDER: list[str] = []
#: "np.name" -> [(arrays, call(f, *arrays))] for NumPy functions that need more than arrays.
NUMPY_CALLS: dict[str, list[tuple[tuple[Any, ...], Any]]] = {}
