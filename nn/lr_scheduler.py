"""Learning-rate schedules with PyTorch's names and formulas: StepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR
and ReduceLROnPlateau (also reachable as ``nn.optim.lr_scheduler``).

A scheduler holds an optimizer and sets its ``lr``. As in PyTorch, creating one sets the
learning rate of "epoch 0" and each ``step()`` moves to the next epoch (the next batch for
OneCycleLR); call it after ``optimizer.step()``. ``get_last_lr()`` returns ``[lr]`` (one
entry per parameter group in PyTorch; an nn optimizer has one group).

The epoch schedules compute each rate from the initial one in closed form (PyTorch's
``_get_closed_form_lr``), which equals PyTorch's recursive update in exact arithmetic and
does not accumulate rounding; a rate set by hand on the optimizer is therefore overwritten at
the next ``step()``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from nn.optim import Optimizer

__all__ = [
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "OneCycleLR",
    "ReduceLROnPlateau",
]


def _check(scheduler: str, name: str, value: Any, low: float, high: float | None = None, *, integer: bool = False):
    """``value`` is a finite number (an integer if ``integer``) in [low, high]; return it."""
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        kind = "an integer" if integer else "a finite number"
        raise TypeError(f"{scheduler}: {name} must be {kind}, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{scheduler}: {name} must be {bound}, got {value}")
    return value


def _check_optimizer(scheduler: str, optimizer: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{scheduler}: expected an nn.optim optimizer (SGD, Adam, ...), got {type(optimizer).__name__}; "
            f"create the optimizer first and pass it"
        )


class _StateDict:
    """state_dict()/load_state_dict() as PyTorch's: every attribute except the optimizer."""

    _last_lr: list[float]  # set by each scheduler's step

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (plain Python values), without the optimizer."""
        return {key: value for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (the keys must be exactly this scheduler's)."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{name}: expected a mapping from state_dict(), got {type(state).__name__}")
        expected = set(self.state_dict())
        if set(state) != expected:
            difference = sorted(set(state) ^ expected)
            raise ValueError(f"{name}: the keys differ from this scheduler's ({', '.join(map(str, difference))})")
        vars(self).update(state)

    def get_last_lr(self) -> list[float]:
        """The learning rate the last step set, as a one-element list (PyTorch: one per parameter group)."""
        return list(self._last_lr)


class LRScheduler(_StateDict):
    """Base class of the epoch (and batch) schedules: subclasses define :meth:`get_lr` for ``last_epoch``."""

    def __init__(self, optimizer: Optimizer) -> None:
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        self.base_lrs = [float(optimizer.lr)]
        self.last_epoch = -1
        self._last_lr = list(self.base_lrs)
        self.step()  # PyTorch's initial step: epoch 0

    def get_lr(self) -> list[float]:
        """The learning rate(s) for ``self.last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next epoch (or batch) and set the optimizer's learning rate."""
        self.last_epoch += 1
        (lr,) = self.get_lr()
        self.optimizer.lr = float(lr)
        self._last_lr = [self.optimizer.lr]


class StepLR(LRScheduler):
    """lr = base_lr · gamma^⌊epoch / step_size⌋: decay by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _check("StepLR", "step_size", step_size, 1, integer=True)
        self.gamma = float(_check("StepLR", "gamma", gamma, 0.0))
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        """base_lr · gamma^⌊last_epoch / step_size⌋."""
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = base_lr · gamma^epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = float(_check("ExponentialLR", "gamma", gamma, 0.0))
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        """base_lr · gamma^last_epoch."""
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min)·(1 + cos(π·epoch / T_max)) / 2 (SGDR without restarts).

    After ``T_max`` epochs the cosine goes on, back up towards base_lr, as PyTorch's does.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _check("CosineAnnealingLR", "T_max", T_max, 1, integer=True)
        self.eta_min = float(_check("CosineAnnealingLR", "eta_min", eta_min, 0.0))
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        """eta_min + (base_lr - eta_min)·(1 + cos(π·last_epoch / T_max)) / 2."""
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


def _annealing_cos(start: float, end: float, pct: float) -> float:
    """Cosine from ``start`` (pct 0) to ``end`` (pct 1)."""
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _annealing_linear(start: float, end: float, pct: float) -> float:
    """Straight line from ``start`` (pct 0) to ``end`` (pct 1)."""
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topor 2018), stepped after every batch, with PyTorch's phases and defaults.

    The rate rises from max_lr/div_factor to ``max_lr`` over the first ``pct_start`` of the
    ``total_steps`` (or ``epochs · steps_per_epoch``) steps, then anneals to
    max_lr/(div_factor·final_div_factor); ``three_phase`` comes back to the initial rate first.
    With ``cycle_momentum`` the momentum (SGD, RMSprop) or beta1 (Adam, AdamW) moves the other
    way, between ``max_momentum`` and ``base_momentum``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        _check_optimizer("OneCycleLR", optimizer)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        _check("OneCycleLR", "pct_start", pct_start, 0.0, 1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.max_lr = float(_check("OneCycleLR", "max_lr", max_lr, 0.0))
        self.initial_lr = self.max_lr / _check("OneCycleLR", "div_factor", div_factor, 1e-300)
        self.min_lr = self.initial_lr / _check("OneCycleLR", "final_div_factor", final_div_factor, 1e-300)
        self.phases = _phases(float(pct_start) * self.total_steps, self.total_steps, bool(three_phase))
        self.cycle_momentum = bool(cycle_momentum)
        self.momentum_name = None
        if self.cycle_momentum:
            self.momentum_name = next((n for n in ("beta1", "momentum") if hasattr(optimizer, n)), None)
            if self.momentum_name is None:
                raise ValueError(
                    f"OneCycleLR: {type(optimizer).__name__} has no momentum or beta1 to cycle; "
                    f"pass cycle_momentum=False"
                )
        self.base_momentum = float(_check("OneCycleLR", "base_momentum", base_momentum, 0.0, 1.0))
        self.max_momentum = float(_check("OneCycleLR", "max_momentum", max_momentum, 0.0, 1.0))
        optimizer.lr = self.initial_lr  # PyTorch's group["initial_lr"]: the schedule's base
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        """The rate (and momentum) of step ``last_epoch``, on the phase it falls in."""
        anneal = _annealing_cos if self.anneal_strategy == "cos" else _annealing_linear
        values = {"initial": self.initial_lr, "max": self.max_lr, "min": self.min_lr}
        momenta = {"initial": self.max_momentum, "max": self.base_momentum, "min": self.max_momentum}
        start_step = 0.0
        for position, (end_step, start, end) in enumerate(self.phases):
            if self.last_epoch <= end_step or position == len(self.phases) - 1:
                pct = (self.last_epoch - start_step) / (end_step - start_step)
                if self.momentum_name is not None:
                    momentum = anneal(momenta[start], momenta[end], pct)
                    setattr(self.optimizer, self.momentum_name, momentum)
                return [anneal(values[start], values[end], pct)]
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")  # pragma: no cover

    def step(self) -> None:
        """Move to the next batch; more than ``total_steps`` steps is an error, as in PyTorch."""
        if self.last_epoch + 1 > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {self.last_epoch + 1} times, but total_steps is {self.total_steps}; "
                f"create it with total_steps (or epochs and steps_per_epoch) covering the whole training"
            )
        super().step()


def _total_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    """PyTorch's rule: ``total_steps``, or else ``epochs · steps_per_epoch``."""
    if total_steps is not None:
        return _check("OneCycleLR", "total_steps", total_steps, 1, integer=True)
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
    epochs = _check("OneCycleLR", "epochs", epochs, 1, integer=True)
    return epochs * _check("OneCycleLR", "steps_per_epoch", steps_per_epoch, 1, integer=True)


def _phases(warmup: float, total_steps: int, three_phase: bool) -> list[tuple[float, str, str]]:
    """(end step, start value, end value) of each phase, as PyTorch's OneCycleLR lays them out."""
    if three_phase:
        return [(warmup - 1, "initial", "max"), (2 * warmup - 2, "max", "initial"), (total_steps - 1, "initial", "min")]
    return [(warmup - 1, "initial", "max"), (total_steps - 1, "max", "min")]


class ReduceLROnPlateau(_StateDict):
    """Multiply the rate by ``factor`` when a metric has not improved for ``patience`` epochs (PyTorch's rules).

    ``step(metric)`` once per epoch. In "min" mode with threshold_mode "rel", an improvement is
    a value below best·(1 - threshold) ("abs": below best - threshold; "max" mode mirrors it).
    After a reduction, ``cooldown`` epochs pass before bad epochs count again; the rate never
    goes below ``min_lr``, and a change smaller than ``eps`` is skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        _check_optimizer("ReduceLROnPlateau", optimizer)
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', "
                f"got {mode!r} and {threshold_mode!r}"
            )
        if _check("ReduceLROnPlateau", "factor", factor, 0.0) >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        self.optimizer = optimizer
        self.mode, self.threshold_mode, self.factor = mode, threshold_mode, float(factor)
        self.patience = _check("ReduceLROnPlateau", "patience", patience, 0, integer=True)
        self.threshold = float(_check("ReduceLROnPlateau", "threshold", threshold, 0.0))
        self.cooldown = _check("ReduceLROnPlateau", "cooldown", cooldown, 0, integer=True)
        self.min_lrs = [float(_check("ReduceLROnPlateau", "min_lr", min_lr, 0.0))]
        self.eps = float(_check("ReduceLROnPlateau", "eps", eps, 0.0))
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [float(optimizer.lr)]

    def is_better(self, current: float, best: float) -> bool:
        """Whether ``current`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return current < (best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return current > (best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics: float) -> None:
        """Record one epoch's metric (e.g. the validation loss) and reduce the rate after a plateau."""
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: expected a number (e.g. the loss), got {metrics!r}") from None
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = float(self.optimizer.lr)
            new = max(old * self.factor, self.min_lrs[0])
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(self.optimizer.lr)]
