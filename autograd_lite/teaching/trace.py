"""Backpropagation step by step: record what the engine does at each Node of a real backward pass.

``trace_backward(output)`` runs the engine's own backward (``run_backward`` with a step
hook), so every number in the trace is the engine's: the upstream gradient that
arrived at each Node, the gradient it sent to each input, and the running sum when a
tensor receives gradients from several consumers. Printing the trace gives a table;
``frames()`` gives one graph per step; ``to_html()`` writes an interactive stepper.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, no_grad, run_backward, unbroadcast
from autograd_lite.teaching.notation import local_line, named_rule, plugged_rule, pretty
from autograd_lite.teaching.stepper import inline_page, stepper_page
from autograd_lite.teaching.viz import (
    MAX_DRAWN_INPUTS,
    MAX_DRAWN_OPS,
    GraphLayout,
    array_on_one_line,
    build_graph,
    format_array,
    layout_graph,
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
    named_formula: str = ""  # the rule with the inputs' labels for a/b: "d(1/v3)/dv3 = -1/v3**2"
    plugged: str | None = None  # its right-hand side with the numbers in: "-1/1.368**2" (scalars only)

    @property
    def local_text(self) -> str:
        """The local derivative as one line: named rule, the numbers plugged in, the engine's value."""
        value = None if self.local_derivative is None else format_array(self.local_derivative)
        return local_line(self.named_formula or self.formula, self.plugged, value)


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
        upstream = format_array(self.upstream, digits)
        lines = [
            f"{self.op}: {self.expression}",
            f"{self.output_label} = {format_array(self.output.data, digits)}",
            f"upstream d{root_label}/d{self.output_label} = {upstream}",
        ]
        shown = self.sent if max_inputs is None else self.sent[:max_inputs]
        for item in shown:
            lines.append(f"to {item.label}: local {item.local_text}")
            sent = format_array(item.gradient, digits)
            if item.local_derivative is not None:
                local = format_array(item.local_derivative, digits)
                lines.append(f"  upstream {upstream} × local {local} = sent {sent}")
            else:
                lines.append(f"  sent {sent}")
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

    # ----- the forward pass and the closing summary ----------------------------------------
    def forward_steps(self) -> list[str]:
        """The forward pass op by op, in tape order: ``Exp: v2 = exp(v1) = exp(-1) = 0.3679``."""
        layout = self.layout
        return [
            forward_text(node, layout.label(result), [layout.label(t) for t in inputs], inputs, result)
            for node, result in layout.ops
            for inputs in [layout.inputs_of(node)]
        ]

    def summary(self, digits: int = 4, max_gradients: int | None = MAX_PRINTED_GRADIENTS) -> str:
        """Every leaf's gradient, as the chain rule wrote it: the product of local derivatives along each path.

        ``df/dx = dv4/dv3 · dv3/dv2 · dv2/dv1 · dv1/dx``, then the rules with names, then the numbers,
        then the engine's total. Where the paths are too many or carry arrays, the sum of what
        the leaf received, step by step.
        """
        label = self.layout.label(self.output)
        root = self.root_label
        lines = [
            f"gradients of {root if label == root else f'{root} = {label}'} = {format_array(self.output.data, digits)}:"
        ]
        items = list(self._leaf_receipts().items())
        printed = items if max_gradients is None else items[:max_gradients]
        for leaf_label, (tensor, receipts) in printed:
            lines.extend(self._gradient_story(leaf_label, tensor, receipts, digits))
        if len(printed) < len(items):
            lines.append(f"... {len(items) - len(printed):,} more (trace.gradients has them all)")
        return "\n".join(lines)

    def _leaf_receipts(self) -> dict[str, tuple[Tensor, list[tuple[BackwardStep, GradientSent]]]]:
        receipts: dict[str, tuple[Tensor, list[tuple[BackwardStep, GradientSent]]]] = {}
        for step in self.steps:
            for item in step.sent:
                if item.tensor.node is None:
                    receipts.setdefault(item.label, (item.tensor, []))[1].append((step, item))
        return receipts

    def _gradient_story(
        self, leaf_label: str, tensor: Tensor, receipts: list[tuple[BackwardStep, GradientSent]], digits: int
    ) -> list[str]:
        total = format_array(receipts[-1][1].total, digits)
        name = f"d{self.root_label}/d{leaf_label}"
        paths = _chain_paths(self, tensor)
        if paths is None:  # arrays or too many paths: what arrived, step by step
            parts = [
                f"{format_array(item.gradient, digits)} (step {step.index + 1}, {step.op})" for step, item in receipts
            ]
            return [f"{name} = {' + '.join(parts)}" + (f" = {total}" if len(parts) > 1 else "")]
        seed = "" if np.all(self.seed == 1) else f"{format_array(self.seed, digits)} · "

        def joined(factor: Any) -> str:
            def term(path: list[tuple[BackwardStep, GradientSent]]) -> str:
                texts = [factor(item) if isinstance(factor(item), str) else "" for _, item in path]
                grouped = [_grouped(text) for text in texts] if len(path) > 1 or seed else texts
                return seed + " · ".join(grouped)

            return " + ".join(term(path) for path in paths)

        names = " + ".join(
            seed + " · ".join(f"d{step.output_label}/d{item.label}" for step, item in path) for path in paths
        )
        rules = joined(lambda item: pretty((item.named_formula or item.formula).rpartition(" = ")[2]))
        plugged = joined(
            lambda item: pretty(item.plugged) if item.plugged else format_array(item.local_derivative, digits)
        )
        numbers = joined(lambda item: format_array(item.local_derivative, digits))
        lines = [f"{name} = {names}"]
        for text in dict.fromkeys([rules, plugged, numbers]):  # each distinct line once, in this order
            if text not in (names, total):
                lines.append(f"{' ' * len(name)} = {text}")
        lines[-1] += f" = {total}"
        return lines

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

    def to_html(
        self,
        path: str | Path | None = None,
        title: str | None = None,
        max_ops: int = MAX_DRAWN_OPS,
        mode: str = "reverse",
    ) -> str:
        """One self-contained HTML page stepping through the trace; written to ``path`` if given.

        It shows the forward pass op by op, then the backward pass, then every gradient; its
        mode switch also shows forward mode (one pass per input element) and both side by side.
        ``mode`` is the one it opens in: "reverse", "forward" or "both".
        """
        page = stepper_page(self, title or f"{self.root_label}, step by step", max_ops, mode=mode)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def save_frames(self, folder: str | Path, image_format: str = "png", rankdir: str = "LR") -> list[Path]:
        """One picture per step (``step-01.png``, ...) drawn by Graphviz, for slides; returns the paths."""
        from autograd_lite.teaching.slides import save_frames

        return save_frames(self, folder, image_format, rankdir)

    def save_gif(self, path: str | Path, seconds_per_step: float = 1.5, rankdir: str = "LR") -> Path:
        """An animated GIF of the backward pass (Graphviz draws each step, Pillow assembles them)."""
        from autograd_lite.teaching.slides import save_gif

        return save_gif(self, path, seconds_per_step, rankdir)

    def _repr_html_(self) -> str:
        """Jupyter: the stepper page inline, in an iframe of its own (the table when Graphviz is missing)."""
        try:
            return inline_page(self.to_html())
        except Exception:  # no dot program, no graphviz package, or no steps: the table alone is still useful
            return f"<pre>{html.escape(self.table())}</pre>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, str]:
        """Jupyter: the stepper inline as HTML, the table as text."""
        bundle = {"text/plain": self.table(), "text/html": self._repr_html_()}
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
    return f"{output_label} = {_written(node, input_labels)}"


def _written(node: Node, operands: Sequence[str]) -> str:
    """The op applied to ``operands`` (labels or numbers): ``1 / v3``, ``exp(-1)``, ``sum(v2, axis=0)``."""
    op = type(node)
    if op.notation and op.notation.count("{") == len(operands):
        return op.notation.format(*operands)
    name = op.function_name()
    arguments = list(operands)
    if len(arguments) > MAX_DRAWN_INPUTS:  # sum(stack([10,000 scalars])) is not written out in full
        arguments = [
            *arguments[: MAX_DRAWN_INPUTS - 1],
            f"... {len(arguments) - MAX_DRAWN_INPUTS:,} more",
            arguments[-1],
        ]
    for key, value in node.params.items():
        if value is None or value is False or isinstance(value, np.ndarray):
            continue
        text = repr(value) if not isinstance(value, np.dtype) else str(value)
        arguments.append(f"{key}={text if len(text) <= 20 else text[:17] + '...'}")
    return f"{name}({', '.join(arguments)})"


def forward_text(node: Node, output_label: str, labels: Sequence[str], inputs: Sequence[Tensor], output: Tensor) -> str:
    """One op of the forward pass: what it computes, with the numbers in when they are single numbers.

    ``Exp: v2 = exp(v1) = exp(-1) = 0.3679``; for arrays, the value (or its summary) alone.
    """
    value = format_array(output.data)
    line = f"{node.op}: {_expression(node, output_label, labels)}"
    if 0 < len(inputs) <= MAX_DRAWN_INPUTS and all(t.size == 1 and t.dtype.kind in "biuf" for t in inputs):
        numbers = [format_array(t.data) for t in inputs]
        operands = numbers if not type(node).notation else [f"({n})" if n.startswith("-") else n for n in numbers]
        plugged = _written(node, operands)
        if plugged != value:
            line += f" = {plugged}"
    return f"{line} = {value}"


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
        labels = [self.layout.label(t) for t in node.inputs]
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
            named_formula=named_rule(type(node), index, labels, node.inputs),
            plugged=plugged_rule(type(node), index, [t.data for t in node.inputs], node.params),
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


#: The closing summary writes a gradient as products along paths when there are at most this many.
MAX_SUMMARY_PATHS = 4
#: ... and each path has at most this many factors.
MAX_SUMMARY_FACTORS = 8


def _chain_paths(trace: BackwardTrace, leaf: Tensor) -> list[list[tuple[BackwardStep, GradientSent]]] | None:
    """Every path from the output down to ``leaf`` as its (step, gradient sent) pairs, output first.

    None when a path carries an array or a local derivative that is not one number, or when there
    are more than MAX_SUMMARY_PATHS paths or a path is longer than MAX_SUMMARY_FACTORS.
    """
    received: dict[int, list[tuple[BackwardStep, GradientSent]]] = {}
    for step in trace.steps:
        for item in step.sent:
            received.setdefault(id(item.tensor), []).append((step, item))
    paths: list[list[tuple[BackwardStep, GradientSent]]] = []
    pending: list[tuple[Tensor, list[tuple[BackwardStep, GradientSent]]]] = [(leaf, [])]
    while pending:
        tensor, below = pending.pop()
        if tensor is trace.output:
            paths.append(below)
            if len(paths) > MAX_SUMMARY_PATHS:
                return None
            continue
        for step, item in received.get(id(tensor), []):
            scalar = item.local_derivative is not None and item.local_derivative.size == 1 and step.output.size == 1
            if not scalar or len(below) >= MAX_SUMMARY_FACTORS:
                return None
            pending.append((step.output, [(step, item), *below]))
    return sorted(paths, key=lambda path: [step.index for step, _ in path]) or None


# ----- text helpers -------------------------------------------------------------------
def _grouped(text: str) -> str:
    """A factor of a product in parentheses unless it is one name or one positive number."""
    return text if re.fullmatch(r"\w+(\([^()]*\))?|\d+(\.\d*)?(e[+-]?\d+)?", text) else f"({text})"


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
        item.named_formula or item.formula,
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
    """Columns padded to their widest cell; a cell longer than ``width`` wraps onto more lines (nothing is cut)."""

    def wrapped(cell: str) -> list[str]:
        if len(cell) <= width:
            return [cell]
        return textwrap.wrap(cell, width, break_on_hyphens=False, drop_whitespace=True) or [cell]

    table = [header, *[row for row in rows if len(row) == len(header)]]
    widths = [max(max(len(line) for line in wrapped(row[column])) for row in table) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        if len(row) != len(header):  # a note spanning the table
            lines.append("  ".join(row))
            continue
        cells = [wrapped(cell) for cell in row]
        for depth in range(max(len(cell) for cell in cells)):
            parts = [cell[depth] if depth < len(cell) else "" for cell in cells]
            lines.append("  ".join(part.ljust(w) for part, w in zip(parts, widths)).rstrip())
    return "\n".join(lines)
