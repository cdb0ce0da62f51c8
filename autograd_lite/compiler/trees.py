"""Arguments and results as flat lists of arrays plus a hashable description of their structure."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd_lite.engine import Tensor, constant


class Tree:
    """The structure of nested tuples/lists/dicts with arrays or Tensors at the leaves.

    ``shape`` is hashable: ``("leaf",)``, ``("tuple", children)``, ``("list", children)``,
    ``("dict", keys, children)`` or ``("static", value)`` for anything else (a Python number,
    None, a string), which is part of the signature by value.
    """

    def __init__(self, shape: Any, tensors: tuple[bool, ...] = ()) -> None:
        self.shape = shape
        self.tensors = tensors  # for results: which leaves to hand back as Tensors

    def build(self, leaves: Any) -> Any:
        """The structure again, with these leaves in order."""
        iterator = iter(leaves)
        if self.tensors:  # constant(): the generated code's own new arrays, as Tensors without checks or copies
            iterator = (constant(v) if wrap else v for v, wrap in zip(iterator, self.tensors))
        return _build(self.shape, iterator)

    def with_tensors(self, leaves: list[Any]) -> Tree:
        """This structure, remembering which of these leaves were Tensors."""
        return Tree(self.shape, tuple(isinstance(leaf, Tensor) for leaf in leaves) or (False,) * 0)


def _build(shape: Any, leaves: Iterator[Any]) -> Any:
    kind = shape[0]
    if kind == "leaf":
        return next(leaves)
    if kind == "static":
        return shape[1]
    if kind == "dict":
        return {key: _build(child, leaves) for key, child in zip(shape[1], shape[2])}
    children = [_build(child, leaves) for child in shape[1]]
    return tuple(children) if kind == "tuple" else children


def flatten(value: Any) -> tuple[list[Any], Tree]:
    """The leaves (arrays and Tensors) in order, and the structure around them."""
    leaves: list[Any] = []
    return leaves, Tree(_shape(value, leaves))


def _shape(value: Any, leaves: list[Any]) -> Any:
    if isinstance(value, (Tensor, np.ndarray)):
        leaves.append(value)
        return ("leaf",)
    if isinstance(value, tuple):
        return ("tuple", tuple(_shape(item, leaves) for item in value))
    if isinstance(value, list):
        return ("list", tuple(_shape(item, leaves) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple(value), tuple(_shape(item, leaves) for item in value.values()))
    if isinstance(value, np.generic):
        leaves.append(np.asarray(value))
        return ("leaf",)
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"compile: an argument of type {type(value).__name__} is neither an array, a Tensor, a number nor a "
            "list/tuple/dict of them; pass its arrays as arguments"
        ) from None
    return ("static", value)


def signature_of(tree: Tree, leaves: list[Any]) -> Any:
    """What a trace depends on: the structure and static values, each leaf's shape, dtype and kind."""
    return tree.shape, tuple(
        (leaf.shape, leaf.dtype, leaf.requires_grad) if isinstance(leaf, Tensor) else (leaf.shape, leaf.dtype, None)
        for leaf in leaves
    )
