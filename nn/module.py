"""Module and Parameter: the containers every layer, model and loss builds on.

A Module finds its parameters and sub-modules by looking at its attributes (and at lists,
tuples and dicts stored in them), in the order they were assigned, so a layer only has
to store them: no registration calls, no ``super().__init__()`` needed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

import autograd_lite as ag


class Parameter(ag.Tensor):
    """A Tensor that requires grad and that :meth:`Module.parameters` finds."""

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None, name: str | None = None) -> None:
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor") :].replace(", requires_grad=True", "")


class Buffer(ag.Tensor):
    """A Tensor of a module's state that is not trained: running statistics, step counters.

    :meth:`Module.state_dict` and checkpoints include buffers (when ``persistent``), but
    :meth:`Module.parameters` does not, so optimizers never see them. Like a Parameter, a
    Buffer attribute is found by looking at the module's attributes; ``register_buffer``
    is PyTorch's spelling of the same assignment.
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Any, dtype: Any = None, persistent: bool = True, name: str | None = None) -> None:
        super().__init__(data, requires_grad=False, dtype=dtype, name=name)
        self.persistent = bool(persistent)

    def __repr__(self) -> str:
        return "Buffer" + super().__repr__()[len("Tensor") :]


class Module:
    """Base class of layers and models: ``model(x)`` calls ``forward(x)``.

    Parameters are :class:`Parameter` attributes, buffers (state that is saved but not
    trained) :class:`Buffer` attributes, sub-modules Module attributes; all may also sit in
    lists, tuples or dicts (named ``attribute.index`` / ``attribute.key``).
    """

    #: True in training mode (the default), False after :meth:`eval`.
    training: bool = True
    #: True for modules whose repr is one line even though they hold sub-modules.
    repr_inline: bool = False

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----- discovery ----------------------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of every Parameter, Buffer and Module held directly, in assignment order."""
        kinds = (Parameter, Buffer, Module)
        for name, value in vars(self).items():
            if isinstance(value, kinds):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    if isinstance(item, kinds):
                        yield f"{name}.{index}", item
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, kinds):
                        yield f"{name}.{key}", item

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of the direct sub-modules."""
        for name, value in self._members():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) of this module ("" for itself) and every sub-module, depth first."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:  # iterative, so arbitrarily deep nesting is fine
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child) for child_name, child in module.named_children()
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module."""
        for _, module in self.named_modules():
            yield module

    def _named_tensors(self, kinds: tuple[type, ...]) -> Iterator[tuple[str, Any]]:
        """(dotted name, tensor) of every member of one of ``kinds``, in assignment order; shared ones once."""
        seen: set[int] = {id(self)}
        # Walk members in assignment order, entering sub-modules where they sit (an explicit
        # stack of iterators instead of recursion, so nesting depth is unlimited).
        stack: list[tuple[str, Iterator[tuple[str, Any]]]] = [("", self._members())]
        while stack:
            prefix, members = stack[-1]
            entry = next(members, None)
            if entry is None:
                stack.pop()
                continue
            name, value = entry
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, Module):
                stack.append((f"{prefix}{name}.", value._members()))
            elif isinstance(value, kinds):
                yield prefix + name, value

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, e.g. ``layers.0.weight``; a shared one appears once."""
        return self._named_tensors((Parameter,))

    def named_buffers(self) -> Iterator[tuple[str, Buffer]]:
        """(dotted name, buffer) for every buffer, e.g. ``layers.1.running_mean``; a shared one appears once."""
        return self._named_tensors((Buffer,))

    def buffers(self) -> list[Buffer]:
        """Every buffer, in the stable order of :meth:`named_buffers`."""
        return [buffer for _, buffer in self.named_buffers()]

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Store ``tensor`` (array-like, a Tensor or None) as the buffer ``name``, as PyTorch's register_buffer.

        Equivalent to ``self.name = Buffer(tensor)``; ``persistent=False`` keeps it out of
        :meth:`state_dict` and checkpoints.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{type(self).__name__}.register_buffer: name must be an identifier, got {name!r}")
        if isinstance(getattr(self, name, None), (Parameter, Module)):
            raise KeyError(f"{type(self).__name__}.register_buffer: {name!r} is already a parameter or sub-module")
        if tensor is not None:
            data = tensor.data if isinstance(tensor, ag.Tensor) else np.asarray(tensor)
            tensor = Buffer(data.copy(), persistent=persistent)
        setattr(self, name, tensor)

    def parameters(self) -> list[Parameter]:
        """Every parameter, in the stable order of :meth:`named_parameters`."""
        return [parameter for _, parameter in self.named_parameters()]

    def parameter_count(self) -> int:
        """The number of trainable values."""
        return int(sum(parameter.size for parameter in self.parameters()))

    # ----- training helpers -----------------------------------------------------------
    def zero_grad(self) -> None:
        """Forget the gradients of every parameter."""
        for parameter in self.parameters():
            parameter.grad = None

    def train(self, mode: bool = True) -> Module:
        """Switch this module and its sub-modules to training mode (or evaluation with ``mode=False``)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode: ``train(False)``."""
        return self.train(False)

    # ----- state ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's and persistent buffer's values by dotted name (later training leaves it)."""
        return {name: tensor.data.copy() for name, tensor in state_tensors(self).items()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Set the parameters and persistent buffers from ``state``: all of them or, on any error, none.

        Every parameter and buffer must be present with its exact shape and dtype; keys the model does
        not have are an error when ``strict`` and ignored otherwise.
        """
        ready = validated_assignments(self, state, strict, "load_state_dict")
        for tensor, values in ready:
            tensor.data = values

    # ----- display --------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr."""
        return ""

    def _repr_html_(self) -> str:
        """What a notebook shows: the layer table (name, type, own parameters, count; see nn.notebook)."""
        from nn.notebook import module_html  # nn.notebook imports this module

        return module_html(self)

    def __repr__(self) -> str:
        lines = _repr_lines(self, "")
        count = self.parameter_count()
        if count:
            lines[-1] += f"  # {count:,} parameters"
        return "\n".join(lines)


def _repr_lines(module: Module, indent: str) -> list[str]:
    children = [] if module.repr_inline else list(module.named_children())
    head = f"{type(module).__name__}({module.extra_repr()}"
    if not children:
        return [head + ")"]
    lines = [head + ("" if head.endswith("(") else ", ")]
    for name, child in children:
        child_lines = _repr_lines(child, indent + "  ")
        child_lines[0] = f"{indent}  ({name}): {child_lines[0]}"
        own = child.parameter_count()
        if own:
            child_lines[-1] += f"  # {own:,} parameters"
        lines.extend(child_lines)
    lines.append(indent + ")")
    return lines


def state_tensors(module: Module) -> dict[str, ag.Tensor]:
    """What a state dict and a checkpoint hold, by dotted name: every parameter and persistent buffer."""
    return {
        name: tensor
        for name, tensor in module._named_tensors((Parameter, Buffer))
        if not isinstance(tensor, Buffer) or tensor.persistent
    }


def validated_assignments(
    module: Module, state: Mapping[str, Any], strict: bool, caller: str
) -> list[tuple[ag.Tensor, np.ndarray]]:
    """Check ``state`` against the module's parameters and buffers; return (tensor, copy) pairs to assign.

    Nothing is assigned here, so a caller that assigns only after this returns is all-or-nothing.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f"{caller}: expected a mapping of parameter names to arrays, got {type(state).__name__}")
    named = state_tensors(module)
    missing = [name for name in named if name not in state]
    if missing:
        raise ValueError(
            f"{caller}: {len(missing)} parameter(s) missing from the state: {', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''}; the model expects {len(named)}: {', '.join(list(named)[:5])} ..."
        )
    unexpected = [str(name) for name in state if name not in named]
    if unexpected and strict:
        raise ValueError(
            f"{caller}: unexpected key(s) the model has no parameter for: {', '.join(unexpected[:5])}"
            f"{' ...' if len(unexpected) > 5 else ''}; pass strict=False to ignore them"
        )
    ready = []
    for name, parameter in named.items():
        values = state[name]
        values = values.data if isinstance(values, ag.Tensor) else np.asarray(values)
        if values.shape != parameter.shape:
            raise ValueError(
                f"{caller}: {name!r} has shape {values.shape} in the state but {parameter.shape} in the model"
            )
        if values.dtype != parameter.dtype:
            raise ValueError(
                f"{caller}: {name!r} has dtype {values.dtype} in the state but {parameter.dtype} in the model; "
                f"build the model with dtype={values.dtype} (or cast the arrays) so nothing is silently converted"
            )
        ready.append((parameter, values.copy()))
    return ready
