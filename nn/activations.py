"""Activation modules (Sigmoid, ReLU, Tanh, Softmax, Identity, Step) and their lookup by name."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
from nn.module import Module


class Sigmoid(Module):
    """Elementwise 1 / (1 + exp(-x)), without overflow."""

    def forward(self, x: Any) -> ag.Tensor:
        return ag.sigmoid(x)


class ReLU(Module):
    """Elementwise max(x, 0)."""

    def forward(self, x: Any) -> ag.Tensor:
        return ag.relu(x)


class Tanh(Module):
    """Elementwise hyperbolic tangent."""

    def forward(self, x: Any) -> ag.Tensor:
        return ag.tanh(x)


class Softmax(Module):
    """Softmax along ``axis`` (the class axis, last by default)."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: Any) -> ag.Tensor:
        return ag.softmax(x, axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x: Any) -> Any:
        return x


class StepBackward(ag.Node):
    """The Node behind :func:`step`: it has no useful derivative, so backward refuses."""

    __slots__ = ()
    formula = "d step(a)/da = 0 almost everywhere: not usable for gradient descent"

    @staticmethod
    def _refuse(*_: Any, **__: Any) -> Any:
        raise RuntimeError(
            "backward(): the graph goes through nn.Step (the perceptron's step function), whose derivative is 0 "
            "everywhere it exists, so gradient descent cannot learn through it; use nn.Sigmoid for a trainable "
            "layer, or train a perceptron with its own update rule (w += lr * (target - output) * x)"
        )

    vjps = (_refuse, _refuse)

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        return cls._refuse()


def step(x: Any) -> ag.Tensor:
    """The perceptron's step function: 1 where x > 0, else 0. Forward only: backward raises."""
    x = x if isinstance(x, ag.Tensor) else ag.Tensor(x)
    values = (x.data > 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)
    if not (x.requires_grad and ag.is_grad_enabled()):
        return ag.Tensor(values)
    # A graph must record *something* here so that backward can refuse with a clear message
    # instead of silently giving zero gradients. ``apply`` is not public API, so record a
    # cheap op in tape order and make its Node a StepBackward (same slots, so this is allowed).
    out = ag.mul(x, 0.0)
    out.node.__class__ = StepBackward
    out.data = values
    return out


class Step(Module):
    """The perceptron's step function as a module (forward only; backpropagating through it raises)."""

    def forward(self, x: Any) -> ag.Tensor:
        return step(x)


#: Activation names accepted by Dense(activation=...) and MLP(activation=...).
ACTIVATIONS: dict[str, type[Module]] = {
    "sigmoid": Sigmoid,
    "relu": ReLU,
    "tanh": Tanh,
    "softmax": Softmax,
    "identity": Identity,
    "linear": Identity,
    "step": Step,
}


def get_activation(activation: str | Module | None) -> Module | None:
    """An activation module from a name, a Module, or None (no activation)."""
    if activation is None or isinstance(activation, Module):
        return activation
    if isinstance(activation, str) and activation.lower() in ACTIVATIONS:
        return ACTIVATIONS[activation.lower()]()
    raise ValueError(
        f"unknown activation {activation!r}: use one of {', '.join(sorted(ACTIVATIONS))}, an nn.Module, or None"
    )
