"""The op table: one small Node class per op, then its public function, in a module per family.

Each Node gives ``forward`` (NumPy on arrays) and ``vjps``: one vector-Jacobian
product per input, ``vjp(grad, out, *inputs, **params)``. The vjps use only NumPy
functions and operators that Tensors also support, so the same line computes a plain
gradient or, under ``create_graph=True``, a differentiable one. Gradients may come back
in the broadcast shape: the engine sums them to each input's shape in one place.

:data:`OP_TABLE` collects the Node classes of the family modules below, in the order
written; ``ag.OPS``, the NumPy routing, the trace's labels, explain's size rules and the
tests' registry are all derived from it. A new family is a module here and one line in
``FAMILIES``. A family may also define ``COMPOSITES``: public functions built from other ops
(``split`` from ``getitem``), each with the NumPy callables it implements; they are
differentiable functions of ``ag.OPS`` too, without a Node of their own.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from autograd_lite.engine import Node
from autograd_lite.ops import conv, elementwise, linalg, losses, reductions, shape
from autograd_lite.ops.conv import *  # noqa: F403 - the public functions and Node classes of each family
from autograd_lite.ops.elementwise import *  # noqa: F403
from autograd_lite.ops.linalg import *  # noqa: F403
from autograd_lite.ops.losses import *  # noqa: F403
from autograd_lite.ops.reductions import *  # noqa: F403
from autograd_lite.ops.shape import *  # noqa: F403

#: The op families, in the order the table lists them.
FAMILIES: tuple[ModuleType, ...] = (elementwise, reductions, linalg, losses, shape, conv)


def _nodes_of(module: ModuleType) -> list[type[Node]]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Node) and value.__module__ == module.__name__
    ]


#: Every op of the library, family by family, in the order written.
OP_TABLE: tuple[type[Node], ...] = tuple(op for family in FAMILIES for op in _nodes_of(family))
#: Public functions composed of other ops: name -> (the function, the NumPy callables it implements).
COMPOSITES: dict[str, tuple[Any, tuple[Any, ...]]] = {  # type: ignore[no-redef]  # (the families' own, imported by *)
    name: (getattr(family, name), numpy_callables)
    for family in FAMILIES
    for name, numpy_callables in getattr(family, "COMPOSITES", {}).items()
}
#: The differentiable public functions (``ag.OPS``): one per op, then the composites.
OPS: tuple[str, ...] = (*(op.name for op in OP_TABLE if op.public), *COMPOSITES)


def ops_in(category: str) -> frozenset[str]:
    """The public names of the ops of one ``category`` (e.g. ``"elementwise"``, ``"reduction"``)."""
    return frozenset(op.name for op in OP_TABLE if op.public and op.category == category)


def public_functions() -> dict[str, object]:
    """Every public function the family modules define (the ops' functions and their helpers)."""
    return {
        name: value
        for family in FAMILIES
        for name, value in vars(family).items()
        if callable(value)
        and not isinstance(value, type)
        and getattr(value, "__module__", "") == family.__name__
        and not name.startswith("_")
    }


if not TYPE_CHECKING:  # type checkers read the star imports above instead, which name every function statically
    __all__ = list(OPS)
