"""What the demo, the mnist command and the example scripts share: command-line options and classifier training."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable

import numpy as np

import nn


def blas_threads(count: int) -> contextlib.AbstractContextManager:
    """Limit the BLAS library (OpenBLAS, MKL) to ``count`` threads inside the block; 0 leaves it alone.

    These networks multiply small matrices, where BLAS worker threads cost more than they save:
    with one other busy process on a 2-core machine the demo took 11 s threaded and 4 s with one
    thread. Needs threadpoolctl (installed with the [data] extra); without it nothing changes.
    """
    if count < 1:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=count, user_api="blas")


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options every training command shares: --seed, --no-progress, --blas-threads."""
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order (0)")
    parser.add_argument("--no-progress", action="store_true", help="print one line per epoch instead of a bar")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (1; 0: the library's default)")


def require_positive(parser: argparse.ArgumentParser, **counts: int | None) -> None:
    """Stop with a usage error (exit 2) if a given count, such as ``epochs=0``, is below 1."""
    for name, value in counts.items():
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def learning_curves(history: nn.History) -> dict[str, list[float]]:
    """The four curves :func:`nn.apps.figures.plot_curves` draws, taken from a :func:`train_classifier` History."""
    return {
        "train_loss": history["loss"],
        "val_loss": history["val_loss"],
        "train_accuracy": history["accuracy"],
        "val_accuracy": history["val_accuracy"],
    }


def train_classifier(
    model: nn.Module,
    optimizer: nn.optim.Optimizer,
    data: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    epochs: int,
    batch_size: int,
    seed: int,
    progress: bool = True,
    max_iterations: int | None = None,
    report: Callable[[str], None] = print,
) -> nn.History:
    """:func:`nn.fit` with softmax cross-entropy, accuracy and the held-out set scored after each epoch.

    History keys: ``loss`` and ``accuracy`` (averaged over the epoch's batches, measured while
    the weights change) and ``val_loss`` / ``val_accuracy`` on the held-out set. Without a
    progress bar, one line per epoch goes to ``report``.
    """
    (x_train, y_train), held_out = data

    def report_epoch(epoch: int, record: dict[str, float]) -> None:
        report(
            f"epoch {epoch}/{epochs}: loss {record['loss']:.4f}, accuracy {record['accuracy']:.3f}, "
            f"held-out loss {record['val_loss']:.4f}, held-out accuracy {record['val_accuracy']:.3f}"
        )

    return nn.fit(
        model,
        nn.softmax_cross_entropy,
        optimizer,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation=held_out,
        metrics=["accuracy"],
        seed=seed,
        progress=progress,
        max_iterations=max_iterations,
        on_epoch=None if progress else report_epoch,
    )
