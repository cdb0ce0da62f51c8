"""Which ops each layer recorded, so ``ag.draw_graph(..., groups=...)`` can box a model's graph layer by layer.

autograd_lite knows nothing of modules (it never imports nn); nn tells it. Inside
``with nn.layer_groups(model) as groups:`` every call of a leaf module (one without
sub-modules, or one that holds parameters itself: a Dense with its activation, a ReLU, a
Conv2d) notes the ops its ``forward`` recorded and its parameters, under a label such as
``layers.0: Dense, 200,960 parameters``. The forwards are
wrapped for the block only, as ``nn.summary`` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import autograd_lite as ag
from nn.module import Module

__all__ = ["layer_groups"]


def _label(name: str, module: Module) -> str:
    count = module.parameter_count()
    return f"{name or 'model'}: {type(module).__name__}, {count:,} parameter{'' if count == 1 else 's'}"


def _own_parameters(module: Module) -> Iterator[Any]:
    """The parameters ``module`` holds itself, not through a sub-module."""
    held = {id(parameter) for child in module.children() for parameter in child.parameters()}
    return (parameter for parameter in module.parameters() if id(parameter) not in held)


def _tensors_in(value: Any) -> Iterator[ag.Tensor]:
    """The Tensors in a call's arguments (nested tuples and lists included)."""
    if isinstance(value, ag.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors_in(item)


def _noting(module: Module, members: list[Any]) -> Callable[..., Any]:
    """A forward that calls the module's own, then adds the ops it recorded (not its inputs') to ``members``."""
    forward = module.forward

    def noted(*args: Any, **kwargs: Any) -> Any:
        output = forward(*args, **kwargs)
        before = {id(node) for tensor in _tensors_in((args, list(kwargs.values()))) for node in ag.tape(tensor)}
        for tensor in _tensors_in(output):
            members.extend(node for node in ag.tape(tensor) if id(node) not in before)
        return output

    return noted


@contextlib.contextmanager
def layer_groups(model: Module) -> Iterator[dict[str, list[Any]]]:
    """Within the block, collect per layer of ``model`` the ops it records and its parameters.

    Yields the dict (label -> Nodes and Parameters) that ``ag.draw_graph(output, groups=...)`` draws
    as one box per layer; it fills while the model runs inside the block.
    """
    if not isinstance(model, Module):
        raise TypeError(f"layer_groups: expected an nn.Module, got {type(model).__name__}")
    groups: dict[str, list[Any]] = {}
    wrapped: list[tuple[Module, dict[str, Any]]] = []
    layers: list[str] = []
    for name, module in model.named_modules():
        if any(name.startswith(f"{layer}.") for layer in layers):
            continue  # inside a layer (a Dense's activation): its ops are the layer's
        holds_parameters = any(True for _ in _own_parameters(module))
        if next(module.children(), None) is not None and not holds_parameters:
            continue  # a container (Sequential, MLP): its layers hold the ops
        layers.append(name)
        members = groups.setdefault(_label(name, module), list(module.parameters()))
        wrapped.append((module, {key: vars(module)[key] for key in ("forward",) if key in vars(module)}))
        module.forward = _noting(module, members)  # type: ignore[method-assign]
    try:
        yield groups
    finally:
        for module, own in wrapped:
            del module.forward  # the class's forward again, or the one the instance had
            vars(module).update(own)
