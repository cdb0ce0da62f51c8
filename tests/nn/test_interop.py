"""PyTorch state dicts: names and layouts mapped both ways, all-or-nothing loads, and PyTorch computes the same outputs.

The equivalence tests build the architecture-equivalent torch.nn model for each of ours and
compare outputs both ways (our weights in PyTorch, PyTorch's weights in ours); they skip
when PyTorch is not installed. The rest needs only NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from nn_testing import assert_same_parameters, parameters_snapshot

import nn

#: float32 outputs of order 1: PyTorch and NumPy sum in different orders, nothing more.
TOLERANCE = 1e-5


def mlp() -> nn.Module:
    return nn.MLP([5, 16, 8, 3], output_activation="sigmoid", rng=0)


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=1, rng=2), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Dense(6, 10, activation="tanh", rng=3), nn.Dropout(0.3), nn.BatchNorm1d(10), nn.Dense(10, 4, rng=4),
        nn.LogSoftmax(dim=1),
    )  # fmt: skip


class Encoder(nn.Module):
    """Not a Sequential: attributes keep their names (``features``, ``norm``, ``head``), nested Sequentials renumber."""

    def __init__(self) -> None:
        self.features = nn.Sequential(nn.Dense(4, 6, activation="relu", rng=5), nn.Sequential(nn.Dense(6, 6, rng=6)))
        self.norm = nn.LayerNorm(6)
        self.head = nn.Dense(6, 2, rng=7)

    def forward(self, x: Any) -> Any:
        return self.head(self.norm(self.features(x)))


def recurrent(kind: str) -> nn.Module:
    return getattr(nn, kind)(3, 5, num_layers=2, batch_first=True, bidirectional=True, rng=8)


def with_moved_statistics(model: nn.Module, x: np.ndarray) -> nn.Module:
    """Two training-mode passes move the batch norms' running statistics; then evaluation mode."""
    model.train()
    for scale in (1.0, 3.0):
        model(x * scale + 0.5)
    return model.eval()


EXPECTED_NAMES = {
    "mlp": ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"],
    "encoder": ["features.0.weight", "features.0.bias", "features.2.0.weight", "features.2.0.bias", "norm.weight",
                "norm.bias", "head.weight", "head.bias"],
}  # fmt: skip


@pytest.mark.parametrize(("name", "build"), [("mlp", mlp), ("encoder", Encoder)])
def test_names_follow_torch_nn(name: str, build: Callable[[], nn.Module]) -> None:
    assert list(nn.to_torch_state_dict(build())) == EXPECTED_NAMES[name]


def test_cnn_names_and_layouts() -> None:
    model = cnn()
    state = nn.to_torch_state_dict(model)
    assert state["0.weight"].shape == (4, 1, 3, 3) and state["8.weight"].shape == (10, 6)
    assert state["11.num_batches_tracked"].dtype == np.int64 and state["11.running_var"].shape == (10,)
    assert state["12.weight"].shape == (4, 10)  # the tanh after Dense 8 is layer 9: Dropout 10, BatchNorm1d 11
    assert np.array_equal(state["12.weight"], model.layers[11].weight.data.T)
    assert state["12.weight"].flags.c_contiguous  # what torch.from_numpy takes without surprises
    assert sorted(state) == sorted(f"{index}.{leaf}" for index, leaf in (
        *((0, leaf) for leaf in ("weight", "bias")), *((1, leaf) for leaf in ("weight", "bias", "running_mean",
        "running_var", "num_batches_tracked")), *((4, leaf) for leaf in ("weight", "bias")),
        *((8, leaf) for leaf in ("weight", "bias")), *((11, leaf) for leaf in ("weight", "bias", "running_mean",
        "running_var", "num_batches_tracked")), *((12, leaf) for leaf in ("weight", "bias"))))  # fmt: skip


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_recurrent_names_are_torchs_own(kind: str) -> None:
    model = recurrent(kind)
    assert list(nn.to_torch_state_dict(model)) == list(model.state_dict())
    assert "weight_hh_l1_reverse" in model.state_dict()


BUILDERS = {"mlp": mlp, "cnn": cnn, "encoder": Encoder, **{kind: (lambda kind=kind: recurrent(kind))
                                                           for kind in ("RNN", "GRU", "LSTM")}}  # fmt: skip


@pytest.mark.parametrize("name", BUILDERS)
def test_round_trip_through_the_torch_layout_is_bit_exact(name: str) -> None:
    source, target = BUILDERS[name](), BUILDERS[name]()
    for parameter in target.parameters():
        parameter.data = parameter.data + 1  # every value differs before the load
    state = nn.to_torch_state_dict(source)
    assert nn.load_torch_state_dict(target, state) is target
    for key, value in source.state_dict().items():
        assert target.state_dict()[key].tobytes() == value.tobytes(), key
    state[next(iter(state))][...] = 42  # a copy: the model's arrays are not the dict's
    assert_same_parameters(source, parameters_snapshot(target))


def refused(state: dict[str, Any], words: str, error: type = ValueError, strict: bool = True) -> None:
    model = mlp()
    before = parameters_snapshot(model)
    with pytest.raises(error, match=words):
        nn.load_torch_state_dict(model, state, strict=strict)
    assert_same_parameters(model, before)


def test_every_mismatch_is_refused_and_changes_nothing() -> None:
    good = nn.to_torch_state_dict(nn.MLP([5, 16, 8, 3], rng=9))
    refused({key: value for key, value in good.items() if key != "2.bias"},
            r"1 key\(s\) missing from the state dict: 2.bias \(our layers.1.bias\)")  # fmt: skip
    refused({**good, "6.weight": np.zeros(3)}, r"unexpected key\(s\) .*: 6.weight; pass strict=False")
    refused({**good, "2.weight": good["2.weight"].T}, r"'2.weight' has shape \(16, 8\) .* needs \(8, 16\) there \(a "
            r"Linear weight, \(out, in\)\)")  # fmt: skip
    refused({**good, "0.bias": good["0.bias"].astype(np.float64)},
            r"'0.bias' \(our 'layers.0.bias'\) has dtype float64 in the state but float32 in the model")  # fmt: skip
    refused({**good, "4.weight": np.zeros((3, 8, 1), np.float32)}, r"'4.weight' has shape \(3, 8, 1\)")
    refused({**good, "4.bias": ["a", "b", "c"]}, "has dtype <U1 in the state but float32")
    refused({**good, "4.bias": np.array([{}, {}, {}])}, "'4.bias' is not an array of numbers", TypeError)
    refused([("0.weight", 1)], "expected a mapping of names to arrays, got list", TypeError)  # type: ignore[arg-type]
    model = mlp()
    assert nn.load_torch_state_dict(model, {**good, "6.weight": np.zeros(3)}, strict=False) is model
    assert_same_parameters(model, parameters_snapshot(nn.MLP([5, 16, 8, 3], rng=9)))


# ----- against PyTorch ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def torch_twin(torch: Any, name: str) -> Any:
    """The architecture-equivalent torch.nn model of BUILDERS[name] (freshly initialised by PyTorch)."""
    tnn = torch.nn
    torch.manual_seed(0)
    if name == "mlp":
        return tnn.Sequential(tnn.Linear(5, 16), tnn.ReLU(), tnn.Linear(16, 8), tnn.ReLU(), tnn.Linear(8, 3),
                              tnn.Sigmoid())  # fmt: skip
    if name == "cnn":
        return tnn.Sequential(
            tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(4, 6, 3),
            tnn.ReLU(), tnn.AvgPool2d(2), tnn.Flatten(), tnn.Linear(6, 10), tnn.Tanh(), tnn.Dropout(0.3),
            tnn.BatchNorm1d(10), tnn.Linear(10, 4), tnn.LogSoftmax(dim=1),
        )  # fmt: skip
    if name == "encoder":
        encoder = tnn.Module()
        encoder.features = tnn.Sequential(tnn.Linear(4, 6), tnn.ReLU(), tnn.Sequential(tnn.Linear(6, 6)))
        encoder.norm, encoder.head = tnn.LayerNorm(6), tnn.Linear(6, 2)
        encoder.forward = lambda x: encoder.head(encoder.norm(encoder.features(x)))
        return encoder
    return getattr(tnn, name)(3, 5, num_layers=2, batch_first=True, bidirectional=True)


INPUTS = {"mlp": (7, 5), "cnn": (9, 1, 8, 8), "encoder": (7, 4), "RNN": (4, 6, 3), "GRU": (4, 6, 3), "LSTM": (4, 6, 3)}


def outputs(result: Any) -> list[np.ndarray]:
    """A model's outputs as arrays, flattening the (output, h_n) or (output, (h_n, c_n)) of the recurrent layers."""
    if isinstance(result, (tuple, list)):
        return [array for item in result for array in outputs(item)]
    return [np.asarray(result.detach().numpy() if hasattr(result, "detach") else result.data)]


def largest_difference(ours: Any, theirs: Any) -> float:
    pairs = list(zip(outputs(ours), outputs(theirs), strict=True))
    assert all(a.shape == b.shape and a.dtype == b.dtype == np.float32 for a, b in pairs)
    return max(float(np.max(np.abs(a - b))) for a, b in pairs)


def measured(torch: Any, name: str) -> tuple[float, float]:
    """Max |ours - PyTorch's| with our weights in PyTorch, and with PyTorch's weights in ours (evaluation mode)."""
    x = np.random.default_rng(1).standard_normal(INPUTS[name]).astype(np.float32)
    ours = BUILDERS[name]()
    if name == "cnn":
        with_moved_statistics(ours, x)
    ours.eval()
    twin = torch_twin(torch, name).eval()
    twin.load_state_dict({key: torch.from_numpy(value) for key, value in nn.to_torch_state_dict(ours).items()})
    with torch.no_grad():
        ours_in_torch = largest_difference(ours(x), twin(torch.from_numpy(x)))
        twin = torch_twin(torch, name).eval()  # fresh PyTorch weights (and moved statistics) into a fresh model of ours
        if name == "cnn":
            twin.train()
            for scale in (1.0, 2.0):
                twin(torch.from_numpy(x * scale - 0.5))
            twin.eval()
        theirs = nn.load_torch_state_dict(BUILDERS[name]().eval(), twin.state_dict())  # torch tensors, as they come
        torch_in_ours = largest_difference(theirs(x), twin(torch.from_numpy(x)))
    return ours_in_torch, torch_in_ours


@pytest.mark.parametrize("name", BUILDERS)
def test_pytorch_computes_the_same_outputs(torch: Any, name: str) -> None:
    ours_in_torch, torch_in_ours = measured(torch, name)
    assert ours_in_torch <= TOLERANCE and torch_in_ours <= TOLERANCE, (ours_in_torch, torch_in_ours)


def test_a_tensor_that_requires_grad_is_refused_with_advice(torch: Any) -> None:
    state: dict[str, Any] = {key: torch.from_numpy(value) for key, value in nn.to_torch_state_dict(mlp()).items()}
    state["0.bias"] = state["0.bias"].clone().requires_grad_(True)
    refused(state, r"'0.bias' cannot be read as a NumPy array .*v.detach\(\).cpu\(\)", TypeError)
