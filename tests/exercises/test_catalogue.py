"""The catalogue: lesson order, every exercise complete, the docs' table derived from it, shared strategies."""

from __future__ import annotations

import re
from pathlib import Path

import strategies

from autograd_lite.exercises import EXERCISES
from autograd_lite.exercises import strategies as library_strategies

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exercises.md"


def test_about_fifteen_exercises_each_complete() -> None:
    assert 15 <= len(EXERCISES) <= 20
    assert len({exercise.name for exercise in EXERCISES}) == len(EXERCISES)
    for exercise in EXERCISES:
        assert exercise.kind in ("vjp", "jvp", "graph")
        assert exercise.statement and exercise.reference and len(exercise.hints) >= 3
        assert (exercise.reference_op is not None) == (exercise.kind != "graph")
        assert (exercise.graph is not None) == (exercise.kind == "graph") == bool(exercise.graded)


def test_the_docs_table_lists_the_catalogue_in_order() -> None:
    rows = re.findall(r"^\| (\d+) \| `(\w+)` \| (.+?) \|", DOCS.read_text(), flags=re.MULTILINE)
    assert [(int(n), name, title) for n, name, title in rows] == [
        (number, exercise.name, exercise.title) for number, exercise in enumerate(EXERCISES, 1)
    ]


def test_the_grader_and_the_op_tests_draw_from_the_same_strategies() -> None:
    for name in ("shapes", "floats", "away_from_zero", "arrays", "broadcastable_arrays", "axes_for"):
        assert getattr(strategies, name) is getattr(library_strategies, name)
