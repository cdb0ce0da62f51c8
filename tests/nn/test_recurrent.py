"""RNN, LSTM, GRU and their cells: PyTorch's step equations against NumPy cells, gradients vs central differences."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays

import autograd_lite as ag
from nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

LAYERS = {"rnn": RNN, "rnn_relu": RNN, "lstm": LSTM, "gru": GRU}
CELLS = {"rnn": RNNCell, "rnn_relu": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
GATES = {"rnn": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def numpy_cell(kind: str, x: np.ndarray, state: Any, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: Any, b_hh: Any) -> Any:
    """One step written from PyTorch's documented equations (biases 0 when absent)."""
    b_ih = 0.0 if b_ih is None else b_ih
    b_hh = 0.0 if b_hh is None else b_hh
    if kind in ("rnn", "rnn_relu"):
        pre = x @ w_ih.T + b_ih + state @ w_hh.T + b_hh
        return np.tanh(pre) if kind == "rnn" else np.maximum(pre, 0)
    if kind == "lstm":
        h, c = state
        w_ii, w_if, w_ig, w_io = np.split(w_ih, 4)
        w_hi, w_hf, w_hg, w_ho = np.split(w_hh, 4)
        b_ii, b_if, b_ig, b_io = np.split(np.broadcast_to(b_ih, (w_ih.shape[0],)), 4)
        b_hi, b_hf, b_hg, b_ho = np.split(np.broadcast_to(b_hh, (w_hh.shape[0],)), 4)
        i = sigmoid(x @ w_ii.T + b_ii + h @ w_hi.T + b_hi)
        f = sigmoid(x @ w_if.T + b_if + h @ w_hf.T + b_hf)
        g = np.tanh(x @ w_ig.T + b_ig + h @ w_hg.T + b_hg)
        o = sigmoid(x @ w_io.T + b_io + h @ w_ho.T + b_ho)
        c_next = f * c + i * g
        return o * np.tanh(c_next), c_next
    h = state
    w_ir, w_iz, w_in = np.split(w_ih, 3)
    w_hr, w_hz, w_hn = np.split(w_hh, 3)
    b_ir, b_iz, b_in = np.split(np.broadcast_to(b_ih, (w_ih.shape[0],)), 3)
    b_hr, b_hz, b_hn = np.split(np.broadcast_to(b_hh, (w_hh.shape[0],)), 3)
    r = sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    z = sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    n = np.tanh(x @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
    return (1 - z) * n + z * h


def numpy_layers(kind: str, module: Any, x: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
    """The whole stacked (maybe bidirectional) network over x of shape (time, batch, input), as PyTorch."""
    layers, directions = module.num_layers, 2 if module.bidirectional else 1
    zeros = np.zeros((layers * directions, x.shape[1], module.hidden_size))
    if kind == "lstm":
        h0, c0 = (zeros, zeros) if state is None else state
        initial = [(h0[k], c0[k]) for k in range(layers * directions)]
    else:
        initial = list(zeros if state is None else state)
    sequence = x
    finals = []
    for k in range(layers):
        halves = []
        for d in range(directions):
            w_ih, w_hh, b_ih, b_hh = (None if p is None else p.data for p in module.layer_parameters(k, d == 1))
            current, outputs = initial[k * directions + d], []
            steps = range(sequence.shape[0]) if d == 0 else range(sequence.shape[0] - 1, -1, -1)
            for t in steps:
                current = numpy_cell(kind, sequence[t], current, w_ih, w_hh, b_ih, b_hh)
                outputs.append(current[0] if kind == "lstm" else current)
            finals.append(current)
            halves.append(np.stack(outputs if d == 0 else outputs[::-1]))
        sequence = np.concatenate(halves, axis=-1)
    if kind == "lstm":
        return sequence, (np.stack([h for h, _ in finals]), np.stack([c for _, c in finals]))
    return sequence, np.stack(finals)


def build(kind: str, *args: Any, **kwargs: Any) -> Any:
    table = CELLS if kwargs.pop("cell", False) else LAYERS
    if kind == "rnn_relu":
        kwargs["nonlinearity"] = "relu"
    return table[kind](*args, **kwargs)


sizes = st.fixed_dictionaries(
    {
        "time": st.integers(1, 4),
        "batch": st.integers(1, 3),
        "input": st.integers(1, 3),
        "hidden": st.integers(1, 3),
        "layers": st.integers(1, 2),
        "batch_first": st.booleans(),
        "bias": st.booleans(),
        "with_state": st.booleans(),
        "bidirectional": st.booleans(),
    }
)


@pytest.mark.parametrize("kind", list(LAYERS))
@given(size=sizes, data=st.data())
def test_forward_equals_the_numpy_cells(kind: str, size: dict, data: st.DataObject) -> None:
    module = build(
        kind, size["input"], size["hidden"], num_layers=size["layers"], bias=size["bias"],
        batch_first=size["batch_first"], bidirectional=size["bidirectional"], dtype=np.float64,
        rng=data.draw(st.integers(0, 2**16)),
    )  # fmt: skip
    x = data.draw(arrays((size["time"], size["batch"], size["input"])))
    state_shape = (size["layers"] * (2 if size["bidirectional"] else 1), size["batch"], size["hidden"])
    state = None
    if size["with_state"]:
        state = data.draw(arrays(state_shape))
        if kind == "lstm":
            state = (state, data.draw(arrays(state_shape)))
    expected_output, expected_final = numpy_layers(kind, module, x, state)
    fed = np.swapaxes(x, 0, 1) if size["batch_first"] else x
    output, final = module(fed, state)
    if size["batch_first"]:
        expected_output = np.swapaxes(expected_output, 0, 1)
    np.testing.assert_allclose(output.data, expected_output, rtol=1e-12, atol=1e-14)
    finals = final if kind == "lstm" else (final,)
    expected_finals = expected_final if kind == "lstm" else (expected_final,)
    for got, want in zip(finals, expected_finals):
        assert got.shape == state_shape
        np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_unbatched_input_gives_unbatched_outputs(kind: str) -> None:
    module = build(kind, 2, 3, num_layers=2, dtype=np.float64, rng=1)
    x = np.random.default_rng(0).standard_normal((5, 2))
    output, final = module(x)
    batched_output, batched_final = module(x[:, None, :])
    np.testing.assert_array_equal(output.data, batched_output.data[:, 0])
    finals = final if kind == "lstm" else (final,)
    batched = batched_final if kind == "lstm" else (batched_final,)
    for got, want in zip(finals, batched):
        assert got.shape == (2, 3)
        np.testing.assert_array_equal(got.data, want.data[:, 0])


@pytest.mark.parametrize("kind", list(CELLS))
@given(
    batch=st.integers(1, 3), features=st.integers(1, 3), hidden=st.integers(1, 3), bias=st.booleans(), data=st.data()
)
def test_cells_equal_the_numpy_cells(kind: str, batch: int, features: int, hidden: int, bias: bool, data: Any) -> None:
    cell = build(kind, features, hidden, bias=bias, dtype=np.float64, rng=data.draw(st.integers(0, 99)), cell=True)
    x = data.draw(arrays((batch, features)))
    h = data.draw(arrays((batch, hidden)))
    state = (h, data.draw(arrays((batch, hidden)))) if kind == "lstm" else h
    parameters = (cell.weight_ih.data, cell.weight_hh.data) + (
        (cell.bias_ih.data, cell.bias_hh.data) if bias else (None, None)
    )
    expected = numpy_cell(kind, x, state, *parameters)
    got = cell(x, state)
    for value, want in zip(got if kind == "lstm" else (got,), expected if kind == "lstm" else (expected,)):
        np.testing.assert_allclose(value.data, want, rtol=1e-12, atol=1e-14)
    zeros = np.zeros((batch, hidden))
    expected = numpy_cell(kind, x, (zeros, zeros) if kind == "lstm" else zeros, *parameters)
    got = cell(x)  # no state: zeros
    for value, want in zip(got if kind == "lstm" else (got,), expected if kind == "lstm" else (expected,)):
        np.testing.assert_allclose(value.data, want, rtol=1e-12, atol=1e-14)


def gradient_check(module: Any, kind: str, x: np.ndarray, state: Any) -> bool:
    """check_grad with respect to the input, the initial state and every parameter."""
    names = [name for name, _ in module.named_parameters()]
    originals = [getattr(module, name) for name in names]
    weights = np.random.default_rng(1).standard_normal(16)
    states = list(state) if kind == "lstm" else [state]

    def function(inputs: ag.Tensor, *rest: ag.Tensor) -> ag.Tensor:
        given, values = rest[: len(states)], rest[len(states) :]
        try:
            for name, value in zip(names, values):
                setattr(module, name, value)
            output, final = module(inputs, tuple(given) if kind == "lstm" else given[0])
        finally:
            for name, original in zip(names, originals):
                setattr(module, name, original)
        parts = [output] + (list(final) if kind == "lstm" else [final])
        return sum((part * weights[i]).sum() for i, part in enumerate(parts))

    return ag.check_grad(function, x, *states, *[p.data for p in originals])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_gradients_equal_central_differences(kind: str, batch_first: bool) -> None:
    rng = np.random.default_rng(3)
    module = build(kind, 2, 3, num_layers=2, batch_first=batch_first, dtype=np.float64, rng=4)
    x = rng.standard_normal((2, 3, 2) if batch_first else (3, 2, 2))  # batch 2, 3 steps
    state = rng.standard_normal((2, 2, 3))
    state = (state, rng.standard_normal((2, 2, 3))) if kind == "lstm" else state
    if kind == "rnn_relu":  # away from relu's kink: shift the pre-activations with the biases
        for k in range(2):
            module.layer_parameters(k)[2].data += 2.0
    assert gradient_check(module, kind, x, state)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_cell_gradients_equal_central_differences(kind: str) -> None:
    cell = build(kind, 3, 2, dtype=np.float64, rng=5, cell=True)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3))
    state = [rng.standard_normal((2, 2)) for _ in range(2 if kind == "lstm" else 1)]
    names = [name for name, _ in cell.named_parameters()]
    originals = [getattr(cell, name) for name in names]

    def function(inputs: ag.Tensor, *rest: ag.Tensor) -> ag.Tensor:
        given, values = rest[: len(state)], rest[len(state) :]
        try:
            for name, value in zip(names, values):
                setattr(cell, name, value)
            out = cell(inputs, tuple(given) if kind == "lstm" else given[0])
        finally:
            for name, original in zip(names, originals):
                setattr(cell, name, original)
        parts = out if kind == "lstm" else (out,)
        return sum((part * (i + 1.5)).sum() for i, part in enumerate(parts))

    assert ag.check_grad(function, x, *state, *[p.data for p in originals])


@pytest.mark.parametrize("kind", list(LAYERS))
def test_pytorch_names_shapes_order_and_init(kind: str) -> None:
    module = build(kind, 5, 7, num_layers=2, rng=0)
    rows = GATES[kind] * 7
    expected = [
        ("weight_ih_l0", (rows, 5)), ("weight_hh_l0", (rows, 7)), ("bias_ih_l0", (rows,)), ("bias_hh_l0", (rows,)),
        ("weight_ih_l1", (rows, 7)), ("weight_hh_l1", (rows, 7)), ("bias_ih_l1", (rows,)), ("bias_hh_l1", (rows,)),
    ]  # fmt: skip
    assert [(name, p.shape) for name, p in module.named_parameters()] == expected
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert values.dtype == np.float32
    bound = 1 / np.sqrt(7)
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert abs(values.mean()) < 0.1 * bound  # centred (uniform on ±bound)
    no_bias = build(kind, 5, 7, bias=False, rng=0)
    assert [name for name, _ in no_bias.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("kind", list(LAYERS))
def test_float32_end_to_end_and_the_same_seed_same_model(kind: str) -> None:
    module = build(kind, 2, 3, rng=7)
    same = build(kind, 2, 3, rng=7)
    for (_, a), (_, b) in zip(module.named_parameters(), same.named_parameters()):
        assert a.data.tobytes() == b.data.tobytes()
    output, final = module(np.ones((4, 1, 2)))  # float64 data is cast to the layer's float32
    assert output.dtype == np.float32
    (final[0] if kind == "lstm" else final).sum().backward()
    assert all(p.grad is not None and p.grad.dtype == np.float32 for p in module.parameters())


def test_a_cell_shows_in_the_graph_as_ordinary_ops() -> None:
    lstm = LSTM(2, 3, rng=0)
    output, _ = lstm(np.ones((1, 1, 2)))
    ops = {node.op for node in ag.tape(output)}
    assert {"Linear", "Sigmoid", "Tanh", "GetItem", "Mul", "Add", "Stack"} <= ops


def test_wrong_shapes_are_one_line_errors_naming_the_layer() -> None:
    lstm = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\): input has shape \(5, 2, 2\)"):
        lstm(np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match=r"h0 has shape \(1, 2, 4\), expected \(2, 2, 4\)"):
        lstm(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match="pair"):
        lstm(np.zeros((5, 2, 3)), np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="nonlinearity"):
        RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        GRU(3, 0)
    with pytest.raises(ValueError, match=r"GRUCell\(3, 4\): hx has shape"):
        GRUCell(3, 4)(np.zeros((2, 3)), np.zeros((3, 4)))


def test_repr_like_pytorch() -> None:
    assert repr(LSTM(10, 20, num_layers=2, batch_first=True, rng=0)).startswith(
        "LSTM(10, 20, num_layers=2, batch_first=True, dtype=float32)"
    )
    assert repr(RNNCell(3, 4, nonlinearity="relu", rng=0)).startswith("RNNCell(3, 4, nonlinearity='relu'")


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_bidirectional_names_shapes_and_gradients(kind: str) -> None:
    module = build(kind, 2, 3, num_layers=2, bidirectional=True, dtype=np.float64, rng=8)
    rows = GATES[kind] * 3
    names = [(name, p.shape) for name, p in module.named_parameters() if name.startswith("weight_ih")]
    assert names == [("weight_ih_l0", (rows, 2)), ("weight_ih_l0_reverse", (rows, 2)),
                     ("weight_ih_l1", (rows, 6)), ("weight_ih_l1_reverse", (rows, 6))]  # fmt: skip
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 2, 2))
    state = rng.standard_normal((4, 2, 3))
    state = (state, rng.standard_normal((4, 2, 3))) if kind == "lstm" else state
    output, final = module(x, state)
    assert output.shape == (3, 2, 6)
    assert (final[0] if kind == "lstm" else final).shape == (4, 2, 3)
    assert gradient_check(module, kind, x, state)


def test_dropout_between_layers_in_training_only() -> None:
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    plain = GRU(2, 5, num_layers=2, dtype=np.float64, rng=1)
    dropping = GRU(2, 5, num_layers=2, dropout=0.5, dtype=np.float64, rng=1)
    expected, _ = plain(x)
    dropping.eval()
    np.testing.assert_array_equal(dropping(x)[0].data, expected.data)  # eval: no dropout
    dropping.train()
    first, second = dropping(x)[0].data, dropping(x)[0].data
    assert not np.allclose(first, expected.data) and not np.allclose(first, second)  # fresh masks each call
    single = GRU(2, 5, dropout=0.5, dtype=np.float64, rng=1)  # one layer: nothing after it to drop
    np.testing.assert_array_equal(single(x)[0].data, GRU(2, 5, dtype=np.float64, rng=1)(x)[0].data)
    with pytest.raises(ValueError, match=r"GRU: dropout must be a probability in \[0, 1\], got 1.5"):
        GRU(2, 5, dropout=1.5)


def test_dropout_scales_what_it_keeps_by_one_over_one_minus_p() -> None:
    # layer 0 copies the input to all 400 units and layer 1 passes them through, so the output is the mask
    module = RNN(1, 400, num_layers=2, nonlinearity="relu", bias=False, dropout=0.25, dtype=np.float64, rng=2)
    module.weight_ih_l0.data = np.ones((400, 1))
    module.weight_hh_l0.data = np.zeros((400, 400))
    module.weight_ih_l1.data = np.eye(400)
    module.weight_hh_l1.data = np.zeros((400, 400))
    output, _ = module(np.full((1, 50, 1), 2.0))
    np.testing.assert_allclose(np.unique(output.data), [0.0, 2.0 / 0.75])
    assert abs((output.data == 0).mean() - 0.25) < 0.01
