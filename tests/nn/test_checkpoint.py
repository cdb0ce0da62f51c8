"""nn.save / nn.load: bit-exact round trips, atomic writes, and all-or-nothing loads that refuse pickles."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nn_testing import assert_same_parameters, parameters_snapshot

import nn
import nn.checkpoint


def make_model(seed: int = 0, dtype: object = np.float32) -> nn.Module:
    return nn.MLP([3, 4, 2], dtype=dtype, rng=seed)


@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]))
def test_round_trip_is_bit_exact(tmp_path_factory: pytest.TempPathFactory, seed: int, dtype: object) -> None:
    path = tmp_path_factory.mktemp("checkpoint") / "model.npz"
    source, target = make_model(seed, dtype), make_model(seed + 1, dtype)
    nn.save(source, path)
    assert nn.load(target, path) is target
    assert_same_parameters(target, parameters_snapshot(source))
    with np.load(path, allow_pickle=False) as archive:  # an ordinary .npz
        assert sorted(archive.files) == sorted(name for name, _ in source.named_parameters())


def test_a_state_dict_can_be_saved_too(tmp_path: Path) -> None:
    source, target = make_model(1), make_model(2)
    nn.save(source.state_dict(), tmp_path / "state.npz")
    nn.load(target, tmp_path / "state.npz")
    assert_same_parameters(target, parameters_snapshot(source))


def test_optimizer_state_is_saved_alongside(tmp_path: Path) -> None:
    model = make_model(0, np.float64)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    X, y = np.random.default_rng(0).standard_normal((8, 3)), np.arange(8) % 2
    for _ in range(3):
        optimizer.zero_grad()
        nn.softmax_cross_entropy(model(X), y).backward()
        optimizer.step()
    nn.save(model, tmp_path / "run.npz", optimizer=optimizer)
    with np.load(tmp_path / "run.npz") as archive:
        assert "optimizer.exp_avg.0" in archive.files and str(archive["optimizer.kind"]) == "Adam"
    restored = make_model(5, np.float64)
    restored_optimizer = nn.optim.Adam(restored.parameters())
    nn.load(restored, tmp_path / "run.npz", optimizer=restored_optimizer)
    assert restored_optimizer.lr == 0.01 and restored_optimizer.steps == 3
    for key, value in optimizer.state_dict().items():
        assert np.array_equal(restored_optimizer.state_dict()[key], value), key
    nn.load(make_model(6, np.float64), tmp_path / "run.npz")  # optimizer keys are not "unexpected" for the model
    with pytest.raises(ValueError, match="holds no optimizer state"):
        nn.save(model, tmp_path / "plain.npz")
        nn.load(model, tmp_path / "plain.npz", optimizer=restored_optimizer)


def test_a_crash_mid_save_leaves_the_old_checkpoint_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.npz"
    nn.save(make_model(0), path)
    old_bytes = path.read_bytes()
    real_write_array = np.lib.format.write_array
    written = []

    def crash_after_one_array(file: object, array: np.ndarray, **kwargs: object) -> None:
        if written:
            raise OSError("disk full (simulated)")
        real_write_array(file, array, **kwargs)
        written.append(array)

    monkeypatch.setattr(np.lib.format, "write_array", crash_after_one_array)
    with pytest.raises(OSError, match="simulated"):
        nn.save(make_model(1), path)
    assert written  # the crash really happened part-way through writing
    assert path.read_bytes() == old_bytes
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind
    monkeypatch.undo()
    nn.load(make_model(2), path)


def bad_checkpoints(directory: Path) -> dict[str, tuple[Path, str]]:
    """Checkpoint files that must be refused, with the words the error must contain."""
    good = make_model(9).state_dict()

    def write(name: str, arrays: dict) -> Path:
        path = directory / f"{name}.npz"
        np.savez(path, **arrays)
        return path

    missing = dict(good)
    del missing["layers.1.bias"]
    full = directory / "full.npz"
    nn.save(make_model(9), full)
    truncated = directory / "truncated.npz"
    truncated.write_bytes(full.read_bytes()[: len(full.read_bytes()) // 2])
    corrupt = directory / "corrupt.npz"
    data = bytearray(full.read_bytes())
    start = data.index(b"\x93NUMPY") + 136  # inside the first array's values: the CRC no longer matches
    data[start : start + 8] = b"\xff" * 8
    corrupt.write_bytes(bytes(data))
    garbage = directory / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file at all")
    single = directory / "single.npy"
    np.save(single, np.zeros(3))
    pickled = directory / "pickled.npz"
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(pickled, "w") as archive:
        for key, value in good.items():
            with archive.open(key + ".npy", "w") as member:
                np.save(member, value)
        archive.writestr("layers.0.weight_extra.npy", buffer.getvalue())
    return {
        "missing key": (write("missing", missing), "missing"),
        "unexpected key": (write("extra", {**good, "layers.2.weight": np.zeros(1)}), "unexpected"),
        "shape": (write("shape", {**good, "layers.0.weight": np.zeros((3, 5), np.float32)}), "shape"),
        "dtype": (write("dtype", {**good, "layers.0.bias": good["layers.0.bias"].astype(np.float64)}), "dtype"),
        "truncated": (truncated, "corrupt or truncated"),
        "corrupt": (corrupt, "corrupt or truncated .*CRC"),
        "garbage": (garbage, r"not an .npz or .safetensors checkpoint.*\(unrecognised content\)"),
        "single array": (single, "single array"),
        "pickled object array": (pickled, "pickled object array"),
    }


CASES = ["missing key", "unexpected key", "shape", "dtype", "truncated", "corrupt", "garbage", "single array",
         "pickled object array"]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_every_failure_raises_and_leaves_the_model_and_optimizer_untouched(tmp_path: Path, case: str) -> None:
    path, words = bad_checkpoints(tmp_path)[case]
    model = make_model(0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = parameters_snapshot(model)
    with pytest.raises(ValueError, match=words):
        nn.load(model, path, optimizer=optimizer)
    assert_same_parameters(model, before)
    assert optimizer.lr == 0.1 and optimizer.steps == 0


def test_a_bad_optimizer_state_leaves_the_model_untouched(tmp_path: Path) -> None:
    source = make_model(1)
    nn.save(source, tmp_path / "run.npz", optimizer=nn.optim.SGD(source.parameters(), lr=0.5))
    model = make_model(0)
    before = parameters_snapshot(model)
    with pytest.raises(ValueError, match="saved by SGD, not Adam"):
        nn.load(model, tmp_path / "run.npz", optimizer=nn.optim.Adam(model.parameters()))
    assert_same_parameters(model, before)


def test_unexpected_keys_are_ignored_when_not_strict(tmp_path: Path) -> None:
    path, _ = bad_checkpoints(tmp_path)["unexpected key"]
    model = make_model(0)
    nn.load(model, path, strict=False)
    assert_same_parameters(model, parameters_snapshot(make_model(9)))


def test_other_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nn.load(make_model(), tmp_path / "nowhere.npz")
    with pytest.raises(TypeError, match="expected an nn.Module or a state dict"):
        nn.save([1, 2], tmp_path / "list.npz")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="object array"):
        nn.save({"weights": np.array([None])}, tmp_path / "object.npz")
    with pytest.raises(TypeError, match="expected an nn.Module to load into"):
        nn.load({}, tmp_path / "x.npz")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_keys_that_clash_with_numpy_argument_names_are_fine(tmp_path: Path) -> None:
    state = {"file": np.arange(3.0), "allow_pickle": np.ones(2)}
    nn.save(state, tmp_path / "odd.npz")
    assert sorted(nn.checkpoint.read(tmp_path / "odd.npz")) == ["allow_pickle", "file"]


def test_checkpoint_gets_ordinary_file_permissions_and_missing_directory_is_named(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Dense(2, 1))
    nn.save(model, tmp_path / "model.npz")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == 0o666 & ~umask
    with pytest.raises(FileNotFoundError, match="missing"):
        nn.save(model, tmp_path / "missing" / "model.npz")
