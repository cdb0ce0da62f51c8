"""Safe checkpoints: atomic ``.npz`` or ``.safetensors`` writes and all-or-nothing, pickle-free, bounded loads.

A checkpoint is an ordinary ``.npz`` file (readable with ``np.load``) or, when the path ends
in ``.safetensors``, a safetensors file (readable with ``safetensors.numpy.load_file`` and by
PyTorch, JAX and inference runtimes; writing it needs the ``safetensors`` extra). Either holds
one array per parameter and persistent buffer (running statistics) under its dotted name, plus
the optimizer's state under keys starting with ``optimizer.`` when one is saved alongside.

Loading reads every member's header (name, shape, dtype) first and reads only the members
the model (and optimizer) can use, each bounded by what it needs, so a small file declaring
gigabytes is refused before any of them is allocated. A safetensors file's metadata records
the project's version, the model's layer layout, the optimizer's name and a CRC-32 of every
array, so a flipped bit in the data is refused as a corrupt ``.npz`` member is.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import hashlib
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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

#: The extension that makes nn.save write a safetensors file.
SAFETENSORS_SUFFIX = ".safetensors"
#: The longest safetensors header read (its JSON: names, shapes, offsets and metadata).
MAX_SAFETENSORS_HEADER = 16 * 2**20
#: safetensors' dtype names and the NumPy dtypes they are (little-endian); BF16 and FP8 have none.
SAFETENSORS_DTYPES = {"BOOL": "|b1", "U8": "|u1", "I8": "|i1", "U16": "<u2", "I16": "<i2", "U32": "<u4",
                      "I32": "<i4", "U64": "<u8", "I64": "<i8", "F16": "<f2", "F32": "<f4", "F64": "<f8",
                      "C64": "<c8"}  # fmt: skip

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

    The extension chooses the format: ``.safetensors`` writes a safetensors file (needs the
    ``safetensors`` package: ``pip install "autograd_lite[safetensors]"``), anything else an ``.npz``.
    """
    path = Path(path)
    arrays = _arrays_to_save(model_or_state, optimizer)
    if path.suffix.lower() == SAFETENSORS_SUFFIX:
        contents = _safetensors_bytes(arrays, _layout(model_or_state))  # every refusal before the disk is touched
        write: Callable[[BinaryIO], Any] = lambda file: file.write(contents)
    else:
        write = lambda file: _write_npz(file, arrays)
    write_atomically(path, write)


def write_atomically(
    path: str | os.PathLike[str], contents: bytes | Callable[[BinaryIO], Any], caller: str = "nn.save"
) -> None:
    """Write ``contents`` (bytes, or a function writing to the open file) to ``path`` as :func:`save` does.

    Atomic and durable: a temporary file in the same directory, flushed, renamed over ``path``,
    the directory flushed; a failure leaves the previous file (and its permissions) intact.
    """
    path = Path(path)
    write = contents if callable(contents) else (lambda file: file.write(contents))
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"{caller}: cannot write {path}: the directory {directory} does not exist")
    with _Folder(directory) as folder:
        _remove_stale_temporaries(folder, path.name)
        _write_atomically(folder, path.name, write)


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

    def _at(self, name: str) -> tuple[str, int | None]:
        """``name`` and the descriptor it is relative to, or its path and None (dir_fd=None: not relative)."""
        return (name, self.fd) if self.fd is not None else (os.path.join(self.path, name), None)

    def open(self, name: str, flags: int, mode: int = 0o666) -> int:
        where, dir_fd = self._at(name)
        return os.open(where, flags | _CLOEXEC, mode, dir_fd=dir_fd)

    def stat(self, name: str) -> os.stat_result:
        where, dir_fd = self._at(name)
        return os.stat(where, dir_fd=dir_fd)

    def unlink(self, name: str) -> None:
        where, dir_fd = self._at(name)
        os.unlink(where, dir_fd=dir_fd)

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


def _write_atomically(folder: _Folder, name: str, write: Callable[[BinaryIO], Any]) -> None:
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
            write(file)
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


def _layout(model_or_state: Module | Mapping[str, Any]) -> dict[str, str] | None:
    """The model's modules by dotted name, as their reprs begin (``Dense(3, 4)``): the metadata's layer layout."""
    if not isinstance(model_or_state, Module):
        return None
    return {name: f"{type(module).__name__}({module.extra_repr()})" for name, module in model_or_state.named_modules()}


def _safetensors_bytes(arrays: Mapping[str, np.ndarray], layout: dict[str, str] | None) -> bytes:
    """The safetensors file of ``arrays``: names (the optimizer's kind) go to the metadata, with CRC-32s and layout."""
    tensors, strings = {}, {}
    for key, value in arrays.items():
        if key == "__metadata__":
            raise ValueError("nn.save: '__metadata__' is reserved in a safetensors file; rename that entry")
        if value.dtype.kind in "US" and value.shape == ():
            strings[key] = str(value)
            continue
        little = value.dtype.newbyteorder("<") if value.dtype.byteorder != "|" else value.dtype
        if little.str not in SAFETENSORS_DTYPES.values():
            raise TypeError(
                f"nn.save: {key!r} has dtype {value.dtype}, which safetensors cannot hold; save to an .npz instead"
            )
        tensors[key] = np.asarray(value, dtype=little, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
    try:
        import safetensors.numpy
    except ImportError:
        raise ModuleNotFoundError(
            "nn.save: writing a .safetensors checkpoint needs the safetensors package: "
            'pip install "autograd_lite[safetensors]" (or save to an .npz)'
        ) from None
    metadata = {"format": "np", "producer": "autograd_lite", "autograd_lite_version": ag.__version__,
                "crc32": json.dumps({key: zlib.crc32(value.data) for key, value in tensors.items()})}  # fmt: skip
    if strings:
        metadata["strings"] = json.dumps(strings)
    if layout is not None:
        metadata["layout"] = json.dumps(layout)
    return safetensors.numpy.save(tensors, metadata=metadata)


# ----- reading the headers ----------------------------------------------------------------
@dataclass(frozen=True)
class _Span:
    """Where a safetensors array lies: its first byte in the file, and the CRC-32 its metadata records."""

    start: int
    crc32: int | None


@dataclass(frozen=True)
class _Member:
    """One array of a checkpoint as its headers declare it (nothing of its data read yet).

    ``source`` says where the data is: a zip entry (.npz), a span of the file (.safetensors),
    or, for a name a safetensors file keeps in its metadata (the optimizer's kind), the text itself.
    """

    shape: tuple[int, ...]
    dtype: np.dtype
    source: zipfile.ZipInfo | _Span | str

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
    raise ValueError(f"nn.load: {path} is {kind}; a checkpoint must be a regular file (.npz or .safetensors)")


def _open_archive(path: Path, file: Any, start: bytes) -> zipfile.ZipFile:
    """The zip archive in ``file``; a single .npy array or anything else is refused with a ValueError."""
    if start.startswith(b"\x93NUMPY"):
        raise ValueError(f"nn.load: {path} holds a single array, not a checkpoint of named arrays (.npz)")
    try:
        return zipfile.ZipFile(file)
    except _CORRUPT as error:
        reason = str(error) if start.startswith(b"PK") else "unrecognised content"
        raise ValueError(
            f"nn.load: {path} is not an .npz or .safetensors checkpoint, or it is corrupt or truncated ({reason})"
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
        member = _Member(shape, dtype, info)
        if header_size + member.nbytes != info.file_size:
            raise ValueError(
                f"nn.load: {path} is corrupt or not a checkpoint: member {info.filename!r} declares {shape} "
                f"{dtype} ({member.nbytes:,} bytes) but its zip entry holds {info.file_size - header_size:,}"
            )
        members[key] = member
    return members


#: Reads the data of the given members of an open checkpoint.
_Reader = Callable[[Mapping[str, _Member]], dict[str, np.ndarray]]


@contextlib.contextmanager
def _open_checkpoint(path: Path) -> Iterator[tuple[_Reader, dict[str, _Member]]]:
    """A reader of the checkpoint's data and its members' declared shapes and dtypes, checked before any is read.

    The content decides the format: a zip is an .npz; a safetensors header (or the extension,
    so that a truncated file gets the safetensors diagnosis) makes it a safetensors file.
    """
    with _open_regular_file(path) as file:
        file_size = os.fstat(file.fileno()).st_size
        start = file.read(9)
        file.seek(0)
        is_zip = start.startswith((b"PK", b"\x93NUMPY"))
        if not is_zip and (start[8:9] == b"{" or path.suffix.lower() == SAFETENSORS_SUFFIX):
            members = _scan_safetensors(path, file, file_size)
            yield (lambda chosen: _read_spans(path, file, chosen)), members
            return
        with _open_archive(path, file, start) as archive:
            yield (lambda chosen: _read_members(path, archive, chosen)), _scan(path, archive, file_size)


def _read_members(path: Path, archive: zipfile.ZipFile, members: Mapping[str, _Member]) -> dict[str, np.ndarray]:
    """The data of ``members`` of an .npz, each exactly as large as its header declared, CRC checked."""
    arrays = {}
    for key, member in members.items():
        assert isinstance(member.source, zipfile.ZipInfo)
        try:
            with archive.open(member.source) as stream:
                arrays[key] = np.lib.format.read_array(stream, allow_pickle=False)
                if stream.read(1):  # also reaches the end, where zipfile checks the CRC
                    raise ValueError("data after the array")
        except _CORRUPT as error:
            raise ValueError(f"nn.load: {path} is corrupt or truncated ({type(error).__name__}: {error})") from None
    return arrays


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict; a name that appears twice is corrupt (JSON would keep the last)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        raise ValueError(f"{next(name for name in names if names.count(name) > 1)!r} appears twice")
    return result


def _safetensors_header(path: Path, file: Any, file_size: int) -> tuple[dict[str, Any], int]:
    """The safetensors header (a JSON object, read only if of bounded length) and where the data begins."""
    start = file.read(8)
    if len(start) < 8:
        raise ValueError(f"nn.load: {path} is truncated: a safetensors file starts with an 8-byte header length")
    length = int.from_bytes(start, "little")
    if length > min(MAX_SAFETENSORS_HEADER, file_size - 8):
        raise ValueError(
            f"nn.load: {path} is corrupt or truncated: its safetensors header claims {length:,} bytes, but "
            f"{max(file_size - 8, 0):,} follow (at most {MAX_SAFETENSORS_HEADER:,} are read)"
        )
    try:
        header = json.loads(file.read(length).decode("utf-8"), object_pairs_hook=_unique_keys)
        if not isinstance(header, dict):
            raise ValueError("it is not a JSON object")
        metadata = header.pop("__metadata__", None) or {}
        if not isinstance(metadata, dict) or not all(isinstance(value, str) for value in metadata.values()):
            raise ValueError("its __metadata__ is not a mapping of names to strings")
        extras = {name: json.loads(metadata.get(name, "{}"), object_pairs_hook=_unique_keys)
                  for name in ("crc32", "strings")}  # fmt: skip
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f"nn.load: {path} is corrupt: its safetensors header is unreadable ({error})") from None
    return {"tensors": header, **extras}, 8 + length


def _safetensors_entry(key: str, entry: Any, crc32s: Mapping[str, Any], data_start: int) -> tuple[_Member, int, int]:
    """One tensor's member and its byte span relative to the data, checked; a ValueError says what is wrong."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ValueError("is not a {dtype, shape, data_offsets} entry")
    dtype, shape, offsets, crc = entry["dtype"], entry["shape"], entry["data_offsets"], crc32s.get(key)
    if dtype not in SAFETENSORS_DTYPES:
        raise ValueError(f"has dtype {str(dtype)[:20]!r}, which NumPy cannot hold (convert it to float32 first)")
    if not isinstance(shape, list) or not all(type(size) is int and size >= 0 for size in shape):
        raise ValueError(f"declares an impossible shape {str(shape)[:80]}")
    valid_offsets = isinstance(offsets, list) and len(offsets) == 2 and all(type(at) is int for at in offsets)
    if not valid_offsets or not 0 <= offsets[0] <= offsets[1] or math.prod(shape) > 2**48:
        raise ValueError(f"declares impossible data offsets {str(offsets)[:80]}")
    if crc is not None and not (type(crc) is int and 0 <= crc < 2**32):
        raise ValueError(f"has an impossible CRC-32 {str(crc)[:20]}")
    native = np.dtype(SAFETENSORS_DTYPES[dtype]).newbyteorder("=")
    member = _Member(tuple(shape), native, _Span(data_start + offsets[0], crc))
    if member.nbytes != offsets[1] - offsets[0]:
        raise ValueError(f"declares {tuple(shape)} {dtype} ({member.nbytes:,} bytes) in {offsets[1] - offsets[0]:,}")
    return member, offsets[0], offsets[1]


def _scan_safetensors(path: Path, file: Any, file_size: int) -> dict[str, _Member]:
    """Every tensor's declared name, shape and dtype, checked to tile the file's data exactly; nothing read."""
    header, data_start = _safetensors_header(path, file, file_size)
    tensors, crc32s, strings = header["tensors"], header["crc32"], header["strings"]
    members: dict[str, _Member] = {}
    spans = []
    for key, entry in tensors.items():
        try:
            member, begin, end = _safetensors_entry(key, entry, crc32s, data_start)
        except ValueError as error:
            raise ValueError(f"nn.load: {path} is corrupt or not a checkpoint: tensor {key!r} {error}") from None
        members[key] = member
        spans.append((begin, end, key))
    covered = 0
    for begin, end, key in sorted(spans):
        if begin != covered:  # the format forbids holes and overlaps: each byte belongs to one tensor
            raise ValueError(f"nn.load: {path} is corrupt: tensor {key!r} starts at {begin:,}, not {covered:,}")
        covered = end
    if data_start + covered != file_size:
        raise ValueError(
            f"nn.load: {path} is corrupt or truncated: its tensors end at byte {data_start + covered:,} of a file "
            f"of {file_size:,} bytes"
        )
    return {**members, **_metadata_members(path, members, crc32s, strings)}


def _metadata_members(path: Path, tensors: Mapping[str, _Member], crc32s: Any, strings: Any) -> dict[str, _Member]:
    """The names kept in the metadata (the optimizer's kind) as members; its CRC-32s must name tensors."""
    if not isinstance(crc32s, dict) or not isinstance(strings, dict):
        raise ValueError(f"nn.load: {path} is corrupt: its crc32 or strings metadata is not a JSON object")
    stray = [key for key in crc32s if key not in tensors] + [key for key in strings if key in tensors]
    if stray or not all(isinstance(text, str) for text in strings.values()):
        raise ValueError(f"nn.load: {path} is corrupt: its metadata names {str(stray[:3])[:200]} inconsistently")
    return {key: _Member((), np.dtype(f"<U{max(len(text), 1)}"), text) for key, text in strings.items()}


def _read_spans(path: Path, file: Any, members: Mapping[str, _Member]) -> dict[str, np.ndarray]:
    """The data of ``members`` of a safetensors file, each exactly as large as declared, CRC checked if recorded."""
    arrays = {}
    for key, member in members.items():
        if isinstance(member.source, str):
            arrays[key] = np.array(member.source)
            continue
        assert isinstance(member.source, _Span)
        buffer = bytearray(member.nbytes)
        file.seek(member.source.start)
        if file.readinto(buffer) != member.nbytes:
            raise ValueError(f"nn.load: {path} is truncated (it changed while it was read)")
        if member.source.crc32 is not None and zlib.crc32(buffer) != member.source.crc32:
            raise ValueError(f"nn.load: {path} is corrupt: the data of {key!r} fails its CRC-32 check")
        little = np.frombuffer(buffer, dtype=member.dtype.newbyteorder("<")).reshape(member.shape)
        arrays[key] = little.astype(member.dtype, copy=False)
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
    with _open_checkpoint(path) as (read_data, members):
        total = sum(member.nbytes for member in members.values())
        if max_bytes is not None and total > max_bytes:
            raise ValueError(f"nn.load: {path} declares {total:,} bytes of arrays, more than max_bytes={max_bytes:,}")
        return read_data(members)


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
    with _open_checkpoint(path) as (read_data, members):
        _check_model_headers(model, path, members, strict)
        wanted = {key: members[key] for key in parameters}
        if optimizer is not None:
            wanted.update(_optimizer_members(path, members, optimizer))
        arrays = read_data(wanted)
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
