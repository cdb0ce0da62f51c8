"""Backpropagation step by step: record what the engine does at each Node of a real backward pass.

``trace_backward(output)`` runs the engine's own backward (``run_backward`` with a step
hook), so every number in the trace is the engine's: the upstream gradient that
arrived at each Node, the gradient it sent to each input, and the running sum when a
tensor receives gradients from several consumers. Printing the trace gives a table;
``frames()`` gives one graph per step; ``to_html()`` writes an interactive stepper.
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, no_grad, run_backward, unbroadcast
from autograd_lite.teaching.stepper import stepper_page
from autograd_lite.teaching.viz import (
    MAX_DRAWN_INPUTS,
    MAX_DRAWN_OPS,
    GraphLayout,
    array_on_one_line,
    build_graph,
    format_array,
    layout_graph,
    svg_text,
)

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
            rows.extend(_table_row(step, item, number == 0, digits) for number, item in enumerate(printed))
            if len(printed) < len(step.sent):
                rows.append(["", f"... {len(step.sent) - len(printed):,} more inputs of this step not shown"])
        label = self.layout.label(self.output)
        title = (
            f"backward pass of {root if label == root else f'{root} = {label}'} "
            f"({format_array(self.output.data, digits)}), {len(self.steps)} step{'s' * (len(self.steps) != 1)}, "
            f"seed d{root}/d{root} = {format_array(self.seed, digits)}"
        )
        return "\n".join([title, "", _render_table(header, rows), *self._gradient_lines(max_gradients)])

    def _gradient_lines(self, max_gradients: int | None) -> list[str]:
        """The lines below the table: each leaf's gradient at full precision."""
        items = list(self.gradients.items())
        if not items:
            return []
        printed = items if max_gradients is None else items[:max_gradients]
        lines = ["", "gradients:", *(f"  d{self.root_label}/d{label} = {_full(value)}" for label, value in printed)]
        if len(printed) < len(items):
            lines.append(f"  ... {len(items) - len(printed):,} more (trace.gradients has them all)")
        return lines

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
        page = stepper_page(self, title or f"Backward pass of {self.root_label}", max_ops)
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
def _expression(node: Node, output_label: str, input_labels: Sequence[str]) -> str:
    """What the step computes, written as the op's notation (``v4 = 1 / v3``) or as a call with its parameters."""
    op = type(node)
    if op.notation and op.notation.count("{") == len(input_labels):
        return f"{output_label} = {op.notation.format(*input_labels)}"
    name = op.function_name()
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
    elementwise = type(node).category == "elementwise" and tensor.shape == output.shape
    if not elementwise and output.size != 1:
        return None
    try:
        with no_grad(), np.errstate(divide="ignore", invalid="ignore"):  # as quiet as backward itself
            values = tuple(t.data for t in node.inputs)
            ones = np.ones(output.shape, dtype=output.dtype)
            local = type(node).vjp(index, ones, output.data, values, node.params)
            return np.array(unbroadcast(np.asarray(local), tensor.shape))
    except Exception:  # a display aid only: never let it break the trace
        return None


class _Recorder:
    """The step hook: turns what the engine reports at each Node into a :class:`BackwardStep`."""

    def __init__(self, layout: GraphLayout) -> None:
        self.layout = layout
        self.position_of = {id(node): position for position, (node, _) in enumerate(layout.ops)}
        self.steps: list[BackwardStep] = []
        self.totals: dict[int, tuple[np.ndarray, int]] = {}  # id(tensor) -> (running sum, contributions)

    def __call__(self, node: Node, result: Tensor, upstream: Any, input_grads: list[Any]) -> None:
        labels = tuple(self.layout.label(t) for t in node.inputs)
        sent = tuple(
            self._sent(node, index, labels[index], result, gradient)
            for index, gradient in enumerate(input_grads)
            if gradient is not None
        )
        output_label = self.layout.label(result)
        self.steps.append(
            BackwardStep(
                index=len(self.steps),
                position=self.position_of[id(node)],
                node=node,
                output=result,
                output_label=output_label,
                input_labels=labels,
                expression=_expression(node, output_label, labels),
                upstream=np.array(upstream),  # the engine's buffers are valid during the call only: copy
                sent=sent,
                inputs=node.inputs,
            )
        )

    def _sent(self, node: Node, index: int, label: str, result: Tensor, gradient: Any) -> GradientSent:
        tensor = node.inputs[index]
        gradient = np.array(gradient)
        previous = self.totals.get(id(tensor))
        # np.asarray: two 0-d arrays add up to a NumPy scalar, and every total is an array
        total = gradient if previous is None else np.asarray(previous[0] + gradient)
        count = 1 if previous is None else previous[1] + 1
        self.totals[id(tensor)] = (total, count)
        return GradientSent(
            input_index=index,
            tensor=tensor,
            label=label,
            formula=type(node).input_formula(index, node.inputs),
            local_derivative=_local_derivative(node, index, result),
            gradient=gradient,
            total=total,
            previous_total=None if previous is None else previous[0],
            contributions=count,
        )


def trace_backward(
    output: Tensor, grad: Any = None, retain_graph: bool = False, root_label: str | None = None
) -> BackwardTrace:
    """Run ``output.backward(grad)`` and record every step of it (``.grad`` of the leaves is filled as usual).

    ``root_label`` names the output in the table (default: its name, else "f").
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"trace_backward: expected an autograd_lite Tensor, got {type(output).__name__}")
    recorder = _Recorder(layout_graph(output, root_label))
    run_backward(output, grad, retain_graph=retain_graph, on_step=recorder)
    if grad is None:
        seed = np.ones(output.shape, dtype=output.dtype)
    else:
        seed = np.array(grad.data if isinstance(grad, Tensor) else grad, dtype=output.dtype)
    return BackwardTrace(output, recorder.layout, seed, recorder.steps, root_label)


# ----- text helpers -------------------------------------------------------------------
def _table_row(step: BackwardStep, item: GradientSent, first: bool, digits: int) -> list[str]:
    """One gradient sent, as a row of the table (the step's own columns on its first row only)."""

    def short(value: Any) -> str:
        return format_array(value, digits, statistics=False)

    local = "-" if item.local_derivative is None else short(item.local_derivative)
    if item.previous_total is None:
        total = short(item.total)
    else:
        total = f"{format_array(item.previous_total, digits)} + {format_array(item.gradient, digits)} = "
        total += format_array(item.total, digits)
    step_columns = [str(step.index + 1), step.op, step.expression, short(step.output.data), short(step.upstream)]
    return [
        *(step_columns if first else [""] * len(step_columns)),
        item.formula,
        local,
        item.label,
        short(item.gradient),
        total,
    ]


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
