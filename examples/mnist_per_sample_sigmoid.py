"""Per-sample training, the classic way: a 784-200-10 sigmoid network, squared error, SGD lr 0.15, one digit at a time.

The first 1,000 digits of the embedded MNIST subset are shown one by one; after every
digit the weights move by 0.15 times the gradient of ½Σ(output − one-hot target)². The
figure shows the error of each sample with its moving average, and the accuracy on the
1,000 training digits and on the 1,000 held-out digits after each epoch.

Run: python examples/mnist_per_sample_sigmoid.py [--out FOLDER] [--epochs 10]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_lite as ag
import nn
from nn.apps.common import require_positive, whole_number
from nn.datasets import load_mnist

SAMPLES, LEARNING_RATE, WINDOW = 1000, 0.15, 100


def main(argv: list[str] | None = None) -> int:
    """Train sample by sample, print the accuracy after each epoch and save the error and accuracy plot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed", type=whole_number(0, 2**32 - 1), default=0, help="seed of the initial weights and the sample order"
    )
    parser.add_argument("--out", type=Path, default=Path("example-output"), help="folder for the figure")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the 1,000 digits (default 10)")
    parser.add_argument("--quick", action="store_true", help="2 epochs")
    options = parser.parse_args(argv)
    epochs = 2 if options.quick else options.epochs
    require_positive(parser, epochs=epochs)

    # One-hot rows: the squared error needs a target per output; accuracy takes their arg-max.
    (x_train, targets), (x_test, y_test) = load_mnist(one_hot=True)
    x_train, targets = x_train[:SAMPLES], targets[:SAMPLES]
    model = nn.MLP([784, 200, 10], activation="sigmoid", output_activation="sigmoid", rng=options.seed)
    optimizer = nn.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    order = np.random.default_rng(options.seed)

    errors, train_accuracy, test_accuracy = [], [], []
    for epoch in range(1, epochs + 1):
        for index in order.permutation(SAMPLES):
            error = nn.sum_squared_error(model(x_train[index : index + 1]), targets[index : index + 1])
            optimizer.zero_grad()
            error.backward()
            optimizer.step()
            errors.append(error.item())
        with ag.no_grad():
            train_accuracy.append(nn.accuracy(model(x_train), targets))
            test_accuracy.append(nn.accuracy(model(x_test), y_test))
        print(f"epoch {epoch}: mean error {np.mean(errors[-SAMPLES:]):.4f}, "
              f"accuracy {train_accuracy[-1]:.1%} on the 1,000 digits, {test_accuracy[-1]:.1%} held-out")  # fmt: skip

    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    error_axes, accuracy_axes = figure.subplots(1, 2, width_ratios=[1.6, 1])
    steps = np.arange(1, len(errors) + 1)
    moving_average = np.convolve(errors, np.ones(WINDOW) / WINDOW, mode="valid")
    error_axes.plot(steps, errors, color="0.75", linewidth=0.5, label="error of each sample")
    error_axes.plot(steps[WINDOW - 1 :], moving_average, color="tab:red", label=f"moving average ({WINDOW} samples)")
    error_axes.set_yscale("log"), error_axes.set_xlabel("samples seen"), error_axes.set_ylabel("½Σ(y − t)²")
    error_axes.set_title("squared error, one sample at a time"), error_axes.legend()
    epoch_numbers = np.arange(1, epochs + 1)
    accuracy_axes.plot(epoch_numbers, train_accuracy, "o-", label="the 1,000 training digits")
    accuracy_axes.plot(epoch_numbers, test_accuracy, "s--", label="1,000 held-out digits")
    accuracy_axes.set_xlabel("epoch"), accuracy_axes.set_ylabel("accuracy"), accuracy_axes.legend()
    accuracy_axes.set_title("accuracy history"), accuracy_axes.grid(alpha=0.3)
    options.out.mkdir(parents=True, exist_ok=True)
    figure.savefig(options.out / "mnist_per_sample_sigmoid.png", dpi=100)
    print(f"wrote {options.out / 'mnist_per_sample_sigmoid.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
