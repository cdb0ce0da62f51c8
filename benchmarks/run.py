"""Run the benchmarks interleaved and print a Markdown table of medians and ratios.

    python -m benchmarks            # full run (a few minutes)
    python -m benchmarks --quick    # seconds; what the test suite runs as a smoke test

Ratios are against hand-written NumPy measured in the same process, round-robin, so
machine noise hits every contender alike. Compare ratios only within one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

# PyTorch's OpenMP threads busy-wait after each op and steal the cores NumPy's BLAS needs
# next, which would make whichever contender runs after PyTorch look slow. Passive waiting
# keeps the contenders independent; it is recorded with the results.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

import autograd_lite as ag
from benchmarks import contenders, handwritten

Timer = Callable[[], Any]


def interleaved_medians(
    contestants: dict[str, Timer], repeats: int, warmup: int = 2, clock: Callable[[], float] = time.perf_counter
) -> dict[str, float]:
    """Median seconds per call of each contestant, calling them round-robin (``clock``: wall time by default)."""
    for _ in range(warmup):
        for run in contestants.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in contestants}
    order = list(contestants.items())
    for _ in range(repeats):
        random.shuffle(order)  # nobody always runs right after the same neighbour
        for name, run in order:
            start = clock()
            run()
            samples[name].append(clock() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def mnist_shaped_batch(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random data shaped like a float32 MNIST batch with integer labels."""
    rng = np.random.default_rng(seed)
    return rng.random((batch, 784), dtype=np.float32), rng.integers(0, 10, batch)


def mlp_contestants(sizes: tuple[int, ...], batch: int, dtype: Any = np.float32) -> dict[str, Timer]:
    parameters = handwritten.init_mlp(sizes, dtype)
    x, labels = mnist_shaped_batch(batch)
    x = x.astype(dtype)
    steps = {
        "hand-written NumPy": contenders.handwritten_mlp(parameters),
        "autograd_lite": contenders.autograd_lite_mlp(parameters),
        "ag.compile": contenders.compiled_mlp(parameters),
    }
    if contenders.torch_available():
        steps["PyTorch"] = contenders.torch_mlp(parameters)
    return {name: (lambda step=step: step(x, labels, 0.01)) for name, step in steps.items()}


def chain_contestants(steps: int) -> dict[str, Timer]:
    x = np.linspace(-1, 1, 4)
    runs: dict[str, Timer] = {
        "hand-written NumPy": lambda: handwritten.chain_forward_backward(x, steps),
        "autograd_lite": lambda: contenders.autograd_lite_chain(x, steps),
    }
    compiled = contenders.compiled_chain(steps)
    runs["ag.compile"] = lambda: compiled(x)
    if contenders.torch_available():
        runs["PyTorch"] = lambda: contenders.torch_chain(x, steps)
    return runs


def epoch_contestants(samples: int, batch: int) -> dict[str, Timer]:
    parameters = handwritten.init_mlp((784, 100, 10), np.float32)
    x, labels = mnist_shaped_batch(samples, seed=1)
    steps = {
        "hand-written NumPy": contenders.handwritten_mlp(parameters),
        "autograd_lite": contenders.autograd_lite_mlp(parameters),
        "ag.compile": contenders.compiled_mlp(parameters),
    }
    if contenders.torch_available():
        steps["PyTorch"] = contenders.torch_mlp(parameters)

    def epoch(step: Any) -> None:
        for start in range(0, samples, batch):
            step(x[start : start + batch], labels[start : start + batch], 0.01)

    return {name: (lambda step=step: epoch(step)) for name, step in steps.items()}


def cnn_contestants(batch: int) -> dict[str, Timer]:
    """One SGD step of the demo's CNN on a batch of MNIST-shaped images, same weights for each."""
    weights = contenders.digit_cnn_weights()
    rng = np.random.default_rng(2)
    x, labels = rng.random((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch)
    steps = {"autograd_lite": contenders.autograd_lite_cnn(weights)}
    if contenders.torch_available():
        steps["PyTorch"] = contenders.torch_cnn(weights)
    return {name: (lambda step=step: step(x, labels)) for name, step in steps.items()}


def deep_chain_seconds_per_node(nodes: int, repeats: int) -> float:
    """Backward time per node of a chain of ``nodes`` multiplications."""
    timings = []
    for _ in range(repeats):
        leaf = ag.Tensor(1.0, requires_grad=True)
        y = leaf
        for _ in range(nodes):
            y = y * 1.0
        start = time.perf_counter()
        y.backward()
        timings.append(time.perf_counter() - start)
        del y
        gc.collect()
    return statistics.median(timings) / nodes


def compile_costs(chain_ops: int, workloads: list[dict[str, Any]]) -> dict[str, Any]:
    """What tracing costs ag.compile (first call) and after how many calls the saving pays it back."""
    parameters = handwritten.init_mlp((784, 100, 10), np.float32)
    x, labels = mnist_shaped_batch(100)
    step = contenders.compiled_mlp(parameters)
    step(x, labels, 0.01)
    chain = contenders.compiled_chain(chain_ops)
    chain(np.linspace(-1, 1, 4))
    costs = {"MLP 784-100-10 float32": step.compiled.trace_seconds, f"{chain_ops}-op chain": chain.trace_seconds}
    saved = {}
    for name, workload in zip(costs, (workloads[0], workloads[3])):
        rows, scale = workload["results"], 1e3 if workload["unit"] == "ms" else 1e6 / chain_ops
        saving = (rows["autograd_lite"]["median"] - rows["ag.compile"]["median"]) / scale
        saved[name] = costs[name] / saving if saving > 0 else None
    return {"trace_seconds": costs, "calls_to_pay_back": saved}


def peak_bytes(run: Timer) -> int:
    """Peak memory traced (NumPy reports its buffers to tracemalloc) during one call."""
    run()  # warm up caches so only the step itself is measured
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    run()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def machine_info() -> dict[str, Any]:
    """The machine, versions and BLAS configuration the numbers came from."""
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(not set)"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(not set)"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(not set)"),
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {key: pool.get(key) for key in ("internal_api", "version", "num_threads", "architecture")}
            for pool in threadpool_info()
        ]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    if contenders.torch_available():
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def run(quick: bool) -> dict[str, Any]:
    """Run every workload; return the results as a JSON-ready dict."""
    repeats = 5 if quick else 40
    results: dict[str, Any] = {"machine": machine_info(), "quick": quick, "workloads": []}

    def record(name: str, unit: str, medians: dict[str, float], scale: float = 1.0) -> None:
        floor = medians["hand-written NumPy"]
        rows = {who: {"median": seconds * scale, "ratio": seconds / floor} for who, seconds in medians.items()}
        results["workloads"].append({"name": name, "unit": unit, "results": rows})

    record(
        "MLP SGD step 784-100-10, batch 100, float32",
        "ms",
        interleaved_medians(mlp_contestants((784, 100, 10), 100), repeats * 5),
        1e3,
    )
    record(
        "MLP SGD step 784-100-10, batch 100, float64",
        "ms",
        interleaved_medians(mlp_contestants((784, 100, 10), 100, np.float64), repeats * 5),
        1e3,
    )
    wide = (784, 256, 256, 10) if quick else (784, 1024, 1024, 10)
    record(
        f"MLP SGD step {'-'.join(map(str, wide))}, batch 128, float32",
        "ms",
        interleaved_medians(mlp_contestants(wide, 128), repeats),
        1e3,
    )
    chain_ops = 300 if quick else 2001
    record(
        f"{chain_ops}-op chain on a 4-element tensor, fwd+bwd, per op",
        "µs",
        interleaved_medians(chain_contestants(chain_ops), repeats),
        1e6 / chain_ops,
    )
    samples = 2_000 if quick else 60_000
    record(
        f"784-100-10 epoch of {samples:,} MNIST-shaped samples, batch 100",
        "s",
        interleaved_medians(epoch_contestants(samples, 100), 3 if quick else 5),
    )

    cnn = interleaved_medians(cnn_contestants(64), repeats)
    results["cnn"] = {
        "workload": "SGD step of the demo's CNN (conv 16, pool, conv 32, pool, dense 128, 10), batch 64, float32",
        "ms": {name: seconds * 1e3 for name, seconds in cnn.items()},
        "ratio_to_pytorch": cnn["autograd_lite"] / cnn["PyTorch"] if "PyTorch" in cnn else None,
    }

    small, large = (1_000, 10_000) if quick else (1_000, 100_000)
    per_node_small = deep_chain_seconds_per_node(small, 3)
    per_node_large = deep_chain_seconds_per_node(large, 3)
    results["deep_chain"] = {
        "nodes": [small, large],
        "backward_us_per_node": [per_node_small * 1e6, per_node_large * 1e6],
        "ratio": per_node_large / per_node_small,
    }
    results["compile"] = compile_costs(chain_ops, results["workloads"])
    # tracemalloc sees NumPy's buffers but not PyTorch's, so only the NumPy-based ones are compared.
    numpy_based = {name: step for name, step in mlp_contestants(wide, 128).items() if name != "PyTorch"}
    memory = {name: peak_bytes(step) for name, step in numpy_based.items()}
    results["peak_memory"] = {
        "workload": f"one SGD step {'-'.join(map(str, wide))}, batch 128, float32 (tracemalloc)",
        "bytes": memory,
        "ratio": memory["autograd_lite"] / memory["hand-written NumPy"],
        "ratio_compiled": memory["ag.compile"] / memory["hand-written NumPy"],
    }
    depth, width, batch = (8, 128, 128) if quick else (24, 512, 256)
    steps = {
        kind: contenders.deep_mlp_step(depth, width, batch, kind == "checkpointed")
        for kind in ("plain", "checkpointed")
    }
    results["checkpoint"] = {
        "workload": f"forward + backward of a {depth}-layer MLP, width {width}, batch {batch}, float64",
        "bytes": {kind: peak_bytes(step) for kind, step in steps.items()},
        "seconds": interleaved_medians(steps, 3 if quick else 10),
    }
    return results


def markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown table (time medians with ratios to hand-written NumPy)."""
    names = ["hand-written NumPy", "autograd_lite", "ag.compile", "PyTorch"]
    present = [n for n in names if any(n in w["results"] for w in results["workloads"])]
    lines = ["| work | " + " | ".join(present) + " |", "|---" * (len(present) + 1) + "|"]
    for workload in results["workloads"]:
        cells = []
        for name in present:
            row = workload["results"].get(name)
            cells.append("—" if row is None else f"{row['median']:.3g} {workload['unit']} ({row['ratio']:.2f}×)")
        lines.append(f"| {workload['name']} | " + " | ".join(cells) + " |")
    deep = results["deep_chain"]
    lines.append("")
    cnn = results["cnn"]
    against = "" if cnn["ratio_to_pytorch"] is None else f" ({cnn['ratio_to_pytorch']:.2f}× PyTorch)"
    timed = ", ".join(f"{name} {ms:.3g} ms" for name, ms in cnn["ms"].items())
    lines.append(f"{cnn['workload']}: {timed}{against}.")
    lines.append(
        f"Deep chain backward: {deep['backward_us_per_node'][0]:.2f} µs/node at {deep['nodes'][0]:,} nodes, "
        f"{deep['backward_us_per_node'][1]:.2f} µs/node at {deep['nodes'][1]:,} nodes (ratio {deep['ratio']:.2f})."
    )
    costs = results["compile"]
    lines.append(
        "ag.compile tracing (first call): "
        + ", ".join(
            f"{name} {seconds * 1e3:.0f} ms"
            + (f" (paid back after {calls:.0f} calls)" if (calls := costs["calls_to_pay_back"][name]) else "")
            for name, seconds in costs["trace_seconds"].items()
        )
        + "."
    )
    memory = results["peak_memory"]
    described = ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in memory["bytes"].items())
    lines.append(
        f"Peak memory, {memory['workload']}: {described} (autograd_lite / hand-written = {memory['ratio']:.2f}, "
        f"ag.compile / hand-written = {memory['ratio_compiled']:.2f})."
    )
    kept, time = results["checkpoint"]["bytes"], results["checkpoint"]["seconds"]
    lines.append(
        f"ag.checkpoint per layer, {results['checkpoint']['workload']}: peak {kept['plain'] / 2**20:.1f} MiB plain, "
        f"{kept['checkpointed'] / 2**20:.1f} MiB checkpointed ({kept['checkpointed'] / kept['plain']:.2f}×), "
        f"time {time['checkpointed'] / time['plain']:.2f}× (the forward runs twice)."
    )
    return "\n".join(lines)


#: ag.compile's targets (issue 16): (work, contestants, calls each, largest ratio to hand-written).
TARGETS: list[tuple[str, Callable[[], dict[str, Timer]], int, float]] = [
    ("784-100-10 step, batch 100, float32", lambda: mlp_contestants((784, 100, 10), 100), 2000, 1.10),
    ("784-100-10 step, batch 100, float64", lambda: mlp_contestants((784, 100, 10), 100, np.float64), 2000, 1.10),
    ("784-1024-1024-10 step, batch 128, float32", lambda: mlp_contestants((784, 1024, 1024, 10), 128), 100, 1.03),
    ("784-1024-1024-10 step, batch 128, float64",
     lambda: mlp_contestants((784, 1024, 1024, 10), 128, np.float64), 100, 1.03),
]  # fmt: skip


def targets(quick: bool) -> str:
    """ag.compile against its targets, in CPU time (what other jobs on the machine disturb least).

    Run with one BLAS thread (``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``) so that CPU time is
    the step's own; PyTorch is left out of these rows. Returns a Markdown table.
    """
    lines = ["| work | hand-written | autograd_lite | ag.compile | target |", "|---|---|---|---|---|"]
    for work, make, calls, target in TARGETS:
        runs = {who: run for who, run in make().items() if who != "PyTorch"}
        medians = interleaved_medians(runs, 20 if quick else calls, clock=time.process_time)
        floor = medians["hand-written NumPy"]
        ratio = medians["ag.compile"] / floor
        lines.append(
            f"| {work} | {floor * 1e3:.3f} ms | {medians['autograd_lite'] / floor:.2f}x | {ratio:.3f}x | "
            f"<= {target:.2f}x: {'met' if ratio <= target else 'not met'} |"
        )
    medians = interleaved_medians(chain_contestants(2001), 5 if quick else 30, clock=time.process_time)
    hand, eager, compiled = (medians[who] / 2001 * 1e6 for who in ("hand-written NumPy", "autograd_lite", "ag.compile"))
    lines.append(
        f"| 2001-op chain, per op, fwd+bwd | {hand:.2f} us | {eager:.2f} us | {compiled:.2f} us | "
        f"<= 1.3 us: {'met' if compiled <= 1.3 else 'not met'} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run, print the table and the machine, write JSON."""
    parser = argparse.ArgumentParser(description="autograd_lite benchmarks (interleaved, ratios vs hand-written NumPy)")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (seconds)")
    parser.add_argument(
        "--json", type=Path, default=None, help="where to write the results (default benchmarks/results/<time>.json)"
    )
    parser.add_argument(
        "--targets", action="store_true", help="only ag.compile against its targets, in CPU time (one BLAS thread)"
    )
    options = parser.parse_args(argv)
    if options.targets:
        print(targets(options.quick))
        return 0
    if not contenders.torch_available():
        print("PyTorch is not installed, so its column is left out (pip install torch to compare with it).")
    results = run(options.quick)
    print(markdown(results))
    print()
    print("machine:", json.dumps(results["machine"], indent=None))
    path = options.json or Path(__file__).parent / "results" / time.strftime("%Y%m%d-%H%M%S.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
