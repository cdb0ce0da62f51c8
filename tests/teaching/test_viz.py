"""draw_graph: one box per tensor, one ellipse per op, what the tape recorded, rendering and its errors."""

from __future__ import annotations

import os
import re
import shutil
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as ag
from autograd_lite.teaching import viz
from tests.strategies import arrays, expressions, floats, shapes

NODE_LINE = re.compile(r"^\s*(\w+) \[(.*)\]$", re.MULTILINE)
EDGE_LINE = re.compile(r"^\s*(\w+) -> (\w+)", re.MULTILINE)
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz 'dot' is not installed"
)


def dot_nodes(source: str) -> dict[str, str]:
    """DOT node name -> its attribute text."""
    skipped = ("graph", "node", "edge", "legend")
    return {name: attributes for name, attributes in NODE_LINE.findall(source) if name not in skipped}


def label_of(attributes: str) -> str:
    match = re.search(r'label=("(?:[^"\\]|\\.)*"|\w+)', attributes)
    assert match, attributes
    return match.group(1).strip('"')


def sigmoid_graph() -> tuple[ag.Tensor, ag.Tensor]:
    x = ag.Tensor(1.0, requires_grad=True, name="x")
    return x, 1 / (1 + ag.exp(-x))


def test_sigmoid_has_a_box_per_tensor_and_an_ellipse_per_op_in_data_flow_order() -> None:
    x, y = sigmoid_graph()
    nodes = dot_nodes(ag.draw_graph(y).source)
    ops = {name: label_of(attributes) for name, attributes in nodes.items() if "shape=ellipse" in attributes}
    boxes = {name: label_of(attributes) for name, attributes in nodes.items() if "shape=box" in attributes}
    assert [ops[f"n{i}"].split("\\n")[0] for i in range(4)] == [node.op for node in ag.tape(y)]
    assert [ops[f"n{i}"] for i in range(4)] == ["Neg\\n-a", "Exp\\nexp(a)", "Add\\na+b", "Div\\na/b"]
    # x, -x, exp(-x), the constant 1 of 1 + ..., 1 + exp(-x), the constant 1 of 1 / ..., the output
    assert len(boxes) == 7
    labels = sorted(label.split("\\l")[0] for label in boxes.values())
    assert labels == ["1", "1", "v1", "v2", "v3", "v4", "x"]
    edges = EDGE_LINE.findall(ag.draw_graph(y).source)
    assert len(edges) == 4 + 1 + 1 + 2 + 2  # Neg, Exp: 1 in 1 out; Add, Div: 2 in 1 out
    flow = {(source, target) for source, target in edges}
    assert ("t0", "n0") in flow and ("n3", "t6") in flow  # x feeds Neg; Div produces the output


def test_kinds_of_tensor_look_different_and_grads_appear_once_computed() -> None:
    x, y = sigmoid_graph()
    before = dot_nodes(ag.draw_graph(y).source)
    styles = {label_of(a).split("\\l")[0]: re.sub(r"label=\"[^\"]*\" ", "", a) for a in before.values()}
    assert len({styles["x"], styles["1"], styles["v1"], styles["v4"]}) == 4  # parameter, constant, inner, output
    assert "\\lgrad " not in ag.draw_graph(y).source
    y.backward()
    label = label_of(dot_nodes(ag.draw_graph(y).source)["t0"])
    assert label.split("\\l")[:4] == ["x", "scalar float64", "value 1", f"grad {viz.format_number(x.grad.item())}"]
    bare = ag.draw_graph(y, show_values=False, show_grads=False).source
    assert "\\lvalue " not in bare and "\\lgrad " not in bare and "\\lscalar float64" in bare


@given(expressions(), floats(-2, 2), floats(-2, 2))
def test_random_graphs_draw_every_tape_op_and_every_tensor_once(expression, x_value, y_value) -> None:
    _, function = expression
    env = {"x": ag.Tensor(x_value, requires_grad=True), "y": ag.Tensor(y_value, requires_grad=True)}
    output = function(env)
    if output.node is None:  # the expression was just a variable: one box, no ops
        assert len(dot_nodes(ag.draw_graph(output).source)) == 1
        return
    tape = ag.tape(output)
    tensors = {id(t) for node in tape for t in node.inputs} | {id(result) for _, result in ag.graph_tensors(output)}
    nodes = dot_nodes(ag.draw_graph(output).source)
    ops = [label_of(a) for name, a in sorted(nodes.items(), key=lambda item: int(item[0][1:])) if name[0] == "n"]
    assert ops == [f"{node.op}\\n{type(node).written()}" for node in tape]
    assert sum(name.startswith("t") for name in nodes) == len(tensors)
    edges = EDGE_LINE.findall(ag.draw_graph(output).source)
    assert len(edges) == sum(len(node.inputs) + 1 for node in tape)


def test_names_with_newlines_and_backslashes_stay_on_one_label_line() -> None:
    x = ag.Tensor(2.0, requires_grad=True, name="two\nlines \\ here")
    label = label_of(dot_nodes(ag.draw_graph(ag.exp(x)).source)["t0"])
    assert label.split("\\l")[0] == "two lines \\\\ here"


def test_small_arrays_show_values_large_ones_a_summary() -> None:
    small = ag.Tensor([1.0, 2.5, -3.0], requires_grad=True, name="small")
    large = ag.Tensor(np.arange(1000.0).reshape(10, 100), requires_grad=True, name="large")
    text = ag.draw_graph((small * 2).sum() + large.mean()).source
    assert "value [1, 2.5, -3]" in text
    assert "(10, 100) float64" in text and "value min 0 mean 499.5 max 999" in text


def test_a_10000_op_chain_is_summarised_without_recursion() -> None:
    x = ag.Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = ag.sin(y)
    source = ag.draw_graph(y).source
    nodes = dot_nodes(source)
    assert sum(name.startswith("n") for name in nodes) == viz.MAX_DRAWN_OPS
    assert f"{10_000 - viz.MAX_DRAWN_OPS:,} earlier ops not drawn" in source
    assert "n9999" in nodes and "n0" not in nodes  # the end nearest the output is drawn
    assert sum(name.startswith("n") for name in dot_nodes(ag.draw_graph(y, max_ops=10).source)) == 10


@needs_dot
def test_rendering_gives_valid_svg_with_a_group_per_drawn_node(tmp_path) -> None:
    _, y = sigmoid_graph()
    graph = ag.draw_graph(y)
    svg = graph.pipe(format="svg", encoding="utf-8")
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    groups = {g.get("id") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "node"}
    assert groups == set(dot_nodes(graph.source)) | {"legend"}
    written = graph.render(tmp_path / "sigmoid", format="svg")
    ElementTree.parse(written)  # a well-formed file
    assert graph._repr_mimebundle_()["image/svg+xml"].lstrip().startswith("<?xml")


def test_missing_dot_says_how_to_install_it_and_dot_text_still_saves(tmp_path, monkeypatch) -> None:
    _, y = sigmoid_graph()
    graph = ag.draw_graph(y)
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program anywhere
    with pytest.raises(viz.GraphvizNotInstalledError) as error:
        graph.render(tmp_path / "out", format="svg")
    message = str(error.value)
    assert "apt-get install graphviz" in message and "brew install graphviz" in message and "conda" in message
    with pytest.raises(viz.GraphvizNotInstalledError):
        graph.pipe(format="png")
    saved = graph.save(tmp_path / "graph.gv")
    assert open(saved).read() == graph.source


def test_import_works_without_the_graphviz_package(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes "import graphviz" fail
    viz._graph_class.cache_clear()
    try:
        _, y = sigmoid_graph()
        with pytest.raises(ImportError, match="pip install graphviz"):
            ag.draw_graph(y)
        assert "Neg" in str(ag.trace_backward(y))  # the trace table needs no graphviz
    finally:
        viz._graph_class.cache_clear()


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"output": np.ones(2)}, TypeError, "expected an autograd_lite Tensor"),
        ({"rankdir": "diagonal"}, ValueError, "rankdir"),
        ({"max_ops": 0}, ValueError, "max_ops"),
    ],
)
def test_bad_arguments_are_named(arguments, error, match) -> None:
    _, y = sigmoid_graph()
    arguments = {"output": y, **arguments}
    with pytest.raises(error, match=match):
        ag.draw_graph(**arguments)


@given(st.lists(floats(-1e6, 1e6), min_size=1, max_size=40), st.integers(1, 8))
def test_format_array_shows_values_or_a_summary(values, digits) -> None:
    array = np.array(values)
    text = viz.format_array(array, digits)
    if array.size <= viz.SMALL_ARRAY:
        assert "min" not in text
        shown = [float(part) for part in re.findall(r"-?[\d.]+(?:e[+-]\d+)?", text)]
        assert np.allclose(shown, array, rtol=10.0 ** (1 - digits), atol=0)
    else:
        assert text.startswith(f"array {array.size} min")
        assert viz.format_number(array.max(), digits) in text


def test_drawing_after_backward_with_a_reused_large_intermediate() -> None:
    x = ag.Tensor(np.linspace(0, 1, 1000), requires_grad=True)
    a = ag.exp(x)
    c = (a * a).sum()
    c.backward()
    source = ag.draw_graph(c).source
    assert source.count("value released by backward()") == 2  # exp's output (once, shared) and a*a
    producers = {id(t) for node in ag.tape(c) for t in node.inputs if t.node is not None}
    assert len(producers) == 2


@given(expressions(), st.lists(st.sampled_from(["w", "v1", "p1", "c1", "1", None]), min_size=2, max_size=2))
def test_every_tensor_gets_a_label_of_its_own(expression, names) -> None:
    _, function = expression
    env = {
        "x": ag.Tensor(0.5, requires_grad=True, name=names[0]),
        "y": ag.Tensor(-1.5, requires_grad=True, name=names[1]),
    }
    layout = viz.layout_graph(function(env))
    labels = [
        entry.label for entry in layout.tensors.values() if not (entry.kind == "constant" and entry.tensor.size == 1)
    ]
    assert len(labels) == len(set(labels))
    for tensor in env.values():  # a name the user gave is kept, with #2 when it is the second of that name
        if id(tensor) in layout.tensors and tensor.name:
            assert layout.label(tensor).partition("#")[0] == tensor.name


def test_two_leaves_with_one_name_are_told_apart() -> None:
    first, second = ag.Tensor(2.0, requires_grad=True, name="w"), ag.Tensor(3.0, requires_grad=True, name="w")
    named_like_a_default = ag.exp(first)
    named_like_a_default.name = "v2"
    output = named_like_a_default * second + first
    layout = viz.layout_graph(output)
    assert [layout.label(first), layout.label(second), layout.label(named_like_a_default)] == ["w", "w#2", "v2"]
    assert layout.label(output) == "v3" and sorted(entry.label for entry in layout.tensors.values()) == sorted(
        ["w", "w#2", "v2", "v2#2", "v3"]  # Mul's default v2 yields to the tensor named v2
    )


def test_an_op_with_thousands_of_inputs_draws_a_few_and_counts_the_rest() -> None:
    scalars = [ag.Tensor(float(index), requires_grad=True) for index in range(10_000)]
    source = ag.draw_graph(ag.sum(ag.stack(scalars))).source
    boxes = [name for name in dot_nodes(source) if name.startswith("t")]
    assert len(boxes) == viz.MAX_DRAWN_INPUTS + 2  # the drawn inputs, the stack and the sum
    assert f"{10_000 - viz.MAX_DRAWN_INPUTS:,} more inputs not drawn" in source
    assert len(source) < 20_000
    with pytest.raises(ValueError, match="max_inputs"):
        viz.build_graph(viz.layout_graph(scalars[0] * 2), max_inputs=0)


def test_jupyter_without_dot_shows_the_dot_text(tmp_path, monkeypatch) -> None:
    _, y = sigmoid_graph()
    graph = ag.draw_graph(y)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert graph._repr_mimebundle_() == {"text/plain": graph.source}


@given(shapes.flatmap(lambda shape: arrays(shape, floats(-1e3, 1e3))))
def test_arrays_print_on_one_line_in_numpys_own_notation(array) -> None:
    text = viz.array_on_one_line(array)
    assert "\n" not in text
    assert text.replace(" ", "") == np.array2string(array, separator=",", max_line_width=10_000).replace(
        " ", ""
    ).replace("\n", "")
    rounded = viz.array_on_one_line(array, digits=3)
    assert rounded.count(",") == text.count(",")


# ----- reading the drawing: edge labels, formulas, layer boxes, the legend ---------------------
def test_edges_say_which_input_and_the_op_says_what_it_computes() -> None:
    x = ag.Tensor(np.ones((2, 3)), name="x")
    W = ag.Tensor(np.ones((3, 4)), requires_grad=True, name="W")
    b = ag.Tensor(np.zeros(4), requires_grad=True, name="b")
    source = ag.draw_graph(ag.linear(x, W, b) / 2).source
    nodes = dot_nodes(source)
    keys = {label_of(attributes).split("\\l")[0]: name for name, attributes in nodes.items()}
    labels = dict(re.findall(r"^\s*(\w+) -> n0 \[label=(\w+)", source, re.MULTILINE))
    assert labels == {keys["x"]: "x", keys["W"]: "W", keys["b"]: "b"}  # Linear's arguments, not a/b/c
    assert label_of(nodes["n0"]) == "Linear\\nx@W+b" and label_of(nodes["n1"]) == "Div\\na/b"
    assert re.search(r"-> n1 \[label=a", source) and re.search(r"-> n1 \[label=b", source)


def test_a_variadic_op_numbers_its_inputs() -> None:
    parts = [ag.Tensor(float(i), requires_grad=True) for i in range(3)]
    source = ag.draw_graph(ag.stack(parts).sum()).source
    assert sorted(re.findall(r"-> n0 \[label=(\w+)", source)) == ["a_0", "a_1", "a_2"]


def layered_graph() -> tuple[ag.Tensor, dict[str, list], list[ag.Tensor]]:
    """Two 'layers' by hand: tanh(x @ W1) and then @ W2, summed."""
    x = ag.Tensor(np.ones((2, 3)), name="x")
    W1 = ag.Tensor(np.ones((3, 3)), requires_grad=True, name="W1")
    W2 = ag.Tensor(np.ones((3, 1)), requires_grad=True, name="W2")
    first = ag.tanh(x @ W1)
    second = first @ W2
    output = second.sum()
    groups = {"first: 9 parameters": [W1, *ag.tape(first)], "second: 3 parameters": [W2, *ag.tape(second)[2:]]}
    return output, groups, [x, W1, W2, first, second]


def cluster_members(source: str) -> dict[str, set[str]]:
    """label of each cluster -> the node names declared inside it."""
    clusters = {}
    for body in re.findall(r"subgraph cluster_\d+ \{(.*?)\n\t\}", source, re.DOTALL):
        label = re.search(r'label="([^"]*)"', body).group(1)
        clusters[label] = {name for name, _ in NODE_LINE.findall(body) if name not in ("graph", "node", "edge")}
    return clusters


def test_groups_draw_a_box_per_layer_with_its_ops_parameters_and_inner_values() -> None:
    output, groups, (x, W1, W2, first, second) = layered_graph()
    layout = viz.layout_graph(output)
    source = viz.build_graph(layout, groups=groups).source
    clusters = cluster_members(source)
    key = lambda tensor: layout.entry(tensor).key
    # first: x @ W1 (n0), its value (used by tanh inside), tanh (n1); tanh's output flows out to the next box
    assert clusters["first: 9 parameters"] == {key(W1), "n0", "n1", key(layout.ops[0][1])}
    assert clusters["second: 3 parameters"] == {key(W2), "n2"}
    inside = set().union(*clusters.values())
    assert key(x) not in inside and key(first) not in inside and key(second) not in inside and "n3" not in inside


def test_groups_are_checked_and_members_outside_the_graph_are_ignored() -> None:
    output, groups, _ = layered_graph()
    elsewhere = ag.Tensor(1.0, requires_grad=True)
    source = ag.draw_graph(output, groups={**groups, "unused": [elsewhere, *ag.tape(ag.exp(elsewhere))]}).source
    assert "unused" not in source and len(cluster_members(source)) == 2
    with pytest.raises(TypeError, match="groups must map"):
        ag.draw_graph(output, groups=[1, 2])
    with pytest.raises(TypeError, match="group 'bad' holds a str"):
        ag.draw_graph(output, groups={"bad": ["W1"]})


def test_draw_graph_has_a_legend_and_the_trace_pictures_do_not() -> None:
    _, y = sigmoid_graph()
    source = ag.draw_graph(y).source
    legend = source.split("\tlegend [")[1]
    for style, text in viz.LEGEND_ROWS:  # each kind of box in its own colour, named
        assert f'bgcolor="{style["fillcolor"]}"' in legend and text in legend
    assert "edge label" in legend and "dashed box" not in legend  # no layer boxes here
    output, groups, _ = layered_graph()
    assert "dashed box: a layer" in ag.draw_graph(output, groups=groups).source.split("\tlegend [")[1]
    assert "legend" not in ag.draw_graph(y, legend=False).source
    assert "legend" not in ag.trace_backward(sigmoid_graph()[1]).graph().source


@needs_dot
def test_a_drawing_with_groups_and_legend_renders() -> None:
    output, groups, _ = layered_graph()
    svg = viz.svg_text(ag.draw_graph(output, groups=groups))
    root = ElementTree.fromstring(svg)
    titles = [element.text for element in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "cluster_0" in titles and "cluster_1" in titles and "legend" in titles
