"""Rich display in Jupyter: the HTML a notebook shows for a Tensor (name, shape, dtype, values, grad).

``Tensor._repr_html_`` calls :func:`tensor_html`. Small arrays (up to ``GRID_LIMIT`` numbers,
one or two dimensions) are drawn as a grid; larger ones as NumPy's abbreviated print with
their min/mean/max. Everything the user wrote (names) is HTML-escaped. This module reads a
tensor's attributes only, so it imports nothing from the engine.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

#: Arrays of at most this many numbers (1-D or 2-D) are shown as a grid of every value.
GRID_LIMIT = 64
#: Significant digits of the numbers shown.
DIGITS = 4

STYLE = (
    "<style>.ag-tensor{font-family:monospace;font-size:12px;border-collapse:collapse}"
    ".ag-tensor td,.ag-tensor th{padding:1px 6px;text-align:right;border:1px solid #ddd}"
    ".ag-tensor th{text-align:left;background:#f5f5f5;font-weight:normal}</style>"
)


def _number(value: Any) -> str:
    """One number, ``DIGITS`` significant digits for floats."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return f"{complex(value):.{DIGITS}g}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{DIGITS}g}"
    return str(value)  # anything else NumPy holds (strings, objects) as it prints


def array_html(value: Any) -> str:
    """A small 1-D/2-D array as a grid of its values, anything else as an abbreviated print and summary."""
    array = np.asarray(value)
    if array.ndim == 0:
        return html.escape(_number(array.item()))
    if array.ndim <= 2 and 0 < array.size <= GRID_LIMIT:
        rows = array.reshape(1, -1) if array.ndim == 1 else array
        body = "".join("<tr>" + "".join(f"<td>{html.escape(_number(v))}</td>" for v in row) + "</tr>" for row in rows)
        return f'<table class="ag-tensor">{body}</table>'
    text = np.array2string(array, threshold=GRID_LIMIT, edgeitems=3, precision=DIGITS, separator=", ")
    summary = ""
    if array.size and array.dtype.kind in "biuf":
        with np.errstate(all="ignore"):  # min/mean/max of inf or nan are themselves a fine summary
            low, mean, high = array.min(), array.mean(dtype=np.float64), array.max()
        summary = f"<br>min {_number(low)} · mean {_number(mean)} · max {_number(high)}"
    return f"<pre style='margin:0'>{html.escape(text)}</pre>{summary}"


def tensor_html(tensor: Any) -> str:
    """The HTML of a Tensor: a header (name, shape, dtype, how it was made), then its values and grad."""
    shape = "scalar" if tensor.ndim == 0 else " × ".join(str(side) for side in tensor.shape)
    origin = (
        f"made by {tensor.node.op}"
        if tensor.node is not None
        else "leaf, requires grad"
        if tensor.requires_grad
        else "constant"
    )
    title = f"<b>{html.escape(tensor.name)}</b> " if tensor.name else ""
    header = f"{title}Tensor {shape} {tensor.dtype} ({html.escape(origin)})"
    values = "released by backward()" if tensor.values_released else array_html(tensor.data)
    rows = [("value", values)]
    if tensor.requires_grad:
        rows.append(("grad", "None (call backward())" if tensor.grad is None else array_html(tensor.grad)))
    body = "".join(f"<tr><th>{name}</th><td style='text-align:left'>{content}</td></tr>" for name, content in rows)
    return f'{STYLE}<div>{header}</div><table class="ag-tensor">{body}</table>'
