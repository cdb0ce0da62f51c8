"""trace_forward: forward mode op by op, with the engine's forward rules and the engine's answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import autograd_lite as ag
from autograd_lite.teaching.forward_mode import MAX_FORWARD_PASSES, basis_passes
from tests.strategies import arrays, expressions, floats


def sigmoid(x):
    return 1 / (1 + ag.exp(-x))


def test_the_sigmoid_in_forward_mode_reads_op_by_op() -> None:
    trace = ag.trace_forward(sigmoid, 1.0)
    assert [step.op for step in trace.steps] == ["Neg", "Exp", "Add", "Div"]  # forward order
    assert trace.direction == "x" and trace.seeds == {"x": 1.0}
    tangents = [step.tangent.item() for step in trace.steps]
    e = np.exp(-1.0)
    assert tangents == pytest.approx([-1.0, -e, -e, e / (1 + e) ** 2], rel=1e-12)
    text = trace.steps[3].describe("x")
    assert text.splitlines() == [
        "Div: v4 = 1 / v3 = 1 / 1.368 = 0.7311",
        "from v3: local d(1/v3)/dv3 = -1/v3² = -1/1.368² = -0.5344",
        "  local -0.5344 × dv3/dx -0.3679 = 0.1966",
        "dv4/dx = 0.1966",
    ]
    assert str(trace).endswith("df/dx = 0.1966 (one forward pass)")


@given(expressions(), floats(-2, 2), floats(-2, 2), floats(-2, 2), floats(-2, 2))
def test_the_traced_tangent_is_jvps(expression, x_value, y_value, x_tangent, y_tangent) -> None:
    _, function = expression

    def f(x, y):
        result = function({"x": x, "y": y})
        return result if isinstance(result, ag.Tensor) else ag.Tensor(result)

    trace = ag.trace_forward(f, (x_value, y_value), (x_tangent, y_tangent))
    _, expected = ag.jvp(f, (np.array(x_value), np.array(y_value)), (np.array(x_tangent), np.array(y_tangent)))
    np.testing.assert_allclose(trace.tangent, expected.data, rtol=1e-12, atol=1e-300)
    for step in trace.steps:  # each op's tangent is the sum of its inputs' shares
        if step.tangent is not None and step.parts:
            np.testing.assert_allclose(
                sum(part.contribution for part in step.parts), step.tangent, rtol=1e-12, atol=1e-15
            )


@given(arrays((2, 2), floats(-2, 2)), arrays((2,), floats(-2, 2)))
def test_one_pass_per_input_element_gives_the_gradient_reverse_mode_gives_in_one(W_value, x_value) -> None:
    W = ag.Tensor(W_value, requires_grad=True, name="W")
    x = ag.Tensor(x_value, requires_grad=True, name="x")
    reverse = ag.trace_backward(ag.sigmoid(W @ x).sum())
    passes, count = basis_passes(reverse)
    assert count == len(passes) == 6
    assert [one.direction for one in passes] == ["W[0, 0]", "W[0, 1]", "W[1, 0]", "W[1, 1]", "x[0]", "x[1]"]
    found = np.array([one.tangent.item() for one in passes])
    expected = np.concatenate([reverse.gradients["W"].ravel(), reverse.gradients["x"]])
    np.testing.assert_allclose(found, expected, rtol=1e-12, atol=1e-15)


def test_the_passes_shown_are_capped_but_counted() -> None:
    v = ag.Tensor(np.linspace(-1, 1, 40), requires_grad=True, name="v")
    passes, count = basis_passes(ag.trace_backward(ag.tanh(v).sum()))
    assert len(passes) == MAX_FORWARD_PASSES and count == 40


def test_inputs_are_named_after_the_parameters_and_directions_that_are_not_one_input_are_tangents() -> None:
    trace = ag.trace_forward(lambda weight, bias: weight * 2 + bias, (1.0, 3.0), (0.5, 1.0))
    assert set(trace.seeds) == {"weight", "bias"} and trace.direction is None
    assert "tangent(v2) = 1 + 1 = 2" in trace.steps[-1].describe(None)
    assert trace.tangent.item() == 2.0
    named = ag.trace_forward(lambda x: x * x, ag.Tensor(3.0, name="speed"))
    assert named.seeds == {"speed": 1.0} and named.tangent.item() == 6.0


def test_an_op_that_does_not_depend_on_the_direction_says_so() -> None:
    x, y = ag.Tensor(1.0, requires_grad=True, name="x"), ag.Tensor(2.0, requires_grad=True, name="y")
    along_y, along_x = basis_passes(ag.trace_backward(ag.sin(y) + x))[0]  # inputs in the order the tape meets them
    assert (along_x.direction, along_y.direction) == ("x", "y")
    assert along_x.steps[0].tangent is None and along_x.steps[0].describe("x").endswith(
        "dv1/dx = 0 (does not depend on x)"
    )
    assert along_x.tangent.item() == 1.0 and along_y.tangent.item() == pytest.approx(np.cos(2.0))


def test_bad_calls_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="give a tangent"):
        ag.trace_forward(lambda v: v.sum(), np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        ag.trace_forward(lambda v: v.sum(), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="one tangent per input"):
        ag.trace_forward(lambda a, b: a * b, (1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match="must return an autograd_lite Tensor"):
        ag.trace_forward(lambda x: 3.0, 1.0)


@given(expressions(), floats(-2, 2), floats(-2, 2))
def test_the_passes_of_a_backward_trace_agree_with_its_gradients(expression, x_value, y_value) -> None:
    _, function = expression
    x, y = ag.Tensor(x_value, requires_grad=True, name="x"), ag.Tensor(y_value, requires_grad=True, name="y")
    output = function({"x": x, "y": y})
    if not isinstance(output, ag.Tensor) or not output.requires_grad:
        return
    reverse = ag.trace_backward(output)  # the passes run after the backward pass, on the values the trace kept
    passes, count = basis_passes(reverse)
    assert count == len(passes) == len(reverse.gradients)
    for one in passes:
        assert one.tangent == pytest.approx(reverse.gradients[one.direction], rel=1e-12, abs=1e-300)


def test_the_output_may_be_an_input() -> None:
    x = ag.Tensor(3.0, requires_grad=True, name="x")
    (only,), count = basis_passes(ag.trace_backward(x))
    assert count == 1 and only.steps == [] and only.tangent.item() == 1.0
    assert ag.trace_forward(lambda x: x, 3.0).tangent.item() == 1.0
