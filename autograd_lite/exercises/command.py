"""``autograd-lite exercise``: list, start, check and hint, on files in ``exercises/`` (or ``--dir``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograd_lite.exercises.catalogue import EXERCISES, find
from autograd_lite.exercises.workbook import (
    DEFAULT_DIRECTORY,
    Progress,
    WorkbookError,
    atomic_write,
    exercise_path,
    load_solution,
    start,
    unlock_hint,
)


def parser() -> argparse.ArgumentParser:
    """The command's arguments."""
    parse = argparse.ArgumentParser(
        prog="autograd-lite exercise",
        description="Write an op's backward yourself; it is graded by the engine's own property tests.",
    )
    parse.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="where your exercise files live")
    commands = parse.add_subparsers(dest="action", required=True)
    commands.add_parser("list", help="the exercises in lesson order, with your progress")
    begin = commands.add_parser("start", help="write the stub file of an exercise")
    begin.add_argument("name")
    begin.add_argument("--force", action="store_true", help="replace your edited file (kept as NAME.py.bak)")
    grade = commands.add_parser("check", help="grade your solution (or --all: every exercise started)")
    grade.add_argument("name", nargs="?")
    grade.add_argument("--all", action="store_true")
    hint = commands.add_parser("hint", help="unlock the next hint of an exercise")
    hint.add_argument("name")
    return parse


def main(arguments: list[str]) -> int:
    """Run the command; a problem with the learner's files is one clear line and exit code 1."""
    options = parser().parse_args(arguments)
    try:
        if options.action == "list":
            print(progress_table(options.dir))
            return 0
        if options.action == "start":
            _, message = start(find(options.name), options.dir, options.force)
            print(message)
            return 0
        if options.action == "hint":
            exercise = find(options.name)
            hints = unlock_hint(exercise, options.dir)
            for number, text in enumerate(hints, 1):
                print(f"hint {number} of {len(exercise.hints)}: {text}")
            return 0
        if options.all:
            return check_all(options.dir)
        if not options.name:
            print("autograd-lite exercise check: name an exercise, or use --all", file=sys.stderr)
            return 2
        return check_one(options.name, options.dir)
    except (WorkbookError, ValueError) as error:
        print(f"autograd-lite exercise: {error}", file=sys.stderr)
        return 1


def check_one(name: str, directory: Path, quiet: bool = False) -> int:
    """Grade the learner's file for ``name``, record the attempt, write the page on failure, print the report."""
    from autograd_lite.exercises import summary_of
    from autograd_lite.exercises.grader import grade
    from autograd_lite.exercises.page import side_by_side
    from autograd_lite.exercises.report import Report

    exercise = find(name)
    solution = load_solution(exercise, exercise_path(exercise, directory))
    result = grade(exercise, solution)
    progress = Progress(directory)
    progress.record_check(exercise.name, result.passed)
    page = directory / f"{exercise.name}.html"
    if result.failure is not None and exercise.kind != "jvp":
        atomic_write(page, side_by_side(exercise, solution, result.failure.case, summary_of(result)))
    else:
        page.unlink(missing_ok=True)  # the page of an earlier failure would show what is fixed now
    hints_left = len(exercise.hints) - progress.entry(exercise.name)["hints"]
    if not quiet:
        print(Report(result, hints_left, page if page.exists() else None))
    return 0 if result.passed else 1


def check_all(directory: Path) -> int:
    """Grade every exercise that has a file, then print the progress table."""
    failed = 0
    for exercise in EXERCISES:
        if not exercise_path(exercise, directory).exists():
            continue
        try:
            failed += check_one(exercise.name, directory, quiet=True)
        except WorkbookError as error:
            print(f"{exercise.name}: {error}", file=sys.stderr)
            failed += 1
    print(progress_table(directory))
    return 1 if failed else 0


def progress_table(directory: Path) -> str:
    """The exercises in lesson order with their status, attempts and hints unlocked."""
    progress = Progress(directory)
    lines = [f"{'#':>3}  {'exercise':<22}{'status':<13}{'attempts':>8}{'hints':>7}  title"]
    done = 0
    for number, exercise in enumerate(EXERCISES, 1):
        entry = progress.entry(exercise.name)
        done += entry["status"] == "passed"
        hints = f"{entry['hints']}/{len(exercise.hints)}"
        lines.append(
            f"{number:>3}  {exercise.name:<22}{entry['status']:<13}{entry['attempts']:>8}{hints:>7}  {exercise.title}"
        )
    lines.append(f"\n{done} of {len(EXERCISES)} passed. Start one: autograd-lite exercise start NAME")
    return "\n".join(lines)
