"""The tutorials in docs/tutorials/ run top to bottom in a real Jupyter kernel, and show what they promise.

Each tutorial is a jupytext Markdown file (the source of truth; the .ipynb is built here,
never committed). nbclient runs it in an ipykernel kernel of this interpreter (its native
kernel spec: nothing to register), in a child process; a cell that
takes longer than CELL_TIMEOUT seconds fails the test (the time budget: keep them small).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.md"))
CELL_TIMEOUT = 60  # seconds; the whole set runs in well under a minute


#: Runs in a child process, so the Jupyter libraries never load into (and grow) the test process.
#: Each notebook gets a fresh kernel; a failure is written beside its notebook, the others still run.
RUN_SCRIPT = """
import sys, traceback, jupytext, nbclient, nbformat
timeout, folder, pairs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
for source, result in zip(pairs[::2], pairs[1::2]):
    notebook = jupytext.read(source)
    try:
        nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": folder}}).execute()
    except Exception:
        open(result + ".error", "w").write(traceback.format_exc())
    nbformat.write(notebook, result)
"""


def require_jupyter() -> None:
    """Skip without the notebook packages, except in CI (the [test] extra installs them: missing is a failure)."""
    for name in ("jupytext", "nbclient", "nbformat", "ipykernel"):
        if importlib.util.find_spec(name) is None:
            assert not os.environ.get("CI"), f"{name} is missing: pip install -e '.[test]'"
            pytest.skip(f"{name} is not installed")


@functools.cache  # the notebooks run once, in one child process, however many tests look at them
def executed_all() -> dict[str, dict[str, Any]]:
    """Every tutorial run top to bottom, each in a fresh kernel (cwd: the tutorials folder), by file name."""
    require_jupyter()
    # A kernel as a user gets it: matplotlib's inline backend (headless), not the suite's MPLBACKEND.
    environment = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    # The kernels (grandchildren) import this checkout, not another installed copy.
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as folder:
        results = {path.name: Path(folder) / f"{path.stem}.ipynb" for path in NOTEBOOKS}
        pairs = [str(part) for path in NOTEBOOKS for part in (path, results[path.name])]
        arguments = [str(CELL_TIMEOUT), str(TUTORIALS), *pairs]
        run = subprocess.run(
            [sys.executable, "-c", RUN_SCRIPT, *arguments], capture_output=True, text=True, env=environment, timeout=900
        )
        assert run.returncode == 0, run.stderr[-4000:]
        notebooks = {}
        for name, result in results.items():
            error = result.with_name(result.name + ".error")
            notebooks[name] = {"error": error.read_text() if error.exists() else None, **json.loads(result.read_text())}
        return notebooks


def executed(path: Path) -> dict[str, Any]:
    """The notebook built from ``path``, run top to bottom in a fresh kernel; fails with the first error's traceback."""
    notebook = executed_all()[path.name]
    assert notebook["error"] is None, f"{path.name} failed:\n{notebook['error'][-4000:]}"
    return notebook


def outputs_of(notebook: Any, ending: str) -> list[dict[str, Any]]:
    """The outputs of the one code cell whose source ends with ``ending``."""
    sources = [(cell, "".join(cell["source"]).rstrip()) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    cells = [cell for cell, source in sources if source.endswith(ending)]
    assert len(cells) == 1, f"expected one cell ending in {ending!r}, found {len(cells)}"
    return cells[0]["outputs"]


def mime_types(outputs: list[dict[str, Any]]) -> set[str]:
    return {kind for output in outputs for kind in output.get("data", {})}


def test_there_are_tutorials_and_each_is_a_jupytext_notebook() -> None:
    assert len(NOTEBOOKS) >= 1
    for path in NOTEBOOKS:
        assert path.read_text(encoding="utf-8").startswith("---\njupyter:\n  jupytext:"), path.name
    assert not list(TUTORIALS.glob("*.ipynb")), "the .ipynb files are built from the .md files, not committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_tutorial_runs_top_to_bottom_without_errors(path: Path) -> None:
    notebook = executed(path)  # a failing cell stops the run with its traceback
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code and all(cell["execution_count"] for cell in code)  # every cell ran
    assert not [output for cell in code for output in cell["outputs"] if output["output_type"] == "error"]


def test_a_cell_ending_in_history_plot_shows_the_picture_and_models_and_tensors_show_tables() -> None:
    notebook = executed(TUTORIALS / "mnist-mlp.md")
    plot = outputs_of(notebook, "history.plot()")
    assert "image/png" in mime_types(plot)
    fitted = outputs_of(notebook, "\nhistory")
    assert "image/png" in mime_types(fitted)
    streams = [(output["name"], "".join(output["text"])) for output in fitted if output["output_type"] == "stream"]
    printed = "".join(text for _, text in streams)  # the progress lines, on stdout (stderr looks like an error)
    assert {name for name, _ in streams} == {"stdout"} and printed.startswith("epoch 1/3: loss ")
    assert printed.splitlines()[-1].startswith("epoch 3/3: loss ")
    model = outputs_of(notebook, "\nmodel")
    assert "text/html" in mime_types(model)
    table = "".join("".join(output["data"]["text/html"]) for output in model)
    assert "Dense(784 -&gt; 64" in table and "50,890" in table  # 784*64+64 + 64*10+10 parameters
    tensor = "".join("".join(output["data"].get("text/html", "")) for output in outputs_of(notebook, "b2"))
    assert "b2" in tensor and "grad" in tensor
