"""The report of one check, for the terminal (``str``) and for a notebook (``_repr_html_``)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite.exercises.grader import Failure, Result

#: At most this many elements are listed per failing gradient (mismatches first).
MAX_ROWS = 8


def array_text(value: Any, digits: int = 6) -> str:
    """An array on one line."""
    array = np.asarray(value)
    if array.dtype.kind == "f":
        text = np.array2string(array, precision=digits, separator=", ", threshold=20, max_line_width=10_000)
    else:
        text = np.array2string(array, separator=", ", threshold=20, max_line_width=10_000)
    return " ".join(text.split())


def example_lines(failure: Failure, names: list[str], tangent: bool = False) -> list[str]:
    """The smallest failing example: every input, the parameters and the upstream gradient."""
    context = failure.context
    lines = []
    for index, value in enumerate(context.inputs):
        name = names[index] if index < len(names) else f"input {index}"
        lines.append(f"{name} = {array_text(value)}   (shape {np.shape(value)}, {failure.dtype})")
    for key, value in context.params.items():
        if value is not None:
            lines.append(f"{key} = {array_text(value) if isinstance(value, np.ndarray) else repr(value)}")
    what = "tangent t" if tangent else "upstream g"
    lines.append(f"{what} = {array_text(context.upstream)}")
    return lines


def element_rows(failure: Failure) -> list[str]:
    """Expected (engine), central differences and yours, per element, the mismatching ones first."""
    context = failure.context
    got, expected = context.got, context.expected
    if got is None or got.shape != expected.shape:
        return []
    numerical = failure.numerical if failure.numerical is not None and failure.numerical.shape == got.shape else None
    with np.errstate(all="ignore"):
        wrong = ~np.isclose(got, expected, rtol=1e-6, atol=1e-9)
    order = sorted(np.ndindex(got.shape), key=lambda index: not wrong[index])
    header = f"    {'element':<12}{'engine':>14}{'central diff':>14}{'yours':>14}"
    rows = [header]
    for index in order[:MAX_ROWS]:
        central = f"{numerical[index]:>14.6g}" if numerical is not None else f"{'':>14}"
        mark = "   <- differs" if wrong[index] else ""
        rows.append(f"    {str(index):<12}{expected[index]:>14.6g}{central}{got[index]:>14.6g}{mark}")
    if len(order) > MAX_ROWS:
        rows.append(f"    ... {len(order) - MAX_ROWS} more elements ({int(wrong.sum())} differ in all)")
    return rows


class Report:
    """What ``check`` found: printable, and shown inline in a notebook."""

    def __init__(self, result: Result, hints_left: int = 0, page: Path | None = None, page_html: str = "") -> None:
        self.result = result
        self.hints_left = hints_left
        self.page = page  # where the side-by-side page was written (the command line writes one)
        self.page_html = page_html

    @property
    def passed(self) -> bool:
        """True when the solution passed every example."""
        return self.result.passed

    def lines(self) -> list[str]:
        """The report, line by line."""
        result, exercise = self.result, self.result.exercise
        if result.passed:
            return [
                f"{exercise.name}: PASSED ({exercise.title})",
                f"  {result.examples} examples drawn like the engine's own property test (shapes, broadcasting, "
                "float32, edge values), checked against the engine's op and central differences.",
            ]
        failure = result.failure
        assert failure is not None
        names = list(exercise.reference_op.arguments) if exercise.reference_op is not None else []
        if exercise.kind == "graph":
            names = list(exercise.graph.__code__.co_varnames[: len(failure.context.inputs)]) if exercise.graph else []
        lines = [
            f"{exercise.name}: FAILED ({exercise.title})",
            f"  {failure.message}",
        ]
        if failure.where:
            lines += ["  in your code:", *("  " + line for line in failure.where.rstrip().splitlines())]
        if failure.edge:
            lines.append(f"  {result.examples - 1} drawn examples passed; this edge case fails:")
        else:
            lines.append(f"  smallest failing example hypothesis found (after {result.examples} tried):")
        lines += [f"    {line}" for line in example_lines(failure, names, exercise.kind == "jvp")]
        rows = element_rows(failure)
        if rows:
            lines += [f"  the gradient of {failure.context.name}, element by element:", *rows]
        lines += self.advice()
        return lines

    def advice(self) -> list[str]:
        """The diagnosis, the page and where to find help."""
        result, exercise = self.result, self.result.exercise
        mistake = result.diagnosis
        lines = []
        if mistake is not None:
            lines.append(f"  diagnosis: {mistake.label}: {mistake.message}")
        elif result.failure is not None and result.failure.context.error is not None:
            lines.append("  diagnosis: fix the error above first (your line is shown)")
        else:
            lines.append("  diagnosis: no classic mistake recognised; compare your numbers with the engine's above")
        if self.page is not None:
            lines.append(f"  side by side, node by node, first diverging node highlighted: {self.page}")
        elif exercise.kind == "jvp":
            lines.append(
                "  (forward mode has no backward pass to put side by side: the numbers above are the comparison)"
            )
        if self.hints_left:
            lines.append(f"  stuck? autograd-lite exercise hint {exercise.name}  ({self.hints_left} hint(s) left)")
        lines.append(f"  the engine's own answer: {exercise.reference}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#c00"
        body = html.escape(str(self))
        page = ""
        if self.page_html:
            document = html.escape(self.page_html, quote=True)
            page = f'<iframe srcdoc="{document}" style="width:100%;height:480px;border:1px solid #ccc"></iframe>'
        return f'<div><pre style="border-left:4px solid {colour};padding-left:.6em">{body}</pre>{page}</div>'
