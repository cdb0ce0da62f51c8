"""autograd_lite: a small, fast, honest reverse-mode automatic differentiation engine on NumPy.

>>> import autograd_lite as ag
>>> x = ag.Tensor(1.0, requires_grad=True)
>>> y = ag.sigmoid(x)
>>> y.backward()
>>> round(float(x.grad), 8)
0.19661193
"""

from autograd_lite.engine import (
    Node,
    Tensor,
    apply,
    enable_grad,
    graph_tensors,
    is_grad_enabled,
    no_grad,
    run_backward,
    tape,
    unbroadcast,
)
from autograd_lite.functional import grad, value_and_grad
from autograd_lite.gradcheck import GradientCheckError, check_grad, numerical_grad
from autograd_lite.ops import (
    abs,
    add,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    div,
    dot,
    exp,
    expand_dims,
    getitem,
    linear,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    power,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    softmax_cross_entropy,
    sqrt,
    stack,
    sub,
    sum,
    swapaxes,
    tanh,
    transpose,
    where,
)
from autograd_lite.trace import BackwardTrace, trace_backward
from autograd_lite.viz import draw_graph

__version__ = "0.1.0"

#: The differentiable functions, each backed by a Node class in ``ops.py``.
OPS = (
    "add", "sub", "mul", "div", "neg", "power", "exp", "log", "sqrt", "abs", "sin", "cos",
    "dot", "matmul", "sigmoid", "tanh", "relu", "maximum", "minimum", "where", "clip",
    "sum", "mean", "max", "min", "reshape", "transpose", "swapaxes", "broadcast_to",
    "expand_dims", "getitem", "concatenate", "stack", "softmax", "log_softmax",
    "logsumexp", "astype", "linear", "softmax_cross_entropy",
)  # fmt: skip

__all__ = [
    *OPS,
    "Node", "Tensor", "apply", "no_grad", "enable_grad", "is_grad_enabled", "tape", "graph_tensors",
    "run_backward", "unbroadcast", "grad", "value_and_grad", "numerical_grad", "check_grad",
    "GradientCheckError", "draw_graph", "trace_backward", "BackwardTrace",
]  # fmt: skip
