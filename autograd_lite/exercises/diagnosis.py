"""Recognising the classic mistake behind a failure: the learner's gradient against wrong versions of the right one.

Each :class:`~autograd_lite.exercises.exercise.Mistake` computes what a gradient with that
mistake would be (the right one with its sign flipped, without the upstream factor,
transposed, summed over the wrong axis, ...) and compares. A mistake is named only when it
explains the smallest failing example, and, of those, the one that explains the most of the
other failing examples hypothesis saw on the way (two wrong formulas can agree on one input,
rarely on all of them).
"""

from __future__ import annotations

import numpy as np

from autograd_lite.exercises.exercise import Context, Exercise, Mistake
from autograd_lite.exercises.grader import Failure


def explains(mistake: Mistake, context: Context) -> bool:
    """True when ``mistake`` accounts for the learner's answer in ``context`` (never raises)."""
    try:
        with np.errstate(all="ignore"):
            return bool(mistake.test(context))
    except Exception:
        return False


def diagnose(exercise: Exercise, final: Failure, seen: list[Failure]) -> Mistake | None:
    """The classic mistake behind ``final`` (the smallest failing example), or None when none fits."""
    if final.stage in ("forward", "numerical", "engine"):
        return None  # not a wrong formula of the kind the mistakes describe
    related = [failure.context for failure in seen if failure.context.name == final.context.name]
    best: Mistake | None = None
    best_count = 0
    for mistake in exercise.all_mistakes:
        if not explains(mistake, final.context):
            continue
        count = sum(explains(mistake, context) for context in related)
        if count > best_count:
            best, best_count = mistake, count
    return best
