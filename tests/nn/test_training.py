"""nn.fit learns (XOR, sin, two moons; seeded), History and its plot, progress bar, evaluate/predict, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd_lite as ag
import nn

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([[0.0], [1.0], [1.0], [0.0]])


def two_moons(n: int, rng: np.random.Generator, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles with Gaussian noise (generated here, independent of nn.datasets)."""
    angles, labels = rng.uniform(0, np.pi, n), rng.integers(0, 2, n)
    upper = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    lower = np.stack([1 - np.cos(angles), 0.5 - np.sin(angles)], axis=1)
    points = np.where(labels[:, None] == 0, upper, lower) + noise * rng.standard_normal((n, 2))
    return points, labels


def test_xor_2_4_1_sigmoid_network_with_squared_error_one_sample_at_a_time() -> None:
    model = nn.MLP([2, 4, 1], activation="sigmoid", output_activation="sigmoid", rng=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=2.0)
    history = nn.fit(model, nn.sum_squared_error, optimizer, XOR_INPUTS, XOR_TARGETS, epochs=1000, batch_size=1,
                     metrics=["accuracy"], progress=False)  # fmt: skip
    assert nn.accuracy(nn.predict(model, XOR_INPUTS), XOR_TARGETS) == 1.0
    assert history["accuracy"][-1] == 1.0 and history["loss"][-1] < history["loss"][0] / 10


def test_xor_2_4_1_with_adam_and_logits() -> None:
    model = nn.MLP([2, 4, 1], activation="tanh", rng=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    loss = nn.binary_cross_entropy_with_logits
    history = nn.fit(model, loss, optimizer, XOR_INPUTS, XOR_TARGETS, epochs=200, batch_size=4, metrics=["accuracy"],
                     progress=False)  # fmt: skip
    assert history["accuracy"][-1] == 1.0  # accuracy on logits: the threshold is 0 for this loss
    assert nn.accuracy(nn.predict(model, XOR_INPUTS), XOR_TARGETS, threshold=0.0) == 1.0


def test_a_loss_says_which_accuracy_threshold_fits_its_outputs() -> None:
    assert nn.binary_cross_entropy_with_logits.accuracy_threshold == 0.0  # logits
    assert nn.BinaryCrossEntropyWithLogits().accuracy_threshold == 0.0
    assert nn.MSELoss().accuracy_threshold is None  # none declared: nn.accuracy's default for probabilities


def test_fit_scores_accuracy_with_the_threshold_the_loss_declares() -> None:
    def loss(outputs: ag.Tensor, target: np.ndarray) -> ag.Tensor:
        return nn.mse_loss(outputs, target)

    loss.accuracy_threshold = 10.0  # far above every output: every prediction is class 0
    model = nn.MLP([2, 1], rng=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.0)
    history = nn.fit(model, loss, optimizer, XOR_INPUTS, XOR_TARGETS, batch_size=4, metrics=["accuracy"],
                     progress=False)  # fmt: skip
    assert history["accuracy"] == [0.5]  # the two XOR targets that are 0


def test_deep_relu_regressor_fits_sine() -> None:
    x = np.linspace(0, 2 * np.pi, 200).reshape(-1, 1)
    y = np.sin(x)
    model = nn.MLP([1, 32, 32, 1], activation="relu", rng=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    history = nn.fit(model, nn.mse_loss, optimizer, x, y, epochs=400, batch_size=20, progress=False)
    assert nn.evaluate(model, nn.mse_loss, x, y)["loss"] < 0.01
    assert history.epochs == 400 and list(history.history) == ["loss"]


def test_two_moons_held_out_accuracy() -> None:
    rng = np.random.default_rng(0)
    (X, y), (X_test, y_test) = two_moons(300, rng), two_moons(300, rng)
    model = nn.MLP([2, 16, 16, 2], rng=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    history = nn.fit(model, nn.softmax_cross_entropy, optimizer, X, y, epochs=60, batch_size=32,
                     validation=(X_test, y_test), metrics=["accuracy"], progress=False)  # fmt: skip
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(values) == 60 for values in history.history.values())
    assert history["val_accuracy"][-1] >= 0.97
    assert nn.evaluate(model, nn.softmax_cross_entropy, X_test, y_test, metrics=["accuracy"]) == pytest.approx(
        {"loss": history["val_loss"][-1], "accuracy": history["val_accuracy"][-1]}
    )


def test_fit_is_reproducible_with_the_same_seeds() -> None:
    def train() -> list[float]:
        model = nn.MLP([2, 3, 2], rng=1)
        optimizer = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        X, y = two_moons(40, np.random.default_rng(1))
        return nn.fit(model, nn.softmax_cross_entropy, optimizer, X, y, epochs=3, batch_size=8, seed=5,
                      progress=False)["loss"]  # fmt: skip

    assert train() == train()


def test_evaluate_and_predict_match_a_manual_forward_pass_and_record_nothing() -> None:
    model = nn.MLP([3, 4, 2], rng=0)
    X, y = np.random.default_rng(0).standard_normal((10, 3)), np.arange(10) % 2
    outputs = model(X)
    predictions = nn.predict(model, X, batch_size=3)
    np.testing.assert_allclose(predictions, outputs.data, rtol=1e-6)
    assert isinstance(predictions, np.ndarray)
    expected_loss = nn.softmax_cross_entropy(outputs, y).item()
    scores = nn.evaluate(model, nn.softmax_cross_entropy, X, y, batch_size=4, metrics=["accuracy", custom_metric])
    assert scores["loss"] == pytest.approx(expected_loss, rel=1e-6)
    assert scores["accuracy"] == nn.accuracy(outputs, y)
    assert scores["custom_metric"] == pytest.approx(np.mean(outputs.data[:, 0]), rel=1e-6)
    assert model.training  # evaluation mode was switched back
    assert all(p.grad is None for p in model.parameters())


def custom_metric(outputs: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean(outputs[:, 0]))


def test_progress_can_be_turned_off(capsys: pytest.CaptureFixture[str]) -> None:
    def train(**switches: bool) -> None:
        model = nn.MLP([2, 1], rng=0)
        nn.fit(model, nn.mse_loss, nn.optim.SGD(model.parameters(), lr=0.1), np.zeros((8, 2)), np.zeros((8, 1)),
               epochs=2, batch_size=4, **switches)  # fmt: skip

    for switches in ({"progress": False}, {"quiet": True}):
        train(**switches)
        assert capsys.readouterr() == ("", "")
    train()
    err = capsys.readouterr().err  # not a terminal: plain lines, first and last epoch (see tests/nn/test_progress.py)
    assert [re.sub(r"\(\d+\.\d s\)", "(seconds)", line) for line in err.splitlines()] == [
        "epoch 1/2: loss 0 (seconds)",
        "epoch 2/2: loss 0 (seconds)",
    ]
    with pytest.raises(ValueError, match="quiet=True and verbose=True"):
        train(quiet=True, verbose=True)


def test_history_plot_saves_a_png(tmp_path: object) -> None:
    history = nn.History()
    history.append({"loss": 1.0, "accuracy": 0.5, "val_loss": 1.2, "val_accuracy": 0.4})
    history.append({"loss": 0.5, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.7})
    path = tmp_path / "history.png"  # type: ignore[operator]
    figure = history.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [axes.get_title() for axes in figure.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in figure.axes[0].lines] == ["train", "validation"]
    assert list(figure.axes[1].lines[1].get_ydata()) == [0.4, 0.7]
    assert repr(history) == "History(2 epochs: loss=0.5, accuracy=0.8, val_loss=0.7, val_accuracy=0.7)"
    with pytest.raises(ValueError, match="nothing to plot"):
        nn.History().plot()
    with pytest.raises(KeyError, match="History has no 'val_mse'"):
        history["val_mse"]


def test_divergence_stops_with_a_clear_error() -> None:
    model = nn.MLP([1, 1], dtype=np.float32, rng=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=1e30)
    with pytest.raises(FloatingPointError, match="the loss became (nan|inf).*lower the learning rate"):
        with np.errstate(all="ignore"):
            nn.fit(model, nn.mse_loss, optimizer, np.full((4, 1), 1e10), np.zeros((4, 1)), epochs=5, batch_size=1,
                   progress=False)  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"y": np.zeros((3, 1))}, ValueError, r"fit: X \(shape \(4, 2\)\) and y \(shape \(3, 1\)\)"),
        ({"epochs": -1}, ValueError, "epochs must be a non-negative integer"),
        ({"metrics": ["precision"]}, ValueError, "unknown metric 'precision'"),
        ({"validation": np.zeros(3)}, ValueError, "validation must be a pair"),
        ({"loss": lambda out, target: nn.mse_loss(out, target, reduction="none")}, ValueError, "single-number"),
    ],
)
def test_bad_fit_arguments(arguments: dict, error: type, message: str) -> None:
    model = nn.MLP([2, 1], rng=0)
    settings = {"loss": nn.mse_loss, "X": np.zeros((4, 2)), "y": np.zeros((4, 1)), "progress": False, **arguments}
    with pytest.raises(error, match=message):
        nn.fit(model, optimizer=nn.optim.SGD(model.parameters(), lr=0.1), **settings)


def test_tensor_data_is_accepted() -> None:
    model = nn.MLP([2, 1], rng=0)
    history = nn.fit(model, nn.mse_loss, nn.optim.SGD(model.parameters(), lr=0.1), ag.Tensor(np.zeros((4, 2))),
                     ag.Tensor(np.ones((4, 1))), epochs=2, progress=False)  # fmt: skip
    assert history["loss"][1] < history["loss"][0]


def test_fit_refuses_a_zero_batch_size() -> None:
    model = nn.Sequential(nn.Dense(2, 1))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        nn.fit(
            model,
            nn.mse_loss,
            nn.optim.SGD(model.parameters(), lr=0.1),
            np.ones((4, 2)),
            np.ones((4, 1)),
            batch_size=0,
            progress=False,
        )


@pytest.mark.parametrize(("samples", "batch_size", "epochs", "limit"), [(10, 3, 5, 6), (10, 3, 2, 100), (8, 8, 3, 1)])
def test_max_iterations_stops_after_that_many_steps_and_on_epoch_sees_every_record(
    samples: int, batch_size: int, epochs: int, limit: int
) -> None:
    model = nn.MLP([2, 1], rng=0)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.01)
    X, y = np.linspace(0, 1, 2 * samples).reshape(samples, 2), np.ones((samples, 1))
    seen: list[tuple[int, dict]] = []
    history = nn.fit(model, nn.mse_loss, optimizer, X, y, epochs=epochs, batch_size=batch_size, progress=False,
                     max_iterations=limit, on_epoch=lambda epoch, values: seen.append((epoch, values)))  # fmt: skip
    per_epoch = -(-samples // batch_size)
    assert optimizer.steps == min(limit, epochs * per_epoch)
    assert history.epochs == -(-optimizer.steps // per_epoch) == len(seen)
    assert [epoch for epoch, _ in seen] == list(range(1, history.epochs + 1))
    assert [values["loss"] for _, values in seen] == history["loss"]
    assert all(np.isfinite(history["loss"]))


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_fit_refuses_a_bad_max_iterations(limit: object) -> None:
    model = nn.MLP([2, 1], rng=0)
    with pytest.raises(ValueError, match="max_iterations must be a positive integer"):
        nn.fit(model, nn.mse_loss, nn.optim.SGD(model.parameters(), lr=0.1), np.ones((4, 2)), np.ones((4, 1)),
               max_iterations=limit, progress=False)  # fmt: skip
