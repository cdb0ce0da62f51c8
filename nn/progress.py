"""What ``nn.fit`` prints while it trains: one bar that fits the terminal, or plain lines.

On a terminal: one line redrawn in place (at most ten times a second), never wider than the
terminal, with the metrics' short names (``acc``, ``val_acc``); when an epoch ends its line
stays, with every metric (on the lines below when they do not fit beside the bar). Epochs
shorter than ``SHORT_EPOCH`` seconds do not leave a line each: one run-level bar counts the
epochs instead, and one line stays at the end. ``verbose`` keeps a line for every epoch.

Anywhere else (a CI log, a file, a notebook): plain lines only, no carriage returns: one
per epoch, at most one every ``PLAIN_EVERY`` seconds for short epochs (the last always).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import IO

#: Epochs shorter than this (seconds) share one run-level bar instead of a line each.
SHORT_EPOCH = 1.0
#: Seconds between two redraws of the live line.
REDRAW_EVERY = 0.1
#: Seconds between two plain lines when epochs are short (not a terminal).
PLAIN_EVERY = 5.0
#: The bar's width in characters, at least and at most.
BAR_MIN, BAR_MAX = 10, 30
SHORT_NAMES = {"accuracy": "acc", "val_accuracy": "val_acc"}
CLEAR_LINE = "\r\x1b[K"  # back to the line's start and erase it


def metrics_text(values: dict[str, float], short: bool) -> list[str]:
    """``["loss 0.2345", "acc 0.9312", ...]``: each metric with 4 significant digits, short names if asked."""
    return [f"{SHORT_NAMES.get(name, name) if short else name} {value:.4g}" for name, value in values.items()]


def bar(fraction: float, width: int) -> str:
    """``[=====>    ]`` of ``width`` characters in all (ASCII: any terminal encoding shows it)."""
    inside = width - 2
    done = min(inside, max(0, int(fraction * inside)))
    head = ">" if 0 < done < inside else ""
    return "[" + "=" * max(0, done - len(head)) + head + " " * (inside - done) + "]"


def fit_line(head: str, fraction: float, tail: str, metrics: list[str], width: int) -> str:
    """``head [bar] tail metrics...`` in at most ``width`` characters.

    What gives way when it is narrow, in order: the last metrics, the bar's width, the bar, the end of the line.
    """
    shown = list(metrics)

    def room() -> int:  # what is left for the bar
        return width - len(head) - len(tail) - len(" ".join(shown)) - 3  # three separating spaces

    while len(shown) > 1 and room() < BAR_MIN:
        shown.pop()
    drawn = bar(fraction, min(BAR_MAX, room())) if room() >= BAR_MIN else ""
    return " ".join(part for part in (head, drawn, tail, " ".join(shown)) if part)[:width]


def wrap_items(items: list[str], width: int, indent: str) -> list[str]:
    """The items on as few lines of at most ``width`` as fit, never split (one too long alone is cut)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 1 + len(item) <= width:
            lines[-1] += " " + item
        else:
            lines.append((indent + item)[:width])
    return lines


def terminal_width(stream: IO[str]) -> int:
    """The terminal's columns (the ``COLUMNS`` variable wins, as for shutil), one kept free against auto-wrap."""
    columns = shutil.get_terminal_size((0, 0)).columns if "COLUMNS" in os.environ else 0
    if not columns:
        try:
            columns = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            columns = 80
    return max(20, columns - 1)


def default_stream() -> IO[str]:
    """stderr, as progress goes; in a Jupyter kernel stdout, since a notebook shows stderr as if it were an error."""
    return sys.stdout if type(sys.stderr).__module__.startswith("ipykernel") else sys.stderr


def is_terminal(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal that redraws a line in place."""
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a closed or odd stream: plain lines
        return False


class TrainingProgress:
    """One fit's progress: :meth:`start_epoch`, :meth:`batch` per batch, :meth:`end_epoch`; a context that closes."""

    def __init__(
        self,
        epochs: int,
        total_steps: int,
        verbose: bool = False,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.epochs, self.total_steps, self.verbose = epochs, total_steps, verbose
        self.stream = default_stream() if stream is None else stream
        self.clock = clock
        self.terminal = is_terminal(self.stream)
        self.width = terminal_width(self.stream) if self.terminal else 0
        self.started = self.epoch_started = self.last_drawn = self.last_plain = clock()
        self.run_level = False  # True once an epoch took less than SHORT_EPOCH: one bar for the run
        self.epoch = self.steps = self.epoch_steps = self.epoch_total = 0
        self.live = False  # a live line is on screen
        self.last_record: dict[str, float] = {}

    def start_epoch(self, epoch: int, steps: int) -> None:
        """Epoch ``epoch`` (from 1) begins, with ``steps`` batches."""
        self.epoch, self.epoch_steps, self.epoch_total = epoch, 0, steps
        self.epoch_started = self.clock()

    def batch(self, totals: dict[str, float], seen: int) -> None:
        """One batch done; ``totals`` are the epoch's loss and metrics so far, summed over ``seen`` samples."""
        self.steps += 1
        self.epoch_steps += 1
        if self.terminal:
            now = self.clock()
            if now - self.last_drawn >= REDRAW_EVERY or self.epoch_steps == 1:
                self.draw({name: total / seen for name, total in totals.items()}, now)

    def draw(self, running: dict[str, float], now: float) -> None:
        """Redraw the live line: this epoch's bar, or the run's once epochs are short."""
        if self.run_level:
            head, fraction = f"epoch {self.epoch}/{self.epochs}", self.steps / max(1, self.total_steps)
            tail = f"{now - self.started:.0f}s"
        else:
            head, fraction = f"epoch {self.epoch}/{self.epochs}", self.epoch_steps / max(1, self.epoch_total)
            tail = f"{self.epoch_steps}/{self.epoch_total} {now - self.epoch_started:.0f}s"
        self.write(CLEAR_LINE + fit_line(head, fraction, tail, metrics_text(running, short=True), self.width))
        self.live, self.last_drawn = True, now

    def end_epoch(self, record: dict[str, float]) -> None:
        """The epoch's values (validation included) are known: keep a line for it, or fold it into the run's bar."""
        now = self.clock()
        seconds = now - self.epoch_started
        self.last_record = record
        last = self.epoch == self.epochs or self.steps >= self.total_steps
        if self.terminal:
            self.run_level = self.run_level or (seconds < SHORT_EPOCH and not self.verbose)
            if self.run_level and not last:
                self.draw(record, now)
                return
            self.keep(f"epoch {self.epoch}/{self.epochs}", seconds if not self.run_level else now - self.started)
        elif self.verbose or last or self.epoch == 1 or seconds >= SHORT_EPOCH or now - self.last_plain >= PLAIN_EVERY:
            values = ", ".join(metrics_text(record, short=False))
            self.write(f"epoch {self.epoch}/{self.epochs}: {values} ({seconds:.1f} s)\n")
            self.last_plain = now

    def keep(self, head: str, seconds: float) -> None:
        """Replace the live line by a full bar that stays, with every metric (wrapped below if they do not fit)."""
        metrics = metrics_text(self.last_record, short=False)
        fraction = 1.0 if not self.run_level else self.steps / max(1, self.total_steps)
        tail = f"{seconds:.1f}s"
        if len(f"{head} {bar(fraction, BAR_MIN)} {tail} {' '.join(metrics)}") <= self.width:
            lines = [fit_line(head, fraction, tail, metrics, self.width)]
        else:  # the metrics go on the lines below the bar
            lines = [fit_line(head, fraction, tail, [], self.width), *wrap_items(metrics, self.width, "  ")]
        self.write(CLEAR_LINE + "\n".join(lines) + "\n")
        self.live = False

    def __enter__(self) -> TrainingProgress:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    def close(self) -> None:
        """Training ended (or stopped early, or failed): leave no half-drawn line behind."""
        if self.live:
            self.write("\n")
            self.live = False

    def write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class SilentProgress:
    """What fit reports to when it prints nothing: every call does nothing."""

    def start_epoch(self, epoch: int, steps: int) -> None:
        """Nothing to show."""

    def batch(self, totals: dict[str, float], seen: int) -> None:
        """Nothing to show."""

    def end_epoch(self, record: dict[str, float]) -> None:
        """Nothing to show."""

    def __enter__(self) -> SilentProgress:
        return self

    def __exit__(self, *exception: object) -> None:
        pass


def progress_for(
    enabled: bool, quiet: bool, verbose: bool, epochs: int, total_steps: int
) -> TrainingProgress | SilentProgress:
    """What fit reports to: a TrainingProgress on stderr, or a SilentProgress (``quiet`` or ``progress=False``)."""
    for name, value in (("progress", enabled), ("quiet", quiet), ("verbose", verbose)):
        if not isinstance(value, bool):
            raise TypeError(f"fit: {name} must be True or False, got {value!r}")
    if quiet and verbose:
        raise ValueError("fit: quiet=True and verbose=True contradict each other; choose one")
    if quiet or not enabled:
        return SilentProgress()
    return TrainingProgress(epochs, total_steps, verbose=verbose)
