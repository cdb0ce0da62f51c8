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

import numpy as np

import nn
from nn.apps import figures
from nn.apps.common import (
    MAX_EPOCHS,
    MAX_ITERATIONS,
    CommandParser,
    add_training_options,
    blas_threads,
    learning_curves,
    path_argument,
    prepare_output_folder,
    require_positive,
    train_classifier,
    whole_number,
    write_error,
)
from nn.datasets import MNIST_FILES, load_mnist


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
    parser = CommandParser(
        prog="autograd-lite mnist", description="Train an MLP on MNIST with a textbook or a modern recipe."
    )
    data_help = "folder with the four MNIST IDX files (plain or .gz); default: the embedded 5,000-digit subset"
    parser.add_argument("--data", type=path_argument, default=None, help=data_help)
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="textbook", help="textbook (default) or modern")
    parser.add_argument(
        "--iterations", type=whole_number(1, MAX_ITERATIONS), help="override the recipe's length in iterations"
    )
    parser.add_argument("--epochs", type=whole_number(1, MAX_EPOCHS), help="override the recipe's length in epochs")
    parser.add_argument("--out", type=path_argument, help="folder for curves, confusion matrix and weights")
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

    if options.data is not None and options.data.exists() and not options.data.is_dir():
        parser.error(f"--data {options.data} is not a folder; give the folder holding the four MNIST IDX files")
    start = time.perf_counter()
    try:
        data = load_data(options.data)
    except DataError as error:
        print(f"autograd-lite mnist: {error}", file=sys.stderr)
        return 1
    if options.out is not None:  # checked before training, so a bad --out loses no trained model
        prepare_output_folder(parser, options.out, output_names(options.recipe))
    (x_train, _), (x_test, y_test) = data
    per_epoch = -(-len(x_train) // recipe.batch_size)
    if epochs is None:
        assert iterations is not None  # every recipe and option sets one of the two
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
    if options.out is None:
        return 0
    try:
        written = write_outputs(options.out, options.recipe, model, history, (y_test, predictions), accuracy)
    except OSError as error:  # a full disk: files already written are whole, none is left half-written
        print(write_error("autograd-lite mnist", error), file=sys.stderr)
        return 1
    for path in written:
        print(f"  wrote {path}")
    return 0


class DataError(Exception):
    """The data could not be loaded; the message is one line saying why (and which file)."""


def load_data(directory: Path | None) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """:func:`nn.datasets.load_mnist`, with every failure a :class:`DataError` of one line naming the file.

    A ``MemoryError`` while reading means a file declares more data than fits in memory, which
    for MNIST means a corrupt file; empty training or test sets are refused too.
    """
    where = f"{directory}" if directory is not None else "the embedded subset"
    try:
        (x_train, y_train), (x_test, y_test) = load_mnist(directory, flatten=False)  # (0, 28, 28) is fine too
    except MemoryError:
        raise DataError(
            f"a file in {where} declares more data than fits in memory (corrupt?); check the four IDX files"
        ) from None
    except (ImportError, OSError, ValueError, EOFError) as error:  # missing extra, missing or corrupt files
        raise DataError(" ".join(str(error).split()) or f"cannot read the data in {where}") from None
    for images, key in ((x_train, "train_images"), (x_test, "test_images")):
        if len(images) == 0:
            raise DataError(f"{MNIST_FILES[key]} in {where} holds no images; training and testing need at least one")
    return (x_train.reshape(len(x_train), -1), y_train), (x_test.reshape(len(x_test), -1), y_test)


def output_names(recipe: str) -> tuple[str, str, str]:
    """The files ``--out`` receives for ``recipe``: the weights, the curves and the confusion matrix."""
    return f"mnist-{recipe}.npz", f"mnist-{recipe}-curves.png", f"mnist-{recipe}-confusion.png"


def write_outputs(
    out: Path,
    recipe: str,
    model: nn.Module,
    history: nn.History,
    labels: tuple[np.ndarray, np.ndarray],
    accuracy: float,
) -> list[Path]:
    """Write the weights first (the most precious), then the curves and the confusion matrix; return the paths."""
    weights, curves, confusion = (out / name for name in output_names(recipe))
    nn.save(model, weights)
    title = f"{recipe} recipe: {accuracy:.2%} test accuracy"
    figures.plot_curves(learning_curves(history), curves, title=title)
    figures.plot_confusion_matrix(figures.confusion_matrix(*labels), confusion)
    return [weights, curves, confusion]


if __name__ == "__main__":
    raise SystemExit(main())
