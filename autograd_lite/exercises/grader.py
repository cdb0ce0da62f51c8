"""Grading a learner's backward: the op's property test, run on their code, one drawn example at a time.

Every example is checked in float64 against the engine's own op (exactly) and against central
differences, then in float32 (where overflow shows), then through the engine itself (``apply`` and
backward). Hypothesis draws the examples and shrinks a failure to the smallest one; every
failing example seen is kept, so the diagnosis can ask which classic mistake explains them all.
The learner's code runs under a time limit, and whatever it raises is reported, never re-raised.
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite.engine import Node, Tensor, apply, run_backward, unbroadcast
from autograd_lite.exercises.exercise import Case, Context, Exercise, close
from autograd_lite.gradcheck import numerical_grad

#: Seconds one call of the learner's code may take before it is stopped (an endless loop, say).
CALL_LIMIT = 2.0
#: Examples hypothesis draws per check (after the edge values); a failure is then shrunk.
EXAMPLES = 60
#: The random seed of the search: the same file gets the same verdict and the same smallest example every time.
SEED = 15
PACKAGE = str(Path(__file__).resolve().parents[1])


class LearnerTimeoutError(Exception):
    """The learner's code ran longer than CALL_LIMIT seconds."""


class InPlaceError(Exception):
    """The learner's rule changed one of its arguments (an array the engine shares) in place."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop the code inside after ``seconds`` (SIGALRM; in the main thread on Unix, else no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise LearnerTimeoutError(f"your code ran for more than {seconds:g} s on one small example (an endless loop?)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Failure:
    """The first thing that went wrong on one example."""

    stage: str  # "error", "shape", "value", "numerical", "float32", "engine", "forward", "missing"
    context: Context
    case: Case
    dtype: str
    message: str
    numerical: np.ndarray | None = None
    where: str = ""  # the learner's lines in the traceback
    edge: bool = False  # found among the edge values (tried as given, not shrunk)


@dataclass
class Result:
    """The outcome of grading one solution: passed, or the smallest failure and a diagnosis."""

    exercise: Exercise
    examples: int
    failure: Failure | None = None
    seen: list[Failure] = field(default_factory=list)
    diagnosis: Any = None  # the Mistake recognised, if any
    page: Path | None = None  # the side-by-side page, when one was written

    @property
    def passed(self) -> bool:
        """True when every example passed."""
        return self.failure is None


def upstream_for(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """The gradient arriving from above: fixed values in [0.5, 1.5], never all equal (so a missing g shows)."""
    rng = np.random.default_rng(len(shape) + 7 * int(np.sum(shape)))
    return rng.uniform(0.5, 1.5, shape).astype(dtype)


def learner_lines(error: BaseException) -> str:
    """The frames of a traceback that are the learner's (not autograd_lite's or NumPy's), as text."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith((PACKAGE, "<")) and "numpy" not in frame.filename
    ]
    return "".join(f"  {Path(f.filename).name}, line {f.lineno}, in {f.name}: {f.line}\n" for f in frames)


def run_learner(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, BaseException | None]:
    """Call the learner's code under the time limit: (its result, None) or (None, what it raised)."""
    try:
        with time_limit(CALL_LIMIT), np.errstate(all="ignore"):
            return function(*args, **kwargs), None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: B036 - anything the learner's code raises is reported, never raised
        return None, error


def as_gradient(value: Any) -> tuple[np.ndarray | None, BaseException | None]:
    """The learner's returned value as a float array, or a TypeError saying what came back instead."""
    array = np.asarray(value) if value is not None else None
    if array is None or array.dtype.kind not in "fiub":
        shown = "None (a missing return?)" if value is None else f"a {type(value).__name__}"
        return None, TypeError(f"it returned {shown}, not an array of numbers")
    return array.astype(np.float64), None


@dataclass
class OpSetup:
    """One example run through the engine's op: what the reference Node saw and computed."""

    reference: type[Node]
    tensors: list[Tensor]  # the case's leaves
    node_inputs: tuple[Tensor, ...]
    inputs: tuple[np.ndarray, ...]
    params: dict[str, Any]
    out: np.ndarray
    upstream: np.ndarray


def op_setup(case: Case, dtype: Any) -> OpSetup:
    """Run the engine's op on the case's inputs (cast to ``dtype``) and read its Node."""
    assert case.function is not None
    tensors = [Tensor(x.astype(dtype), requires_grad=True) for x in case.inputs]
    output = case.function(*tensors)
    node = output.node
    assert node is not None, "an exercise case must record a Node"
    inputs = tuple(t.data for t in node.inputs)
    upstream = upstream_for(output.shape, dtype)
    return OpSetup(type(node), tensors, node.inputs, inputs, node.params, output.data, upstream)


def op_names(exercise: Exercise, setup: OpSetup) -> list[tuple[int, str]]:
    """(index, name) of the inputs that need a gradient, named as the op's formulas name them."""
    arguments = setup.reference.arguments
    return [
        (index, arguments[index] if index < len(arguments) else f"input {index}")
        for index, tensor in enumerate(setup.node_inputs)
        if tensor.requires_grad
    ]


def op_context(exercise: Exercise, solution: Any, setup: OpSetup, index: int, name: str) -> Context:
    """The engine's and the learner's answer for one input (a vjp, or a jvp with only that input moving).

    The learner's rule gets copies of the arrays, and a rule that changes one in place is refused: in
    the engine those are shared buffers (the upstream gradient, the inputs other nodes read too).
    """
    reference, inputs, params, out = setup.reference, setup.inputs, setup.params, setup.out
    like = inputs[index]
    if exercise.kind == "jvp":
        upstream = upstream_for(like.shape, like.dtype)
        tangents: list[Any] = [upstream if i == index else None for i in range(len(inputs))]
        expected = np.broadcast_to(reference.tangent(tangents, out, inputs, params), out.shape)
        local = None
    else:
        upstream = setup.upstream
        expected = unbroadcast(np.asarray(reference.vjp(index, upstream, out, inputs, params)), like.shape)
        ones = np.ones_like(upstream)
        local = unbroadcast(np.asarray(reference.vjp(index, ones, out, inputs, params)), like.shape)
    given = {"t" if exercise.kind == "jvp" else "g": upstream, "out": out}
    given.update(
        (reference.arguments[i] if i < len(reference.arguments) else f"input {i}", x) for i, x in enumerate(inputs)
    )
    copies = {key: np.array(value, copy=True) for key, value in given.items()}
    mine = tuple(copies[key] for key in list(copies)[2:])
    if exercise.kind == "jvp":
        moving = [copies["t"] if i == index else None for i in range(len(inputs))]
        raw, error = run_learner(solution.tangent, moving, copies["out"], mine, params)
    else:
        raw, error = run_learner(solution.vjp, index, copies["g"], copies["out"], mine, params)
    changed = [key for key in copies if not np.array_equal(copies[key], given[key], equal_nan=True)]
    if error is None and changed:
        error = InPlaceError(f"it changed {', '.join(changed)} in place")
    got, problem = (None, None) if error is not None else as_gradient(raw)
    return Context(
        name, index, upstream, out, inputs, params, np.asarray(expected, np.float64),
        None if local is None else np.asarray(local, np.float64), got, error or problem,
    )  # fmt: skip


def summable(shape: tuple[int, ...], input_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> bool:
    """Whether backward would sum a gradient of ``shape`` to ``input_shape`` (else it refuses it).

    Only what broadcasting can have added: leading axes the output has, and axes where the input has size 1.
    """
    extra = len(shape) - len(input_shape)
    fits = extra >= 0 and all(side in (1, given) for side, given in zip(input_shape, shape[extra:]))
    lead = len(out_shape) - len(shape)
    return fits and lead >= 0 and all(shape[i] in (1, out_shape[lead + i]) for i in range(extra))


def judge(exercise: Exercise, context: Context, case: Case, dtype: Any) -> Failure | None:
    """Compare the learner's answer in ``context`` with the engine's: the first problem, or None."""
    tag = np.dtype(dtype).name
    rule = "jvp" if exercise.kind == "jvp" else "vjp"
    if context.error is not None:
        where = learner_lines(context.error)
        message = f"your {rule} for {context.name} raised {type(context.error).__name__}: {context.error}"
        return Failure("error", context, case, tag, message, where=where)
    got, expected = context.got, context.expected
    assert got is not None
    if got.shape != expected.shape and not exercise.strict_shapes and exercise.kind == "vjp":
        if summable(got.shape, expected.shape, context.out.shape):  # as the engine's backward does
            context.got = got = np.asarray(unbroadcast(got, expected.shape))
    if got.shape != expected.shape and exercise.kind == "jvp":
        try:  # a tangent may come back in a shape that broadcasts to the output's
            context.got = got = np.array(np.broadcast_to(got, expected.shape))
        except ValueError:
            pass
    if got.shape != expected.shape:
        message = f"your {rule} for {context.name} returned shape {got.shape}; it must be {expected.shape}"
        return Failure("shape", context, case, tag, message)
    loose = tag == "float32"
    if not close(got, expected, rtol=1e-3 if loose else 1e-6, atol=1e-4 if loose else 1e-9):
        stage = "float32" if loose else "value"
        engine = "backward" if exercise.kind == "graph" else "op"
        message = f"your {rule} for {context.name} differs from the engine's {engine} ({tag})"
        return Failure(stage, context, case, tag, message)
    return None


def grade_op_case(exercise: Exercise, solution: Any, case: Case) -> Failure | None:
    """One example of a ``"vjp"``/``"jvp"`` exercise: float64, central differences, float32, the engine."""
    setup = op_setup(case, np.float64)
    failure = check_forward(solution, setup, case)
    if failure is not None:
        return failure
    contexts = []
    for index, name in op_names(exercise, setup):
        context = op_context(exercise, solution, setup, index, name)
        failure = judge(exercise, context, case, np.float64)
        if failure is not None:
            return failure
        contexts.append(context)
    if case.smooth:
        failure = check_numerical(exercise, setup, case, contexts)
        if failure is not None:
            return failure
    setup32 = op_setup(case, np.float32)
    for index, name in op_names(exercise, setup32):
        failure = judge(exercise, op_context(exercise, solution, setup32, index, name), case, np.float32)
        if failure is not None:
            return failure
    return check_in_engine(exercise, solution, setup, case, contexts)


def check_forward(solution: Any, setup: OpSetup, case: Case) -> Failure | None:
    """The learner's class must compute what the engine's op computes (the forward is given: keep it)."""
    out, error = run_learner(solution.forward, *setup.inputs, **setup.params)
    context = Context("out", 0, setup.upstream, setup.out, setup.inputs, setup.params, setup.out, None, None, error)
    if error is not None:
        message = f"your forward raised {type(error).__name__}: {error}"
        return Failure("forward", context, case, "float64", message, where=learner_lines(error))
    if not close(np.asarray(out, dtype=np.float64), setup.out, rtol=1e-9, atol=1e-12):
        context.got = np.asarray(out, dtype=np.float64)
        return Failure("forward", context, case, "float64", "your forward computes something else than the op's")
    return None


def check_numerical(exercise: Exercise, setup: OpSetup, case: Case, contexts: list[Context]) -> Failure | None:
    """The learner's gradients against central differences of the forward pass (the op's own property test)."""
    assert case.function is not None
    function = case.function
    upstream = setup.upstream
    positions = {id(tensor): position for position, tensor in enumerate(setup.tensors)}
    if exercise.kind == "jvp":
        return check_directional(exercise, setup, case, contexts)
    numerical = numerical_grad(lambda *ts: (function(*ts) * upstream).sum(), *case.inputs, h=1e-6)
    numerical = numerical if isinstance(numerical, tuple) else (numerical,)
    for context in contexts:
        position = positions.get(id(setup.node_inputs[context.index]))
        if position is None:
            continue
        if not close(context.got, numerical[position], rtol=1e-4, atol=1e-6):
            message = f"your vjp for {context.name} differs from central differences"
            return Failure("numerical", context, case, "float64", message, numerical=numerical[position])
    return None


def check_directional(exercise: Exercise, setup: OpSetup, case: Case, contexts: list[Context]) -> Failure | None:
    """A jvp against the central difference of the forward pass along the tangent."""
    assert case.function is not None
    step = 1e-6
    for context in contexts:
        moved = [
            [x + sign * step * context.upstream if i == context.index else x for i, x in enumerate(case.inputs)]
            for sign in (1.0, -1.0)
        ]
        above, below = (case.function(*[Tensor(x) for x in xs]).data for xs in moved)
        numerical = (above - below) / (2 * step)
        if not close(context.got, numerical, rtol=1e-4, atol=1e-6):
            message = f"your jvp for {context.name} differs from central differences"
            return Failure("numerical", context, case, "float64", message, numerical=numerical)
    return None


def check_in_engine(
    exercise: Exercise, solution: Any, setup: OpSetup, case: Case, contexts: list[Context]
) -> Failure | None:
    """The learner's class as a Node of a real graph: ``apply`` it and run backward (or forward mode)."""
    leaves = [Tensor(x, requires_grad=t.requires_grad) for x, t in zip(setup.inputs, setup.node_inputs)]
    wanted = [leaf for leaf in leaves if leaf.requires_grad]

    def through_engine() -> Any:
        output = apply(solution, *leaves, **setup.params)
        if exercise.kind == "jvp":
            return [ctx.got for ctx in contexts]  # forward mode was called directly by op_context
        return run_backward(output, setup.upstream, targets=wanted)

    found, error = run_learner(through_engine)
    for context, gradient in zip(contexts, found or [None] * len(contexts)):
        if error is not None or not close(np.asarray(gradient, dtype=np.float64), context.got):
            problem = f"{type(error).__name__}: {error}" if error is not None else "a different gradient"
            message = f"your class, run inside the engine (apply, then backward), gave {problem}"
            where = learner_lines(error) if error is not None else ""
            return Failure("engine", replace(context, error=error), case, "float64", message, where=where)
    return None


def graph_expected(
    exercise: Exercise, case: Case, dtype: Any
) -> tuple[list[Tensor], dict[str, Tensor], np.ndarray, dict]:
    """The engine's backward through the exercise's graph: leaves, named values, the seed, each value's gradient."""
    assert exercise.graph is not None
    tensors = [Tensor(x.astype(dtype), requires_grad=True) for x in case.inputs]
    named = exercise.graph(*tensors, **case.constants)
    output = named["out"]
    upstream = upstream_for(output.shape, dtype)
    found = run_backward(output, upstream, targets=[named[name] for name in exercise.graded]) or []
    expected = {
        name: np.asarray(np.zeros(named[name].shape) if value is None else value, dtype=np.float64)
        for name, value in zip(exercise.graded, found)
    }
    return tensors, named, upstream, expected


def grade_graph_case(exercise: Exercise, solution: Any, case: Case) -> Failure | None:
    """One example of a ``"graph"`` exercise: every named gradient, in backward order, float64 then float32."""
    for dtype in (np.float64, np.float32):
        tensors, named, upstream, expected = graph_expected(exercise, case, dtype)
        arrays = tuple(x.astype(dtype) for x in case.inputs)
        raw, error = run_learner(solution, upstream, *[x.copy() for x in arrays], **case.constants)
        if error is None and not isinstance(raw, dict):
            error = TypeError(f"backward must return a dict of gradients, it returned a {type(raw).__name__}")
        out = named["out"].data
        for index, name in enumerate(exercise.graded):
            value = None if error is not None else raw.get(name)
            got, problem = (None, error) if error is not None else as_gradient(value)
            if error is None and value is None:
                problem = KeyError(f"the returned dict has no {name!r}")
            context = Context(
                name, index, upstream, out, arrays, case.constants, expected[name], None, got, problem, others=expected
            )
            failure = judge(exercise, context, case, dtype)
            if failure is not None:
                failure.message = failure.message.replace("your vjp for", "your gradient of")
                return failure
        if dtype is np.float64 and case.smooth:
            failure = check_graph_numerical(exercise, case, tensors, named, upstream, raw)
            if failure is not None:
                return failure
    return None


def check_graph_numerical(
    exercise: Exercise, case: Case, tensors: list[Tensor], named: dict[str, Tensor], upstream: np.ndarray, raw: dict
) -> Failure | None:
    """The gradients of the graph's inputs against central differences of its forward pass."""
    assert exercise.graph is not None
    graph = exercise.graph

    def scalar(*tensors: Tensor) -> Tensor:
        return (graph(*tensors, **case.constants)["out"] * upstream).sum()

    numerical = numerical_grad(scalar, *case.inputs, h=1e-6)
    numerical = numerical if isinstance(numerical, tuple) else (numerical,)
    leaves = {id(tensor): position for position, tensor in enumerate(tensors)}
    for index, name in enumerate(exercise.graded):
        position = leaves.get(id(named[name]))
        if position is None:
            continue
        got = np.asarray(raw[name], dtype=np.float64)
        if not close(got, numerical[position], rtol=1e-4, atol=1e-6):
            out = named["out"].data
            context = Context(name, index, upstream, out, case.inputs, case.constants, numerical[position], None, got)
            message = f"your gradient of {name} differs from central differences"
            return Failure("numerical", context, case, "float64", message, numerical=numerical[position])
    return None


def grade_case(exercise: Exercise, solution: Any, case: Case) -> Failure | None:
    """Grade one example (the property the hypothesis search tests)."""
    if exercise.kind == "graph":
        return grade_graph_case(exercise, solution, case)
    return grade_op_case(exercise, solution, case)


class _FailedError(Exception):
    """Raised inside the property so hypothesis shrinks the example."""


def search(exercise: Exercise, solution: Any, examples: int = EXAMPLES) -> tuple[list[Failure], int]:
    """Run the property test on the learner's solution: (every failure seen, smallest last; examples tried)."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

    failures: list[Failure] = []
    tried = [0]

    def holds(case: Case) -> None:
        tried[0] += 1
        failure = grade_case(exercise, solution, case)
        if failure is not None:
            failures.append(failure)
            raise _FailedError

    test = seed(SEED)(given(case=exercise.cases())(holds))
    test = settings(
        max_examples=examples, deadline=None, database=None, verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
        print_blob=False, report_multiple_bugs=False,
    )(test)  # fmt: skip
    try:
        test()
    except _FailedError:
        pass
    except Exception:  # hypothesis gave up (a flaky learner, say): what was seen still counts
        if not failures:
            raise
    for edge in [] if failures else exercise.edges():  # edge values (overflow, ties) once the drawn ones pass
        tried[0] += 1
        failure = grade_case(exercise, solution, edge)
        if failure is not None:
            failure.edge = True
            failures.append(failure)
            break
    return failures, tried[0]


def survey(exercise: Exercise, solution: Any, examples: int = 15) -> list[Failure]:
    """Failures on fresh examples, none shrunk: evidence for the diagnosis beyond the smallest example.

    The smallest example is often degenerate (a = 0, where out * (1 - out) equals out * out), so
    two wrong formulas can agree on it; on unshrunk examples they rarely do.
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings

    failures: list[Failure] = []

    def record(case: Case) -> None:
        failure = grade_case(exercise, solution, case)
        if failure is not None:
            failures.append(failure)

    test = settings(
        max_examples=examples, deadline=None, database=None, verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck), phases=(Phase.generate,),
    )(seed(SEED + 1)(given(case=exercise.cases())(record)))  # fmt: skip
    try:
        test()
    except Exception:  # a survey is extra evidence only
        pass
    return failures


def grade(exercise: Exercise, solution: Any, examples: int = EXAMPLES) -> Result:
    """Grade ``solution`` (the learner's class or function) for ``exercise``; the diagnosis comes with it."""
    from autograd_lite.exercises.diagnosis import diagnose

    failures, tried = search(exercise, solution, examples)
    if not failures:
        return Result(exercise, tried)
    final = failures[-1]
    if final.numerical is None and final.stage == "value" and final.case.smooth:
        final.numerical = central_differences(exercise, final)
    timed_out = isinstance(final.context.error, LearnerTimeoutError)  # more examples would only wait longer
    evidence = failures if timed_out else [*failures, *survey(exercise, solution)]
    return Result(exercise, tried, final, failures, diagnose(exercise, final, evidence))


def central_differences(exercise: Exercise, failure: Failure) -> np.ndarray | None:
    """The central-difference gradient of the failing input, for the report (None where it does not apply)."""
    case, context = failure.case, failure.context
    try:
        if exercise.kind == "graph":
            graph = exercise.graph
            assert graph is not None
            names = exercise.graded
            function = lambda *ts: (graph(*ts, **case.constants)["out"] * context.upstream).sum()
            position = list(graph.__code__.co_varnames).index(names[context.index])
        elif exercise.kind == "vjp" and case.function is not None:
            forward = case.function
            function = lambda *ts: (forward(*ts) * context.upstream).sum()
            position = context.index
        else:
            return None
        found = numerical_grad(function, *case.inputs, h=1e-6)
        return np.asarray(found[position] if isinstance(found, tuple) else found)
    except (ValueError, IndexError, TypeError, AssertionError):
        return None
