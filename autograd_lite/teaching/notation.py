"""Derivative formulas in the learner's terms: the tensors' names in place of ``a``/``b``, then the numbers.

The op table writes each rule with argument names (``d(a/b)/db = -a/b**2``). For one step of
a real graph ``named_rule`` puts the labels of the actual inputs in their place
(``d(1/v3)/dv3 = -1/v3**2``) and ``plugged_rule`` the values (``-1/1.368**2``), when every
value is a single number and the rule is plain arithmetic. The plugged text is only shown:
the number printed after it is always the engine's own, never the text evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_lite.engine import Node
from autograd_lite.teaching.viz import format_number

_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")
#: Words a rule written as plain arithmetic may hold besides its arguments and function calls.
_ARITHMETIC_WORDS = frozenset({"if", "else", "pi"})
_ARITHMETIC_CHARACTERS = re.compile(r"[\w\s.+\-*/()<>=!,]*")
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _rule_parts(op: type[Node], index: int, inputs: Sequence[Any]) -> tuple[str, str, str] | None:
    """(the op written with its argument names, the argument's name, its rule); None when not per input."""
    formulas = op.formulas_for(tuple(inputs)) if inputs else op.formulas
    if not formulas or "{i}" in op.arguments[0]:
        return None
    rule = formulas[min(index, len(formulas) - 1)]
    argument = op.arguments[min(index, len(op.arguments) - 1)]
    return op.written(), argument, rule


def _substitute(text: str, replacements: dict[str, str]) -> str:
    """Whole-word replacement of argument names (``b`` in ``-a/b**2``, never inside ``abs`` or ``x.b``)."""
    return _IDENTIFIER.sub(lambda match: replacements.get(match.group(1), match.group(1)), text)


def _as_operand(text: str) -> str:
    """A label or number as it can stand in a formula: negative numbers and labels with spaces in parentheses."""
    if text.startswith("-") or " " in text:
        return f"({text})"
    return text


def named_rule(op: type[Node], index: int, labels: Sequence[str], inputs: Sequence[Any] = ()) -> str:
    """The derivative rule for input ``index`` with the inputs' labels for the argument names.

    ``d(a/b)/db = -a/b**2`` for inputs labelled ``1`` and ``v3`` reads ``d(1/v3)/dv3 = -1/v3**2``.
    Rules that are not written per input (``a_{i}``) come back as the op table has them.
    """
    parts = _rule_parts(op, index, inputs)
    if parts is None or len(labels) < len(op.formulas_for(tuple(inputs)) if inputs else op.formulas):
        return op.input_formula(index, tuple(inputs))
    written, argument, rule = parts
    names = {name: _as_operand(label) for name, label in zip(op.arguments, labels)}
    label = labels[min(index, len(labels) - 1)]
    expression = _substitute(written, names)
    if written.startswith(f"{op.function_name()}("):
        left = f"d/d{label} {expression}"
    else:
        left = f"d({expression})/d{label}"
    return f"{left} = {_substitute(rule, names)}"


def plugged_rule(
    op: type[Node], index: int, values: Sequence[Any], params: dict[str, Any], digits: int = 4
) -> str | None:
    """The rule's right-hand side with the inputs' numbers in place (``-1/1.368**2``), or None.

    None unless every input and every parameter the rule names is a single number and the rule
    is plain arithmetic (numbers, operators, function calls, ``if``/``else``): a rule with words
    in it ("1 for every element") or arrays has no single line of numbers to show.
    """
    parts = _rule_parts(op, index, values)
    if parts is None:
        return None
    _, _, rule = parts
    replacements: dict[str, str] = {}
    for name, value in [*zip(op.arguments, values), *params.items()]:
        array = np.asarray(value)
        if array.size == 1 and array.dtype.kind in "biuf":
            replacements[name] = _as_operand(format_number(array.reshape(()).item(), digits))
    plugged = re.sub(r"\(\((-[^()]*)\)\)", r"(\1)", _substitute(rule, replacements))  # exp((-1)) -> exp(-1)
    if not _ARITHMETIC_CHARACTERS.fullmatch(plugged):
        return None
    for match in _IDENTIFIER.finditer(plugged):
        word = match.group(1)
        is_call = plugged[match.end() : match.end() + 1] == "("  # exp(1); "where (" is prose
        if not is_call and word not in _ARITHMETIC_WORDS:
            return None  # an argument that is not a number, a parameter, or prose
    return plugged


def local_line(rule: str, plugged: str | None, value: str | None) -> str:
    """A local derivative on one line: the named rule, the numbers plugged in, the engine's value.

    ``d(1/v3)/dv3 = -1/v3² = -1/1.368² = -0.5344``; a part equal to the one before it is left out.
    """
    text = pretty(rule)
    if value is None:
        return text
    if plugged is not None and pretty(plugged) not in (value, text.rpartition(" = ")[2]):
        text += f" = {pretty(plugged)}"
    return text if text.endswith(f" = {value}") else f"{text} = {value}"


def pretty(text: str) -> str:
    """Formula text as a page shows it: ``b**2`` as ``b²``, ``sigmoid`` as ``σ``, ``*`` as ``·``."""
    text = re.sub(r"\*\*(\d+)(?![\d.])", lambda match: match.group(1).translate(_SUPERSCRIPTS), text)
    text = re.sub(r"(?<![\w.])sigmoid(?=\()", "σ", text)
    return re.sub(r"\s*(?<!\*)\*(?!\*)\s*", "·", text)
