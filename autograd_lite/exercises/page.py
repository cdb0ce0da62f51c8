"""The side-by-side page: the engine's backward and the learner's, node by node on the same graph.

Both passes are recorded with the teaching trace (``trace_backward``): for an op exercise the
graph is ``L = sum(g * op(inputs))`` built once with the engine's op and once with the learner's
(so the op's node receives exactly the upstream gradient ``g`` of the failing example); for a
graph exercise it is the exercise's own graph, with the learner's hand-written gradients set
beside the engine's. The first node whose gradients differ is highlighted. The page is one
self-contained file: its own small style and script, nothing loaded from anywhere.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, apply
from autograd_lite.exercises.exercise import Case, Exercise, close
from autograd_lite.exercises.grader import as_gradient, graph_expected, op_setup, run_learner
from autograd_lite.teaching.trace import BackwardStep, trace_backward


def text_of(value: Any, digits: int = 4) -> str:
    """An array on one line (the first numbers of a large one)."""
    array = np.asarray(value, dtype=np.float64)
    text = np.array2string(array, precision=digits, separator=", ", threshold=12, max_line_width=10_000)
    return " ".join(text.split())


@dataclass
class Row:
    """One node of the backward pass, as both sides computed it."""

    node: str  # "n<tape position>", the box's id
    op: str
    expression: str
    inputs: list[int]  # tape positions of the nodes that produced its inputs
    engine: list[tuple[str, str]]  # (what, value): the upstream gradient, then what went to each input
    learner: list[tuple[str, str]]
    same: bool = True
    notes: list[str] = field(default_factory=list)


def guarded(solution: type[Node], errors: list[str]) -> type[Node]:
    """The learner's op for tracing: an error or a wrong shape becomes nan in the graph and a line on the page."""

    def vjp(cls: Any, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        raw, error = run_learner(solution.vjp, index, grad, out, inputs, params)
        value, problem = (None, error) if error is not None else as_gradient(raw)
        like = np.shape(inputs[index])
        if problem is None and value is not None and value.shape != like:
            try:
                value = np.broadcast_to(value, np.broadcast_shapes(value.shape, np.shape(out)))
                value = value.sum(axis=tuple(range(value.ndim - len(like)))).reshape(like) if value.size else value
            except ValueError:
                problem = ValueError(f"returned shape {np.shape(raw)} for an input of shape {like}")
        if problem is not None or value is None:
            errors.append(f"{solution.__name__} vjp for input {index}: {type(problem).__name__}: {problem}")
            return np.full(like, np.nan)
        return value

    return type(solution.__name__, (solution,), {"vjps": (), "vjp": classmethod(vjp)})


def op_traces(solution: type[Node], case: Case) -> tuple[list[BackwardStep], list[BackwardStep], list[str]]:
    """The engine's and the learner's backward through L = sum(g * op(inputs)), with the case's values."""
    setup = op_setup(case, np.float64)
    errors: list[str] = []
    traces = []
    for op in (setup.reference, guarded(solution, errors)):
        leaves = [
            Tensor(x, requires_grad=t.requires_grad, name=setup.reference.arguments[i] if i < 3 else f"x{i}")
            for i, (x, t) in enumerate(zip(setup.inputs, setup.node_inputs))
        ]
        out = apply(op, *leaves, **setup.params)
        out.name = "y"
        traces.append(trace_backward((out * Tensor(setup.upstream, name="g")).sum(), root_label="L").steps)
    return traces[0], traces[1], errors


def sent_pairs(step: BackwardStep) -> list[tuple[str, np.ndarray]]:
    """What a step sent to each of its inputs."""
    return [(f"to {item.label}", item.gradient) for item in step.sent]


def producers(step: BackwardStep, position_of: dict[int, int]) -> list[int]:
    """Tape positions of the nodes that produced the step's inputs."""
    nodes = [tensor.node for tensor in step.node.inputs if tensor.node is not None]
    return [position_of[id(node)] for node in nodes if id(node) in position_of]


def shown(value: np.ndarray, errors: list[str]) -> str:
    """A learner's value; the nan the guard put in place of a rule that failed says so."""
    if errors and np.size(value) and np.all(np.isnan(value)):
        return "none: your rule failed (see below)"
    return text_of(value)


def op_rows(solution: type[Node], case: Case) -> tuple[list[Row], list[str]]:
    """The rows of an op exercise: each node's upstream gradient and what it sent, engine beside learner."""
    engine_steps, learner_steps, errors = op_traces(solution, case)
    position_of = {id(step.node): step.position for step in engine_steps}
    rows = []
    for ours, theirs in zip(engine_steps, learner_steps):
        engine = [("upstream", ours.upstream), *sent_pairs(ours)]
        learner = [("upstream", theirs.upstream), *sent_pairs(theirs)]
        same = len(engine) == len(learner) and all(close(b, a, 1e-6, 1e-9) for (_, a), (_, b) in zip(engine, learner))
        rows.append(
            Row(
                f"n{ours.position}", ours.op, ours.expression, producers(ours, position_of),
                [(what, text_of(value)) for what, value in engine],
                [(what, shown(value, errors)) for what, value in learner], same,
            )
        )  # fmt: skip
    return rows, errors


def graph_rows(exercise: Exercise, solution: Any, case: Case) -> tuple[list[Row], list[str]]:
    """The rows of a graph exercise: the engine's trace, with the learner's gradient of each named value beside it."""
    _, _, upstream, _ = graph_expected(exercise, case, np.float64)
    assert exercise.graph is not None
    tensors = [Tensor(x, requires_grad=True) for x in case.inputs]
    named = exercise.graph(*tensors, **case.constants)
    for name, tensor in named.items():
        tensor.name = "L" if name == "out" else name
    steps = trace_backward(named["out"], grad=upstream).steps
    raw, error = run_learner(solution, upstream, *[x.copy() for x in case.inputs], **case.constants)
    theirs: dict[str, Any] = raw if error is None and isinstance(raw, dict) else {}
    errors = [f"backward raised {type(error).__name__}: {error}"] if error is not None else []
    last_step = {item.label: step.index for step in steps for item in step.sent}  # a value's total is complete there
    position_of = {id(step.node): step.position for step in steps}
    rows = []
    for step in steps:
        pairs = [
            (item.label, item.total)
            for item in step.sent
            if item.label in exercise.graded and last_step[item.label] == step.index
        ]
        engine = [(f"dL/d{label}", text_of(value)) for label, value in pairs]
        learner = [(f"dL/d{label}", "missing" if label not in theirs else text_of(theirs[label])) for label, _ in pairs]
        same = all(
            label in theirs and close(as_gradient(theirs[label])[0], value, 1e-6, 1e-9) for label, value in pairs
        )
        rows.append(
            Row(f"n{step.position}", step.op, step.expression, producers(step, position_of), engine, learner, same)
        )
    return rows, errors


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } .diagnosis { background: #fff4e0; padding: .6em; border-left: 4px solid #e69500; }
svg g.node rect { fill: #eef5ff; stroke: #4a78c2; stroke-width: 1.5; } svg g.node { cursor: pointer; }
svg g.node.differs rect { fill: #fdeaea; stroke: #c77; stroke-dasharray: 4 3; }
svg g.node.diverging rect { fill: #ffd6d6; stroke: #c00; stroke-width: 4; }
svg g.node.selected rect { stroke: #000; } svg path { fill: none; stroke: #888; marker-end: url(#arrow); }
table { border-collapse: collapse; margin-top: 1em; } td, th { border: 1px solid #ccc; padding: .3em .6em;
  font-family: ui-monospace, monospace; font-size: .9em; vertical-align: top; text-align: left; }
tr.diverging { background: #ffd6d6; } tr.differs { background: #fdeaea; } tr.selected { outline: 2px solid #000; }
#detail { white-space: pre-wrap; font-family: ui-monospace, monospace; background: #f6f6f6; padding: .6em; }
"""

SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("data").textContent);
  function show(id) {
    var row = null;
    data.rows.forEach(function (r) { if (r.node === id) { row = r; } });
    if (!row) { return; }
    document.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
    document.getElementById(id).classList.add("selected");
    document.getElementById("row-" + id).classList.add("selected");
    var lines = [row.op + ": " + row.expression, row.status, "", "engine:"];
    row.engine.forEach(function (p) { lines.push("  " + p[0] + " = " + p[1]); });
    lines.push("yours:");
    row.learner.forEach(function (p) { lines.push("  " + p[0] + " = " + p[1]); });
    document.getElementById("detail").textContent = lines.join("\\n");
  }
  document.querySelectorAll("#graph g.node").forEach(function (g) {
    g.addEventListener("click", function () { show(g.id); });
  });
  show(data.first || data.rows[data.rows.length - 1].node);
})();
"""

BOX_WIDTH, BOX_HEIGHT, GAP = 150, 46, 40
STATUS_TEXT = {"same": "same as the engine", "diverging": "FIRST DIVERGING NODE", "differs": "differs (downstream)"}


def statuses(rows: list[Row]) -> tuple[list[str], str | None]:
    """Each row's status, and the id of the first diverging node (None when every node agrees)."""
    first = next((row.node for row in rows if not row.same), None)
    seen_first = False
    result = []
    for row in rows:
        if row.same:
            result.append("same")
        else:
            result.append("differs" if seen_first else "diverging")
            seen_first = True
    return result, first


def svg_of(rows: list[Row], kinds: list[str]) -> str:
    """The graph: one box per node in tape order (left to right), an arrow from each producer to its consumer."""
    ordered = sorted(zip(rows, kinds), key=lambda pair: int(pair[0].node[1:]))
    x_of = {row.node: 10 + i * (BOX_WIDTH + GAP) for i, (row, _) in enumerate(ordered)}
    width = 20 + len(ordered) * (BOX_WIDTH + GAP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{BOX_HEIGHT + 80}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker></defs>',
    ]
    for row, _ in ordered:
        for producer in row.inputs:
            start, end = x_of.get(f"n{producer}"), x_of[row.node]
            if start is not None:
                lift = 0 if end - start <= BOX_WIDTH + GAP else 30
                middle, top = 40 + BOX_HEIGHT // 2, 40 + BOX_HEIGHT // 2 - lift
                parts.append(
                    f'<path d="M{start + BOX_WIDTH},{middle} C{start + BOX_WIDTH + 20},{top} '
                    f'{end - 20},{top} {end},{middle}"/>'
                )
    for row, kind in ordered:
        x = x_of[row.node]
        mark = {"diverging": " (first wrong)", "differs": " (differs)"}.get(kind, "")
        parts.append(
            f'<g id="{row.node}" class="node {kind}"><rect x="{x}" y="40" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" '
            f'rx="6"/><text x="{x + 8}" y="60">{html.escape(row.op)}</text>'
            f'<text x="{x + 8}" y="78" font-size="11">{html.escape(row.node + mark)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def table_of(rows: list[Row], kinds: list[str]) -> str:
    """The rows as an HTML table, backward order, engine beside learner."""
    head = "<tr><th>node</th><th>computes</th><th>engine</th><th>yours</th><th></th></tr>"

    def cell(pairs: list[tuple[str, str]]) -> str:
        return "<br>".join(f"{html.escape(what)} = {html.escape(value)}" for what, value in pairs)

    body = "".join(
        f'<tr id="row-{row.node}" class="{kind}"><td>{row.node} {html.escape(row.op)}</td>'
        f"<td>{html.escape(row.expression)}</td><td>{cell(row.engine)}</td><td>{cell(row.learner)}</td>"
        f"<td>{STATUS_TEXT[kind]}</td></tr>"
        for row, kind in zip(rows, kinds)
    )
    return f"<table>{head}{body}</table>"


def render(title: str, summary: str, rows: list[Row], errors: list[str]) -> str:
    """The whole page, self-contained."""
    kinds, first = statuses(rows)
    payload = {
        "first": first,
        "rows": [
            {"node": row.node, "op": row.op, "expression": row.expression, "status": STATUS_TEXT[kind],
             "engine": row.engine, "learner": row.learner}
            for row, kind in zip(rows, kinds)
        ],
    }  # fmt: skip
    data = json.dumps(payload).replace("<", "\\u003c")
    error_lines = "".join(f"<li>{html.escape(line)}</li>" for line in errors)
    verdict = "every node agrees" if first is None else f"the first node that differs is {first} (highlighted)"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{html.escape(title)}</h1><p class="diagnosis">{html.escape(summary)}</p>'
        f"<p>The engine's backward and yours on the same graph, node by node: {html.escape(verdict)}. "
        "Click a node to see its numbers.</p>"
        f'<div id="graph">{svg_of(rows, kinds)}</div><div id="detail"></div>'
        f"{f'<ul class=errors>{error_lines}</ul>' if errors else ''}{table_of(rows, kinds)}"
        f'<script type="application/json" id="data">{data}</script><script>{SCRIPT}</script></body></html>'
    )


def side_by_side(exercise: Exercise, solution: Any, case: Case, summary: str) -> str:
    """The page for one example of ``exercise`` solved by ``solution`` (not for forward-mode exercises)."""
    if exercise.kind == "jvp":
        raise ValueError("forward-mode exercises have no backward pass to put side by side")
    rows, errors = graph_rows(exercise, solution, case) if exercise.kind == "graph" else op_rows(solution, case)
    return render(f"{exercise.name}: {exercise.title}", summary, rows, errors)
