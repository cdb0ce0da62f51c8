"""ONNX export of Sequential stacks, for inference runtimes (onnxruntime, TensorRT, browsers): ``nn.export_onnx``.

Each supported layer becomes the ONNX operators that compute what it computes in evaluation
mode (batch norm with its running statistics, dropout as nothing), with the weights stored
as initializers. The batch axis is dynamic: the file runs on any number of examples. Needs the
``onnx`` package (``pip install "autograd_lite[onnx]"``), imported only here; nothing of
PyTorch is involved.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.activations import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Step,
    Tanh,
)
from nn.checkpoint import write_atomically
from nn.conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, Flatten, MaxPool2d
from nn.layers import Dense, Sequential
from nn.module import Module
from nn.normalization import BatchNorm1d, BatchNorm2d, Dropout, LayerNorm

#: The ONNX operator set written: LayerNormalization needs 17; onnxruntime 1.14 and later run it.
OPSET = 17


class _Graph:
    """The nodes and initializers of the graph being built, with fresh names for intermediate values."""

    def __init__(self, helper: Any, numpy_helper: Any, dtype: np.dtype) -> None:
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def constant(self, hint: str, values: Any, dtype: Any = None) -> str:
        """An initializer holding ``values`` (in the model's dtype unless told); its name."""
        name = self.name(hint)
        array = np.asarray(values, dtype=self.dtype if dtype is None else dtype)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """Append one node; the name of its (single) output."""
        output = self.name(hint)
        self.nodes.append(self.helper.make_node(op_type, inputs, [output], name=output, **attributes))
        return output


def _dense(graph: _Graph, layer: Dense, x: str, where: str) -> str:
    out = graph.op("MatMul", [x, graph.constant(f"{where}.weight", layer.weight.data)], where)
    if layer.bias is not None:
        out = graph.op("Add", [out, graph.constant(f"{where}.bias", layer.bias.data)], where)
    return out if layer.activation is None else _layer(graph, layer.activation, out, f"{where}.activation")


def _conv(graph: _Graph, layer: Conv2d, x: str, where: str) -> str:
    inputs = [x, graph.constant(f"{where}.weight", layer.weight.data)]
    if layer.bias is not None:
        inputs.append(graph.constant(f"{where}.bias", layer.bias.data))
    return graph.op("Conv", inputs, where, kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                    pads=[*layer.padding, *layer.padding], dilations=list(layer.dilation))  # fmt: skip


def _pool(graph: _Graph, layer: MaxPool2d | AvgPool2d, x: str, where: str) -> str:
    options: dict[str, Any] = {"kernel_shape": list(layer.kernel_size), "strides": list(layer.stride),
                               "pads": [*layer.padding, *layer.padding]}  # fmt: skip
    if isinstance(layer, AvgPool2d):
        return graph.op("AveragePool", [x], where, count_include_pad=1, **options)  # zero padding counts, as ours
    return graph.op("MaxPool", [x], where, **options)


def _batch_norm(graph: _Graph, layer: BatchNorm1d | BatchNorm2d, x: str, where: str) -> str:
    if not layer.track_running_stats:
        raise _UnsupportedError(f"{where} ({type(layer).__name__} with track_running_stats=False)")
    ones, zeros = np.ones(layer.num_features), np.zeros(layer.num_features)
    scale = layer.weight.data if layer.weight is not None else ones
    shift = layer.bias.data if layer.bias is not None else zeros
    inputs = [graph.constant(f"{where}.{part}", values) for part, values in (("weight", scale), ("bias", shift),
              ("running_mean", layer.running_mean.data), ("running_var", layer.running_var.data))]  # fmt: skip
    return graph.op("BatchNormalization", [x, *inputs], where, epsilon=layer.eps)


def _layer_norm(graph: _Graph, layer: LayerNorm, x: str, where: str) -> str:
    shape = tuple(layer.normalized_shape)
    scale = layer.weight.data if layer.weight is not None else np.ones(shape)
    shift = layer.bias.data if layer.bias is not None else np.zeros(shape)
    inputs = [x, graph.constant(f"{where}.weight", scale), graph.constant(f"{where}.bias", shift)]
    return graph.op("LayerNormalization", inputs, where, axis=-len(shape), epsilon=layer.eps)


def _flatten(graph: _Graph, layer: Flatten, x: str, where: str, shape: tuple[int, ...]) -> str:
    start, end = layer.start_dim % len(shape), layer.end_dim % len(shape)
    if start == 0:
        raise _UnsupportedError(f"{where} (Flatten joining the batch axis, start_dim={layer.start_dim})")
    if end == len(shape) - 1 and start == 1:
        return graph.op("Flatten", [x], where, axis=1)
    target = [0] * start + [-1] + list(shape[end + 1 :])  # 0: keep that axis (the batch's, whatever its size)
    return graph.op("Reshape", [x, graph.constant(f"{where}.shape", target, np.int64)], where)


def _gelu(graph: _Graph, layer: GELU, x: str, where: str) -> str:
    """0.5 x (1 + erf(x / sqrt 2)), or the tanh approximation (opset 17 has no Gelu operator)."""
    if layer.approximate == "tanh":
        cube = graph.op("Mul", [x, graph.op("Mul", [x, x], where)], where)
        inner = graph.op("Add", [x, graph.op("Mul", [cube, graph.constant("c", 0.044715)], where)], where)
        core = graph.op("Tanh", [graph.op("Mul", [inner, graph.constant("c", math.sqrt(2 / math.pi))], where)], where)
    else:
        core = graph.op("Erf", [graph.op("Mul", [x, graph.constant("c", 1 / math.sqrt(2))], where)], where)
    half_x = graph.op("Mul", [x, graph.constant("c", 0.5)], where)
    return graph.op("Mul", [half_x, graph.op("Add", [core, graph.constant("c", 1.0)], where)], where)


def _softplus(graph: _Graph, layer: Softplus, x: str, where: str) -> str:
    """log(1 + exp(beta x)) / beta, and x where beta x > threshold, as ours."""
    scaled = x if layer.beta == 1 else graph.op("Mul", [x, graph.constant("beta", layer.beta)], where)
    smooth = graph.op("Softplus", [scaled], where)
    if layer.beta != 1:
        smooth = graph.op("Div", [smooth, graph.constant("beta", layer.beta)], where)
    above = graph.op("Greater", [scaled, graph.constant("threshold", layer.threshold)], where)
    return graph.op("Where", [above, x, smooth], where)


def _step(graph: _Graph, layer: Step, x: str, where: str) -> str:
    positive = graph.op("Greater", [x, graph.constant("zero", 0.0)], where)
    return graph.op("Where", [positive, graph.constant("one", 1.0), graph.constant("zero", 0.0)], where)


_Exporter = Callable[[_Graph, Any, str, str], str]
_EXPORTERS: dict[type[Module], _Exporter] = {
    Dense: _dense, Conv2d: _conv, MaxPool2d: _pool, AvgPool2d: _pool, BatchNorm1d: _batch_norm,
    BatchNorm2d: _batch_norm, LayerNorm: _layer_norm, GELU: _gelu, Softplus: _softplus, Step: _step,
    AdaptiveAvgPool2d: lambda graph, layer, x, where: graph.op("GlobalAveragePool", [x], where),
    Dropout: lambda graph, layer, x, where: x,  # evaluation mode: the identity
    Identity: lambda graph, layer, x, where: x,
    ReLU: lambda graph, layer, x, where: graph.op("Relu", [x], where),
    Sigmoid: lambda graph, layer, x, where: graph.op("Sigmoid", [x], where),
    Tanh: lambda graph, layer, x, where: graph.op("Tanh", [x], where),
    Softmax: lambda graph, layer, x, where: graph.op("Softmax", [x], where, axis=layer.axis),
    LogSoftmax: lambda graph, layer, x, where: graph.op("LogSoftmax", [x], where, axis=layer.dim),
    LeakyReLU: lambda graph, layer, x, where: graph.op("LeakyRelu", [x], where, alpha=layer.negative_slope),
    ELU: lambda graph, layer, x, where: graph.op("Elu", [x], where, alpha=layer.alpha),
}  # fmt: skip
#: The layers nn.export_onnx writes (inside Sequential stacks, nested ones too), and Flatten.
SUPPORTED = sorted([*(layer.__name__ for layer in _EXPORTERS), "Flatten", "Sequential", "MLP"])


class _UnsupportedError(Exception):
    """A layer (or a setting of one) that has no ONNX translation here; its message names where it is."""


def _layer(graph: _Graph, layer: Module, x: str, where: str, shape: tuple[int, ...] = ()) -> str:
    """The ONNX value computed from ``x`` by ``layer`` (whose input has ``shape`` in the example)."""
    if isinstance(layer, Flatten):
        return _flatten(graph, layer, x, where, shape)
    exporter = _EXPORTERS.get(type(layer))
    if exporter is None:
        raise _UnsupportedError(f"{where} ({type(layer).__name__})")
    return exporter(graph, layer, x, where)


def _flat_layers(model: Module, prefix: str) -> Iterator[tuple[str, Module]]:
    """(dotted name, layer) of every layer of ``model``, nested Sequentials opened."""
    if isinstance(model, Sequential):
        for index, layer in enumerate(model.layers):
            yield from _flat_layers(layer, f"{prefix}layers.{index}.")
    else:
        yield prefix.rstrip(".") or type(model).__name__, model


def _build(graph: _Graph, model: Module, example: np.ndarray) -> tuple[str, list[str], tuple[int, ...]]:
    """Every layer translated in order, its input's shape taken from running the example.

    Returns the output's name, the unsupported layers and the shape the model's output has for the example.

    After an unsupported layer the rest are only checked for support (what it returns may not feed them).
    """
    value, x = "input", ag.Tensor(example)
    unsupported: list[str] = []
    for where, layer in _flat_layers(model, ""):
        try:
            value = _layer(graph, layer, value, where, x.shape if not unsupported else (0, 0))
        except _UnsupportedError as error:
            unsupported.append(str(error))
        if not unsupported:
            x = layer(x)
    return value, unsupported, np.shape(x.data if isinstance(x, ag.Tensor) else x)


def _example_array(model: Module, example_input: Any) -> tuple[np.ndarray, np.dtype]:
    """The example as an array of the model's floating dtype (batch axis first), and that dtype."""
    dtypes = {parameter.dtype for parameter in model.parameters()}
    if len(dtypes) > 1:
        raise ValueError(f"nn.export_onnx: the model mixes dtypes {sorted(map(str, dtypes))}; build it with one dtype")
    example = np.asarray(example_input.data if isinstance(example_input, ag.Tensor) else example_input)
    dtype = dtypes.pop() if dtypes else (example.dtype if example.dtype.kind == "f" else np.dtype(np.float32))
    if example.ndim < 2 or example.dtype.kind not in "fiub":
        raise ValueError(
            f"nn.export_onnx: example_input must be a batch of numbers (batch axis first, at least 2-D), got shape "
            f"{example.shape} and dtype {example.dtype}"
        )
    return example.astype(dtype), dtype


def export_onnx(model: Module, path: str | os.PathLike[str], example_input: Any) -> Path:
    """Write ``model`` (a Sequential stack of supported layers) as an ONNX file at ``path``; return the path.

    ``example_input`` is one batch (batch axis first) fixing the other axes' sizes and the dtype;
    the batch axis itself is dynamic in the file. The model is exported as it computes in
    evaluation mode (batch norm with its running statistics, dropout off), whatever its mode, and
    is left in its mode. The graph is validated with ``onnx.checker`` before the file is written
    atomically. A layer without an ONNX translation raises ``NotImplementedError`` naming every
    such layer. Needs the ``onnx`` package: ``pip install "autograd_lite[onnx]"``. To run it::

        import onnxruntime
        session = onnxruntime.InferenceSession(path)
        outputs = session.run(None, {"input": batch.astype(np.float32)})[0]
    """
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError:
        raise ModuleNotFoundError('nn.export_onnx needs the onnx package: pip install "autograd_lite[onnx]"') from None
    if not isinstance(model, Module):
        raise TypeError(f"nn.export_onnx: expected an nn.Module, got {type(model).__name__}")
    example, dtype = _example_array(model, example_input)
    modes = [(module, module.training) for module in model.modules()]
    graph = _Graph(onnx.helper, onnx.numpy_helper, dtype)
    try:
        model.eval()
        with ag.no_grad():
            output, unsupported, output_shape = _build(graph, model, example)
    finally:
        for module, mode in modes:
            module.training = mode
    if unsupported:
        raise NotImplementedError(
            f"nn.export_onnx: no ONNX translation for {', '.join(unsupported)}; the supported layers are "
            f"{', '.join(SUPPORTED)}"
        )
    proto = _model_proto(onnx, graph, output, (example.shape, output_shape), dtype)
    onnx.checker.check_model(proto, full_check=True)
    write_atomically(path, proto.SerializeToString(), caller="nn.export_onnx")
    return Path(path)


def _model_proto(onnx: Any, graph: _Graph, output: str, shapes: tuple[tuple[int, ...], ...], dtype: np.dtype) -> Any:
    """The ModelProto: input "input" and output "output", both with a dynamic "batch" first axis."""
    element = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    (input_shape, output_shape), helper = shapes, onnx.helper
    if output == "input":  # a model that computes nothing (Identity, Dropout): ONNX needs one node
        output = graph.op("Identity", ["input"], "identity")
    graph.nodes.append(helper.make_node("Identity", [output], ["output"], name="output"))
    proto_graph = helper.make_graph(
        graph.nodes,
        "autograd_lite",
        [helper.make_tensor_value_info("input", element, ["batch", *input_shape[1:]])],
        [helper.make_tensor_value_info("output", element, ["batch", *output_shape[1:]])],
        graph.initializers,
    )
    # IR version 8 with opset 17: files that onnxruntime 1.14 and later load.
    return helper.make_model(proto_graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8,
                             producer_name="autograd_lite", producer_version=ag.__version__)  # fmt: skip
