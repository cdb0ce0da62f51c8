"""autograd-lite explain: the trace of a typed expression, and refusal of everything outside the whitelist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from hypothesis import given

import autograd_lite as ag
from autograd_lite import cli
from autograd_lite.teaching import explain
from tests.strategies import expressions, floats


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = explain.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sigmoid_prints_the_table_and_the_gradient(capsys) -> None:
    code, out, err = run(capsys, "1/(1+exp(-x))", "--at", "x=1.0")
    assert code == 0 and err == ""
    assert out.startswith("f = 1/(1+exp(-x)) at x = 1.0\n")
    assert "backward pass of f (0.7311), 4 steps" in out
    for op in ("Div", "Add", "Exp", "Neg"):
        assert f" {op} " in out
    x = ag.Tensor(1.0, requires_grad=True)
    (1 / (1 + ag.exp(-x))).backward()
    assert out.rstrip().endswith(f"df/dx = {x.grad.item()!r}")


def test_the_console_script_dispatches_to_explain(capsys) -> None:
    assert cli.main(["explain", "x*x", "--at", "x=3"]) == 0
    assert "df/dx = 6.0" in capsys.readouterr().out
    assert cli.main(["--help"]) == 0
    assert "explain" in capsys.readouterr().out


def test_arrays_and_matrix_products(capsys) -> None:
    code, out, _ = run(capsys, "sum(tanh(W @ v))", "--at", "W=[[1,2],[3,4]]", "--at", "v=[0.1,-0.2]")
    assert code == 0
    W = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = ag.Tensor([0.1, -0.2], requires_grad=True)
    ag.tanh(W @ v).sum().backward()
    assert f"df/dW = {np.array2string(W.grad, separator=', ', max_line_width=10_000)}".replace("\n", "") in " ".join(
        line.strip() for line in out.splitlines()
    )
    assert "v1 = W @ v" in out


def test_variables_the_expression_does_not_use_get_zero(capsys) -> None:
    code, out, _ = run(capsys, "x * x", "--at", "x=3", "--at", "y=2")
    assert code == 0 and "df/dx = 6.0" in out and "df/dy = 0 (f does not depend on y)" in out


def test_an_expression_may_start_with_a_minus(capsys) -> None:
    code, out, _ = run(capsys, "-x*x", "--at", "x=3")
    assert code == 0 and "df/dx = -6.0" in out


def test_help_exits_cleanly(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--at NAME=VALUE" in out


def test_non_scalar_output_uses_a_seed_of_ones(capsys) -> None:
    code, out, _ = run(capsys, "x * x", "--at", "x=[1, 2, 3]")
    assert code == 0 and "gradient of ones" in out and "df/dx = [2., 4., 6.]" in out


def test_subscripts_of_a_bound_tensor(capsys) -> None:
    code, out, _ = run(capsys, "W[0, 1] * W[1, -1] + sum(W[:, 0])", "--at", "W=[[1,2],[3,4]]")
    assert code == 0 and "df/dW = [[1., 4.], [1., 2.]]" in out


@given(expressions(), floats(-2, 2), floats(-2, 2))
def test_explain_computes_what_the_expression_means(expression, x_value, y_value) -> None:
    text, function = expression
    output, trace = explain.explain(text, {"x": np.array(x_value), "y": np.array(y_value)})
    direct = {"x": ag.Tensor(x_value, requires_grad=True), "y": ag.Tensor(y_value, requires_grad=True)}
    expected = function(direct)
    assert output.item() == pytest.approx(expected.item(), rel=1e-12, abs=1e-300)
    if expected.requires_grad:
        expected.backward()
    for name in ("x", "y"):
        if direct[name].grad is not None:
            assert trace.gradients[name].item() == pytest.approx(direct[name].grad.item(), rel=1e-9, abs=1e-12)


@pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz is not installed")
def test_writes_the_page_the_svg_and_the_dot_text(capsys, tmp_path) -> None:
    page, svg, dot = tmp_path / "page.html", tmp_path / "graph.svg", tmp_path / "graph.gv"
    code, out, _ = run(capsys, "x*exp(x)", "--at", "x=0.5", "--html", str(page), "--svg", str(svg), "--dot", str(dot))
    assert code == 0 and f"wrote {page}" in out
    assert "<svg" in page.read_text() and "Next" in page.read_text()
    ElementTree.parse(svg)
    assert "grad" in dot.read_text() and "Mul" in dot.read_text()


def test_missing_graphviz_is_a_one_line_error(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, "exp(x)", "--at", "x=0", "--svg", str(tmp_path / "g.svg"))
    assert code == 1 and "df/dx = 1.0" in out
    assert len(err.strip().splitlines()) == 1 and "apt-get install graphviz" in err


HOSTILE = [
    ("__import__('os').system('touch CANARY')", "not attribute access (.system)"),
    ("__import__('os')", "__import__() is not a function of autograd_lite"),
    ("x.__class__.__bases__[0].__subclasses__()", "attribute access"),
    ("exp.__globals__", "attribute access (.__globals__) is not allowed"),
    ("(lambda: 1)()", "not lambda"),
    ("[c for c in x]", "comprehension"),
    ("{c: 1 for c in x}", "comprehension"),
    ("(c for c in x)", "generator expression"),
    ("open('/etc/passwd')", "open() is not a function of autograd_lite"),
    ("eval('1')", "eval() is not a function"),
    ("exec('x=1')", "exec() is not a function"),
    ("getattr(x, 'data')", "getattr() is not a function"),
    ("np.exp(x)", "attribute access (.exp)"),
    ("ag.exp(x)", "attribute access (.exp)"),
    ("exp(x)[0]", "only a bound tensor can be indexed"),
    ("(x + x)[0]", "only a bound tensor can be indexed"),
    ("[x][0]", "only a bound tensor can be indexed"),
    ("exp[0]", "only a bound tensor can be indexed"),
    ("x[x]", "an index must be integers"),
    ("x[10**9]", "index"),
    ("x[::0]", "slice step cannot be zero"),
    ("x if x else x", "if/else is not allowed"),
    ("x < 1", "comparison is not allowed"),
    ("x and x", "and/or is not allowed"),
    ("not x", "Not is not allowed"),
    ("~x", "Invert is not allowed"),
    ("x % 2", "Mod is not allowed"),
    ("x // 2", "FloorDiv is not allowed"),
    ("x << 2", "LShift is not allowed"),
    ("'text' + x", "only numbers"),
    ("b'bytes'", "only numbers"),
    ("f'{x}'", "f-string is not allowed"),
    ("None", "only numbers"),
    ("True + x", "only numbers"),
    ("1j * x", "only numbers"),
    ("...", "only numbers"),
    ("(x := 3)", "assignment (:=) is not allowed"),
    ("x := 3", "not valid syntax"),
    ("*x", "not valid syntax"),
    ("exp(*[x])", "*unpacking is not allowed"),
    ("exp(**{'a': x})", "**unpacking is not allowed"),
    ("sum(x, axis=x)", "keyword arguments must be numbers"),
    ("(1, 2) * x", "needs numbers or tensors"),
    ("y + 1", "unknown name 'y'"),
    ("exp", "exp is a function"),
    ("2 ** 10 ** 10", "exponent is too large"),
    ("x ** 100000", "exponent is too large"),
    ("power(x, 1e9)", "exponent is too large"),
    ("broadcast_to(x, (100000, 100000))", "would make 10,000,000,000 elements"),
    ("reshape(x, (99999999999,))", "too large"),
    ("x * 99999999999999999999999", "too large"),
    ("x" + " + x" * 300, "characters long"),
    ("-" * 100 + "x", "nested more than"),
    ("exp(" * 40 + "x" + ")" * 40, "nested more than"),
    ("1 + 2", "does not depend on any variable"),
    ("x +", "not valid syntax"),
    ("x\n;import os", "not valid syntax"),
    ("", "not valid syntax"),
]


@pytest.mark.parametrize(("expression", "reason"), HOSTILE)
def test_hostile_expressions_are_refused_with_one_line(expression, reason, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "--at", "x=[1.0, 2.0]", "--", expression)
    assert code == 2, (expression, out)
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("autograd-lite explain: error: "), err
    assert reason in err
    assert not (tmp_path / "CANARY").exists()


HOSTILE_VALUES = [
    "x=__import__('os')",
    "x=[[1, 2], [3]]",
    "x=" + "[" * 50 + "1" + "]" * 50,
    "x=[" + ", ".join(["1"] * 20_001) + "]",
    "x=" + "9" * 30,
    "x='text'",
    "x=[1, 2] + [3]",
    "x=1j",
    "x=True",
    "x=",
    "x",
    "1x=2",
    "exp=1",
    "_x=1",
    "x.y=1",
]


@pytest.mark.parametrize("binding", HOSTILE_VALUES)
def test_hostile_values_are_refused_with_one_line(binding, capsys) -> None:
    code, out, err = run(capsys, "x", "--at", binding)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("autograd-lite explain: error: --at "), err


def test_usage_errors_are_one_line_too(capsys) -> None:
    for argv in ([], ["x", "--unknown"], ["x", "--digits", "0", "--at", "x=1"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and len(err.splitlines()) == 1, (argv, err)


def test_shape_mismatch_is_reported_not_raised(capsys) -> None:
    code, _, err = run(capsys, "W @ v", "--at", "W=[[1, 2]]", "--at", "v=[1, 2, 3]")
    assert code == 2 and "matmul" in err and len(err.splitlines()) == 1


def test_refusal_through_the_installed_console_script(tmp_path) -> None:
    script = shutil.which("autograd-lite")
    command = [script] if script else [sys.executable, "-m", "autograd_lite.cli"]
    hostile = "__import__('os').system('touch CANARY')"
    result = subprocess.run(
        [*command, "explain", hostile, "--at", "x=1"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "not attribute access (.system)" in result.stderr
    assert not (tmp_path / "CANARY").exists()
    fine = subprocess.run([*command, "explain", "x*x", "--at", "x=3"], capture_output=True, text=True, timeout=60)
    assert fine.returncode == 0 and "df/dx = 6.0" in fine.stdout


COLUMN = "a=[" + ", ".join(["[1]"] * 1000) + "]"  # 1000 x 1
ROW = "b=[[" + ", ".join(["1"] * 1000) + "]]"  # 1 x 1000: a * b is 1,000,000 elements
LINE = "x=[" + ", ".join(["1"] * 1000) + "]"
LONG_LINE = "y=[" + ",".join(["1"] * 5000) + "]"  # 5000 elements
LONG_COLUMN = "c=[" + ",".join(["[1]"] * 4000) + "]"  # 4000 x 1
SEVEN_BY_THIRTY = ",".join(["[" + ",".join("y" * 30) + "]"] * 7)  # 210 copies of y: 1,050,000 elements


@pytest.mark.parametrize(
    ("expression", "bindings", "reason"),
    [
        # each result is allowed on its own; together they are not
        ("sum(sin(sin(sin(stack([" + ", ".join(["a*b"] * 32) + "])))))", (COLUMN, ROW), "in all"),
        ("sum(sin(sin(sin(sin(a*b)))))", (COLUMN, ROW), "in all"),
        ("sum(exp(a*b) + a*b)", (COLUMN, ROW), "in all"),
        # clip broadcasts its three arguments: 1000**3 elements
        ("sum(clip(reshape(x, (-1, 1, 1)), reshape(x, (1, -1, 1)), reshape(x, (1, 1, -1))))", (LINE,), "clip would"),
        ("sum(clip(reshape(x, (-1, 1)), 0, reshape(x, (1, -1))) * x * x)", (LINE,), "in all"),
        ("stack([" + ", ".join(["broadcast_to(x, (999, 1000))"] * 2) + "])", (LINE,), "stack would make 1,998,000"),
        ("concatenate([broadcast_to(x, (999, 1000)), broadcast_to(x, (999, 1000))])", (LINE,), "concatenate would"),
        # a list given to a one-input op, or to a broadcasting one, counts as the array it would become
        ("sum(exp([" + SEVEN_BY_THIRTY + "]))", (LONG_LINE,), "exp would make 1,050,000"),
        ("sum(exp(a=[" + SEVEN_BY_THIRTY + "]))", (LONG_LINE,), "exp would make 1,050,000"),
        ("sum(mul([y], c))", (LONG_LINE, LONG_COLUMN), "mul would make 20,000,000"),
    ],
)
def test_memory_adds_up_across_the_whole_expression(expression, bindings, reason, capsys) -> None:
    code, out, err = run(capsys, expression, *[item for binding in bindings for item in ("--at", binding)])
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and reason in err, err


def test_the_element_budget_allows_what_fits(capsys) -> None:
    code, out, _ = run(capsys, "sum(sin(a*b))", "--at", COLUMN, "--at", ROW)
    assert code == 0 and f"df/da = array 1000x1 min {viz_number(1000 * np.cos(1.0))}" in out


def viz_number(value: float) -> str:
    from autograd_lite.teaching.viz import format_number

    return format_number(value)


def test_running_out_of_memory_is_one_line(capsys, monkeypatch) -> None:
    def exhausted(*_, **__):
        raise MemoryError

    monkeypatch.setattr(explain, "trace_backward", exhausted)
    code, out, err = run(capsys, "x*x", "--at", "x=3")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "memory" in err


def test_a_bare_variable_has_derivative_one_and_keeps_its_name(capsys, tmp_path) -> None:
    code, out, err = run(capsys, "x", "--at", "x=3", "--html", str(tmp_path / "page.html"))
    assert code == 0 and err == "" and "df/dx = 1.0" in out
    assert "no steps" in out and not (tmp_path / "page.html").exists()
    variables = {"x": np.array([1.0, 2.0])}
    output, trace = explain.explain("x", variables)
    assert output.name == "x" and np.array_equal(trace.gradients["x"], np.ones(2))


def test_writing_an_output_that_fails_is_one_line(capsys, tmp_path) -> None:
    code, out, err = run(capsys, "x*x", "--at", "x=3", "--dot", str(tmp_path / "missing" / "graph.gv"))
    assert code == 1 and "df/dx = 6.0" in out
    assert len(err.splitlines()) == 1 and err.startswith("autograd-lite explain: error: ")


@pytest.mark.parametrize("name", ["f", "v1", "v12", "p3", "c2", "inf", "nan", "if", "True", "None", "lambda", "match"])
def test_names_the_table_uses_or_python_keeps_are_refused(name, capsys) -> None:
    code, out, err = run(capsys, f"{name}*{name}", "--at", f"{name}=3")
    assert code == 2 and out == "" and len(err.splitlines()) == 1, err
    assert "reserved" in err or "keyword" in err


def test_names_that_only_look_like_reserved_ones_are_fine(capsys) -> None:
    code, out, _ = run(capsys, "exp(v)*fx*c_1", "--at", "v=0", "--at", "fx=2", "--at", "c_1=3")
    assert code == 0 and "df/dv = 6.0" in out and "df/dfx = 3.0" in out and "df/dc_1 = 2.0" in out


@pytest.mark.parametrize(
    ("expression", "value"),
    [("log(x)", "0"), ("x ** 1000", "10"), ("x ** log(x - x - 1)", "2"), ("sqrt(x) * log(x)", "[0, -1]")],
)
def test_inf_and_nan_are_answers_not_warnings(expression, value, capsys) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run(capsys, expression, "--at", f"x={value}")
    assert code == 0 and err == "" and "df/dx = " in out


@pytest.mark.parametrize(
    "argv",
    [
        ("-h*x", "--at", "h=2", "--at", "x=3"),
        ("--at", "h=2", "--at", "x=3", "-h*x"),
        ("--at=h=2", "-h*x", "--at", "x=3"),
        ("--at", "h=2", "--at", "x=3", "--", "-h*x"),
    ],
)
def test_expressions_starting_with_a_minus_anywhere_on_the_line(argv, capsys) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == "", err
    assert out.startswith("f = -h*x at h = 2.0, x = 3.0\n") and "df/dh = -3.0" in out and "df/dx = -2.0" in out


def test_a_negative_value_after_at_is_still_a_value(capsys) -> None:
    code, out, _ = run(capsys, "-x", "--at", "x=-2", "--digits", "3")
    assert code == 0 and out.startswith("f = -x at x = -2.0\n") and "df/dx = -1.0" in out


# ----- --mode forward | reverse | both ------------------------------------------------------------
def test_forward_mode_runs_one_pass_per_input_element(capsys) -> None:
    code, out, err = run(
        capsys, "sum(tanh(W @ v))", "--at", "W=[[1,2],[3,4]]", "--at", "v=[0.1,-0.2]", "--mode", "forward"
    )
    assert code == 0 and err == "" and "backward pass" not in out
    W = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = ag.Tensor([0.1, -0.2], requires_grad=True)
    ag.tanh(W @ v).sum().backward()
    expected = [*W.grad.ravel(), *v.grad]
    names = ["W[0, 0]", "W[0, 1]", "W[1, 0]", "W[1, 1]", "v[0]", "v[1]"]
    assert out.count("(one forward pass)") == 6 and "forward mode: 6 passes (one per input element)" in out
    for number, (name, value) in enumerate(zip(names, expected)):
        assert f"pass {number + 1}: df/d{name} = {ag.teaching.viz.format_number(value)}" in out


def test_both_modes_print_the_table_the_passes_and_the_comparison(capsys) -> None:
    code, out, _ = run(capsys, "x*y + sin(x)", "--at", "x=2", "--at", "y=3", "--mode", "both")
    assert code == 0
    table, _, rest = out.partition("forward mode along x")
    assert "backward pass of f (6.909), 3 steps" in table and "df/dx = 2.58385" in table
    assert (
        "forward mode along y" in rest
        and "reverse mode: 1 backward pass (after the forward pass) gave every gradient" in rest
    )
    assert "pass 1: df/dx = 2.584" in rest and "pass 2: df/dy = 2" in rest


def test_forward_mode_runs_at_most_so_many_passes_and_says_how_many_more(capsys) -> None:
    code, out, _ = run(capsys, "sum(x * x)", "--at", f"x={list(range(40))}", "--mode", "forward")
    assert code == 0 and out.count("(one forward pass)") == 16
    assert "(24 more forward passes are needed for the whole gradient; not run)" in out


def test_the_page_opens_in_the_mode_asked_for(capsys, tmp_path) -> None:
    if shutil.which("dot") is None and not os.environ.get("CI"):
        pytest.skip("Graphviz 'dot' is not installed")
    page = tmp_path / "page.html"
    assert run(capsys, "x*x", "--at", "x=3", "--mode", "forward", "--html", str(page))[0] == 0
    assert '"mode": "forward"' in page.read_text(encoding="utf-8")


def test_an_unknown_mode_is_one_line(capsys) -> None:
    code, out, err = run(capsys, "x*x", "--at", "x=3", "--mode", "sideways")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "sideways" in err


def test_the_table_wraps_long_formulas_instead_of_cutting_them(capsys) -> None:
    code, out, _ = run(capsys, "sum(log_softmax(x))", "--at", "x=[1.0, 2.0, 3.0]")
    assert code == 0 and "..." not in out
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    rule = ag.trace_backward(ag.log_softmax(x).sum()).steps[1].sent[0].named_formula
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("step"))
    start = header.index("local derivative")
    end = header.index(" local ", start + len("local derivative")) + 1
    rows = lines[lines.index(header) + 2 : lines.index("gradients:") - 1]
    column = " ".join(line[start:end].strip() for line in rows)
    assert len(rule) > 60 and " ".join(rule.split()) in " ".join(column.split())  # every word, in order


def test_forward_mode_of_a_bare_variable_is_one(capsys) -> None:
    code, out, _ = run(capsys, "x", "--at", "x=3", "--mode", "both")
    assert code == 0 and "pass 1: df/dx = 1\n" in out and "df/dx = 1 (one forward pass)" in out
