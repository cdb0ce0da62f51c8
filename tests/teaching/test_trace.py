"""trace_backward: the engine's own numbers, step by step, in the engine's order."""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil

import numpy as np
import pytest
from hypothesis import given

import autograd_lite as ag
from autograd_lite.teaching import viz
from autograd_lite.teaching.trace import MAX_PRINTED_GRADIENTS, MAX_PRINTED_INPUTS, BackwardTrace
from tests.strategies import arrays, expressions, floats, shapes

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz 'dot' is not installed"
)


def sigmoid_trace(x_value: float = 1.0) -> tuple[ag.Tensor, ag.Tensor, BackwardTrace]:
    x = ag.Tensor(x_value, requires_grad=True, name="x")
    y = 1 / (1 + ag.exp(-x))
    return x, y, ag.trace_backward(y)


def test_sigmoid_at_1_gives_the_textbook_steps() -> None:
    x, y, trace = sigmoid_trace()
    e = math.exp(-1.0)
    assert [step.op for step in trace.steps] == ["Div", "Add", "Exp", "Neg"]
    assert [step.sent[0].label for step in trace.steps] == ["v3", "v2", "v1", "x"]
    # local derivatives of 1/b at b = 1 + e^-1, of b = 1 + a, of exp at -1, of -x
    local = [step.sent[0].local_derivative.item() for step in trace.steps]
    assert local == pytest.approx([-1 / (1 + e) ** 2, 1.0, e, -1.0], rel=1e-12)
    running = [step.sent[0].gradient.item() for step in trace.steps]
    assert [round(value, 2) for value in running] == [-0.53, -0.53, -0.20, 0.20]
    sigma = 1 / (1 + e)
    assert running[-1] == pytest.approx(sigma * (1 - sigma), rel=1e-12)
    assert x.grad.item() == running[-1]  # the trace ran the real backward
    assert trace.gradients == {"x": x.grad}
    assert [step.formula for step in trace.steps] == [node.formula for node in reversed(ag.tape(y))]
    assert trace.steps[2].sent[0].formula == "d/da exp(a) = exp(a)"
    assert trace.steps[0].sent[0].formula == "d(a/b)/db = -a/b**2"  # only the input that gets a gradient


def test_each_input_shows_its_own_rule_and_the_one_that_holds_for_its_shapes() -> None:
    a, b = ag.Tensor([1.0, 5.0], requires_grad=True, name="a"), ag.Tensor([2.0, 3.0], requires_grad=True, name="b")
    trace = ag.trace_backward(ag.maximum(a, b).sum())
    to_a, to_b = trace.steps[1].sent
    assert to_a.formula.startswith("d/da maximum(a, b) = 0 where a < b") and to_b.formula.startswith("d/db maximum")
    np.testing.assert_array_equal(to_a.local_derivative, [0.0, 1.0])
    np.testing.assert_array_equal(to_b.local_derivative, [1.0, 0.0])
    W, v = ag.Tensor(np.ones((2, 3)), requires_grad=True), ag.Tensor(np.ones(3), requires_grad=True)
    to_W, to_v = ag.trace_backward((W @ v).sum()).steps[1].sent
    assert (to_W.formula, to_v.formula) == ("d(a@b)/da = outer(grad, b)", "d(a@b)/db = a.T @ grad")


def test_a_tensor_used_twice_shows_each_share_as_sent() -> None:
    x = ag.Tensor([3.0], requires_grad=True, name="x")
    trace = ag.trace_backward((x * x).sum())
    first, second = trace.steps[1].sent
    np.testing.assert_array_equal(first.gradient, [3.0])
    np.testing.assert_array_equal(second.gradient, [3.0])  # not the 6 the engine sums them to afterwards
    np.testing.assert_array_equal(second.total, [6.0])
    np.testing.assert_array_equal(x.grad, [6.0])


def test_sigmoid_table_reads_line_by_line() -> None:
    x, _, trace = sigmoid_trace()
    lines = str(trace).splitlines()
    assert lines[0] == "backward pass of f = v4 (0.7311), 4 steps, seed df/df = 1"
    rows = [line.split() for line in lines[4:8]]
    assert [row[:2] for row in rows] == [["1", "Div"], ["2", "Add"], ["3", "Exp"], ["4", "Neg"]]
    assert [row[-1] for row in rows] == ["-0.5344", "-0.5344", "-0.1966", "0.1966"]
    assert "v2 = exp(v1)" in lines[6] and "d/dv1 exp(v1) = exp(v1)" in lines[6]
    assert lines[-1] == f"  df/dx = {x.grad.item()!r}" and lines[-1].startswith("  df/dx = 0.19661193")


@given(expressions(), floats(-2, 2), floats(-2, 2))
def test_trace_numbers_equal_a_plain_backward(expression, x_value, y_value) -> None:
    _, function = expression
    traced = {"x": ag.Tensor(x_value, requires_grad=True), "y": ag.Tensor(y_value, requires_grad=True)}
    plain = {"x": ag.Tensor(x_value, requires_grad=True), "y": ag.Tensor(y_value, requires_grad=True)}
    output = function(traced)
    if output.node is None:
        return
    reference = function(plain)
    reference_results = [result for _, result in ag.graph_tensors(reference)]  # before backward releases them
    for result in reference_results:
        result.retain_grad()
    trace = ag.trace_backward(output)
    reference.backward()
    # the same ops in the same order, walked backwards: each upstream is that tensor's full gradient
    assert [step.position for step in trace.steps] == sorted((s.position for s in trace.steps), reverse=True)
    for step in trace.steps:
        assert step.upstream == reference_results[step.position].grad
        for item in step.sent:
            if item.local_derivative is not None:
                np.testing.assert_allclose(item.gradient, item.local_derivative * step.upstream, rtol=1e-12, atol=0)
    for name in ("x", "y"):
        expected = plain[name].grad
        assert (traced[name].grad is None) == (expected is None)
        if expected is not None:
            assert traced[name].grad == expected
            received = [item for step in trace.steps for item in step.sent if item.tensor is traced[name]]
            assert received[-1].total == pytest.approx(expected, rel=1e-12)
            assert received[-1].contributions == len(received)


def test_a_tensor_used_twice_shows_the_running_sum() -> None:
    a = ag.Tensor(3.0, requires_grad=True, name="a")
    b = a + a
    c = b + b
    trace = ag.trace_backward(c)
    first, second = trace.steps
    assert [item.label for item in first.sent] == ["v1", "v1"]
    assert [(item.gradient.item(), item.total.item(), item.contributions) for item in first.sent] == [
        (1.0, 1.0, 1),
        (1.0, 2.0, 2),
    ]
    assert second.upstream.item() == 2.0
    assert [(item.gradient.item(), item.total.item()) for item in second.sent] == [(2.0, 2.0), (2.0, 4.0)]
    assert second.sent[1].previous_total.item() == 2.0
    assert a.grad.item() == 4.0
    table = str(trace)
    assert "1 + 1 = 2" in table and "2 + 2 = 4" in table
    assert "accumulated: 2 + 2 = 4" in second.describe()


def test_accumulation_across_different_consumers() -> None:
    x = ag.Tensor(2.0, requires_grad=True, name="x")
    y = ag.sin(x) * ag.exp(x)  # x feeds Sin and Exp
    trace = ag.trace_backward(y)
    received = [item for step in trace.steps for item in step.sent if item.label == "x"]
    assert len(received) == 2 and received[1].previous_total == received[0].gradient
    expected = math.cos(2) * math.exp(2) + math.sin(2) * math.exp(2)
    assert received[1].total.item() == pytest.approx(expected, rel=1e-12) and x.grad.item() == received[1].total


@given(arrays(shapes), arrays(shapes))
def test_vector_steps_keep_shapes_and_match_the_engine(a_values, b_values) -> None:
    try:
        np.broadcast_shapes(a_values.shape, b_values.shape)
    except ValueError:
        return
    a = ag.Tensor(a_values, requires_grad=True, name="a")
    b = ag.Tensor(b_values, requires_grad=True, name="b")
    trace = ag.trace_backward(ag.tanh(a * b + a).sum())
    for step in trace.steps:
        assert step.upstream.shape == step.output.shape
        for item in step.sent:
            assert item.gradient.shape == item.tensor.shape
    np.testing.assert_array_equal(trace.gradients["a"], a.grad)
    np.testing.assert_array_equal(trace.gradients["b"], b.grad)


def test_matrix_network_table_shows_shapes() -> None:
    rng = np.random.default_rng(1)
    image = ag.Tensor(rng.random((1, 784)))
    weight = ag.Tensor(rng.normal(size=(784, 16)), requires_grad=True, name="W")
    loss = ag.softmax_cross_entropy(ag.relu(image @ weight), np.array([3])).sum()
    trace = ag.trace_backward(loss)
    assert [step.op for step in trace.steps] == ["Sum", "SoftmaxCrossEntropy", "Relu", "Matmul"]
    assert trace.steps[-1].sent[0].gradient.shape == (784, 16)
    table = str(trace)
    assert "array 784x16" in table and "v1 = c1 @ W" in table
    assert trace.steps[-1].sent[0].local_derivative is None  # not elementwise: no per-element number
    np.testing.assert_array_equal(trace.gradients["W"], weight.grad)


def test_a_10000_step_trace_is_summarised() -> None:
    x = ag.Tensor(0.3, requires_grad=True, name="x")
    y = x
    for _ in range(10_000):
        y = ag.sin(y)
    trace = ag.trace_backward(y)
    assert len(trace) == 10_000
    text = str(trace)
    assert "9,960 steps not shown" in text and len(text.splitlines()) < 60
    assert len(trace.table(max_steps=None).splitlines()) > 10_000
    frames = trace.frames()
    assert len(frames) == 10_000
    middle = frames[5000].source
    assert re.search(r"n4999 \[[^\]]*penwidth=3", middle)  # step 5000 is the op at tape position 4999
    assert len(re.findall(r"^\s*n\d+ \[", middle, re.MULTILINE)) == viz.MAX_DRAWN_OPS


def test_frames_highlight_the_current_op_and_fill_grads_in_as_they_arrive() -> None:
    _, _, trace = sigmoid_trace()
    frames = trace.frames()
    assert len(frames) == 4
    for index, frame in enumerate(frames):
        current = trace.steps[index].position
        highlighted = re.findall(r"(n\d) \[[^\]]*penwidth=3", frame.source)
        assert highlighted == [f"n{current}"]
        x_label = re.search(r't0 \[label="([^"]*)"', frame.source).group(1)
        assert x_label.endswith("grad ?\\l") == (index < 3)
    assert "grad 0.1966" in frames[-1].source and "grad -0.5344" in frames[0].source
    with pytest.raises(IndexError, match="out of range"):
        frames[4]
    assert [f.source for f in frames[-2:]] == [frames[2].source, frames[3].source]


@needs_dot
def test_html_is_one_self_contained_file(tmp_path) -> None:
    _, _, trace = sigmoid_trace()
    page = trace.to_html(tmp_path / "sigmoid.html")
    assert (tmp_path / "sigmoid.html").read_text(encoding="utf-8") == page
    assert "<svg" in page and "<script src" not in page and "<link" not in page and "@import" not in page
    external = re.findall(r'(?:src|href)="(?!#)([^"]*)"', page)
    assert external == []
    data = page_data(page)
    steps = data["modes"]["reverse"]
    assert [step["phase"].split(":")[0] for step in steps] == ["Forward pass"] * 4 + ["Backward pass"] * 4 + ["Summary"]
    assert [step["text"] for step in steps[:4]] == trace.forward_steps()
    assert [step["text"] for step in steps[4:8]] == [step.describe() for step in trace.steps]
    assert steps[8]["text"] == trace.summary() and steps[8]["node"] is None
    for step in steps[:8]:
        assert f'id="{step["node"]}"' in page and f'id="tb-{step["node"]}"' in page  # both drawings
    assert set(data["modes"]) == {"reverse", "forward", "both"} and len(data["modes"]["forward"]) == 4 + 1
    assert 'width="' not in page.partition("<svg")[2].partition(">")[0]  # the viewBox scales it


def page_data(page: str) -> dict:
    return json.loads(re.search(r'<script id="trace-data" type="application/json">(.*?)</script>', page).group(1))


def test_html_escapes_names_that_look_like_markup(tmp_path) -> None:
    if shutil.which("dot") is None and not os.environ.get("CI"):
        pytest.skip("Graphviz 'dot' is not installed")
    x = ag.Tensor(0.5, requires_grad=True, name="</script><b>x")
    page = ag.trace_backward(ag.exp(x)).to_html()
    assert "</script><b>" not in page


def test_jupyter_bundle_has_the_table() -> None:
    _, _, trace = sigmoid_trace()
    bundle = trace._repr_mimebundle_()
    assert bundle["text/plain"] == str(trace)
    assert "df/dx" in bundle["text/html"]
    assert set(trace._repr_mimebundle_(include=["text/plain"])) == {"text/plain"}


def test_errors_are_the_engines() -> None:
    with pytest.raises(TypeError, match="trace_backward"):
        ag.trace_backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.trace_backward(ag.Tensor(1.0) * 2)
    v = ag.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="not a single value"):
        ag.trace_backward(v * 2)
    trace = ag.trace_backward(v * 2, grad=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(v.grad, [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(trace.seed, [1.0, 2.0, 3.0])


def test_retain_graph_is_passed_to_the_engine() -> None:
    x = ag.Tensor(1.5, requires_grad=True)
    y = ag.exp(x)
    ag.trace_backward(y, retain_graph=True)
    ag.trace_backward(y)
    assert x.grad.item() == pytest.approx(2 * math.exp(1.5))
    with pytest.raises(RuntimeError, match="retain_graph"):
        ag.trace_backward(y)


def test_a_leaf_output_has_no_steps() -> None:
    x = ag.Tensor(2.0, requires_grad=True, name="x")
    trace = ag.trace_backward(x)
    assert trace.steps == [] and trace.gradients == {"x": trace.seed}
    with pytest.raises(ValueError, match="no steps"):
        trace.to_html()


def test_frame_minus_one_is_the_last_step() -> None:
    _, _, trace = sigmoid_trace()
    assert trace.frame(-1).source == trace.frame(3).source and "grad 0.1966" in trace.frame(-1).source
    assert trace.frame(-4).source == trace.frame(0).source
    with pytest.raises(IndexError, match="out of range"):
        trace.frame(-5)


@given(floats(-2, 2), floats(-2, 2))
def test_gradients_are_arrays_however_many_contributions(x_value, y_value) -> None:
    x = ag.Tensor(x_value, requires_grad=True, name="x")
    y = ag.Tensor(y_value, requires_grad=True, name="y")
    trace = ag.trace_backward(x * y + ag.sin(x) + x)  # x gets three contributions, y one
    for name, tensor in (("x", x), ("y", y)):
        assert type(trace.gradients[name]) is np.ndarray and trace.gradients[name].shape == ()
        assert trace.gradients[name] == pytest.approx(tensor.grad.item())
    for step in trace.steps:
        for item in step.sent:
            assert type(item.total) is np.ndarray


def test_leaves_with_one_name_keep_separate_gradients() -> None:
    first, second = ag.Tensor(2.0, requires_grad=True, name="w"), ag.Tensor(3.0, requires_grad=True, name="w")
    trace = ag.trace_backward(first * first * second)
    assert trace.gradients == {"w": pytest.approx(2 * 2.0 * 3.0), "w#2": pytest.approx(4.0)}
    assert "df/dw#2 = 4.0" in str(trace)


def test_root_label_names_the_output_without_renaming_it() -> None:
    x = ag.Tensor(3.0, requires_grad=True, name="x")
    trace = ag.trace_backward(x * x, root_label="g")
    assert trace.root_label == "g" and "dg/dx = 6.0" in str(trace) and "g = x * x" in str(trace)
    leaf = ag.trace_backward(x, root_label="g")
    assert x.name == "x" and leaf.gradients == {"x": 1.0} and "backward pass of g = x" in str(leaf)


def test_a_step_with_thousands_of_inputs_prints_a_few_rows() -> None:
    scalars = [ag.Tensor(float(index), requires_grad=True) for index in range(3_000)]
    trace = ag.trace_backward(ag.sum(ag.stack(scalars)))
    text = str(trace)
    assert f"{3_000 - MAX_PRINTED_INPUTS:,} more inputs of this step not shown" in text
    assert f"{3_000 - MAX_PRINTED_GRADIENTS:,} more (trace.gradients has them all)" in text
    assert len(text) < 20_000 and len(trace.gradients) == 3_000
    full = trace.table(max_inputs=None, max_gradients=None)
    assert "not shown" not in full and full.count("stack(a_0, a_1, ...) =") == 3_000


@needs_dot
def test_the_page_of_a_wide_step_carries_only_what_is_drawn() -> None:
    scalars = [ag.Tensor(float(index), requires_grad=True) for index in range(3_000)]
    trace = ag.trace_backward(ag.sum(ag.stack(scalars)))
    page = trace.to_html()
    steps = page_data(page)["modes"]["reverse"]
    assert len(steps[0]["base"]) == viz.MAX_DRAWN_INPUTS + 2  # and the stack and the sum
    backward = steps[len(trace.layout.ops) :]
    assert len(backward[1]["set"]) == viz.MAX_DRAWN_INPUTS and "more inputs" in backward[1]["text"]
    assert len(page) < 400_000
    assert trace.steps[1].describe(max_inputs=None).count("to ") == 3_000


# ----- slides and the notebook display ------------------------------------------------------------
@needs_dot
def test_frames_and_the_gif_have_one_picture_per_step(tmp_path) -> None:
    from PIL import Image

    _, _, trace = sigmoid_trace()
    paths = trace.save_frames(tmp_path / "slides")
    assert [path.name for path in paths] == ["step-01.png", "step-02.png", "step-03.png", "step-04.png"]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in paths)
    gif = trace.save_gif(tmp_path / "backprop.gif", seconds_per_step=0.5)
    with Image.open(gif) as animation:
        assert animation.n_frames == 4 and animation.info["duration"] == 500 and animation.info["loop"] == 0
        first = np.asarray(animation.convert("RGB"))
        animation.seek(3)
        last = np.asarray(animation.convert("RGB"))
    assert first.shape == last.shape and not np.array_equal(first, last)  # the highlight moved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backprop.gif", "slides"]  # no temporary files left


def test_slides_without_graphviz_say_what_to_install(tmp_path, monkeypatch) -> None:
    _, _, trace = sigmoid_trace()
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    with pytest.raises(viz.GraphvizNotInstalledError, match="install Graphviz"):
        trace.save_gif(tmp_path / "backprop.gif")
    with pytest.raises(viz.GraphvizNotInstalledError, match="install Graphviz"):
        trace.save_frames(tmp_path / "slides")
    assert not (tmp_path / "backprop.gif").exists() and not (tmp_path / "slides").exists()
    assert trace._repr_html_().startswith("<pre>backward pass of f")  # the notebook falls back to the table
    with pytest.raises(ValueError, match="seconds_per_step"):
        trace.save_gif(tmp_path / "x.gif", seconds_per_step=0)


@needs_dot
def test_the_notebook_shows_the_stepper_inline() -> None:
    _, _, trace = sigmoid_trace()
    shown = trace._repr_html_()
    assert shown.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in shown
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))
    assert page == trace.to_html()  # the whole page, self-contained
    bundle = trace._repr_mimebundle_()
    assert bundle == {"text/plain": str(trace), "text/html": shown}
    forward = ag.trace_forward(lambda x: ag.exp(x), 0.5)._repr_html_()
    assert forward.startswith("<iframe") and "&quot;mode&quot;: &quot;forward&quot;" in forward
