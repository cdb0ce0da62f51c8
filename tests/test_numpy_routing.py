"""NumPy on Tensors: every callable differentiates correctly or refuses; nothing writes into a Tensor.

``test_a_numpy_callable_differentiates_correctly_or_refuses`` enumerates NumPy's public callables
(``np.*``, ``np.linalg.*``, the ufuncs) and calls each on small float Tensors that require grad,
inside a recorded computation: each one raises, or returns Tensors whose gradient matches central
differences of NumPy itself, or is in the documented list of non-differentiable functions and
returns plain arrays. None may return a silent constant. This guards every op added later.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import op_cases
import pytest

import autograd_lite as ag
from autograd_lite import numpy_routing

VECTOR = np.array([0.3, 0.6, 0.8])  # distinct, positive, below 1: inside most functions' domains
MATRIX = np.array([[2.0, 0.5], [0.3, 1.5]])  # square, invertible, positive, distinct entries
CALLABLES = list(numpy_routing.numpy_callables())


def parts(result: Any) -> Iterator[Any]:
    """The arrays, numbers and Tensors inside a result (tuples, lists and named tuples opened)."""
    if isinstance(result, (tuple, list)):
        for item in result:
            yield from parts(item)
    else:
        yield result


def weighted_total(result: Any, library: Any) -> Any:
    """Sum of every float part of ``result`` times fixed weights (so every output element matters)."""
    total = 0.0
    for index, part in enumerate(parts(result)):
        if isinstance(part, ag.Tensor) or np.asarray(part).dtype.kind == "f":
            weights = np.random.default_rng(index).uniform(0.5, 1.5, np.shape(part))
            total = total + library.sum(part * weights)
    return total


def is_float(value: Any) -> bool:
    data = value.data if isinstance(value, ag.Tensor) else value
    return isinstance(data, (float, np.floating)) or (isinstance(data, np.ndarray) and data.dtype.kind == "f")


def _finite_in_numpy(function: Any, arrays: list[np.ndarray]) -> bool:
    """Whether NumPy itself gives finite numbers here (an error also counts: the call is for the Tensor side)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = [part for part in parts(function(*[array.copy() for array in arrays])) if is_float(part)]
        except Exception:
            return True
    return all(np.all(np.isfinite(np.asarray(part))) for part in found)


def central_differences(function: Any, arrays: list[np.ndarray], step: float = 1e-6) -> list[np.ndarray]:
    gradients = []
    for position, array in enumerate(arrays):
        gradient = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            shifted = [a.copy() for a in arrays]
            shifted[position][index] += step
            up = weighted_total(function(*shifted), np)
            shifted[position][index] -= 2 * step
            down = weighted_total(function(*shifted), np)
            gradient[index] = (up - down) / (2 * step)
        gradients.append(gradient)
    return gradients


def outcome(name: str, numpy_function: Any, arrays: list[np.ndarray], call: Any = None) -> str:
    """Call ``numpy_function`` on Tensors that require grad and check what came back.

    ``call(f, *arrays)`` passes the arrays with whatever other arguments ``f`` needs (default: f(*arrays)).
    """
    function = numpy_function if call is None else (lambda *values: call(numpy_function, *values))
    if not _finite_in_numpy(function, arrays):
        return "outside the domain"  # e.g. arccos of 2: no derivative to compare with
    tensors = [ag.Tensor(array, requires_grad=True) for array in arrays]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = function(*tensors)
    except Exception:
        return "raised"
    found = list(parts(result))
    if not any(isinstance(part, ag.Tensor) and part.requires_grad for part in found):
        if not any(is_float(part) for part in found):
            return "no numbers"  # None, text, integers, booleans: nothing a gradient could flow through
        assert numpy_function in numpy_routing.NON_DIFFERENTIABLE, (
            f"{name} returned {type(result).__name__} without a gradient: not in NON_DIFFERENTIABLE, so this is a "
            f"silently lost gradient"
        )
        return "plain"
    argnums = tuple(range(len(arrays)))
    analytic = ag.grad(lambda *ts: weighted_total(function(*ts), ag), argnums=argnums)(*arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        numeric = central_differences(function, [array.copy() for array in arrays])
    for index, (got, expected) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(got.data, expected, rtol=1e-4, atol=1e-6, err_msg=f"{name}: d/d argument {index}")
    return "differentiable"


#: Calls for functions that need arguments besides the arrays (shapes, axes, a condition, bounds).
CALLS_WITH_PARAMETERS: dict[str, list[tuple[tuple[np.ndarray, ...], Any]]] = {
    "np.reshape": [((MATRIX,), lambda f, a: f(a, (4, 1)))],
    "np.broadcast_to": [((VECTOR,), lambda f, a: f(a, (2, 3)))],
    "np.swapaxes": [((MATRIX,), lambda f, a: f(a, 0, 1))],
    "np.expand_dims": [((VECTOR,), lambda f, a: f(a, 0))],
    "np.where": [((VECTOR, VECTOR[::-1].copy()), lambda f, a, b: f(np.array([True, False, True]), a, b))],
    "np.clip": [((VECTOR,), lambda f, a: f(a, 0.4, 0.7)), ((VECTOR, VECTOR * 0 + 0.5), lambda f, a, b: f(a, b, 0.7))],
    **op_cases.NUMPY_CALLS,
}


@pytest.mark.parametrize(("name", "function"), CALLABLES, ids=[name for name, _ in CALLABLES])
def test_a_numpy_callable_differentiates_correctly_or_refuses(name: str, function: Any) -> None:
    samples = (MATRIX,) if name.startswith("np.linalg.") else (VECTOR, MATRIX)
    if name in CALLS_WITH_PARAMETERS:  # the calls it needs (at points where it is differentiable)
        seen = {outcome(name, function, list(arrays), call) for arrays, call in CALLS_WITH_PARAMETERS[name]}
    else:
        seen = {outcome(name, function, [sample] * count) for sample in samples for count in (1, 2)}
    expected = numpy_routing.classify(function)
    if expected == "differentiable":
        assert "differentiable" in seen, f"{name} is routed to an op but never gave a gradient"
    if expected == "refused while recording":
        assert "raised" in seen and seen <= {"raised", "outside the domain"}, f"{name} should refuse, but gave {seen}"


REFUSED = [(name, function) for name, function in CALLABLES if numpy_routing.classify(function).startswith("refused")]


@pytest.mark.parametrize(("name", "function"), REFUSED, ids=[name for name, _ in REFUSED])
def test_a_refusal_names_the_function_and_what_to_do(name: str, function: Any) -> None:
    x = ag.Tensor(VECTOR, requires_grad=True)
    try:
        function(x)
    except TypeError as error:
        if "has no derivative" in str(error) or "would drop its gradient" in str(error):
            # the function by NumPy's name (an alias such as np.row_stack reports the function it runs)
            message = str(error)
            assert "np.asarray" in message or re.search(r"np\.[a-z0-9_.]+ has no derivative", message)
            assert "ag.no_grad()" in str(error)
    except Exception:
        pass  # NumPy refused the arguments before dispatching: also no silent constant
    else:
        pytest.fail(f"{name}(x) on a Tensor that requires grad returned instead of refusing")


@pytest.mark.parametrize(("name", "function"), REFUSED, ids=[name for name, _ in REFUSED])
def test_outside_recording_a_refused_function_runs_on_the_values(name: str, function: Any) -> None:
    if not (isinstance(function, np.ufunc) or hasattr(function, "_implementation")):
        return  # not dispatched to Tensors: NumPy converts them (np.asarray) or rejects them itself
    x = ag.Tensor(VECTOR, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = function(VECTOR.copy())
        except Exception:
            return
        with ag.no_grad():
            result = function(x)
    assert not isinstance(result, ag.Tensor)
    for got, want in zip(parts(result), parts(expected)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


# ----- the examples of the issue: each was a silently wrong gradient ------------------
def test_the_issues_examples_give_their_true_gradients() -> None:
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(ag.grad(lambda t: np.sum(np.tan(t)))(x).data, 1 / np.cos(x) ** 2)
    np.testing.assert_allclose(ag.grad(lambda t: np.cumsum(t)[-1] + t[0])(x).data, [2.0, 1.0])
    np.testing.assert_allclose(ag.grad(lambda t: np.linalg.norm(t))(np.array([3.0, 4.0])).data, [0.6, 0.8])


def test_a_function_without_a_derivative_refuses_instead_of_a_constant() -> None:
    with pytest.raises(TypeError, match="np.convolve has no derivative"):
        ag.grad(lambda t: np.sum(np.convolve(t, t)))(np.array([1.0, 2.0]))
    with ag.no_grad():
        np.testing.assert_array_equal(np.convolve(ag.Tensor([1.0, 2.0], requires_grad=True), [1.0]), [1.0, 2.0])


def test_an_array_built_of_tensors_refuses_and_stack_differentiates() -> None:
    with pytest.raises(TypeError, match="would drop its gradient"):
        ag.grad(lambda x: np.mean(np.array([x, x + 2])))(0.0)
    for build in (lambda x: np.r_[x, x], lambda x: np.c_[x, x]):
        with pytest.raises(TypeError, match="would drop its gradient"):
            ag.grad(lambda x, b=build: np.sum(b(x)))(np.array([1.0]))
    assert ag.grad(lambda x: np.mean(np.stack([x, x + 2])))(0.0).item() == 1.0


def test_non_differentiable_functions_return_plain_arrays_while_recording() -> None:
    x = ag.Tensor([3.0, -1.0, 2.0], requires_grad=True)
    assert np.argmax(x) == 0 and isinstance(np.floor(x), np.ndarray) and np.floor(x).tolist() == [3, -1, 2]
    assert np.isnan(x).tolist() == [False, False, False] and np.shape(x) == (3,)


# ----- no NumPy call writes into a Tensor --------------------------------------------------
def pending_product() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor]:
    x, c = ag.Tensor([1.0, 2.0], requires_grad=True), ag.Tensor([3.0, 4.0])
    return x, c, (x * c).sum()


WRITES = {
    "np.asarray(t)[0] = 5": lambda t: np.asarray(t).__setitem__(0, 5.0),
    "t.numpy()[0] = 5": lambda t: t.numpy().__setitem__(0, 5.0),
    "a view of t.numpy()": lambda t: t.numpy().reshape(2, 1).__setitem__((0, 0), 5.0),
    "np.exp(t, out=t)": lambda t: np.exp(t, out=t),
    "np.add(1, 1, out=t)": lambda t: np.add(1.0, 1.0, out=t),
    "np.multiply(a, b, out=np.asarray(t))": lambda t: np.multiply(2.0, 2.0, out=np.asarray(t)),
    "np.copyto(t, 5)": lambda t: np.copyto(t, 5.0),
    "np.add.at(t, [0], 1)": lambda t: np.add.at(t, [0], 1.0),
    "np.put(t, [0], 5)": lambda t: np.put(t, [0], 5.0),
    "np.fill_diagonal(t, 5)": lambda t: np.fill_diagonal(t.reshape(1, 2), 5.0),
}


@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
@pytest.mark.parametrize("mode", ["recording", "no_grad"])
def test_no_numpy_call_writes_into_a_tensor_a_pending_backward_needs(write: str, mode: str) -> None:
    x, c, total = pending_product()
    for target in (x, c):  # the leaf that requires grad, and the constant whose values the gradient needs
        with ag.no_grad() if mode == "no_grad" else ag.enable_grad():
            with pytest.raises((TypeError, ValueError)):
                WRITES[write](target)
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    np.testing.assert_array_equal(c.data, [3.0, 4.0])
    total.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_the_numpy_command_lists_and_answers_for_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert numpy_routing.main(["exp", "np.argmax", "linalg.norm"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["np.exp: differentiable", "np.argmax: non-differentiable"]
    assert numpy_routing.main(["no_such_function"]) == 2
    capsys.readouterr()
    assert numpy_routing.main([]) == 0
    listing = capsys.readouterr().out
    counts = {kind: len(names) for kind, names in _groups().items()}
    for kind, count in counts.items():
        assert f"{kind} ({count}):" in listing


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, function in numpy_routing.numpy_callables():
        groups.setdefault(numpy_routing.classify(function), []).append(name)
    return groups


def test_histogram_edges_move_with_the_data_so_they_refuse_while_recording() -> None:
    x = ag.Tensor([0.5, 1.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match="histogram_bin_edges"):
        np.histogram_bin_edges(x, bins=3)


def test_the_numpy_command_reports_a_bad_option_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        numpy_routing.main(["--bogus"])
    assert stop.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
