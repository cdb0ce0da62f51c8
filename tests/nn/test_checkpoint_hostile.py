"""nn.save / nn.load against hostile files and hostile circumstances.

Decompression bombs, lying zip directories and .npy headers, bit flips and truncations,
FIFOs and devices, killed saves, long names, permissions and the directory fsync. Bombs are
tested by their declared sizes (a deflate stream of repeated blocks is built in milliseconds);
where memory matters the load runs in a subprocess under ``resource.setrlimit(RLIMIT_AS)``, so
a regression fails instead of eating the machine. Every refusal is a one-line ``ValueError``
naming the file, and leaves the model, the optimizer and the directory as they were.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from nn_testing import assert_same_parameters, parameters_snapshot, truncated_and_flipped_outcomes

import nn
import nn.checkpoint

ROOT = Path(__file__).resolve().parents[2]
GIB, MIB = 2**30, 2**20
LINUX = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS, /proc and flock semantics are Linux's")


def make_model(seed: int = 0) -> nn.Module:
    return nn.MLP([3, 4, 2], rng=seed)


def npy_header(shape: tuple[int, ...], dtype: Any) -> bytes:
    """The .npy header (format 1.0) of an array of ``shape`` and ``dtype``."""
    buffer = io.BytesIO()
    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def deflated_zeros(head: bytes, zeros: int) -> bytes:
    """A raw deflate stream of ``head`` then ``zeros`` zero bytes: one 1 MiB block repeated (~1 KB each)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, no history
    assert zeros % MIB == 0
    return start + block * (zeros // MIB) + compressor.flush()


def raw_zip(entries: list[dict[str, Any]]) -> bytes:
    """A zip written byte by byte, so its directory can lie: each entry has name and data (as stored),
    and may override method, flags, crc, compress_size and file_size (the declared uncompressed size)."""
    body, central = bytearray(), bytearray()
    for entry in entries:
        name, data = entry["name"].encode(), entry["data"]
        method, flags = entry.get("method", 0), entry.get("flags", 0)
        crc = entry.get("crc", zlib.crc32(data) if method == 0 else 0)
        size = entry.get("file_size", len(data))
        offset = len(body)
        fields = (flags, method, 0, 0, crc, entry.get("compress_size", len(data)), size, len(name))
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, *fields, 0) + name + data
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0, 0, offset) + name
    count = len(entries)
    return bytes(
        body + central + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), len(body), 0)
    )


def good_entries(seed: int = 9) -> list[dict[str, Any]]:
    """The members of a valid checkpoint of make_model(seed), stored."""
    return [{"name": key + ".npy", "data": npy(value)} for key, value in make_model(seed).state_dict().items()]


def optimizer_entries(seed: int = 9) -> list[dict[str, Any]]:
    model = make_model(seed)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    return [{"name": f"optimizer.{key}.npy", "data": npy(value)} for key, value in optimizer.state_dict().items()]


def bomb_entry(name: str, shape: tuple[int, ...], dtype: Any) -> dict[str, Any]:
    """A deflated member declaring ``shape`` of ``dtype`` whose data really inflates to that many zero bytes."""
    head = npy_header(shape, dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return {"name": name, "data": deflated_zeros(head, nbytes), "method": 8, "file_size": len(head) + nbytes}


def write(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_bytes(raw_zip(entries))
    return path


def refused(path: Path, words: str, optimizer: bool = True, strict: bool = True) -> str:
    """Load ``path`` expecting a one-line ValueError naming it; the model, optimizer and directory are untouched."""
    model = make_model(0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before, listing, content = parameters_snapshot(model), sorted(os.listdir(path.parent)), path.read_bytes()
    with pytest.raises(ValueError, match=words) as caught:
        nn.load(model, path, optimizer=opt if optimizer else None, strict=strict)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message, message
    assert_same_parameters(model, before)
    assert opt.lr == 0.1 and opt.steps == 0 and opt.momentum == 0.9
    assert all(buffer is None for buffer in opt.state["momentum_buffer"])
    assert sorted(os.listdir(path.parent)) == listing and path.read_bytes() == content
    return message


# ----- permissions --------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_resaving_keeps_the_checkpoints_permissions(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "model.npz"
    nn.save(make_model(0), path)
    path.chmod(mode)
    nn.save(make_model(1), path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert_same_parameters(nn.load(make_model(2), path), parameters_snapshot(make_model(1)))


def test_a_new_checkpoint_gets_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        nn.save(make_model(0), tmp_path / "model.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "model.npz").stat().st_mode) == 0o640


# ----- decompression bombs (in a subprocess under a memory limit) ------------------------------
LIMITED_LOAD = """
import json, resource, sys
import numpy as np
import nn
def peak_kib():  # VmHWM: this process's own peak (ru_maxrss would include the parent's size at fork)
    return int(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1])
size = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (size + 512 * 2**20, size + 512 * 2**20))
before = peak_kib()
results = []
for path, use_optimizer, strict in json.loads(sys.argv[1]):
    model = nn.MLP([3, 4, 2], rng=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    snapshot = [parameter.data.copy() for parameter in model.parameters()]
    try:
        nn.load(model, path, optimizer=optimizer if use_optimizer else None, strict=strict)
        outcome = ["ok", ""]
    except BaseException as error:
        outcome = [type(error).__name__, str(error)]
    changed = not all(np.array_equal(a, p.data) for a, p in zip(snapshot, model.parameters()))
    results.append(outcome + [changed, optimizer.steps])
peak = peak_kib()
print(json.dumps({"results": results, "grew_kib": peak - before}))
"""


def limited_loads(calls: list[tuple[Path, bool, bool]]) -> dict[str, Any]:
    """Run nn.load on each (path, with optimizer, strict) in a child limited to 512 MiB more address space."""
    arguments = json.dumps([[str(path), optimizer, strict] for path, optimizer, strict in calls])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", LIMITED_LOAD, arguments], capture_output=True, text=True, env=env,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@LINUX
def test_decompression_bombs_are_refused_before_inflating(tmp_path: Path) -> None:
    """2 MB files whose members inflate to 2 GiB: an extra key, a parameter, optimizer state, a name."""
    extra = write(tmp_path / "extra.npz", [*good_entries(), bomb_entry("junk.npy", (2 * GIB // 8,), np.float64)])
    parameter = [bomb_entry("layers.0.weight.npy", (GIB // 2, 1), np.float32), *good_entries()[1:]]
    as_parameter = write(tmp_path / "parameter.npz", parameter)
    buffer = bomb_entry("optimizer.momentum_buffer.0.npy", (GIB // 2,), np.float32)
    in_optimizer = write(tmp_path / "optimizer.npz", [*good_entries(), *optimizer_entries(), buffer])
    kind = [entry for entry in optimizer_entries() if "kind" not in entry["name"]]
    long_kind = write(tmp_path / "kind.npz", [*good_entries(), *kind, bomb_entry("optimizer.kind.npy", (), f"S{GIB}")])
    assert max(path.stat().st_size for path in (extra, as_parameter, in_optimizer, long_kind)) < 3 * MIB
    calls = [(extra, False, True), (extra, False, False), (as_parameter, False, True), (in_optimizer, True, True),
             (in_optimizer, False, True), (long_kind, True, True)]  # fmt: skip
    report = limited_loads(calls)
    unexpected, skipped, shape, momentum, without_optimizer, named = report["results"]
    assert unexpected[0] == "ValueError" and "unexpected key(s) the model has no parameter for: junk" in unexpected[1]
    assert skipped[:3] == ["ok", "", True]  # strict=False: the extra member is never inflated
    assert shape[0] == "ValueError" and "'layers.0.weight' has shape (536870912, 1) in the state" in shape[1]
    assert momentum[0] == "ValueError" and "'optimizer.momentum_buffer.0' has shape (536870912,)" in momentum[1]
    assert without_optimizer[:3] == ["ok", "", True]
    assert named[0] == "ValueError" and "'optimizer.kind' has shape () and dtype |S1073741824" in named[1]
    for outcome, message, changed, steps in report["results"]:
        assert outcome == "ok" or (str(tmp_path) in message and not changed and steps == 0), message
    assert report["grew_kib"] < 64 * 1024  # the worst bomb now costs next to nothing


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"name": "layers.0.weight.npy", "data": npy_header((2**40,), np.float64) + bytes(8)},
         r"corrupt or not a checkpoint: member 'layers.0.weight.npy' declares \(1099511627776,\) float64"),
        ({"name": "layers.0.weight.npy", "data": npy(np.zeros((3, 4), np.float32)), "file_size": 2 * GIB},
         "member 'layers.0.weight.npy' has inconsistent sizes"),
        ({"name": "layers.0.weight.npy", "data": zlib.compress(bytes(200))[2:-4], "method": 8, "file_size": 3 * GIB},
         "claims 3,221,225,472 bytes from .*, more than deflate can produce"),
        ({"name": "layers.0.weight.npy", "data": npy(np.zeros((3, 4), np.float32)), "compress_size": 2 * GIB,
          "file_size": 2 * GIB}, "member 'layers.0.weight.npy' claims more bytes than the file holds"),
    ],
    ids=["huge shape, tiny data", "stored sizes lie", "deflate ratio impossible", "beyond the end"],
)  # fmt: skip
def test_declared_sizes_that_lie_are_refused(tmp_path: Path, entry: dict[str, Any], words: str) -> None:
    path = write(tmp_path / "lying.npz", [entry, *good_entries()[1:]])
    refused(path, words)


def test_read_refuses_what_declares_more_than_max_bytes(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.npz", [bomb_entry("a.npy", (64 * MIB,), np.uint8)])
    with pytest.raises(ValueError, match=r"declares 67,108,864 bytes of arrays, more than max_bytes=1,000,000"):
        nn.checkpoint.read(path, max_bytes=1_000_000)
    assert nn.checkpoint.read(write(tmp_path / "small.npz", good_entries()), max_bytes=1_000_000)


# ----- corrupt files: always the documented ValueError ----------------------------------------
def header_with(text: bytes) -> bytes:
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


CORRUPT = {
    "encrypted": ({"flags": 1}, "member 'layers.0.weight.npy' is encrypted"),
    "unknown method": ({"method": 99}, "uses compression method 99"),
    "bzip2": ({"method": 12}, "uses compression method 12"),
    "lzma": ({"method": 14}, "uses compression method 14"),
    "not npy": ({"name": "layers.0.weight.txt"}, "member 'layers.0.weight.txt' is not a .npy array"),
    "no magic": ({"data": b"hello world, no array here"}, r"corrupt or truncated \(member .*it is not a .npy array"),
    "version 9": ({"data": b"\x93NUMPY\x09\x00" + bytes(20)}, "unsupported .npy format version 9.0"),
    "long header": ({"data": header_with(b" " * 60000)}, "header is 60,000 bytes long"),
    "header not a dict": ({"data": header_with(b"[1, 2, 3]\n")}, "header is malformed"),
    "header code": ({"data": header_with(b"__import__('os').system('true')\n")}, "corrupt or truncated"),
    "nested header": ({"data": header_with(b"(" * 5000 + b")" * 5000)}, "corrupt or truncated"),
    "negative shape": ({"data": header_with(b"{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4)}\n")},
                       "impossible shape"),
    "bad descr": ({"data": header_with(b"{'descr': '<f6', 'fortran_order': False, 'shape': (3, 4)}\n")},
                  r"corrupt or truncated \(member 'layers.0.weight.npy': TypeError"),
    "descr not str": ({"data": header_with(b"{'descr': 5, 'fortran_order': False, 'shape': (3, 4)}\n")},
                      "corrupt or truncated"),
    "object dtype": ({"data": header_with(b"{'descr': '|O', 'fortran_order': False, 'shape': (3, 4)}\n")},
                     "pickled object array"),
    "bad crc": ({"crc": 12345}, r"corrupt or truncated \(.*Bad CRC-32"),
    "bad deflate": ({"data": b"\xff" * 64, "method": 8, "file_size": 128 + 48}, "corrupt or truncated"),
}  # fmt: skip


@pytest.mark.parametrize("case", CORRUPT)
def test_every_corrupt_member_is_the_documented_value_error(tmp_path: Path, case: str) -> None:
    change, words = CORRUPT[case]
    entries = good_entries()
    entries[0] = {**entries[0], **change}
    refused(write(tmp_path / "bad.npz", entries), words)


def test_duplicate_members_are_refused(tmp_path: Path) -> None:
    entries = good_entries()
    path = tmp_path / "twice.npz"
    path.write_bytes(raw_zip([*entries, {**entries[0], "data": npy(np.full((3, 4), 7, np.float32))}]))
    refused(path, "member 'layers.0.weight.npy' appears twice")


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("small") / "small.npz"
    model = nn.Sequential(nn.Dense(1, 1, rng=0))
    nn.save(model, path, optimizer=nn.optim.SGD(model.parameters(), lr=0.5))
    return path.read_bytes()


def test_every_truncation_and_every_bit_flip_is_refused_cleanly_or_harmless(
    tmp_path: Path, small_checkpoint: bytes
) -> None:
    # only ValueError may escape; "ok" (exactly the saved values) means a flip hit unused fields
    truncated, flipped = truncated_and_flipped_outcomes(small_checkpoint, tmp_path / "flipped.npz")
    assert set(truncated) == {"refused"}
    assert (truncated + flipped).count("refused") > len(truncated + flipped) // 2


# ----- files that are not regular files ---------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    """In a child with a timeout, so a regression (open() blocks until a writer comes) fails instead of hanging."""
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    link = tmp_path / "link.npz"
    link.symlink_to(fifo)
    code = (
        "import sys, nn\nfor path in sys.argv[1:]:\n    try:\n        nn.load(nn.MLP([3, 4, 2]), path)\n"
        "    except ValueError as error:\n        print(error)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code, str(fifo), str(link)], capture_output=True, text=True,
                          env=env, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        f"nn.load: {fifo} is a named pipe (FIFO); a checkpoint must be a regular file (.npz or .safetensors)",
        f"nn.load: {link} is a named pipe (FIFO); a checkpoint must be a regular file (.npz or .safetensors)",
    ]


@pytest.mark.parametrize(("where", "kind"), [("/dev/null", "a character device"), ("/dev/zero", "a character device"),
                                             (".", "a directory")])  # fmt: skip
def test_devices_and_directories_are_refused(tmp_path: Path, where: str, kind: str) -> None:
    path = Path(where) if where.startswith("/") else tmp_path
    if not path.exists():
        pytest.skip(f"{where} does not exist here")
    model = make_model(0)
    before = parameters_snapshot(model)
    message = f"nn.load: {path} is {kind}; a checkpoint must be a regular file (.npz or .safetensors)"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        nn.load(model, path)
    assert_same_parameters(model, before)


# ----- temporary files, long names, durability --------------------------------------------------
KILLED_SAVE = """
import os, signal, sys
import numpy as np
import nn
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
np.lib.format.write_array = die
nn.save(nn.MLP([3, 4, 2], rng=1), sys.argv[1])
"""


def killed_save(path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], env=env, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("name", ["model.npz", "m" * 246 + ".npz"], ids=["short", "250 characters"])
def test_the_next_save_removes_what_killed_saves_left(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    nn.save(make_model(0), path)
    saved = path.read_bytes()
    for _ in range(3):
        killed_save(path)
    leftovers = sorted(set(os.listdir(tmp_path)) - {name})
    # Each killed save removed the one before it; the last one's is left, and the old checkpoint is intact.
    assert len(leftovers) == 1 and path.read_bytes() == saved
    unrelated = [".other.npz.abcd1234.tmp", f".{name}.notes", f".{name}.abcd1234.tmp.keep", "model.npz.abcd1234.tmp"]
    for other in unrelated:
        if len(other.encode()) <= 255:
            (tmp_path / other).write_bytes(b"not mine")
    nn.save(make_model(1), path)
    assert sorted(os.listdir(tmp_path)) == sorted({name, *(other for other in unrelated if len(other.encode()) <= 255)})
    assert_same_parameters(nn.load(make_model(2), path), parameters_snapshot(make_model(1)))


@LINUX
def test_a_temporary_file_of_a_running_save_is_left_alone(tmp_path: Path) -> None:
    import fcntl

    path = tmp_path / "model.npz"
    live, stale = tmp_path / ".model.npz.live0000.tmp", tmp_path / ".model.npz.tmpx7_q9.tmp"
    live.write_bytes(b"being written")
    stale.write_bytes(b"left by a crash (tempfile.mkstemp's name, as older versions made them)")
    with live.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # what a save in progress holds
        nn.save(make_model(0), path)
        assert sorted(os.listdir(tmp_path)) == [live.name, path.name]
    nn.save(make_model(0), path)
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("name", ["m" * 246 + ".npz", "m" * 251 + ".npz", "é" * 125 + ".npz"],
                         ids=["250 characters", "255 characters", "254 bytes of UTF-8"])  # fmt: skip
def test_temporary_names_never_exceed_the_file_name_limit(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    nn.save(make_model(0), path)
    nn.save(make_model(1), path)
    assert os.listdir(tmp_path) == [name]
    assert_same_parameters(nn.load(make_model(2), path), parameters_snapshot(make_model(1)))


@pytest.mark.skipif(sys.platform == "win32", reason="directories cannot be fsynced on Windows")
def test_the_directory_is_fsynced_after_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        events.append("fsync directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "fsync file")
        real_fsync(descriptor)

    def replace(*args: Any, **kwargs: Any) -> None:
        events.append("replace")
        real_replace(*args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    nn.save(make_model(0), tmp_path / "model.npz")
    assert events == ["fsync file", "replace", "fsync directory"]


def test_a_failed_save_keeps_the_old_checkpoint_and_its_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.npz"
    nn.save(make_model(0), path)
    path.chmod(0o600)
    saved = path.read_bytes()

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(np.lib.format, "write_array", full)
    with pytest.raises(OSError, match="simulated"):
        nn.save(make_model(1), path)
    assert path.read_bytes() == saved and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_checkpoint_written_by_numpy_still_loads(tmp_path: Path) -> None:
    """The checks refuse nothing NumPy itself writes: np.savez and np.savez_compressed."""
    state = make_model(3).state_dict()
    np.savez(tmp_path / "plain.npz", **state)
    np.savez_compressed(tmp_path / "compressed.npz", **state)
    for name in ("plain.npz", "compressed.npz"):
        assert_same_parameters(nn.load(make_model(0), tmp_path / name), parameters_snapshot(make_model(3)))
    with zipfile.ZipFile(tmp_path / "compressed.npz") as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
