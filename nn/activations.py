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


def _refuse_backward(*_: Any, **__: Any) -> Any:
    raise RuntimeError(
        "backward(): the graph goes through nn.Step (the perceptron's step function), whose derivative is 0 "
        "everywhere it exists, so gradient descent cannot learn through it; use nn.Sigmoid for a trainable "
        "layer, or train a perceptron with its own update rule (w += lr * (target - output) * x)"
    )


def _step_forward(a: np.ndarray) -> np.ndarray:
    return (a > 0).astype(a.dtype if a.dtype.kind == "f" else np.float64)


# A custom op: recorded on the tape like any other, so backward meets it and refuses with a
# clear message instead of silently giving zero gradients.
_StepNode = type(
    "Step",
    (ag.Node,),
    {
        "__slots__": (),
        "formula": "d step(a)/da = 0 wherever it exists: no gradient to descend",
        "forward": staticmethod(_step_forward),
        "vjps": (_refuse_backward,),
    },
)


def step(x: Any) -> ag.Tensor:
    """The perceptron's step function: 1 where x > 0, else 0. Forward only: backward raises."""
    return ag.apply(_StepNode, x if isinstance(x, ag.Tensor) else ag.Tensor(x))


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
