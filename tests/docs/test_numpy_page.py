"""docs/numpy.md is what docs/make_numpy_page.py makes from the op table now."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
sys.path.insert(0, str(DOCS))

import make_numpy_page  # noqa: E402 - lives in docs/


def test_the_numpy_page_matches_the_op_table() -> None:
    committed = (DOCS / "numpy.md").read_text(encoding="utf-8")
    made_with = re.search(r"with NumPy ([0-9][0-9a-z.]*)", committed)
    if made_with is None or made_with.group(1) != np.__version__:
        pytest.skip(f"the page was made with another NumPy ({made_with and made_with.group(1)}); NumPy's list differs")
    assert committed == make_numpy_page.page(), "docs/numpy.md is stale: run python docs/make_numpy_page.py"
