"""``autograd-lite exercise``: list, start, check (one and --all) and hint, as a learner runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autograd_lite.cli import main
from autograd_lite.exercises import EXERCISES, check
from autograd_lite.exercises import grader as grading
from autograd_lite.ops import Sigmoid


def run(capsys, tmp_path: Path, *arguments: str) -> tuple[int, str, str]:
    code = main(["exercise", "--dir", str(tmp_path), *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_solution(tmp_path: Path, name: str, replacements: dict[str, str]) -> None:
    path = tmp_path / f"{name}.py"
    text = path.read_text()
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)


def test_list_shows_every_exercise_in_lesson_order(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, tmp_path, "list")
    assert code == 0
    names = re.findall(r"^ +\d+  (\S+)", out, flags=re.MULTILINE)
    assert names == [exercise.name for exercise in EXERCISES]
    assert "0 of 18 passed" in out


def test_a_learners_session_on_sigmoid(capsys, tmp_path: Path) -> None:
    assert run(capsys, tmp_path, "start", "sigmoid")[0] == 0
    code, out, _ = run(capsys, tmp_path, "check", "sigmoid")
    assert code == 1 and "not written yet" in out and "raise NotImplementedError" in out

    write_solution(tmp_path, "sigmoid", {'raise NotImplementedError("write vjp_a")': "return g * out"})
    code, out, _ = run(capsys, tmp_path, "check", "sigmoid")
    assert code == 1
    assert "smallest failing example" in out and "<- differs" in out
    assert "diagnosis: missing (1 - out)" in out
    page = tmp_path / "sigmoid.html"
    assert f"first diverging node highlighted: {page}" in out and 'class="node diverging"' in page.read_text()

    code, out, _ = run(capsys, tmp_path, "hint", "sigmoid")
    assert code == 0 and out.startswith("hint 1 of 3:")

    write_solution(tmp_path, "sigmoid", {"return g * out": "return g * out * (1 - out)"})
    code, out, _ = run(capsys, tmp_path, "check", "sigmoid")
    assert code == 0 and "sigmoid: PASSED" in out
    assert not page.exists()  # the page of the earlier failure is gone
    entry = json.loads((tmp_path / "progress.json").read_text())["exercises"]["sigmoid"]
    assert entry["status"] == "passed" and entry["attempts"] == 3 and entry["hints"] == 1

    code, out, _ = run(capsys, tmp_path, "start", "sigmoid")  # the solved file is kept
    assert code == 1 and "it is kept" in out + run(capsys, tmp_path, "start", "sigmoid")[2]


def test_check_all_grades_every_file_and_prints_the_table(capsys, tmp_path: Path) -> None:
    run(capsys, tmp_path, "start", "exp")
    run(capsys, tmp_path, "start", "log")
    write_solution(tmp_path, "exp", {'raise NotImplementedError("write vjp_a")': "return g * out"})
    code, out, _ = run(capsys, tmp_path, "check", "--all")
    assert code == 1  # log is not written yet
    rows = {line.split()[1]: line.split()[2] for line in out.splitlines() if re.match(r"\s+\d+\s", line)}
    assert rows["exp"] == "passed" and rows["log"] == "failed" and rows["add"] == "not"
    assert "1 of 18 passed" in out


def test_an_exception_in_the_learners_vjp_is_reported_with_its_line(capsys, tmp_path: Path) -> None:
    run(capsys, tmp_path, "start", "tanh")
    write_solution(tmp_path, "tanh", {'raise NotImplementedError("write vjp_a")': "return g * undefined_name"})
    code, out, _ = run(capsys, tmp_path, "check", "tanh")
    assert code == 1
    assert "your vjp for a raised NameError: name 'undefined_name' is not defined" in out
    assert "tanh.py, line" in out and "return g * undefined_name" in out


def test_an_endless_loop_is_stopped(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grading, "CALL_LIMIT", 0.2)
    run(capsys, tmp_path, "start", "relu")
    write_solution(tmp_path, "relu", {'raise NotImplementedError("write vjp_a")': "while True:\n            pass"})
    code, out, _ = run(capsys, tmp_path, "check", "relu")
    assert code == 1 and "LearnerTimeoutError: your code ran for more than 0.2 s" in out


def test_unknown_names_and_missing_files_are_one_clear_line(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, tmp_path, "start", "softplus")
    assert code == 1 and "no exercise called 'softplus'; choose from: add, mul" in err
    code, _, err = run(capsys, tmp_path, "check", "exp")
    assert code == 1 and "exercise start exp" in err
    code, _, err = run(capsys, tmp_path, "check")
    assert code == 2 and "--all" in err


def test_a_notebook_check_shows_the_report_and_the_page_inline() -> None:
    class Wrong(Sigmoid):
        vjps = (lambda g, out, a: -g * out * (1 - out),)

    report = check("sigmoid", Wrong)
    assert not report.passed and "diagnosis: sign slip" in str(report)
    shown = report._repr_html_()
    assert "<iframe srcdoc=" in shown and "FIRST DIVERGING NODE" in shown
    assert check("sigmoid", Sigmoid)._repr_html_().count("PASSED") == 1
