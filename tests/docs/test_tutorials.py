"""The tutorials in docs/tutorials/ run top to bottom in a real Jupyter kernel, and show what they promise.

Each tutorial is a jupytext Markdown file (the source of truth; the .ipynb is built here,
never committed). nbclient runs it in an ipykernel kernel of this interpreter; a cell that
takes longer than CELL_TIMEOUT seconds fails the test (the time budget: keep them small).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.md"))
CELL_TIMEOUT = 60  # seconds; the whole set runs in well under a minute


def required(name: str) -> Any:
    """The module, or a skip outside CI (CI installs the [test] extra, where a missing one must fail)."""
    if os.environ.get("CI"):
        return __import__(name)
    return pytest.importorskip(name)


@functools.cache  # each notebook runs once, however many tests look at it
def executed(path: Path) -> Any:
    """The notebook built from ``path`` and run top to bottom in a fresh kernel (cwd: the tutorials folder)."""
    jupytext, nbclient = required("jupytext"), required("nbclient")
    required("ipykernel")
    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(TUTORIALS)}}
    )
    saved = dict(os.environ)
    # The kernel (a child process) imports this checkout, not another installed copy, and draws without a display.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TUTORIALS.parents[1]), os.environ.get("PYTHONPATH")]))
    os.environ["MPLBACKEND"] = "Agg"
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return notebook


def outputs_of(notebook: Any, ending: str) -> list[dict[str, Any]]:
    """The outputs of the one code cell whose source ends with ``ending``."""
    cells = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.rstrip().endswith(ending)]
    assert len(cells) == 1, f"expected one cell ending in {ending!r}, found {len(cells)}"
    return cells[0].outputs


def mime_types(outputs: list[dict[str, Any]]) -> set[str]:
    return {kind for output in outputs for kind in output.get("data", {})}


def test_there_are_tutorials_and_each_is_a_jupytext_notebook() -> None:
    assert len(NOTEBOOKS) >= 1
    for path in NOTEBOOKS:
        assert path.read_text(encoding="utf-8").startswith("---\njupyter:\n  jupytext:"), path.name
    assert not list(TUTORIALS.glob("*.ipynb")), "the .ipynb files are built from the .md files, not committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_tutorial_runs_top_to_bottom_without_errors(path: Path) -> None:
    notebook = executed(path)  # nbclient raises CellExecutionError, with the traceback, at the first failing cell
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.execution_count for cell in code)  # every cell ran
    assert not [output for cell in code for output in cell.outputs if output.output_type == "error"]


def test_a_cell_ending_in_history_plot_shows_the_picture_and_models_and_tensors_show_tables() -> None:
    notebook = executed(TUTORIALS / "mnist-mlp.md")
    plot = outputs_of(notebook, "history.plot()")
    assert "image/png" in mime_types(plot)
    assert not any("<Figure size" in output.get("data", {}).get("text/plain", "") and "image/png" not in
                   output.get("data", {}) for output in plot)  # fmt: skip
    assert "image/png" in mime_types(outputs_of(notebook, "\nhistory"))
    model = outputs_of(notebook, "\nmodel")
    assert "text/html" in mime_types(model)
    table = "".join(output["data"]["text/html"] for output in model)
    assert "Dense(784 -&gt; 64" in table and "50,890" in table  # 784*64+64 + 64*10+10 parameters
    tensor = "".join(output["data"].get("text/html", "") for output in outputs_of(notebook, "b2"))
    assert "b2" in tensor and "grad" in tensor
