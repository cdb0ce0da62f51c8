"""autograd_lite: a small, fast, honest reverse-mode automatic differentiation engine on NumPy.

>>> import autograd_lite as ag
>>> x = ag.Tensor(1.0, requires_grad=True)
>>> y = ag.sigmoid(x)
>>> y.backward()
>>> round(float(x.grad), 8)
0.19661193

The rooms, each importing only from the ones before it: ``engine`` (Tensor, Node, the
tape, backward) <- ``ops`` (the op table) <- ``numpy_routing``, ``functional``,
``gradcheck`` (transforms) <- ``teaching`` (graphs, the trace, the stepper, explain).
"""

from typing import Any

from autograd_lite import random
from autograd_lite.compiler import backward_code, compile
from autograd_lite.creation import (
    arange,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    zeros,
    zeros_like,
)
from autograd_lite.engine import (
    Node,
    Tensor,
    apply,
    enable_grad,
    graph_tensors,
    is_grad_enabled,
    no_grad,
    push_tangents,
    run_backward,
    tape,
    tracing,
    unbroadcast,
)
from autograd_lite.functional import (
    checkpoint,
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from autograd_lite.gradcheck import GradientCheckError, check_grad, numerical_grad
from autograd_lite.ops import *  # noqa: F403 - the public op functions, one per entry of the op table
from autograd_lite.ops import OP_TABLE, OPS, linalg  # ag.linalg: the matrix ops under NumPy's np.linalg names
from autograd_lite.teaching.forward_mode import ForwardTrace, trace_forward
from autograd_lite.teaching.trace import BackwardTrace, trace_backward
from autograd_lite.teaching.viz import draw_graph


def _version() -> str:
    """The installed distribution's version (pyproject.toml is its single source); a never-installed tree reads it."""
    import importlib.metadata
    import pathlib
    import re

    try:
        return importlib.metadata.version("autograd_lite")
    except importlib.metadata.PackageNotFoundError:
        pyproject = pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml"
        found = re.search(r'^version = "([^"]+)"$', pyproject.read_text("utf-8"), re.M) if pyproject.is_file() else None
        return found.group(1) if found else "0+unknown"


__version__ = _version()


def __getattr__(name: str) -> Any:
    # ag.exercises is imported on first use: it needs hypothesis, and most programs never grade an exercise
    if name == "exercises":
        import importlib

        return importlib.import_module("autograd_lite.exercises")
    raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")


__all__ = [
    *OPS,
    "OPS", "OP_TABLE", "linalg",
    "Node", "Tensor", "apply", "no_grad", "enable_grad", "is_grad_enabled", "tape", "graph_tensors",
    "run_backward", "push_tangents", "unbroadcast", "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian",
    "hvp", "elementwise_grad", "checkpoint", "compile", "backward_code", "tracing", "numerical_grad",
    "check_grad",
    "GradientCheckError", "draw_graph", "trace_backward", "BackwardTrace", "trace_forward", "ForwardTrace", "random",
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "empty_like", "arange", "linspace", "eye",
]  # fmt: skip
