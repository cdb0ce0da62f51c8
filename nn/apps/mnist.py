"""``autograd-lite mnist``: train on the full MNIST IDX files (``--data DIR``) or the embedded subset, by recipe.

Recipes:

- ``textbook``: 784-50-10, sigmoid hidden layer, softmax cross-entropy, SGD with learning
  rate 0.1 on mini-batches of 100 for 10,000 iterations — the classic from-scratch setup
  (about 94–95% test accuracy on the full set).
- ``modern``: 784-256-128-10 with ReLU (He initialisation) and Adam (lr 1e-3), mini-batches
  of 100 for 10 epochs (aims at 97.5% or more on the full set).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nn
from nn.apps import figures
from nn.apps.common import add_training_options, blas_threads, learning_curves, require_positive, train_classifier
from nn.datasets import load_mnist


@dataclass(frozen=True)
class Recipe:
    """A network shape and how to train it; the length is given in iterations or in epochs."""

    sizes: tuple[int, ...]
    activation: str
    optimizer: str  # "sgd" or "adam"
    learning_rate: float
    batch_size: int
    iterations: int | None = None
    epochs: int | None = None

    def build(self, seed: int) -> tuple[nn.Module, nn.optim.Optimizer]:
        """The freshly initialised model and its optimizer."""
        model = nn.MLP(list(self.sizes), activation=self.activation, rng=seed)
        optimizer_class = nn.optim.SGD if self.optimizer == "sgd" else nn.optim.Adam
        return model, optimizer_class(model.parameters(), lr=self.learning_rate)

    def describe(self) -> str:
        """One line such as '784-50-10 sigmoid, SGD lr 0.1, batch 100, 10,000 iterations'."""
        length = f"{self.iterations:,} iterations" if self.iterations else f"{self.epochs} epochs"
        optimizer = "SGD" if self.optimizer == "sgd" else "Adam"
        shape = "-".join(map(str, self.sizes))
        return f"{shape} {self.activation}, {optimizer} lr {self.learning_rate:g}, batch {self.batch_size}, {length}"


RECIPES = {
    "textbook": Recipe((784, 50, 10), "sigmoid", "sgd", 0.1, 100, iterations=10_000),
    "modern": Recipe((784, 256, 128, 10), "relu", "adam", 1e-3, 100, epochs=10),
}
QUICK = {"textbook": {"iterations": 1_000}, "modern": {"epochs": 2}}


def main(argv: list[str] | None = None) -> int:
    """Train the chosen recipe, print the test accuracy, and optionally save pictures and the weights."""
    parser = argparse.ArgumentParser(
        prog="autograd-lite mnist", description="Train an MLP on MNIST with a textbook or a modern recipe."
    )
    parser.add_argument("--data", type=Path, default=None, help="folder with the four MNIST IDX files (plain or .gz); "
                        "default: the embedded 5,000-digit subset")  # fmt: skip
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="textbook", help="textbook (default) or modern")
    parser.add_argument("--iterations", type=int, default=None, help="override the recipe's length in iterations")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's length in epochs")
    parser.add_argument("--out", type=Path, default=None, help="folder for curves, confusion matrix and weights")
    parser.add_argument("--quick", action="store_true", help="a short run (1,000 iterations / 2 epochs)")
    add_training_options(parser)
    options = parser.parse_args(argv)
    with blas_threads(options.blas_threads):
        return _run(options, parser)


def _run(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The command itself, once the arguments are parsed (and BLAS threads limited)."""

    recipe = RECIPES[options.recipe]
    iterations, epochs = recipe.iterations, recipe.epochs
    if options.quick:
        iterations, epochs = QUICK[options.recipe].get("iterations"), QUICK[options.recipe].get("epochs")
    if options.iterations is not None or options.epochs is not None:
        iterations, epochs = options.iterations, options.epochs
    require_positive(parser, iterations=iterations, epochs=epochs)

    start = time.perf_counter()
    try:
        data = load_mnist(options.data)
    except (ImportError, OSError, ValueError) as error:  # missing extra, missing or corrupt files: say what to do
        print(f"autograd-lite mnist: {error}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"autograd-lite mnist: not enough memory to load the data from {options.data}", file=sys.stderr)
        return 1
    (x_train, _), (x_test, y_test) = data
    per_epoch = -(-len(x_train) // recipe.batch_size)
    if epochs is None:
        epochs = -(-iterations // per_epoch)  # enough epochs to cover the iterations; training stops at the count
    source = f"MNIST IDX files in {options.data}" if options.data else "the embedded MNIST subset"
    print(f"Recipe {options.recipe}: {recipe.describe()}")
    print(f"Data: {source}: {len(x_train):,} training and {len(x_test):,} test digits")
    model, optimizer = recipe.build(options.seed)
    history = train_classifier(
        model,
        optimizer,
        data,
        epochs,
        recipe.batch_size,
        options.seed,
        progress=not options.no_progress,
        max_iterations=iterations,
    )
    logits = nn.predict(model, x_test)
    predictions, accuracy = logits.argmax(axis=1), nn.accuracy(logits, y_test)
    steps = optimizer.steps
    print(f"Test accuracy: {accuracy:.2%} after {steps:,} iterations ({time.perf_counter() - start:.1f} s)")

    if options.out is not None:
        options.out.mkdir(parents=True, exist_ok=True)
        title = f"{options.recipe} recipe: {accuracy:.2%} test accuracy"
        written = [
            figures.plot_curves(
                learning_curves(history), options.out / f"mnist-{options.recipe}-curves.png", title=title
            ),
            figures.plot_confusion_matrix(
                figures.confusion_matrix(y_test, predictions), options.out / f"mnist-{options.recipe}-confusion.png"
            ),
        ]
        weights = options.out / f"mnist-{options.recipe}.npz"
        nn.save(model, weights)
        for path in [*written, weights]:
            print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
