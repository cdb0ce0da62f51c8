"""What a notebook shows for nn's objects: a Module's layer table, History's curves, plot()'s figure as PNG."""

from __future__ import annotations

import numpy as np
import pytest

import nn

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_module_shows_its_layers_own_parameters_and_counts() -> None:
    model = nn.Sequential(nn.Dense(3, 4, rng=0), nn.ReLU(), nn.Sequential(nn.Dense(4, 2, rng=0)))
    rows = nn.notebook.module_rows(model)
    assert [(depth, name) for depth, name, *_ in rows] == [(0, "(model)"), (1, "layers.0"), (1, "layers.1"),
                                                          (1, "layers.2"), (2, "layers.2.layers.0")]  # fmt: skip
    assert [count for *_, count in rows] == [26, 16, 0, 10, 10]
    assert rows[1][3] == "weight 3×4, bias 4" and rows[3][3] == ""  # the inner Sequential holds none itself
    table = model._repr_html_()
    assert table.count("<tr>") == 1 + len(rows) and "26 trainable parameters" in table


def test_history_shows_its_curves_and_its_plot_is_a_figure_a_notebook_shows() -> None:
    pytest.importorskip("matplotlib")
    history = nn.History()
    assert history._repr_mimebundle_() == {"text/plain": "History(0 epochs)"}  # nothing to draw yet
    for loss in (1.0, 0.5):
        history.append({"loss": loss, "val_loss": loss * 2})
    bundle = history._repr_mimebundle_()
    assert bundle["text/plain"] == repr(history) and bundle["image/png"].startswith(PNG)
    figure = history.plot()
    assert figure._repr_png_().startswith(PNG)
    assert list(figure.axes[0].lines[1].get_ydata()) == [2.0, 1.0]
    assert np.asarray(figure.canvas.buffer_rgba()).ndim == 3  # an Agg canvas: drawn without a display
