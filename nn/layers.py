"""Layers: Dense (fully connected), Sequential and MLP, with He and Xavier/Glorot initialisation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.activations import get_activation
from nn.module import Module, Parameter

Initializer = Callable[[tuple[int, int], np.random.Generator], np.ndarray]


def he_normal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Normal with std sqrt(2 / fan_in) (He et al. 2015): keeps the variance through ReLU layers."""
    return rng.standard_normal(shape) * np.sqrt(2.0 / shape[0])


def he_uniform(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Uniform on ±sqrt(6 / fan_in): the same variance as :func:`he_normal`."""
    limit = np.sqrt(6.0 / shape[0])
    return rng.uniform(-limit, limit, shape)


def xavier_uniform(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Uniform on ±sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010), for sigmoid/tanh layers."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, shape)


def xavier_normal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Normal with std sqrt(2 / (fan_in + fan_out))."""
    return rng.standard_normal(shape) * np.sqrt(2.0 / (shape[0] + shape[1]))


#: Initialisation names accepted by Dense(init=...); "he" and "xavier"/"glorot" are the usual short names.
INITIALIZERS: dict[str, Initializer] = {
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "xavier": xavier_uniform,
    "glorot": xavier_uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
}


def as_generator(rng: int | np.random.Generator | None) -> np.random.Generator:
    """A NumPy Generator from a seed, a Generator (used as is) or None (fresh, unseeded)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None, got {type(rng).__name__}")


def as_input(x: Any, dtype: Any) -> ag.Tensor:
    """A layer's input as a Tensor of the layer's ``dtype`` (None: as it is).

    Cast rather than upcast the whole model: a differentiable cast when ``x`` needs a gradient,
    a plain converted copy otherwise.
    """
    if not isinstance(x, ag.Tensor):
        return ag.Tensor(np.asarray(x, dtype=dtype))
    if dtype is None or x.dtype == dtype:
        return x
    return ag.astype(x, dtype) if x.requires_grad else ag.Tensor(x.data.astype(dtype))


class Dense(Module):
    """A fully connected layer: ``activation(x @ weight + bias)``, weight of shape (in_features, out_features).

    ``init`` defaults to He for ReLU and Xavier/Glorot otherwise. Inputs of another dtype are
    cast to the layer's dtype (see docs/nn.md), so float64 data does not upcast a float32 model.
    """

    repr_inline = True  # the activation shows inside "Dense(...)", not as a child line

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        activation: str | Module | None = None,
        init: str | Initializer | None = None,
        dtype: Any = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        for label, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Dense: {label} must be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Dense: dtype must be a floating-point type such as np.float32, got {dtype}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.activation = get_activation(activation)
        activation_name = type(self.activation).__name__ if self.activation is not None else None
        if init is None:
            init = "he" if activation_name == "ReLU" else "xavier"
        if isinstance(init, str):
            if init.lower() not in INITIALIZERS:
                raise ValueError(f"Dense: unknown init {init!r}; use one of {', '.join(INITIALIZERS)} or a function")
            initializer = INITIALIZERS[init.lower()]
        elif callable(init):
            initializer = init
        else:
            raise TypeError(f"Dense: init must be a name or a function (shape, rng) -> array, got {init!r}")
        shape = (self.in_features, self.out_features)
        values = np.asarray(initializer(shape, as_generator(rng)))
        if values.shape != shape:
            raise ValueError(f"Dense: init returned shape {values.shape}, expected {shape}")
        self.weight = Parameter(values, dtype=dtype)
        self.bias = Parameter(np.zeros(self.out_features), dtype=dtype) if bias else None

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the parameters (and of the outputs)."""
        return self.weight.dtype

    def forward(self, x: Any) -> ag.Tensor:
        x = as_input(x, self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Dense({self.in_features} -> {self.out_features}): input has shape {x.shape}, but its last axis "
                f"must have {self.in_features} features"
            )
        out = ag.linear(x, self.weight, self.bias)
        return out if self.activation is None else self.activation(out)

    def extra_repr(self) -> str:
        parts = [f"{self.in_features} -> {self.out_features}"]
        if self.bias is None:
            parts.append("bias=False")
        if self.activation is not None:
            parts.append(f"activation={type(self.activation).__name__.lower()}")
        parts.append(f"dtype={self.weight.dtype}")
        return ", ".join(parts)


class Sequential(Module):
    """Modules applied one after another; parameters are named ``layers.<index>.<name>``."""

    def __init__(self, *layers: Module) -> None:
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {index} is a {type(layer).__name__}, not an nn.Module")
        self.layers = list(layers)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def append(self, layer: Module) -> Sequential:
        """Add a module at the end."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.append: expected an nn.Module, got {type(layer).__name__}")
        self.layers.append(layer)
        return self

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


class MLP(Sequential):
    """A multilayer perceptron: Dense layers of ``sizes`` (e.g. [784, 100, 10]) with ``activation`` between them.

    Each hidden layer is ``Dense(..., activation=activation)``; the last one gets
    ``output_activation`` (None: raw outputs, e.g. logits for softmax_cross_entropy).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        bias: bool = True,
        dtype: Any = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        generator = as_generator(rng)  # one generator for all layers: one seed fixes the whole model
        last = len(sizes) - 2
        super().__init__(
            *[
                Dense(
                    sizes[i],
                    sizes[i + 1],
                    bias=bias,
                    activation=output_activation if i == last else activation,
                    dtype=dtype,
                    rng=generator,
                )
                for i in range(len(sizes) - 1)
            ]
        )
        self.sizes = sizes
