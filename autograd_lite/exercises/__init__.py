"""Learn by writing it: exercises where you write an op's backward, graded by the engine's own property tests.

>>> import autograd_lite as ag
>>> report = ag.exercises.check("sigmoid", ag.ops.Sigmoid)  # the engine's own op passes, of course
>>> report.passed
True

From the command line: ``autograd-lite exercise list | start NAME | check NAME | check --all | hint NAME``.
A check draws inputs the way the op's own property test does, compares your gradient with the
engine's op and with central differences, shrinks a failure to the smallest example, names
the classic mistake when it recognises one, and puts your backward beside the engine's on the
same graph, node by node (see docs/exercises.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from autograd_lite.exercises.catalogue import EXERCISES, find
from autograd_lite.exercises.exercise import Exercise
from autograd_lite.exercises.report import Report

__all__ = ["EXERCISES", "Exercise", "Report", "check", "find"]


def check(name: str, solution: Any, page: bool = True, examples: int | None = None) -> Report:
    """Grade ``solution`` (your Node class, or your backward function for a graph exercise) for exercise ``name``.

    Returns a :class:`Report`: ``print`` it, or let a notebook show it (with the side-by-side
    page inline when ``page`` and the check failed). Nothing is written to disk.
    """
    from autograd_lite.exercises.grader import EXAMPLES, grade
    from autograd_lite.exercises.page import side_by_side

    exercise = find(name)
    result = grade(exercise, solution, EXAMPLES if examples is None else examples)
    page_html = ""
    if page and result.failure is not None and exercise.kind != "jvp":
        page_html = side_by_side(exercise, solution, result.failure.case, summary_of(result))
    return Report(result, page_html=page_html)


def summary_of(result: Any) -> str:
    """One line for the top of the page: what failed and the diagnosis."""
    failure, mistake = result.failure, result.diagnosis
    text = failure.message if failure is not None else "passed"
    return f"{text}. Diagnosis: {mistake.label}: {mistake.message}" if mistake is not None else text


def exercise_file(name: str, directory: str | Path = "exercises") -> Path:
    """Where ``autograd-lite exercise start NAME`` writes the stub for ``name``."""
    return Path(directory) / f"{find(name).name}.py"
