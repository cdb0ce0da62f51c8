"""The same workloads for autograd_lite and (optionally) PyTorch, matching handwritten.py."""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
from benchmarks import handwritten


def autograd_lite_mlp(parameters: list[np.ndarray]) -> Any:
    """An SGD step function over leaf Tensors sharing the given initial values."""
    tensors = [ag.Tensor(p.copy(), requires_grad=True) for p in parameters]
    layers = len(tensors) // 2

    def step(x: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
        h = ag.Tensor(x)
        for layer in range(layers):
            h = ag.linear(h, tensors[2 * layer], tensors[2 * layer + 1])
            if layer < layers - 1:
                h = ag.relu(h)
        loss = ag.softmax_cross_entropy(h, labels).mean()
        for tensor in tensors:
            tensor.grad = None
        loss.backward()
        for tensor in tensors:
            tensor.data -= learning_rate * tensor.grad
        return loss.item()

    step.parameters = tensors  # type: ignore[attr-defined]
    return step


def autograd_lite_chain(x: np.ndarray, steps: int) -> np.ndarray:
    """The tiny chain of handwritten.chain_forward_backward, through the engine."""
    leaf = ag.Tensor(x, requires_grad=True)
    y = leaf
    for _ in range(steps // 3):
        y = ag.tanh(y) * 0.9 + 0.1
    y.sum().backward()
    return leaf.grad


def torch_available() -> bool:
    """True when PyTorch can be imported (it is optional)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def torch_mlp(parameters: list[np.ndarray]) -> Any:
    """The same SGD step in PyTorch (CPU), same initial values."""
    import torch

    tensors = [torch.tensor(p.copy(), requires_grad=True) for p in parameters]
    layers = len(tensors) // 2

    def step(x: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
        h = torch.from_numpy(x)
        for layer in range(layers):
            h = torch.addmm(tensors[2 * layer + 1], h, tensors[2 * layer])
            if layer < layers - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, torch.from_numpy(labels))
        for tensor in tensors:
            tensor.grad = None
        loss.backward()
        with torch.no_grad():
            for tensor in tensors:
                tensor -= learning_rate * tensor.grad
        return loss.item()

    return step


def torch_chain(x: np.ndarray, steps: int) -> np.ndarray:
    """The tiny chain in PyTorch."""
    import torch

    leaf = torch.tensor(x, requires_grad=True)
    y = leaf
    for _ in range(steps // 3):
        y = torch.tanh(y) * 0.9 + 0.1
    y.sum().backward()
    return leaf.grad.numpy()


def handwritten_mlp(parameters: list[np.ndarray]) -> Any:
    """The hand-written NumPy step bound to its own copy of the parameters."""
    own = [p.copy() for p in parameters]

    def step(x: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
        return handwritten.mlp_sgd_step(own, x, labels, learning_rate)

    step.parameters = own  # type: ignore[attr-defined]
    return step


def deep_mlp_step(depth: int, width: int, batch: int, checkpointed: bool, seed: int = 0) -> Any:
    """forward + backward of a deep tanh MLP, each layer plain or wrapped in ag.checkpoint."""
    rng = np.random.default_rng(seed)
    weights = [ag.Tensor(rng.normal(0, width**-0.5, (width, width)), requires_grad=True) for _ in range(depth)]
    x = ag.Tensor(rng.normal(size=(batch, width)))

    def layer(h: Any, w: Any) -> Any:
        return ag.tanh(h @ w) * 0.5 + ag.sigmoid(h @ w) * 0.5  # a few intermediates per layer, as real blocks have

    run_layer = ag.checkpoint(layer) if checkpointed else layer

    def step() -> None:
        h = x
        for w in weights:
            h = run_layer(h, w)
        ag.sum(h * h).backward()

    return step


def digit_cnn_weights(seed: int = 0) -> list[np.ndarray]:
    """float32 weights of the demo's CNN in PyTorch's layouts: conv (out, in, kh, kw), linear (out, in)."""
    rng = np.random.default_rng(seed)
    shapes = [(16, 1, 3, 3), (16,), (32, 16, 3, 3), (32,), (128, 32 * 7 * 7), (128,), (10, 128), (10,)]
    return [rng.normal(0, 0.05, shape).astype(np.float32) for shape in shapes]


def autograd_lite_cnn(weights: list[np.ndarray]) -> Any:
    """An SGD step of the demo's CNN (nn layers: conv-relu-pool twice, dense 128, dense 10)."""
    import nn

    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dense(32 * 7 * 7, 128, activation="relu"), nn.Dense(128, 10),
    )  # fmt: skip
    parameters = model.parameters()
    for parameter, value in zip(parameters, weights):
        parameter.data = value.T.copy() if value.ndim == 2 else value.copy()  # Dense keeps (in, out)
    optimizer = nn.optim.SGD(parameters, lr=0.01)

    def step(x: np.ndarray, labels: np.ndarray) -> float:
        optimizer.zero_grad()
        loss = nn.softmax_cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_cnn(weights: list[np.ndarray]) -> Any:
    """The same CNN and SGD step in PyTorch (CPU, float32), same initial values."""
    import torch

    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 7 * 7, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10),
    )  # fmt: skip
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), weights):
            parameter.copy_(torch.from_numpy(value))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step(x: np.ndarray, labels: np.ndarray) -> float:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(labels))
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def compiled_mlp(parameters: list[np.ndarray]) -> Any:
    """The autograd_lite step with forward and backward run as ag.compile's generated code."""
    own = [p.copy() for p in parameters]
    layers = len(own) // 2

    def loss(*arguments: Any) -> Any:
        weights, (x, labels) = arguments[:-2], arguments[-2:]
        h = x
        for layer in range(layers):
            h = ag.linear(h, weights[2 * layer], weights[2 * layer + 1])
            if layer < layers - 1:
                h = ag.relu(h)
        return ag.softmax_cross_entropy(h, labels).mean()

    value_and_grad = ag.compile(ag.value_and_grad(loss, argnums=tuple(range(len(own)))))

    def step(x: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
        value, grads = value_and_grad(*own, x, labels)
        for parameter, grad in zip(own, grads):
            parameter -= learning_rate * grad.data
        return value.item()

    step.parameters = own  # type: ignore[attr-defined]
    step.compiled = value_and_grad  # type: ignore[attr-defined]
    return step


def compiled_chain(steps: int) -> Any:
    """The tiny chain's gradient as ag.compile's generated code (traced on the first call)."""

    def chain(x: Any) -> Any:
        y = x
        for _ in range(steps // 3):
            y = ag.tanh(y) * 0.9 + 0.1
        return y.sum()

    return ag.compile(ag.grad(chain))
