"""Draw the recorded graph with Graphviz: one box per tensor, one ellipse per op.

``draw_graph(output)`` draws what the tape recorded (nothing is recomputed) and returns
a ``graphviz.Digraph``; ``.render()`` / ``.pipe()`` turn it into SVG, PNG or PDF with the
Graphviz ``dot`` program, and ``.source`` / ``.save()`` give the DOT text without it.
The ``graphviz`` Python package is imported only when a graph is drawn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, graph_tensors

#: Graphs with more ops than this are drawn as a window of this many ops plus a summary box.
MAX_DRAWN_OPS = 150
#: Arrays with at most this many elements are printed in full; larger ones as min/mean/max.
SMALL_ARRAY = 6
#: An op with more inputs than this draws the first ones and one "... N more inputs" box.
MAX_DRAWN_INPUTS = 24

INSTALL_GRAPHVIZ = (
    "the Graphviz 'dot' program was not found on PATH; install Graphviz "
    "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz) - the DOT text is still available as graph.source or graph.save('graph.gv')"
)

PARAMETER_STYLE = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#c8e6c9", "penwidth": "2"}
CONSTANT_STYLE = {"shape": "box", "style": "dashed,filled", "fillcolor": "#eeeeee", "color": "#757575"}
INTERMEDIATE_STYLE = {"shape": "box", "style": "filled", "fillcolor": "#e3f2fd"}
OUTPUT_STYLE = {"shape": "box", "style": "filled", "fillcolor": "#fff9c4", "peripheries": "2"}
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#ffe0b2"}
CURRENT_OP_STYLE = {"style": "filled,bold", "fillcolor": "#ff8a65", "color": "#c62828", "penwidth": "3"}
DONE_OP_STYLE = {"fillcolor": "#d7ccc8"}
GROUP_STYLE = {"style": "rounded,dashed", "color": "#5c6bc0", "fontcolor": "#283593", "labeljust": "l"}
#: Text sizes in points: readable when the SVG is shown at its natural size.
FONT_SIZE, EDGE_FONT_SIZE, GROUP_FONT_SIZE = "14", "13", "15"
#: How strongly dot keeps an edge between computed values short and straight (1 for an edge from a leaf).
CHAIN_WEIGHT = "4"


class GraphvizNotInstalledError(RuntimeError):
    """Rendering needs the Graphviz ``dot`` program, which is not installed."""


# ----- formatting values ----------------------------------------------------------
def format_number(value: Any, digits: int = 4) -> str:
    """One number with ``digits`` significant digits (integers and booleans as they are)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = f"{float(value):.{digits}g}"
    return "0" if text == "-0" else text


def array_on_one_line(value: Any, digits: int | None = None) -> str:
    """NumPy's printing of an array, joined onto one line (``digits`` significant digits for floats if given)."""
    array = np.asarray(value)
    formatter: Any = None  # NumPy's formatter dict
    if digits is not None and array.dtype.kind not in "biu":
        formatter = {"float_kind": lambda number: format_number(number, digits)}
    body = np.array2string(array, separator=", ", max_line_width=10_000, formatter=formatter)
    return re.sub(r"\s*\n\s*", " ", body)


def format_array(value: Any, digits: int = 4, small: int = SMALL_ARRAY, statistics: bool = True) -> str:
    """Values on one line: the numbers for small arrays, else the shape and min/mean/max."""
    array = np.asarray(value)
    if array.size == 1:
        return format_number(array.reshape(()).item(), digits)
    if 0 < array.size <= small:
        return array_on_one_line(array, digits)
    shape = "x".join(str(side) for side in array.shape)
    if array.size == 0 or not statistics:
        return f"array {shape}"
    if array.dtype.kind not in "biuf":
        return f"array {shape} {array.dtype}"
    with np.errstate(all="ignore"):  # min/mean/max of inf or nan are themselves a fine summary
        low, mean, high = array.min(), array.mean(dtype=np.float64), array.max()
    return (
        f"array {shape} min {format_number(low, digits)} mean {format_number(mean, digits)} "
        f"max {format_number(high, digits)}"
    )


def format_shape(tensor: Tensor) -> str:
    """``scalar float64`` or ``(2, 3) float32``."""
    shape = "scalar" if tensor.ndim == 0 else str(tensor.shape)
    return f"{shape} {tensor.dtype}"


# ----- the graph as the drawing and the trace see it ------------------------------
@dataclass
class TensorEntry:
    """A tensor of the graph: its label, what kind it is and where it was produced."""

    tensor: Tensor
    label: str
    kind: str  # "parameter" (leaf that requires grad), "constant", "intermediate" or "output"
    key: str  # the DOT node name
    producer: int | None  # position of the producing op on the tape


@dataclass
class GraphLayout:
    """The Nodes of a graph in tape order and every tensor involved, each labelled once."""

    ops: list[tuple[Node, Tensor]]
    tensors: dict[int, TensorEntry] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)  # tensor ids in first-seen order
    # Each Node's inputs as they were when the layout was made: a later backward() swaps
    # intermediates for value-less stand-ins, and the drawing must keep showing the real ones.
    inputs: dict[int, tuple[Tensor, ...]] = field(default_factory=dict)

    def inputs_of(self, node: Node) -> tuple[Tensor, ...]:
        """The input tensors of ``node`` as recorded in this layout."""
        return self.inputs[id(node)]

    def entry(self, tensor: Tensor) -> TensorEntry:
        """The entry of a tensor of this graph."""
        return self.tensors[id(tensor)]

    def label(self, tensor: Tensor) -> str:
        """The short name used for a tensor in drawings and tables."""
        return self.tensors[id(tensor)].label


def layout_graph(output: Tensor, output_label: str | None = None) -> GraphLayout:
    """Label every tensor reachable from ``output``, in tape order (iterative, any depth).

    ``output_label`` names the output when the tensor has no name of its own.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"expected an autograd_lite Tensor, got {type(output).__name__}")
    layout = GraphLayout(ops=list(graph_tensors(output)))
    parameters = constants = 0

    def add(tensor: Tensor, kind: str, producer: int | None, default_label: str) -> None:
        layout.tensors[id(tensor)] = TensorEntry(
            tensor, tensor.name or default_label, kind, f"t{len(layout.order)}", producer
        )
        layout.order.append(id(tensor))

    for position, (node, result) in enumerate(layout.ops):
        layout.inputs[id(node)] = node.inputs
        for tensor in node.inputs:
            if id(tensor) in layout.tensors:
                continue
            if tensor.node is not None:  # produced by a Node the walk did not reach: cannot happen
                raise RuntimeError(f"draw_graph: input of {node.op} has a Node missing from the tape")
            if tensor.requires_grad:
                parameters += 1
                add(tensor, "parameter", None, f"p{parameters}")
            else:
                constants += 1
                default = format_array(tensor.data, digits=6) if tensor.size == 1 else f"c{constants}"
                add(tensor, "constant", None, default)
        add(result, "intermediate", position, f"v{position + 1}")
    if id(output) not in layout.tensors:  # a leaf: a graph of one box
        add(output, "parameter" if output.requires_grad else "constant", None, "output")
    entry = layout.tensors[id(output)]
    if entry.kind == "intermediate":
        entry.kind = "output"
    if output_label and not output.name:
        entry.label = output_label
    _make_labels_unique(layout)
    return layout


def _make_labels_unique(layout: GraphLayout) -> None:
    """Suffix repeated labels (``w``, ``w#2``): tables, traces and gradients are keyed by label.

    Names the user gave are served first, so a default label such as ``v1`` or a constant
    printed as ``inf`` never takes a name away from a tensor that was called that.
    """
    entries = [layout.tensors[key] for key in layout.order]
    used: set[str] = set()
    values: set[str] = set()  # constants labelled by their value: two 1s may both be called 1
    named = [bool(entry.tensor.name) and entry.label == entry.tensor.name for entry in entries]
    in_order = [entry for entry, is_named in zip(entries, named) if is_named]
    in_order += [entry for entry, is_named in zip(entries, named) if not is_named]
    for entry in in_order:
        by_value = entry.kind == "constant" and not entry.tensor.name and entry.tensor.size == 1
        if by_value and entry.label in values:
            continue
        label, copy = entry.label, 1
        while label in used:
            copy += 1
            label = f"{entry.label}#{copy}"
        entry.label = label
        used.add(label)
        if by_value:
            values.add(label)


# ----- drawing --------------------------------------------------------------------
def _escape(text: str) -> str:
    """Make user text safe inside a DOT label that uses \\l line breaks."""
    return " ".join(text.replace("\\", "\\\\").splitlines())  # one line each: the grad line stays last


def tensor_label(
    entry: TensorEntry,
    show_values: bool,
    show_grads: bool,
    grad: Any = None,
    grad_placeholder: bool = False,
    digits: int = 4,
) -> str:
    """The box text of a tensor, one fact per line; the gradient line is always last.

    A large array's line is its summary without the shape, which the line above gives: the box stays narrow.
    """
    tensor = entry.tensor
    lines = [entry.label, format_shape(tensor)]
    if show_values:
        released = tensor.values_released  # backward() let go of it (retain_graph=True keeps it)
        lines.append("value released by backward()" if released else "value " + _box_array(tensor.data, digits))
    if show_grads:
        if grad is not None:
            lines.append("grad " + _box_array(grad, digits))
        elif grad_placeholder:
            lines.append("grad ?")
    return "".join(_escape(line) + "\\l" for line in lines)


def _box_array(value: Any, digits: int) -> str:
    """format_array without the ``array 784x256`` prefix of a summary (the box shows the shape already)."""
    text = format_array(value, digits)
    shape = "x".join(str(side) for side in np.shape(value))
    return text.removeprefix(f"array {shape} ") if text.startswith(f"array {shape} ") else text


def op_key(position: int) -> str:
    """The DOT node name of the op at ``position`` on the tape."""
    return f"n{position}"


@functools.lru_cache(maxsize=1)
def _graph_class() -> type:
    """graphviz.Digraph with rendering errors that say how to install Graphviz (made on first use)."""
    try:
        import graphviz
    except ImportError:  # every drawing (draw_graph, frames, to_html, explain --svg/--html) comes here first
        raise ImportError(
            "drawing graphs needs the graphviz Python package: pip install graphviz "
            "(or pip install 'autograd_lite[viz]'); the DOT text needs it too"
        ) from None

    def with_install_hint(run: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return run(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotInstalledError(INSTALL_GRAPHVIZ) from error

    class DrawnGraph(graphviz.Digraph):
        """A ``graphviz.Digraph``; rendering without Graphviz installed explains how to install it."""

        def render(self, *args: Any, **kwargs: Any) -> Any:
            return with_install_hint(super().render, *args, **kwargs)

        def pipe(self, *args: Any, **kwargs: Any) -> Any:
            return with_install_hint(super().pipe, *args, **kwargs)

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except GraphvizNotInstalledError:  # Jupyter without dot: the DOT text beats a traceback
                return {"text/plain": self.source}

    return DrawnGraph


def _window(count: int, focus: int | None, limit: int) -> range:
    """The positions of the ops to draw: all of them, or ``limit`` around ``focus`` (default: the end)."""
    if count <= limit:
        return range(count)
    if focus is None:
        return range(count - limit, count)
    start = min(max(focus - limit // 2, 0), count - limit)
    return range(start, start + limit)


_TENSOR_STYLES = {
    "parameter": PARAMETER_STYLE,
    "constant": CONSTANT_STYLE,
    "intermediate": INTERMEDIATE_STYLE,
    "output": OUTPUT_STYLE,
}


def build_graph(
    layout: GraphLayout,
    show_values: bool = True,
    show_grads: bool = True,
    rankdir: str = "LR",
    grads: dict[int, Any] | None = None,
    grad_placeholders: bool = False,
    current: int | None = None,
    done: Iterable[int] = (),
    max_ops: int = MAX_DRAWN_OPS,
    digits: int = 4,
    max_inputs: int = MAX_DRAWN_INPUTS,
    groups: Mapping[str, Iterable[Any]] | None = None,
    legend: bool = False,
) -> Any:
    """Draw a laid-out graph; ``grads`` maps id(tensor) to the gradient to show (default: ``.grad``).

    ``groups`` (label -> the Nodes and Tensors of one part, e.g. a layer) draws a box around each
    part, the label on it; ``legend`` adds a box that says what the shapes, colours and edge labels mean.
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if max_ops < 1:
        raise ValueError(f"draw_graph: max_ops must be at least 1, got {max_ops}")
    if max_inputs < 1:
        raise ValueError(f"draw_graph: max_inputs must be at least 1, got {max_inputs}")
    graph = _graph_class()(name="autograd_lite", graph_attr=GRAPH_ATTRIBUTES | {"rankdir": rankdir})
    graph.attr("node", fontname="Helvetica", fontsize=FONT_SIZE)
    graph.attr("edge", color="#546e7a", fontname="Helvetica", fontsize=EDGE_FONT_SIZE)
    window = _window(len(layout.ops), current, max_ops)
    drawing = _Drawing(graph, layout, window, show_values, show_grads, digits, grads, grad_placeholders)
    drawing.group(groups)
    done = set(done)
    for position in drawing.window:
        drawing.op(position, current=position == current, done=position in done, max_inputs=max_inputs)
    if not layout.ops:
        drawing.tensor(next(iter(layout.tensors.values())).tensor)
    drawing.notes_for_ops_left_out()
    boxes = drawing.close_groups()
    if legend:
        add_legend(graph, boxes)
    return graph


GRAPH_ATTRIBUTES = {"fontname": "Helvetica", "nodesep": "0.3", "ranksep": "0.35"}


LEGEND_ROWS = [
    (PARAMETER_STYLE, "parameter: a leaf that requires grad (training updates it)"),
    (CONSTANT_STYLE, "constant or input: no gradient"),
    (INTERMEDIATE_STYLE, "intermediate value"),
    (OUTPUT_STYLE, "output: backward() starts here"),
    (OP_STYLE, "op (ellipse): its name, then what it computes"),
]


def add_legend(graph: Any, boxes: int = 0) -> None:
    """One box that says what each colour, the ellipses, the edge labels and (when ``boxes``) the dashed boxes mean."""
    dashed = ' style="dashed"'
    rows = [
        f'<tr><td bgcolor="{style["fillcolor"]}" width="24"{dashed if "dashed" in style["style"] else ""}></td>'
        f'<td align="left">{text}</td></tr>'
        for style, text in LEGEND_ROWS
    ]
    rows.append('<tr><td>x</td><td align="left">edge label: the input&#39;s name in what the op computes</td></tr>')
    if boxes:
        rows.append('<tr><td border="0">[ ]</td><td align="left">dashed box: a layer and its parameter count</td></tr>')
    table = f'<<table border="0" cellborder="1" cellspacing="3" cellpadding="3">{"".join(rows)}</table>>'
    legend = _graph_class()(name="legend_rank", graph_attr={"rank": "sink"})
    legend.node("legend", label=table, shape="box", style="rounded", color="#9e9e9e", fontsize="12", id="legend")
    graph.subgraph(legend)


class _Drawing:
    """One graph being drawn: each tensor box once, the ops of the window, notes for what is left out."""

    def __init__(
        self,
        graph: Any,
        layout: GraphLayout,
        window: range,
        show_values: bool,
        show_grads: bool,
        digits: int,
        grads: dict[int, Any] | None,
        grad_placeholders: bool,
    ) -> None:
        self.graph, self.layout, self.window = graph, layout, window
        self.show_values, self.show_grads, self.digits = show_values, show_grads, digits
        self.grads, self.grad_placeholders = grads, grad_placeholders
        self.drawn: set[int] = set()
        self.cut_inputs: list[str] = []  # tensors whose producer is outside the window
        self.clusters: list[Any] = []  # one subgraph per group, drawn as a box around its members
        self.member_of: dict[int, int] = {}  # id(Node or Tensor) -> its group's index in clusters

    def group(self, groups: Mapping[str, Iterable[Any]] | None) -> None:
        """Note each group's members (a Node or Tensor in several groups stays in the first)."""
        if groups is None:
            return
        if not isinstance(groups, Mapping):
            raise TypeError(f"draw_graph: groups must map a label to Nodes and Tensors, got {type(groups).__name__}")
        for index, (label, members) in enumerate(groups.items()):
            attributes = {"label": _escape(str(label)), "fontsize": GROUP_FONT_SIZE, **GROUP_STYLE}
            self.clusters.append(_graph_class()(name=f"cluster_{index}", graph_attr=attributes))
            for member in members:
                if not isinstance(member, (Node, Tensor)):
                    kind = type(member).__name__
                    raise TypeError(f"draw_graph: group {label!r} holds a {kind}; give Nodes and Tensors")
                self.member_of.setdefault(id(member), index)
        # A value computed and used inside one group sits in its box; the group's output flows out of it,
        # so the next group's box can sit below this one instead of beside it.
        for node, _ in self.layout.ops:
            group = self.member_of.get(id(node))
            if group is None:
                continue
            for tensor in self.layout.inputs_of(node):
                if tensor.node is not None and self.member_of.get(id(tensor.node)) == group:
                    self.member_of.setdefault(id(tensor), group)

    def place(self, member: Any) -> Any:
        """The (sub)graph a tensor's box or an op's ellipse is drawn in: its group's box, or the drawing."""
        index = self.member_of.get(id(member))
        return self.graph if index is None else self.clusters[index]

    def close_groups(self) -> int:
        """Add the group boxes that hold something drawn (edges stay in the drawing itself); return how many."""
        drawn = [cluster for cluster in self.clusters if cluster.body]
        for cluster in drawn:
            self.graph.subgraph(cluster)
        return len(drawn)

    def tensor(self, tensor: Tensor) -> str:
        """The tensor's box (drawn on first use); returns its key."""
        entry = self.layout.entry(tensor)
        if id(tensor) not in self.drawn:
            self.drawn.add(id(tensor))
            grad = self.grads.get(id(tensor)) if self.grads is not None else tensor.grad
            placeholder = self.grad_placeholders and tensor.requires_grad
            label = tensor_label(entry, self.show_values, self.show_grads, grad, placeholder, self.digits)
            self.place(tensor).node(entry.key, label=label, id=entry.key, **_TENSOR_STYLES[entry.kind])
            if entry.producer is not None and entry.producer not in self.window:
                self.cut_inputs.append(entry.key)
        return entry.key

    def op(self, position: int, current: bool, done: bool, max_inputs: int) -> None:
        """The op's ellipse (its name and how it applies to its inputs, its derivatives as tooltip), edges
        from its inputs labelled with their names in that formula (``x``, ``W``, ``b``), an edge to its result."""
        node, result = self.layout.ops[position]
        key = op_key(position)
        style = {**OP_STYLE, **(CURRENT_OP_STYLE if current else DONE_OP_STYLE if done else {})}
        label = f"{_escape(node.op)}\\n{_escape(type(node).written())}"
        self.place(node).node(key, label=label, id=key, tooltip=_escape(node.formula) or node.op, **style)
        inputs = self.layout.inputs_of(node)
        for index, tensor in enumerate(inputs[:max_inputs]):
            attributes = {"label": argument_name(type(node), index)} if len(inputs) > 1 else {}
            if tensor.node is not None:  # the data's own path: drawn straight, the leaves beside it
                attributes["weight"] = CHAIN_WEIGHT
            if current:
                attributes.update(color="#c62828", penwidth="2")
            self.graph.edge(self.tensor(tensor), key, **attributes)
        if len(inputs) > max_inputs:  # thousands of boxes make dot take minutes and say nothing more
            more = f"{key}_more"
            label = f"... {len(inputs) - max_inputs:,} more inputs not drawn"
            self.graph.node(more, label=label, shape="note", id=more)
            self.graph.edge(more, key, style="dashed")
        self.graph.edge(key, self.tensor(result), weight=CHAIN_WEIGHT)

    def notes_for_ops_left_out(self) -> None:
        """'... N earlier/later ops not drawn' boxes beside a window that does not hold every op."""
        if self.window.start > 0:
            label = f"... {self.window.start:,} earlier ops not drawn"
            self.graph.node("earlier", label=label, shape="note", id="earlier")
            for key in self.cut_inputs:
                self.graph.edge("earlier", key, style="dashed")
        later = len(self.layout.ops) - self.window.stop
        if later > 0:
            self.graph.node("later", label=f"... {later:,} later ops not drawn", shape="note", id="later")
            last_result = self.layout.ops[self.window.stop - 1][1]
            self.graph.edge(self.tensor(last_result), "later", style="dashed")


def argument_name(op: type[Node], index: int) -> str:
    """What the op's formula calls its input ``index``: ``x``, ``W``, ``b`` for linear, ``a_2`` for stack."""
    names = op.arguments
    if names and "{i}" in names[0]:
        return names[0].replace("{i}", str(index)).replace("{", "").replace("}", "")
    return names[index] if index < len(names) else f"input {index}"


def draw_graph(
    output: Tensor,
    show_values: bool = True,
    show_grads: bool = True,
    rankdir: str = "LR",
    max_ops: int = MAX_DRAWN_OPS,
    groups: Mapping[str, Iterable[Any]] | None = None,
    legend: bool = True,
) -> Any:
    """Draw the graph that produced ``output`` as a ``graphviz.Digraph`` (boxes: tensors, ellipses: ops).

    Graphs with more than ``max_ops`` ops are drawn as the last ``max_ops`` ops plus a summary box.
    ``groups`` maps a label to the Nodes and Tensors of one part (``nn.layer_groups`` gives one
    per layer), each drawn in a box with its label; ``legend`` explains the shapes and colours.
    """
    layout = layout_graph(output)
    return build_graph(layout, show_values, show_grads, rankdir, max_ops=max_ops, groups=groups, legend=legend)


def svg_text(graph: Any) -> str:
    """The graph rendered by ``dot`` as an ``<svg>`` element (XML prolog removed)."""
    svg = graph.pipe(format="svg", encoding="utf-8")
    return svg[svg.index("<svg") :]
