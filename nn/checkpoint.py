"""Safe checkpoints: atomic ``.npz`` writes and all-or-nothing, pickle-free, bounded loads.

A checkpoint is an ordinary ``.npz`` file (readable with ``np.load``): one array per
parameter and persistent buffer (running statistics) under its dotted name, plus the
optimizer's state under keys starting with ``optimizer.`` when one is saved alongside.

Loading reads every member's ``.npy`` header (name, shape, dtype) first and inflates only
the members the model (and optimizer) can use, each bounded by what it needs, so a small
file declaring gigabytes is refused before any of them is allocated.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import hashlib
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.module import Module, state_tensors, validated_assignments
from nn.optim import Optimizer

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: open files cannot be deleted there anyway
    fcntl = None  # type: ignore[assignment]

OPTIMIZER_PREFIX = "optimizer."
#: The longest .npy header read (NumPy's own default limit for untrusted files).
MAX_HEADER_BYTES = 10_000
#: Deflate cannot expand data more than about 1032 times; a member claiming more is corrupt.
DEFLATE_MAX_RATIO = 1032
#: The largest element (itemsize) of an array whose shape or dtype is only reported, never read.
MAX_ITEMSIZE = 1 << 16
#: An optimizer's hyperparameters, step counts and kind are single numbers or short strings.
MAX_SCALAR_BYTES = 256

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_TOKEN = r"[a-z0-9_]{8}\.tmp"  # the random part of a temporary file's name (also tempfile.mkstemp's)
# What a corrupt file can raise from zipfile, zlib, struct, ast and NumPy's header parsing.
_CORRUPT = (ValueError, OSError, EOFError, zipfile.BadZipFile, RuntimeError, NotImplementedError, KeyError,
            IndexError, TypeError, OverflowError, struct.error, zlib.error, SyntaxError)  # fmt: skip


# ----- saving -----------------------------------------------------------------------------
def save(
    model_or_state: Module | Mapping[str, Any], path: str | os.PathLike[str], optimizer: Optimizer | None = None
) -> None:
    """Write the parameters and buffers (a Module or a state dict), and optionally an optimizer's state, to ``path``.

    Atomic and durable: the data goes to a temporary file in the same directory, is flushed
    to disk, replaces ``path`` in one step, and the directory is flushed too. A crash mid-save
    leaves any previous checkpoint intact; temporary files that a killed save left behind are
    removed by the next save of the same checkpoint. Re-saving keeps the file's permissions.
    """
    path = Path(path)
    arrays = _arrays_to_save(model_or_state, optimizer)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"nn.save: cannot write {path}: the directory {directory} does not exist")
    with _Folder(directory) as folder:
        _remove_stale_temporaries(folder, path.name)
        _write_atomically(folder, path.name, arrays)


def _arrays_to_save(model_or_state: Module | Mapping[str, Any], optimizer: Optimizer | None) -> dict[str, np.ndarray]:
    """The named arrays a checkpoint holds, checked (numeric only, no reserved names)."""
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
    return arrays


class _Folder:
    """A directory, addressed through a descriptor where the platform allows it.

    Names are then resolved relative to the descriptor, so a temporary name never makes a
    valid path too long, and the same descriptor is what gets fsynced after the rename.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        if os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd:
            with contextlib.suppress(OSError):
                self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)

    def __enter__(self) -> _Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)

    def _at(self, name: str) -> tuple[str, dict[str, int]]:
        return (name, {"dir_fd": self.fd}) if self.fd is not None else (os.path.join(self.path, name), {})

    def open(self, name: str, flags: int, mode: int = 0o666) -> int:
        where, dir_fd = self._at(name)
        return os.open(where, flags | _CLOEXEC, mode, **dir_fd)

    def stat(self, name: str) -> os.stat_result:
        where, dir_fd = self._at(name)
        return os.stat(where, **dir_fd)

    def unlink(self, name: str) -> None:
        where, dir_fd = self._at(name)
        os.unlink(where, **dir_fd)

    def replace(self, source: str, target: str) -> None:
        if self.fd is None:
            os.replace(os.path.join(self.path, source), os.path.join(self.path, target))
        else:
            os.replace(source, target, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def names(self) -> list[str]:
        return os.listdir(self.fd if self.fd is not None else self.path)

    def name_max(self) -> int:
        """The file-system's limit on the length of one name, in bytes (255 when it does not say)."""
        try:
            limit = os.pathconf(self.fd if self.fd is not None else self.path, "PC_NAME_MAX")
        except (OSError, ValueError):
            limit = 255
        return limit if 32 <= limit <= 4096 else 255

    def holds(self, name: str, descriptor: int) -> bool:
        """Whether ``name`` still is the file open at ``descriptor``."""
        try:
            here, there = self.stat(name), os.fstat(descriptor)
        except FileNotFoundError:
            return False
        return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)

    def fsync(self) -> None:
        """Make the rename durable (as SQLite and PostgreSQL do); skipped where directories cannot be synced."""
        if self.fd is None:
            return
        try:
            os.fsync(self.fd)
        except OSError as error:
            if error.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP, errno.EACCES, errno.EPERM):
                raise


def _temporary_prefix(name: str, name_max: int) -> str:
    """``.<name>.`` or, when that would make the temporary name too long, a shortened name and its hash."""
    prefix = f".{name}."
    if len(os.fsencode(prefix)) + 12 <= name_max:  # 12: eight random characters and ".tmp"
        return prefix
    digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
    stem = name
    while stem and len(os.fsencode(f".{stem}~{digest}.")) + 12 > name_max:
        stem = stem[:-1]
    return f".{stem}~{digest}."


def _lock(descriptor: int, wait: bool) -> bool:
    """Take an exclusive advisory lock on an open file: a save holds it on its temporary file until done."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def _remove_stale_temporaries(folder: _Folder, name: str) -> None:
    """Delete the temporary files of this checkpoint that no running save holds (left by a killed save)."""
    pattern = re.compile(re.escape(_temporary_prefix(name, folder.name_max())) + _TOKEN)
    try:
        candidates = [candidate for candidate in folder.names() if pattern.fullmatch(candidate)]
    except OSError:
        return
    for candidate in candidates:
        with contextlib.suppress(OSError):
            descriptor = folder.open(candidate, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
            try:
                stale = stat.S_ISREG(os.fstat(descriptor).st_mode) and _lock(descriptor, wait=False)
                if stale and folder.holds(candidate, descriptor):
                    folder.unlink(candidate)
            finally:
                os.close(descriptor)


def _create_temporary(folder: _Folder, name: str) -> tuple[str, int]:
    """A new, locked temporary file next to ``name`` (permissions 0o666 & ~umask, as open() gives)."""
    prefix = _temporary_prefix(name, folder.name_max())
    for _ in range(100):
        temporary = f"{prefix}{secrets.token_hex(4)}.tmp"
        try:
            descriptor = folder.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
        except FileExistsError:
            continue
        # Another save's clean-up may have removed the name before the lock was taken: then try again.
        if _lock(descriptor, wait=True) and folder.holds(temporary, descriptor):
            return temporary, descriptor
        os.close(descriptor)
    raise FileExistsError(f"nn.save: could not create a temporary file for {name} in {folder.path}")


def _write_atomically(folder: _Folder, name: str, arrays: dict[str, np.ndarray]) -> None:
    """Write to a temporary file, flush it, rename it over ``name``, flush the directory."""
    try:
        existing = folder.stat(name)
        mode = stat.S_IMODE(existing.st_mode) & 0o777 if stat.S_ISREG(existing.st_mode) else None
    except OSError:
        mode = None
    temporary, descriptor = _create_temporary(folder, name)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), mode)  # re-saving keeps the checkpoint's permissions
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename makes them the checkpoint
            folder.replace(temporary, name)
        folder.fsync()  # ... and the rename itself survives a power cut
    except BaseException:
        with contextlib.suppress(OSError):  # gone already when only the directory's fsync failed
            folder.unlink(temporary)
        raise


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """The .npz layout of np.savez (one .npy per key in a zip), with pickling disabled and any key allowed."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for key, value in arrays.items():
            with archive.open(key + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


# ----- reading the headers ----------------------------------------------------------------
@dataclass(frozen=True)
class _Member:
    """One array of a checkpoint as its headers declare it (nothing of its data read yet)."""

    info: zipfile.ZipInfo
    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _open_regular_file(path: Path) -> Any:
    """``path`` opened for reading; anything but a regular file (a FIFO, a device) is refused without reading."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISREG(mode):  # O_NONBLOCK: should it be swapped for a FIFO now, opening it does not hang
            descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC | getattr(os, "O_BINARY", 0))
            mode = os.fstat(descriptor).st_mode
            if stat.S_ISREG(mode):
                return os.fdopen(descriptor, "rb")
            os.close(descriptor)
    except FileNotFoundError:
        raise FileNotFoundError(f"nn.load: {path} does not exist") from None
    except OSError as error:
        raise type(error)(f"nn.load: cannot read {path}: {error.strerror or error}") from None
    kinds = {stat.S_ISFIFO: "a named pipe (FIFO)", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block "
             "device", stat.S_ISDIR: "a directory", stat.S_ISSOCK: "a socket"}  # fmt: skip
    kind = next((text for test, text in kinds.items() if test(mode)), "not a regular file")
    raise ValueError(f"nn.load: {path} is {kind}; a checkpoint must be a regular .npz file")


def _open_archive(path: Path, file: Any) -> zipfile.ZipFile:
    """The zip archive in ``file``; a single .npy array or anything else is refused with a ValueError."""
    start = file.read(6)
    file.seek(0)
    if start == b"\x93NUMPY":
        raise ValueError(f"nn.load: {path} holds a single array, not a checkpoint of named arrays (.npz)")
    try:
        return zipfile.ZipFile(file)
    except _CORRUPT as error:
        reason = str(error) if start.startswith(b"PK") else "unrecognised content"
        raise ValueError(
            f"nn.load: {path} is not an .npz checkpoint, or it is corrupt or truncated ({reason})"
        ) from None


def _entry_problem(info: zipfile.ZipInfo, file_size: int) -> str | None:
    """What makes a zip entry unreadable or impossible, judged from the zip's directory alone."""
    if info.flag_bits & 0x1:
        return "is encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return f"uses compression method {info.compress_type} (only stored and deflated members are read)"
    if info.header_offset + 30 + info.compress_size > file_size:
        return "claims more bytes than the file holds"
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        return "has inconsistent sizes"
    if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 1024:
        return f"claims {info.file_size:,} bytes from {info.compress_size:,}, more than deflate can produce"
    if not info.filename.endswith(".npy"):
        return "is not a .npy array"
    return None


def _parse_npy_header(stream: Any) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and header length of the .npy array starting in ``stream`` (reads only the header)."""
    start = stream.read(8)
    if len(start) < 8 or start[:6] != b"\x93NUMPY":
        raise ValueError("it is not a .npy array")
    if start[6] not in (1, 2, 3):
        raise ValueError(f"unsupported .npy format version {start[6]}.{start[7]}")
    width = 2 if start[6] == 1 else 4
    length = int.from_bytes(stream.read(width).ljust(width, b"\xff"), "little")
    if length > MAX_HEADER_BYTES:
        raise ValueError(f"its .npy header is {length:,} bytes long (at most {MAX_HEADER_BYTES:,} are read)")
    text = stream.read(length)
    if len(text) != length:
        raise EOFError("the .npy header is cut short")
    header = ast.literal_eval(text.decode("utf8" if start[6] == 3 else "latin1"))
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError("its .npy header is malformed")
    shape, fortran_order = header["shape"], header["fortran_order"]
    valid_shape = isinstance(shape, tuple) and all(type(size) is int and size >= 0 for size in shape)
    if not valid_shape or not isinstance(fortran_order, bool) or math.prod(shape) > 2**48:
        raise ValueError(f"its .npy header declares an impossible shape or order: {header!r:.200}")
    dtype = np.lib.format.descr_to_dtype(header["descr"])
    return shape, dtype, 8 + width + length


def _scan(path: Path, archive: zipfile.ZipFile, file_size: int) -> dict[str, _Member]:
    """Every member's declared name, shape and dtype, checked against the zip's sizes; nothing inflated."""
    members: dict[str, _Member] = {}
    for info in archive.infolist():
        key = info.filename[: -len(".npy")]
        problem = _entry_problem(info, file_size) or ("appears twice" if key in members else None)
        if problem is None:
            try:
                with archive.open(info) as stream:
                    shape, dtype, header_size = _parse_npy_header(stream)
            except (*_CORRUPT, MemoryError, RecursionError) as error:
                raise ValueError(
                    f"nn.load: {path} is corrupt or truncated (member {info.filename!r}: {type(error).__name__}: "
                    f"{error})"
                ) from None
        if problem is not None:
            raise ValueError(f"nn.load: {path} is corrupt or not a checkpoint: member {info.filename!r} {problem}")
        if dtype.hasobject:
            raise ValueError(
                f"nn.load: {path} contains a pickled object array; refusing to load it (unpickling can run "
                f"arbitrary code). Checkpoints written by nn.save contain numeric arrays only"
            )
        member = _Member(info, shape, dtype)
        if header_size + member.nbytes != info.file_size:
            raise ValueError(
                f"nn.load: {path} is corrupt or not a checkpoint: member {info.filename!r} declares {shape} "
                f"{dtype} ({member.nbytes:,} bytes) but its zip entry holds {info.file_size - header_size:,}"
            )
        members[key] = member
    return members


@contextlib.contextmanager
def _open_checkpoint(path: Path) -> Iterator[tuple[zipfile.ZipFile, dict[str, _Member]]]:
    """The checkpoint's archive and its members' declared shapes and dtypes, checked before any data is read."""
    with _open_regular_file(path) as file:
        file_size = os.fstat(file.fileno()).st_size
        with _open_archive(path, file) as archive:
            yield archive, _scan(path, archive, file_size)


def _read_arrays(path: Path, archive: zipfile.ZipFile, members: Mapping[str, _Member]) -> dict[str, np.ndarray]:
    """The data of ``members``, each exactly as large as its header declared, CRC checked."""
    arrays = {}
    for key, member in members.items():
        try:
            with archive.open(member.info) as stream:
                arrays[key] = np.lib.format.read_array(stream, allow_pickle=False)
                if stream.read(1):  # also reaches the end, where zipfile checks the CRC
                    raise ValueError("data after the array")
        except _CORRUPT as error:
            raise ValueError(f"nn.load: {path} is corrupt or truncated ({type(error).__name__}: {error})") from None
    return arrays


def _placeholder(path: Path, key: str, member: _Member) -> np.ndarray:
    """An array of the declared shape and dtype that occupies one element: for error messages, never assigned."""
    if member.dtype.itemsize > MAX_ITEMSIZE:
        raise ValueError(
            f"nn.load: {path}: {key!r} declares elements of {member.dtype.itemsize:,} bytes ({member.dtype}); "
            f"no parameter has such a dtype"
        )
    return np.broadcast_to(np.zeros((), dtype=member.dtype), member.shape)


def read(path: str | os.PathLike[str], max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """Every array in the checkpoint at ``path``, read fully, refusing pickled (object) arrays.

    With ``max_bytes``, a checkpoint whose arrays declare more bytes in total is refused
    before anything is inflated. Corrupt files raise ``ValueError`` naming the file.
    """
    path = Path(path)
    with _open_checkpoint(path) as (archive, members):
        total = sum(member.nbytes for member in members.values())
        if max_bytes is not None and total > max_bytes:
            raise ValueError(f"nn.load: {path} declares {total:,} bytes of arrays, more than max_bytes={max_bytes:,}")
        return _read_arrays(path, archive, members)


# ----- loading ----------------------------------------------------------------------------
def _check_model_headers(model: Module, path: Path, members: Mapping[str, _Member], strict: bool) -> None:
    """Names, shapes and dtypes of the model's part of the checkpoint, from the headers alone."""
    parameters = state_tensors(model)
    declared = {key: member for key, member in members.items() if not key.startswith(OPTIMIZER_PREFIX)}
    fits = all(
        key in declared and declared[key].shape == parameter.shape and declared[key].dtype == parameter.dtype
        for key, parameter in parameters.items()
    )
    if fits and (not strict or all(key in parameters for key in declared)):
        return
    stand_ins = {
        key: _placeholder(path, key, member) if key in parameters else None for key, member in declared.items()
    }
    try:
        validated_assignments(model, stand_ins, strict, "nn.load")
    except ValueError as error:
        raise ValueError(f"{error} (checkpoint {path})") from None
    raise ValueError(f"nn.load: {path} does not match the model (checkpoint {path})")  # pragma: no cover


def _optimizer_members(path: Path, members: Mapping[str, _Member], optimizer: Optimizer) -> dict[str, _Member]:
    """The optimizer's part of the checkpoint, each member checked to be as large as the optimizer can use."""
    chosen = {key: member for key, member in members.items() if key.startswith(OPTIMIZER_PREFIX)}
    if not chosen:
        raise ValueError(f"nn.load: {path} holds no optimizer state; save it with nn.save(model, path, optimizer=opt)")
    for key, member in chosen.items():
        slot, _, position = key[len(OPTIMIZER_PREFIX) :].rpartition(".")
        if slot in optimizer.slots and position.isdigit() and int(position[:9]) < len(optimizer.params):
            parameter = optimizer.params[int(position)]
            if (member.shape, member.dtype) != (parameter.shape, parameter.dtype):
                raise ValueError(
                    f"nn.load: {path}: {key!r} has shape {member.shape} and dtype {member.dtype}, but parameter "
                    f"{int(position)} has shape {parameter.shape} and dtype {parameter.dtype}"
                )
        elif member.shape != () or member.dtype.itemsize > MAX_SCALAR_BYTES:
            raise ValueError(
                f"nn.load: {path}: {key!r} has shape {member.shape} and dtype {member.dtype}, but "
                f"{type(optimizer).__name__}'s state holds a single number or name there"
            )
    return chosen


def load(
    model: Module, path: str | os.PathLike[str], optimizer: Optimizer | None = None, strict: bool = True
) -> Module:
    """Load parameters and buffers (and the optimizer's state, if given) from ``path`` into ``model``; return the model.

    All or nothing: a missing key, an unexpected key (when ``strict``), a shape or dtype
    mismatch, or a corrupt file raises before anything changes. Names, shapes and dtypes are
    checked from the file's headers before any array is inflated, and only what the model
    (and optimizer) needs is read: unexpected keys under ``strict=False`` are never inflated.
    """
    if not isinstance(model, Module):
        raise TypeError(f"nn.load: expected an nn.Module to load into, got {type(model).__name__}")
    path = Path(path)
    parameters = state_tensors(model)
    with _open_checkpoint(path) as (archive, members):
        _check_model_headers(model, path, members, strict)
        wanted = {key: members[key] for key in parameters}
        if optimizer is not None:
            wanted.update(_optimizer_members(path, members, optimizer))
        arrays = _read_arrays(path, archive, wanted)
    try:
        assignments = validated_assignments(model, {key: arrays[key] for key in parameters}, strict, "nn.load")
        apply_optimizer = None
        if optimizer is not None:
            optimizer_state = {
                key[len(OPTIMIZER_PREFIX) :]: value for key, value in arrays.items() if key.startswith(OPTIMIZER_PREFIX)
            }
            apply_optimizer = optimizer.validated_state(optimizer_state, "nn.load (optimizer)")
    except ValueError as error:
        raise ValueError(f"{error} (checkpoint {path})") from None
    # Everything is validated: from here on nothing can fail half way.
    for tensor, values in assignments:
        tensor.data = values
    if apply_optimizer is not None:
        apply_optimizer()
    return model
