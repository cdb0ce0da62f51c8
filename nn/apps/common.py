"""What the demo, the mnist command and the example scripts share: command-line options and classifier training."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NoReturn

import numpy as np

import nn


def blas_threads(count: int) -> contextlib.AbstractContextManager:
    """Limit the BLAS library (OpenBLAS, MKL) to ``count`` threads inside the block; 0 leaves it alone.

    These networks multiply small matrices, where BLAS worker threads cost more than they save:
    with one other busy process on a 2-core machine the demo took 11 s threaded and 4 s with one
    thread. Needs threadpoolctl (installed with the [data] extra); without it nothing changes.
    """
    if count < 1:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=count, user_api="blas")


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit code 2) that points to ``--help``."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` on stderr and exit with code 2."""
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _shown(text: str) -> str:
    """An argument as an error message shows it: quoted, and cut short if long."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


MAX_EPOCHS, MAX_ITERATIONS = 10**6, 10**9  # far beyond any useful run; larger counts are typing mistakes


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` reading a whole number in [minimum, maximum] (other input: a usage error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(text)}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}, got {_shown(text)}")
        return value

    return parse


def path_argument(text: str) -> Path:
    """An argparse ``type`` for a folder or file path: refuses the empty string and null bytes."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    if "\x00" in text:
        raise argparse.ArgumentTypeError(f"a path cannot contain a null byte, got {_shown(text)}")
    return Path(text)


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """The options every training command shares: --seed, --no-progress, --blas-threads."""
    parser.add_argument("--seed", type=whole_number(0), default=0, help="seed of the weights and the batch order (0)")
    parser.add_argument("--no-progress", action="store_true", help="print one line per epoch instead of a bar")
    parser.add_argument(
        "--blas-threads", type=whole_number(0), default=1, help="BLAS threads (1; 0: the library's default)"
    )


def prepare_output_folder(parser: argparse.ArgumentParser, folder: Path, names: Iterable[str] = ()) -> None:
    """Before any training: create ``folder`` and check that files ``names`` can be written into it.

    Anything in the way (``folder`` is a file, cannot be created or written to, or one of
    ``names`` exists there as a folder) is a one-line usage error (exit code 2) naming ``--out``.
    """
    try:
        if folder.exists() and not folder.is_dir():
            parser.error(f"--out {folder} is a file; give a folder for the output")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".autograd-lite-probe-"):
            pass  # a file can be created (and is removed again)
        for name in names:
            target = folder / name
            if target.exists() and not target.is_file():
                parser.error(f"--out {folder}: {target} exists and is not a file; move it away or give another folder")
    except OSError as error:
        parser.error(f"--out {folder}: cannot write there ({error.strerror or error}); give a writable folder")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary name in ``path``'s folder to write to; renamed to ``path`` when the block succeeds.

    If anything fails (a full disk, Ctrl-C), the temporary file is removed and ``path`` is left
    as it was: a reader never sees a half-written file. An ``OSError`` is raised again with
    ``path`` as its filename. The new file gets the mode an existing ``path`` had, else the
    usual ``0o666 & ~umask``.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o7777 if path.is_file() else 0o666 & ~_umask()
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=f".tmp{path.suffix}")
        os.close(handle)
    except OSError as error:
        raise OSError(error.errno, error.strerror or str(error), str(path)) from error
    try:
        yield Path(name)
        os.chmod(name, mode)
        os.replace(name, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(name)
        if isinstance(error, OSError):
            raise OSError(error.errno, error.strerror or str(error), str(path)) from error
        raise


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_error(command: str, error: OSError) -> str:
    """The one line saying that writing an output file failed, e.g. on a full disk, and what to do."""
    reason = error.strerror or str(error)
    where = f" {error.filename}" if error.filename else ""
    return f"{command}: cannot write{where} ({reason}); free some space or give another --out"


def require_positive(parser: argparse.ArgumentParser, **counts: int | None) -> None:
    """Stop with a usage error (exit 2) if a given count, such as ``epochs=0``, is below 1."""
    for name, value in counts.items():
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def learning_curves(history: nn.History) -> dict[str, list[float]]:
    """The four curves :func:`nn.apps.figures.plot_curves` draws, taken from a :func:`train_classifier` History."""
    return {
        "train_loss": history["loss"],
        "val_loss": history["val_loss"],
        "train_accuracy": history["accuracy"],
        "val_accuracy": history["val_accuracy"],
    }


def train_classifier(
    model: nn.Module,
    optimizer: nn.optim.Optimizer,
    data: tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    epochs: int,
    batch_size: int,
    seed: int,
    progress: bool = True,
    max_iterations: int | None = None,
    report: Callable[[str], None] = print,
    scheduler: nn.lr_scheduler.LRScheduler | nn.lr_scheduler.ReduceLROnPlateau | None = None,
    compile: bool = False,
) -> nn.History:
    """:func:`nn.fit` with softmax cross-entropy, accuracy and the held-out set scored after each epoch.

    History keys: ``loss`` and ``accuracy`` (averaged over the epoch's batches, measured while
    the weights change) and ``val_loss`` / ``val_accuracy`` on the held-out set. Without a
    progress bar, one line per epoch goes to ``report``. ``scheduler`` and ``compile`` are passed on to fit.
    """
    (x_train, y_train), held_out = data

    def report_epoch(epoch: int, record: dict[str, float]) -> None:
        report(
            f"epoch {epoch}/{epochs}: loss {record['loss']:.4f}, accuracy {record['accuracy']:.3f}, "
            f"held-out loss {record['val_loss']:.4f}, held-out accuracy {record['val_accuracy']:.3f}"
        )

    return nn.fit(
        model,
        nn.softmax_cross_entropy,
        optimizer,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation=held_out,
        metrics=["accuracy"],
        seed=seed,
        progress=progress,
        max_iterations=max_iterations,
        on_epoch=None if progress else report_epoch,
        scheduler=scheduler,
        compile=compile,
    )
