"""docs/make_figures.py: re-runnable and deterministic, and it makes every figure the tutorial shows."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"

if shutil.which("dot") is None and not os.environ.get("CI"):
    pytest.skip("Graphviz 'dot' is not installed", allow_module_level=True)
pytest.importorskip("matplotlib")


def load_script():
    spec = importlib.util.spec_from_file_location("docs_make_figures", DOCS / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_figures_are_deterministic_and_cover_the_tutorial(tmp_path) -> None:
    script = load_script()
    first = {path.name: path.read_bytes() for path in script.make_all(tmp_path / "first")}
    second = {path.name: path.read_bytes() for path in script.make_all(tmp_path / "second")}
    assert first == second
    tutorial = (DOCS / "backprop-step-by-step.md").read_text(encoding="utf-8")
    referenced = set(re.findall(r"\(figures/([^)]+)\)", tutorial))
    assert referenced == set(first)
    assert referenced == {path.name for path in (DOCS / "figures").iterdir()}  # all committed, nothing stale
    assert b"<svg" in first["gradient-descent.svg"] and b"Next" in first["sigmoid-stepper.html"]
