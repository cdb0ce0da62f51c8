"""Write docs/numpy.md from the op table: python docs/make_numpy_page.py

tests/docs/test_numpy_page.py fails when the committed page differs from what this makes
now (with the NumPy version the page names), so the page cannot go stale.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from autograd_lite import numpy_routing

PAGE = Path(__file__).resolve().parent / "numpy.md"

TEMPLATE = """# NumPy on Tensors: what differentiates

A NumPy function called on a Tensor does one of three things (the rules are in
[the engine page](engine.md#numpy-on-tensors-differentiate-or-refuse-never-drop)): it runs
the differentiable op the op table has for it; or it returns plain arrays because its
result has no gradient by nature (indices, comparisons, rounding, tests, shapes); or,
while a gradient would be lost (a Tensor that requires grad, outside `ag.no_grad()`), it
refuses with a TypeError that says what to do. `autograd-lite numpy` prints the three
lists; `autograd-lite numpy cumsum linalg.eig` answers for the names given. This page is
made from the op table by `python docs/make_numpy_page.py` (with NumPy {version}), and a
test fails when it no longer matches, so it cannot go stale.

Of the {total} NumPy callables that take arrays (`np.*`, `np.linalg.*` and the ufuncs,
without file input/output and settings): {differentiable} differentiate, {plain} return
plain arrays by nature, {refused} refuse while recording.

## The functions that differentiate

Each runs the `ag.` function shown, with NumPy's arguments (axis, keepdims, ...);
"composed of other ops" means it is built from ops of the table rather than being one.

{table}

## What refuses, and why

- **Complex numbers are out of scope**: `np.linalg.eig`, `eigvals`, `real`, `imag`,
  `angle`, ... (use `eigh` for symmetric input).
- **Writing into an argument** (`copyto`, `put`, `place`, `putmask`, `fill_diagonal`,
  `put_along_axis`, `out=`, `ufunc.at`) would change values behind the graph's back.
- Everything else that refuses has no derivative written yet. Until it has, call it on
  `t.detach()` to drop the gradient deliberately, inside `ag.no_grad()`, or write the op
  with `ag.apply` ([custom ops](engine.md#custom-ops)): a Node class with `forward`, one
  vjp per input and a jvp.
"""


def page() -> str:
    """The page's text, made from the op table now."""
    counts = Counter(numpy_routing.classify(f) for _, f in numpy_routing.numpy_callables())
    return TEMPLATE.format(
        version=np.__version__,
        total=sum(counts.values()),
        differentiable=counts["differentiable"],
        plain=counts["non-differentiable"],
        refused=counts["refused while recording"],
        table=numpy_routing.supported_table(),
    )


if __name__ == "__main__":
    PAGE.write_text(page(), encoding="utf-8")
    print(f"wrote {PAGE}")
