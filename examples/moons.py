"""Two moons: a small ReLU network learns a curved decision boundary between two interleaving half circles.

Run: python examples/moons.py [--out FOLDER] [--seed N] [--noise 0.2]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_lite as ag
import nn
from nn.apps.common import require_positive, whole_number
from nn.apps.figures import plot_decision_boundary
from nn.datasets import two_moons


def main(argv: list[str] | None = None) -> int:
    """Train a 2-16-16-2 ReLU network on 300 noisy moon points, report held-out accuracy, save the boundary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed", type=whole_number(0, 2**32 - 1), default=0, help="seed of the data, the weights and the batch order"
    )
    parser.add_argument("--out", type=Path, default=Path("example-output"), help="folder for the figure")
    parser.add_argument("--noise", type=float, default=0.15, help="standard deviation of the noise (default 0.15)")
    parser.add_argument("--epochs", type=int, default=100, help="passes over the data (default 100)")
    parser.add_argument("--quick", action="store_true", help="40 epochs")
    options = parser.parse_args(argv)
    epochs = 40 if options.quick else options.epochs
    require_positive(parser, epochs=epochs)

    points, labels = two_moons(300, options.noise, seed=options.seed)
    test_points, test_labels = two_moons(1000, options.noise, seed=options.seed + 1)  # fresh points, same moons
    model = nn.MLP([2, 16, 16, 2], activation="relu", rng=options.seed)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    order = np.random.default_rng(options.seed)
    for _ in range(epochs):
        for batch_points, batch_labels in nn.data.batches(points, labels, batch_size=32, shuffle=True, seed=order):
            loss = nn.softmax_cross_entropy(model(batch_points), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    with ag.no_grad():
        train_accuracy = nn.accuracy(model(points), labels)
        test_accuracy = nn.accuracy(model(test_points), test_labels)
    print(f"after {epochs} epochs: train accuracy {train_accuracy:.1%}, held-out accuracy {test_accuracy:.1%}")

    def probability_of_class_1(grid: np.ndarray) -> np.ndarray:
        with ag.no_grad():
            return ag.softmax(model(grid)).data[:, 1]

    options.out.mkdir(parents=True, exist_ok=True)
    title = f"two moons, 2-16-16-2 ReLU ({test_accuracy:.1%} held-out)"
    print(f"wrote {plot_decision_boundary(probability_of_class_1, points, labels, options.out / 'moons.png', title)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
