"""The straight-line program a trace records: symbols, constants and one instruction per NumPy call or op.

An instruction computes its outputs from values that are symbols (earlier results or the
function's inputs), hoisted constants or Python literals, through a ``template`` such as
``"{0} @ {1}"`` or ``"np.exp({0})"``. The passes here work on that list: constant folding of
branches on constant masks, common-subexpression elimination, dead-code elimination from the
requested outputs, and the point after which each intermediate is no longer needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class Symbol:
    """A value of the program: an input, or an output of an instruction."""

    number: int
    hint: str  # what to call it (``h``, ``g_W1``): the final name adds a counter where needed
    shape: tuple[int, ...] = ()
    dtype: Any = None
    nbytes: int = 0
    grad_of: Symbol | None = None  # the forward value whose gradient this is (named g_<that name>)
    problem: str = ""  # why it cannot be computed by the program (refused only if the result needs it)


@dataclass(eq=False)
class Constant:
    """A value that does not depend on the inputs, hoisted out of the program (a NumPy array, a function)."""

    value: Any
    hint: str


@dataclass(eq=False)
class Instruction:
    """``outputs = template.format(*arguments)``; arguments hold Symbols and Constants anywhere inside."""

    outputs: tuple[Symbol, ...]
    template: str
    arguments: tuple[Any, ...]
    backward: bool = False  # recorded while backward ran (the backward section of the source)
    comment: str = ""
    keywords: dict[str, Any] = field(default_factory=dict)
    unpack: bool = False  # the call returns a sequence: ``a, b = ...`` (``a, = ...`` for one)

    def symbols(self) -> Iterator[Symbol]:
        """The symbols this instruction reads."""
        yield from symbols_in((self.arguments, self.keywords))


def symbols_in(value: Any) -> Iterator[Symbol]:
    """Every Symbol inside a (nested) argument."""
    if isinstance(value, Symbol):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from symbols_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from symbols_in(item)
    elif isinstance(value, slice):
        yield from symbols_in((value.start, value.stop, value.step))


@dataclass
class Program:
    """Inputs, instructions in the order they ran, and the output symbols (or constants)."""

    inputs: list[Symbol]
    instructions: list[Instruction]
    outputs: list[Any]


def eliminate_dead_code(program: Program) -> None:
    """Keep only the instructions the outputs need (gradients nobody asked for are never computed)."""
    needed = {id(s) for s in symbols_in(program.outputs)}
    kept = []
    for instruction in reversed(program.instructions):
        if any(id(out) in needed for out in instruction.outputs):
            kept.append(instruction)
            needed.update(id(s) for s in instruction.symbols())
    program.instructions = kept[::-1]


def fuse_pairs(program: Program, fusions: dict[Any, tuple[Any, Constant]]) -> None:
    """Where a program calls both ops of a declared pair on the same values, one call computes both.

    ``fusions`` maps an op's forward to (its partner's forward, the fused function returning both
    results): the fused call takes the first one's place, with the partner's output as its second.
    """

    def called(instruction: Instruction) -> Any:
        constant = instruction.keywords.get("_op")
        return constant.value if isinstance(constant, Constant) else None

    def values(instruction: Instruction) -> list[int]:  # by identity: the same symbols, constants and literals
        keywords = sorted((key, value) for key, value in instruction.keywords.items() if key != "_op")
        return [id(value) for value in instruction.arguments] + [id(value) for _, value in keywords]

    for first in list(program.instructions):
        partner_and_fused = fusions.get(called(first))
        if partner_and_fused is None or len(first.outputs) != 1:
            continue
        partner, fused = partner_and_fused
        for later in program.instructions[program.instructions.index(first) + 1 :]:
            if (
                called(later) is partner
                and len(later.outputs) == 1
                and later.keywords.keys() == first.keywords.keys()
                and values(later) == values(first)
            ):
                first.outputs = (*first.outputs, *later.outputs)
                first.keywords = {**first.keywords, "_op": fused}
                first.unpack = True
                program.instructions.remove(later)
                break


def refuse_problems(program: Program) -> None:
    """Raise for a value the program needs but could not record (named in the symbol's problem)."""
    for instruction in program.instructions:
        for symbol in instruction.symbols():
            if symbol.problem:
                raise TypeError(f"compile: {symbol.problem}")
    for symbol in symbols_in(program.outputs):
        if symbol.problem:
            raise TypeError(f"compile: {symbol.problem}")


def eliminate_common_subexpressions(program: Program, render: Any) -> None:
    """One instruction per distinct computation: a repeat of the same call on the same values reuses it."""
    seen: dict[str, tuple[Symbol, ...]] = {}
    replaced: dict[int, Symbol] = {}
    kept = []
    for instruction in program.instructions:
        if replaced:
            instruction.arguments = substitute(instruction.arguments, replaced)
            instruction.keywords = substitute(instruction.keywords, replaced)
        key = render(instruction)
        earlier = seen.get(key) if key is not None else None
        if earlier is not None and len(earlier) == len(instruction.outputs):
            for mine, theirs in zip(instruction.outputs, earlier):
                replaced[id(mine)] = theirs
            continue
        if key is not None:
            seen[key] = instruction.outputs
        kept.append(instruction)
    program.instructions = kept
    program.outputs = substitute(program.outputs, replaced)


def substitute(value: Any, replaced: dict[int, Symbol]) -> Any:
    """``value`` with the symbols in ``replaced`` (by id) swapped for their replacements."""
    if isinstance(value, Symbol):
        return replaced.get(id(value), value)
    if isinstance(value, tuple):
        return tuple(substitute(item, replaced) for item in value)
    if isinstance(value, list):
        return [substitute(item, replaced) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, replaced) for key, item in value.items()}
    if isinstance(value, slice):
        return slice(*(substitute(part, replaced) for part in (value.start, value.stop, value.step)))
    return value


def last_uses(program: Program, threshold: int) -> dict[int, list[Symbol]]:
    """For each instruction index, the intermediates of at least ``threshold`` bytes it reads for the last time.

    Freeing those right after lets NumPy reuse their memory in the next call (``del``),
    as backward lets go of what it no longer needs.
    """
    outputs = {id(s) for s in symbols_in(program.outputs)} | {id(s) for s in program.inputs}  # the caller's
    last: dict[int, tuple[int, Symbol]] = {}
    for index, instruction in enumerate(program.instructions):
        for symbol in instruction.symbols():
            last[id(symbol)] = (index, symbol)
    freed: dict[int, list[Symbol]] = {}
    for index, symbol in last.values():
        if id(symbol) not in outputs and symbol.nbytes >= threshold:
            freed.setdefault(index, []).append(symbol)
    return freed


def fold_constant_masks(program: Program) -> None:
    """Where a branch's condition turned out constant (``b == 0`` for b = 2), keep only the branch taken.

    ``np.where(c, x, y)`` with a constant all-False ``c`` is ``y`` (all-True: ``x``) when that
    already has the result's shape and dtype; a logical and/or with such a constant is a
    constant itself. Several derivative rules guard an edge case this way.
    """
    replaced: dict[int, Any] = {}
    kept = []
    for instruction in program.instructions:
        instruction.arguments = substitute_any(instruction.arguments, replaced)
        folded = _folded(instruction)
        if folded is None:
            kept.append(instruction)
        else:
            replaced[id(instruction.outputs[0])] = folded
    program.instructions = kept
    program.outputs = substitute_any(program.outputs, replaced)
    for instruction in kept:  # a gradient is named after the value that stands for its forward value now
        for symbol in instruction.outputs:
            if symbol.grad_of is not None and isinstance(replaced.get(id(symbol.grad_of)), Symbol):
                symbol.grad_of = replaced[id(symbol.grad_of)]


def substitute_any(value: Any, replaced: dict[int, Any]) -> Any:
    """``value`` with symbols replaced by anything (a Symbol or a Constant)."""
    if isinstance(value, Symbol):
        return replaced.get(id(value), value)
    if isinstance(value, (tuple, list)):
        return type(value)(substitute_any(item, replaced) for item in value)
    return value


def _uniform(value: Any) -> bool | None:
    """True/False for a constant boolean array (or bool) that is all True/all False, else None."""
    if isinstance(value, Constant):
        value = value.value
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, np.ndarray) and value.dtype == bool):
        array = np.asarray(value)
        if array.all():
            return True
        if not array.any():
            return False
    return None


def _folded(instruction: Instruction) -> Any:
    """The Symbol or Constant an instruction reduces to, or None to keep it."""
    (out,) = instruction.outputs if len(instruction.outputs) == 1 else (None,)
    if out is None:
        return None
    arguments = instruction.arguments
    if instruction.template == "np.where({0}, {1}, {2})" and not instruction.keywords:
        choice = _uniform(arguments[0])
        if choice is not None:
            taken = arguments[1] if choice else arguments[2]
            if isinstance(taken, Symbol) and taken.shape == out.shape and taken.dtype == out.dtype:
                return taken
    if instruction.template == "{0}.reshape({1})":  # to its own shape (the transforms' stand-ins): itself
        source = arguments[0]
        if isinstance(source, Symbol) and source.shape == out.shape and source.dtype == out.dtype:
            return source
    if instruction.template in ("{0} * {1}", "{0} ** {1}"):  # times ones, to the power 1: the value itself
        identity = [a for a in arguments[1 if instruction.template == "{0} ** {1}" else 0 :] if _is_one(a)]
        others = [a for a in arguments if isinstance(a, Symbol)]
        if identity and len(others) == 1 and others[0].shape == out.shape and others[0].dtype == out.dtype:
            return others[0]
    if instruction.template in ("{0} & {1}", "{0} | {1}") and out.dtype == bool:
        absorbing = instruction.template == "{0} | {1}"  # x | True is True; x & False is False
        if any(_uniform(a) is absorbing for a in arguments):
            return Constant(np.full(out.shape, absorbing), "mask")
    return None


def _is_one(value: Any) -> bool:
    """A constant made of ones only (1, 1.0, an array of ones)."""
    if isinstance(value, Constant):
        value = value.value
    if isinstance(value, (int, float, np.number, np.ndarray)) and not isinstance(value, bool):
        array = np.asarray(value)
        return array.dtype.kind in "iuf" and array.size > 0 and bool(np.all(array == 1))
    return False
