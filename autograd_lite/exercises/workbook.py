"""The learner's side on disk: the stub files, loading their solution, hints, and the progress file.

Everything lives in one directory (``exercises/`` by default): ``<name>.py`` per exercise
started and ``progress.json``. Files are written atomically (a temporary file, then a rename),
``start`` never overwrites a file the learner edited (unless told to, and then keeps a
``.bak``), and nothing is sent anywhere.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from autograd_lite.exercises.catalogue import EXERCISES
from autograd_lite.exercises.exercise import Exercise

DEFAULT_DIRECTORY = Path("exercises")
PROGRESS_FILE = "progress.json"
#: A progress file larger than this is refused before it is read (it holds a few lines per exercise).
MAX_PROGRESS_BYTES = 1_000_000
STATUSES = ("not started", "started", "failed", "passed")


class WorkbookError(Exception):
    """A problem with the learner's files, with a message that says what to do."""


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def stub_text(exercise: Exercise) -> str:
    """The stub file of ``exercise``: its maths in the docstring, the forward given, the rules to write."""
    number = EXERCISES.index(exercise) + 1
    statement = "\n".join(f"    {line}" if line else "" for line in exercise.statement.splitlines())
    header = (
        f'"""Exercise {number} of {len(EXERCISES)}: {exercise.title}.\n\n{statement}\n\n'
        f"Write what raises NotImplementedError below, then:  autograd-lite exercise check {exercise.name}\n"
        f"Stuck?  autograd-lite exercise hint {exercise.name}   (hints unlock one at a time)\n"
        f"The engine's own answer, to read when stuck: {exercise.reference}.\n"
        '"""\n\n'
    )
    return header + exercise.stub


def exercise_path(exercise: Exercise, directory: Path) -> Path:
    """Where the learner's file for ``exercise`` lives."""
    return directory / f"{exercise.name}.py"


def start(exercise: Exercise, directory: Path, force: bool = False) -> tuple[Path, str]:
    """Write the stub; an edited file is kept unless ``force`` (then it is saved as ``<name>.py.bak``)."""
    path = exercise_path(exercise, directory)
    stub = stub_text(exercise)
    if path.exists():
        current = path.read_text(encoding="utf-8", errors="replace")
        if current == stub:
            return (
                path,
                f"{path} is already there, untouched: edit it, then run: autograd-lite exercise check {exercise.name}",
            )
        if not force:
            raise WorkbookError(
                f"{path} exists and has your edits; it is kept. Check it with: autograd-lite exercise check "
                f"{exercise.name}, or start over with --force (your file is then saved as {path.name}.bak)"
            )
        atomic_write(path.with_name(path.name + ".bak"), current)
        atomic_write(path, stub)
        return path, f"wrote a fresh {path} (your previous file is {path.name}.bak)"
    atomic_write(path, stub)
    Progress(directory).update(exercise.name, status="started")
    return path, f"wrote {path}: fill in the missing rules, then run: autograd-lite exercise check {exercise.name}"


def load_solution(exercise: Exercise, path: Path) -> Any:
    """Run the learner's file (their own Python) and take the class or function the exercise grades."""
    if not path.exists():
        raise WorkbookError(f"{path} does not exist: run  autograd-lite exercise start {exercise.name}  first")
    module_name = f"autograd_lite_exercise_{exercise.name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop(module_name, None)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        from autograd_lite.exercises.grader import learner_lines

        raise WorkbookError(
            f"{path} raised {type(error).__name__} while loading: {error}\n{learner_lines(error)}".rstrip()
        ) from None
    solution = getattr(module, exercise.solution, None)
    if solution is None:
        raise WorkbookError(f"{path} defines no {exercise.solution!r}: the grader takes that {exercise.kind} rule")
    return solution


class Progress:
    """``progress.json`` beside the exercises: per exercise its status, attempts and hints unlocked."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / PROGRESS_FILE
        self.entries: dict[str, dict[str, Any]] = self._read()

    def _read(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        if self.path.stat().st_size > MAX_PROGRESS_BYTES:
            raise WorkbookError(f"{self.path} is larger than {MAX_PROGRESS_BYTES:,} bytes: not a progress file")
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise WorkbookError(f"{self.path} is not valid JSON ({error}); fix it or delete it to start over") from None
        entries = data.get("exercises") if isinstance(data, dict) else None
        if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
            raise WorkbookError(f"{self.path} is not a progress file ('exercises' missing); fix it or delete it")
        return entries

    def entry(self, name: str) -> dict[str, Any]:
        """The record of one exercise (defaults when it has none)."""
        found = self.entries.get(name, {})
        status = found.get("status") if found.get("status") in STATUSES else "not started"
        hints = found.get("hints") if isinstance(found.get("hints"), int) else 0
        attempts = found.get("attempts") if isinstance(found.get("attempts"), int) else 0
        return {
            "status": status, "hints": hints, "attempts": attempts,
            "passed_at": found.get("passed_at"), "last": found.get("last"),
        }  # fmt: skip

    def update(self, name: str, **changes: Any) -> None:
        """Change one exercise's record and save the file atomically."""
        entry = self.entry(name)
        entry.update(changes)
        if changes.get("status") == "passed" and not entry.get("passed_at"):
            entry["passed_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.entries[name] = entry
        atomic_write(self.path, json.dumps({"version": 1, "exercises": self.entries}, indent=2, sort_keys=True) + "\n")

    def record_check(self, name: str, passed: bool) -> None:
        """Count an attempt; a pass is kept even if a later attempt fails (the table shows both)."""
        entry = self.entry(name)
        status = "passed" if passed or entry["status"] == "passed" else "failed"
        self.update(name, status=status, attempts=entry["attempts"] + 1, last="passed" if passed else "failed")


def unlock_hint(exercise: Exercise, directory: Path) -> list[str]:
    """Unlock the next hint of ``exercise`` (all of them stay unlocked) and return those unlocked."""
    progress = Progress(directory)
    shown = min(progress.entry(exercise.name)["hints"] + 1, len(exercise.hints))
    progress.update(exercise.name, hints=shown)
    return list(exercise.hints[:shown])
