"""The textbook two-layer MNIST network next to its modern variant, accuracy curves in one plot.

Textbook: 784-50-10, sigmoid hidden layer, softmax cross-entropy, plain SGD with
learning rate 0.1 on mini-batches of 100, 10,000 iterations — the classic from-scratch
setup (about 94–95% on the full MNIST test set). Modern: the same 784-50-10 shape with
ReLU, He initialisation and Adam (lr 1e-3), so the only differences are the activation
and the optimizer. Both train on the embedded 4,000-digit set (so 10,000 iterations are
250 epochs); the curves show each epoch's training accuracy (averaged over its batches,
while the weights change) and the accuracy on the 1,000 held-out digits after it. Pass
``--data DIR`` to train on the full MNIST IDX files instead.

Run: python examples/mnist_two_layer.py [--out FOLDER] [--iterations 10000] [--data DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nn
from nn.apps.common import require_positive, train_classifier, whole_number
from nn.datasets import load_mnist

BATCH_SIZE = 100


def textbook_network(seed: int) -> tuple[nn.Module, nn.optim.Optimizer]:
    """784-50-10 with a sigmoid hidden layer and SGD, learning rate 0.1."""
    model = nn.MLP([784, 50, 10], activation="sigmoid", rng=seed)
    return model, nn.optim.SGD(model.parameters(), lr=0.1)


def modern_network(seed: int) -> tuple[nn.Module, nn.optim.Optimizer]:
    """784-50-10 with a ReLU hidden layer and Adam, learning rate 1e-3."""
    model = nn.MLP([784, 50, 10], activation="relu", rng=seed)
    return model, nn.optim.Adam(model.parameters(), lr=1e-3)


def train(
    model: nn.Module, optimizer: nn.optim.Optimizer, data: tuple, iterations: int, seed: int
) -> dict[str, list[float]]:
    """Run ``iterations`` mini-batch steps; return the iteration count, train and held-out accuracy per epoch."""
    per_epoch = nn.data.batch_count(len(data[0][0]), BATCH_SIZE)
    epochs = -(-iterations // per_epoch)  # enough epochs to cover the iterations; training stops at the count
    history = train_classifier(model, optimizer, data, epochs, BATCH_SIZE, seed, progress=False,
                               max_iterations=iterations, report=lambda line: None)  # fmt: skip
    done = [min(epoch * per_epoch, iterations) for epoch in range(1, history.epochs + 1)]
    return {"iteration": done, "train": history["accuracy"], "test": history["val_accuracy"]}


def main(argv: list[str] | None = None) -> int:
    """Train both networks, print their final accuracies and save the accuracy curves."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed", type=whole_number(0, 2**32 - 1), default=0, help="seed of the weights and the batch order"
    )
    parser.add_argument("--out", type=Path, default=Path("example-output"), help="folder for the figure")
    parser.add_argument("--iterations", type=int, default=10_000, help="mini-batch steps per network (10,000)")
    parser.add_argument("--data", type=Path, default=None, help="folder with the MNIST IDX files (default: embedded)")
    parser.add_argument("--quick", action="store_true", help="1,000 iterations")
    options = parser.parse_args(argv)
    iterations = 1_000 if options.quick else options.iterations
    require_positive(parser, iterations=iterations)

    data = load_mnist(options.data)
    results = {}
    for name, build in (("textbook: sigmoid + SGD 0.1", textbook_network), ("modern: ReLU + Adam", modern_network)):
        results[name] = train(*build(options.seed), data, iterations, options.seed)
        curves = results[name]
        print(f"{name:<28} after {iterations} iterations: train {curves['train'][-1]:.1%}, "
              f"held-out {curves['test'][-1]:.1%}")  # fmt: skip

    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), layout="constrained")
    axes = figure.subplots()
    for (name, curves), color in zip(results.items(), ("tab:blue", "tab:orange")):
        axes.plot(curves["iteration"], curves["train"], color=color, linewidth=1, label=f"{name}, train")
        axes.plot(curves["iteration"], curves["test"], "--", color=color, linewidth=1.5, label=f"{name}, held-out")
    axes.set_xlabel("iteration (mini-batch of 100)"), axes.set_ylabel("accuracy")
    axes.set_ylim(max(0.0, min(min(c["test"]) for c in results.values()) - 0.02), 1.005)
    axes.set_title("784-50-10 on MNIST: textbook vs modern recipe"), axes.grid(alpha=0.3), axes.legend()
    options.out.mkdir(parents=True, exist_ok=True)
    figure.savefig(options.out / "mnist_two_layer.png", dpi=100)
    print(f"wrote {options.out / 'mnist_two_layer.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
