"""Backpropagation step by step: record what the engine does at each Node of a real backward pass.

``trace_backward(output)`` runs the engine's own backward (``run_backward`` with a step
hook), so every number in the trace is the engine's: the upstream gradient that
arrived at each Node, the gradient it sent to each input, and the running sum when a
tensor receives gradients from several consumers. Printing the trace gives a table;
``frames()`` gives one graph per step; ``to_html()`` writes an interactive stepper.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, no_grad, run_backward, unbroadcast
from autograd_lite.viz import (
    MAX_DRAWN_INPUTS,
    MAX_DRAWN_OPS,
    GraphLayout,
    array_on_one_line,
    build_graph,
    format_array,
    layout_graph,
    op_key,
    svg_text,
)

#: Ops whose output element i depends only on element i of each input: their local
#: derivative is a number per element (the Jacobian is diagonal).
ELEMENTWISE_OPS = frozenset(
    {
        "Add", "Sub", "Mul", "Div", "Neg", "Power", "Exp", "Log", "Sqrt", "Abs", "Sin", "Cos",
        "Sigmoid", "Tanh", "Relu", "Maximum", "Minimum", "Where", "Clip", "Cast",
    }
)  # fmt: skip

_INFIX = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Power": "**", "Matmul": "@"}
_FUNCTION_NAMES = {
    "LogSumExp": "logsumexp", "LogSoftmax": "log_softmax", "BroadcastTo": "broadcast_to",
    "SoftmaxCrossEntropy": "softmax_cross_entropy", "ScatterAdd": "scatter_add", "Cast": "astype",
}  # fmt: skip
#: Tables longer than this print the first and last steps only (``table(max_steps=None)`` prints all).
MAX_PRINTED_STEPS = 40
#: A step with more inputs than this prints rows for the first ones only (``table(max_inputs=None)``: all).
MAX_PRINTED_INPUTS = MAX_DRAWN_INPUTS
#: More leaves than this: the gradients list below the table shows the first ones only.
MAX_PRINTED_GRADIENTS = 100


@dataclass(frozen=True)
class GradientSent:
    """What one step sent to one input: the engine's gradient and the input's running total."""

    input_index: int
    tensor: Tensor
    label: str
    formula: str  # the local derivative for this input, e.g. "d(a/b)/db = -a/b**2"
    local_derivative: np.ndarray | None  # d output / d input per element (None when not elementwise)
    gradient: np.ndarray  # the vector-Jacobian product the engine computed
    total: np.ndarray  # everything this tensor has received so far, this step included
    previous_total: np.ndarray | None  # the running sum before this step (None on the first)
    contributions: int  # how many gradients the tensor has received so far


@dataclass(frozen=True)
class BackwardStep:
    """One Node of the backward pass: its output, the upstream gradient and what it sent on."""

    index: int  # position in the backward pass, 0 = first step (the last op of the forward pass)
    position: int  # position of the Node on the tape (forward order)
    node: Node
    output: Tensor
    output_label: str
    input_labels: tuple[str, ...]
    expression: str  # e.g. "v4 = 1 / v3"
    upstream: np.ndarray  # d(root)/d(output), as the engine had it when it reached this Node
    sent: tuple[GradientSent, ...]
    inputs: tuple[Tensor, ...] = ()  # the Node's inputs as they were during the traced backward

    @property
    def op(self) -> str:
        """The op's name, e.g. ``"Exp"``."""
        return self.node.op

    @property
    def formula(self) -> str:
        """The op's derivative formula (all inputs)."""
        return self.node.formula

    def describe(self, root_label: str = "f", digits: int = 4, max_inputs: int | None = MAX_DRAWN_INPUTS) -> str:
        """The step's arithmetic in a few lines of plain text (shown beside the graph)."""
        lines = [
            f"{self.op}: {self.expression}",
            f"{self.output_label} = {format_array(self.output.data, digits)}",
            f"upstream d{root_label}/d{self.output_label} = {format_array(self.upstream, digits)}",
        ]
        shown = self.sent if max_inputs is None else self.sent[:max_inputs]
        for item in shown:
            lines.append(f"to {item.label}: {item.formula}")
            if item.local_derivative is not None:
                lines.append(
                    f"  local {format_array(item.local_derivative, digits)} x upstream "
                    f"{format_array(self.upstream, digits)} = {format_array(item.gradient, digits)}"
                )
            else:
                lines.append(f"  sends {format_array(item.gradient, digits)}")
            if item.previous_total is not None:
                lines.append(
                    f"  accumulated: {format_array(item.previous_total, digits)} + "
                    f"{format_array(item.gradient, digits)} = {format_array(item.total, digits)}"
                )
        if len(shown) < len(self.sent):
            lines.append(f"... and {len(self.sent) - len(shown):,} more inputs")
        return "\n".join(lines)


class BackwardTrace:
    """The steps of one real backward pass, in the order the engine ran them.

    ``print(trace)`` shows a table; ``steps`` holds the numbers; ``gradients`` maps each
    leaf that requires grad to the total it received in this pass.
    """

    def __init__(
        self,
        output: Tensor,
        layout: GraphLayout,
        seed: np.ndarray,
        steps: list[BackwardStep],
        root_label: str | None = None,
    ) -> None:
        self.output = output
        self.layout = layout
        self.seed = seed
        self.steps = steps
        self._root_label = root_label

    @property
    def root_label(self) -> str:
        """The name of the output in the table: the one given, else the tensor's name, else "f"."""
        return self._root_label or self.output.name or "f"

    @property
    def gradients(self) -> dict[str, np.ndarray]:
        """Label of each leaf that requires grad -> the gradient it received in this pass."""
        totals: dict[str, np.ndarray] = {}
        for step in self.steps:
            for item in step.sent:
                if item.tensor.node is None:
                    totals[item.label] = item.total
        if self.output.node is None and self.output.requires_grad:
            totals[self.layout.label(self.output)] = self.seed
        return totals

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[BackwardStep]:
        return iter(self.steps)

    def __getitem__(self, index: int) -> BackwardStep:
        return self.steps[index]

    # ----- the table ------------------------------------------------------------------
    def table(
        self,
        digits: int = 4,
        max_steps: int | None = MAX_PRINTED_STEPS,
        max_inputs: int | None = MAX_PRINTED_INPUTS,
        max_gradients: int | None = MAX_PRINTED_GRADIENTS,
    ) -> str:
        """The trace as a text table, one row per gradient sent (the first and last steps when long)."""
        root = self.root_label
        header = [
            "step", "op", "computes", "value", f"upstream d{root}/d(out)", "local derivative", "local",
            "to", "sends", "total",
        ]  # fmt: skip
        rows: list[list[str]] = []
        shown: Sequence[BackwardStep] = self.steps
        skipped = 0
        if max_steps is not None and len(self.steps) > max_steps:
            half = max(max_steps // 2, 1)
            shown = [*self.steps[:half], *self.steps[-half:]]
            skipped = len(self.steps) - 2 * half
        for step in shown:
            if skipped and step.index == len(self.steps) - len(shown) // 2:
                rows.append(["...", f"{skipped:,} steps not shown: trace.table(max_steps=None) prints all"])
            printed = step.sent if max_inputs is None else step.sent[:max_inputs]
            for number, item in enumerate(printed):
                first = number == 0
                local = (
                    "-"
                    if item.local_derivative is None
                    else format_array(item.local_derivative, digits, statistics=False)
                )
                total = format_array(item.total, digits)
                if item.previous_total is not None:
                    total = (
                        f"{format_array(item.previous_total, digits)} + {format_array(item.gradient, digits)} = {total}"
                    )
                rows.append(
                    [
                        str(step.index + 1) if first else "",
                        step.op if first else "",
                        step.expression if first else "",
                        format_array(step.output.data, digits, statistics=False) if first else "",
                        format_array(step.upstream, digits, statistics=False) if first else "",
                        item.formula,
                        local,
                        item.label,
                        format_array(item.gradient, digits, statistics=False),
                        total
                        if item.previous_total is not None
                        else format_array(item.total, digits, statistics=False),
                    ]
                )
            if len(printed) < len(step.sent):
                rows.append(["", f"... {len(step.sent) - len(printed):,} more inputs of this step not shown"])
        label = self.layout.label(self.output)
        title = (
            f"backward pass of {root if label == root else f'{root} = {label}'} "
            f"({format_array(self.output.data, digits)}), {len(self.steps)} step{'s' * (len(self.steps) != 1)}, "
            f"seed d{root}/d{root} = {format_array(self.seed, digits)}"
        )
        lines = [title, "", _render_table(header, rows)]
        gradients = self.gradients
        if gradients:
            lines.append("")
            lines.append("gradients:")
            items = list(gradients.items())
            printed_gradients = items if max_gradients is None else items[:max_gradients]
            for label, value in printed_gradients:
                lines.append(f"  d{root}/d{label} = {_full(value)}")
            if len(printed_gradients) < len(items):
                lines.append(f"  ... {len(items) - len(printed_gradients):,} more (trace.gradients has them all)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<BackwardTrace of {len(self.steps)} steps from {self.root_label}>"

    # ----- pictures -------------------------------------------------------------------
    def grads_after(self, index: int) -> dict[int, np.ndarray]:
        """id(tensor) -> the gradient known once step ``index`` has run (-1: only the seed)."""
        known: dict[int, np.ndarray] = {id(self.output): self.seed}
        for step in self.steps[: index + 1]:
            for item in step.sent:
                known[id(item.tensor)] = item.total
        return known

    def graph(self, show_values: bool = True, rankdir: str = "LR", max_ops: int = MAX_DRAWN_OPS) -> Any:
        """The graph with every gradient this pass computed (intermediates included)."""
        return build_graph(
            self.layout,
            show_values=show_values,
            rankdir=rankdir,
            grads=self.grads_after(len(self.steps) - 1),
            max_ops=max_ops,
        )

    def frame(self, index: int, show_values: bool = True, rankdir: str = "LR", max_ops: int = MAX_DRAWN_OPS) -> Any:
        """The graph at step ``index``: its Node highlighted, gradients filled in so far (-1: the last step)."""
        if not -len(self.steps) <= index < len(self.steps):
            raise IndexError(f"frame: step {index} is out of range for a trace of {len(self.steps)} steps")
        index %= len(self.steps)  # grads_after(-1) means "before any step", so count from the front
        step = self.steps[index]
        return build_graph(
            self.layout,
            show_values=show_values,
            rankdir=rankdir,
            grads=self.grads_after(index),
            grad_placeholders=True,
            current=step.position,
            done=[earlier.position for earlier in self.steps[:index]],
            max_ops=max_ops,
        )

    def frames(self, show_values: bool = True, rankdir: str = "LR") -> Sequence[Any]:
        """One ``graphviz.Digraph`` per step (drawn when accessed, so long traces cost nothing up front)."""
        return _Frames(self, show_values, rankdir)

    def to_html(self, path: str | Path | None = None, title: str | None = None, max_ops: int = MAX_DRAWN_OPS) -> str:
        """One self-contained HTML page stepping through the trace; written to ``path`` if given."""
        page = _stepper_page(self, title or f"Backward pass of {self.root_label}", max_ops)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, str]:
        """Jupyter: the table, and the final graph as SVG when Graphviz is installed."""
        text = self.table()
        body = f"<pre>{html.escape(text)}</pre>"
        try:
            body = svg_text(self.graph()) + body
        except Exception:  # no dot program or no graphviz package: the table alone is still useful
            pass
        bundle = {"text/plain": text, "text/html": body}
        if include is not None:
            bundle = {key: value for key, value in bundle.items() if key in set(include)}
        if exclude is not None:
            bundle = {key: value for key, value in bundle.items() if key not in set(exclude)}
        return bundle


class _Frames(Sequence):
    """The per-step graphs of a trace, built on access."""

    def __init__(self, trace: BackwardTrace, show_values: bool, rankdir: str) -> None:
        self._trace, self._show_values, self._rankdir = trace, show_values, rankdir

    def __len__(self) -> int:
        return len(self._trace.steps)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"frames: step {index} is out of range for a trace of {len(self)} steps")
        return self._trace.frame(index, self._show_values, self._rankdir)


# ----- recording --------------------------------------------------------------------
def _split_formula(formula: str, count: int) -> list[str]:
    """One formula per input when the op's formula lists them separated by ', d...'."""
    parts = re.split(r", (?=d[\s(/])", formula)
    return parts if len(parts) == count else [formula] * count


def _expression(node: Node, output_label: str, input_labels: Sequence[str]) -> str:
    op = node.op
    if op in _INFIX and len(input_labels) == 2:
        return f"{output_label} = {input_labels[0]} {_INFIX[op]} {input_labels[1]}"
    if op == "Neg":
        return f"{output_label} = -{input_labels[0]}"
    if op == "GetItem":
        return f"{output_label} = {input_labels[0]}[...]"
    name = _FUNCTION_NAMES.get(op) or re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()
    arguments = list(input_labels)
    for key, value in node.params.items():
        if value is None or value is False or isinstance(value, np.ndarray):
            continue
        text = repr(value) if not isinstance(value, np.dtype) else str(value)
        arguments.append(f"{key}={text if len(text) <= 20 else text[:17] + '...'}")
    return f"{output_label} = {name}({', '.join(arguments)})"


def _local_derivative(node: Node, index: int, output: Tensor) -> np.ndarray | None:
    """d output / d input ``index`` per element, from the op's own vjp rule applied to ones.

    Only where that is a plain number per element: elementwise ops on an input of the
    output's shape, or any op with a single output value (then it is the full Jacobian).
    """
    tensor = node.inputs[index]
    elementwise = node.op in ELEMENTWISE_OPS and tensor.shape == output.shape
    if not elementwise and output.size != 1:
        return None
    try:
        with no_grad():
            values = tuple(t.data for t in node.inputs)
            ones = np.ones(output.shape, dtype=output.dtype)
            local = type(node).vjp(index, ones, output.data, values, node.params)
            return np.array(unbroadcast(np.asarray(local), tensor.shape))
    except Exception:  # a display aid only: never let it break the trace
        return None


def _input_gradient(node: Node, index: int, output: Tensor, upstream: Any) -> np.ndarray:
    """The gradient input ``index`` gets from ``node``: its vjp, summed to the input's shape and dtype."""
    tensor = node.inputs[index]
    with no_grad():
        values = tuple(t.data for t in node.inputs)
        gradient = np.asarray(type(node).vjp(index, upstream, output.data, values, node.params))
        return np.asarray(unbroadcast(gradient, tensor.shape), dtype=tensor.dtype)


def trace_backward(
    output: Tensor, grad: Any = None, retain_graph: bool = False, root_label: str | None = None
) -> BackwardTrace:
    """Run ``output.backward(grad)`` and record every step of it (``.grad`` of the leaves is filled as usual).

    ``root_label`` names the output in the table (default: its name, else "f").
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"trace_backward: expected an autograd_lite Tensor, got {type(output).__name__}")
    layout = layout_graph(output, root_label)
    position_of = {id(node): position for position, (node, _) in enumerate(layout.ops)}
    steps: list[BackwardStep] = []
    totals: dict[int, tuple[np.ndarray, int]] = {}

    def record(node: Node, result: Tensor, upstream: Any, input_grads: list[Any]) -> None:
        # The engine reuses and adds into its buffers later, so keep copies of what it had now.
        labels = tuple(layout.label(t) for t in node.inputs)
        formulas = _split_formula(node.formula, len(node.inputs))
        repeated = len({id(t) for t in node.inputs}) < len(node.inputs)
        sent = []
        for index, (tensor, gradient) in enumerate(zip(node.inputs, input_grads)):
            if gradient is None:
                continue
            if repeated and sum(t is tensor for t in node.inputs) > 1:
                # When one tensor is several inputs of a Node (a + a), the engine adds the later
                # gradients into the first one's buffer in place before this hook runs, so take
                # each input's share again from the op's own vjp rule, exactly as the engine does.
                gradient = _input_gradient(node, index, result, upstream)
            gradient = np.array(gradient)
            previous = totals.get(id(tensor))
            # np.asarray: two 0-d arrays add up to a NumPy scalar, and every total is an array
            total = gradient if previous is None else np.asarray(previous[0] + gradient)
            count = 1 if previous is None else previous[1] + 1
            totals[id(tensor)] = (total, count)
            sent.append(
                GradientSent(
                    index,
                    tensor,
                    labels[index],
                    formulas[index],
                    _local_derivative(node, index, result),
                    gradient,
                    total,
                    None if previous is None else previous[0],
                    count,
                )
            )
        output_label = layout.label(result)
        steps.append(
            BackwardStep(
                len(steps),
                position_of[id(node)],
                node,
                result,
                output_label,
                labels,
                _expression(node, output_label, labels),
                np.array(upstream),
                tuple(sent),
                node.inputs,
            )
        )

    run_backward(output, grad, retain_graph=retain_graph, on_step=record)
    if grad is None:
        seed = np.ones(output.shape, dtype=output.dtype)
    else:
        seed = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=output.dtype)
    return BackwardTrace(output, layout, seed, steps, root_label)


# ----- text helpers -------------------------------------------------------------------
def _full(value: np.ndarray) -> str:
    """A gradient at full precision (scalars) or NumPy's own printing (arrays)."""
    if value.size == 1:
        return repr(float(value.reshape(()).item()))
    if value.size <= 24:
        return array_on_one_line(value)
    return format_array(value, 8)


def _render_table(header: list[str], rows: list[list[str]], width: int = 40) -> str:
    """Columns padded to their widest cell (cells longer than ``width`` are cut with '...')."""

    def cut(cell: str) -> str:
        return cell if len(cell) <= width else cell[: width - 3] + "..."

    body = [[cut(cell) for cell in row] if len(row) == len(header) else row for row in rows]
    table = [header, *[row for row in body if len(row) == len(header)]]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        if len(row) != len(header):  # a note spanning the table
            lines.append("  ".join(row))
            continue
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


# ----- the HTML stepper -------------------------------------------------------------
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1em; color: #212121; }
header { display: flex; align-items: center; gap: 1em; flex-wrap: wrap; }
h1 { font-size: 1.3em; margin: 0; }
button { font-size: 1em; padding: 0.3em 0.9em; }
main { display: flex; gap: 1.5em; align-items: flex-start; flex-wrap: wrap; margin-top: 1em; }
#graph { overflow: auto; max-width: 100%; border: 1px solid #cfd8dc; }
#step-text { background: #fafafa; border: 1px solid #cfd8dc; padding: 0.8em; min-width: 24em; white-space: pre; }
#graph g.node.current ellipse, #graph g.node.current polygon { fill: #ff8a65; stroke: #c62828; stroke-width: 3px; }
#graph g.node.done ellipse { fill: #d7ccc8; }
#graph g.node.received polygon, #graph g.node.received path { stroke: #2e7d32; stroke-width: 2px; }
#note { color: #6d4c41; }
"""

_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var position = 0;
  function byId(key) { return document.getElementById(key); }
  function gradLine(key) {
    var node = byId(key);
    if (!node) { return null; }
    var texts = node.getElementsByTagName("text");
    return texts.length ? texts[texts.length - 1] : null;
  }
  function show(index) {
    position = Math.max(0, Math.min(data.steps.length - 1, index));
    var known = {};
    var received = {};
    Object.keys(data.seed).forEach(function (key) { known[key] = data.seed[key]; });
    for (var i = 0; i <= position; i++) {
      var grads = data.steps[i].grads;
      Object.keys(grads).forEach(function (key) {
        known[key] = grads[key];
        if (i === position) { received[key] = true; }
      });
    }
    data.gradient_keys.forEach(function (key) {
      var line = gradLine(key);
      if (line) { line.textContent = "grad " + (known[key] === undefined ? "?" : known[key]); }
      var node = byId(key);
      if (node) { node.classList.toggle("received", received[key] === true); }
    });
    data.steps.forEach(function (step, i) {
      var node = byId(step.node);
      if (node) {
        node.classList.toggle("current", i === position);
        node.classList.toggle("done", i < position);
      }
    });
    var step = data.steps[position];
    var shown = byId(step.node);
    if (shown && shown.scrollIntoView) { shown.scrollIntoView({block: "nearest", inline: "center"}); }
    byId("step-text").textContent = step.text;
    byId("counter").textContent = "Step " + (position + 1) + " of " + data.steps.length;
    byId("note").textContent = byId(step.node) ? "" : "(this op is outside the drawn part of the graph)";
    byId("previous").disabled = position === 0;
    byId("next").disabled = position === data.steps.length - 1;
  }
  byId("previous").addEventListener("click", function () { show(position - 1); });
  byId("next").addEventListener("click", function () { show(position + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight" || event.key === "ArrowDown") { show(position + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft" || event.key === "ArrowUp") { show(position - 1); event.preventDefault(); }
  });
  show(0);
})();
"""


def _stepper_page(trace: BackwardTrace, title: str, max_ops: int) -> str:
    if not trace.steps:
        raise ValueError("to_html: the trace has no steps (the output is a leaf), so there is nothing to step through")
    layout = trace.layout
    # One drawing with every gradient at its final value sizes the boxes; the script then
    # rewrites each box's last line (its gradient) for the step shown.
    final = trace.grads_after(len(trace.steps) - 1)
    graph = build_graph(layout, grads=final, grad_placeholders=True, max_ops=max_ops)
    svg = svg_text(graph)
    root_key = layout.entry(trace.output).key
    drawn = set(re.findall(r'<g id="(t\d+)" class="node"', svg))  # boxes left out of a wide graph need no data
    data = {
        "seed": {root_key: format_array(trace.seed)},
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
    # "<" escaped so no string in the data can close the script element.
    payload = json.dumps(data).replace("<", "\\u003c")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<button id="previous" type="button">&larr; Previous</button>
<span id="counter"></span>
<button id="next" type="button">Next &rarr;</button>
<span>(or use the arrow keys)</span>
</header>
<main>
<div id="graph">{svg}</div>
<aside><pre id="step-text"></pre><p id="note"></p></aside>
</main>
<script id="trace-data" type="application/json">{payload}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
