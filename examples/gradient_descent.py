"""Gradient descent on f(x0, x1) = x0² + x1² from (-3, 4): a good, a too-large and a too-small learning rate.

With lr 0.1 the point walks to the minimum at (0, 0); with lr 10 every step overshoots
further (x ← x − 10·2x = −19x) and it diverges; with lr 1e-10 it barely moves. The
gradients come from autograd_lite's backward; the figure shows each path over the field
of negative gradients (the direction each step takes).

Run: python examples/gradient_descent.py [--out FOLDER] [--steps N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_lite as ag

LEARNING_RATES = (0.1, 10.0, 1e-10)
START = (-3.0, 4.0)


def function(x: ag.Tensor) -> ag.Tensor:
    """f(x) = x0² + x1², the bowl whose minimum is at the origin."""
    return (x**2).sum()


def descend(start: tuple[float, float], learning_rate: float, steps: int) -> np.ndarray:
    """Return the path (steps + 1, 2) of plain gradient descent on :func:`function` from ``start``."""
    x = ag.Tensor(np.array(start), requires_grad=True)
    path = [x.data.copy()]
    for _ in range(steps):
        x.zero_grad()
        function(x).backward()
        x.data = x.data - learning_rate * x.grad
        path.append(x.data.copy())
    return np.array(path)


def outcome(points: np.ndarray) -> str:
    """Describe a path: converged to the minimum, diverged, or barely moved from its start."""
    start_value, final_value = (points[0] ** 2).sum(), (points[-1] ** 2).sum()
    if final_value < 1e-6:
        return f"converged (f = {final_value:.3g})"
    if final_value > start_value:
        return f"diverged (f = {final_value:.3g})"
    if np.abs(points[-1] - points[0]).max() < 1e-3:
        return f"barely moved (f = {final_value:.10g})"
    return f"still on its way (f = {final_value:.3g})"


def plot_paths(paths: dict[float, np.ndarray], path: Path) -> Path:
    """Draw each path over the negative-gradient field, one panel per learning rate."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5 * len(paths), 4.8), layout="constrained")
    for axes, (learning_rate, points) in zip(figure.subplots(1, len(paths)), paths.items()):
        # A diverging path leaves any fixed window after a step or two: frame its first steps instead.
        shown = points if np.abs(points).max() < 10 else points[:3]
        extent = max(5.0, 1.15 * np.abs(shown).max())
        grid = np.linspace(-extent, extent, 17)
        x0, x1 = np.meshgrid(grid, grid)
        axes.quiver(x0, x1, -2 * x0, -2 * x1, angles="xy", color="0.6", width=0.003)
        axes.plot(shown[:, 0], shown[:, 1], "o-", color="tab:red", markersize=3, linewidth=1)
        for step, point in enumerate(shown[:4]):  # number the first steps so overshooting is visible
            if step and np.abs(point - shown[step - 1]).max() < 0.02 * extent:
                break
            axes.annotate(str(step), point, textcoords="offset points", xytext=(4, 4), fontsize="small")
        axes.plot(*START, "s", color="black", label=f"start {START}")
        axes.plot(0, 0, "*", color="tab:green", markersize=12, label="minimum (0, 0)")
        final = points[-1]
        axes.set_title(f"lr = {learning_rate:g}: ends at ({final[0]:.3g}, {final[1]:.3g})")
        axes.set_xlim(-extent, extent), axes.set_ylim(-extent, extent)
        axes.set_aspect("equal"), axes.set_xlabel("x0"), axes.set_ylabel("x1")
        if shown is not points:
            axes.text(0.02, 0.02, f"first {len(shown) - 1} of {len(points) - 1} steps", transform=axes.transAxes)
        axes.legend(loc="upper right", fontsize="small")
    figure.suptitle("Gradient descent on x0² + x1²")
    figure.savefig(path, dpi=100)
    return path


def main(argv: list[str] | None = None) -> int:
    """Run gradient descent with the three learning rates, print where each ends and save the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="unused: the descent is deterministic (kept for symmetry)")
    parser.add_argument("--out", type=Path, default=Path("example-output"), help="folder for the figure")
    parser.add_argument("--steps", type=int, default=100, help="gradient steps per learning rate (default 100)")
    parser.add_argument("--quick", action="store_true", help="50 steps instead of 100")
    options = parser.parse_args(argv)
    steps = 50 if options.quick else options.steps

    paths = {learning_rate: descend(START, learning_rate, steps) for learning_rate in LEARNING_RATES}
    for learning_rate, points in paths.items():
        x0, x1 = points[-1]
        print(f"lr {learning_rate:<6g}: after {steps} steps x = ({x0:.10g}, {x1:.10g}), {outcome(points)}")
    options.out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {plot_paths(paths, options.out / 'gradient_descent.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
