"""Recurrent layers as in PyTorch: RNN, LSTM, GRU (stacked, batch_first) and their one-step cells.

Parameters have PyTorch's names, shapes and order (``weight_ih_l0`` of shape (gates·hidden,
input), ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``; gates i, f, g, o for the LSTM and
r, z, n for the GRU; ``_reverse`` for the second direction of a bidirectional layer), so a
PyTorch ``state_dict`` loads as it is, and PyTorch's initialisation: every value uniform on
±1/√hidden_size. ``dropout`` and ``bidirectional`` are PyTorch's; ``proj_size`` is not offered.
A cell is composed from ordinary ops (``linear``, ``getitem``, ``sigmoid``, ``tanh``, ``*``,
``+``, ``stack``), so the graph drawer and the backward trace show it node by node. The input
projection of a whole layer is one ``linear`` node over all time steps; the loop over time
runs only the recurrent part.

>>> import numpy as np
>>> from nn.recurrent import LSTM
>>> lstm = LSTM(3, 5, num_layers=2, batch_first=True, rng=0)
>>> [name for name, _ in lstm.named_parameters()][:4]
['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
>>> output, (h_n, c_n) = lstm(np.zeros((4, 7, 3)))   # batch 4, 7 steps, 3 features
>>> output.shape, h_n.shape, c_n.shape
((4, 7, 5), (2, 4, 5), (2, 4, 5))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.layers import as_generator, as_input
from nn.module import Module, Parameter

Seed = int | np.random.Generator | None
#: Gates per mode: the rows of weight_ih / weight_hh are that many blocks of hidden_size.
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _positive(layer: str, label: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {label} must be a positive integer, got {value!r}")
    return int(value)


def _mode(layer: str, nonlinearity: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


# ----- one time step, given the input projection x @ W_ih.T + b_ih --------------------------------------------
def rnn_step(x_proj: ag.Tensor, h: ag.Tensor, w_hh: ag.Tensor, b_hh: ag.Tensor | None, mode: str) -> ag.Tensor:
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (relu for mode "RNN_RELU")."""
    pre = x_proj + ag.linear(h, w_hh.T, b_hh)
    return ag.tanh(pre) if mode == "RNN_TANH" else ag.relu(pre)


def lstm_step(
    x_proj: ag.Tensor, state: tuple[ag.Tensor, ag.Tensor], w_hh: ag.Tensor, b_hh: ag.Tensor | None
) -> tuple[ag.Tensor, ag.Tensor]:
    """PyTorch's LSTM cell: gates i, f, g, o; c' = f*c + i*g, h' = o*tanh(c')."""
    h, c = state
    size = h.shape[-1]
    gates = x_proj + ag.linear(h, w_hh.T, b_hh)
    i = ag.sigmoid(gates[..., 0:size])
    f = ag.sigmoid(gates[..., size : 2 * size])
    g = ag.tanh(gates[..., 2 * size : 3 * size])
    o = ag.sigmoid(gates[..., 3 * size : 4 * size])
    c_next = f * c + i * g
    return o * ag.tanh(c_next), c_next


def gru_step(x_proj: ag.Tensor, h: ag.Tensor, w_hh: ag.Tensor, b_hh: ag.Tensor | None) -> ag.Tensor:
    """PyTorch's GRU cell: r, z = σ(...), n = tanh(x_n + r*(h W_hnᵀ + b_hn)), h' = (1-z)*n + z*h."""
    size = h.shape[-1]
    h_proj = ag.linear(h, w_hh.T, b_hh)
    r = ag.sigmoid(x_proj[..., 0:size] + h_proj[..., 0:size])
    z = ag.sigmoid(x_proj[..., size : 2 * size] + h_proj[..., size : 2 * size])
    n = ag.tanh(x_proj[..., 2 * size : 3 * size] + r * h_proj[..., 2 * size : 3 * size])
    return (1 - z) * n + z * h


def _step_function(mode: str) -> Callable[..., Any]:
    if mode == "LSTM":
        return lstm_step
    if mode == "GRU":
        return gru_step
    return lambda x_proj, h, w_hh, b_hh: rnn_step(x_proj, h, w_hh, b_hh, mode)


def _uniform(shape: tuple[int, ...], bound: float, generator: np.random.Generator, dtype: np.dtype) -> Parameter:
    return Parameter(generator.uniform(-bound, bound, shape), dtype=dtype)


def _dtype(layer: str, dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{layer}: dtype must be a floating-point type such as np.float32, got {dtype}")
    return dtype


class RNNBase(Module):
    """The multi-layer recurrent loop shared by RNN, LSTM and GRU (PyTorch's RNNBase)."""

    weight_ih_l0: Parameter  # (set with setattr, as every layer's parameters; declared for type checkers)
    nonlinearity: str  # RNN's only

    mode = "RNN_TANH"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = np.float32,
        rng: Seed = None,
    ) -> None:
        layer = type(self).__name__
        self.input_size = _positive(layer, "input_size", input_size)
        self.hidden_size = _positive(layer, "hidden_size", hidden_size)
        self.num_layers = _positive(layer, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{layer}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        dtype = _dtype(layer, dtype)
        generator = as_generator(rng)
        self.generator = generator  # also draws the dropout masks between layers
        bound = 1.0 / math.sqrt(self.hidden_size)
        rows = GATES[self.mode] * self.hidden_size
        # PyTorch's order: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh
        for k in range(self.num_layers):
            columns = self.input_size if k == 0 else self.hidden_size * self.directions
            for suffix in ("", "_reverse")[: self.directions]:
                setattr(self, f"weight_ih_l{k}{suffix}", _uniform((rows, columns), bound, generator, dtype))
                setattr(self, f"weight_hh_l{k}{suffix}", _uniform((rows, self.hidden_size), bound, generator, dtype))
                if self.bias:
                    setattr(self, f"bias_ih_l{k}{suffix}", _uniform((rows,), bound, generator, dtype))
                    setattr(self, f"bias_hh_l{k}{suffix}", _uniform((rows,), bound, generator, dtype))

    @property
    def directions(self) -> int:
        """2 when bidirectional, else 1."""
        return 2 if self.bidirectional else 1

    def layer_parameters(self, k: int, reverse: bool = False) -> tuple[Any, Any, Any, Any]:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of layer ``k`` (its reverse direction; biases None without bias)."""
        suffix = "_reverse" if reverse else ""
        weight_ih, weight_hh, bias_ih, bias_hh = (
            getattr(self, f"{kind}_l{k}{suffix}", None) for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )
        return weight_ih, weight_hh, bias_ih, bias_hh

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (and of the outputs)."""
        return self.weight_ih_l0.dtype

    def _sequence(self, x: Any) -> tuple[ag.Tensor, bool]:
        """The input as (time, batch, features) and whether it came without a batch axis."""
        x = as_input(x, self.dtype)
        layer = type(self).__name__
        time_axis = 1 if x.ndim == 3 and self.batch_first else 0
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size or x.shape[time_axis] == 0:
            order = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
            raise ValueError(
                f"{layer}({self.input_size}, {self.hidden_size}): input has shape {x.shape}; expected {order} "
                f"or (time, features) with features = {self.input_size} and at least one time step"
            )
        if x.ndim == 2:
            return ag.expand_dims(x, 1), True
        return (ag.swapaxes(x, 0, 1) if self.batch_first else x), False

    def _state(self, given: Any, batch: int, unbatched: bool, label: str) -> list[ag.Tensor]:
        """One (batch, hidden) tensor per layer and direction from ``given`` ((layers·directions, batch, hidden))."""
        count = self.num_layers * self.directions
        if given is None:
            zero = ag.Tensor(np.zeros((batch, self.hidden_size), dtype=self.dtype))
            return [zero] * count
        state = as_input(given, self.dtype)
        expected = (count, self.hidden_size) if unbatched else (count, batch, self.hidden_size)
        if state.shape != expected:
            raise ValueError(
                f"{type(self).__name__}({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
                f"{', bidirectional=True' if self.bidirectional else ''}): {label} has shape {state.shape}, "
                f"expected {expected} (num_layers * directions, batch, hidden_size)"
            )
        if unbatched:
            state = ag.expand_dims(state, 1)
        return [state[k] for k in range(count)]

    def _direction(self, sequence: ag.Tensor, k: int, reverse: bool, current: Any) -> tuple[list[ag.Tensor], Any]:
        """One direction of layer ``k`` over the sequence: its outputs in time order and its final state."""
        w_ih, w_hh, b_ih, b_hh = self.layer_parameters(k, reverse)
        projected = ag.linear(sequence, w_ih.T, b_ih)  # every time step's input projection in one node
        step = _step_function(self.mode)
        outputs = []
        for t in reversed(range(sequence.shape[0])) if reverse else range(sequence.shape[0]):
            current = step(projected[t], current, w_hh, b_hh)
            outputs.append(current[0] if self.mode == "LSTM" else current)
        return (outputs[::-1] if reverse else outputs), current

    def _run(self, x: Any, states: Callable[[int, bool], list[Any]]) -> tuple[ag.Tensor, list[Any], bool]:
        """Run every layer over the sequence; returns the last layer's (time, batch, directions·hidden) output."""
        sequence, unbatched = self._sequence(x)
        state = states(sequence.shape[1], unbatched)
        final = []
        for k in range(self.num_layers):
            per_direction = []
            for d in range(self.directions):
                outputs, last = self._direction(sequence, k, d == 1, state[k * self.directions + d])
                per_direction.append(ag.stack(outputs, axis=0))
                final.append(last)
            sequence = per_direction[0] if len(per_direction) == 1 else ag.concatenate(per_direction, axis=-1)
            if self.training and self.dropout > 0 and k < self.num_layers - 1:  # between layers, as PyTorch
                sequence = self._drop(sequence)
        return sequence, final, unbatched

    def _drop(self, sequence: ag.Tensor) -> ag.Tensor:
        if self.dropout == 1.0:
            return sequence * 0.0
        keep = self.generator.random(sequence.shape) >= self.dropout
        return sequence * ag.Tensor((keep / (1.0 - self.dropout)).astype(self.dtype))

    def _output(self, sequence: ag.Tensor, unbatched: bool) -> ag.Tensor:
        if unbatched:
            return sequence[:, 0]
        return ag.swapaxes(sequence, 0, 1) if self.batch_first else sequence

    @staticmethod
    def _final(states: list[ag.Tensor], unbatched: bool) -> ag.Tensor:
        stacked = ag.stack(states, axis=0)
        return stacked[:, 0] if unbatched else stacked

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            parts.append(f"nonlinearity={self.nonlinearity!r}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout:g}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        parts.append(f"dtype={self.dtype}")
        return ", ".join(parts)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh) per layer; returns (output, h_n) as PyTorch.

    Input (time, batch, input_size), or (batch, time, input_size) with ``batch_first``, or
    unbatched (time, input_size); ``h0`` is (num_layers·directions, batch, hidden_size) (zeros
    if None). ``output`` holds the last layer's h_t for every t (forward and reverse halves side
    by side when ``bidirectional``), ``h_n`` every layer's and direction's last h. ``dropout``
    drops the outputs of every layer but the last in training mode, as PyTorch.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = np.float32,
        rng: Seed = None,
    ) -> None:
        self.mode = _mode("RNN", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, rng)

    def forward(self, x: Any, h0: Any = None) -> tuple[ag.Tensor, ag.Tensor]:
        sequence, final, unbatched = self._run(x, lambda batch, unbatched: self._state(h0, batch, unbatched, "h0"))
        return self._output(sequence, unbatched), self._final(final, unbatched)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014) with PyTorch's equations (gates r, z, n); returns (output, h_n).

    Shapes as for :class:`RNN`.
    """

    mode = "GRU"

    def forward(self, x: Any, h0: Any = None) -> tuple[ag.Tensor, ag.Tensor]:
        sequence, final, unbatched = self._run(x, lambda batch, unbatched: self._state(h0, batch, unbatched, "h0"))
        return self._output(sequence, unbatched), self._final(final, unbatched)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch's gates i, f, g, o.

    ``lstm(x, (h0, c0))`` returns ``(output, (h_n, c_n))``; shapes as for :class:`RNN`, with
    c0 and c_n shaped like h0 and h_n. Without a state, h0 and c0 are zeros.
    """

    mode = "LSTM"

    def forward(self, x: Any, hx: tuple[Any, Any] | None = None) -> tuple[ag.Tensor, tuple[ag.Tensor, ag.Tensor]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"LSTM: the initial state must be a pair (h0, c0), got {type(hx).__name__}")

        def states(batch: int, unbatched: bool) -> list[tuple[ag.Tensor, ag.Tensor]]:
            h0, c0 = (None, None) if hx is None else hx
            hs = self._state(h0, batch, unbatched, "h0")
            return list(zip(hs, self._state(c0, batch, unbatched, "c0")))

        sequence, final, unbatched = self._run(x, states)
        h_n = self._final([h for h, _ in final], unbatched)
        c_n = self._final([c for _, c in final], unbatched)
        return self._output(sequence, unbatched), (h_n, c_n)


# ----- cells: one time step as a module ------------------------------------------------------------------------
class RNNCellBase(Module):
    """Parameters weight_ih (gates·hidden, input), weight_hh, bias_ih, bias_hh, uniform on ±1/√hidden."""

    nonlinearity: str  # RNNCell's only

    mode = "RNN_TANH"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = np.float32, rng: Seed = None
    ) -> None:
        layer = type(self).__name__
        self.input_size = _positive(layer, "input_size", input_size)
        self.hidden_size = _positive(layer, "hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype = _dtype(layer, dtype)
        generator = as_generator(rng)
        bound = 1.0 / math.sqrt(self.hidden_size)
        rows = GATES[self.mode] * self.hidden_size
        self.weight_ih = _uniform((rows, self.input_size), bound, generator, dtype)
        self.weight_hh = _uniform((rows, self.hidden_size), bound, generator, dtype)
        if self.bias:
            self.bias_ih = _uniform((rows,), bound, generator, dtype)
            self.bias_hh = _uniform((rows,), bound, generator, dtype)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (and of the outputs)."""
        return self.weight_ih.dtype

    def _project(self, x: Any) -> ag.Tensor:
        x = as_input(x, self.dtype)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}({self.input_size}, {self.hidden_size}): input has shape {x.shape}; "
                f"expected (batch, {self.input_size}) or ({self.input_size},)"
            )
        return ag.linear(x, self.weight_ih.T, getattr(self, "bias_ih", None))

    def _hidden(self, given: Any, x_proj: ag.Tensor, label: str) -> ag.Tensor:
        expected = x_proj.shape[:-1] + (self.hidden_size,)
        if given is None:
            return ag.Tensor(np.zeros(expected, dtype=self.dtype))
        state = as_input(given, self.dtype)
        if state.shape != expected:
            raise ValueError(
                f"{type(self).__name__}({self.input_size}, {self.hidden_size}): {label} has shape {state.shape}, "
                f"expected {expected} (batch, hidden_size) like the input's batch"
            )
        return state

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            parts.append(f"nonlinearity={self.nonlinearity!r}")
        if not self.bias:
            parts.append("bias=False")
        parts.append(f"dtype={self.dtype}")
        return ", ".join(parts)


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``cell(x, h)`` returns h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (h zeros if None)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: Any = np.float32,
        rng: Seed = None,
    ) -> None:
        self.mode = _mode("RNNCell", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype, rng)

    def forward(self, x: Any, hx: Any = None) -> ag.Tensor:
        x_proj = self._project(x)
        h = self._hidden(hx, x_proj, "hx")
        return rnn_step(x_proj, h, self.weight_hh, getattr(self, "bias_hh", None), self.mode)


class GRUCell(RNNCellBase):
    """One GRU step with PyTorch's equations: ``cell(x, h)`` returns h'."""

    mode = "GRU"

    def forward(self, x: Any, hx: Any = None) -> ag.Tensor:
        x_proj = self._project(x)
        h = self._hidden(hx, x_proj, "hx")
        return gru_step(x_proj, h, self.weight_hh, getattr(self, "bias_hh", None))


class LSTMCell(RNNCellBase):
    """One LSTM step: ``cell(x, (h, c))`` returns (h', c') (zeros when the state is None)."""

    mode = "LSTM"

    def forward(self, x: Any, hx: tuple[Any, Any] | None = None) -> tuple[ag.Tensor, ag.Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"LSTMCell: the state must be a pair (h, c), got {type(hx).__name__}")
        x_proj = self._project(x)
        h0, c0 = (None, None) if hx is None else hx
        state = (self._hidden(h0, x_proj, "h"), self._hidden(c0, x_proj, "c"))
        return lstm_step(x_proj, state, self.weight_hh, getattr(self, "bias_hh", None))
