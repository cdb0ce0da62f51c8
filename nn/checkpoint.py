"""Safe checkpoints: atomic ``.npz`` writes and all-or-nothing, pickle-free loads.

A checkpoint is an ordinary ``.npz`` file (readable with ``np.load``): one array per
parameter under its dotted name, plus the optimizer's state under keys starting with
``optimizer.`` when one is saved alongside.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.module import Module, validated_assignments
from nn.optim import Optimizer

OPTIMIZER_PREFIX = "optimizer."


def save(
    model_or_state: Module | Mapping[str, Any], path: str | os.PathLike[str], optimizer: Optimizer | None = None
) -> None:
    """Write the parameters (a Module or a state dict), and optionally an optimizer's state, to ``path``.

    Atomic: the data goes to a temporary file in the same directory, which then replaces
    ``path`` in one step, so a crash mid-save leaves any previous checkpoint intact.
    """
    path = Path(path)
    if isinstance(model_or_state, Module):
        state = model_or_state.state_dict()
    elif isinstance(model_or_state, Mapping):
        state = {
            str(key): np.asarray(value.data if isinstance(value, ag.Tensor) else value)
            for key, value in model_or_state.items()
        }
    else:
        raise TypeError(f"nn.save: expected an nn.Module or a state dict, got {type(model_or_state).__name__}")
    arrays = dict(state)
    if optimizer is not None:
        clashing = [key for key in state if key.startswith(OPTIMIZER_PREFIX)]
        if clashing:
            raise ValueError(
                f"nn.save: parameter name(s) {clashing[:3]} start with {OPTIMIZER_PREFIX!r}, which is reserved"
            )
        arrays.update({OPTIMIZER_PREFIX + key: value for key, value in optimizer.state_dict().items()})
    for key, value in arrays.items():
        if value.dtype.hasobject:
            raise TypeError(f"nn.save: {key!r} is an object array; only numeric arrays can be saved (no pickle)")

    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"nn.save: cannot write {path}: the directory {directory} does not exist")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    # mkstemp makes the file private (0600); give it the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        with os.fdopen(descriptor, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename makes them the checkpoint
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """The .npz layout of np.savez (one .npy per key in a zip), with pickling disabled and any key allowed."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, value in arrays.items():
            with archive.open(key + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def read(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array in the checkpoint at ``path``, read fully, refusing pickled (object) arrays."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"nn.load: {path} does not exist")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        # NumPy suggests allow_pickle=True for unrecognised bytes: exactly what must not be done here.
        reason = "unrecognised content" if "pickle" in str(error) else str(error)
        raise ValueError(
            f"nn.load: {path} is not an .npz checkpoint, or it is corrupt or truncated ({reason})"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"nn.load: {path} holds a single array, not a checkpoint of named arrays (.npz)")
    with archive:
        try:
            return {key: archive[key] for key in archive.files}
        except ValueError as error:
            if "allow_pickle" in str(error) or "Object arrays" in str(error):
                raise ValueError(
                    f"nn.load: {path} contains a pickled object array; refusing to load it (unpickling can run "
                    f"arbitrary code). Checkpoints written by nn.save contain numeric arrays only"
                ) from None
            raise ValueError(f"nn.load: {path} is not a valid checkpoint: {error}") from None
        except (OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
            raise ValueError(f"nn.load: {path} is corrupt or truncated ({type(error).__name__}: {error})") from None


def load(
    model: Module, path: str | os.PathLike[str], optimizer: Optimizer | None = None, strict: bool = True
) -> Module:
    """Load parameters (and the optimizer's state, if given) from ``path`` into ``model``; return the model.

    All or nothing: a missing key, an unexpected key (when ``strict``), a shape or dtype
    mismatch, or a corrupt file raises before anything changes.
    """
    if not isinstance(model, Module):
        raise TypeError(f"nn.load: expected an nn.Module to load into, got {type(model).__name__}")
    arrays = read(path)
    model_state = {key: value for key, value in arrays.items() if not key.startswith(OPTIMIZER_PREFIX)}
    try:
        assignments = validated_assignments(model, model_state, strict, "nn.load")
    except ValueError as error:
        raise ValueError(f"{error} (checkpoint {path})") from None
    apply_optimizer = None
    if optimizer is not None:
        optimizer_state = {
            key[len(OPTIMIZER_PREFIX) :]: value for key, value in arrays.items() if key.startswith(OPTIMIZER_PREFIX)
        }
        if not optimizer_state:
            raise ValueError(
                f"nn.load: {path} holds no optimizer state; save it with nn.save(model, path, optimizer=opt)"
            )
        apply_optimizer = optimizer.validated_state(optimizer_state, "nn.load (optimizer)")
    # Everything is validated: from here on nothing can fail half way.
    for parameter, values in assignments:
        parameter.data = values
    if apply_optimizer is not None:
        apply_optimizer()
    return model
