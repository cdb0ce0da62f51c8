"""Pictures of a trained digit classifier: learning curves, predictions, probabilities, confusion matrix,
and for a CNN its first-layer filters and the feature maps of one digit.

Each function draws on its own ``matplotlib.figure.Figure`` (no pyplot, so no display or
global state is involved), saves it to ``path`` and returns the path. The file is written
under a temporary name and renamed, so a failed write (a full disk) leaves no truncated file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nn.apps.common import atomic_path

if TYPE_CHECKING:  # matplotlib is an optional extra, imported when a figure is drawn
    from matplotlib.figure import Figure

MISTAKE_COLOR = "tab:red"


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            'plots need matplotlib: pip install "autograd_lite[plot]" (or ".[all]" from a clone)'
        ) from None
    return Figure(figsize=(width, height), layout="constrained")


def _save(figure: Figure, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    with atomic_path(path) as temporary:  # a full disk leaves no truncated picture behind
        figure.savefig(temporary, dpi=100)
    return path


def plot_curves(curves: Mapping[str, Sequence[float]], path: str | os.PathLike[str], title: str = "") -> Path:
    """Per-epoch curves: keys ``train_loss``, ``val_loss``, ``train_accuracy``, ``val_accuracy`` (any present)."""
    figure = _figure(10, 4)
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for axes, quantity in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        for split, label, style in (("train", "train", "o-"), ("val", "held-out", "s--")):
            values = curves.get(f"{split}_{quantity}")
            if values is not None and len(values):
                axes.plot(np.arange(1, len(values) + 1), values, style, markersize=3, label=label)
        axes.set_xlabel("epoch"), axes.set_ylabel(quantity), axes.grid(alpha=0.3), axes.legend()
    loss_axes.set_title("loss (softmax cross-entropy)")
    accuracy_axes.set_title("accuracy")
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_digit_grid(
    images: np.ndarray,
    labels: np.ndarray,
    predictions: np.ndarray,
    path: str | os.PathLike[str],
    columns: int = 8,
    title: str = "",
) -> Path:
    """A grid of 28x28 digits titled with the predicted label; mistakes in red with the true label."""
    rows = max(1, -(-len(images) // columns))
    figure = _figure(1.3 * columns, 1.5 * rows)
    for index, axes in enumerate(np.atleast_1d(figure.subplots(rows, columns)).ravel()):
        axes.set_axis_off()
        if index >= len(images):
            continue
        wrong = predictions[index] != labels[index]
        axes.imshow(images[index].reshape(28, 28), cmap="gray_r" if not wrong else "Reds", vmin=0, vmax=1)
        caption = f"{predictions[index]} (true {labels[index]})" if wrong else f"{predictions[index]}"
        axes.set_title(caption, color=MISTAKE_COLOR if wrong else "black", fontsize=10)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_probabilities(
    image: np.ndarray, probabilities: np.ndarray, label: int, path: str | os.PathLike[str], title: str = ""
) -> Path:
    """One digit next to the bar chart of its predicted class probabilities (the true class outlined)."""
    figure = _figure(9, 3.5)
    image_axes, bar_axes = figure.subplots(1, 2, width_ratios=[1, 2.2])
    image_axes.imshow(image.reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
    image_axes.set_axis_off()
    image_axes.set_title(f"true label {label}")
    predicted = int(np.argmax(probabilities))
    colors = ["tab:blue"] * len(probabilities)
    colors[predicted] = "tab:green" if predicted == label else MISTAKE_COLOR
    bars = bar_axes.bar(np.arange(len(probabilities)), probabilities, color=colors)
    bars[label].set_edgecolor("black"), bars[label].set_linewidth(2)
    for position, probability in enumerate(probabilities):
        bar_axes.text(position, probability + 0.02, f"{probability:.2f}", ha="center", fontsize=8)
    bar_axes.set_xticks(np.arange(len(probabilities)))
    bar_axes.set_ylim(0, 1.12), bar_axes.set_xlabel("class"), bar_axes.set_ylabel("probability (softmax)")
    bar_axes.set_title(title or f"predicted {predicted}")
    return _save(figure, path)


def _image_grid(figure: Figure, count: int, columns: int) -> list:
    """``count`` image axes in a grid of ``columns`` (ticks and frames off); empty cells hidden."""
    rows = max(1, -(-count // columns))
    cells = list(np.atleast_1d(figure.subplots(rows, columns)).ravel())
    for axes in cells:
        axes.set_axis_off()
    return cells[:count]


def plot_filters(weights: np.ndarray, path: str | os.PathLike[str], columns: int = 8, title: str = "") -> Path:
    """The first convolution layer's filters, one small image each: weights (out, in, kh, kw), channel 0.

    Each filter is drawn on its own symmetric colour scale (red positive, blue negative, white
    zero), so the pattern it detects shows whatever its size.
    """
    weights = np.asarray(weights)
    if weights.ndim != 4:
        raise ValueError(f"plot_filters: weights need shape (out, in, kh, kw), got {weights.shape}")
    cells = min(columns, len(weights))
    figure = _figure(1.2 * cells, 1.3 * max(1, -(-len(weights) // columns)) + 0.4)
    for index, axes in enumerate(_image_grid(figure, len(weights), cells)):
        kernel = weights[index, 0]
        scale = float(np.abs(kernel).max()) or 1.0
        axes.imshow(kernel, cmap="RdBu_r", vmin=-scale, vmax=scale)
        axes.set_title(f"{index}", fontsize=9)
    figure.suptitle(title or f"first-layer filters ({weights.shape[2]}x{weights.shape[3]}; red +, blue -)")
    return _save(figure, path)


def plot_feature_maps(
    image: np.ndarray, maps: Sequence[tuple[str, np.ndarray]], path: str | os.PathLike[str], columns: int = 16
) -> Path:
    """One digit, then each named stage's feature maps (channels, h, w) as a row of small images."""
    rows = [(name, np.asarray(stage)) for name, stage in maps]
    lines = sum(max(1, -(-len(stage) // columns)) for _, stage in rows)
    figure = _figure(0.9 * columns, 0.9 * lines + 2.2)
    areas: Any = figure.subfigures(  # an array of them for more than one row
        len(rows) + 1, 1, height_ratios=[1.6] + [max(1, -(-len(s) // columns)) for _, s in rows]
    )
    digit_area, *stage_areas = areas
    digit_axes = digit_area.subplots()
    digit_axes.imshow(np.asarray(image).reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
    digit_axes.set_axis_off(), digit_axes.set_title("input digit", fontsize=9)
    for area, (name, stage) in zip(stage_areas, rows):
        for index, axes in enumerate(_image_grid(area, len(stage), min(columns, len(stage)))):
            axes.imshow(stage[index], cmap="viridis")
        area.suptitle(f"{name}: {len(stage)} maps of {stage.shape[1]}x{stage.shape[2]}", fontsize=10)
    return _save(figure, path)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts (classes, classes): row = true class, column = predicted class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def plot_confusion_matrix(matrix: np.ndarray, path: str | os.PathLike[str], title: str = "") -> Path:
    """The confusion matrix as a heat map with the count in every cell."""
    figure = _figure(6, 5.4)
    axes = figure.subplots()
    image = axes.imshow(matrix, cmap="Blues")
    threshold = matrix.max() / 2
    for (true, predicted), count in np.ndenumerate(matrix):
        if count:
            color = "white" if count > threshold else ("black" if true == predicted else MISTAKE_COLOR)
            axes.text(predicted, true, str(count), ha="center", va="center", color=color, fontsize=8)
    axes.set_xticks(np.arange(len(matrix))), axes.set_yticks(np.arange(len(matrix)))
    axes.set_xlabel("predicted class"), axes.set_ylabel("true class")
    axes.set_title(title or f"confusion matrix ({np.trace(matrix)} of {matrix.sum()} right)")
    figure.colorbar(image, ax=axes, shrink=0.8)
    return _save(figure, path)


def plot_decision_boundary(
    predict_probability: Callable[[np.ndarray], np.ndarray],  # (n, 2) points -> (n,) probability of class 1
    points: np.ndarray,
    labels: np.ndarray,
    path: str | os.PathLike[str],
    title: str = "",
    resolution: int = 200,
) -> Path:
    """Shade the plane by the model's probability of class 1, draw the 0.5 contour and the labelled points."""
    figure = _figure(5.5, 4.8)
    axes = figure.subplots()
    margin = 0.5
    low, high = points.min(axis=0) - margin, points.max(axis=0) + margin
    x0, x1 = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    grid = np.column_stack([x0.ravel(), x1.ravel()]).astype(points.dtype)
    probability = np.asarray(predict_probability(grid)).reshape(x0.shape)
    shading = axes.contourf(x0, x1, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    axes.contour(x0, x1, probability, levels=[0.5], colors="black", linewidths=1.5)
    for label, marker, color in ((0, "o", "tab:blue"), (1, "^", "tab:red")):
        chosen = labels == label
        axes.scatter(points[chosen, 0], points[chosen, 1], marker=marker, c=color, edgecolors="black", s=30,
                     label=f"class {label}")  # fmt: skip
    axes.set_xlabel("x0"), axes.set_ylabel("x1"), axes.legend(loc="best")
    figure.colorbar(shading, ax=axes, label="P(class 1)")
    axes.set_title(title)
    return _save(figure, path)
