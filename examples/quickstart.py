"""Quick start: differentiate the sigmoid, check it numerically, and fit a line by gradient descent.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import argparse

import numpy as np

import autograd_lite as ag


def main(argv: list[str] | None = None) -> int:
    """Print d/dx sigmoid at 1 (analytic and numerical) and fit y = 3x - 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the noisy data (0)")
    parser.add_argument("--steps", type=int, default=200, help="gradient-descent steps (200)")
    parser.add_argument("--quick", action="store_true", help="50 steps")
    options = parser.parse_args(argv)
    if not 0 <= options.seed < 2**32:  # NumPy's seeds: a usage error, not a traceback
        parser.error(f"argument --seed: must be between 0 and 2**32 - 1, got {options.seed}")
    if options.steps < 1:
        parser.error(f"--steps must be at least 1, got {options.steps}")
    steps = 50 if options.quick else options.steps

    x = ag.Tensor(1.0, requires_grad=True)
    ag.sigmoid(x).backward()
    numerical = ag.numerical_grad(ag.sigmoid, np.array(1.0))
    print(f"d/dx sigmoid(x) at x=1: backprop {x.grad:.8f}, central difference {float(numerical):.8f}")

    rng = np.random.default_rng(options.seed)
    inputs = rng.uniform(-1, 1, size=(100, 1))
    targets = 3 * inputs - 1 + 0.05 * rng.standard_normal((100, 1))
    weight = ag.Tensor(np.zeros((1, 1)), requires_grad=True, name="weight")
    bias = ag.Tensor(np.zeros(1), requires_grad=True, name="bias")
    for _ in range(steps):
        loss = ((inputs @ weight + bias - targets) ** 2).mean()
        weight.zero_grad(), bias.zero_grad()
        loss.backward()
        weight.data -= 0.1 * weight.grad
        bias.data -= 0.1 * bias.grad
    print(f"fitted y = {weight.item():.3f} x {bias.item():+.3f} (true: y = 3x - 1), loss {loss.item():.5f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
