"""nn.summary(model, input_shape): a table of layers, output shapes and parameter counts (torchinfo, Keras).

The model runs once on zeros, in evaluation mode (batch norm keeps its running statistics,
dropout is off) and without recording a graph; every module's output shape is seen on the
way by wrapping its ``forward`` for the duration of that call only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.module import Module

__all__ = ["ModelSummary", "summary"]


@dataclass
class ModelSummary:
    """The result of :func:`summary`: its ``str``/``repr`` is the table; the counts are attributes.

    ``rows`` holds (name, type, output shape text, parameter count) per module, depth first.
    """

    rows: list[tuple[str, str, str, int]] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    input_shape: tuple[int, ...] = ()

    @property
    def non_trainable_params(self) -> int:
        """Parameters that do not require grad (frozen)."""
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Param #")
        body = [(f"{name} ({kind})" if name else kind, shape, f"{count:,}") for name, kind, shape, count in self.rows]
        widths = [max(len(row[column]) for row in [header, *body]) for column in range(3)]

        def line(row: tuple[str, str, str]) -> str:
            return f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}".rstrip()

        rule = "=" * (sum(widths) + 4)
        return "\n".join(
            [
                rule,
                line(header),
                rule,
                *(line(row) for row in body),
                rule,
                f"Input shape: {self.input_shape}",
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                rule,
            ]
        )

    __repr__ = __str__


def _shape_text(value: Any) -> str:
    """The shape of an output: ``(1, 10)`` for a Tensor, ``[(1, 5, 8), [(1, 1, 8), ...]]`` for nested tuples."""
    if isinstance(value, (ag.Tensor, np.ndarray)):
        return str(tuple(int(side) for side in value.shape))
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_shape_text(item) for item in value) + "]"
    return type(value).__name__


def _recording(module: Module, seen: list[str]) -> Callable[..., Any]:
    """A forward that calls the module's own and notes the output's shape in ``seen``."""
    forward = module.forward

    def recorded(*args: Any, **kwargs: Any) -> Any:
        output = forward(*args, **kwargs)
        seen.append(_shape_text(output))
        return output

    return recorded


def _check_shape(input_shape: Any) -> tuple[int, ...]:
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if not isinstance(input_shape, Sequence) or not all(
        isinstance(side, (int, np.integer)) and not isinstance(side, bool) and side >= 0 for side in input_shape
    ):
        raise ValueError(
            f"summary: input_shape must be a tuple of non-negative integers, batch axis first, e.g. (1, 784); "
            f"got {input_shape!r}"
        )
    return tuple(int(side) for side in input_shape)


def summary(model: Module, input_shape: Sequence[int] | int, dtype: Any = np.float32) -> ModelSummary:
    """Run ``model`` on zeros of ``input_shape`` (batch axis included, as torchinfo's input_size) and tabulate it.

    One row per module, depth first (a module called several times shows its first output
    shape and ``×n``; one never called shows ``--``), with the parameters it holds, its
    sub-modules' included. Runs under ``ag.no_grad()`` in evaluation mode and restores every
    module's mode afterwards. Returns a :class:`ModelSummary`; ``print()`` it in a script.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected an nn.Module, got {type(model).__name__}")
    input_shape = _check_shape(input_shape)
    modules = list(model.named_modules())
    shapes: dict[int, list[str]] = {id(module): [] for _, module in modules}
    saved: list[tuple[Module, dict[str, Any]]] = [
        (module, {key: vars(module)[key] for key in ("training", "forward") if key in vars(module)})
        for _, module in modules
    ]
    try:
        model.eval()
        for _, module in modules:
            vars(module)["forward"] = _recording(module, shapes[id(module)])  # this instance's, until restored
        with ag.no_grad():
            model(np.zeros(input_shape, dtype=dtype))
    finally:  # each module's own mode (or the class default) and forward back, also after an error
        for module, attributes in saved:
            for key in ("training", "forward"):
                vars(module).pop(key, None)
            vars(module).update(attributes)
    result = ModelSummary(input_shape=input_shape)
    for name, module in modules:
        seen = shapes[id(module)]
        shape = "--" if not seen else seen[0] + (f" ×{len(seen)}" if len(seen) > 1 else "")
        result.rows.append((name, type(module).__name__, shape, module.parameter_count()))
    parameters = model.parameters()
    result.total_params = int(sum(parameter.size for parameter in parameters))
    result.trainable_params = int(sum(parameter.size for parameter in parameters if parameter.requires_grad))
    return result
