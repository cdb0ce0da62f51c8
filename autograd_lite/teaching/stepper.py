"""The HTML stepper: one self-contained page that steps through a trace, forward pass first.

The page's markup, style and script are package data (``static/stepper.html``,
``stepper.css``, ``stepper.js``); this module fills in the graph (drawn twice, left to right
and top to bottom, so the script can show whichever fits the window larger) and the steps
of each mode as JSON:

- reverse: the forward pass op by op (each value computed), the backward pass op by op
  (upstream x local = sent), then every gradient as the chain rule writes it;
- forward: one forward-mode pass per input element (value and tangent op by op), then
  what the passes found;
- both: the two, then the comparison (one backward pass against one forward pass per input).

The page loads nothing from outside: its Content-Security-Policy allows only its own
inline style and script.
"""

from __future__ import annotations

import functools
import html
import json
import re
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_lite.teaching.viz import (
    MAX_DRAWN_INPUTS,
    MAX_DRAWN_OPS,
    build_graph,
    format_array,
    format_number,
    op_key,
    svg_text,
)

if TYPE_CHECKING:
    from autograd_lite.teaching.forward_mode import ForwardTrace
    from autograd_lite.teaching.trace import BackwardTrace

#: Arrays with at most this many elements (1-D or 2-D) are drawn as heat-map grids beside the step's text.
MAX_GRID_ELEMENTS = 64
MODES = ("reverse", "forward", "both")
#: The forward-mode passes on a page hold at most about this many steps in all (at least one pass).
MAX_PAGE_FORWARD_STEPS = 2_000
#: ... and keep at most about this many numbers while the page is made (at least one pass).
MAX_PAGE_FORWARD_NUMBERS = 3_000_000


@functools.cache
def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static").joinpath(name).read_text(encoding="utf-8")


def stepper_page(
    trace: BackwardTrace,
    title: str,
    max_ops: int = MAX_DRAWN_OPS,
    forward: list[ForwardTrace] | None = None,
    mode: str = "reverse",
) -> str:
    """The page for ``trace``; ``forward`` are the forward-mode passes to show (default: one per input element)."""
    if not trace.steps:
        raise ValueError("to_html: the trace has no steps (the output is a leaf), so there is nothing to step through")
    if mode not in MODES:
        raise ValueError(f"to_html: mode must be one of {', '.join(MODES)}, got {mode!r}")
    # One drawing with every gradient at its final value sizes the boxes; the script then
    # rewrites each box's value and gradient lines for the step shown.
    final = trace.grads_after(len(trace.steps) - 1)
    drawings = {
        rankdir: svg_text(
            build_graph(trace.layout, rankdir=rankdir, grads=final, grad_placeholders=True, max_ops=max_ops)
        )
        for rankdir in ("LR", "TB")
    }
    drawn = set(
        re.findall(r'<g id="(t\d+)" class="node"', drawings["LR"])
    )  # boxes left out of a wide graph need no data
    data = _page_data(trace, drawn, forward, mode)
    # "<" escaped so no string in the data can close the script element.
    payload = json.dumps(data, allow_nan=False).replace("<", "\\u003c")
    return Template(_static("stepper.html")).substitute(
        title=html.escape(title),
        style=_static("stepper.css"),
        script=_static("stepper.js"),
        svg_wide=_scalable(drawings["LR"], "graph-wide", ""),
        svg_tall=_scalable(drawings["TB"], "graph-tall", "tb-"),
        payload=payload,
    )


def _scalable(svg: str, element_id: str, prefix: str) -> str:
    """The drawing without its fixed size (its viewBox scales it to the box), ids prefixed to stay unique."""
    head, _, rest = svg.partition(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head = head.replace("<svg", f'<svg id="{element_id}" preserveAspectRatio="xMidYMid meet"', 1)
    if prefix:
        rest = re.sub(r'\sid="([^"]*)"', lambda match: f' id="{prefix}{match.group(1)}"', rest)
    return f"{head}>{rest}"


def inline_page(page: str, height: int = 640) -> str:
    """The page in an iframe (its own document, script and style), for Jupyter's ``_repr_html_``."""
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
        f'style="width: 100%; height: {height}px; border: 1px solid #cfd8dc;" '
        'title="autograd_lite stepper"></iframe>'
    )


# ----- the steps of each mode ---------------------------------------------------------------
def _value_line(array: Any) -> str:
    return "value " + format_array(array)


def _grid(caption: str, value: Any) -> dict[str, Any] | None:
    """A small 1-D or 2-D array as a heat-map grid: the numbers as text and each scaled to [-1, 1] for its colour."""
    array = np.asarray(value)
    if not 1 < array.size <= MAX_GRID_ELEMENTS or array.ndim > 2 or array.dtype.kind not in "biuf":
        return None
    rows = array.reshape(1, -1) if array.ndim == 1 else array
    numbers = rows.astype(np.float64)
    finite = numbers[np.isfinite(numbers)]
    largest = float(np.abs(finite).max()) if finite.size else 0.0
    return {
        "caption": caption,
        "text": [[format_number(item, 6) for item in row] for row in rows.tolist()],
        "scale": [
            [
                float(item / largest) if largest and np.isfinite(item) else (0.0 if np.isfinite(item) else None)
                for item in row
            ]
            for row in numbers
        ],
        "vector": array.ndim == 1,
    }


def _grids(*items: tuple[str, Any]) -> list[dict[str, Any]]:
    return [grid for caption, value in items if (grid := _grid(caption, value)) is not None]


def _page_data(trace: BackwardTrace, drawn: set[str], forward: list[ForwardTrace] | None, mode: str) -> dict[str, Any]:
    reverse = _forward_values(trace, drawn) + _backward_steps(trace, drawn) + [_summary_step(trace)]
    passes, note, count = _forward_passes(trace, forward)
    forward_steps = [
        step for number, one in enumerate(passes) for step in _tangent_steps(trace, one, drawn, number, len(passes))
    ]
    modes: dict[str, list[dict[str, Any]]] = {"reverse": reverse}
    if passes:
        forward_steps.append(_forward_summary(trace, passes, count))
        modes["forward"] = forward_steps
        modes["both"] = reverse[:-1] + forward_steps[:-1] + [_comparison(trace, passes, count)]
    return {"modes": modes, "mode": mode if mode in modes else "reverse", "forward_note": note}


def _forward_passes(trace: BackwardTrace, forward: list[ForwardTrace] | None) -> tuple[list[ForwardTrace], str, int]:
    from autograd_lite.teaching.forward_mode import MAX_FORWARD_PASSES, basis_passes, numbers_per_pass

    if forward is not None:
        return forward, "", len(forward)
    # a long or wide graph gets fewer passes on its page: each pass is one step per op, and keeps its numbers
    by_steps = MAX_PAGE_FORWARD_STEPS // max(len(trace.layout.ops), 1)
    by_numbers = MAX_PAGE_FORWARD_NUMBERS // max(numbers_per_pass(trace.layout), 1)
    limit = max(1, min(MAX_FORWARD_PASSES, by_steps, by_numbers))
    try:
        passes, count = basis_passes(trace, limit)
    except NotImplementedError as error:  # an op without a forward rule: the page keeps reverse mode
        return [], f"forward mode is not available: {error}", 0
    note = f"showing the first {len(passes)} of {count:,} forward passes" if count > len(passes) else ""
    return passes, note, count


def _base(trace: BackwardTrace, drawn: set[str], values_known: bool, grad: Any) -> dict[str, list[str | None]]:
    """Every drawn box's value and gradient line at the start of a phase."""
    base: dict[str, list[str | None]] = {}
    for entry in trace.layout.tensors.values():
        if entry.key not in drawn:
            continue
        known = values_known or entry.producer is None
        value = _value_line(entry.tensor.data) if known else "value ?"
        base[entry.key] = [value, grad(entry) if entry.tensor.requires_grad else None]
    return base


def _forward_values(trace: BackwardTrace, drawn: set[str]) -> list[dict[str, Any]]:
    layout = trace.layout
    texts = trace.forward_steps()
    steps = []
    for position, ((node, result), text) in enumerate(zip(layout.ops, texts)):
        key = layout.entry(result).key
        step = {
            "phase": f"Forward pass: op {position + 1} of {len(layout.ops)}",
            "node": op_key(position),
            "text": text,
            "set": {key: [_value_line(result.data), None]} if key in drawn else {},
            "received": [key] if key in drawn else [],
            "grids": _grids(  # what the op computed from, then what it computed
                *(
                    (f"{layout.label(t)} (value)", t.data)
                    for t in list(dict.fromkeys(layout.inputs_of(node)))[:MAX_DRAWN_INPUTS]
                ),
                (f"{layout.label(result)} (value)", result.data),
            ),
        }
        if position == 0:
            step["base"] = _base(trace, drawn, False, lambda entry: "grad ?")
        steps.append(step)
    return steps


def _backward_steps(trace: BackwardTrace, drawn: set[str]) -> list[dict[str, Any]]:
    layout = trace.layout
    seed_key = layout.entry(trace.output).key
    steps = []
    for step in trace.steps:
        keys = {layout.entry(item.tensor).key: item for item in step.sent}
        page_step = {
            "phase": f"Backward pass: step {step.index + 1} of {len(trace.steps)}",
            "node": op_key(step.position),
            "text": step.describe(trace.root_label),
            "set": {key: [None, "grad " + format_array(item.total)] for key, item in keys.items() if key in drawn},
            "received": [key for key in keys if key in drawn],
            "grids": _grids(
                (f"upstream d{trace.root_label}/d{step.output_label}", step.upstream),
                *((f"sent to {item.label}", item.gradient) for item in step.sent),
            ),
        }
        if step.index == 0:
            base = _base(trace, drawn, True, lambda entry: "grad ?")
            if seed_key in base:
                base[seed_key][1] = "grad " + format_array(trace.seed)
            page_step["base"] = base
        steps.append(page_step)
    return steps


def _summary_step(trace: BackwardTrace) -> dict[str, Any]:
    grids = _grids(*((f"d{trace.root_label}/d{label}", value) for label, value in trace.gradients.items()))
    return _text_step("Summary: every gradient", trace.summary(), grids)


def _tangent_steps(
    trace: BackwardTrace, one: ForwardTrace, drawn: set[str], number: int, count: int
) -> list[dict[str, Any]]:
    """One forward-mode pass: each op's value and tangent (the boxes' last line shows the tangent)."""
    layout = trace.layout
    by_label = {entry.label: entry for entry in layout.tensors.values()}
    steps = []
    for step in one.steps:
        result = layout.ops[step.index][1]
        key = layout.entry(result).key
        tangent = "tangent 0" if step.tangent is None else "tangent " + format_array(step.tangent)
        page_step = {
            "phase": f"Forward mode, pass {number + 1} of {count} (along {one.direction or 'the tangent'}): "
            f"op {step.index + 1} of {len(layout.ops)}",
            "node": op_key(step.index),
            "text": step.describe(one.direction),
            "set": {key: [_value_line(result.data), tangent if result.requires_grad else None]} if key in drawn else {},
            "received": [key] if key in drawn and step.tangent is not None else [],
            "grids": _grids((f"tangent of {step.output_label}", step.tangent) if step.tangent is not None else ("", 0)),
        }
        if step.index == 0:
            base = _base(trace, drawn, False, lambda entry: "tangent 0" if entry.producer is None else "tangent ?")
            for label, seed in one.seeds.items():
                key_of_seed = by_label[label].key if label in by_label else None
                if key_of_seed in base:
                    base[key_of_seed][1] = "tangent " + format_array(seed)
            page_step["base"] = base
        steps.append(page_step)
    return steps


def _forward_summary(trace: BackwardTrace, passes: list[ForwardTrace], count: int) -> dict[str, Any]:
    from autograd_lite.teaching.forward_mode import forward_mode_summary

    return _text_step("Forward mode: what the passes found", forward_mode_summary(trace.root_label, passes, count))


def _comparison(trace: BackwardTrace, passes: list[ForwardTrace], count: int) -> dict[str, Any]:
    from autograd_lite.teaching.forward_mode import compare_modes

    return _text_step("Both modes compared", compare_modes(trace, passes, count))


def _text_step(phase: str, text: str, grids: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A step that highlights no op: a summary in words and numbers."""
    return {"phase": phase, "node": None, "text": text, "set": {}, "received": [], "grids": grids or []}
