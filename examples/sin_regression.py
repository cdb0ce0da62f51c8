"""Regression of y = sin(x) on [0, 20) with a deep ReLU network (Dense 256 × 4, Adam, mean squared error).

Trained on 200 evenly spaced points (x = 0, 0.1, ..., 19.9) and tested halfway between
them, at x + 0.05, which the network never saw. The inputs are scaled to [-1, 1) before
the first layer: with raw x up to 20 the ReLU network trains far more slowly
(``--raw-inputs`` shows it). The learning rate drops tenfold for the last fifth of the
epochs, which settles Adam's step-to-step noise.

Run: python examples/sin_regression.py [--out FOLDER] [--seed N] [--epochs 300]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_lite as ag
import nn
from nn.apps.common import require_positive, whole_number
from nn.datasets import sine

LOW, HIGH, POINTS, WIDTH, HIDDEN_LAYERS = 0.0, 20.0, 200, 256, 4


def build_model(seed: int) -> nn.Sequential:
    """1 -> 256 -> 256 -> 256 -> 256 -> 1, ReLU between the layers (He initialisation)."""
    rng = np.random.default_rng(seed)
    hidden = [nn.Dense(WIDTH, WIDTH, activation="relu", rng=rng) for _ in range(HIDDEN_LAYERS - 1)]
    return nn.Sequential(nn.Dense(1, WIDTH, activation="relu", rng=rng), *hidden, nn.Dense(WIDTH, 1, rng=rng))


def main(argv: list[str] | None = None) -> int:
    """Fit sin(x), print the error between the training points and save prediction and loss plots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed", type=whole_number(0, 2**32 - 1), default=0, help="seed of the weights and the batch order"
    )
    parser.add_argument("--out", type=Path, default=Path("example-output"), help="folder for the figure")
    parser.add_argument("--epochs", type=int, default=300, help="passes over the 200 points (default 300)")
    parser.add_argument("--raw-inputs", action="store_true", help="feed x unscaled (0..20) to the network")
    parser.add_argument("--quick", action="store_true", help="100 epochs")
    options = parser.parse_args(argv)
    epochs = 100 if options.quick else options.epochs
    require_positive(parser, epochs=epochs)

    def scale(inputs: np.ndarray) -> np.ndarray:
        return inputs if options.raw_inputs else inputs / np.float32((HIGH - LOW) / 2) - 1

    x, y = sine(POINTS, LOW, HIGH)
    model = build_model(options.seed)
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    order = np.random.default_rng(options.seed)
    losses = []
    for epoch in range(epochs):
        if epoch == epochs - epochs // 5:
            optimizer.lr /= 10
        epoch_loss = 0.0
        for batch_x, batch_y in nn.data.batches(scale(x), y, batch_size=20, shuffle=True, seed=order):
            loss = nn.mse_loss(model(batch_x), batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item() * len(batch_x)
        losses.append(epoch_loss / len(x))

    between = x + np.float32(0.05)  # halfway between the training points
    with ag.no_grad():
        prediction = model(scale(between)).data
    test_error = float(np.mean((prediction - np.sin(between)) ** 2))
    print(f"after {epochs} epochs: training MSE {losses[-1]:.5f}, MSE at x + 0.05 {test_error:.5f}")

    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    fit_axes, loss_axes = figure.subplots(1, 2, width_ratios=[2.2, 1])
    fit_axes.plot(between, np.sin(between), color="black", linewidth=1, label="sin(x + 0.05), truth")
    fit_axes.plot(between, prediction, "o", color="tab:orange", markersize=2.5, label="network at x + 0.05")
    fit_axes.set_xlabel("x"), fit_axes.set_ylabel("y"), fit_axes.legend(loc="lower left")
    fit_axes.set_title(f"y = sin(x): prediction between the training points (MSE {test_error:.2g})")
    loss_axes.semilogy(np.arange(1, epochs + 1), losses)
    loss_axes.set_xlabel("epoch"), loss_axes.set_ylabel("training MSE"), loss_axes.set_title("loss")
    options.out.mkdir(parents=True, exist_ok=True)
    figure.savefig(options.out / "sin_regression.png", dpi=100)
    print(f"wrote {options.out / 'sin_regression.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
