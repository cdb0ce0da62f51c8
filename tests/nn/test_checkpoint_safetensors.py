"""nn.save / nn.load with .safetensors files: bit-exact round trips, the readers agree, every corruption refused.

The same promises as the .npz checkpoints (tests/nn/test_checkpoint*.py): atomic writes,
all-or-nothing loads, names, shapes and dtypes checked from the header before any data is
read, only what the model needs is read, and every refusal is a one-line ValueError naming
the file that leaves the model, the optimizer and the directory as they were.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_testing import assert_same_parameters, parameters_snapshot, truncated_and_flipped_outcomes

import autograd_lite as ag
import nn
import nn.checkpoint

safetensors_numpy = pytest.importorskip("safetensors.numpy")
GIB = 2**30


def make_model(seed: int = 0, dtype: Any = np.float32) -> nn.Module:
    return nn.MLP([3, 4, 2], dtype=dtype, rng=seed)


def make_cnn(seed: int = 0) -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, rng=seed), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Dense(8, 3, rng=seed + 1))  # fmt: skip


def trained(model: nn.Module, optimizer: nn.optim.Optimizer, steps: int = 3) -> None:
    """A few real steps, so the optimizer has moments, step counts and the BatchNorm running statistics moved."""
    rng = np.random.default_rng(0)
    is_cnn = isinstance(model, nn.Sequential) and isinstance(model.layers[0], nn.Conv2d)
    X = rng.standard_normal((6, 1, 4, 4) if is_cnn else (6, 3)).astype(model.parameters()[0].dtype)
    y = np.arange(6) % (3 if is_cnn else 2)
    for _ in range(steps):
        optimizer.zero_grad()
        nn.softmax_cross_entropy(model(X), y).backward()
        optimizer.step()


def header_of(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return json.loads(data[8 : 8 + struct.unpack("<Q", data[:8])[0]])


# ----- round trips ------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]))
def test_round_trip_is_bit_exact(tmp_path_factory: pytest.TempPathFactory, seed: int, dtype: Any) -> None:
    path = tmp_path_factory.mktemp("checkpoint") / "model.safetensors"
    source, target = make_model(seed, dtype), make_model(seed + 1, dtype)
    nn.save(source, path)
    assert nn.load(target, path) is target
    assert_same_parameters(target, parameters_snapshot(source))
    readers_view = safetensors_numpy.load_file(path)  # the field's own reader sees the same names and bytes
    assert sorted(readers_view) == sorted(name for name, _ in source.named_parameters())
    for name, parameter in source.named_parameters():
        assert readers_view[name].dtype == parameter.dtype and readers_view[name].tobytes() == parameter.data.tobytes()


@pytest.mark.parametrize("optimizer_kind", ["SGD", "Adam", "RMSprop", "Adagrad"])
@pytest.mark.parametrize("builder", [make_model, make_cnn], ids=["mlp", "cnn with batch norm"])
def test_round_trip_with_optimizer_state_is_bit_exact(tmp_path: Path, builder: Any, optimizer_kind: str) -> None:
    options = {"SGD": {"lr": 0.1, "momentum": 0.9}}.get(optimizer_kind, {"lr": 0.01})
    model = builder(0)
    optimizer = getattr(nn.optim, optimizer_kind)(model.parameters(), **options)
    trained(model, optimizer)
    path = tmp_path / "run.safetensors"
    nn.save(model, path, optimizer=optimizer)
    restored = builder(5)
    restored_optimizer = getattr(nn.optim, optimizer_kind)(restored.parameters(), lr=0.5)
    nn.load(restored, path, optimizer=restored_optimizer)
    assert_same_parameters(restored, parameters_snapshot(model))
    for key, value in model.state_dict().items():  # buffers too: BatchNorm's running statistics
        assert restored.state_dict()[key].tobytes() == value.tobytes(), key
    saved_state, restored_state = optimizer.state_dict(), restored_optimizer.state_dict()
    assert sorted(saved_state) == sorted(restored_state)
    for key, value in saved_state.items():
        assert restored_state[key].dtype == value.dtype and restored_state[key].tobytes() == value.tobytes(), key
    nn.load(builder(6), path)  # the optimizer's entries are not "unexpected" for the model alone


def test_without_an_optimizer_saved_loading_one_is_refused(tmp_path: Path) -> None:
    nn.save(make_model(0), tmp_path / "plain.safetensors")
    model = make_model(1)
    with pytest.raises(ValueError, match="holds no optimizer state"):
        nn.load(model, tmp_path / "plain.safetensors", optimizer=nn.optim.SGD(model.parameters(), lr=0.1))


def test_metadata_records_version_layout_and_checksums(tmp_path: Path) -> None:
    model = make_cnn(0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    nn.save(model, tmp_path / "m.safetensors", optimizer=optimizer)
    metadata = header_of(tmp_path / "m.safetensors")["__metadata__"]
    assert metadata["autograd_lite_version"] == ag.__version__ and metadata["format"] == "np"
    layout = json.loads(metadata["layout"])
    assert [layout[name].split("(")[0] for name in ("layers.0", "layers.1", "layers.5")] == [
        "Conv2d", "BatchNorm2d", "Dense"]  # fmt: skip
    assert json.loads(metadata["strings"]) == {"optimizer.kind": "Adam"}
    assert set(json.loads(metadata["crc32"])) == set(safetensors_numpy.load_file(tmp_path / "m.safetensors"))


def test_the_extension_chooses_the_format(tmp_path: Path) -> None:
    model = make_model(0)
    for name in ("a.npz", "b.safetensors", "c.SafeTensors", "d.ckpt"):
        nn.save(model, tmp_path / name)
    assert (tmp_path / "a.npz").read_bytes()[:2] == b"PK" and (tmp_path / "d.ckpt").read_bytes()[:2] == b"PK"
    for name in ("b.safetensors", "c.SafeTensors"):
        assert header_of(tmp_path / name)["__metadata__"]["producer"] == "autograd_lite"
    renamed = tmp_path / "renamed.npz"  # loading goes by the content, not the name
    renamed.write_bytes((tmp_path / "b.safetensors").read_bytes())
    for name in ("a.npz", "b.safetensors", "c.SafeTensors", "d.ckpt", "renamed.npz"):
        assert_same_parameters(nn.load(make_model(1), tmp_path / name), parameters_snapshot(model))


def test_files_written_by_the_safetensors_package_load(tmp_path: Path) -> None:
    """No metadata of ours (no checksums): the header is still checked and the values are the file's."""
    source = make_model(3, np.float64)
    safetensors_numpy.save_file(source.state_dict(), tmp_path / "theirs.safetensors")
    assert_same_parameters(nn.load(make_model(0, np.float64), tmp_path / "theirs.safetensors"),
                           parameters_snapshot(source))  # fmt: skip
    assert sorted(nn.checkpoint.read(tmp_path / "theirs.safetensors")) == sorted(source.state_dict())


def test_every_dtype_safetensors_and_numpy_share_round_trips(tmp_path: Path) -> None:
    state = {code: np.arange(6).reshape(2, 3).astype(dtype) for code, dtype in nn.checkpoint.SAFETENSORS_DTYPES.items()}
    state["big-endian"] = np.arange(4, dtype=">f8")
    state["scalar"] = np.array(7, np.int64)
    state["empty"] = np.zeros((0, 3), np.float32)
    nn.save(state, tmp_path / "all.safetensors")
    loaded = nn.checkpoint.read(tmp_path / "all.safetensors")
    assert sorted(loaded) == sorted(state)
    for key, value in state.items():
        assert loaded[key].shape == value.shape and np.array_equal(loaded[key], value), key
        assert loaded[key].dtype == value.dtype.newbyteorder("="), key


# ----- saving refuses before touching the disk ----------------------------------------------------
@pytest.mark.parametrize(
    ("state", "error", "words"),
    [({"w": np.zeros(2, np.complex128)}, TypeError, "'w' has dtype complex128, which safetensors cannot hold"),
     ({"w": np.array(["a", "b"])}, TypeError, "'w' has dtype <U1, which safetensors cannot hold"),
     ({"__metadata__": np.zeros(2)}, ValueError, "'__metadata__' is reserved"),
     ({"w": np.array([{}], dtype=object)}, TypeError, "object array")],
    ids=["complex128", "array of strings", "reserved name", "object array"],
)  # fmt: skip
def test_what_safetensors_cannot_hold_is_refused_before_writing(
    tmp_path: Path, state: dict[str, Any], error: type, words: str
) -> None:
    path = tmp_path / "m.safetensors"
    nn.save(make_model(0), path)
    saved = path.read_bytes()
    with pytest.raises(error, match=words):
        nn.save(state, path)
    assert path.read_bytes() == saved and os.listdir(tmp_path) == ["m.safetensors"]


def test_without_the_package_saving_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)  # import now raises ImportError
    with pytest.raises(ModuleNotFoundError, match=r'pip install "autograd_lite\[safetensors\]"'):
        nn.save(make_model(0), tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_old_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.safetensors"
    nn.save(make_model(0), path)
    saved = path.read_bytes()

    def full(descriptor: int) -> None:
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="simulated"):
        nn.save(make_model(1), path)
    assert path.read_bytes() == saved and os.listdir(tmp_path) == ["m.safetensors"]


# ----- loading refuses every corruption -------------------------------------------------------
def raw_safetensors(tensors: dict[str, Any], data: bytes, metadata: dict[str, str] | None = None) -> bytes:
    """A safetensors file written byte by byte, so its header can lie."""
    header = dict(tensors) if metadata is None else {"__metadata__": metadata, **tensors}
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def good_parts(seed: int = 9) -> tuple[dict[str, Any], bytes]:
    """The header entries and data of a valid checkpoint of make_model(seed) (no metadata)."""
    entries, data = {}, b""
    for key, value in make_model(seed).state_dict().items():
        entries[key] = {
            "dtype": "F32",
            "shape": list(value.shape),
            "data_offsets": [len(data), len(data) + value.nbytes],
        }
        data += value.astype("<f4").tobytes()
    return entries, data


def refused(path: Path, words: str, strict: bool = True, with_optimizer: bool = True) -> str:
    """Load ``path`` expecting a one-line ValueError naming it; the model, optimizer and directory are untouched."""
    model = make_model(0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    file = path.stat()  # (not its bytes: some of these files are sparse gigabytes)
    before, listing = parameters_snapshot(model), sorted(os.listdir(path.parent))
    with pytest.raises(ValueError, match=words) as caught:
        nn.load(model, path, optimizer=optimizer if with_optimizer else None, strict=strict)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message, message
    assert_same_parameters(model, before)
    assert optimizer.lr == 0.1 and optimizer.steps == 0
    assert sorted(os.listdir(path.parent)) == listing
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (file.st_size, file.st_mtime_ns)
    return message


def with_entry(key: str, **change: Any) -> bytes:
    entries, data = good_parts()
    entries[key] = {**entries[key], **change}
    return raw_safetensors(entries, data)


ENTRIES, DATA = good_parts()
WEIGHT_BYTES = ENTRIES["layers.0.weight"]["data_offsets"][1]
CORRUPT = {
    "empty file": (b"", "truncated: a safetensors file starts with an 8-byte header length"),
    "header longer than the file": (struct.pack("<Q", 10**6) + b"{}", "header claims 1,000,000 bytes, but 2 follow"),
    "header of 2**64 - 1 bytes": (b"\xff" * 8 + b"{}", "header claims 18,446,744,073,709,551,615 bytes"),
    "not JSON": (struct.pack("<Q", 5) + b"{nope", "safetensors header is unreadable"),
    "not UTF-8": (struct.pack("<Q", 3) + b"{\xff}", "safetensors header is unreadable"),
    "not an object": (struct.pack("<Q", 2) + b"[]", "unreadable .*not a JSON object"),
    "deeply nested": (struct.pack("<Q", 200_000) + b"[" * 100_000 + b"]" * 100_000, "unreadable"),
    "a name twice": (struct.pack("<Q", 16) + b'{"a": 1, "a": 2}', "'a' appears twice"),
    "metadata not strings": (struct.pack("<Q", 30) + b'{"__metadata__": {"crc32": 5}}', "is not a mapping"),
    "checksum of nothing": (raw_safetensors(ENTRIES, DATA, {"crc32": '{"ghost": 1}'}), "metadata names .*ghost"),
    "name both tensor and text": (raw_safetensors(ENTRIES, DATA, {"strings": '{"layers.0.bias": "x"}'}),
                                  "metadata names .*layers.0.bias"),
    "unknown dtype": (with_entry("layers.0.weight", dtype="F33"), "tensor 'layers.0.weight' has dtype 'F33'"),
    "bfloat16": (with_entry("layers.0.weight", dtype="BF16", data_offsets=[0, WEIGHT_BYTES // 2]),
                 "has dtype 'BF16', which NumPy cannot hold"),
    "missing field": (raw_safetensors({**ENTRIES, "layers.0.weight": {"dtype": "F32", "shape": [3, 4]}}, DATA),
                      "is not a {dtype, shape, data_offsets} entry"),
    "negative size": (with_entry("layers.0.weight", shape=[-3, -4]), "impossible shape"),
    "shape of floats": (with_entry("layers.0.weight", shape=[3.0, 4.0]), "impossible shape"),
    "offsets backwards": (with_entry("layers.0.weight", data_offsets=[WEIGHT_BYTES, 0]), "impossible data offsets"),
    "size lies": (with_entry("layers.0.weight", shape=[2**20, 2**20]), r"declares \(1048576, 1048576\) F32"),
    "overlap": (with_entry("layers.0.bias", data_offsets=[0, 16]), "tensor .layers.0.weight. starts at 0, not 16"),
    "hole": (raw_safetensors({**ENTRIES, "layers.1.bias": {"dtype": "F32", "shape": [2], "data_offsets": [
        len(DATA) - 4, len(DATA) + 4]}}, DATA + bytes(4)), "tensor 'layers.1.bias' starts at .*, not"),
    "data beyond the tensors": (raw_safetensors(ENTRIES, DATA + bytes(4)), "its tensors end at byte"),
    "truncated data": (raw_safetensors(ENTRIES, DATA)[:-3], "its tensors end at byte"),
    "bad checksum": (raw_safetensors(ENTRIES, DATA, {"crc32": json.dumps({"layers.0.weight": 12345})}),
                     "the data of 'layers.0.weight' fails its CRC-32 check"),
    "garbage": (b"this is not a checkpoint, but the name says safetensors", "corrupt"),
}  # fmt: skip


@pytest.mark.parametrize("case", CORRUPT)
def test_every_corrupt_file_is_the_documented_value_error(tmp_path: Path, case: str) -> None:
    content, words = CORRUPT[case]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    refused(path, words, with_optimizer=False)  # (the model's part is checked first: no optimizer needed)


@pytest.mark.parametrize(
    ("change", "words", "strict"),
    [({"extra": np.zeros(3, np.float32)}, "unexpected key.*extra", True),
     ({"layers.0.weight": np.zeros((4, 3), np.float32)}, r"'layers.0.weight' has shape \(4, 3\)", False),
     ({"layers.0.bias": np.zeros(4, np.float64)}, "'layers.0.bias' has dtype float64", False),
     ({"layers.1.bias": None}, "missing from the state: layers.1.bias", False)],
    ids=["unexpected", "shape", "dtype", "missing"],
)  # fmt: skip
def test_a_checkpoint_of_another_model_is_refused(
    tmp_path: Path, change: dict[str, Any], words: str, strict: bool
) -> None:
    state = {**make_model(9).state_dict(), **change}
    path = tmp_path / "other.safetensors"
    nn.save({key: value for key, value in state.items() if value is not None}, path)
    refused(path, words, strict=strict)


def test_every_truncation_and_every_bit_flip_is_refused_cleanly_or_harmless(tmp_path: Path) -> None:
    """'ok' only with exactly the saved values: a flip in the data fails its CRC-32, as in an .npz."""
    source = nn.Sequential(nn.Dense(1, 1, rng=0))
    checkpoint = tmp_path / "small.safetensors"
    nn.save(source, checkpoint, optimizer=nn.optim.SGD(source.parameters(), lr=0.5))
    content = checkpoint.read_bytes()
    truncated, flipped = truncated_and_flipped_outcomes(content, tmp_path / "flipped.safetensors")
    assert set(truncated) == {"refused"}
    data_start = 8 + struct.unpack("<Q", content[:8])[0]
    assert set(flipped[data_start:]) == {"refused"}  # every flip in the data is caught
    assert (truncated + flipped).count("refused") > len(truncated + flipped) // 2


# ----- memory is bounded by what the model needs, not by what the file declares ----------------------
def sparse_checkpoint(path: Path, entries: dict[str, Any], data: bytes, extra: dict[str, tuple[str, int]]) -> None:
    """A checkpoint with ``extra`` tensors (name: dtype, element count) of zeros after ``data``, as a sparse file."""
    entries, end = dict(entries), len(data)
    for key, (dtype, count) in extra.items():
        size = count * np.dtype(SAFETENSOR_TO_NUMPY[dtype]).itemsize
        entries[key] = {"dtype": dtype, "shape": [count], "data_offsets": [end, end + size]}
        end += size
    head = raw_safetensors(entries, b"")
    with path.open("wb") as file:
        file.write(head + data)
        file.truncate(len(head) + end)  # no disk blocks for the zeros


SAFETENSOR_TO_NUMPY = nn.checkpoint.SAFETENSORS_DTYPES


def test_unused_and_mismatched_tensors_are_never_read(tmp_path: Path) -> None:
    entries, data = good_parts()
    extra = tmp_path / "extra.safetensors"
    sparse_checkpoint(extra, entries, data, {"junk": ("F64", GIB // 8 * 2)})  # 2 GiB of zeros nobody needs
    wrong = tmp_path / "wrong.safetensors"
    del entries["layers.1.bias"]
    sparse_checkpoint(wrong, entries, data[:-8], {"layers.1.bias": ("F32", GIB // 2)})
    tracemalloc.start()
    try:
        model = nn.load(make_model(0), extra, strict=False)
        refused(extra, "unexpected key.*junk")
        refused(wrong, r"'layers.1.bias' has shape \(536870912,\)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_same_parameters(model, parameters_snapshot(make_model(9)))
    assert peak < 16 * 2**20, peak  # NumPy's and Python's allocations: a few kilobytes, not gigabytes
    with pytest.raises(ValueError, match=r"declares 2,147,483,7\d\d bytes of arrays, more than max_bytes=1,000,000"):
        nn.checkpoint.read(extra, max_bytes=1_000_000)
