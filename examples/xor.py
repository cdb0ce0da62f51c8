"""XOR with a 2-4-1 network: the problem a single perceptron cannot solve, learned by a hidden layer.

Run: python examples/xor.py [--out FOLDER] [--seed N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_lite as ag
import nn
from nn.apps.common import require_positive, whole_number
from nn.apps.figures import plot_decision_boundary
from nn.datasets import xor


def train(seed: int, steps: int) -> tuple[nn.Module, list[float]]:
    """Fit a 2-4-1 tanh network with a sigmoid output (binary cross-entropy) to the four XOR points."""
    inputs, labels = xor()
    targets = labels.reshape(-1, 1).astype(np.float32)
    model = nn.Sequential(nn.Dense(2, 4, activation="tanh", rng=seed), nn.Dense(4, 1, rng=seed + 1))
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        loss = nn.binary_cross_entropy_with_logits(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


def main(argv: list[str] | None = None) -> int:
    """Train on XOR, print the four predictions and save the decision boundary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=whole_number(0, 2**32 - 1), default=0, help="seed of the initial weights")
    parser.add_argument("--out", type=Path, default=Path("example-output"), help="folder for the figure")
    parser.add_argument("--steps", type=int, default=500, help="full-batch Adam steps (default 500)")
    parser.add_argument("--quick", action="store_true", help="300 steps")
    options = parser.parse_args(argv)

    steps = 300 if options.quick else options.steps
    require_positive(parser, steps=steps)
    model, losses = train(options.seed, steps)
    inputs, labels = xor()
    with ag.no_grad():
        probabilities = ag.sigmoid(model(inputs)).data[:, 0]
    for point, label, probability in zip(inputs, labels, probabilities):
        print(f"xor({int(point[0])}, {int(point[1])}) = {label}: predicted P(1) = {probability:.3f}")
    accuracy = float(np.mean((probabilities > 0.5) == labels))
    print(f"final loss {losses[-1]:.4f}, accuracy {accuracy:.0%}")

    def predict(points: np.ndarray) -> np.ndarray:
        with ag.no_grad():
            return ag.sigmoid(model(points)).data[:, 0]

    options.out.mkdir(parents=True, exist_ok=True)
    figure = plot_decision_boundary(
        predict, inputs, labels, options.out / "xor.png", title=f"XOR, 2-4-1 tanh network ({accuracy:.0%} right)"
    )
    print(f"wrote {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
