"""Code generation: each instruction as one readable line of NumPy, names after the tensors, constants hoisted.

An op of the table is written in its code form: an operator where NumPy has one (``z @ W``),
``np.<name>(...)`` where its forward is a NumPy function, and otherwise a call of the op's own
forward under the op's name (``sigmoid(z)``), bound once in the generated module — so every op
compiles, and always to what eager mode computes. ``CODE_FORMS`` gives the few ops whose
arguments a generic form would write badly (``np.where``'s condition comes first).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite.compiler.program import Constant, Instruction, Program, Symbol, last_uses
from autograd_lite.engine import Node
from autograd_lite.ops import OP_TABLE
from autograd_lite.ops.common import NUMPY_1

OPERATOR_FORMS = {
    np.add: "{0} + {1}", np.subtract: "{0} - {1}", np.multiply: "{0} * {1}", np.true_divide: "{0} / {1}",
    np.power: "{0} ** {1}", np.matmul: "{0} @ {1}", np.negative: "-{0}",
}  # fmt: skip

CodeForm = Callable[[tuple[Any, ...], dict[str, Any]], tuple[str, tuple[Any, ...], dict[str, Any]]]

#: Ops whose code is better written by hand than by the generic rules: (template, arguments, keywords).
CODE_FORMS: dict[str, CodeForm] = {
    "Where": lambda inputs, params: ("np.where({0}, {1}, {2})", (params["condition"], *inputs), {}),
    "Reshape": lambda inputs, params: ("{0}.reshape({1})", (inputs[0], params["shape"]), {}),
    "GetItem": lambda inputs, params: ("{0}[{1}]", (inputs[0], params["index"]), {}),
    "SwapAxes": lambda inputs, params: (
        ("{0}.T", inputs, {})
        if np.ndim(inputs[0]) == 2 and params["axis1"] % 2 != params["axis2"] % 2
        else ("np.swapaxes({0}, {1}, {2})", (*inputs, params["axis1"], params["axis2"]), {})
    ),
    "Cast": lambda inputs, params: ("{0}.astype({1})", (inputs[0], params["dtype"]), {}),
}

#: Reductions written as the array's method (``z.sum(axis=0)``): the same values, without np.sum's dispatch.
METHOD_REDUCTIONS = frozenset({"np.sum", "np.mean", "np.max", "np.min"})
#: What to call an op's output when the user gave it no name.
HINTS = {"matrix product": "z", "elementwise": "h", "reduction": "s", "shape": "v", "loss": "loss"}
#: Ops whose output the lessons call an activation (h1, h2).
ACTIVATIONS = frozenset({"Sigmoid", "Tanh", "Relu", "Softmax", "LogSoftmax", "LeakyRelu", "Elu", "Gelu", "Softplus"})
#: Names that get a number even the first time (z1, h1, ...), as the lessons write them.
NUMBERED = frozenset({"z", "h", "s", "v", "t", "g"})


def _fusions() -> dict[Any, tuple[Any, Constant]]:
    """An op's forward -> (its gradient op's forward, the fused forward_and_gradient), as the ops declare."""
    by_name = {op.name: op for op in OP_TABLE}
    return {
        op.forward: (by_name[op.gradient_op].forward, Constant(op.forward_and_gradient, f"{op.name}_and_grad"))  # type: ignore[attr-defined]
        for op in OP_TABLE
        if getattr(op, "gradient_op", None)
    }


def op_hint(op: type[Node]) -> str:
    """The base name for an op's output: ``z`` for products and sums, ``h`` for activations, ..."""
    if getattr(op, "output_name", None):  # an op may name its output as the lessons do (``delta``)
        return str(op.output_name)  # type: ignore[attr-defined]
    if op.__name__ in ("Add", "Sub", "Linear", "Matmul"):
        return "z"
    if op.__name__ in ACTIVATIONS:
        return "h"
    return HINTS.get(op.category, "t") if op.category != "elementwise" else "t"


def numpy_name(function: Any) -> str:
    """``np.exp`` for np.exp, ``np.linalg.inv`` for np.linalg.inv; "" for anything NumPy does not hold."""
    name = getattr(function, "__name__", "")
    if name and getattr(np, name, None) is function:
        return f"np.{name}"
    if name and getattr(np.linalg, name, None) is function:
        return f"np.linalg.{name}"
    return ""


def op_template(op: type[Node], inputs: tuple[Any, ...], params: dict[str, Any]) -> tuple[str, tuple, dict]:
    """(template, arguments, keywords) for one application of ``op`` (see the module docstring)."""
    special = CODE_FORMS.get(op.__name__)
    if special is not None:
        return special(inputs, params)
    forward = op.forward
    if forward in OPERATOR_FORMS and not params and len(inputs) == OPERATOR_FORMS[forward].count("{"):
        return OPERATOR_FORMS[forward], inputs, {}
    arguments = ", ".join([f"{{{i}}}" for i in range(len(inputs))] + [f"{key}={{{key}}}" for key in params])
    name = numpy_name(forward)
    if name:
        params = {key: value for key, value in params.items() if not _is_default(forward, key, value)}
        if name in METHOD_REDUCTIONS and len(inputs) == 1 and np.ndim(inputs[0]) >= 1:  # z.sum(axis=0): quicker
            return "{0}." + name[3:] + "(" + ", ".join(f"{key}={{{key}}}" for key in params) + ")", inputs, params
        arguments = ", ".join([f"{{{i}}}" for i in range(len(inputs))] + [f"{key}={{{key}}}" for key in params])
        return f"{name}({arguments})", inputs, params
    function = Constant(forward, op.function_name())
    return "{_op}(" + arguments + ")", inputs, {**params, "_op": function}


def _is_default(function: Any, key: str, value: Any) -> bool:
    """True when leaving ``key=value`` out of a NumPy call computes the same (``axis=None``, ``keepdims=False``)."""
    try:
        default = inspect.signature(function).parameters[key].default
    except (TypeError, ValueError, KeyError):
        return False
    if key == "keepdims" and value is False:
        return default is False or repr(default) == "<no value>"  # NumPy's "not given": False here
    return value is None and default is None


class Names:
    """Unique, readable names for symbols and hoisted constants."""

    def __init__(self, reserved: set[str]) -> None:
        self.taken = set(reserved)
        self.counters: dict[str, int] = {}
        self.names: dict[int, str] = {}
        self.constants: dict[str, Any] = {}

    def exact(self, symbol: Symbol) -> str:
        """An input's own name (made unique only if it clashes)."""
        name = symbol.hint if symbol.hint.isidentifier() and symbol.hint not in self.taken else self.fresh(symbol.hint)
        self.taken.add(name)
        self.names[id(symbol)] = name
        return name

    def fresh(self, base: str) -> str:
        """``base`` itself (numbered for the lessons' letters: z1, z2), made unique."""
        base = base if base.isidentifier() else "t"
        count = self.counters.get(base, 0)
        while True:
            count += 1
            name = f"{base}{count}" if base in NUMBERED else (base if count == 1 else f"{base}_{count}")
            if name not in self.taken:
                break
        self.counters[base] = count
        self.taken.add(name)
        return name

    def of(self, symbol: Symbol) -> str:
        """The symbol's name, chosen the first time it is asked for."""
        name = self.names.get(id(symbol))
        if name is None:
            base = f"g_{self.of(symbol.grad_of)}" if symbol.grad_of is not None else symbol.hint
            name = self.names[id(symbol)] = self.fresh(base)
        return name

    def constant(self, constant: Constant) -> str:
        """A hoisted constant's name (bound in the generated module's namespace)."""
        name = self.names.get(id(constant)) or self.names.get(id(constant.value))
        if name is None:  # one name per object: an op's forward used twice is bound once
            name = self.names[id(constant.value)] = self.fresh(constant.hint)
            self.constants[name] = constant.value
        return name


def literal(value: Any, names: Names, index: bool = False) -> str:
    """Python source for an argument (symbols and constants by name; small values written out)."""
    if isinstance(value, Symbol):
        return names.of(value)
    if isinstance(value, Constant):
        return constant_literal(value, names)
    if value is None or isinstance(value, (bool, int, str)) and not isinstance(value, np.generic):
        return repr(value)
    if isinstance(value, float):
        return float_literal(value)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        number = float_literal(value.item()) if value.dtype.kind == "f" else repr(value.item())
        return f"np.{value.dtype.name}({number})"
    if value is Ellipsis:
        return "..."
    if isinstance(value, slice):
        parts = ["" if p is None else literal(p, names) for p in (value.start, value.stop, value.step)]
        text = ":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else "")
        written = ", ".join(literal(p, names) for p in (value.start, value.stop, value.step))
        return text if index else f"slice({written})"
    if isinstance(value, tuple):
        items = [literal(item, names, index) for item in value]
        if index and items:
            return ", ".join(items) + ("," if len(items) == 1 else "")
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item, names) for item in value) + "]"
    if isinstance(value, np.dtype):
        known = getattr(np, value.name, None)
        return f"np.{value.name}" if known is value.type else constant_literal(Constant(value, "dtype"), names)
    name = str(getattr(value, "__name__", ""))
    if isinstance(value, type) and name and getattr(np, name, None) is value:
        return f"np.{name}"
    return constant_literal(Constant(value, name or "c"), names)


def float_literal(value: float) -> str:
    """A float as source: ``0.5``, ``np.inf``, ``np.nan``."""
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(value)


def constant_literal(constant: Constant, names: Names) -> str:
    """Small constants written out (``0.5``, ``True``), the rest hoisted and named."""
    value = constant.value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "bf":
        number = value.item()
        return repr(number) if isinstance(number, bool) else f"np.{value.dtype.name}({float_literal(number)})"
    return names.constant(constant)


def written_out(instruction: Instruction) -> tuple[Any, ...]:
    """The arguments, with 0-d float constants as plain numbers where that computes the same dtype.

    ``h * 0.9`` reads better than ``h * np.float32(0.9)``; it is the same when every array
    argument already has the result's dtype (a Python number then takes that dtype).
    """
    out = instruction.outputs[0] if instruction.outputs else None
    arrays = [a for a in instruction.arguments if isinstance(a, (Symbol, Constant))]
    dtypes = {a.dtype if isinstance(a, Symbol) else getattr(a.value, "dtype", None) for a in arrays}
    if out is None or dtypes != {out.dtype}:
        return instruction.arguments
    return tuple(
        a.value.item()
        if isinstance(a, Constant)
        and isinstance(a.value, np.ndarray)
        and a.value.ndim == 0
        and a.value.dtype.kind == "f"
        and math.isfinite(a.value.item())
        and (not NUMPY_1 or keeps_dtype_under_value_casting(arrays, a.value.item(), out.dtype))
        else a
        for a in instruction.arguments
    )


def keeps_dtype_under_value_casting(arrays: list[Any], number: float, dtype: Any) -> bool:
    """Whether NumPy 1's value-based casting keeps ``dtype`` when ``number`` is a Python float.

    NumPy 1 (before NEP 50) gives a Python float the array's dtype only next to an array with
    dimensions, and only if the value fits: ``np.float32(3) / 2.0`` is float64 there, and so is
    ``float32_array * 1e300``. Where it would not, the number stays written as ``np.float32(...)``.
    NumPy's own promotion answers, asked with stand-ins of the arguments' dimensions and dtypes.
    """
    stand_ins = [np.zeros((1,) * len(a.shape), a.dtype) for a in arrays if isinstance(a, Symbol)]
    return bool(np.result_type(*stand_ins, number) == dtype)


def render(instruction: Instruction, names: Names) -> list[str]:
    """The instruction's line(s) of source, without indentation or comment."""
    arguments = written_out(instruction)
    index = instruction.template == "{0}[{1}]" or "[{1}] =" in instruction.template
    texts = [literal(a, names, index=index and position == 1) for position, a in enumerate(arguments)]
    keywords = {key: literal(value, names) for key, value in instruction.keywords.items()}
    outputs = ", ".join(names.of(s) for s in instruction.outputs)
    if instruction.unpack and len(instruction.outputs) == 1:
        outputs += ","
    first = outputs.split(",")[0]
    lines = instruction.template.replace("{out}", first).split("\n")
    code = [line.format(*texts, **keywords) for line in lines]
    return [f"{outputs} = {code[0]}", *code[1:]]


def cse_key(instruction: Instruction) -> str | None:
    """What makes two instructions the same computation: their source with the inputs' identities."""
    if "\n" in instruction.template:
        return None  # an in-place write: never merged
    keyed = Names(set())
    keyed.of = lambda symbol: f"s{symbol.number}"  # type: ignore[method-assign]
    keyed.constant = lambda constant: f"k{id(constant.value)}"  # type: ignore[method-assign]
    return "|".join(render(instruction, keyed)).split(" = ", 1)[1]


#: Elementwise operators whose result can go into an argument's buffer: (NumPy ufunc, commutes).
IN_PLACE = {
    "{0} + {1}": ("add", True), "{0} - {1}": ("subtract", False), "{0} * {1}": ("multiply", True),
    "{0} / {1}": ("divide", False), "~{0}": ("invert", False), "-{0}": ("negative", False),
}  # fmt: skip
#: Operators and NumPy functions that always return a new array (never a view of an argument).
FRESH_TEMPLATES = frozenset(IN_PLACE) | {
    "{0} ** {1}", "{0} @ {1}", "{0} < {1}", "{0} <= {1}", "{0} > {1}", "{0} >= {1}", "{0} == {1}", "{0} != {1}",
    "{0} & {1}", "{0} | {1}",
}  # fmt: skip
FRESH_FUNCTIONS = frozenset({"sum", "mean", "max", "min", "prod", "where", "dot", "cumsum", "cumprod", "var", "std"})
FRESH_METHODS = ("{0}.astype(", "{0}.sum(", "{0}.mean(", "{0}.max(", "{0}.min(")
#: Ops called by their own forward that always return a new array.
FRESH_OPS = frozenset(
    {"linear", "relu", "sigmoid", "softmax", "log_softmax", "softmax_cross_entropy", "softmax_cross_entropy_grad"}
    | {"softmax_cross_entropy_and_grad", "gelu", "elu"}
)


def returns_new_array(instruction: Instruction) -> bool:
    """True when the instruction's result never shares memory with its arguments."""
    template = instruction.template
    if template in FRESH_TEMPLATES or template.startswith(FRESH_METHODS):
        return True
    if template.startswith("{_op}("):
        return instruction.keywords["_op"].hint in FRESH_OPS
    name = template[3 : template.find("(")] if template.startswith("np.") else ""
    return name in FRESH_FUNCTIONS or isinstance(getattr(np, name, None), np.ufunc)


def in_place(program: Program, freed: dict[int, list[Symbol]]) -> dict[int, int]:
    """Instructions that can write their result into an argument's buffer (``out=``), as the lessons' ``+=``.

    The argument must be read for the last time there, be an intermediate that owns its memory
    (made by a computation that returns a new array, never viewed by another instruction) and
    have the result's shape and dtype. Its ``del`` goes, since the result lives in it.
    """
    producers = {id(out): instruction for instruction in program.instructions for out in instruction.outputs}
    viewed = {id(s) for i in program.instructions if not returns_new_array(i) for s in i.symbols()}
    chosen: dict[int, int] = {}
    for index, instruction in enumerate(program.instructions):
        form = IN_PLACE.get(instruction.template)
        if form is None or len(instruction.outputs) != 1 or instruction.keywords:
            continue
        out, last = instruction.outputs[0], {id(s) for s in freed.get(index, ())}
        for position in (0, 1) if form[1] else (0,):
            argument = instruction.arguments[position]
            if not isinstance(argument, Symbol) or id(argument) not in last or id(argument) in viewed:
                continue
            producer = producers.get(id(argument))
            if (
                producer is not None
                and returns_new_array(producer)
                and (argument.shape, argument.dtype) == (out.shape, out.dtype)
            ):
                chosen[index] = position
                freed[index] = [s for s in freed[index] if s is not argument]
                break
    return chosen


def render_in_place(instruction: Instruction, position: int, names: Names) -> list[str]:
    """``t = np.multiply(a, b, out=a)``: the result written into argument ``position``'s buffer."""
    ufunc = IN_PLACE[instruction.template][0]
    arguments = [literal(a, names) for a in written_out(instruction)]
    target = arguments[position]
    return [f"{names.of(instruction.outputs[0])} = np.{ufunc}({', '.join(arguments)}, out={target})"]


def source(program: Program, function_name: str, free_bytes: int, reuse: bool = True) -> tuple[str, dict[str, Any]]:
    """The generated function's source and the constants its module needs (``reuse``: out= buffers)."""
    names = Names({"np", function_name})
    parameters = [names.exact(s) for s in program.inputs]
    body: list[str] = ["# forward"]
    freed = last_uses(program, free_bytes)
    reused = in_place(program, freed) if reuse else {}
    in_backward = False
    for position, instruction in enumerate(program.instructions):
        if instruction.backward and not in_backward:
            body.append("# backward")
            in_backward = True
        if position in reused:
            lines = render_in_place(instruction, reused[position], names)
        else:
            lines = render(instruction, names)
        if instruction.comment:
            lines[-1] += f"  # {instruction.comment}"
        body.extend(lines)
        if freed.get(position):
            body.append("del " + ", ".join(names.of(s) for s in freed[position]))
    # a hoisted constant is handed out as a copy: the caller may change it, the next call must not see that
    returned = [literal(v, names) + (".copy()" if isinstance(v, Constant) else "") for v in program.outputs]
    body.append("return " + (", ".join(returned) + ("," if len(returned) == 1 else "") if returned else "()"))
    header = f"def {function_name}({', '.join(parameters)}):"
    return "\n".join([header, *("    " + line for line in body)]) + "\n", names.constants


#: The pairs of ops computed by one call where a program needs both (see program.fuse_pairs).
FUSIONS = _fusions()
