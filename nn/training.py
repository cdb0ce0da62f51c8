"""The training loop: fit() with a progress bar, evaluate(), predict(), and the History it returns."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.clip import clip_grad_norm_
from nn.data import batch_count, batches
from nn.lr_scheduler import LRScheduler, OneCycleLR, ReduceLROnPlateau
from nn.metrics import accuracy
from nn.module import Module
from nn.notebook import figure_png, notebook_figure
from nn.optim import Optimizer
from nn.progress import SilentProgress, TrainingProgress, progress_for

Metric = Callable[[np.ndarray, np.ndarray], float]


class History:
    """Per-epoch values: ``history["loss"]``, ``history["val_accuracy"]``, ... (Keras's names)."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}

    def append(self, values: dict[str, float]) -> None:
        """Record one epoch's values."""
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.history.get("loss", []))

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.history:
            raise KeyError(f"History has no {key!r}; it has {', '.join(self.history) or 'nothing yet'}")
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        last = ", ".join(f"{key}={values[-1]:.4g}" for key, values in self.history.items() if values)
        return f"History({self.epochs} epochs{': ' + last if last else ''})"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """A notebook shows the curves (with matplotlib installed and an epoch recorded), else the text."""
        bundle: dict[str, Any] = {"text/plain": repr(self)}
        if self.epochs:
            try:
                bundle["image/png"] = figure_png(self.plot())
            except ImportError:  # matplotlib is an optional extra: the text says it all
                pass
        return bundle

    def plot(self, path: str | None = None) -> Any:
        """Draw loss (and accuracy, if recorded) per epoch, train and validation; save to ``path`` if given.

        Returns the matplotlib Figure; a notebook cell ending in ``history.plot()`` shows it.
        Uses no pyplot state, so it works without a display.
        """
        if not self.epochs:
            raise ValueError("History.plot: nothing to plot yet (no epoch was recorded)")
        names = [name for name in self.history if not name.startswith("val_")]
        figure = notebook_figure(figsize=(5 * len(names), 3.8))  # a notebook shows it as its picture
        epochs = np.arange(1, self.epochs + 1)
        for position, name in enumerate(names, start=1):
            axes = figure.add_subplot(1, len(names), position)
            axes.plot(epochs, self.history[name], label="train")
            if f"val_{name}" in self.history:
                axes.plot(epochs, self.history[f"val_{name}"], label="validation")
            axes.set_xlabel("epoch")
            axes.set_ylabel(name)
            axes.set_title(name)
            axes.grid(alpha=0.3)
            axes.legend()
        figure.tight_layout()
        if path is not None:
            figure.savefig(path)
        return figure


def _metric_functions(metrics: Sequence[str | Metric], loss: Any) -> dict[str, Metric]:
    # The loss knows what its outputs are: one on logits (binary_cross_entropy_with_logits) says where
    # class 1 begins with an ``accuracy_threshold``; without one, nn.accuracy's default fits probabilities.
    threshold = getattr(loss, "accuracy_threshold", None)
    functions: dict[str, Metric] = {}
    for metric in metrics:
        if metric == "accuracy":
            functions["accuracy"] = accuracy if threshold is None else functools.partial(accuracy, threshold=threshold)
        elif callable(metric):
            functions[getattr(metric, "__name__", type(metric).__name__)] = metric
        else:
            raise ValueError(f"fit: unknown metric {metric!r}; use 'accuracy' or a function (outputs, target) -> float")
    return functions


def _check_data(X: Any, y: Any, caller: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X.data if isinstance(X, ag.Tensor) else X), np.asarray(y.data if isinstance(y, ag.Tensor) else y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"{caller}: X (shape {X.shape}) and y (shape {y.shape}) need the same number of rows")
    if len(X) == 0:
        raise ValueError(f"{caller}: got no samples (X has shape {X.shape})")
    return X, y


def _scalar_loss(value: Any, caller: str) -> ag.Tensor:
    if not isinstance(value, ag.Tensor) or value.size != 1:
        raise ValueError(
            f"{caller}: the loss must return a single-number Tensor, got shape {getattr(value, 'shape', None)}; "
            f"use reduction='mean' or 'sum'"
        )
    return value


def fit(
    model: Module,
    loss: Callable[..., ag.Tensor],
    optimizer: Optimizer,
    X: Any,
    y: Any,
    epochs: int = 1,
    batch_size: int = 32,
    validation: tuple[Any, Any] | None = None,
    metrics: Sequence[str | Metric] = (),
    shuffle: bool = True,
    seed: int | None = 0,
    progress: bool = True,
    max_iterations: int | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    scheduler: LRScheduler | ReduceLROnPlateau | None = None,
    clip_grad_norm: float | None = None,
    quiet: bool = False,
    verbose: bool = False,
    compile: bool = False,
) -> History:
    """Train ``model`` for ``epochs`` passes over (X, y) in mini-batches; return the per-epoch History.

    Train loss and metrics are averages over the epoch's batches (weighted by batch size),
    measured while the weights change; validation values are measured after each epoch.
    Progress goes to stderr (see nn.progress): a bar that fits the terminal, a line kept per epoch
    (one bar for the run when epochs take under a second); plain lines when not a terminal.
    ``quiet=True`` (or ``progress=False``) prints nothing; ``verbose=True`` keeps every epoch's line.
    ``max_iterations`` stops after that many mini-batch steps (the last epoch may be partial);
    ``on_epoch(epoch, values)`` is called after each recorded epoch, e.g. to print a line.
    ``scheduler`` steps after each epoch (ReduceLROnPlateau with val_loss, or loss without
    validation) or, for OneCycleLR, after each batch; ``clip_grad_norm`` clips the gradients'
    total norm before each optimizer step; ``compile=True``: see :func:`compiled_forward_backward`.
    """
    X, y, validation = _check_fit_arguments(X, y, epochs, batch_size, validation, max_iterations)
    functions = _metric_functions(metrics, loss)
    generator = np.random.default_rng(seed)  # one generator: a new order every epoch, reproducible overall
    per_epoch = batch_count(len(X), batch_size)
    total_steps = epochs * per_epoch if max_iterations is None else min(epochs * per_epoch, max_iterations)
    history, steps = History(), 0
    forward_backward, step = _batch_steps(model, loss, optimizer, scheduler, clip_grad_norm, total_steps, compile)
    with progress_for(progress, quiet, verbose, epochs, total_steps) as report:
        for epoch in range(1, epochs + 1):
            if steps >= total_steps:
                break
            report.start_epoch(epoch, min(per_epoch, total_steps - steps))
            epoch_batches = itertools.islice(
                batches(X, y, batch_size, shuffle=shuffle, seed=generator), total_steps - steps
            )
            record, taken = _train_epoch(model, forward_backward, epoch_batches, functions, epoch, report, step)
            steps += taken
            if validation is not None:
                scores = evaluate(model, loss, *validation, batch_size=batch_size, metrics=metrics)
                record.update({f"val_{name}": score for name, score in scores.items()})
            history.append(record)
            _step_per_epoch(scheduler, record)
            report.end_epoch(record)
            if on_epoch is not None:
                on_epoch(epoch, record)
    return history


def _batch_steps(
    model: Module, loss: Any, optimizer: Optimizer, scheduler: Any, clip_norm: Any, total_steps: int, compiled: bool
) -> tuple[ForwardBackward, Callable[[], None]]:
    """What fit does per batch: forward and backward (eager or compiled), then the optimizer's step."""
    forward_backward = (compiled_forward_backward if compiled else _eager_forward_backward)(model, loss, optimizer)
    return forward_backward, _optimizer_step(optimizer, scheduler, clip_norm, total_steps)


def _check_fit_arguments(
    X: Any, y: Any, epochs: Any, batch_size: Any, validation: Any, max_iterations: Any
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Refuse what fit cannot train on, saying why; return the data (and validation data) as arrays."""
    X, y = _check_data(X, y, "fit")
    if not _is_count(epochs, minimum=0):
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError("fit: validation must be a pair (X_val, y_val)")
        validation = _check_data(validation[0], validation[1], "fit (validation)")
    if not _is_count(batch_size, minimum=1):
        raise ValueError(f"fit: batch_size must be a positive integer, got {batch_size!r}")
    if max_iterations is not None and not _is_count(max_iterations, minimum=1):
        raise ValueError(f"fit: max_iterations must be a positive integer or None, got {max_iterations!r}")
    return X, y, validation


def _optimizer_step(optimizer: Optimizer, scheduler: Any, clip_grad_norm: Any, total_steps: int) -> Callable[[], None]:
    """What fit does after each backward: clip the gradients, step the optimizer, then a per-batch scheduler."""
    if clip_grad_norm is not None and (
        isinstance(clip_grad_norm, bool)
        or not isinstance(clip_grad_norm, (int, float, np.integer, np.floating))
        or not clip_grad_norm > 0
    ):
        raise ValueError(f"fit: clip_grad_norm must be a positive number or None, got {clip_grad_norm!r}")
    if scheduler is not None and not isinstance(scheduler, (LRScheduler, ReduceLROnPlateau)):
        raise TypeError(
            f"fit: scheduler must be an nn.optim.lr_scheduler scheduler (StepLR, OneCycleLR, ReduceLROnPlateau, ...) "
            f"or None, got {type(scheduler).__name__}"
        )
    if scheduler is not None and scheduler.optimizer is not optimizer:
        raise ValueError("fit: the scheduler adjusts another optimizer than the one fit steps; create it with this one")
    per_batch = scheduler if isinstance(scheduler, OneCycleLR) else None
    if per_batch is not None and per_batch.total_steps - per_batch.last_epoch < total_steps:
        raise ValueError(
            f"fit: the OneCycleLR has {per_batch.total_steps - per_batch.last_epoch} steps left, but fit takes "
            f"{total_steps} (epochs × batches per epoch); create it with total_steps={total_steps}"
        )

    def step() -> None:
        if clip_grad_norm is not None:
            clip_grad_norm_(optimizer.params, float(clip_grad_norm))
        optimizer.step()
        if per_batch is not None:
            per_batch.step()

    return step


def _step_per_epoch(scheduler: Any, record: dict[str, float]) -> None:
    """An epoch scheduler's step: ReduceLROnPlateau on the validation loss (else the training loss)."""
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(record.get("val_loss", record["loss"]))
    elif scheduler is not None and not isinstance(scheduler, OneCycleLR):
        scheduler.step()


def _is_count(value: Any, minimum: int) -> bool:
    """An integer (not a bool) of at least ``minimum``."""
    return bool(not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value >= minimum)


ForwardBackward = Callable[[np.ndarray, np.ndarray], tuple[ag.Tensor, ag.Tensor]]


def _eager_forward_backward(model: Module, loss: Callable[..., ag.Tensor], optimizer: Optimizer) -> ForwardBackward:
    """One batch: the loss and the outputs, the parameters' .grad filled by backward."""

    def run(xb: np.ndarray, yb: np.ndarray) -> tuple[ag.Tensor, ag.Tensor]:
        outputs = model(xb)
        value = _scalar_loss(loss(outputs, yb), "fit")
        optimizer.zero_grad()
        value.backward()
        return value, outputs

    return run


def compiled_forward_backward(model: Module, loss: Callable[..., ag.Tensor], optimizer: Optimizer) -> ForwardBackward:
    """As the eager batch step, run as code ``ag.compile`` generates (traced once per batch shape).

    The parameters are arguments of the compiled function: compile traces with the model's own
    parameter tensors holding recording values, so the model's forward is written down with
    them as inputs, and the gradients come back as results, put into each ``.grad``. Layers
    that draw random numbers in training mode (dropout) are refused: the code would repeat the
    same draws on every batch.
    """
    for name, module in model.named_modules():
        if hasattr(module, "generator") and (getattr(module, "p", None) or getattr(module, "dropout", None)):
            raise ValueError(
                f"fit(compile=True): {name or type(module).__name__} ({type(module).__name__}) draws random numbers "
                "in training mode (dropout), which compiled code would repeat on every batch; use compile=False"
            )
    parameters: list[ag.Tensor] = list(model.parameters())
    count = len(parameters)

    def batch(*arguments: Any) -> tuple[ag.Tensor, list[Any], ag.Tensor]:
        xb, yb = arguments[count:]  # the arguments before them are the parameters, used by the model itself
        outputs = model(xb)
        value = _scalar_loss(loss(outputs, yb), "fit")
        found = ag.run_backward(value, retain_graph=True, create_graph=True, targets=parameters)
        assert found is not None
        grads = [ag.zeros_like(p) if g is None else g for p, g in zip(parameters, found)]
        return value, grads, outputs

    names = [name.replace(".", "_") for name, _ in model.named_parameters()]
    step = ag.compile(batch, name="train_step", names=[*names, "x", "y"])

    def run(xb: np.ndarray, yb: np.ndarray) -> tuple[ag.Tensor, ag.Tensor]:
        value, grads, outputs = step(*parameters, xb, yb)
        optimizer.zero_grad()
        for parameter, grad in zip(parameters, grads):
            parameter.grad = grad.data
        return value, outputs

    run.compiled = step  # type: ignore[attr-defined]
    return run


def _train_epoch(
    model: Module,
    forward_backward: ForwardBackward,
    epoch_batches: Iterable[tuple[np.ndarray, np.ndarray]],
    functions: dict[str, Metric],
    epoch: int,
    report: TrainingProgress | SilentProgress,
    step: Callable[[], None],
) -> tuple[dict[str, float], int]:
    """One optimizer step per batch; the epoch's loss and metrics (weighted by batch size) and the steps taken."""
    model.train()
    totals = dict.fromkeys(["loss", *functions], 0.0)
    seen = steps = 0
    for xb, yb in epoch_batches:
        value, outputs = forward_backward(xb, yb)
        step()  # clip, optimizer.step(), and a per-batch scheduler (see _optimizer_step)
        number = value.item()
        if not math.isfinite(number):
            raise FloatingPointError(
                f"fit: the loss became {number} in epoch {epoch}; training diverged: lower the learning "
                f"rate, check the data for extreme values, or use a stable loss on logits"
            )
        _accumulate(totals, functions, number, outputs, yb)
        seen += len(xb)
        steps += 1
        report.batch(totals, seen)
    return {name: total / seen for name, total in totals.items()}, steps


def _accumulate(
    totals: dict[str, float], functions: dict[str, Metric], loss_value: float, outputs: ag.Tensor, target: np.ndarray
) -> None:
    """Add one batch's loss and metrics to ``totals``, weighted by its number of samples."""
    totals["loss"] += loss_value * len(target)
    for name, function in functions.items():
        totals[name] += function(outputs.data, target) * len(target)


@ag.no_grad()
def evaluate(
    model: Module,
    loss: Callable[..., ag.Tensor],
    X: Any,
    y: Any,
    batch_size: int = 256,
    metrics: Sequence[str | Metric] = (),
) -> dict[str, float]:
    """Loss and metrics over (X, y) in evaluation mode, without recording a graph."""
    X, y = _check_data(X, y, "evaluate")
    functions = _metric_functions(metrics, loss)
    was_training = model.training
    model.eval()
    try:
        totals = dict.fromkeys(["loss", *functions], 0.0)
        for xb, yb in batches(X, y, batch_size):
            outputs = model(xb)
            _accumulate(totals, functions, _scalar_loss(loss(outputs, yb), "evaluate").item(), outputs, yb)
    finally:
        model.train(was_training)
    return {name: total / len(X) for name, total in totals.items()}


@ag.no_grad()
def predict(model: Module, X: Any, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for every row of X as one array, in evaluation mode and without a graph."""
    X = np.asarray(X.data if isinstance(X, ag.Tensor) else X)
    was_training = model.training
    model.eval()
    try:
        outputs = [np.asarray(model(X[start : start + batch_size]).data) for start in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError(f"predict: got no samples (X has shape {X.shape})")
    return np.concatenate(outputs)
