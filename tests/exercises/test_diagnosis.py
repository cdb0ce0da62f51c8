"""Every exercise: the engine's own answer passes, and typical wrong answers fail with the right diagnosis."""

from __future__ import annotations

from typing import Any

import pytest
from exercise_solutions import EXERCISES, WRONG, engine_solution, find

from autograd_lite.exercises.grader import grade


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.name)
def test_the_engines_own_answer_passes(exercise: Any) -> None:
    result = grade(exercise, engine_solution(exercise))
    assert result.passed, result.failure and result.failure.message
    assert result.examples > 10  # drawn examples, not a vacuous pass


@pytest.mark.parametrize(("name", "label", "solution"), WRONG, ids=[f"{n}-{label}" for n, label, _ in WRONG])
def test_a_typical_wrong_answer_fails_with_its_diagnosis(name: str, label: str, solution: Any) -> None:
    result = grade(find(name), solution)
    assert not result.passed
    found = result.diagnosis.label if result.diagnosis is not None else None
    assert found == label, f"{result.failure.message}; diagnosed {found!r}"


def test_every_exercise_family_has_at_least_three_wrong_answers() -> None:
    counts = {exercise.name: sum(name == exercise.name for name, _, _ in WRONG) for exercise in EXERCISES}
    assert all(count >= 3 for count in counts.values()), counts
