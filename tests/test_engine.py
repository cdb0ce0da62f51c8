"""The engine core: tape order, accumulation, graph lifetime, dtypes, errors, deep graphs."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from strategies import arrays, shapes

import autograd_lite as ag


def test_readme_example_gradients_have_parameter_shapes() -> None:
    x = ag.Tensor([[1.0, 2.0]], requires_grad=True)
    W = ag.Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    b = ag.Tensor(np.zeros(3), requires_grad=True)
    loss = (ag.sigmoid(x @ W + b) ** 2).mean()
    loss.backward()
    assert W.grad.shape == (2, 3) and b.grad.shape == (3,) and x.grad.shape == (1, 2)
    s = 1 / (1 + np.exp(-(x.data @ W.data)))
    expected_b = (2 * s * s * (1 - s) / 3).reshape(3)
    np.testing.assert_allclose(b.grad, expected_b, rtol=1e-12)


def test_tape_lists_nodes_in_execution_order() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    y = ag.exp(-x)
    z = 1 / (1 + y)
    assert [node.op for node in ag.tape(z)] == ["Neg", "Exp", "Add", "Div"]
    assert all(isinstance(node.formula, str) and node.formula for node in ag.tape(z))


def test_a_tensor_used_twice_gets_the_sum_of_both_gradients() -> None:
    a = ag.Tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    (x * x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)


def test_gradients_accumulate_across_backward_calls_until_zero_grad() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_leaf_gradients_are_independent_arrays() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = ag.Tensor([1.0, 2.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad += 1
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])


def test_backward_twice_through_released_graph_names_retain_graph() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    y = ag.exp(x) * 2
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    z = ag.exp(x) * 2
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad == pytest.approx(2 * np.e + 4 * np.e)


def test_freed_graph_is_collected_without_cycles() -> None:
    gc.collect()
    gc.disable()
    try:
        x = ag.Tensor(np.ones(3), requires_grad=True)
        y = ag.tanh(x * 2).sum()
        node_ref = weakref.ref(y.node)
        middle_ref = weakref.ref(y.node.inputs[0])
        y.backward()
        del y
        assert node_ref() is None and middle_ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_deep_chain_of_100000_ops_backpropagates_iteratively() -> None:
    x = ag.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_no_grad_records_nothing() -> None:
    x = ag.Tensor([1.0], requires_grad=True)
    with ag.no_grad():
        y = ag.exp(x) * 2
    assert y.node is None and not y.requires_grad

    @ag.no_grad()
    def double(t: ag.Tensor) -> ag.Tensor:
        return t * 2

    assert double(x).node is None
    assert (x * 2).node is not None  # recording is back on outside

    @ag.no_grad
    def triple(t: ag.Tensor) -> ag.Tensor:
        return t * 3

    assert triple(x).node is None and triple.__name__ == "triple"


def test_modifying_data_needed_by_backward_is_detected() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.data += 1.0
    with pytest.raises(RuntimeError, match="Mul.*modified in place"):
        y.backward()


def test_detach_cuts_the_graph() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    y = x * x.detach()
    y.backward()
    assert x.grad == 2.0


def test_retain_grad_keeps_intermediate_gradient() -> None:
    x = ag.Tensor(2.0, requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).backward()
    assert h.grad == 12.0


# ----- ties and kinks -----------------------------------------------------------
def test_max_splits_gradient_evenly_between_ties() -> None:
    x = ag.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])
    x.zero_grad()
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])


def test_maximum_and_minimum_split_ties_half_each() -> None:
    a = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ag.Tensor([1.0, 5.0, 0.0], requires_grad=True)
    ag.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0, 1])
    np.testing.assert_array_equal(b.grad, [0.5, 1, 0])
    a.zero_grad(), b.zero_grad()
    ag.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1, 0])


def test_relu_derivative_at_zero_is_zero() -> None:
    x = ag.Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    ag.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1])


def test_getitem_with_repeated_indices_accumulates() -> None:
    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])


# ----- dtypes -------------------------------------------------------------------
def test_float32_stays_float32_with_python_scalars() -> None:
    x = ag.Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    y = ag.sigmoid(2.0 * x + 1) ** 2 / 3.0 - 0.5
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_default_dtype_is_float64_and_integers_become_float_with_requires_grad() -> None:
    assert ag.Tensor([1.0]).dtype == np.float64
    assert ag.Tensor([1, 2], requires_grad=True).dtype == np.float64
    assert ag.Tensor([1, 2]).dtype.kind == "i"


def test_requires_grad_on_complex_or_object_data_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="requires_grad=True needs real floating-point data.*complex"):
        ag.Tensor([1 + 2j], requires_grad=True)
    with pytest.raises(TypeError, match="object"):
        ag.Tensor(np.array([None, 1.0], dtype=object), requires_grad=True)


# ----- NumPy interoperability -----------------------------------------------------
def test_numpy_functions_on_tensors() -> None:
    t = ag.Tensor([[1.0, -2.0]], requires_grad=True)
    with pytest.raises(TypeError, match="would drop its gradient"):
        np.asarray(t)  # while recording, an implicit conversion would lose the gradient
    with ag.no_grad():
        assert isinstance(np.asarray(t), np.ndarray)
        np.testing.assert_array_equal(np.asarray(t), t.data)
    y = np.exp(t)  # routed to ag.exp: differentiable
    assert isinstance(y, ag.Tensor) and y.node is not None
    z = np.ones((1, 2)) * t  # reflected through __array_ufunc__
    assert isinstance(z, ag.Tensor) and z.node is not None
    comparison = t > 0
    assert isinstance(comparison, np.ndarray) and comparison.dtype == bool
    assert np.allclose(t, t.data)


def test_item_numpy_len_and_properties() -> None:
    t = ag.Tensor(np.arange(6.0).reshape(2, 3), name="t")
    assert (t.shape, t.ndim, t.size, len(t), t.name) == ((2, 3), 2, 6, 2, "t")
    assert ag.Tensor([[4.0]]).item() == 4.0
    assert np.shares_memory(t.numpy(), t.data) and not t.numpy().flags.writeable and t.data.flags.writeable
    assert t.T.shape == (3, 2) and t.transpose(1, 0).shape == (3, 2) and t.reshape(3, 2).shape == (3, 2)


# ----- stability ----------------------------------------------------------------
@given(arrays(shapes))
def test_sigmoid_and_softmax_never_overflow(x: np.ndarray) -> None:
    big = ag.Tensor(x * 1e4 / 3, requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        s = ag.sigmoid(big)
        p = ag.softmax(big.reshape(-1))
        lp = ag.log_softmax(big.reshape(-1))
        lse = ag.logsumexp(big)
        (s.sum() + p.sum() + lp.sum() + lse).backward()
    assert np.all(np.isfinite(s.data)) and np.all((s.data >= 0) & (s.data <= 1))
    np.testing.assert_allclose(p.data.sum(), 1.0)
    assert np.all(np.isfinite(lp.data)) and np.isfinite(lse.item())


@pytest.mark.parametrize(("value", "expected"), [(0.0, -np.inf), (-1.0, np.nan)])
def test_log_warns_where_numpy_warns_and_gives_its_value(value: float, expected: float) -> None:
    x = ag.Tensor([value, 1.0], requires_grad=True)
    with pytest.warns(RuntimeWarning):
        y = ag.log(x)
    np.testing.assert_array_equal(y.data, [expected, 0.0])
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):  # NumPy's settings are the user's
        ag.log(x)


# ----- clear errors naming the op -----------------------------------------------
def test_matmul_shape_mismatch_names_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        ag.Tensor(np.ones((2, 3))) @ ag.Tensor(np.ones((4, 5)))


def test_non_broadcastable_shapes_name_the_op() -> None:
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4,\)"):
        ag.add(np.ones((2, 3)), ag.Tensor(np.ones(4)))


def test_backward_on_non_scalar_without_grad_is_an_error() -> None:
    y = ag.Tensor(np.ones(3), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"backward\(\).*shape \(3,\).*grad="):
        y.backward()


def test_backward_with_wrong_grad_shape_is_an_error() -> None:
    y = ag.Tensor(np.ones(3), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"backward\(\): grad has shape \(2,\)"):
        y.backward(np.ones(2))
    y.backward(np.array([1.0, 2.0, 3.0]))


def test_grad_of_function_returning_non_scalar_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"grad: .*single number.*\(3,\)"):
        ag.grad(lambda t: t * 2)(np.ones(3))


def test_unknown_axis_names_the_op() -> None:
    with pytest.raises(ValueError, match=r"sum: invalid axis 3 .*\(2, 2\)"):
        ag.sum(np.ones((2, 2)), axis=3)
    with pytest.raises(ValueError, match="mean"):
        ag.Tensor(np.ones(2)).mean(axis=(0, 0))


def test_dot_follows_numpy_on_n_d_operands_and_rejects_a_mismatch() -> None:
    a, b = np.arange(8.0).reshape(2, 2, 2), np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ag.dot(a, b).data, np.dot(a, b))
    with pytest.raises(ValueError, match=r"dot: shapes \(2,\) and \(3,\)"):
        ag.dot(np.ones(2), np.ones(3))


def test_backward_on_tensor_without_grad_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.Tensor(1.0).backward()


def test_in_place_update_of_a_parameter_needs_no_grad() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match=r"-=.*no_grad"):
        w -= 0.1 * w.grad
    with ag.no_grad():
        w -= 0.1 * w.grad
    assert w.node is None and w.requires_grad
    np.testing.assert_allclose(w.data, [0.8, 1.6])


def test_in_place_update_invalidates_pending_backward() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = (ag.exp(w)).sum()
    with ag.no_grad():
        w *= 2
    with pytest.raises(RuntimeError, match="Exp.*modified in place"):
        y.backward()


def test_python_number_conversions() -> None:
    assert float(ag.Tensor([2.5])) == 2.5 and int(ag.Tensor(3.0)) == 3
    assert bool(ag.Tensor(1.0)) and not bool(ag.Tensor(0.0))


def test_concatenate_with_axis_none_flattens_like_numpy() -> None:
    a, b = np.ones((2, 2)), np.arange(3.0)
    out = ag.concatenate([a, b], axis=None)
    np.testing.assert_array_equal(out.data, np.concatenate([a, b], axis=None))
    assert ag.check_grad(lambda x, y: (ag.concatenate([x, y], axis=None) ** 2).sum(), a, b)


@given(arrays(shapes.filter(lambda s: len(s) >= 1)))
def test_softmax_cross_entropy_is_stable_for_extreme_logits(x: np.ndarray) -> None:
    logits = ag.Tensor(x * 1e3 / 3, requires_grad=True)  # up to ±1000
    labels = np.zeros(x.shape[:-1], dtype=np.int64)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = ag.softmax_cross_entropy(logits, labels).sum()
        loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad))
    np.testing.assert_allclose(logits.grad.sum(axis=-1), 0.0, atol=1e-9)  # softmax - one-hot sums to 0


def test_a_tensor_that_requires_grad_owns_a_copy_of_the_callers_array() -> None:
    values = np.array([1.0, 2.0])
    w = ag.Tensor(values, requires_grad=True)
    w.data -= 1.0
    with ag.no_grad():
        w += 5.0
    np.testing.assert_array_equal(values, [1.0, 2.0])
    np.testing.assert_array_equal(w.data, [5.0, 6.0])


def test_backward_releases_intermediates_while_the_output_lives() -> None:
    x = ag.Tensor(np.ones(ag.engine.RELEASE_BYTES // 8), requires_grad=True)
    hidden = ag.tanh(x * 2)
    hidden_ref = weakref.ref(hidden)
    y = (hidden * 3).sum()
    del hidden
    y.backward()
    assert hidden_ref() is None  # nothing but the graph held it, and backward let go
    assert [node.op for node in ag.tape(y)] == ["Mul", "Tanh", "Mul", "Sum"]  # the structure stays
    assert all(t.values_released for node in ag.tape(y) for t in node.inputs if t.node is not None)


def test_retain_graph_keeps_intermediates() -> None:
    x = ag.Tensor(np.ones(ag.engine.RELEASE_BYTES // 8), requires_grad=True)
    y = (ag.tanh(x) * 3).sum()
    y.backward(retain_graph=True)
    assert not any(t.values_released for node in ag.tape(y) for t in node.inputs)


def test_modifying_an_output_needed_by_backward_is_detected() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = ag.exp(x)
    y.data = np.zeros(2)
    with pytest.raises(RuntimeError, match="the output of Exp.*modified in place"):
        y.backward(np.ones(2))


def test_np_array_copy_true_gives_an_independent_snapshot() -> None:
    w = ag.Tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():  # while recording, np.array of w is refused (it would drop the gradient)
        snapshot = np.array(w, copy=True)
    w.data -= 1.0
    np.testing.assert_array_equal(snapshot, [1.0, 2.0])


def test_accumulating_a_loss_in_place_records_the_addition() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    total = ag.Tensor(0.0)
    for _ in range(3):
        total += (x * x).sum()
    total.backward()
    np.testing.assert_array_equal(x.grad, 3 * 2 * x.data)


def test_in_place_on_an_integer_tensor_refuses_to_truncate() -> None:
    counts = ag.Tensor([1, 2])
    counts += 1
    np.testing.assert_array_equal(counts.data, [2, 3])
    with pytest.raises(TypeError, match=r"\+=.*float64.*int64"):
        counts += 0.5


def test_iterating_over_rows_and_not_over_a_scalar() -> None:
    rows = list(ag.Tensor(np.arange(6.0).reshape(3, 2)))
    assert len(rows) == 3 and rows[1].data.tolist() == [2.0, 3.0]
    with pytest.raises(TypeError, match="0-d"):
        list(ag.Tensor(5.0))


def test_grad_with_the_same_tensor_twice_gives_each_argument_its_partial_derivative() -> None:
    # grad differentiates the function with respect to its arguments, as in JAX: each position
    # is an independent variable, so d(a*b)/da = b and d(a*b)/db = a even when a and b are one tensor.
    t = ag.Tensor([1.0, 2.0], requires_grad=True)
    first, second = ag.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(t, t)
    np.testing.assert_array_equal(first.data, [1.0, 2.0])
    np.testing.assert_array_equal(second.data, [1.0, 2.0])
    total = ag.run_backward((t * t).sum(), targets=[t, t])  # run_backward: the total derivative, per target
    np.testing.assert_array_equal(total[0], [2.0, 4.0])


def test_numpy_error_inside_an_op_still_names_the_op() -> None:
    with pytest.raises(TypeError, match=r"Add: .*<U1"):
        ag.add(np.array(["a"]), 1.0)


def test_clip_bounds_broadcast_and_tensor_bounds_get_gradients() -> None:
    x = ag.Tensor(np.ones(3), requires_grad=True)
    ag.clip(x, np.zeros((2, 3)), 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    low_grad = ag.grad(lambda low: ag.clip(np.array([-2.0, 0.5, 3.0]), low, 5.0).sum())(np.zeros(3))
    np.testing.assert_array_equal(low_grad.data, [1.0, 0.0, 0.0])
    assert ag.clip(ag.Tensor(np.ones(2, np.float32)), np.float64(0), np.float64(1)).dtype == np.float32


def test_power_zero_has_zero_gradient_at_zero() -> None:
    x = ag.Tensor([0.0, 2.0], requires_grad=True)
    with np.errstate(all="raise"):
        (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_invalid_axes_and_unsupported_numpy_keywords_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="transpose: axes"):
        ag.transpose(np.ones((2, 3)), (0, 3))
    with pytest.raises(ValueError, match="swapaxes: axis 5"):
        ag.swapaxes(np.ones((2, 3)), 0, 5)
    with pytest.raises(TypeError, match=r"np.a?max on a Tensor"):  # np.max is np.amax in NumPy 1.x
        np.max(ag.Tensor([1.0, 2.0]), initial=0)
    assert ag.Tensor(np.ones(3))[[]].shape == (0,)


def test_retained_gradients_accumulate_in_their_own_writable_array() -> None:
    x = ag.Tensor(np.ones(2), requires_grad=True)
    hidden = x * 2
    hidden.retain_grad()
    y = hidden.sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(hidden.grad, [2.0, 2.0])
    assert hidden.grad.flags.writeable


def test_small_intermediates_are_kept_after_backward() -> None:
    x = ag.Tensor(np.ones(3), requires_grad=True)
    y = (ag.tanh(x) * 3).sum()
    y.backward()
    assert not any(t.values_released for node in ag.tape(y) for t in node.inputs)


# ----- trust: grad mode per thread, .data validation, vjp shapes --------------------------
def _train(seed: int, steps: int = 60) -> np.ndarray:
    """A small regression trained by plain SGD: the same numbers whatever else runs."""
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    w = ag.Tensor(rng.normal(size=(3, 1)), requires_grad=True)
    for _ in range(steps):
        loss = ((ag.tanh(ag.Tensor(x) @ w) - y) ** 2).mean()
        loss.backward()
        with ag.no_grad():
            w -= 0.1 * w.grad
        w.zero_grad()
    return w.data.copy()


def _evaluate_until(stop: threading.Event, w: ag.Tensor) -> None:
    while not stop.is_set():
        with ag.no_grad():
            assert (ag.tanh(w) * 2).node is None


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # hand the GIL over constantly, so the threads interleave inside every op
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


@pytest.mark.usefixtures("frequent_thread_switches")
@pytest.mark.parametrize("repeat", range(3))
def test_training_next_to_no_grad_evaluation_and_another_training_gives_single_threaded_weights(repeat: int) -> None:
    expected = {seed: _train(seed) for seed in (1, 2)}
    results: dict[int, np.ndarray] = {}
    stop = threading.Event()
    watched = ag.Tensor(np.ones(3), requires_grad=True)
    evaluation = threading.Thread(target=_evaluate_until, args=(stop, watched))
    trainers = [threading.Thread(target=lambda s=seed: results.__setitem__(s, _train(s))) for seed in (1, 2)]
    evaluation.start()
    for thread in trainers:
        thread.start()
    for thread in trainers:
        thread.join()
    stop.set()
    evaluation.join()
    for seed in (1, 2):
        np.testing.assert_array_equal(results[seed], expected[seed])
    assert ag.is_grad_enabled()


def test_no_grad_blocks_in_two_threads_restore_exactly_what_each_found() -> None:
    inside, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def hold_no_grad() -> None:
        with ag.no_grad():
            inside.set()
            release.wait(5)
        seen.append(ag.is_grad_enabled())

    thread = threading.Thread(target=hold_no_grad)
    thread.start()
    inside.wait(5)
    assert ag.is_grad_enabled()  # the other thread's no_grad does not reach this one
    with ag.no_grad():
        release.set()
        thread.join()
    assert ag.is_grad_enabled() and seen == [True]


def test_backward_in_one_thread_does_not_switch_recording_off_in_another() -> None:
    x = ag.Tensor(np.ones(1000), requires_grad=True)
    y = ag.exp(x)
    for _ in range(8):
        y = ag.sin(y)
    recorded: list[bool] = []
    worker = threading.Thread(target=lambda: y.sum().backward())
    worker.start()
    while worker.is_alive():
        recorded.append((x * 2).node is not None)
    worker.join()
    assert all(recorded)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (np.array(["a", "b"]), "real floating-point"),
        (np.array([1 + 2j, 3j]), "complex"),
        (np.array([object(), object()]), "object"),
    ],
)
def test_data_setter_of_a_tensor_that_requires_grad_takes_what_the_constructor_takes(value: Any, error: str) -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=error):
        x.data = value
    np.testing.assert_array_equal(x.data, [1.0, 2.0])  # untouched


def test_data_setter_converts_integers_so_the_gradient_is_not_silently_zero() -> None:
    x = ag.Tensor([0.5, 0.5, 0.5], requires_grad=True)
    x.data = np.array([1, 2, 3])
    assert x.data.dtype == np.float64
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


def test_data_setter_refuses_a_new_shape_inside_a_graph_or_beside_a_grad() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    with pytest.raises(ValueError, match="output of Mul"):
        y.data = np.zeros(3)
    y.sum().backward()
    with pytest.raises(ValueError, match="zero_grad"):
        x.data = np.zeros(3)
    x.zero_grad()
    x.data = np.zeros(3)
    assert x.shape == (3,)


@pytest.mark.parametrize("wrong", [lambda g, out, a: g.sum(), lambda g, out, a: g[:1], lambda g, out, a: g.T])
def test_a_custom_op_whose_vjp_returns_a_wrong_shape_is_refused(wrong: Any) -> None:
    class Twice(ag.Node):
        formula = "d/da 2a = 2"
        forward = staticmethod(lambda a: 2 * a)
        vjps = (wrong,)

    x = ag.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"vjp of Twice for input 0 returned shape .* input's shape \(2, 3\)"):
        ag.apply(Twice, x).sum().backward()


def test_a_vjp_may_return_the_broadcast_shape_which_is_summed_back() -> None:
    class Spread(ag.Node):
        formula = "d/da broadcast = 1"
        forward = staticmethod(lambda a: np.broadcast_to(a, (4, 3)).copy())
        vjps = (lambda g, out, a: g,)  # (4, 3) for a (1, 3) input: genuinely broadcast

    x = ag.Tensor(np.ones((1, 3)), requires_grad=True)
    ag.apply(Spread, x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[4.0, 4.0, 4.0]])


def test_a_vjp_larger_than_the_output_is_refused_even_when_it_would_sum_to_the_input() -> None:
    class Outer(ag.Node):
        formula = "wrong on purpose"
        forward = staticmethod(np.sin)
        vjps = (lambda g, out, a: np.outer(g, np.cos(a)),)  # (3, 3) for a (3,) input and output

    x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"returned shape \(3, 3\)"):
        ag.apply(Outer, x).sum().backward()


def test_tensor_of_a_tensor_that_requires_grad_refuses_while_recording() -> None:
    x = ag.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="clone"):
        ag.Tensor(x)
    with ag.no_grad():
        np.testing.assert_array_equal(ag.Tensor(x).data, [1.0, 2.0])


def test_data_setter_takes_a_copy_of_the_callers_array() -> None:
    w, values = ag.Tensor([0.0, 0.0], requires_grad=True), np.array([1.0, 2.0])
    w.data = values
    w.data -= 0.5  # the optimizer's in-place step works on the tensor's own values
    np.testing.assert_array_equal(values, [1.0, 2.0])
    np.testing.assert_array_equal(w.data, [0.5, 1.5])


def test_an_index_array_changed_after_the_forward_pass_does_not_change_the_gradient() -> None:
    x, index = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True), np.array([0, 0, 2])
    y = x[index].sum()
    index[:] = 1
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])


def test_softmax_cross_entropy_refuses_a_target_that_requires_grad() -> None:
    target = ag.Tensor([[0.2, 0.8]], requires_grad=True)
    with pytest.raises(TypeError, match="target requires grad"):
        ag.softmax_cross_entropy(ag.Tensor([[1.0, 2.0]], requires_grad=True), target)
    assert ag.softmax_cross_entropy(np.array([[1.0, 2.0]]), target.detach()).shape == (1,)


# ----- NumPy's and PyTorch's method names ---------------------------------------------------
METHODS = {
    "ravel": (lambda t: t.ravel(), lambda a: a.ravel()),
    "flatten": (lambda t: t.flatten(), lambda a: a.flatten()),
    "squeeze": (lambda t: t.reshape(1, 2, 3).squeeze(), lambda a: a.reshape(1, 2, 3).squeeze()),
    "clip": (lambda t: t.clip(0.2, 0.7), lambda a: a.clip(0.2, 0.7)),
    "abs": (lambda t: (t - 0.5).abs(), lambda a: np.abs(a - 0.5)),
    "sqrt": (lambda t: t.sqrt(), np.sqrt),
    "sin": (lambda t: t.sin(), np.sin),
    "cos": (lambda t: t.cos(), np.cos),
    "prod": (lambda t: t.prod(axis=1), lambda a: a.prod(axis=1)),
    "cumsum": (lambda t: t.cumsum(axis=0), lambda a: a.cumsum(axis=0)),
    "var": (lambda t: t.var(axis=1, ddof=1), lambda a: a.var(axis=1, ddof=1)),
    "std": (lambda t: t.std(), lambda a: a.std()),
    "clone": (lambda t: t.clone(), np.copy),
    "copy": (lambda t: t.copy(), np.copy),
    "%": (lambda t: t % 0.3, lambda a: a % 0.3),
}


@pytest.mark.parametrize("name", METHODS)
def test_method_gives_numpys_values_and_a_gradient(name: str) -> None:
    method, reference = METHODS[name]
    x = np.array([[0.11, 0.42, 0.63], [0.24, 0.85, 0.36]])
    np.testing.assert_allclose(method(ag.Tensor(x)).data, reference(x), rtol=1e-12)
    assert ag.check_grad(lambda t: (method(t) * 1.5).sum(), x)


def test_index_and_conversion_methods() -> None:
    t = ag.Tensor([[3.0, 1.0], [0.0, 5.0]], requires_grad=True)
    assert t.argmax() == 3 and t.argmin(axis=1).tolist() == [1, 0] and t.tolist() == [[3.0, 1.0], [0.0, 5.0]]
    floor = t // 2
    np.testing.assert_array_equal(floor.data, [[1.0, 0.0], [0.0, 2.0]])
    assert floor.node is None  # integer-valued: a constant, its derivative is 0 wherever it exists
    np.testing.assert_array_equal((7.0 // ag.Tensor([2.0])).data, [3.0])


def test_requires_grad_and_fill_in_place() -> None:
    values = np.array([1, 2])
    t = ag.Tensor(values).requires_grad_()
    assert t.requires_grad and t.dtype == np.float64
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="fill_"):
        t.fill_(0.0)
    with ag.no_grad():
        t.fill_(3.0)
    np.testing.assert_array_equal(t.data, [3.0, 3.0])
    np.testing.assert_array_equal(values, [1, 2])  # the caller's array is untouched
    with pytest.raises(RuntimeError, match="only leaves"):
        (t * 2).requires_grad_(False)


def test_a_0_d_intermediate_that_receives_three_gradients_sums_all_of_them() -> None:
    # NumPy returns scalars for 0-d sums; a scalar cannot be added into in place, so the third
    # share once went nowhere (a silently wrong gradient).
    x = ag.Tensor(2.0, requires_grad=True)
    y = x * 1.0  # a 0-d intermediate: first the upstream itself (through the Add), then two new shares
    ((y * 5 + y * 7) + y).backward()
    assert x.grad == 13.0  # a81e48d gave 8.0
