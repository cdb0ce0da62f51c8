"""The family case modules of the op property tests, merged (used by test_ops and test_numpy_routing)."""

from __future__ import annotations

from typing import Any

import op_cases_conv
import op_cases_elementwise
import op_cases_linalg
import op_cases_reductions
import op_cases_shape
from hypothesis import strategies as st
from op_testing import Case

MODULES = (op_cases_elementwise, op_cases_reductions, op_cases_linalg, op_cases_shape, op_cases_conv)
CASES: dict[str, st.SearchStrategy[Case]] = {name: case for module in MODULES for name, case in module.CASES.items()}
SECOND_ORDER: list[str] = [name for module in MODULES for name in module.SECOND_ORDER]
NUMPY_CALLS: dict[str, list[tuple[tuple[Any, ...], Any]]] = {
    name: calls for module in MODULES for name, calls in module.NUMPY_CALLS.items()
}
