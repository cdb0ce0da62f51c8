"""The command line, attacked: every argument gives a one-line error and an exit code, never a traceback.

Usage errors exit with 2 before anything is trained or written; failures while working
(corrupt data, a full disk) exit with 1 and one line on stderr, leaving no half-written
file and no stray temporary file behind. Issue 12, "The command line".
"""

from __future__ import annotations

import errno
import gzip
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd_lite import cli
from nn.apps import common, demo, mnist

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def one_line(text: str) -> str:
    """The single line of ``text``; fails if there are more (or none) or if it is a traceback."""
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {text!r}"
    return lines[0]


def run(main: Callable[[list[str]], int], arguments: list[str]) -> int:
    """Run a command's ``main`` and return its exit code, whether it returns it or exits with it."""
    try:
        return main(arguments)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)


def forbid_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any training fail the test: usage errors must stop the commands before it."""

    def trained(*arguments: object, **options: object) -> None:
        raise AssertionError("trained although the arguments were refused")

    monkeypatch.setattr(demo, "train_classifier", trained)
    monkeypatch.setattr(mnist, "train_classifier", trained)


def train_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the commands' training to a single step, so the tests reach the writing quickly."""
    real = common.train_classifier

    def one_step(model, optimizer, data, epochs, batch_size, seed, progress=True, max_iterations=None, scheduler=None,
                 compile=False):  # fmt: skip
        return real(model, optimizer, data, 1, batch_size, seed, progress=False, max_iterations=1, report=str)

    monkeypatch.setattr(demo, "train_classifier", one_step)
    monkeypatch.setattr(mnist, "train_classifier", one_step)


# ----- usage errors: exit 2, one line, nothing trained, nothing written -----------------------------
USAGE_ERRORS = [
    (demo, ["--seed", "-1"], "--seed: must be at least 0, got -1"),
    (mnist, ["--seed", "-1"], "--seed: must be at least 0, got -1"),
    (demo, ["--seed", "abc"], "--seed: expected a whole number, got 'abc'"),
    (mnist, ["--seed", "1e3"], "--seed: expected a whole number"),
    (demo, ["--seed", ""], "--seed: expected a whole number"),
    (demo, ["--seed", "9" * 5000], "--seed: expected a whole number"),  # beyond Python's int-parsing limit
    (demo, ["--epochs", "0"], "--epochs: must be at least 1, got 0"),
    (demo, ["--epochs", "-3"], "--epochs: must be at least 1"),
    (demo, ["--epochs", "1.5"], "--epochs: expected a whole number, got '1.5'"),
    (mnist, ["--epochs", "nan"], "--epochs: expected a whole number"),
    (mnist, ["--iterations", "0"], "--iterations: must be at least 1"),
    (mnist, ["--iterations", "-99999999999999999999999"], "--iterations: must be at least 1"),
    (demo, ["--epochs", "99999999999999999999"], "--epochs: must be at most 1,000,000, got '99999999999999999999'"),
    (mnist, ["--epochs", "1000001"], "--epochs: must be at most 1,000,000"),
    (mnist, ["--iterations", "1" + "0" * 30], "--iterations: must be at most 1,000,000,000"),
    (demo, ["--blas-threads", "-1"], "--blas-threads: must be at least 0, got -1"),
    (mnist, ["--blas-threads", "many"], "--blas-threads: expected a whole number"),
    (demo, ["--out", ""], "--out: expected a path, got an empty string"),
    (demo, ["--out", "a\x00b"], "--out: a path cannot contain a null byte"),
    (mnist, ["--out", "  "], "--out: expected a path"),
    (mnist, ["--data", ""], "--data: expected a path"),
    (mnist, ["--data", "x\x00"], "--data: a path cannot contain a null byte"),
    (mnist, ["--recipe", "nope"], "invalid choice: 'nope'"),
    (mnist, ["--bogus"], "unrecognized arguments: --bogus"),
    (demo, ["extra", "positional"], "unrecognized arguments: extra positional"),
    (demo, ["--epochs"], "--epochs: expected one argument"),
]


@pytest.mark.parametrize(("command", "arguments", "expected"), USAGE_ERRORS, ids=lambda value: repr(value)[:40])
def test_hostile_arguments_are_one_line_usage_errors(command, arguments, expected, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # the demo's default --out, demo-output, would land here
    forbid_training(monkeypatch)
    assert run(command.main, arguments) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert line.startswith(f"autograd-lite {command.__name__.split('.')[-1]}: error: ") and expected in line
    assert line.endswith("--help)")
    assert captured.out == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [demo, mnist])
def test_out_an_existing_file_is_refused_before_training(command, monkeypatch, tmp_path, capsys):
    forbid_training(monkeypatch)
    target = tmp_path / "results"
    target.write_text("my notes")
    assert run(command.main, ["--out", str(target), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert f"--out {target} is a file" in one_line(captured.err)
    assert target.read_text() == "my notes" and [path.name for path in tmp_path.iterdir()] == ["results"]


@pytest.mark.parametrize("command", [demo, mnist])
def test_out_below_a_file_is_refused_before_training(command, monkeypatch, tmp_path, capsys):
    forbid_training(monkeypatch)
    (tmp_path / "file").write_text("x")
    assert run(command.main, ["--out", str(tmp_path / "file" / "pictures")]) == 2
    assert "cannot write there (Not a directory)" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("command", [demo, mnist])
def test_out_an_unwritable_folder_is_refused_before_training(command, monkeypatch, tmp_path, capsys):
    forbid_training(monkeypatch)
    folder = tmp_path / "read-only"
    folder.mkdir()

    def refused(*arguments: object, **options: object) -> None:  # what a read-only folder answers
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(common.tempfile, "NamedTemporaryFile", refused)
    assert run(command.main, ["--out", str(folder)]) == 2
    line = one_line(capsys.readouterr().err)
    assert f"--out {folder}: cannot write there (Permission denied)" in line and "writable folder" in line
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders")
@pytest.mark.parametrize("command", [demo, mnist])
def test_out_a_real_read_only_folder_is_refused_before_training(command, monkeypatch, tmp_path, capsys):
    forbid_training(monkeypatch)
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o500)
    try:
        assert run(command.main, ["--out", str(folder / "sub")]) == 2
    finally:
        folder.chmod(0o700)
    assert "Permission denied" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("command", "name"), [(demo, "curves.png"), (demo, "confusion_matrix.png"), (mnist, "mnist-textbook.npz")]
)
def test_an_output_name_taken_by_a_folder_is_refused_before_training(command, name, monkeypatch, tmp_path, capsys):
    forbid_training(monkeypatch)
    (tmp_path / name).mkdir()
    assert run(command.main, ["--out", str(tmp_path)]) == 2
    assert f"{tmp_path / name} exists and is not a file" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_mnist_data_that_is_not_a_folder_is_a_usage_error(kind, monkeypatch, tmp_path, capsys):
    forbid_training(monkeypatch)
    data = tmp_path / "data"
    data.write_bytes(b"\x00" * 16) if kind == "file" else os.mkfifo(data)  # a FIFO must not hang the command
    assert run(mnist.main, ["--data", str(data)]) == 2
    assert f"--data {data} is not a folder" in one_line(capsys.readouterr().err)


# ----- data: corrupt or empty IDX files, memory ---------------------------------------------------
def write_idx(folder: Path, train: int, test: int) -> None:
    """The four MNIST IDX files with ``train`` and ``test`` (blank) digits."""
    for split, count in (("train", train), ("t10k", test)):
        images = struct.pack(">I3I", 0x0803, count, 28, 28) + bytes(count * 784)
        (folder / f"{split}-images-idx3-ubyte").write_bytes(images)
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x0801, count) + bytes(count))


@pytest.mark.parametrize(("train", "test", "empty"), [(0, 3, "train-images-idx3-ubyte"), (3, 0, "t10k-images")])
def test_mnist_with_zero_images_says_the_file_holds_none(train, test, empty, monkeypatch, tmp_path, capsys):
    forbid_training(monkeypatch)
    write_idx(tmp_path, train, test)
    assert run(mnist.main, ["--data", str(tmp_path), "--no-progress"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith("autograd-lite mnist: ") and empty in line and "no images" in line


def test_a_memory_error_while_reading_is_reported_as_a_corrupt_file(monkeypatch, tmp_path, capsys):
    def too_big(directory: object, **options: object) -> None:
        raise MemoryError()

    monkeypatch.setattr(mnist, "load_mnist", too_big)
    assert run(mnist.main, ["--data", str(tmp_path)]) == 1
    line = one_line(capsys.readouterr().err)
    assert "declares more data than fits in memory (corrupt?)" in line and str(tmp_path) in line
    assert "not enough memory" not in line


PEAK_SCRIPT = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from autograd_lite.cli import main
code = main(sys.argv[2:])
# VmHWM: this process's own peak; ru_maxrss would count the forking test process's memory (Linux keeps it across exec)
try:
    peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak, file=sys.stdout)
sys.exit(code)
"""


def test_a_tiny_gzip_declaring_gigabytes_is_one_line_under_a_memory_limit(tmp_path):
    write_idx(tmp_path, 3, 3)
    bomb = tmp_path / "train-images-idx3-ubyte"
    bomb.unlink()
    declared = 4_000_000  # digits of 784 bytes: 3.1 GB declared by a 50-byte file
    bomb.with_suffix(".gz").write_bytes(gzip.compress(struct.pack(">I3I", 0x0803, declared, 28, 28) + bytes(784)))
    assert bomb.with_suffix(".gz").stat().st_size < 100
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    environment["PYTHONPATH"] = os.pathsep.join([str(ROOT), environment.get("PYTHONPATH", "")])
    limit = 1 << 30  # 1 GiB of address space: the declared 3.1 GB cannot be allocated
    arguments = ["mnist", "--data", str(tmp_path), "--no-progress"]
    result = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(limit), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert line.startswith("autograd-lite mnist: ") and "not enough memory" not in line
    assert "train-images-idx3-ubyte" in line or "corrupt" in line
    assert int(result.stdout.split()[-1]) < 600_000  # kilobytes of peak resident memory


# ----- writing: a full disk leaves whole files or none ----------------------------------------------
def fill_the_disk(monkeypatch: pytest.MonkeyPatch, after: int = 0) -> None:
    """From the ``after``-th picture on, savefig writes part of the file, then finds the disk full."""
    from matplotlib.figure import Figure

    real, calls = Figure.savefig, []

    def savefig(self: Figure, path: object, *arguments: object, **options: object) -> None:
        calls.append(path)
        if len(calls) <= after:
            return real(self, path, *arguments, **options)
        Path(path).write_bytes(b"\x89PNG\r\n\x1a\n half a picture")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Figure, "savefig", savefig)


def test_demo_with_a_full_disk_ends_with_one_line_and_leaves_no_truncated_file(monkeypatch, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    train_one_step(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    (out / "predictions.png").write_bytes(b"the picture of the last run")
    fill_the_disk(monkeypatch, after=1)  # curves.png is written whole, predictions.png finds the disk full
    assert demo.main(["--out", str(out), "--no-progress"]) == 1
    line = one_line(capsys.readouterr().err)
    assert line == (
        f"autograd-lite demo: cannot write {out / 'predictions.png'} (No space left on device); "
        "free some space or give another --out"
    )
    assert sorted(path.name for path in out.iterdir()) == ["curves.png", "predictions.png"]  # no temporary files
    assert (out / "predictions.png").read_bytes() == b"the picture of the last run"
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG") and (out / "curves.png").stat().st_size > 1000


def test_mnist_with_a_full_disk_keeps_the_weights_and_leaves_no_truncated_picture(monkeypatch, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    train_one_step(monkeypatch)
    fill_the_disk(monkeypatch)
    assert mnist.main(["--out", str(tmp_path), "--no-progress"]) == 1
    line = one_line(capsys.readouterr().err)
    assert f"cannot write {tmp_path / 'mnist-textbook-curves.png'} (No space left on device)" in line
    assert [path.name for path in tmp_path.iterdir()] == ["mnist-textbook.npz"]
    nn.load(mnist.RECIPES["textbook"].build(seed=0)[0], tmp_path / "mnist-textbook.npz")  # whole and loadable


def test_the_graph_and_the_stepper_are_written_atomically(monkeypatch, tmp_path):
    def full(self: Path, *arguments: object, **options: object) -> None:
        Path.write_bytes(self, b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    model = nn.MLP([6, 3], rng=0)
    with pytest.raises(OSError, match="No space left") as error_info:
        demo.write_graph(model, np.zeros((1, 6), dtype=np.float32), np.array([1]), tmp_path / "graph.gv")
    assert error_info.value.filename == str(tmp_path / "graph.gv")
    with pytest.raises(OSError, match="No space left"):
        demo.write_sigmoid_stepper(tmp_path / "sigmoid_backward.html")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_an_existing_files_mode_and_gives_new_files_the_umask(tmp_path):
    private = tmp_path / "private.png"
    private.write_bytes(b"old")
    private.chmod(0o600)
    with common.atomic_path(private) as temporary:
        temporary.write_bytes(b"new")
    assert private.read_bytes() == b"new" and private.stat().st_mode & 0o777 == 0o600
    mask = os.umask(0o027)
    try:
        with common.atomic_path(tmp_path / "fresh.png") as temporary:
            temporary.write_bytes(b"fresh")
    finally:
        os.umask(mask)
    assert (tmp_path / "fresh.png").stat().st_mode & 0o777 == 0o640
    with pytest.raises(KeyboardInterrupt), common.atomic_path(private) as temporary:
        temporary.write_bytes(b"interrupted")
        raise KeyboardInterrupt
    assert private.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["fresh.png", "private.png"]


# ----- the dispatcher: --version, python -m, whatever escapes a command ----------------------------
def test_version_prints_the_version(capsys):
    from autograd_lite import __version__

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"autograd-lite {__version__}\n"


def test_python_dash_m_works_like_the_console_script(tmp_path):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}

    def run_module(*arguments: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "autograd_lite", *arguments]
        return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=120)

    version = run_module("--version")
    assert version.returncode == 0 and version.stdout.startswith("autograd-lite ")
    listed = run_module("--help")
    assert listed.returncode == 0 and all(name in listed.stdout for name in cli.COMMANDS)
    refused = run_module("demo", "--seed", "-1")
    assert refused.returncode == 2 and "--seed: must be at least 0" in one_line(refused.stderr)
    explained = run_module("explain", "x*x", "--at", "x=3")
    assert explained.returncode == 0 and "6" in explained.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("raised", "code", "expected"),
    [
        (RuntimeError("a bug\nover two lines"), 1, "autograd-lite demo: unexpected RuntimeError: a bug over two lines"),
        (KeyboardInterrupt(), 130, "autograd-lite demo: interrupted"),
        (MemoryError(), 1, "autograd-lite demo: out of memory"),
    ],
)
def test_whatever_escapes_a_command_is_one_line(raised, code, expected, monkeypatch, capsys):
    def failing(arguments: list[str]) -> int:
        raise raised

    monkeypatch.setattr(demo, "main", failing)
    monkeypatch.delenv("AUTOGRAD_LITE_TRACEBACK", raising=False)
    assert cli.main(["demo"]) == code
    assert one_line(capsys.readouterr().err.strip()).startswith(expected)


def test_a_closed_pipe_ends_quietly(monkeypatch, capsys):
    def closed(arguments: list[str]) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(demo, "main", closed)
    assert cli.main(["demo"]) == 1
    assert capsys.readouterr().err == ""


def test_the_traceback_is_shown_on_request(monkeypatch):
    def failing(arguments: list[str]) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(demo, "main", failing)
    monkeypatch.setenv("AUTOGRAD_LITE_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["demo"])


# ----- explain and numpy: hostile arguments through the dispatcher ---------------------------------
HOSTILE_EXPLAIN = [
    (["x", "--at", "x=1", "--digits", "-1"], 2),
    (["x", "--at", "x=1", "--digits", "99999999999999999999"], 2),
    (["x", "--at", "x=1", "--digits", "many"], 2),
    (["x*2", "--at", "x=abc"], 2),
    (["x*2", "--at", "x"], 2),
    ([""], 2),
    (["x*2", "--at", "x=1", "--dot", "{tmp}"], 1),  # a folder
    (["x*2", "--at", "x=1", "--dot", "{tmp}/missing/graph.gv"], 1),
    (["x*2", "--at", "x=1", "--html", "{tmp}/missing/page.html"], 1),
    ([], 2),
    (["x", "--bogus"], 2),
]


@pytest.mark.parametrize(("arguments", "code"), HOSTILE_EXPLAIN, ids=lambda value: repr(value)[:50])
def test_explain_with_hostile_arguments_is_one_line(arguments, code, tmp_path, capsys):
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    assert run(cli.main, ["explain", *arguments]) == code
    assert one_line(capsys.readouterr().err).startswith("autograd-lite explain: error: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("arguments", [["--bogus"], [""], ["\x00"], ["np."], ["-"]])
def test_numpy_with_hostile_arguments_is_a_usage_error_without_traceback(arguments, capsys):
    assert run(cli.main, ["numpy", *arguments]) == 2
    assert "Traceback" not in capsys.readouterr().err
