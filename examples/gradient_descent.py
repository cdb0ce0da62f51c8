"""Gradient descent on f(x0, x1) = x0² + x1² from (-3, 4): a good, a too-large and a too-small learning rate.

With lr 0.1 the point walks to the minimum at (0, 0); with lr 10 every step overshoots
further (x ← x − 10·2x = −19x) and it diverges (the path stops once |x| passes 1e8, long
before it would overflow); with lr 1e-10 it barely moves. The gradients come from
autograd_lite's backward; the figure shows each path over the field of negative gradients
(the direction each step takes). The descent itself is deterministic: ``--seed`` only
matters with ``--random-start``, which draws the start uniformly from [-5, 5]².

Run: python examples/gradient_descent.py [--out FOLDER] [--steps N] [--random-start --seed N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import autograd_lite as ag

LEARNING_RATES = (0.1, 10.0, 1e-10)
START = (-3.0, 4.0)
DIVERGED = 1e8  # a path is stopped once a coordinate passes this: it is diverging, and would overflow later


def function(x: ag.Tensor) -> ag.Tensor:
    """f(x) = x0² + x1², the bowl whose minimum is at the origin."""
    return (x**2).sum()


def descend(start: tuple[float, float], learning_rate: float, steps: int) -> np.ndarray:
    """The path (steps + 1, 2) of plain gradient descent on :func:`function` from ``start``.

    A diverging path ends early, at the first point with a coordinate beyond ``DIVERGED``.
    """
    x = ag.Tensor(np.array(start, dtype=np.float64), requires_grad=True)
    path = [x.data.copy()]
    for _ in range(steps):
        if not np.abs(x.data).max() <= DIVERGED:  # also catches nan
            break
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
    if np.abs(points[-1]).max() > DIVERGED:
        return f"diverged (f = {final_value:.3g}; stopped once |x| passed {DIVERGED:g})"
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
        axes.plot(*points[0], "s", color="black", label=f"start ({points[0][0]:.3g}, {points[0][1]:.3g})")
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
    parser.add_argument("--seed", type=int, default=0, help="seed of the start drawn by --random-start (0)")
    parser.add_argument(
        "--random-start", action="store_true", help=f"start at a random point in [-5, 5]² instead of {START}"
    )
    parser.add_argument("--out", type=Path, default=Path("example-output"), help="folder for the figure")
    parser.add_argument("--steps", type=int, default=100, help="gradient steps per learning rate (default 100)")
    parser.add_argument("--quick", action="store_true", help="50 steps instead of 100")
    options = parser.parse_args(argv)
    if not 0 <= options.seed < 2**32:  # NumPy's seeds: a usage error, not a traceback
        parser.error(f"argument --seed: must be between 0 and 2**32 - 1, got {options.seed}")
    steps = 50 if options.quick else options.steps
    if steps < 1:
        parser.error(f"--steps must be at least 1, got {steps}")
    start = tuple(np.random.default_rng(options.seed).uniform(-5, 5, 2)) if options.random_start else START
    print(f"start: ({start[0]:.6g}, {start[1]:.6g})")

    paths = {learning_rate: descend(start, learning_rate, steps) for learning_rate in LEARNING_RATES}
    for learning_rate, points in paths.items():
        x0, x1 = points[-1]
        print(f"lr {learning_rate:<6g}: after {len(points) - 1} steps x = ({x0:.10g}, {x1:.10g}), {outcome(points)}")
    options.out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {plot_paths(paths, options.out / 'gradient_descent.png')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
