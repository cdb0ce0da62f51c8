"""Smoke test: the benchmark suite runs in quick mode and its numbers are well-formed (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite.engine import data_of
from benchmarks import contenders, handwritten, run


def test_quick_benchmark_runs_and_writes_json(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "results.json"
    assert run.main(["--quick", "--json", str(output)]) == 0
    results = json.loads(output.read_text())
    assert {w["name"].split(",")[0] for w in results["workloads"]} >= {"MLP SGD step 784-100-10"}
    for workload in results["workloads"]:
        assert workload["results"]["hand-written NumPy"]["ratio"] == 1.0
        assert workload["results"]["autograd_lite"]["median"] > 0
    assert "| work |" in capsys.readouterr().out
    assert results["machine"]["numpy"] == np.__version__


def assert_same_steps_as_hand_written(contender: Any, seed: int) -> Any:
    """Three SGD steps of ``contender`` and of the hand-written MLP: the same losses and weights; the step."""
    parameters = handwritten.init_mlp((784, 16, 10), np.float64, seed=seed)
    x, labels = run.mnist_shaped_batch(8)
    x = x.astype(np.float64)
    step, reference_step = contender(parameters), contenders.handwritten_mlp(parameters)
    for _ in range(3):
        np.testing.assert_allclose(step(x, labels, 0.1), reference_step(x, labels, 0.1), rtol=1e-12)
    for ours, theirs in zip(step.parameters, reference_step.parameters):
        np.testing.assert_allclose(data_of(ours), theirs, rtol=1e-10, atol=1e-12)  # a Tensor or an array
    return step


def test_engine_and_hand_written_mlp_take_identical_steps() -> None:
    assert_same_steps_as_hand_written(contenders.autograd_lite_mlp, seed=3)


def test_chain_gradients_agree() -> None:
    x = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(contenders.autograd_lite_chain(x, 30), handwritten.chain_forward_backward(x, 30))
    assert isinstance(ag.Tensor(x), ag.Tensor)


def test_compiled_and_hand_written_mlp_take_identical_steps() -> None:
    compiled_step = assert_same_steps_as_hand_written(contenders.compiled_mlp, seed=4)
    assert compiled_step.compiled.cache_info().hits == 2


def test_compiled_chain_gradient_agrees() -> None:
    x = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(contenders.compiled_chain(30)(x).data, handwritten.chain_forward_backward(x, 30))


def test_targets_table_has_a_row_per_target_and_the_chain(capsys) -> None:  # type: ignore[no-untyped-def]
    assert run.main(["--targets", "--quick"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + len(run.TARGETS) + 1  # the header, the targets, the chain
    assert all(("met" in row) for row in rows[1:])
