"""autograd-lite explain under attack: every op's size known before it runs, the trace's memory bounded,
long flat chains, NumPy's warnings, null bytes. Memory bombs run in a subprocess under RLIMIT_AS."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite.teaching import explain
from autograd_lite.teaching import expression as ex

BINDINGS = {
    "x": "[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]",
    "y": "[0.5, 0.25, 0.125, 0.75]",
    "A": "[[1, 2, 3], [4, 5, 6]]",
    "M": "[[4, 1, 0], [1, 3, 1], [0, 1, 2]]",
    "C": "[[[1, 2, 3, 4], [5, 6, 7, 8], [9, 1, 2, 3]], [[4, 5, 6, 7], [8, 9, 1, 2], [3, 4, 5, 6]]]",
}
_TWO_ARGUMENTS = ("add", "sub", "mul", "div", "power", "maximum", "minimum", "logaddexp", "logaddexp2", "arctan2")
_TWO_ARGUMENTS += ("hypot", "fmax", "fmin", "remainder")
_ELEMENTWISE = sorted(ex.ops_in("elementwise"))
# One or more explain expressions per op of ag.OPS (those explain cannot spell are in DIRECT_CASES).
SPECIAL_CASES: dict[str, list[str]] = {
    "conv2d": [
        "conv2d(expand_dims(C, 0), reshape(y, (1, 2, 2, 1)), padding=1, stride=(1, 2))",
        "conv2d(expand_dims(C, 0), expand_dims(C[:, 0:2, 0:2], 0), y[0:1])",
    ],
    "max_pool2d": ["max_pool2d(expand_dims(C, 0), 2)", "max_pool2d(expand_dims(C, 0), (3, 2), 1, 1)"],
    "avg_pool2d": ["avg_pool2d(expand_dims(C, 0), 2, padding=1)"],
    "sum": ["sum(C, axis=(0, 2))", "sum(C, 1, keepdims=True)"],
    "mean": ["mean(C, axis=-1)"],
    "max": ["max(A)"],
    "min": ["min(C, 0)"],
    "logsumexp": ["logsumexp(A, axis=1)"],
    "prod": ["prod(C, axis=2, keepdims=True)"],
    "var": ["var(C, axis=(1, 2))"],
    "std": ["std(A)"],
    "norm": ["norm(C, axis=2)", "norm(A, 2)", "norm(C, axis=(0, 2))"],
    "softmax": ["softmax(A)"],
    "log_softmax": ["log_softmax(C, axis=1)"],
    "cumsum": ["cumsum(C)", "cumsum(C, 1)"],
    "cumprod": ["cumprod(A, axis=0)"],
    "trace": ["trace(C, 1, 1, 2)", "trace(M)"],
    "inv": ["inv(M)"],
    "det": ["det(M)"],
    "slogdet": ["stack(slogdet(M))"],
    "solve": ["solve(M, x[0:3])", "solve(M, transpose(A))"],
    "pinv": ["pinv(A)"],
    "cholesky": ["cholesky(M)"],
    "eigh": ["concatenate(eigh(M), axis=None)"],
    "svd": ["concatenate(svd(M), axis=None)"],
    "qr": ["concatenate(qr(transpose(A)), axis=None)"],
    "matmul": ["matmul(A, M)", "matmul(x[0:3], M)", "matmul(C, reshape(x[0:4], (4, 1)))"],
    "dot": ["dot(C, reshape(y, (4, 1)))", "dot(A, x[0:3])", "dot(2, A)"],
    "linear": ["linear(A, M, x[0:3])", "linear(A, M)"],
    "einsum": ["einsum(A, [0, 1], x, [2], [0, 1, 2])", "einsum(A, [0, 1], y, [2])", "einsum(A, [0, 1], M, [1, 1])"],
    "softmax_cross_entropy": ["softmax_cross_entropy(A, [[0.5, 0.5, 0], [0, 0, 1]])"],
    "reshape": ["reshape(C, (4, -1))"],
    "transpose": ["transpose(C)"],
    "swapaxes": ["swapaxes(C, 0, 2)"],
    "expand_dims": ["expand_dims(A, (0, 3))"],
    "broadcast_to": ["broadcast_to(y, (3, 4))", "broadcast_to(x, 6)"],
    "getitem": ["getitem(C, ([0, 1], 1))", "getitem(C, (1, [0, 2], [[1], [3]]))", "C[:, 0:2, -1]"],
    "concatenate": ["concatenate([A, M])", "concatenate([A, y], axis=None)", "concatenate(C, 1)"],
    "stack": ["stack([x, x, x], 1)", "stack(x)", "stack(C)"],
    "flip": ["flip(C, (0, 2))"],
    "roll": ["roll(C, 2, 1)"],
    "tile": ["tile(A, (2, 1, 3))", "tile(x, 3)"],
    "repeat": ["repeat(A, 3)", "repeat(A, [1, 2], axis=0)", "repeat(C, [1, 0, 2], 1)"],
    "take": ["take(A, [[0, 5], [2, 3]])", "take(C, [2, 0, 2], axis=2)"],
    "pad": ["pad(A, 2)", "pad(C, ((1, 0), (0, 2), (3, 1)))"],
    "tril": ["tril(M)", "tril(x)"],
    "triu": ["triu(C, 1)", "triu(y)"],
    "diagonal": ["diagonal(C, 1, 1, 2)", "diagonal(M, -1)"],
    "ptp": ["ptp(C, 1)"],
    "nansum": ["nansum(C, axis=0)"],
    "nanmean": ["nanmean(A, 1)"],
    "average": ["average(C, 2, y)", "average(A)"],
    "take_along_axis": ["take_along_axis(A, [[0], [2]], 1)", "take_along_axis(x, [5, 0, 2, 2], axis=None)"],
    "sort": ["sort(C)", "sort(C, axis=None)"],
    "median": ["median(C, 1)", "median(C, (0, 2), keepdims=True)"],
    "quantile": ["quantile(C, [0.1, 0.5], axis=2)", "quantile(A, 0.3)"],
    "percentile": ["percentile(C, [[10], [50]], axis=(0, 1))"],
    "tensordot": ["tensordot(C, reshape(x, (3, 2)), ([1], [0]))", "tensordot(transpose(A), C, 1)"],
    "outer": ["outer(A, y)"],
    "inner": ["inner(C, y)", "inner(A, 2)"],
    "vdot": ["vdot(A, x)"],
    "kron": ["kron(A, M)", "kron(y, C)"],
    "matrix_power": ["matrix_power(M, 5)", "matrix_power(M, -3)", "matrix_power(M, 0) + M"],
    "eigvalsh": ["eigvalsh(M)"],
    "svdvals": ["svdvals(A)"],
    "ravel": ["ravel(C)"],
    "flatten": ["flatten(A)"],
    "squeeze": ["squeeze(expand_dims(A, 0))"],
    "moveaxis": ["moveaxis(C, 0, -1)"],
    "rollaxis": ["rollaxis(C, 2)"],
    "fliplr": ["fliplr(A)"],
    "flipud": ["flipud(C)"],
    "rot90": ["rot90(C, 1, (2, 0))", "rot90(A, 2)"],
    "diag": ["diag(y, -2)", "diag(A, 1)"],
    "split": ["stack(split(x, 3))", "concatenate(split(C, [1, 3], axis=2), 2)"],
    "array_split": ["concatenate(array_split(x, 4))"],
    "hsplit": ["concatenate(hsplit(A, 3), 1)"],
    "vsplit": ["concatenate(vsplit(C, [1]))"],
    "dsplit": ["concatenate(dsplit(C, 2), 2)"],
    "atleast_1d": ["atleast_1d(x)"],
    "atleast_2d": ["concatenate(atleast_2d(x, y), axis=None)"],
    "atleast_3d": ["atleast_3d(A)"],
    "vstack": ["vstack([x, x])", "vstack(A)"],
    "hstack": ["hstack([A, A])"],
    "dstack": ["dstack([A, A])"],
    "column_stack": ["column_stack([x, x])"],
    "append": ["append(A, y)", "append(A, M, axis=0)"],
    "select": [],
    "broadcast_arrays": ["stack(broadcast_arrays(A, x[0:3]))"],
    "meshgrid": ["stack(meshgrid(x, y))", "concatenate(meshgrid(x, y, sparse=True), axis=None)"],
}


OP_CASES: dict[str, list[str]] = {
    **{name: [f"{name}(x)"] for name in _ELEMENTWISE if name not in _TWO_ARGUMENTS},
    **{name: [f"{name}(reshape(x, (6, 1)), y)"] for name in _TWO_ARGUMENTS},
    "arccosh": ["arccosh(x + 2)"],
    "where": ["where([[1], [0]], A, y[0:3])"],
    "clip": ["clip(reshape(x, (6, 1)), 0.2, y)"],
    "astype": [],
    **SPECIAL_CASES,
}
# Calls explain cannot write (a dtype, boolean conditions, a string option): the rule is checked directly.
DIRECT_CASES = [
    ("astype", lambda: ((ag.Tensor([[1.0, 2.0]]), np.float32), {})),
    (
        "select",
        lambda: (([np.array([True, False, True]), np.array([[False], [True]])], [ag.Tensor([1.0, 2, 3]), 2.0]), {}),
    ),
    ("meshgrid", lambda: ((ag.Tensor([1.0, 2.0]), ag.Tensor([1.0, 2, 3]), ag.Tensor([4.0])), {"indexing": "ij"})),
    ("einsum", lambda: (("ij,jk->ik", ag.Tensor(np.ones((2, 3))), ag.Tensor(np.ones((3, 4)))), {})),
    ("qr", lambda: ((ag.Tensor(np.ones((4, 3))),), {"mode": "r"})),
]


def _variables() -> dict[str, np.ndarray]:
    return {name: ex.parse_value(value) for name, value in BINDINGS.items()}


def _check_call(function: str, arguments: list, keywords: dict, result: object) -> None:
    """The planned results hold the real ones: the result's size is planned exactly, nothing is underestimated."""
    made = ex.planned_results(function, arguments, keywords)
    pieces = list(result) if isinstance(result, (list, tuple)) else [result]
    sizes = [piece.size for piece in pieces]
    assert ex._total(made) >= sum(sizes), (function, made, sizes)
    assert max(math.prod(shape) for shape, copies in made if copies) >= max(sizes), (function, made, sizes)
    if isinstance(result, ag.Tensor):
        assert result.size in {math.prod(shape) for shape, _ in made}, (function, made, result.shape)


def test_every_op_explain_allows_has_a_size_rule_and_a_case() -> None:
    assert set(ag.OPS) == set(ex._RULES), "a new op needs a size rule in expression._RULES (or explain refuses it)"
    spelled = {name for name, cases in OP_CASES.items() if cases} | {name for name, _ in DIRECT_CASES}
    assert set(ag.OPS) <= spelled, set(ag.OPS) - spelled


@pytest.mark.parametrize("name", sorted(ag.OPS))
def test_each_ops_size_rule_matches_what_the_op_makes(name, monkeypatch) -> None:
    calls = []
    run = ex.Evaluator.run

    def checked(self, function, arguments, keywords=None):
        result = run(self, function, arguments, keywords)
        calls.append((function, arguments, keywords or {}, result))
        return result

    monkeypatch.setattr(ex.Evaluator, "run", checked)
    for text in OP_CASES.get(name, []):
        calls.clear()
        ex.evaluate_expression(text, _variables())
        assert name in [call[0] for call in calls], text
        for call in calls:
            _check_call(*call)
    for function, make in DIRECT_CASES:
        if function == name:
            arguments, keywords = make()
            _check_call(function, list(arguments), keywords, getattr(ag, function)(*arguments, **keywords))


def test_an_op_without_a_size_rule_is_refused(monkeypatch) -> None:
    monkeypatch.delitem(ex._RULES, "tril")
    with pytest.raises(ex.RefusedError, match=r"^tril\(\) is not available in explain: its result size"):
        ex.evaluate_expression("tril(A)", _variables())


GETITEM_INDICES = [
    0, -1, (1, 2), slice(None), (slice(1, None, 2), None), (Ellipsis, 0), (None, Ellipsis, None), [0, 1, 1],
    [[0], [1]], ([0, 1], slice(None), 0), (0, slice(None), [0, 1]), (slice(None), [0, 1], [1, 2]),
    ([0, 1], None, [1, 2]), (Ellipsis, [True, False, True, False]), [True, False], True, False, (True, [0, 1]),
    [], ([], 0), (slice(None), [[True, False, True, False]] * 3),
]  # fmt: skip


@pytest.mark.parametrize("index", GETITEM_INDICES, ids=repr)
def test_getitems_shape_comes_from_the_index_alone(index) -> None:
    assert ex.getitem_shape((2, 3, 4), index) == ag.getitem(ag.Tensor(np.zeros((2, 3, 4))), index).shape


def _random_index_part(rng: random.Random, n: int) -> object:
    kind = rng.random()
    if kind < 0.2:
        return rng.randrange(-n - 1, n + 1) if n else 0
    if kind < 0.4:
        return slice(rng.choice([None, -2, 0, 1, 5]), rng.choice([None, -1, 2, 7]), rng.choice([None, 1, 2, -1, -3]))
    if kind < 0.55:
        return rng.choice([None, Ellipsis, rng.random() < 0.5])
    if kind < 0.8:
        return [rng.randrange(-n - 1, n + 1) for _ in range(rng.choice([0, 1, 2]))] if n else []
    if kind < 0.9:
        return [[rng.randrange(-n, n)] for _ in range(2)] if n else [[]]
    return [rng.random() < 0.5 for _ in range(n)]


def test_getitem_shape_agrees_with_numpy_on_random_indices() -> None:
    rng, valid = random.Random(12), 0
    for _ in range(3000):
        shape = tuple(rng.choice([0, 1, 2, 3, 4]) for _ in range(rng.randrange(0, 4)))
        index = tuple(_random_index_part(rng, shape[min(i, len(shape) - 1)] if shape else 1) for i in range(3))
        index = index[: rng.randrange(0, 4)]
        try:
            expected = ag.getitem(ag.Tensor(np.zeros(shape)), index).shape
        except (IndexError, ValueError, TypeError):
            with pytest.raises((IndexError, ValueError, TypeError)):
                ex.getitem_shape(shape, index)
            continue
        valid += 1
        assert ex.getitem_shape(shape, index) == expected, (shape, index)
    assert valid > 1000


# ----- memory bombs: refused before anything big is made (in a subprocess with at most 1.5 GB) -----------------------
ROWS_OF_ZEROS = ",".join(["[" + ",".join(["0"] * 32) + "]"] * 6)
LONG = "x=[" + ",".join(["1"] * 5000) + "]"
BOMBS = [
    (
        f"sum(getitem(broadcast_to(x,(1,1000,1000)),[{ROWS_OF_ZEROS}]))",
        "x=1",
        "getitem would make 192,000,000 elements",
    ),
    ("sum(tril(x))", LONG, "tril would make 25,000,000 elements"),
    ("sum(diag(x))", LONG, "diag would make 25,000,000 elements"),
    ("sum(kron(x, x))", LONG, "kron would make 25,000,000 elements"),
    ("sum(outer(x, x))", LONG, "outer would make 25,000,000 elements"),
    ("sum(tile(x, 1000))", LONG, "tile would make 5,000,000 elements"),
    ("sum(repeat(x, 1000))", LONG, "repeat would make 5,000,000 elements"),
    ("sum(pad(x, 1000000))", LONG, "pad would make 2,005,000 elements"),
    ("sum(stack(meshgrid(x, x)))", LONG, "meshgrid would make 25,000,000 elements"),
    ("sum(einsum(x, [0], x, [1], [0, 1]))", LONG, "einsum would make 25,000,000 elements"),
    ("sum(tensordot(x, x, 0))", LONG, "tensordot would make 25,000,000 elements"),
    ("sum(inner(reshape(x, (5000, 1)), reshape(x, (5000, 1))))", LONG, "inner would make 25,000,000 elements"),
    ("sum(dot(reshape(x, (5000, 1)), reshape(x, (1, 1, 5000))))", LONG, "dot would make 25,000,000 elements"),
    ("sum(stack(broadcast_arrays(x, reshape(x, (-1, 1)))))", LONG, "broadcast_arrays would make 25,000,000"),
    ("sum(concatenate(array_split(x, 1000000000)))", LONG, "array_split would bring the intermediate results to"),
    ("sum(stack(x))", "x=[" + ",".join(["1"] * 9999) + "]", "the step-by-step trace would keep 300,019,997 numbers"),
]

_BOMB_RUNNER = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
import contextlib, io
from autograd_lite.teaching import explain
results = []
for expression, binding in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = explain.main([expression, "--at", binding])
    results.append((code, out.getvalue(), err.getvalue()))
# VmHWM: this process's own peak (ru_maxrss would include the parent's size at fork)
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"results": results, "peak_kb": peak}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status are Linux's")
def test_memory_bombs_are_refused_before_they_go_off() -> None:
    cases = [(expression, binding) for expression, binding, _ in BOMBS]
    process = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_BOMB_RUNNER)], input=json.dumps(cases), capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-2000:]
    report = json.loads(process.stdout)
    for (expression, _, reason), (code, out, err) in zip(BOMBS, report["results"]):
        assert code == 2 and out == "", (expression, code, err)
        assert len(err.splitlines()) == 1 and err.startswith("autograd-lite explain: error: "), err
        assert reason in err, (expression, err)
    assert report["peak_kb"] < 400 * 1024  # nothing big was made on the way to the refusals


def test_the_trace_budget_is_worked_out_from_the_graph() -> None:
    output = ex.evaluate_expression("sum(stack(x))", {"x": np.ones(9999)})
    assert explain.trace_elements(output) > explain.MAX_TRACE_ELEMENTS
    small = ex.evaluate_expression("sum(stack(x))", {"x": np.ones(100)})
    assert explain.trace_elements(small) < explain.MAX_TRACE_ELEMENTS
    _, trace = explain.explain("sum(stack(x))", {"x": np.ones(100)})
    assert np.array_equal(trace.gradients["x"], np.ones(100))


# ----- flat chains are not deep nesting ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "gradient"),
    [
        ("+".join(["x"] * 34), 34.0),
        ("+".join(["x"] * 250), 250.0),
        ("*".join(["x"] * 34) + "/x-x", 33.0 * 2**32 - 1),
        ("-".join(["x"] * 100) + "+" + "*".join(["2"] * 40), -98.0),
        ("+".join(["exp(x)"] * 60), 60 * math.exp(2.0)),
    ],
)
def test_long_flat_chains_are_fine(expression, gradient, capsys) -> None:
    code = explain.main([expression, "--at", "x=2"])
    out = capsys.readouterr().out
    assert code == 0 and out.splitlines()[-1].startswith("  df/dx = "), out[-300:]
    assert float(out.splitlines()[-1].split("=")[1]) == pytest.approx(gradient, rel=1e-12)


@pytest.mark.parametrize(
    "expression",
    ["(" * 40 + "x" + ")" * 40 + "+" + "(x+" * 40 + "x" + ")" * 40, "x+(" * 40 + "x" + ")" * 40,
     "-(" * 40 + "x" + ")" * 40, "x**" * 40 + "x"],
)  # fmt: skip
def test_real_nesting_is_still_refused(expression, capsys) -> None:
    code = explain.main([expression, "--at", "x=1"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == f"autograd-lite explain: error: expression is nested more than {ex.MAX_DEPTH} levels deep\n"


# ----- what reaches the user -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression", ["mean(x)", "nanmean(x) + mean(x, axis=0)", "var(x) + std(x)", "max(x)"])
def test_numpy_warnings_do_not_reach_the_user(expression, capsys) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning escaping explain would now be an exception
        code = explain.main([expression, "--at", "x=[]"])
    captured = capsys.readouterr()
    assert captured.err == "" or (code == 2 and len(captured.err.splitlines()) == 1), captured.err
    assert ".py" not in captured.out + captured.err and "Warning" not in captured.out + captured.err


def test_no_warning_text_on_the_real_command_line(tmp_path) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "autograd_lite.cli", "explain", "mean(x)", "--at", "x=[]"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert process.returncode == 0 and process.stderr == "", process.stderr
    assert "f (nan)" in process.stdout and ".py" not in process.stdout


@pytest.mark.parametrize("option", ["--dot", "--svg", "--html"])
def test_a_file_name_with_a_null_byte_is_refused_before_any_work(option, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = explain.main(["x*x", "--at", "x=3", option, "graph\0.gv"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert (
        captured.err
        == f"autograd-lite explain: error: {option} 'graph\\x00.gv': a file name cannot contain a null byte\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["x\0", "a\0b", "x y", "", "f", "exp", "lambda"])
def test_explain_refuses_names_the_command_line_would(name) -> None:
    with pytest.raises(ex.RefusedError):
        explain.explain("1 + 1", {name: np.array(1.0)})


def test_the_table_of_a_small_case_is_unchanged(capsys) -> None:
    assert explain.main(["x*x", "--at", "x=3"]) == 0
    assert capsys.readouterr().out == textwrap.dedent(
        """\
        f = x*x at x = 3.0

        backward pass of f (9), 1 step, seed df/df = 1

        step  op   computes   value  upstream df/d(out)  local derivative  local  to  sends  total
        ----  ---  ---------  -----  ------------------  ----------------  -----  --  -----  ---------
        1     Mul  f = x * x  9      1                   d(x*x)/dx = x     3      x   3      3
                                                         d(x*x)/dx = x     3      x   3      3 + 3 = 6

        gradients:
          df/dx = 6.0
        """
    )
