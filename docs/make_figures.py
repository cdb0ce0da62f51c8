"""Make the figures of docs/backprop-step-by-step.md (deterministic: same inputs, same bytes).

Run from anywhere: ``python docs/make_figures.py [--out docs/figures]``. Needs the Graphviz
``dot`` program and matplotlib (``pip install -e ".[all]"``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_lite as ag

FIGURES = Path(__file__).resolve().parent / "figures"
START = (-3.0, 4.0)
LEARNING_RATES = (0.1, 10.0, 1e-10)


def sigmoid_trace() -> ag.BackwardTrace:
    """The textbook example: sigmoid(x) = 1/(1+exp(-x)) at x = 1, as four ops."""
    x = ag.Tensor(1.0, requires_grad=True, name="x")
    return ag.trace_backward(1 / (1 + ag.exp(-x)))


def reuse_trace() -> ag.BackwardTrace:
    """b = a + a; c = b + b: every tensor feeds its consumer twice, so gradients must add up."""
    a = ag.Tensor(3.0, requires_grad=True, name="a")
    b = a + a
    b.name = "b"
    c = b + b
    c.name = "c"
    return ag.trace_backward(c)


def network_trace() -> ag.BackwardTrace:
    """One step of a 784-32-10 network on one MNIST-shaped input (the same numbers as the tutorial)."""
    rng = np.random.default_rng(0)
    image = ag.Tensor(rng.random((1, 784)), name="image")
    W1 = ag.Tensor(rng.normal(0, 784**-0.5, (784, 32)), requires_grad=True, name="W1")
    b1 = ag.Tensor(np.zeros(32), requires_grad=True, name="b1")
    W2 = ag.Tensor(rng.normal(0, 32**-0.5, (32, 10)), requires_grad=True, name="W2")
    b2 = ag.Tensor(np.zeros(10), requires_grad=True, name="b2")
    hidden = ag.relu(image @ W1 + b1)
    loss = ag.softmax_cross_entropy(hidden @ W2 + b2, np.array([7])).sum()
    loss.name = "loss"
    return ag.trace_backward(loss)


def bowl(v: ag.Tensor) -> ag.Tensor:
    """f(x0, x1) = x0² + x1²."""
    return (v**2).sum()


def descend(learning_rate: float, steps: int) -> np.ndarray:
    """The path (steps + 1, 2) of gradient descent on the bowl from START."""
    v = ag.Tensor(np.array(START), requires_grad=True)
    path = [v.data.copy()]
    for _ in range(steps):
        v.grad = None
        bowl(v).backward()
        v.data = v.data - learning_rate * v.grad
        path.append(v.data.copy())
    return np.array(path)


def write_svg(graph: object, path: Path) -> Path:
    """Render a graphviz graph to ``path`` as SVG with dot."""
    path.write_bytes(graph.pipe(format="svg"))  # type: ignore[attr-defined]
    return path


def gradient_descent_figure(path: Path) -> Path:
    """Left: the gradient field of the bowl (arrows from autograd) with the three paths; right: f per step."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "autograd-lite"  # fixed ids: same file every run
    grid = np.linspace(-5, 5, 15)
    points = np.array([(a, b) for b in grid for a in grid])
    gradients = np.array([ag.grad(bowl)(point).data for point in points])  # the engine's, not 2x by hand

    figure = Figure(figsize=(11, 4.8), layout="constrained")
    field, values = figure.subplots(1, 2)
    field.quiver(points[:, 0], points[:, 1], gradients[:, 0], gradients[:, 1], color="0.65", angles="xy")
    styles = {0.1: ("tab:green", "o-"), 10.0: ("tab:red", "s--"), 1e-10: ("tab:blue", "^")}
    for learning_rate in LEARNING_RATES:
        path_points = descend(learning_rate, 30)
        color, marker = styles[learning_rate]
        label = f"lr = {learning_rate:g}"
        inside = path_points[np.abs(path_points).max(axis=1) <= 6]  # a diverging path leaves the window
        field.plot(inside[:, 0], inside[:, 1], marker, color=color, markersize=4, label=label)
        values.semilogy((path_points**2).sum(axis=1), marker, color=color, markersize=3, label=label)
    field.plot(0, 0, "*", color="black", markersize=12)
    field.set(xlim=(-6, 6), ylim=(-6, 6), aspect="equal", xlabel="x0", ylabel="x1")
    field.set_title("gradient of x0² + x1² (arrows) and descent paths")
    field.legend(loc="lower right", fontsize="small")
    values.set(xlabel="step", ylabel="f(x) (log scale)", title="f along each path: converges, explodes, stalls")
    values.legend(fontsize="small")
    figure.savefig(path, format="svg", metadata={"Date": None})
    return path


def make_all(folder: Path = FIGURES) -> list[Path]:
    """Write every figure of the tutorial into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    sigmoid = sigmoid_trace()
    written = [write_svg(sigmoid.graph(), folder / "sigmoid-graph.svg")]
    for index, frame in enumerate(sigmoid.frames()):
        written.append(write_svg(frame, folder / f"sigmoid-step-{index + 1}.svg"))
    written.append(folder / "sigmoid-stepper.html")
    sigmoid.to_html(written[-1], title="Backward pass of sigmoid(x) = 1/(1+exp(-x)) at x = 1")
    written.append(write_svg(reuse_trace().graph(), folder / "reuse-graph.svg"))
    written.append(write_svg(network_trace().graph(rankdir="TB"), folder / "two-layer-network.svg"))
    written.append(gradient_descent_figure(folder / "gradient-descent.svg"))
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the figures and list them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIGURES, help="folder for the figures (default docs/figures)")
    for path in make_all(parser.parse_args(argv).out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
