"""Fused losses: softmax cross-entropy, computed from the logits with log-sum-exp."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, TracedArray, apply, data_of, is_grad_enabled
from autograd_lite.ops.common import ArrayLike, as_tensor
from autograd_lite.ops.reductions import LogSoftmax, Softmax, softmax


class SoftmaxCrossEntropy(Node):
    name, category, arguments = "softmax_cross_entropy", "loss", ("z",)
    gradient_op = "softmax_cross_entropy_grad"  # ag.compile fuses the two: forward_and_gradient
    signature = "-sum(t * log_softmax(z))"
    formulas = ("softmax(z) * sum(t) - t  (= softmax(z) - t when t sums to 1)",)
    # Fused and stable: log-softmax via log-sum-exp, and the famous simple gradient.

    @staticmethod
    def forward(logits: np.ndarray, labels: np.ndarray | None, target: np.ndarray | None) -> np.ndarray:
        if labels is not None:  # log-sum-exp minus the label's shifted logit, as LogSoftmax computes it
            classes = logits.shape[-1]
            _check_labels(labels, classes)
            shifted = logits - logits.max(axis=-1, keepdims=True)
            log_sums = np.log(np.exp(shifted).sum(axis=-1))
            return log_sums - shifted[_at_labels(labels)]
        log_probabilities = LogSoftmax.forward(logits, -1)
        # where the target is 0, a log-probability of -inf contributes 0 (not 0 * -inf = nan)
        return -np.sum(np.where(target != 0, target * log_probabilities, 0), axis=-1)

    vjps = (lambda g, out, logits, labels, target: _gradient(logits, labels, target) * g[..., None],)
    jvps = (lambda t, out, logits, labels, target: np.sum(_gradient(logits, labels, target) * t, axis=-1),)

    @staticmethod
    def forward_and_gradient(
        logits: np.ndarray, labels: np.ndarray | None, target: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The loss and softmax_cross_entropy_grad's value in one pass: the softmax's exponentials once.

        ag.compile calls this where a program needs both (a training step), as the lessons write
        ``delta = probabilities; delta[rows, t] -= 1``; bit for bit the two forwards' results.
        """
        if labels is None:
            return SoftmaxCrossEntropy.forward(logits, labels, target), SoftmaxCrossEntropyGrad.forward(
                logits, labels, target
            )
        classes = logits.shape[-1]
        _check_labels(labels, classes)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        exponentials = np.exp(shifted)
        sums = exponentials.sum(axis=-1, keepdims=True)
        loss = np.log(sums[..., 0]) - shifted[_at_labels(labels)]
        exponentials /= sums  # now the softmax, as Softmax.forward divides
        exponentials[_at_labels(labels)] -= 1
        return loss, exponentials


class SoftmaxCrossEntropyGrad(Node):
    # The fused loss's gradient as an op of its own, so that under create_graph (and in ag.compile's
    # code) it stays one call that writes the one-hot into the softmax, as the lessons' `delta[rows, t] -= 1`.
    name, category, public, arguments = "softmax_cross_entropy_grad", "loss", False, ("z",)
    output_name = "delta"  # as the lessons call the output layer's error (compiled code's name for it)
    signature = "softmax(z) * sum(t) - t"
    formulas = ("sum(t) * s * (grad - sum(grad * s)) with s = softmax(z), as softmax's",)

    @staticmethod
    def forward(logits: np.ndarray, labels: np.ndarray | None, target: np.ndarray | None) -> np.ndarray:
        difference = Softmax.forward(logits, -1)  # a fresh array: subtract the target in place
        if labels is None:
            assert target is not None  # the caller gives labels or a target
            difference *= np.sum(target, axis=-1, keepdims=True)
            difference -= target
        else:
            difference[_at_labels(labels)] -= 1
        return difference

    vjps = (lambda g, out, logits, labels, target: _softmax_vjp(g, logits, target),)
    jvps = vjps  # the Jacobian of softmax, scaled per row, is symmetric


def _gradient(logits: Any, labels: np.ndarray | None, target: np.ndarray | None) -> Any:
    """softmax(logits) * sum(target) - target: on arrays, or recorded when ``logits`` is a Tensor."""
    if isinstance(logits, Tensor):  # create_graph: keep it differentiable
        return apply(SoftmaxCrossEntropyGrad, logits, labels=labels, target=target)
    return SoftmaxCrossEntropyGrad.forward(logits, labels, target)


def _softmax_vjp(g: Any, logits: Any, target: np.ndarray | None) -> Any:
    probabilities = softmax(logits) if isinstance(logits, Tensor) else Softmax.forward(logits, -1)
    vjp = Softmax.vjps[0](g, probabilities, logits, -1)
    return vjp if target is None else vjp * np.sum(target, axis=-1, keepdims=True)


def _at_labels(labels: np.ndarray) -> tuple[np.ndarray, ...]:
    """The index of each row's label in an array of the logits' shape, whatever its memory layout.

    Each row's own position and its label, as broadcasting aranges: one element per row, no repeats,
    so ``array[_at_labels(labels)] -= 1`` subtracts the one-hot in place (a reshape of a transposed
    array would be a copy, and the write would be lost).
    """
    return (*np.indices(labels.shape, sparse=True), labels)


def _check_labels(labels: np.ndarray, classes: int) -> None:
    """A one-line ValueError for a label outside 0..classes-1 (a negative one would index from the end)."""
    if not labels.size:
        return
    if labels.dtype == np.intp:  # as unsigned numbers, negative labels are the largest: one reduction finds both
        outside = labels.view(np.uintp).max() >= classes
    else:
        outside = labels.min() < 0 or labels.max() >= classes
    if outside:
        bad = labels[(labels < 0) | (labels >= classes)].flat[0]
        raise ValueError(f"softmax_cross_entropy: label {bad} is out of range for {classes} classes (0..{classes - 1})")


def softmax_cross_entropy(logits: ArrayLike, target: ArrayLike) -> Tensor:
    """Cross-entropy of softmax(logits) against ``target``, one value per row (last axis = classes).

    ``target`` is either integer class labels (shape ``logits.shape[:-1]``) or a
    probability distribution per row (one-hot or soft, shape ``logits.shape``). Computed
    from the logits with log-sum-exp, never as log(softmax), so it cannot overflow. The
    target is not differentiated: a target that requires grad is refused while recording.
    """
    logits = as_tensor(logits)
    if isinstance(target, Tensor) and target.requires_grad and is_grad_enabled():
        raise TypeError(
            "softmax_cross_entropy: the target requires grad, but the fused op differentiates the logits only; pass "
            "target.detach(), or write -(target * ag.log_softmax(logits)).sum(-1) to differentiate both"
        )
    target_array = data_of(target)
    # a copy: the caller may change their array before backward (subok: ag.compile follows a traced target)
    target_array = np.array(target_array, subok=isinstance(target_array, TracedArray))
    if logits.ndim < 1:
        raise ValueError("softmax_cross_entropy: logits need a class axis, got a 0-d tensor")
    if target_array.dtype.kind in "iu":
        if target_array.shape != logits.shape[:-1]:
            raise ValueError(
                f"softmax_cross_entropy: integer labels have shape {target_array.shape}, expected "
                f"{logits.shape[:-1]} for logits of shape {logits.shape}"
            )
        # the forward checks the labels' range, in ag.compile's code too, where nothing here branches on values;
        # here first for eager's plain message
        if not isinstance(target_array, TracedArray):
            _check_labels(target_array, logits.shape[-1])
        labels = target_array if target_array.dtype == np.intp else target_array.astype(np.intp)
        return apply(SoftmaxCrossEntropy, logits, labels=labels, target=None)
    if target_array.dtype.kind != "f" or target_array.shape != logits.shape:
        raise ValueError(
            f"softmax_cross_entropy: target of shape {target_array.shape} and dtype {target_array.dtype} does not "
            f"fit logits of shape {logits.shape}: give integer labels of shape {logits.shape[:-1]} or "
            f"probabilities of shape {logits.shape}"
        )
    if not isinstance(target_array, TracedArray) and not np.all(np.isfinite(target_array)):
        raise ValueError("softmax_cross_entropy: target contains NaN or infinity")
    return apply(SoftmaxCrossEntropy, logits, labels=None, target=target_array.astype(logits.dtype, copy=False))


def softmax_cross_entropy_grad(logits: ArrayLike, labels: np.ndarray | None = None,
                               target: np.ndarray | None = None) -> Tensor:  # fmt: skip
    """softmax(logits) * sum(target) - target: the fused loss's gradient, itself differentiable.

    Give integer ``labels`` (their one-hot is the target) or a ``target`` of the logits' shape.
    """
    if (labels is None) == (target is None):
        raise ValueError("softmax_cross_entropy_grad: give labels or a target, not both or neither")
    if labels is not None and not isinstance(labels, TracedArray):  # the loss's own calls come checked
        _check_labels(labels, as_tensor(logits).shape[-1])
    return apply(SoftmaxCrossEntropyGrad, as_tensor(logits), labels=labels, target=target)
