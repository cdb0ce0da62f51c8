"""Loss functions, each with a module form: squared errors and cross-entropies, numerically stable.

Every loss takes ``reduction``: "mean" (the default, except sum_squared_error's "sum"),
"sum", or "none" (one value per element, or per row for the cross-entropies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.module import Module

#: How each ``reduction`` turns the per-element (or per-row) losses into the result.
REDUCTIONS: dict[str, Callable[[ag.Tensor], ag.Tensor]] = {
    "mean": lambda values: values.mean(),
    "sum": lambda values: values.sum(),
    "none": lambda values: values,
}


def _check_reduction(reduction: str, loss: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")


def _reduce(values: ag.Tensor, reduction: str) -> ag.Tensor:
    """Apply a reduction already checked by :func:`_check_reduction` (every loss checks before computing)."""
    return REDUCTIONS[reduction](values)


def _as_tensor(value: Any, loss: str, what: str) -> ag.Tensor:
    tensor = value if isinstance(value, ag.Tensor) else ag.Tensor(value)
    if tensor.dtype.kind != "f":
        tensor = ag.Tensor(tensor.data.astype(np.float64))
    if tensor.ndim == 0 and what == "logits":
        raise ValueError(f"{loss}: {what} need a class axis, got a single number (shape ())")
    return tensor


def _constant(target: Any) -> np.ndarray:
    """A target's values as an array: targets are data, not something to differentiate."""
    # asanyarray: under ag.compile the target is a recording array, which a plain copy would freeze into the code
    return np.asanyarray(target.data if isinstance(target, ag.Tensor) else target)


def _check_finite(target: np.ndarray, loss: str) -> None:
    if ag.tracing():  # ag.compile cannot branch on the values: a NaN target gives a NaN loss there
        return
    if target.dtype.kind in "fc" and not np.all(np.isfinite(target)):
        count = int(np.sum(~np.isfinite(target)))
        raise ValueError(
            f"{loss}: the target (shape {target.shape}) contains {count} NaN or infinite value(s); clean the data first"
        )


def _check_same_shape(prediction: ag.Tensor, target: Any, loss: str) -> None:
    if prediction.shape != np.shape(target):
        hint = ""
        if prediction.ndim == np.ndim(target) + 1 and prediction.shape[-1] == 1:
            hint = f"; reshape the target to {prediction.shape} (e.g. y.reshape(-1, 1))"
        raise ValueError(
            f"{loss}: prediction has shape {prediction.shape} but target has shape {np.shape(target)}; they must "
            f"match exactly (no broadcasting, which would silently compare every row with every other){hint}"
        )


def _difference(prediction: Any, target: Any, loss: str) -> ag.Tensor:
    """prediction - target, after checking the shapes match and the target is finite."""
    prediction = _as_tensor(prediction, loss, "prediction")
    if not (isinstance(target, ag.Tensor) and target.requires_grad):  # a constant takes the prediction's dtype
        target = np.asarray(target.data if isinstance(target, ag.Tensor) else target, dtype=prediction.dtype)
    _check_same_shape(prediction, target, loss)
    _check_finite(_constant(target), loss)
    return prediction - target


def mse_loss(prediction: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """Mean squared error: mean((prediction - target)²)."""
    _check_reduction(reduction, "mse_loss")
    difference = _difference(prediction, target, "mse_loss")
    return _reduce(difference * difference, reduction)


def sum_squared_error(prediction: Any, target: Any, reduction: str = "sum") -> ag.Tensor:
    """The textbook ½Σ(prediction - target)²; its gradient is simply (prediction - target)."""
    _check_reduction(reduction, "sum_squared_error")
    difference = _difference(prediction, target, "sum_squared_error")
    return _reduce(0.5 * (difference * difference), reduction)


def _class_target(logits: ag.Tensor, target: Any, loss: str) -> np.ndarray:
    """Validate integer labels (shape logits.shape[:-1]) or probability rows (shape logits.shape), saying what to do."""
    target = _constant(target)
    classes = logits.shape[-1]
    if target.dtype.kind in "iu":
        if target.shape != logits.shape[:-1]:
            raise ValueError(
                f"{loss}: integer labels have shape {target.shape}, expected {logits.shape[:-1]} for logits of shape "
                f"{logits.shape} (one label per row)"
            )
        outside = (target < 0) | (target >= classes)
        if np.any(outside):
            raise ValueError(
                f"{loss}: label {target[outside].flat[0]} is out of range for {classes} classes "
                f"(labels must be 0..{classes - 1})"
            )
        return target
    if target.dtype.kind != "f":
        raise ValueError(
            f"{loss}: target has dtype {target.dtype}; give integer labels of shape {logits.shape[:-1]} or "
            f"probabilities (one-hot or soft) of shape {logits.shape}"
        )
    _check_finite(target, loss)
    if target.shape != logits.shape:
        hint = ""
        if target.shape == logits.shape[:-1]:
            hint = "; these look like class labels stored as floats: pass them as integers (y.astype(np.int64))"
        raise ValueError(
            f"{loss}: float target has shape {target.shape} but logits have shape {logits.shape}; probability "
            f"targets must have the logits' shape{hint}"
        )
    _check_probabilities(target, loss)
    return target.astype(logits.dtype, copy=False)


def _check_probabilities(target: np.ndarray, loss: str) -> None:
    """The rule ag.softmax_cross_entropy leaves to its callers: probability targets are not negative."""
    if target.dtype.kind == "f" and not ag.tracing() and np.any(target < 0):
        raise ValueError(f"{loss}: probability targets must be >= 0, found {target.min()}")


def softmax_cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """Cross-entropy of softmax(logits) against integer labels or probability rows, via log-sum-exp.

    Never computes softmax and then log, so large logits cannot overflow or give log(0).
    """
    loss = "softmax_cross_entropy"
    _check_reduction(reduction, loss)
    logits = _as_tensor(logits, loss, "logits")
    target = _constant(target)
    error: ValueError | None
    try:
        per_row = ag.softmax_cross_entropy(logits, target)  # the op validates the labels or probability rows
    except ValueError as refused:
        error = refused
    else:
        error = None
    if error is not None:
        _class_target(logits, target, loss)  # the op refused: raise nn's diagnosis, with its hints, alone
        raise error
    _check_probabilities(target, loss)
    return _reduce(per_row, reduction)


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> ag.Tensor:
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1], stable for any logit.

    Uses log(1 + e^z) = logsumexp(0, z), so the loss is softplus(z) - z * target and its
    gradient is exactly sigmoid(z) - target, even at z = 0 and for |z| = 1e3.
    """
    loss = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, loss)
    logits = _as_tensor(logits, loss, "prediction")
    target = _constant(target)
    _check_same_shape(logits, target, loss)
    if target.dtype.kind not in "biuf":
        raise ValueError(f"{loss}: target has dtype {target.dtype}; use 0/1 labels or probabilities")
    _check_finite(target, loss)
    if np.any((target < 0) | (target > 1)):
        raise ValueError(f"{loss}: targets must lie in [0, 1], found values from {target.min()} to {target.max()}")
    target = target.astype(logits.dtype)
    softplus = ag.logsumexp(ag.stack([ag.Tensor(np.zeros(logits.shape, logits.dtype)), logits]), axis=0)
    return _reduce(softplus - logits * target, reduction)


# A loss whose outputs are not probabilities says where class 1 begins for a single output; fit's
# "accuracy" reads it (nn.accuracy's default threshold, 0.5, fits probabilities).
binary_cross_entropy_with_logits.accuracy_threshold = 0.0  # type: ignore[attr-defined]  # logits: class 1 where z > 0


def cross_entropy(probabilities: Any, target: Any, eps: float = 1e-7, reduction: str = "mean") -> ag.Tensor:
    """-Σ target · log(probabilities) per row, for outputs that already went through softmax.

    Probabilities are clipped to [eps, 1] so that log(0) cannot occur. Prefer
    softmax_cross_entropy on logits: it is exact where this one clips.
    """
    loss = "cross_entropy"
    _check_reduction(reduction, loss)
    probabilities = _as_tensor(probabilities, loss, "logits")
    values = probabilities.data
    if values.size and (np.min(values) < 0 or np.max(values) > 1 or not np.all(np.isfinite(values))):
        raise ValueError(
            f"{loss}: predictions must be probabilities in [0, 1], found values from {np.min(values)} to "
            f"{np.max(values)}; for raw scores (logits) use softmax_cross_entropy"
        )
    target = _class_target(probabilities, target, loss)
    if target.dtype.kind in "iu":
        one_hot = np.zeros(probabilities.shape, dtype=probabilities.dtype)
        np.put_along_axis(one_hot, target[..., None], 1, axis=-1)
        target = one_hot
    per_row = -(ag.log(ag.clip(probabilities, eps, 1.0)) * target).sum(axis=-1)
    return _reduce(per_row, reduction)


class _Loss(Module):
    function: Any = None

    def __init__(self, reduction: str = "mean") -> None:
        _check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        return type(self).function(prediction, target, reduction=self.reduction)

    @property
    def accuracy_threshold(self) -> float | None:
        """The loss function's ``accuracy_threshold`` (None: the outputs are probabilities, 0.5 fits)."""
        return getattr(type(self).function, "accuracy_threshold", None)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Module form of :func:`mse_loss`."""

    function = staticmethod(mse_loss)


class SumSquaredError(_Loss):
    """Module form of :func:`sum_squared_error` (reduction "sum" by default)."""

    function = staticmethod(sum_squared_error)

    def __init__(self, reduction: str = "sum") -> None:
        super().__init__(reduction)


class SoftmaxCrossEntropy(_Loss):
    """Module form of :func:`softmax_cross_entropy`."""

    function = staticmethod(softmax_cross_entropy)


class BinaryCrossEntropyWithLogits(_Loss):
    """Module form of :func:`binary_cross_entropy_with_logits`."""

    function = staticmethod(binary_cross_entropy_with_logits)


class CrossEntropy(_Loss):
    """Module form of :func:`cross_entropy`."""

    function = staticmethod(cross_entropy)

    def __init__(self, eps: float = 1e-7, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.eps = eps

    def forward(self, prediction: Any, target: Any) -> ag.Tensor:
        return cross_entropy(prediction, target, eps=self.eps, reduction=self.reduction)
