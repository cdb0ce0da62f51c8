"""Every example script and the demo run in --quick mode, in-process, with their outcomes and output files checked."""

from __future__ import annotations

import gzip
import importlib.util
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from autograd_lite import cli
from nn.apps.common import blas_threads
from nn.datasets import load_mnist

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    # The examples multiply small matrices, where OpenBLAS's worker threads cost more than they save, and
    # badly so (5x here) when other processes compete for a 2-core machine (a no-op without threadpoolctl).
    with blas_threads(1):
        yield


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name: str, tmp_path: Path, capsys: pytest.CaptureFixture, *extra: str) -> str:
    assert load_example(name).main(["--quick", "--out", str(tmp_path), *extra]) == 0
    return capsys.readouterr().out


def assert_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path} is not a PNG file"


def assert_svg(path: Path) -> None:
    root = ElementTree.parse(path).getroot()  # raises if the file is not well-formed XML
    assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg")


def assert_html(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html") and text.rstrip().lower().endswith("</html>")


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found in the output:\n{text}"
    return float(match.group(1))


@pytest.mark.parametrize(
    "name",
    [
        "quickstart",
        "gradient_descent",
        "xor",
        "moons",
        "sin_regression",
        "mnist_per_sample_sigmoid",
        "mnist_two_layer",
        "cnn_mnist",
    ],  # fmt: skip
)
def test_every_example_has_help_and_the_common_options(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_example(name).main(["--help"])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    expected = ["--seed", "--quick"] if name == "quickstart" else ["--seed", "--out", "--quick"]
    assert all(option in usage for option in expected)


def test_gradient_descent_converges_diverges_and_stalls(tmp_path, capsys):
    out = run_example("gradient_descent", tmp_path, capsys)
    assert re.search(r"lr 0\.1 .* converged", out)
    assert re.search(r"lr 10 .* diverged", out)
    assert re.search(r"lr 1e-10 .* barely moved", out)
    assert_png(tmp_path / "gradient_descent.png")


def test_gradient_descent_stops_a_diverging_path_without_overflow_warnings(tmp_path, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in the lr 10 path would be a RuntimeWarning
        assert load_example("gradient_descent").main(["--out", str(tmp_path), "--steps", "300"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"lr 10 .* diverged", out) and "nan" not in out and "inf" not in out
    assert re.search(r"lr 0\.1 +: after 300 steps .* converged", out)


def test_gradient_descent_seed_draws_the_random_start(tmp_path, capsys):
    starts = []
    for seed in ("1", "1", "2"):
        out = run_example("gradient_descent", tmp_path, capsys, "--random-start", "--seed", seed)
        start = re.search(r"start: \(([-\d.e]+), ([-\d.e]+)\)", out)
        starts.append((float(start.group(1)), float(start.group(2))))
    assert starts[0] == starts[1] != starts[2]
    assert all(-5 <= value <= 5 for start in starts for value in start)
    out = run_example("gradient_descent", tmp_path, capsys)  # without --random-start: the documented start
    assert "start: (-3, 4)" in out


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("mnist_two_layer", "--iterations"),
        ("sin_regression", "--epochs"),
        ("mnist_per_sample_sigmoid", "--epochs"),
        ("gradient_descent", "--steps"),
        ("xor", "--steps"),
        ("moons", "--epochs"),
    ],
)
def test_a_zero_length_run_is_a_usage_error(name, option, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_example(name).main(["--out", str(tmp_path), option, "0"])
    assert exit_info.value.code == 2
    assert f"{option} must be at least 1, got 0" in capsys.readouterr().err


def test_xor_learns_the_truth_table(tmp_path, capsys):
    out = run_example("xor", tmp_path, capsys, "--seed", "3")
    assert number(r"accuracy (\d+)%", out) == 100
    assert_png(tmp_path / "xor.png")


def test_moons_separates_held_out_points(tmp_path, capsys):
    out = run_example("moons", tmp_path, capsys)
    assert number(r"held-out accuracy ([\d.]+)%", out) >= 95
    assert_png(tmp_path / "moons.png")


def test_sin_regression_fits_between_the_training_points(tmp_path, capsys):
    out = run_example("sin_regression", tmp_path, capsys)
    assert number(r"MSE at x \+ 0\.05 ([\d.]+)", out) < 0.05
    assert_png(tmp_path / "sin_regression.png")


def test_per_sample_sigmoid_training_learns(tmp_path, capsys):
    out = run_example("mnist_per_sample_sigmoid", tmp_path, capsys)
    held_out = [float(value) for value in re.findall(r"([\d.]+)% held-out", out)]
    assert len(held_out) == 2 and held_out[-1] >= 75
    assert_png(tmp_path / "mnist_per_sample_sigmoid.png")


def test_two_layer_textbook_and_modern_both_learn(tmp_path, capsys):
    out = run_example("mnist_two_layer", tmp_path, capsys)
    assert number(r"textbook.*held-out ([\d.]+)%", out) >= 80
    assert number(r"modern.*held-out ([\d.]+)%", out) >= 88
    assert_png(tmp_path / "mnist_two_layer.png")


def test_cnn_mnist_learns_in_one_quick_epoch(tmp_path, capsys):
    out = run_example("cnn_mnist", tmp_path, capsys)
    accuracy = float(re.search(r"held-out accuracy after 1 epoch: ([\d.]+)%", out).group(1))
    assert accuracy > 40.0  # chance is 10% (this seed gives 65%): the CNN clearly learns in one epoch
    assert_png(tmp_path / "cnn_mnist.png")


def test_quickstart_still_runs(capsys):
    assert load_example("quickstart").main([]) == 0
    out = capsys.readouterr().out
    assert abs(number(r"fitted y = ([-\d.]+) x", out) - 3) < 0.05
    assert abs(number(r"x ([-+][\d.]+) \(true", out) + 1) < 0.05


def test_demo_quick_reads_digits_and_writes_every_picture(tmp_path, capsys):
    assert cli.main(["demo", "--quick", "--no-progress", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert number(r"Held-out accuracy: ([\d.]+)%", out) >= 85
    printed = {Path(line.strip()) for line in out.splitlines() if line.startswith("  ")}
    expected = {"curves.png", "predictions.png", "probabilities.png", "confusion_matrix.png", "graph.svg",
                "sigmoid_backward.html"}  # fmt: skip
    assert {path.name for path in printed} == expected
    assert {path.name for path in tmp_path.iterdir()} == expected
    for path in printed:
        assert path.parent == tmp_path
        {".png": assert_png, ".svg": assert_svg, ".html": assert_html}[path.suffix](path)
    graph = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert all(name in graph for name in ("digits", "layers.0.weight", "layers.2.bias", "Relu", "loss", "grad"))


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_mnist_command_trains_on_idx_files(tmp_path, capsys):
    # The embedded digits written as gzipped IDX files: the --data path end to end, with real digits.
    (x_train, y_train), (x_test, y_test) = load_mnist(normalize=False, flatten=False)
    for name, array in (("train-images-idx3-ubyte", x_train), ("train-labels-idx1-ubyte", y_train),
                        ("t10k-images-idx3-ubyte", x_test), ("t10k-labels-idx1-ubyte", y_test)):  # fmt: skip
        write_idx(tmp_path / f"{name}.gz", array)
    out_folder = tmp_path / "out"
    arguments = ["mnist", "--data", str(tmp_path), "--recipe", "modern", "--quick", "--no-progress"]
    assert cli.main([*arguments, "--out", str(out_folder)]) == 0
    out = capsys.readouterr().out
    assert "4,000 training and 1,000 test digits" in out
    assert number(r"Test accuracy: ([\d.]+)%", out) >= 88
    assert_png(out_folder / "mnist-modern-curves.png")
    assert_png(out_folder / "mnist-modern-confusion.png")
    assert (out_folder / "mnist-modern.npz").is_file()


def test_mnist_command_textbook_recipe_stops_at_the_iteration_count(capsys):
    assert cli.main(["mnist", "--recipe", "textbook", "--iterations", "300", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "after 300 iterations" in out
    assert number(r"Test accuracy: ([\d.]+)%", out) >= 60


@pytest.mark.parametrize("name", sorted(path.stem for path in EXAMPLES.glob("*.py")))
def test_a_negative_seed_is_a_one_line_usage_error(name: str) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--seed", "-1", "--quick"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "--seed" in result.stderr and "Traceback" not in result.stderr
