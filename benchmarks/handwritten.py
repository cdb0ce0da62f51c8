"""The reference: forward and backward written by hand in NumPy, as in the textbooks.

This is the floor an autodiff engine on NumPy can approach but not beat: the same
arithmetic with no graph and no bookkeeping.
"""

from __future__ import annotations

import numpy as np


def init_mlp(sizes: tuple[int, ...], dtype: type, seed: int = 0) -> list[np.ndarray]:
    """He-initialised weights (in, out) and zero biases, alternating W, b."""
    rng = np.random.default_rng(seed)
    parameters = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        parameters.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(dtype))
        parameters.append(np.zeros(fan_out, dtype=dtype))
    return parameters


def mlp_sgd_step(parameters: list[np.ndarray], x: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
    """One SGD step of a ReLU MLP with softmax cross-entropy (mean over the batch)."""
    activations = [x]
    pre_activations = []
    layers = len(parameters) // 2
    for layer in range(layers):
        z = activations[-1] @ parameters[2 * layer]
        z += parameters[2 * layer + 1]
        if layer < layers - 1:
            pre_activations.append(z)
            activations.append(np.maximum(z, 0))
    shifted = z - z.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    sums = exponentials.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = float(np.mean(np.log(sums[:, 0]) - shifted[rows, labels]))
    delta = exponentials / sums
    delta[rows, labels] -= 1
    delta /= len(labels)
    for layer in reversed(range(layers)):
        weight_grad = activations[layer].T @ delta
        bias_grad = delta.sum(axis=0)
        if layer > 0:
            delta = (delta @ parameters[2 * layer].T) * (pre_activations[layer - 1] > 0)
        parameters[2 * layer] -= learning_rate * weight_grad
        parameters[2 * layer + 1] -= learning_rate * bias_grad
    return loss


def chain_forward_backward(x: np.ndarray, steps: int) -> np.ndarray:
    """The tiny-tensor chain: y = tanh(y) * 0.9 + 0.1 repeated; returns d(sum y)/dx."""
    saved = []
    y = x
    for _ in range(steps // 3):
        y = np.tanh(y)
        saved.append(y)
        y = y * 0.9
        y = y + 0.1
    grad = np.ones_like(y)
    for out in reversed(saved):
        grad = grad * 0.9
        grad = grad * (1 - out * out)
    return grad
