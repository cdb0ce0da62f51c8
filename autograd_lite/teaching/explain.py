"""``autograd-lite explain``: differentiate an expression typed on the command line, step by step.

The command parses its options, evaluates the expression with the whitelisting evaluator
of :mod:`autograd_lite.teaching.expression` (nothing is ever passed to ``eval`` or
``exec``), runs the traced backward pass and prints the table; refused input is one line
on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite.engine import graph_tensors
from autograd_lite.teaching.expression import (
    ROOT_LABEL,
    RefusedError,
    check_name,
    evaluate_expression,
    parse_binding,
)
from autograd_lite.teaching.forward_mode import (
    MAX_FORWARD_PASSES,
    PassResult,
    compare_modes,
    each_basis_pass,
    forward_mode_summary,
    input_elements,
)
from autograd_lite.teaching.stepper import MODES
from autograd_lite.teaching.trace import BackwardTrace, trace_backward
from autograd_lite.teaching.viz import array_on_one_line


# ----- the command ------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit code 2
        raise RefusedError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autograd-lite explain",
        description="Differentiate an expression and show the backward pass step by step.",
        epilog='example: autograd-lite explain "1/(1+exp(-x))" --at x=1.0 --html sigmoid.html',
    )
    parser.add_argument("expression", help="e.g. '1/(1+exp(-x))', 'sum(tanh(W @ v))'; functions of autograd_lite")
    parser.add_argument(
        "--at", action="append", default=[], metavar="NAME=VALUE", help="a variable: x=1.0 or 'W=[[1,2],[3,4]]'"
    )
    parser.add_argument("--html", metavar="PAGE", help="write the interactive step-by-step page here")
    parser.add_argument("--svg", metavar="FILE", help="write the graph with its gradients as SVG here")
    parser.add_argument("--dot", metavar="FILE", help="write the graph as Graphviz DOT text here (no Graphviz needed)")
    parser.add_argument("--digits", type=int, default=4, help="significant digits in the table (default 4)")
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="reverse",
        help="reverse: one backward pass for every gradient (default); forward: one forward pass per input "
        "element; both: the two and how they compare",
    )
    return parser


#: The step-by-step trace keeps, for every step, the upstream gradient and, for every input, the gradient
#: sent, its running total and the local derivative: at most this many numbers in all (about 100 MB).
MAX_TRACE_ELEMENTS = 12_000_000


def explain(expression: str, variables: dict[str, np.ndarray]) -> tuple[ag.Tensor, BackwardTrace]:
    """Evaluate the expression, run the traced backward pass and return (output, trace).

    Raises :class:`RefusedError` for anything explain does not allow, including a trace that would keep
    more than :data:`MAX_TRACE_ELEMENTS` numbers. NumPy's warnings are silenced: inf and nan are answers.
    """
    for name in variables:
        check_name(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Mean of empty slice" and the like: the nan in the table says it
        output = evaluate_expression(expression, variables)
        needed = trace_elements(output)
        if needed > MAX_TRACE_ELEMENTS:
            raise RefusedError(
                f"the step-by-step trace would keep {needed:,} numbers (gradient, running total and local "
                f"derivative of every input at every step); at most {MAX_TRACE_ELEMENTS:,} are allowed: "
                "use smaller values or fewer steps"
            )
        seed = None if output.size == 1 else np.ones(output.shape, dtype=output.dtype)
        with np.errstate(all="ignore"):  # the backward pass meets the same inf and nan as the forward
            # The output keeps its own name (it may be a variable): the table calls it f all the same.
            return output, trace_backward(output, seed, retain_graph=True, root_label=ROOT_LABEL)


def trace_elements(output: ag.Tensor) -> int:
    """How many numbers the trace of ``output``'s backward pass keeps at most, worked out before it runs."""
    total = output.size
    for node, result in graph_tensors(output):
        total += max(result.size, 1) + sum(3 * max(t.size, 1) for t in node.inputs if t.requires_grad)
    return total


_VALUE_OPTIONS = ("--at", "--html", "--svg", "--dot", "--digits", "--mode")
_FLAG_OPTIONS = ("-h", "--help")


def _is_option(token: str) -> bool:
    """Whether argparse would take ``token`` as one of our options (long options may be abbreviated)."""
    if token in _FLAG_OPTIONS:
        return True
    name = token.partition("=")[0]
    return len(name) > 2 and name.startswith("--") and any(option.startswith(name) for option in _VALUE_OPTIONS)


def _protect_expression(argv: list[str]) -> list[str]:
    """Mark an expression that starts with '-' ("-x*x", "-h*x") as a positional argument.

    argparse would read it as options; it skips a leading space, which the evaluation strips again.
    """
    protected: list[str] = []
    expecting_value = False
    for token in argv:
        if token == "--":  # everything after it is positional already
            protected.extend(argv[len(protected) :])
            break
        if not expecting_value and token.startswith("-") and not _is_option(token):
            token = " " + token
        expecting_value = _is_option(token) and "=" not in token and token not in _FLAG_OPTIONS
        protected.append(token)
    return protected


def main(argv: list[str] | None = None) -> int:
    """Run ``autograd-lite explain``; returns the exit code (2 for refused input)."""
    try:
        argv = _protect_expression(list(sys.argv[1:] if argv is None else argv))
        arguments = _parser().parse_args(argv)
        if not 1 <= arguments.digits <= 17:
            raise RefusedError(f"--digits must be between 1 and 17, got {arguments.digits}")
        for option, path in (("--html", arguments.html), ("--svg", arguments.svg), ("--dot", arguments.dot)):
            if path is not None and "\0" in path:
                raise RefusedError(f"{option} {path!r}: a file name cannot contain a null byte")
        variables = dict(parse_binding(text) for text in arguments.at)
        output, trace = explain(arguments.expression, variables)
    except RefusedError as error:
        print(f"autograd-lite explain: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_request:  # --help
        return int(exit_request.code or 0)
    except MemoryError:
        return _error("not enough memory for this expression; use smaller values", 2)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError, RuntimeError) as error:
        return _error(str(error), 2)

    at = ", ".join(f"{name} = {_short(value)}" for name, value in variables.items())
    print(f"{ROOT_LABEL} = {arguments.expression.strip()}" + (f" at {at}" if at else ""))
    if output.size != 1:
        print(f"f has shape {output.shape}: backward starts from a gradient of ones (the gradient of sum(f))")
    print()
    if arguments.mode != "forward":
        print(trace.table(digits=arguments.digits))
        unused = [name for name in variables if name not in trace.gradients]
        for name in unused:
            print(f"  d{ROOT_LABEL}/d{name} = 0 ({ROOT_LABEL} does not depend on {name})")
    if arguments.mode != "reverse":
        if arguments.mode == "both":
            print()
        code = _print_forward_mode(trace, arguments.mode, arguments.digits)
        if code:
            return code
    return _write_outputs(arguments, trace)


def _print_forward_mode(trace: BackwardTrace, mode: str, digits: int) -> int:
    """Forward mode: one pass per input element (at most MAX_FORWARD_PASSES), printed and let go one at a time."""
    results: list[PassResult] = []
    try:
        with np.errstate(all="ignore"):
            for one in each_basis_pass(trace):
                if len(results) == MAX_FORWARD_PASSES:
                    break
                print(one.table(digits=digits))
                print()
                results.append(PassResult(one.direction, one.tangent))
    except NotImplementedError as error:  # an op without a forward rule
        return _error(f"forward mode is not available for this expression: {error}", 2)
    count = input_elements(trace)
    if not results:
        print(f"forward mode: {ROOT_LABEL} depends on no variable, so there is no pass to run")
        return 0
    if count > len(results):
        print(f"({count - len(results):,} more forward passes are needed for the whole gradient; not run)")
    print(compare_modes(trace, results, count) if mode == "both" else forward_mode_summary(ROOT_LABEL, results, count))
    return 0


def _error(message: str, code: int) -> int:
    print(f"autograd-lite explain: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _write_outputs(arguments: argparse.Namespace, trace: BackwardTrace) -> int:
    """Write the --dot, --svg and --html files; any failure is one line on stderr and exit code 1."""
    try:
        if arguments.dot:
            Path(arguments.dot).write_text(trace.graph().source, encoding="utf-8")
            print(f"wrote {arguments.dot}")
        if arguments.svg:
            Path(arguments.svg).write_bytes(trace.graph().pipe(format="svg"))
            print(f"wrote {arguments.svg}")
        if arguments.html:
            if trace.steps:
                title = f"{ROOT_LABEL} = {arguments.expression.strip()}"
                trace.to_html(arguments.html, title=title, mode=arguments.mode)
                print(f"wrote {arguments.html}")
            else:
                print(f"not writing {arguments.html}: {ROOT_LABEL} is a variable, so there are no steps to show")
    except MemoryError:
        return _error("not enough memory to draw this graph", 1)
    except Exception as error:  # Graphviz missing or failing, unwritable path, ...: one line, no traceback
        return _error(f"{type(error).__name__}: {error}" if not str(error) else str(error), 1)
    return 0


def _short(value: np.ndarray) -> str:
    return repr(float(value)) if value.ndim == 0 else array_on_one_line(value)


if __name__ == "__main__":
    sys.exit(main())
