"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam, AdamW, RMSprop and Adagrad.

Each ``step()`` updates ``parameter.data`` in place with NumPy and records no graph
(assigning ``.data`` bumps the tensor's version, so a graph built before the step cannot
be backpropagated by mistake). The update rules follow PyTorch's documented conventions.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

import autograd_lite as ag


class Optimizer:
    """Base class: holds the parameters and per-parameter state; subclasses define :meth:`step`."""

    #: Hyperparameter names saved by state_dict() (floats; the :attr:`flags` are stored as 0/1).
    hyperparameters: tuple[str, ...] = ("lr",)
    #: The hyperparameters that are booleans ("nesterov", "centered").
    flags: tuple[str, ...] = ()
    #: Names of the per-parameter state arrays, e.g. ("exp_avg", "exp_avg_sq") for Adam.
    slots: tuple[str, ...] = ()
    #: Whether the update uses each parameter's own step count (saved as "step.<index>").
    counts_parameter_steps = False
    #: Allowed range [low, below) of the hyperparameters whose range is not the default [0, inf).
    limits: dict[str, tuple[float, float | None]] = {}

    def __init__(self, params: Iterable[ag.Tensor], lr: float) -> None:
        name = type(self).__name__
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name}: got no parameters to optimize (did you pass model.parameters()?)")
        seen: set[int] = set()
        for index, parameter in enumerate(self.params):
            if not isinstance(parameter, ag.Tensor) or not parameter.requires_grad:
                raise TypeError(
                    f"{name}: parameter {index} is a {type(parameter).__name__} that does not require grad; pass "
                    f"model.parameters() or Tensors created with requires_grad=True"
                )
            if id(parameter) in seen:
                raise ValueError(f"{name}: parameter {index} appears twice; each tensor must be passed once")
            seen.add(id(parameter))
        _check_number(name, "lr", lr, minimum=0.0)
        self.lr = float(lr)
        # Per-parameter state, created lazily on the first step: {slot: [array or None per parameter]}.
        self.state: dict[str, list[np.ndarray | None]] = {slot: [None] * len(self.params) for slot in self.slots}
        self.steps = 0
        # Steps each parameter has taken: a parameter without a gradient skips a step, so Adam's
        # bias correction must count per parameter (as PyTorch does), not per optimizer.
        self.parameter_steps = [0] * len(self.params)

    def _check_hyperparameters(self, name: str, values: dict[str, float]) -> None:
        """The range rules of :attr:`limits`, for the constructor's values and for loaded ones alike."""
        for key, value in values.items():
            low, below = self.limits.get(key, (0.0, None))
            _check_number(name, key, value, low, below)

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter."""
        for parameter in self.params:
            parameter.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        self.steps += 1
        for index, parameter in enumerate(self.params):
            gradient = parameter.grad
            if gradient is None:  # unused in this forward pass: leave it (and its state) alone
                continue
            gradient = gradient.data if isinstance(gradient, ag.Tensor) else np.asarray(gradient)
            self.parameter_steps[index] += 1
            self._update(index, parameter, gradient)

    def _update(self, index: int, parameter: ag.Tensor, gradient: np.ndarray) -> None:
        raise NotImplementedError

    def _slot(self, slot: str, index: int, like: np.ndarray) -> np.ndarray:
        buffer = self.state[slot][index]
        if buffer is None:
            buffer = self.state[slot][index] = np.zeros_like(like)
        return buffer

    # ----- state ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Hyperparameters, step count and state arrays as a flat dict of arrays (saveable in an .npz)."""
        state: dict[str, np.ndarray] = {"kind": np.array(type(self).__name__), "steps": np.array(self.steps)}
        for name in self.hyperparameters:
            state[name] = np.array(float(getattr(self, name)))
        for slot, buffers in self.state.items():
            for index, buffer in enumerate(buffers):
                if buffer is not None:
                    state[f"{slot}.{index}"] = buffer.copy()
        if self.counts_parameter_steps:
            for index, count in enumerate(self.parameter_steps):
                state[f"step.{index}"] = np.array(count)
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned: all of it or, on any error, nothing."""
        apply = self.validated_state(state)
        apply()

    def validated_state(self, state: Mapping[str, Any], caller: str | None = None) -> Callable[[], None]:
        """Check ``state`` completely and return a function that applies it (cannot fail)."""
        name = caller or f"{type(self).__name__}.load_state_dict"
        self._check_kind_and_keys(state, name)
        hyper = {key: _finite_number(name, key, state[key]) for key in self.hyperparameters}
        steps = _count(name, "steps", state["steps"])
        buffers, parameter_steps = self._per_parameter_state(state, name, steps)
        self._check_hyperparameters(name, hyper)

        def apply() -> None:
            for key, value in hyper.items():
                setattr(self, key, bool(value) if key in self.flags else value)
            self.steps = steps
            self.parameter_steps = parameter_steps
            self.state = buffers

        return apply

    def _check_kind_and_keys(self, state: Mapping[str, Any], name: str) -> None:
        """The state is a mapping saved by this kind of optimizer, with every hyperparameter and the step count."""
        if not isinstance(state, Mapping):
            raise TypeError(f"{name}: expected a mapping of names to arrays, got {type(state).__name__}")
        kind = str(np.asarray(state.get("kind", "")))
        if kind != type(self).__name__:
            raise ValueError(
                f"{name}: the state was saved by {kind or 'an unknown optimizer'}, not {type(self).__name__}"
            )
        missing = sorted(key for key in self._fixed_keys() if key not in state)
        if missing:
            raise ValueError(f"{name}: missing key(s) {', '.join(missing)}")

    def _fixed_keys(self) -> set[str]:
        """The keys of state_dict() that are not per parameter."""
        return {"kind", "steps", *self.hyperparameters}

    def _per_parameter_state(
        self, state: Mapping[str, Any], name: str, steps: int
    ) -> tuple[dict[str, list[np.ndarray | None]], list[int]]:
        """The state arrays ("<slot>.<index>") and per-parameter step counts ("step.<index>"), checked."""
        buffers: dict[str, list[np.ndarray | None]] = {slot: [None] * len(self.params) for slot in self.slots}
        parameter_steps = [steps] * len(self.params)  # states saved before per-parameter counts
        fixed = self._fixed_keys()
        for key, value in state.items():
            if key in fixed:
                continue
            slot, _, position = str(key).rpartition(".")
            index = int(position) if position.isdigit() and int(position) < len(self.params) else None
            if self.counts_parameter_steps and slot == "step" and index is not None:
                parameter_steps[index] = _count(name, key, value)
            elif slot in buffers and index is not None:
                buffers[slot][index] = self._state_array(name, key, value, index)
            else:
                raise ValueError(
                    f"{name}: unexpected key {key!r} for {type(self).__name__} with {len(self.params)} parameters"
                )
        return buffers, parameter_steps

    def _state_array(self, name: str, key: str, value: Any, index: int) -> np.ndarray:
        """A copy of a saved state array, which must have its parameter's shape and dtype."""
        parameter = self.params[index]
        value = np.asarray(value)
        if value.shape != parameter.shape or value.dtype != parameter.dtype:
            raise ValueError(
                f"{name}: {key!r} has shape {value.shape} and dtype {value.dtype}, but parameter {index} has "
                f"shape {parameter.shape} and dtype {parameter.dtype}"
            )
        return value.copy()


def _finite_number(name: str, key: str, value: Any) -> float:
    """A saved hyperparameter: a finite number stored as a 0-d array."""
    value = np.asarray(value)
    if value.shape != () or value.dtype.kind not in "fiub" or not np.isfinite(value):
        raise ValueError(f"{name}: {key!r} must be a finite number, got {value!r}")
    return float(value)


def _count(name: str, key: str, value: Any) -> int:
    """A saved step count: a non-negative integer stored as a 0-d array."""
    count = np.asarray(value)
    if count.shape != () or count.dtype.kind not in "iu" or count < 0:
        raise ValueError(f"{name}: {key!r} must be a non-negative integer, got {count!r}")
    return int(count)


def _check_number(optimizer: str, name: str, value: Any, minimum: float, below: float | None = None) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not np.isfinite(value)
    ):
        raise TypeError(f"{optimizer}: {name} must be a finite number, got {value!r}")
    if value < minimum or (below is not None and value >= below):
        bound = f"in [{minimum}, {below})" if below is not None else f">= {minimum}"
        raise ValueError(f"{optimizer}: {name} must be {bound}, got {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    g = grad + weight_decay·p; b = momentum·b + g (b = g on the first step);
    p -= lr·(g + momentum·b) with Nesterov, else p -= lr·b (p -= lr·g without momentum).
    """

    hyperparameters = ("lr", "momentum", "weight_decay", "nesterov")
    flags = ("nesterov",)
    slots = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[ag.Tensor],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        _check_number("SGD", "momentum", momentum, 0.0)
        _check_number("SGD", "weight_decay", weight_decay, 0.0)
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.momentum, self.weight_decay, self.nesterov = float(momentum), float(weight_decay), bool(nesterov)

    def _check_hyperparameters(self, name: str, values: dict[str, float]) -> None:
        super()._check_hyperparameters(name, values)
        if values.get("nesterov") and not values.get("momentum"):
            raise ValueError(f"{name}: nesterov needs momentum > 0")

    def _update(self, index: int, parameter: ag.Tensor, gradient: np.ndarray) -> None:
        if self.weight_decay:
            gradient = gradient + self.weight_decay * parameter.data
        if self.momentum:
            buffer = self.state["momentum_buffer"][index]
            if buffer is None:
                buffer = self.state["momentum_buffer"][index] = np.array(gradient, dtype=parameter.dtype)
            else:
                buffer *= self.momentum
                buffer += gradient
            gradient = gradient + self.momentum * buffer if self.nesterov else buffer
        parameter.data -= self.lr * gradient


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; ``weight_decay`` adds weight_decay·p to the gradient (L2).

    m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; p -= lr·m̂ / (√v̂ + eps) with m̂ = m/(1-β1^t), v̂ = v/(1-β2^t).
    """

    hyperparameters = ("lr", "beta1", "beta2", "eps", "weight_decay")
    slots = ("exp_avg", "exp_avg_sq")
    counts_parameter_steps = True
    limits = {"beta1": (0.0, 1.0), "beta2": (0.0, 1.0)}
    decoupled = False

    def __init__(
        self,
        params: Iterable[ag.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        self._check_hyperparameters(
            name, {"beta1": betas[0], "beta2": betas[1], "eps": eps, "weight_decay": weight_decay}
        )
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    @property
    def betas(self) -> tuple[float, float]:
        """(beta1, beta2)."""
        return self.beta1, self.beta2

    def _update(self, index: int, parameter: ag.Tensor, gradient: np.ndarray) -> None:
        data = parameter.data
        if self.weight_decay:
            if self.decoupled:  # AdamW: shrink the weights directly, outside the adaptive scaling
                data *= 1 - self.lr * self.weight_decay
            else:
                gradient = gradient + self.weight_decay * data
        m = self._slot("exp_avg", index, data)
        v = self._slot("exp_avg_sq", index, data)
        m *= self.beta1
        m += (1 - self.beta1) * gradient
        v *= self.beta2
        v += (1 - self.beta2) * (gradient * gradient)
        # lr·m̂/(√v̂ + eps) rearranged as (lr/c1)·m/(√v/√c2 + eps): the same value, fewer temporary arrays.
        denominator = np.sqrt(v)
        steps = self.parameter_steps[index]
        denominator /= math.sqrt(1 - self.beta2**steps)
        denominator += self.eps
        update = np.divide(m, denominator, out=denominator)
        update *= self.lr / (1 - self.beta1**steps)
        parameter.data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): p -= lr·weight_decay·p, then the Adam step."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[ag.Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e) with PyTorch's update rule, including its ``centered`` and ``momentum`` forms.

    g = grad + weight_decay·p; v = α·v + (1-α)·g²; with ``centered``, ḡ = α·ḡ + (1-α)·g and the
    denominator is √(v - ḡ²) + eps, else √v + eps; with momentum, b = momentum·b + g/denominator and
    p -= lr·b, else p -= lr·g/denominator. All state starts at zero (PyTorch's state names).
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")
    flags = ("centered",)
    slots = ("square_avg", "momentum_buffer", "grad_avg")
    counts_parameter_steps = True

    def __init__(
        self,
        params: Iterable[ag.Tensor],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params, lr)
        values = {"alpha": alpha, "eps": eps, "weight_decay": weight_decay, "momentum": momentum}
        self._check_hyperparameters("RMSprop", values)
        self.alpha, self.eps = float(alpha), float(eps)
        self.weight_decay, self.momentum, self.centered = float(weight_decay), float(momentum), bool(centered)

    def _update(self, index: int, parameter: ag.Tensor, gradient: np.ndarray) -> None:
        data = parameter.data
        if self.weight_decay:
            gradient = gradient + self.weight_decay * data
        square_avg = self._slot("square_avg", index, data)
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * (gradient * gradient)
        if self.centered:
            grad_avg = self._slot("grad_avg", index, data)
            grad_avg += (1 - self.alpha) * (gradient - grad_avg)  # PyTorch's lerp_(grad, 1 - alpha)
            # v - ḡ² >= 0 in exact arithmetic; rounding may make it -1e-20, whose root would be NaN
            denominator = np.sqrt(np.maximum(square_avg - grad_avg * grad_avg, 0))
        else:
            denominator = np.sqrt(square_avg)
        denominator += self.eps
        if self.momentum:
            buffer = self._slot("momentum_buffer", index, data)
            buffer *= self.momentum
            buffer += gradient / denominator
            parameter.data -= self.lr * buffer
        else:
            parameter.data -= self.lr * (gradient / denominator)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011) with PyTorch's update rule.

    g = grad + weight_decay·p; s += g² (s starts at ``initial_accumulator_value``);
    p -= clr·g / (√s + eps) with clr = lr / (1 + (t-1)·lr_decay), t the parameter's step count.
    """

    hyperparameters = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    slots = ("sum",)
    counts_parameter_steps = True

    def __init__(
        self,
        params: Iterable[ag.Tensor],
        lr: float = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ) -> None:
        super().__init__(params, lr)
        values = {
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
        }
        self._check_hyperparameters("Adagrad", values)
        self.lr_decay, self.weight_decay = float(lr_decay), float(weight_decay)
        self.initial_accumulator_value, self.eps = float(initial_accumulator_value), float(eps)

    def _update(self, index: int, parameter: ag.Tensor, gradient: np.ndarray) -> None:
        data = parameter.data
        if self.weight_decay:
            gradient = gradient + self.weight_decay * data
        total = self.state["sum"][index]
        if total is None:
            total = self.state["sum"][index] = np.full_like(data, self.initial_accumulator_value)
        total += gradient * gradient
        clr = self.lr / (1 + (self.parameter_steps[index] - 1) * self.lr_decay)
        denominator = np.sqrt(total)
        denominator += self.eps
        parameter.data -= clr * (gradient / denominator)


# nn.optim.lr_scheduler, as torch.optim.lr_scheduler (imported last: it needs Optimizer defined above); registered
# under that name too, so that PyTorch's `from nn.optim.lr_scheduler import StepLR` works although optim is a module.
from nn import lr_scheduler  # noqa: E402

sys.modules[f"{__name__}.lr_scheduler"] = lr_scheduler
