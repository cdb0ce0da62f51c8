"""``autograd-lite demo``: a network built on this engine learns to read handwritten digits, then shows what happened.

Trains a 784-256-128-10 ReLU MLP with Adam and softmax cross-entropy on the 4,000
training digits of the embedded MNIST subset, measures it on the 1,000 held-out digits
and writes pictures to an output folder: learning curves, predictions, one digit's class
probabilities, the confusion matrix, the computation graph of one forward/backward pass
(SVG) and the step-by-step backward pass of the sigmoid (HTML).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
import nn
from nn import figures
from nn.datasets import load_mnist

SIZES = (784, 256, 128, 10)
EPOCHS, QUICK_EPOCHS, BATCH_SIZE, LEARNING_RATE = 15, 3, 64, 1e-3
GRID_FIRST, GRID_MISTAKES = 32, 8  # the digit grid: the first 32 held-out digits, then up to 8 mistakes


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


def _progress(total: int, description: str, enabled: bool) -> Any:
    """A tqdm bar, or None when disabled or tqdm is not installed (training works without it)."""
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=description, unit="batch", leave=True)


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
    """Mini-batch training with softmax cross-entropy; one progress bar per epoch, held-out scores after each.

    History keys: ``loss`` and ``accuracy`` (averaged over the epoch's batches, measured while
    the weights change) and ``val_loss`` / ``val_accuracy`` on the held-out set.
    Stops early after ``max_iterations`` mini-batch steps when given.
    """
    (x_train, y_train), (x_test, y_test) = data
    order = np.random.default_rng(seed)  # one generator: a new batch order every epoch, reproducible overall
    history = nn.History()
    steps = 0
    per_epoch = -(-len(x_train) // batch_size)
    for epoch in range(1, epochs + 1):
        bar = _progress(per_epoch, f"epoch {epoch}/{epochs}", progress)
        loss_total = correct = seen = 0.0
        for batch_x, batch_y in nn.data.batches(x_train, y_train, batch_size, shuffle=True, seed=order):
            logits = model(batch_x)
            loss = nn.softmax_cross_entropy(logits, batch_y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_total += loss.item() * len(batch_x)
            correct += float(np.sum(np.argmax(logits.data, axis=1) == batch_y))
            seen += len(batch_x)
            steps += 1
            if bar is not None:
                bar.update(1)
                if steps % 10 == 0:  # refreshing the numbers every batch would cost more than the batch
                    bar.set_postfix(loss=f"{loss_total / seen:.4f}", accuracy=f"{correct / seen:.3f}", refresh=False)
            if max_iterations is not None and steps >= max_iterations:
                break
        scores = nn.evaluate(model, nn.softmax_cross_entropy, x_test, y_test, metrics=["accuracy"])
        record = {"loss": loss_total / seen, "accuracy": correct / seen}
        record.update({"val_loss": scores["loss"], "val_accuracy": scores["accuracy"]})
        history.append(record)
        if bar is not None:
            summary = (
                f"loss={record['loss']:.4f}, accuracy={record['accuracy']:.3f}, held-out={record['val_accuracy']:.3f}"
            )
            bar.set_postfix_str(summary)
            bar.close()
        else:
            report(
                f"epoch {epoch}/{epochs}: loss {record['loss']:.4f}, accuracy {record['accuracy']:.3f}, "
                f"held-out loss {record['val_loss']:.4f}, held-out accuracy {record['val_accuracy']:.3f}"
            )
        if max_iterations is not None and steps >= max_iterations:
            break
    return history


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of plain arrays, shifted by the row maximum so it cannot overflow."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def grid_selection(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Indices of the digits to show: the first held-out digits, then mistakes that were not among them."""
    first = np.arange(min(GRID_FIRST, len(labels)))
    mistakes = np.flatnonzero(predictions != labels)
    extra = mistakes[mistakes >= len(first)][:GRID_MISTAKES]
    return np.concatenate([first, extra])


def write_graph(model: nn.Module, images: np.ndarray, labels: np.ndarray, path: Path) -> Path:
    """Draw one forward/backward pass of ``model`` on a few digits (values and gradients) as SVG."""
    from autograd_lite.viz import draw_graph

    for name, parameter in model.named_parameters():
        parameter.name = name  # label the boxes like state_dict() keys
    model.zero_grad()
    loss = nn.softmax_cross_entropy(model(ag.Tensor(images, name="digits")), labels)
    loss.name = "loss"
    loss.backward(retain_graph=True)  # keep the intermediate values so the drawing can show them
    svg = draw_graph(loss, rankdir="TB").pipe(format="svg", encoding="utf-8")
    path.write_text(svg, encoding="utf-8")
    model.zero_grad()
    return path


def write_sigmoid_stepper(path: Path) -> Path:
    """The backward pass of sigmoid(x) = 1 / (1 + exp(-x)) at x = 1, step by step, as one HTML page."""
    from autograd_lite.trace import trace_backward

    x = ag.Tensor(1.0, requires_grad=True, name="x")
    y = 1 / (1 + ag.exp(-x))
    y.name = "sigmoid"
    trace_backward(y).to_html(path, title="Backpropagation through sigmoid(x) = 1 / (1 + exp(-x)) at x = 1")
    return path


def write_pictures(
    model: nn.Module,
    history: nn.History,
    test: tuple[np.ndarray, np.ndarray],
    out: Path,
) -> Iterator[Path]:
    """Write every picture of the demo into ``out``, yielding each path as soon as it is written."""
    images, labels = test
    probabilities = softmax_rows(nn.predict(model, images))
    predictions = probabilities.argmax(axis=1)
    accuracy = float(np.mean(predictions == labels))
    curves = {
        "train_loss": history["loss"],
        "val_loss": history["val_loss"],
        "train_accuracy": history["accuracy"],
        "val_accuracy": history["val_accuracy"],
    }
    title = f"784-256-128-10 ReLU MLP, Adam: {accuracy:.1%} on {len(labels)} held-out digits"
    yield figures.plot_curves(curves, out / "curves.png", title=title)
    chosen = grid_selection(labels, predictions)
    more = len(chosen) - GRID_FIRST
    yield figures.plot_digit_grid(
        images[chosen],
        labels[chosen],
        predictions[chosen],
        out / "predictions.png",
        title=f"predicted labels of the first {GRID_FIRST} held-out digits and {more} more mistakes "
        f"(red: wrong, true label in brackets)",
    )
    unsure = int(np.argmin(probabilities.max(axis=1)))  # the digit the network is least sure about
    yield figures.plot_probabilities(
        images[unsure],
        probabilities[unsure],
        int(labels[unsure]),
        out / "probabilities.png",
        title=f"the held-out digit the network is least sure about: predicted {predictions[unsure]}",
    )
    yield figures.plot_confusion_matrix(figures.confusion_matrix(labels, predictions), out / "confusion_matrix.png")
    yield write_graph(model, images[:4], labels[:4], out / "graph.svg")
    yield write_sigmoid_stepper(out / "sigmoid_backward.html")


def main(argv: list[str] | None = None) -> int:
    """Train on the embedded digits, print the held-out accuracy and the path of every picture written."""
    parser = argparse.ArgumentParser(
        prog="autograd-lite demo",
        description="Train a network on handwritten digits, then write pictures of what happened.",
    )
    parser.add_argument("--epochs", type=int, default=None, help=f"passes over the training digits ({EPOCHS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order (0)")
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder (./demo-output)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs: a few seconds")
    parser.add_argument("--no-progress", action="store_true", help="print one line per epoch instead of a bar")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (1; 0: the library's default)")
    options = parser.parse_args(argv)
    with blas_threads(options.blas_threads):
        return _run(options, parser)


def _run(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """The command itself, once the arguments are parsed (and BLAS threads limited)."""
    epochs = options.epochs if options.epochs is not None else QUICK_EPOCHS if options.quick else EPOCHS
    if epochs < 1:
        parser.error(f"--epochs must be at least 1, got {epochs}")

    start = time.perf_counter()
    try:
        data = load_mnist()
    except ImportError as error:  # the digits come with the [data] extra
        print(f"autograd-lite demo: {error}", file=sys.stderr)
        return 1
    (x_train, _), (x_test, _) = data
    model = nn.MLP(list(SIZES), activation="relu", rng=options.seed)
    optimizer = nn.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    print(
        f"Training a {'-'.join(map(str, SIZES))} ReLU network ({model.parameter_count():,} parameters) with Adam "
        f"on {len(x_train):,} MNIST digits; {len(x_test):,} held-out digits measure it."
    )
    history = train_classifier(model, optimizer, data, epochs, BATCH_SIZE, options.seed, not options.no_progress)
    print(f"Held-out accuracy: {history['val_accuracy'][-1]:.1%} after {epochs} epochs")

    options.out.mkdir(parents=True, exist_ok=True)
    print(f"Pictures in {options.out}/:")
    for path in write_pictures(model, history, data[1], options.out):
        print(f"  {path}")
    print(f"Done in {time.perf_counter() - start:.1f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
