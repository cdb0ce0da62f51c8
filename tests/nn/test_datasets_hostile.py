"""nn.datasets against hostile IDX files: decompression bombs, absurd headers, FIFOs and devices, empty sets.

Bombs are tested by their headers and declared sizes; where memory matters, the read runs in a
subprocess under ``resource.setrlimit(RLIMIT_AS)``, so a regression fails instead of eating the machine.
Every case checks the exception type and its one-line message naming the file.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from nn import datasets
from nn.datasets import MNIST_FILES, load_mnist, read_idx

ROOT = Path(__file__).resolve().parents[2]
GIB = 2**30
MIB = 2**20
LINUX = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc/self/statm are Linux's")


def header(shape: tuple[int, ...], type_code: int = 0x08) -> bytes:
    """An IDX header declaring ``shape`` (uint8 unless ``type_code`` says otherwise)."""
    return bytes([0, 0, type_code, len(shape)]) + np.asarray(shape, dtype=">u4").tobytes()


@functools.cache
def zeros_member(size: int) -> bytes:
    """One gzip member inflating to ``size`` zero bytes (about a thousandth of that compressed)."""
    return gzip.compress(bytes(size), compresslevel=9, mtime=0)


def zeros_bomb(path: Path, head: bytes, data_bytes: int) -> Path:
    """A .gz of ``head`` and ``data_bytes`` zeros, built from repeated members (gzip allows many) in milliseconds."""
    member = 16 * MIB
    count, rest = divmod(data_bytes, member)
    with path.open("wb") as stream:
        stream.write(gzip.compress(head, mtime=0))
        for _ in range(count):
            stream.write(zeros_member(member))
        if rest:
            stream.write(zeros_member(rest))
    return path


LIMITED_READ = """
import json, resource, sys
def peak_kib():  # VmHWM: this process's own peak (ru_maxrss would include the parent's size at fork)
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1])
from nn.datasets import read_idx
size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
limit = size + int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
before = peak_kib()
try:
    array = read_idx(sys.argv[1], **json.loads(sys.argv[3]))
    outcome = {"type": None, "shape": list(array.shape), "sum": int(array.sum())}
except BaseException as error:
    outcome = {"type": type(error).__name__, "message": str(error)}
outcome["grew_kib"] = peak_kib() - before
print(json.dumps(outcome))
"""


def read_limited(path: Path, headroom: int, **kwargs: object) -> dict:
    """read_idx(path, **kwargs) in a subprocess allowed ``headroom`` more bytes of address space than at start."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_READ, str(path), str(headroom), json.dumps(kwargs)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_line(message: str) -> str:
    assert "\n" not in message and "Traceback" not in message, message
    return message


# ----- the declared size is checked against a limit the user can raise, before any data is read ---------------


@LINUX
def test_a_small_gz_declaring_2_gib_of_zeros_is_refused_before_inflating(tmp_path):
    # The bomb: about 2 MB of gzip that really inflates to 2 GiB of zeros (4.1 GB of memory before).
    path = zeros_bomb(tmp_path / "bomb-images.idx.gz", header((2 * 2**15, 2**15)), 2 * GIB)
    assert path.stat().st_size < 4 * MIB
    outcome = read_limited(path, headroom=512 * MIB)
    assert outcome["type"] == "ValueError", outcome
    assert one_line(outcome["message"]).startswith(f"read_idx: {path} declares ")
    assert f"{2 * GIB:,} data bytes, more than the limit of {datasets.IDX_MAX_BYTES:,}" in outcome["message"]
    assert "max_bytes=" in outcome["message"] and "IDX_MAX_BYTES" in outcome["message"]
    assert outcome["grew_kib"] < 16 * 1024, f"refusing the header took {outcome['grew_kib']:,} KiB"


@LINUX
def test_a_50_byte_gz_declaring_3_gib_is_a_too_large_file_not_a_bare_memory_error(tmp_path):
    path = tmp_path / "tiny.idx.gz"
    path.write_bytes(gzip.compress(header((3, GIB)), mtime=0))
    assert path.stat().st_size < 60
    outcome = read_limited(path, headroom=1 * GIB)
    assert outcome["type"] == "ValueError", outcome
    message = one_line(outcome["message"])
    assert message.startswith(f"read_idx: {path} is corrupt or truncated: its header declares dimensions (3, {GIB})")
    assert f"a gzip file of {path.stat().st_size} bytes inflates to at most" in message
    assert outcome["grew_kib"] < 16 * 1024


@LINUX
def test_a_tiny_gz_that_cannot_inflate_to_its_declared_size_is_corrupt_under_a_raised_limit_too(tmp_path):
    # Deflate's best is 1032 to 1: no limit makes 50 bytes inflate to 3 GiB.
    path = tmp_path / "tiny.idx.gz"
    path.write_bytes(gzip.compress(header((3, GIB)), mtime=0))
    outcome = read_limited(path, headroom=1 * GIB, max_bytes=4 * GIB)
    assert outcome["type"] == "ValueError", outcome
    message = one_line(outcome["message"])
    assert message.startswith(f"read_idx: {path} is corrupt or truncated: its header declares dimensions (3, {GIB})")
    assert f"a gzip file of {path.stat().st_size} bytes inflates to at most" in message
    assert outcome["grew_kib"] < 16 * 1024


@LINUX
def test_a_sparse_plain_file_over_the_limit_is_refused_before_reading(tmp_path):
    # A plain file really as long as its header says (a sparse 2 GiB file: no disk space used).
    path = tmp_path / "sparse.idx"
    path.write_bytes(header((2 * GIB,)))
    os.truncate(path, 8 + 2 * GIB)
    outcome = read_limited(path, headroom=512 * MIB)
    assert outcome["type"] == "ValueError", outcome
    assert one_line(outcome["message"]).startswith(f"read_idx: {path} declares dimensions ({2 * GIB},) of uint8")
    assert "more than the limit" in outcome["message"]
    assert outcome["grew_kib"] < 16 * 1024


@LINUX
def test_a_plausible_file_too_big_for_the_memory_left_names_the_file(tmp_path):
    # 256 MiB of zeros in a 260 KB gzip: within the limit and deflate's ratio, but not within 128 MiB of memory.
    path = zeros_bomb(tmp_path / "big.idx.gz", header((256, MIB)), 256 * MIB)
    outcome = read_limited(path, headroom=128 * MIB)
    assert outcome["type"] == "MemoryError", outcome
    message = one_line(outcome["message"])
    assert message.startswith(f"read_idx: not enough memory to read {path}: its header declares dimensions")
    assert f"{256 * MIB:,} data bytes" in message


@LINUX
def test_a_bomb_at_the_limit_takes_the_array_and_no_second_copy(tmp_path):
    # 256 MiB of zeros, accepted with max_bytes raised to exactly that: memory is the array plus small buffers.
    path = zeros_bomb(tmp_path / "zeros.idx.gz", header((256, MIB)), 256 * MIB)
    outcome = read_limited(path, headroom=400 * MIB, max_bytes=256 * MIB)
    assert outcome["type"] is None, outcome
    assert outcome["shape"] == [256, MIB] and outcome["sum"] == 0
    assert outcome["grew_kib"] < (256 + 32) * 1024, f"reading 256 MiB took {outcome['grew_kib']:,} KiB"


def test_reading_makes_no_second_copy_of_the_data(tmp_path):
    # Before: the whole payload as bytes, then a converted copy (twice the data). Now: read into the final array.
    for name, content in [
        ("plain.idx", header((64, MIB)) + bytes(64 * MIB)),
        ("packed.idx.gz", None),
    ]:
        path = tmp_path / name
        if content is None:
            zeros_bomb(path, header((64, MIB)), 64 * MIB)
        else:
            path.write_bytes(content)
        del content
        tracemalloc.start()
        try:
            array = read_idx(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert array.shape == (64, MIB) and array.flags.writeable and not array.any()
        assert peak < 72 * MIB, f"{name}: reading 64 MiB took {peak:,} bytes"
        del array


@pytest.mark.parametrize("compress", [False, True])
def test_multi_byte_values_come_out_right_across_read_chunks(tmp_path, compress):
    values = (np.arange(5 * 421_901, dtype=np.int32) - 2**20).reshape(-1, 5)  # 8 MB, not a multiple of a chunk
    content = header(values.shape, 0x0C) + values.astype(">i4").tobytes()
    path = tmp_path / "values.idx"
    path.write_bytes(gzip.compress(content, compresslevel=1) if compress else content)
    array = read_idx(path)
    assert array.dtype == np.int32 and array.dtype.isnative
    np.testing.assert_array_equal(array, values)


def test_the_limit_is_a_parameter_and_a_module_constant(tmp_path, monkeypatch):
    path = tmp_path / "hundred.idx"
    path.write_bytes(header((10, 10)) + bytes(range(100)))
    assert read_idx(path, max_bytes=100).shape == (10, 10)
    with pytest.raises(ValueError, match=r"hundred\.idx declares dimensions \(10, 10\) of uint8, 100 data bytes, "):
        read_idx(path, max_bytes=99)
    monkeypatch.setattr(datasets, "IDX_MAX_BYTES", 99)
    with pytest.raises(ValueError, match=r"more than the limit of 99 "):
        read_idx(path)
    assert read_idx(path, max_bytes=100).shape == (10, 10)
    for bad in (-1, 1.5, True, "100"):
        with pytest.raises((TypeError, ValueError), match=r"read_idx: max_bytes must be"):
            read_idx(path, max_bytes=bad)


def test_load_mnist_passes_its_limit_to_every_file(tmp_path):
    write_mnist(tmp_path, train=3, test=2)
    (x_train, _), (x_test, _) = load_mnist(tmp_path, max_bytes=3 * 784)
    assert len(x_train) == 3 and len(x_test) == 2
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte declares .* more than the limit of 2,351"):
        load_mnist(tmp_path, max_bytes=3 * 784 - 1)


# ----- corrupt gzip files always fail as the documented ValueError naming the file ---------------------------


def test_every_single_bit_flip_and_truncation_of_a_gz_fails_cleanly_or_reads_the_same(tmp_path):
    original = np.arange(48, dtype=np.uint8).reshape(3, 4, 4)
    packed = gzip.compress(header(original.shape) + original.tobytes(), mtime=0)
    path = tmp_path / "flipped.idx.gz"
    variants = [packed[:length] for length in range(len(packed))]
    for bit in range(8 * len(packed)):
        flipped = bytearray(packed)
        flipped[bit // 8] ^= 1 << (bit % 8)
        variants.append(bytes(flipped))
    outcomes = {"same": 0, "refused": 0}
    for content in variants:
        path.write_bytes(content)
        try:
            array = read_idx(path)
        except (ValueError, OSError) as error:
            assert str(path) in one_line(str(error)), error
            outcomes["refused"] += 1
        else:  # a flip in the gzip header's time stamp or OS byte changes nothing the CRC guards
            np.testing.assert_array_equal(array, original)
            outcomes["same"] += 1
    assert outcomes["refused"] > 0.8 * len(variants), outcomes


# ----- FIFOs, devices, directories: refused at once --------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.idx"
    os.mkfifo(fifo)
    code = (
        "import sys\nfrom nn.datasets import read_idx\n"
        "try:\n    read_idx(sys.argv[1])\nexcept OSError as error:\n    print(type(error).__name__, error)\n"
    )
    try:  # in a subprocess with a timeout: a regression fails here instead of hanging the suite
        done = subprocess.run(
            [sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, cwd=ROOT, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail("read_idx waits forever on a named pipe")
    assert done.returncode == 0, done.stderr
    assert one_line(done.stdout.strip()) == (
        f"OSError read_idx: cannot read {fifo}: it is a named pipe (FIFO), not a regular file"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(device):
    with pytest.raises(OSError) as caught:
        read_idx(device)
    assert one_line(str(caught.value)) == (
        f"read_idx: cannot read {device}: it is a character device, not a regular file"
    )


def test_a_directory_is_refused_and_a_symlink_to_a_file_is_read(tmp_path):
    (tmp_path / "folder.idx").mkdir()
    with pytest.raises(OSError, match=r"cannot read .*folder\.idx: it is a directory, not a regular file$"):
        read_idx(tmp_path / "folder.idx")
    (tmp_path / "real.idx").write_bytes(header((2,)) + b"\x01\x02")
    (tmp_path / "link.idx").symlink_to(tmp_path / "real.idx")
    assert read_idx(tmp_path / "link.idx").tolist() == [1, 2]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_load_mnist_names_a_pipe_in_place_of_an_mnist_file(tmp_path):
    write_mnist(tmp_path, train=3, test=2)
    (tmp_path / MNIST_FILES["test_labels"]).unlink()
    os.mkfifo(tmp_path / MNIST_FILES["test_labels"])
    with pytest.raises(OSError, match=r"t10k-labels-idx1-ubyte: it is a named pipe \(FIFO\), not a regular file$"):
        load_mnist(tmp_path)


# ----- a set with no images says so --------------------------------------------------------------------------


def write_mnist(directory: Path, train: int, test: int) -> None:
    """The four MNIST files in ``directory`` with ``train`` and ``test`` zero images and labels."""
    for split, count in (("train", train), ("test", test)):
        images = directory / MNIST_FILES[f"{split}_images"]
        images.write_bytes(header((count, 28, 28)) + bytes(count * 784))
        (directory / MNIST_FILES[f"{split}_labels"]).write_bytes(header((count,)) + bytes(count))


@pytest.mark.parametrize("empty", ["train", "test"])
def test_load_mnist_says_a_file_holds_no_images(tmp_path, empty):
    write_mnist(tmp_path, train=0 if empty == "train" else 3, test=0 if empty == "test" else 2)
    path = tmp_path / MNIST_FILES[f"{empty}_images"]
    with pytest.raises(ValueError) as caught:
        load_mnist(tmp_path)
    split = {"train": "training", "test": "test"}[empty]
    assert one_line(str(caught.value)) == (
        f"load_mnist: {path} holds no images (its header declares 0 images of 28 x 28); the {split} set "
        f"needs at least one (the full MNIST files hold 60,000 training and 10,000 test images)"
    )
