"""What fit prints: one bar that fits an 80-column terminal (checked in a pseudo-terminal), plain lines elsewhere.

The clock is a parameter of TrainingProgress, so long and short epochs are simulated exactly:
no test here depends on how fast the machine is.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn import progress
from nn.progress import TrainingProgress

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
METRIC_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=40)


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def screen_pieces(text: str) -> list[str]:
    """Every piece of text a terminal shows on one line: split at newlines and carriage returns, escapes removed."""
    return [piece for piece in re.split(r"[\r\n]", ANSI.sub("", text)) if piece]


def kept_text(output: str) -> str:
    """What stays on a terminal's screen: each line's text after its last carriage return, escapes removed."""
    return "\n".join(line.split("\r")[-1] for line in ANSI.sub("", output).split("\n"))


def simulate(stream: io.StringIO, epochs: int, steps: int, seconds_per_step: float, record: dict, **options) -> None:
    """A run of ``epochs`` epochs of ``steps`` batches, each batch taking ``seconds_per_step`` on a fake clock."""
    clock = Clock()
    with TrainingProgress(epochs, epochs * steps, stream=stream, clock=clock, **options) as report:
        for epoch in range(1, epochs + 1):
            report.start_epoch(epoch, steps)
            for seen in range(1, steps + 1):
                clock.now += seconds_per_step
                report.batch({name: value * seen for name, value in record.items()}, seen)
            report.end_epoch(record)


RECORD = {"loss": 0.23456, "accuracy": 0.93125, "val_loss": 0.25121, "val_accuracy": 0.928}


@given(
    st.dictionaries(METRIC_NAMES, st.floats(allow_nan=True), max_size=6),
    st.integers(20, 200),
    st.floats(0, 1),
)
def test_a_bar_line_never_exceeds_the_width(values: dict, width: int, fraction: float) -> None:
    line = progress.fit_line("epoch 12/250", fraction, "63/63 12s", progress.metrics_text(values, short=True), width)
    assert len(line) <= width and line.startswith("epoch 12/250")


@pytest.mark.parametrize("columns", [40, 80, 120])
def test_long_epochs_leave_one_line_each_that_fits(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    stream = Terminal()
    simulate(stream, epochs=3, steps=50, seconds_per_step=0.05, record=RECORD)  # 2.5 s per epoch
    pieces = screen_pieces(stream.getvalue())
    assert pieces and all(len(piece) < columns for piece in pieces)  # one column kept free against auto-wrap
    kept = kept_text(stream.getvalue())
    assert [line.split(" [")[0] for line in kept.splitlines() if line.startswith("epoch")] == [
        "epoch 1/3",
        "epoch 2/3",
        "epoch 3/3",
    ]
    for name, value in RECORD.items():  # the kept lines carry every metric, by its full name
        assert kept.count(f"{name} {value:.4g}") == 3
    live = stream.getvalue().split("\n")[0]
    assert "loss 0.2346" in live  # the loss stays on the live line, even at 40 columns
    assert ("acc 0.9313" in live) == (columns >= 80)  # abbreviated, where there is room


def test_every_metric_stays_visible_on_the_lines_below_when_the_bar_line_is_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    stream = Terminal()
    record = {f"a_rather_long_metric_name_{index}": index / 7 for index in range(5)}
    simulate(stream, epochs=2, steps=5, seconds_per_step=0.5, record=record)
    pieces = screen_pieces(stream.getvalue())
    assert all(len(piece) < 80 for piece in pieces)
    kept = kept_text(stream.getvalue())
    for name, value in record.items():
        assert kept.count(f"{name} {value:.4g}") == 2


def test_short_epochs_share_one_bar_for_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    stream = Terminal()
    simulate(stream, epochs=250, steps=40, seconds_per_step=0.0006, record=RECORD)  # the textbook recipe: 6 s
    output = stream.getvalue()
    final = kept_text(output)
    assert final.startswith("epoch 250/250 [" + "=" * 10) and "val_accuracy 0.928" in final
    assert final.count("epoch") == 1 and output.count("\n") == 2  # one bar stays (its metrics below), not 250
    assert all(len(piece) < 80 for piece in screen_pieces(output))
    verbose = Terminal()
    simulate(verbose, epochs=5, steps=40, seconds_per_step=0.0006, record=RECORD, verbose=True)
    assert kept_text(verbose.getvalue()).count("epoch") == 5  # verbose: a line per epoch, however short


def test_outside_a_terminal_only_plain_lines_first_last_and_every_few_seconds() -> None:
    stream = io.StringIO()
    simulate(stream, epochs=250, steps=40, seconds_per_step=0.0006, record=RECORD)  # 24 ms per epoch
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    assert lines[0].startswith("epoch 1/250: loss 0.2346, accuracy 0.9313, val_loss 0.2512, val_accuracy 0.928")
    assert lines[-1].startswith("epoch 250/250: ")
    assert len(lines) == 2 + int(250 * 40 * 0.0006 // progress.PLAIN_EVERY)  # first, one per 5 s, last
    slow = io.StringIO()
    simulate(slow, epochs=3, steps=10, seconds_per_step=0.2, record=RECORD)
    assert [line.split(":")[0] for line in slow.getvalue().splitlines()] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]


def test_in_a_notebook_progress_goes_to_stdout_elsewhere_to_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    assert progress.default_stream() is sys.stderr
    kernel_stream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})()
    monkeypatch.setattr(sys, "stderr", kernel_stream)
    assert progress.default_stream() is sys.stdout


def test_an_error_mid_epoch_leaves_no_half_drawn_line() -> None:
    stream = Terminal()
    with pytest.raises(FloatingPointError), TrainingProgress(2, 20, stream=stream, clock=Clock()) as report:
        report.start_epoch(1, 10)
        report.batch({"loss": 1.0}, 4)
        raise FloatingPointError("diverged")
    assert stream.getvalue().endswith("\n")


PTY_SCRIPT = """
import numpy as np
import nn
from nn.progress import TrainingProgress

class Clock:
    now = 0.0
    def __call__(self):
        return self.now

rng = np.random.default_rng(0)
X, y = rng.normal(size=(64, 4)), rng.integers(0, 3, 64)
model = nn.MLP([4, 8, 3], rng=0)
nn.fit(model, nn.softmax_cross_entropy, nn.optim.Adam(model.parameters()), X, y, epochs=12, batch_size=8,
       validation=(X, y), metrics=["accuracy"])
clock = Clock()
record = {"loss": 0.1234, "accuracy": 0.9, "val_loss": 0.2345, "val_accuracy": 0.875, "top_5_accuracy": 0.99}
with TrainingProgress(3, 300, clock=clock) as report:
    for epoch in range(1, 4):
        report.start_epoch(epoch, 100)
        for seen in range(1, 101):
            clock.now += 0.02
            report.batch({name: value * seen for name, value in record.items()}, seen)
        report.end_epoch(record)
"""


def test_in_an_80_column_pseudo_terminal_every_line_fits() -> None:
    pty, fcntl, termios = pytest.importorskip("pty"), pytest.importorskip("fcntl"), pytest.importorskip("termios")
    import struct

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    environment = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    environment.update(PYTHONPATH=os.pathsep.join([str(ROOT), environment.get("PYTHONPATH", "")]), TERM="xterm")
    child = subprocess.Popen(
        [sys.executable, "-c", PTY_SCRIPT], stdin=follower, stdout=follower, stderr=follower, env=environment
    )
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    assert child.wait(timeout=120) == 0, received.decode(errors="replace")[-2000:]
    output = received.decode()
    pieces = screen_pieces(output)
    assert any(piece.startswith("epoch 12/12 [") for piece in pieces)  # the real fit's bar
    assert any("top_5_accuracy 0.99" in piece for piece in pieces)  # the simulated run's last metric, kept
    too_wide = [piece for piece in pieces if len(piece) > 80]
    assert too_wide == []
