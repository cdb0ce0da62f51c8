"""Activation modules (Sigmoid, ReLU, Tanh, Softmax, Identity, Step, LeakyReLU, ELU, GELU, Softplus, LogSoftmax)
and their lookup by name."""

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


class LeakyReLU(Module):
    """Elementwise x where x > 0, else negative_slope * x (PyTorch's default slope 0.01)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> ag.Tensor:
        return ag.leaky_relu(x, negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """Elementwise x where x > 0, else alpha * (exp(x) - 1) (Clevert et al. 2015)."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = float(alpha)

    def forward(self, x: Any) -> ag.Tensor:
        return ag.elu(x, alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; ``approximate="tanh"`` uses the tanh formula (Hendrycks & Gimpel)."""

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> ag.Tensor:
        return ag.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as PyTorch), without overflow."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta}")
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: Any) -> ag.Tensor:
        x = x if isinstance(x, ag.Tensor) else ag.Tensor(x)
        scaled = x if self.beta == 1.0 else x * self.beta
        smooth = ag.softplus(scaled) if self.beta == 1.0 else ag.softplus(scaled) / self.beta
        return ag.where(scaled.data > self.threshold, x, smooth)

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}, threshold={self.threshold:g}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x) in one stable node.

    PyTorch's ``dim=None`` picks an axis from the number of dimensions (deprecated there); here
    the default is the last axis, as for :class:`Softmax`.
    """

    def __init__(self, dim: int = -1) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"LogSoftmax: dim must be an integer axis, got {dim!r}")
        self.dim = int(dim)

    def forward(self, x: Any) -> ag.Tensor:
        return ag.log_softmax(x, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


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
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "softplus": Softplus,
    "log_softmax": LogSoftmax,
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
