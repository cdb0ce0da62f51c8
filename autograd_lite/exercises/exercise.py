"""What an exercise is, as data: its maths, hints, stub, how its inputs are drawn and its classic mistakes.

Three kinds of exercise:

- ``"vjp"``: the learner writes the ``vjps`` of a Node whose ``forward`` is given; graded against
  the engine's own op (the ``reference``) and against central differences.
- ``"jvp"``: the same for a forward-mode rule (``jvps``).
- ``"graph"``: the learner writes a whole backward pass by hand, a function returning the gradient
  of every named value of a small graph (the lessons' ``delta2 = ...; dW2 = ...``); graded node by
  node against the engine's backward through the same graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, unbroadcast


@dataclass(frozen=True)
class Case:
    """One drawn example: the input arrays and how the engine computes the op (or graph) on them.

    For ``"vjp"``/``"jvp"`` exercises ``function`` takes Tensors and returns the output of one
    Node of the reference op (its params are read from that Node). For ``"graph"`` exercises
    ``constants`` holds the arrays that are not differentiated (class labels).
    """

    inputs: tuple[np.ndarray, ...]
    function: Callable[..., Tensor] | None = None
    constants: dict[str, Any] = field(default_factory=dict)
    smooth: bool = True  # False where central differences are meaningless (ties of max)

    def __repr__(self) -> str:  # hypothesis prints it when it reports an example
        shapes = ", ".join(str(x.shape) for x in self.inputs)
        return f"Case(shapes {shapes})"


@dataclass
class Context:
    """Everything known about one failing gradient, for recognising the mistake behind it."""

    name: str  # the input (or the graph's value) whose gradient is wrong
    index: int  # its position among the inputs (or among the graded values)
    upstream: np.ndarray  # the gradient that arrived from above (a tangent for jvp exercises)
    out: np.ndarray  # the op's output
    inputs: tuple[np.ndarray, ...]
    params: dict[str, Any]
    expected: np.ndarray  # the engine's answer
    local: np.ndarray | None  # the engine's answer for an upstream of ones (the local derivative alone)
    got: np.ndarray | None  # the learner's answer (None when their code raised)
    error: BaseException | None = None
    others: dict[str, np.ndarray] = field(default_factory=dict)  # "graph": the engine's gradient of every value


Test = Callable[[Context], bool]


@dataclass(frozen=True)
class Mistake:
    """A classic mistake: how to recognise it in a :class:`Context`, and what to tell the learner."""

    label: str  # short, e.g. "sign slip"
    message: str
    test: Test


def close(got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """Same shape and close everywhere (nan only where the other has nan)."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False
    finite = np.abs(want[np.isfinite(want)])
    scale = max(1.0, float(finite.max(initial=0.0)))
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.allclose(got, want, rtol=rtol, atol=atol * scale))


def equals(wrong: Callable[[Context], Any]) -> Test:
    """A test that the learner's gradient equals ``wrong(context)`` (and that it differs from the right one)."""

    def test(context: Context) -> bool:
        if context.got is None:
            return False
        try:
            with np.errstate(all="ignore"):
                candidate = np.asarray(wrong(context), dtype=np.float64)
        except Exception:  # the wrong formula does not even apply to these shapes
            return False
        if candidate.shape != context.got.shape and candidate.ndim >= context.got.ndim:
            try:  # delivered as the grader delivers the learner's: summed over broadcast axes
                candidate = np.asarray(unbroadcast(candidate, context.got.shape))
            except ValueError:
                return False
        return close(context.got, candidate) and not close(candidate, context.expected)

    return test


def raises(pattern: str) -> Test:
    """A test that the learner's code raised an error whose message matches ``pattern``."""
    return lambda context: context.error is not None and re.search(pattern, str(context.error)) is not None


def _unbroadcast_missing(context: Context) -> bool:
    got, expected = context.got, context.expected
    if got is None or got.shape == expected.shape or got.ndim < expected.ndim:
        return False
    try:
        return close(unbroadcast(got, expected.shape), expected)
    except ValueError:
        return False


def _transposed(context: Context) -> Any:
    if context.expected.ndim < 2:
        raise ValueError("a vector has no transpose")
    return np.swapaxes(context.expected, -1, -2)


def _not_finite(context: Context) -> bool:
    got = context.got
    if got is None or got.shape != context.expected.shape:
        return False
    return bool(np.any(~np.isfinite(got) & np.isfinite(context.expected)))


#: Mistakes every exercise can make, tried after the exercise's own (which are more specific).
GENERIC_MISTAKES: tuple[Mistake, ...] = (
    Mistake(
        "not written yet",
        "this rule still raises NotImplementedError: replace the raise with your formula",
        lambda c: isinstance(c.error, NotImplementedError),
    ),
    Mistake(
        "changed in place",
        "a rule must leave its arguments alone: the engine hands it its own buffers (g may be shared by other "
        "nodes), so `g *= x` corrupts them; return a new array (g * x)",
        lambda c: type(c.error).__name__ == "InPlaceError",
    ),
    Mistake(
        "overflow",
        "your gradient is nan or inf where the engine's is finite: an exp overflowed or you divided by zero "
        "(float32 overflows from exp(89) on); compute it from `out`, the op's output, which is already finite",
        _not_finite,
    ),
    Mistake(
        "missing un-broadcast sum",
        "your gradient has the broadcast shape of the output, not the input's: an input that was broadcast "
        "was used many times, so its gradient is the SUM over the broadcast axes (leading axes, and axes "
        "where the input has size 1, kept with keepdims=True)",
        _unbroadcast_missing,
    ),
    Mistake(
        "sign slip",
        "your gradient has the right size but the opposite sign everywhere: check the minus signs",
        equals(lambda c: -c.expected),
    ),
    Mistake(
        "missing upstream factor",
        "your gradient is the local derivative alone: multiply it by the upstream gradient g (the chain rule: "
        "dL/dinput = dL/dout * dout/dinput)",
        equals(lambda c: c.local),
    ),
    Mistake(
        "transposed",
        "your gradient is the transpose of the right one: check the order of the matrix product and where "
        "the .T goes (the gradient always has the shape of its input)",
        equals(_transposed),
    ),
)


@dataclass(frozen=True)
class Exercise:
    """One exercise of the catalogue (see the module docstring for the kinds)."""

    name: str
    title: str
    kind: str  # "vjp", "jvp" or "graph"
    statement: str  # the maths, a few lines
    hints: tuple[str, ...]
    stub: str  # the learner's file, solution left out (a template: {header} is the docstring)
    solution: str  # the name of the class (or function) the grader takes from the learner's file
    reference: str  # where the engine's own answer lives, for a learner who is stuck
    cases: Callable[[], Any]  # () -> a hypothesis strategy of Cases
    edges: Callable[[], list[Case]] = lambda: []  # edge values always tried first
    mistakes: tuple[Mistake, ...] = ()
    strict_shapes: bool = False  # the learner sums broadcast axes themselves (the un-broadcasting lesson)
    reference_op: type[Node] | None = None  # "vjp"/"jvp": the engine's op the answer is compared with
    graph: Callable[..., dict[str, Tensor]] | None = None  # "graph": named values of the forward pass, "out" last
    graded: tuple[str, ...] = ()  # "graph": the values whose gradients the learner returns, in backward order

    @property
    def all_mistakes(self) -> tuple[Mistake, ...]:
        """The exercise's own mistakes, then the generic ones."""
        return (*self.mistakes, *GENERIC_MISTAKES)
