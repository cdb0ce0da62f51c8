"""Metrics computed on plain arrays (no graph): accuracy."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag


def accuracy(outputs: Any, target: Any, threshold: float = 0.5) -> float:
    """Fraction of samples predicted correctly.

    ``outputs`` of shape (n, classes) with classes > 1 are scored by arg-max (logits or
    probabilities alike); a single output per sample (shape (n,) or (n, 1)) predicts
    class 1 where it exceeds ``threshold`` (0.5 for probabilities, use 0.0 for logits).
    ``target`` holds integer labels, or one-hot / probability rows (arg-max is taken).
    """
    outputs = np.asarray(outputs.data if isinstance(outputs, ag.Tensor) else outputs)
    target = np.asarray(target.data if isinstance(target, ag.Tensor) else target)
    if outputs.ndim == 0 or len(outputs) == 0:
        raise ValueError(f"accuracy: need at least one sample, got outputs of shape {outputs.shape}")
    if outputs.ndim >= 2 and outputs.shape[-1] > 1:
        predicted = np.argmax(outputs, axis=-1)
    else:
        predicted = (outputs.reshape(outputs.shape[:-1] if outputs.ndim >= 2 else outputs.shape) > threshold).astype(
            np.int64
        )
    if target.ndim == predicted.ndim + 1 and target.shape[-1] > 1:
        target = np.argmax(target, axis=-1)
    elif target.ndim == predicted.ndim + 1 and target.shape[-1] == 1:
        target = target[..., 0]
    if target.shape != predicted.shape:
        raise ValueError(
            f"accuracy: outputs of shape {outputs.shape} give predictions of shape {predicted.shape}, but the "
            f"target has shape {target.shape}; give one label per sample or one-hot rows"
        )
    if target.dtype.kind == "f":
        target = np.rint(target).astype(np.int64)  # 0.0/1.0 binary targets
    return float(np.mean(predicted == target))
