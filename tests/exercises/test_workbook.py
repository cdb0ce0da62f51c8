"""The learner's files: stubs, never overwriting edits, loading, hints and the progress file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograd_lite.exercises import EXERCISES, find
from autograd_lite.exercises.workbook import (
    Progress,
    WorkbookError,
    load_solution,
    start,
    stub_text,
    unlock_hint,
)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.name)
def test_every_stub_loads_and_leaves_the_rules_unwritten(exercise, tmp_path: Path) -> None:
    path, _ = start(exercise, tmp_path)
    text = path.read_text()
    assert text == stub_text(exercise)
    assert f"autograd-lite exercise check {exercise.name}" in text and exercise.reference in text
    solution = load_solution(exercise, path)  # the stub is valid Python defining what the grader takes
    assert callable(solution)
    assert text.count("raise NotImplementedError") >= 1


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.kind != "graph"], ids=lambda e: e.name)
def test_stubs_do_not_ship_the_solution(exercise) -> None:
    # the rules' bodies are left out: every rule method raises until the learner writes it
    assert "return g" not in stub_text(exercise) and "return t" not in stub_text(exercise)


def test_start_never_overwrites_an_edited_file_without_force(tmp_path: Path) -> None:
    exercise = find("sigmoid")
    path, _ = start(exercise, tmp_path)
    start(exercise, tmp_path)  # an untouched stub: starting again changes nothing
    assert path.read_text() == stub_text(exercise)
    edited = stub_text(exercise).replace('raise NotImplementedError("write vjp_a")', "return g * out * (1 - out)")
    path.write_text(edited)
    with pytest.raises(WorkbookError, match="has your edits; it is kept"):
        start(exercise, tmp_path)
    assert path.read_text() == edited
    start(exercise, tmp_path, force=True)
    assert path.read_text() == stub_text(exercise)
    assert (tmp_path / "sigmoid.py.bak").read_text() == edited


def test_hints_unlock_one_at_a_time_and_stay_unlocked(tmp_path: Path) -> None:
    exercise = find("matmul")
    shown = [unlock_hint(exercise, tmp_path) for _ in range(len(exercise.hints) + 1)]
    assert [len(hints) for hints in shown] == [1, 2, 3, 3]
    assert shown[-1] == list(exercise.hints)
    assert Progress(tmp_path).entry("matmul")["hints"] == 3


def test_progress_is_saved_atomically_and_keeps_a_pass(tmp_path: Path) -> None:
    progress = Progress(tmp_path)
    progress.record_check("exp", passed=True)
    progress.record_check("exp", passed=False)
    data = json.loads((tmp_path / "progress.json").read_text())
    assert data["exercises"]["exp"]["status"] == "passed" and data["exercises"]["exp"]["attempts"] == 2
    assert data["exercises"]["exp"]["last"] == "failed"
    assert [p.name for p in tmp_path.iterdir()] == ["progress.json"]  # no temporary file left behind


@pytest.mark.parametrize("content", ["{not json", '{"exercises": 3}', "[]", '{"exercises": {"exp": 1}}'])
def test_a_damaged_progress_file_is_refused_not_overwritten(tmp_path: Path, content: str) -> None:
    (tmp_path / "progress.json").write_text(content)
    with pytest.raises(WorkbookError, match="progress"):
        Progress(tmp_path)
    assert (tmp_path / "progress.json").read_text() == content


def test_a_learner_file_that_fails_to_load_is_reported_with_its_line(tmp_path: Path) -> None:
    exercise = find("exp")
    (tmp_path / "exp.py").write_text("import numpy as np\n\nx = 1 / 0\n")
    with pytest.raises(WorkbookError, match=r"ZeroDivisionError.*\n.*exp.py, line 3"):
        load_solution(exercise, tmp_path / "exp.py")
    (tmp_path / "exp.py").write_text("class NotExp:\n    pass\n")
    with pytest.raises(WorkbookError, match="defines no 'Exp'"):
        load_solution(exercise, tmp_path / "exp.py")
    with pytest.raises(WorkbookError, match="exercise start log"):
        load_solution(find("log"), tmp_path / "log.py")
