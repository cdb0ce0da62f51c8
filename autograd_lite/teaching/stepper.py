"""The HTML stepper: one self-contained page that steps through a backward trace.

The page's markup, style and script are package data (``static/stepper.html``,
``stepper.css``, ``stepper.js``); this module fills in the graph (SVG) and the numbers of
each step (JSON). The page loads nothing from outside: its Content-Security-Policy
allows only its own inline style and script.
"""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

from autograd_lite.teaching.viz import build_graph, format_array, op_key, svg_text

if TYPE_CHECKING:
    from autograd_lite.teaching.trace import BackwardTrace


@functools.cache
def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text(encoding="utf-8")


def stepper_page(trace: BackwardTrace, title: str, max_ops: int) -> str:
    """The page for ``trace``: the graph drawn once, and per step the gradients to fill in."""
    if not trace.steps:
        raise ValueError("to_html: the trace has no steps (the output is a leaf), so there is nothing to step through")
    # One drawing with every gradient at its final value sizes the boxes; the script then
    # rewrites each box's last line (its gradient) for the step shown.
    final = trace.grads_after(len(trace.steps) - 1)
    svg = svg_text(build_graph(trace.layout, grads=final, grad_placeholders=True, max_ops=max_ops))
    # "<" escaped so no string in the data can close the script element.
    payload = json.dumps(_step_data(trace, svg)).replace("<", "\\u003c")
    return Template(_static("stepper.html")).substitute(
        title=html.escape(title), style=_static("stepper.css"), script=_static("stepper.js"), svg=svg, payload=payload
    )


def _step_data(trace: BackwardTrace, svg: str) -> dict[str, Any]:
    """What the script needs: the seed, the boxes that show a gradient, and each step's text and totals."""
    layout = trace.layout
    drawn = set(re.findall(r'<g id="(t\d+)" class="node"', svg))  # boxes left out of a wide graph need no data
    return {
        "seed": {layout.entry(trace.output).key: format_array(trace.seed)},
        "gradient_keys": [
            entry.key for entry in layout.tensors.values() if entry.tensor.requires_grad and entry.key in drawn
        ],
        "steps": [
            {
                "node": op_key(step.position),
                "op": step.op,
                "text": step.describe(trace.root_label),
                "grads": {
                    layout.entry(item.tensor).key: format_array(item.total)
                    for item in step.sent
                    if layout.entry(item.tensor).key in drawn
                },
            }
            for step in trace.steps
        ],
    }
