"""Activation modules (Sigmoid, ReLU, Tanh, Softmax, Identity, Step) and their lookup by name."""

from __future__ import annotations

import functools
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


def _refuse_backward(*_: Any, **__: Any) -> Any:
    raise RuntimeError(
        "backward(): the graph goes through nn.Step (the perceptron's step function), whose derivative is 0 "
        "everywhere it exists, so gradient descent cannot learn through it; use nn.Sigmoid for a trainable "
        "layer, or train a perceptron with its own update rule (w += lr * (target - output) * x)"
    )


@functools.cache
def _step_node_class(base: type[ag.Node]) -> type[ag.Node]:
    """A Node class named "Step" whose backward refuses, laid out exactly like ``base``."""
    return type(
        "Step",
        (base,),
        {
            "__slots__": (),  # adds nothing to base's layout, so a base instance may become one
            "formula": "d step(a)/da = 0 wherever it exists: no gradient to descend",
            "vjps": (_refuse_backward, _refuse_backward),
            "vjp": classmethod(_refuse_backward),
        },
    )


def step(x: Any) -> ag.Tensor:
    """The perceptron's step function: 1 where x > 0, else 0. Forward only: backward raises."""
    x = x if isinstance(x, ag.Tensor) else ag.Tensor(x)
    values = (x.data > 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)
    if not (x.requires_grad and ag.is_grad_enabled()):
        return ag.Tensor(values)
    # The graph must record *something* here so that backward refuses with a clear message
    # instead of silently giving zero gradients. Custom ops are not public API, so record a
    # cheap op in tape order and turn its Node into a "Step" Node (a subclass with no new slots).
    out = ag.mul(x, 0.0)
    out.node.__class__ = _step_node_class(type(out.node))
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
