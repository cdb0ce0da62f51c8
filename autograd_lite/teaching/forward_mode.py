"""Forward mode step by step: each op's value and its tangent, in the order the forward pass ran.

``trace_forward(f, x, tangent)`` records ``f`` on fresh leaves and pushes ``tangent`` through
the tape op by op with each op's own forward rule (``Node.tangent``, the rule
``ag.jvp`` and ``push_tangents`` use), keeping what every op received and produced; the
output's tangent is checked against ``push_tangents`` on the same graph. One pass gives
the derivative along ONE direction: a scalar function of n inputs needs n forward passes
for its gradient, where reverse mode needs one backward pass.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite.engine import Tensor, no_grad, push_tangents
from autograd_lite.teaching.notation import local_line, named_rule, plugged_rule
from autograd_lite.teaching.trace import BackwardTrace, forward_text, trace_backward
from autograd_lite.teaching.viz import GraphLayout, format_array, layout_graph

#: A trace's page and ``explain --mode forward`` run one forward pass per input element, at most this many.
MAX_FORWARD_PASSES = 16


@dataclass(frozen=True)
class TangentPart:
    """What one input's tangent contributed to an op's output tangent."""

    label: str
    local_text: str  # the local derivative as a line: named rule, numbers plugged in, value ("" if not per element)
    local_derivative: np.ndarray | None
    input_tangent: np.ndarray
    contribution: np.ndarray


@dataclass(frozen=True)
class TangentStep:
    """One op of a forward-mode pass: its value and the tangent it pushed on."""

    index: int  # position on the tape (forward order)
    op: str
    output_label: str
    value_text: str  # "Exp: v2 = exp(v1) = exp(-1) = 0.3679"
    tangent: np.ndarray | None  # None: the output does not depend on the direction
    parts: tuple[TangentPart, ...]

    def describe(self, direction: str | None, digits: int = 4) -> str:
        """The op's value, then its tangent: local derivative x the input's tangent, summed over inputs."""
        name = _tangent_name(self.output_label, direction)
        lines = [self.value_text]
        if self.tangent is None:
            return "\n".join([*lines, f"{name} = 0 (does not depend on {direction or 'the direction'})"])
        for part in self.parts:
            incoming = format_array(part.input_tangent, digits)
            contribution = format_array(part.contribution, digits)
            lines.append(f"from {part.label}: local {part.local_text}" if part.local_text else f"from {part.label}:")
            if part.local_derivative is not None:
                local = format_array(part.local_derivative, digits)
                lines.append(f"  local {local} × {_tangent_name(part.label, direction)} {incoming} = {contribution}")
            else:
                through = f"through {self.op}'s forward rule"
                lines.append(f"  {_tangent_name(part.label, direction)} {incoming} {through} = {contribution}")
        total = format_array(self.tangent, digits)
        if len(self.parts) > 1:  # the inputs' shares add up, as gradients do where paths meet in reverse mode
            total = " + ".join(format_array(part.contribution, digits) for part in self.parts) + f" = {total}"
        lines.append(f"{name} = {total}")
        return "\n".join(lines)


def _tangent_name(label: str, direction: str | None) -> str:
    return f"d{label}/d{direction}" if direction else f"tangent({label})"


class ForwardTrace:
    """One forward-mode pass: each op's value and tangent, in tape order.

    ``tangent`` is the output's tangent (the derivative along the direction given); ``direction``
    names the input when the direction is one input or one element (``x``, ``W[0, 1]``).
    """

    def __init__(
        self,
        output: Tensor,
        layout: GraphLayout,
        seeds: dict[str, np.ndarray],
        steps: list[TangentStep],
        direction: str | None,
        root_label: str | None = None,
    ) -> None:
        self.output, self.layout, self.seeds, self.steps = output, layout, seeds, steps
        self.direction = direction
        self._root_label = root_label
        self._backward: BackwardTrace | None = None

    @property
    def root_label(self) -> str:
        """The output's name in the text: the one given, else the tensor's name, else "f"."""
        return self._root_label or self.output.name or "f"

    @property
    def tangent(self) -> np.ndarray:
        """The output's tangent: d output along the direction (zeros when it does not depend on it)."""
        label = self.layout.label(self.output)
        for step in reversed(self.steps):
            if step.output_label == label:
                return step.tangent if step.tangent is not None else np.zeros(self.output.shape, self.output.dtype)
        if label in self.seeds:  # the output is one of the inputs: its tangent is the one given
            return np.array(self.seeds[label])
        return np.zeros(self.output.shape, self.output.dtype)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[TangentStep]:
        return iter(self.steps)

    def __getitem__(self, index: int) -> TangentStep:
        return self.steps[index]

    def title(self, digits: int = 4) -> str:
        """The first line: the output, the direction and the tangents it starts from."""
        seeds = ", ".join(
            f"{_tangent_name(label, self.direction)} = {format_array(value, digits)}"
            for label, value in self.seeds.items()
        )
        return f"forward mode along {self.direction or 'the tangent given'}: {seeds}"

    def table(self, digits: int = 4) -> str:
        """The pass as text: one block per op, then the output's tangent."""
        blocks = [self.title(digits), ""]
        for step in self.steps:
            blocks.append(f"{step.index + 1}. " + step.describe(self.direction, digits).replace("\n", "\n   "))
        result = _tangent_name(self.root_label, self.direction)
        blocks.extend(["", f"{result} = {format_array(self.tangent, digits)} (one forward pass)"])
        return "\n".join(blocks)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<ForwardTrace of {len(self.steps)} steps along {self.direction or 'a tangent'}>"

    def backward(self) -> BackwardTrace:
        """The reverse pass through the same graph, traced once (it fills ``.grad`` as ``backward()`` does)."""
        if self._backward is None:
            seed = np.ones(self.output.shape, dtype=self.output.dtype)
            self._backward = trace_backward(self.output, seed, retain_graph=True, root_label=self._root_label)
        return self._backward

    def to_html(self, path: str | Path | None = None, title: str | None = None) -> str:
        """The stepper page with this pass in forward mode and the reverse pass of the same graph beside it."""
        from autograd_lite.teaching.stepper import stepper_page

        page = stepper_page(
            self.backward(), title or f"{self.root_label}, step by step", forward=[self], mode="forward"
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        from autograd_lite.teaching.stepper import inline_page

        return inline_page(self.to_html())


def forward_pass(layout: GraphLayout, seeds: dict[int, np.ndarray]) -> list[TangentStep]:
    """Push tangents (id(tensor) -> tangent) through every op of ``layout`` with the ops' own forward rules."""
    known: dict[int, np.ndarray] = dict(seeds)
    steps = []
    with no_grad(), np.errstate(divide="ignore", invalid="ignore"):  # as quiet as push_tangents
        for position, (node, result) in enumerate(layout.ops):
            inputs = layout.inputs_of(node)
            labels = [layout.label(t) for t in inputs]
            tangents = [known.get(id(t)) for t in inputs]
            parts: list[TangentPart] = []
            total = None
            if any(tangent is not None for tangent in tangents):
                total = _as_tangent(type(node).tangent(tangents, result, inputs, node.params), result)
                parts = [
                    _part(node, result, inputs, labels, tangents, index)
                    for index, t in enumerate(tangents)
                    if t is not None
                ]
            if total is not None:
                known[id(result)] = total
            value = forward_text(node, layout.label(result), labels, inputs, result)
            steps.append(TangentStep(position, node.op, layout.label(result), value, total, tuple(parts)))
    return steps


def _as_tangent(value: Any, result: Tensor) -> np.ndarray | None:
    if value is None:
        return None
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    return np.array(np.broadcast_to(array, result.shape))


def _part(
    node: Any, result: Tensor, inputs: Sequence[Tensor], labels: list[str], tangents: list[Any], index: int
) -> TangentPart:
    """Input ``index``'s share of the output tangent: the op's forward rule with only that tangent."""
    alone = [tangent if number == index else None for number, tangent in enumerate(tangents)]
    contribution = _as_tangent(type(node).tangent(alone, result, inputs, node.params), result)
    op = type(node)
    local = None
    tensor = inputs[index]
    if op.category == "elementwise" and tensor.shape == result.shape:
        ones = np.ones(result.shape, dtype=result.dtype)
        local = np.array(np.asarray(op.vjp(index, ones, result.data, tuple(t.data for t in inputs), node.params)))
    text = ""  # ops that are not elementwise: their forward rule is a whole product, not a number per element
    if local is not None:
        plugged = plugged_rule(op, index, [t.data for t in inputs], node.params)
        text = local_line(named_rule(op, index, labels, inputs), plugged, format_array(local))
    zeros = np.zeros(result.shape, dtype=result.dtype)
    return TangentPart(
        labels[index], text, local, np.asarray(tangents[index]), zeros if contribution is None else contribution
    )


def _parameter_names(function: Callable[..., Any], count: int) -> list[str]:
    try:
        names = [
            parameter.name
            for parameter in inspect.signature(function).parameters.values()
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):  # builtins and the like have no signature to read
        names = []
    return names[:count] if len(names) >= count else [f"x{index}" for index in range(count)]


def trace_forward(
    function: Callable[..., Any], x: Any, tangent: Any = None, root_label: str | None = None
) -> ForwardTrace:
    """Forward mode, step by step: ``function(x)`` and its derivative along ``tangent``, op by op.

    ``x`` is one input (a number, array or Tensor) or a tuple of them, ``tangent`` the same
    (default: 1 for a single number). The inputs are named after ``function``'s parameters
    (or their Tensor's name). The result's ``tangent`` equals ``ag.jvp(function, x, tangent)[1]``.
    """
    primals = x if isinstance(x, tuple) else (x,)
    if tangent is None:
        if len(primals) != 1 or np.size(primals[0].data if isinstance(primals[0], Tensor) else primals[0]) != 1:
            raise ValueError("trace_forward: give a tangent (one per input, each of its input's shape)")
        tangent = 1.0
    tangents = tangent if isinstance(tangent, tuple) else (tangent,)
    if len(tangents) != len(primals):
        raise ValueError(
            f"trace_forward: {len(primals)} inputs but {len(tangents)} tangents; give one tangent per input"
        )
    names = _parameter_names(function, len(primals))
    leaves = [
        Tensor(
            primal.data if isinstance(primal, Tensor) else primal,
            requires_grad=True,
            name=getattr(primal, "name", None) or name,
        )
        for primal, name in zip(primals, names)
    ]
    seeds: dict[int, np.ndarray] = {}
    for leaf, given in zip(leaves, tangents):
        array = np.array(given.data if isinstance(given, Tensor) else given, dtype=leaf.dtype)
        if array.shape != leaf.shape:
            raise ValueError(
                f"trace_forward: the tangent of {leaf.name} has shape {array.shape}, the input {leaf.shape}; "
                "they must match"
            )
        seeds[id(leaf)] = array
    output = function(*leaves)
    if not isinstance(output, Tensor):
        raise TypeError(f"trace_forward: the function must return an autograd_lite Tensor, got {type(output).__name__}")
    layout = layout_graph(output, root_label)
    trace = ForwardTrace(
        output, layout, _seed_labels(layout, seeds), forward_pass(layout, seeds), _direction(layout, seeds), root_label
    )
    _check_against_the_engine(trace, output, seeds)
    return trace


def _seed_labels(layout: GraphLayout, seeds: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    return {layout.tensors[key].label: value for key, value in seeds.items() if key in layout.tensors}


def _direction(layout: GraphLayout, seeds: dict[int, np.ndarray]) -> str | None:
    """The input the direction picks out (``x``, ``W[0, 1]``) when it is one input's one element, else None."""
    nonzero = [(key, value) for key, value in seeds.items() if np.any(value != 0)]
    if len(nonzero) != 1 or nonzero[0][0] not in layout.tensors:
        return None
    key, value = nonzero[0]
    label = layout.tensors[key].label
    if value.size == 1:
        return label if value.reshape(()).item() == 1 else None
    flat = np.flatnonzero(value)
    if len(flat) != 1 or value.flat[flat[0]] != 1:
        return None
    return f"{label}[{', '.join(str(int(i)) for i in np.unravel_index(flat[0], value.shape))}]"


def _check_against_the_engine(trace: ForwardTrace, output: Tensor, seeds: dict[int, np.ndarray]) -> None:
    """The recorded tangent must be push_tangents' own (same rules, same order): never show a different number."""
    engine = push_tangents(output, seeds)
    expected = np.zeros(output.shape, output.dtype) if engine is None else np.asarray(getattr(engine, "data", engine))
    if not np.allclose(trace.tangent, expected, rtol=1e-12, atol=0, equal_nan=True):
        raise RuntimeError(
            f"trace_forward: the traced tangent {format_array(trace.tangent)} differs from push_tangents' "
            f"{format_array(expected)}; this is a bug in the trace, please report it"
        )


@dataclass(frozen=True)
class PassResult:
    """What one forward pass found, without its steps: the direction and the output's tangent."""

    direction: str | None
    tangent: np.ndarray


def numbers_per_pass(layout: GraphLayout) -> int:
    """About how many numbers one traced forward pass keeps: per op, its tangent and each input's share and local."""
    return sum(max(result.size, 1) * (1 + 2 * len(layout.inputs_of(node))) for node, result in layout.ops)


def input_elements(trace: BackwardTrace) -> int:
    """How many forward passes the whole gradient needs: one per element of each input that requires grad."""
    return sum(entry.tensor.size for entry in trace.layout.tensors.values() if entry.kind == "parameter")


def each_basis_pass(trace: BackwardTrace) -> Iterator[ForwardTrace]:
    """One forward pass per element of each input that requires grad, made when asked for (tape order).

    They run on the values the backward trace's layout holds, so they work after that backward too.
    """
    layout = trace.layout
    for entry in (layout.tensors[key] for key in layout.order):
        if entry.kind != "parameter":
            continue
        for flat in range(entry.tensor.size):
            seed = np.zeros(entry.tensor.shape, dtype=entry.tensor.dtype)
            seed.flat[flat] = 1
            seeds = {id(entry.tensor): seed}
            steps = forward_pass(layout, seeds)
            yield ForwardTrace(
                trace.output, layout, _seed_labels(layout, seeds), steps, _direction(layout, seeds), trace.root_label
            )


def basis_passes(trace: BackwardTrace, limit: int = MAX_FORWARD_PASSES) -> tuple[list[ForwardTrace], int]:
    """The first ``limit`` passes of :func:`each_basis_pass`, and how many the whole gradient needs."""
    passes: list[ForwardTrace] = []
    for one in each_basis_pass(trace):
        if len(passes) == limit:
            break
        passes.append(one)
    return passes, input_elements(trace)


def forward_mode_summary(root: str, passes: Sequence[ForwardTrace | PassResult], count: int) -> str:
    """What forward mode found: one derivative per pass, one pass per input element."""
    lines = [f"forward mode: {count:,} pass{'es' * (count != 1)} (one per input element), each gives one derivative:"]
    for number, one in enumerate(passes):
        lines.append(f"  pass {number + 1}: d{root}/d{one.direction or 'tangent'} = {format_array(one.tangent)}")
    if count > len(passes):
        lines.append(f"  ... {count - len(passes):,} more passes not shown")
    return "\n".join(lines)


def compare_modes(trace: BackwardTrace, passes: Sequence[ForwardTrace | PassResult], count: int) -> str:
    """Reverse mode's one backward pass beside forward mode's one pass per input element."""
    gradients = trace.gradients
    lines = [
        "reverse mode: 1 backward pass (after the forward pass) gave every gradient:",
        *(f"  d{trace.root_label}/d{label} = {format_array(value)}" for label, value in gradients.items()),
        "",
        forward_mode_summary(trace.root_label, passes, count),
        "",
        "for a scalar loss of many inputs reverse mode wins: one pass instead of one per input;",
        "forward mode wins for few inputs and many outputs (one pass per input gives a whole column of the Jacobian).",
    ]
    return "\n".join(lines)
