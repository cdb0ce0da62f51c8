"""Tracing: run the function once on recording values and write down every computation as an Instruction.

Two kinds of computation are recorded. An op of the table (through ``apply``) becomes one
instruction, its forward run on plain arrays: ``h = sigmoid(z)``. Any other NumPy call on
traced values — the masks a derivative rule computes from the data (``a <= 0`` for relu),
``np.where`` conditions, a user's comparisons — is recorded by :class:`Traced`, the array
subclass the traced values are, through NumPy's ``__array_ufunc__``/``__array_function__``.
Whatever would leave that net (``float(x)``, ``bool(x)``, ``x.item()``, in-place writes into
a view) is refused or marked, so that the program never holds a value it did not record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite.compiler.codegen import numpy_name, op_hint, op_template
from autograd_lite.compiler.program import Constant, Instruction, Symbol
from autograd_lite.engine import Node, Tensor, TracedArray, TraceHook, data_of

BRANCH_MESSAGE = (
    "compile: {what} of a traced value: compile records one straight-line program and cannot see which way "
    "a branch on the data goes. Use ag.where(condition, a, b) instead of `if`/`and`/`or` on tensor values, "
    "keep Python numbers out of the data (pass them as arguments: they become part of the signature), or "
    "run this function without ag.compile"
)

#: NumPy functions that only read shapes and dtypes: answered on the spot, nothing recorded.
STATIC_FUNCTIONS = frozenset({np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj})
#: NumPy functions that write into their first argument.
MUTATING_FUNCTIONS = frozenset({np.put_along_axis, np.copyto, np.put, np.place, np.putmask, np.fill_diagonal})
#: ndarray methods recorded as method calls (they return new arrays or views).
RECORDED_METHODS = (
    "reshape", "transpose", "astype", "copy", "ravel", "flatten", "squeeze", "swapaxes", "sum", "mean", "max",
    "min", "prod", "any", "all", "std", "var", "argmax", "argmin", "cumsum", "cumprod", "clip", "round", "dot",
    "diagonal", "repeat", "take", "conj", "nonzero", "__getitem__", "argsort", "searchsorted", "compress",
    "choose", "byteswap", "trace",
)  # fmt: skip

OPERATORS = {
    np.add: "{0} + {1}", np.subtract: "{0} - {1}", np.multiply: "{0} * {1}", np.true_divide: "{0} / {1}",
    np.power: "{0} ** {1}", np.matmul: "{0} @ {1}", np.less: "{0} < {1}", np.less_equal: "{0} <= {1}",
    np.greater: "{0} > {1}", np.greater_equal: "{0} >= {1}", np.equal: "{0} == {1}", np.not_equal: "{0} != {1}",
    np.bitwise_and: "{0} & {1}", np.bitwise_or: "{0} | {1}", np.invert: "~{0}", np.negative: "-{0}",
    np.floor_divide: "{0} // {1}", np.remainder: "{0} % {1}",
}  # fmt: skip


class Traced(TracedArray):
    """A NumPy array whose computations the current :class:`Recorder` writes down."""

    symbol: Symbol | None
    recorder: Recorder | None

    def __array_finalize__(self, obj: Any) -> None:
        # A view NumPy made without asking us (a method we do not record): a symbol only if it is the same array.
        # A copy (np.array(x, subok=True)) or a view of the whole array holds the same values: the same symbol,
        # since the program never writes into a value (in-place writes are recorded as new values).
        self.recorder = getattr(obj, "recorder", None)
        parent = getattr(obj, "symbol", None)
        same = isinstance(obj, np.ndarray) and obj.shape == self.shape and obj.dtype == self.dtype
        self.symbol = parent if same else None
        if parent is not None and not same and self.recorder is not None:
            self.symbol = self.recorder.problem(self, "an ndarray operation compile does not record made a view")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        recorder = _recorder_of(inputs, kwargs)
        if recorder is None:
            return NotImplemented
        return recorder.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        recorder = _recorder_of(args, kwargs)
        if recorder is None:
            return NotImplemented
        return recorder.function(function, args, kwargs)

    def __setitem__(self, index: Any, value: Any) -> None:
        assert self.recorder is not None
        self.recorder.setitem(self, index, value)

    @property
    def T(self) -> Any:
        """The transpose, recorded."""
        assert self.recorder is not None
        return self.recorder.method(self, "transpose", (), {})

    @property
    def data(self) -> Any:
        """Refused: the raw buffer would carry the values past the recorder."""
        return self._refuse(what="the raw buffer (.data)")

    def _refuse(self, *args: Any, what: str = "the Python value", **kwargs: Any) -> Any:
        raise TypeError(BRANCH_MESSAGE.format(what=what))

    def __bool__(self) -> bool:
        return self._refuse(what="bool() (an `if`, `and`, `or` or `while` on it)")

    def __float__(self) -> float:
        return self._refuse(what="float()")

    def __int__(self) -> int:
        return self._refuse(what="int()")

    def __index__(self) -> int:
        return self._refuse(what="an index (operator.index)")

    def __complex__(self) -> complex:
        return self._refuse(what="complex()")

    def item(self, *args: Any) -> Any:
        """Refused: the Python value of a traced array is not known when the compiled code runs."""
        return self._refuse(what=".item()")

    def tolist(self) -> Any:
        """Refused, as :meth:`item`."""
        return self._refuse(what=".tolist()")

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        name = self.symbol.hint if self.symbol is not None else "?"
        return f"<traced array {name} shape={self.shape} dtype={self.dtype}>"

    __str__ = __repr__


def _method(name: str) -> Callable[..., Any]:
    def recorded(self: Traced, *args: Any, **kwargs: Any) -> Any:
        assert self.recorder is not None
        return self.recorder.method(self, name, args, kwargs)

    recorded.__name__ = name
    recorded.__doc__ = f"ndarray.{name}, recorded."
    return recorded


for _name in RECORDED_METHODS:
    setattr(Traced, _name, _method(_name))


def _recorder_of(*values: Any) -> Recorder | None:
    """The recorder of the traced arrays among ``values``; None when a Tensor is among them (its turn)."""
    found = None
    for value in _flatten(values):
        if isinstance(value, Tensor):
            return None
        if isinstance(value, Traced) and value.recorder is not None:
            found = value.recorder
    return found


def _flatten(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    else:
        yield value


def plain(value: Any) -> Any:
    """``value`` with every traced array replaced by its plain values (for running NumPy for real)."""
    if isinstance(value, Traced):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, slice):
        return slice(plain(value.start), plain(value.stop), plain(value.step))
    return value


class Recorder(TraceHook):
    """Records one trace: the inputs' symbols, every instruction, and the names backward gives gradients."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.instructions: list[Instruction] = []
        self.inputs: list[Symbol] = []
        self.input_values: list[tuple[Symbol, np.ndarray]] = []
        self.count = 0
        self.keep_alive: list[Any] = []  # arrays looked up by id must outlive the trace
        self.views: dict[int, list[Traced]] = {}  # id of an array owning memory -> the traced arrays over it
        self.known: dict[int, Symbol] = {}  # id of a plain array -> the symbol it holds (written by a NumPy call)
        self.backward = False
        self.step: tuple[Node, Symbol | None] | None = None
        self.random_draws = 0

    # ----- symbols and values ---------------------------------------------------------------
    def symbol(self, values: Any, hint: str) -> Symbol:
        """A new symbol for ``values`` (an array computed now)."""
        self.count += 1
        values = np.asarray(values)
        return Symbol(self.count, hint, values.shape, values.dtype, values.nbytes)

    def wrap(self, values: Any, symbol: Symbol) -> Traced:
        """``values`` as a Traced array standing for ``symbol``."""
        array = np.asarray(values)
        traced = array.view(Traced)
        traced.recorder, traced.symbol = self, symbol
        owner = array if array.base is None else array.base  # NumPy's views point at the array owning the memory
        self.keep_alive.append(owner)
        self.views.setdefault(id(owner), []).append(traced)
        return traced

    def new_input(self, values: np.ndarray, hint: str) -> Traced:
        """A traced array for one of the function's inputs."""
        symbol = self.symbol(values, hint)
        self.inputs.append(symbol)
        self.input_values.append((symbol, values))
        return self.wrap(values, symbol)

    def problem(self, values: Any, why: str) -> Symbol:
        """A symbol for a value the program cannot compute: refused if a result needs it."""
        symbol = self.symbol(values, "unknown")
        symbol.problem = why
        return symbol

    def argument(self, value: Any) -> Any:
        """A value as an instruction argument: Symbols for traced arrays, Constants for other arrays."""
        if isinstance(value, Traced):
            return value.symbol if value.symbol is not None else self.problem(value, "a traced array lost its name")
        if isinstance(value, Tensor):
            return self.argument(data_of(value))
        if isinstance(value, np.ndarray):
            return self._plain_array(value)
        if isinstance(value, (tuple, list)):
            return type(value)(self.argument(item) for item in value)
        if isinstance(value, dict):
            return {key: self.argument(item) for key, item in value.items()}
        if isinstance(value, slice):
            return slice(self.argument(value.start), self.argument(value.stop), self.argument(value.step))
        return value

    def _plain_array(self, array: np.ndarray) -> Any:
        """A plain array: a constant, unless NumPy made it from a traced array (then that array's symbol)."""
        if id(array) in self.known:
            return self.known[id(array)]
        owner = array if array.base is None else array.base
        candidates = self.views.get(id(owner))
        if candidates is None:
            return self._constant(array)
        for traced in reversed(candidates):  # the latest: an in-place write renames the same memory
            same = traced.shape == array.shape and traced.dtype == array.dtype and traced.strides == array.strides
            if same and traced.ctypes.data == array.ctypes.data and traced.symbol is not None:
                return traced.symbol
        return self.problem(array, "NumPy made an array from part of a traced array outside compile's sight")

    def _constant(self, array: np.ndarray) -> Any:
        """A constant; a copy of an input made behind the recorder's back (np.asarray(x, dtype), np.array(x))
        is refused instead: varied values (labels, data) equal to an input's are taken for one."""
        if array.size > 1 and array.dtype.kind in "iuf":
            for symbol, values in self.input_values:
                if values.shape == array.shape and np.ptp(values) != 0 and np.array_equal(values, array):
                    return self.problem(
                        array,
                        f"a copy of the input {symbol.hint!r} was made outside compile's sight (np.asarray or np.array "
                        "of a traced array); its values would be frozen into the code: use np.asanyarray, or ops of "
                        "autograd_lite on the tensor",
                    )
        return Constant(array, "c")

    def result(self, values: Any, hint: str) -> Any:
        """Symbols (and Traced arrays) for what a call returned."""
        arrays = (np.ndarray, np.generic)
        if isinstance(values, (tuple, list)) and values and all(isinstance(v, arrays) for v in values):
            symbols = tuple(self.symbol(v, hint) for v in values)
            traced = [self.wrap(v, s) for v, s in zip(values, symbols)]
            return symbols, type(values)(traced) if type(values) in (tuple, list) else type(values)(*traced)
        if isinstance(values, (np.ndarray, np.generic)):
            symbol = self.symbol(values, hint)
            return (symbol,), self.wrap(values, symbol)
        raise TypeError(
            f"compile: a NumPy call on traced values returned {type(values).__name__}, which compile cannot follow"
        )

    def emit(self, outputs: tuple[Symbol, ...], template: str, arguments: tuple, keywords: dict | None = None,
             unpack: bool = False) -> Instruction:  # fmt: skip
        """Append one instruction."""
        instruction = Instruction(outputs, template, arguments, self.backward, "", keywords or {}, unpack)
        self.instructions.append(instruction)
        return instruction

    def call(self, template: str, compute: Callable[[], Any], arguments: tuple, keywords: dict, hint: str) -> Any:
        """Run ``compute`` on plain values, record it with ``template``, and return traced results."""
        resolved, named = self.argument(arguments), self.argument(keywords)  # before the results share memory
        with np.errstate(all="ignore"):  # the warnings come when the compiled code runs, as in eager mode
            values = compute()
        outputs, traced = self.result(values, hint)
        self.emit(outputs, template, resolved, named, isinstance(values, (tuple, list)))
        return traced

    # ----- NumPy calls on traced arrays ------------------------------------------------------
    def ufunc(self, ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
        """A ufunc call (``a <= 0``, ``np.add.reduce``): recorded; ``out=`` writes are marked, not followed."""
        if "out" in kwargs:
            return self._written_in_place(ufunc, method, inputs, kwargs)
        if method == "__call__":
            template = OPERATORS.get(ufunc) if not kwargs else None
            if template is None:
                template = f"np.{ufunc.__name__}(" + ", ".join(f"{{{i}}}" for i in range(len(inputs))) + ")"
        else:
            template = f"np.{ufunc.__name__}.{method}(" + ", ".join(f"{{{i}}}" for i in range(len(inputs))) + ")"
        if method == "at":
            return self._written_in_place(ufunc, method, inputs, kwargs)
        compute = lambda: getattr(ufunc, method)(*plain(inputs), **plain(kwargs))
        return self.call(template, compute, inputs, kwargs, "t")

    def _written_in_place(self, ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
        out = kwargs.get("out")
        target = out[0] if isinstance(out, tuple) and len(out) == 1 else None
        if method == "__call__" and isinstance(target, Traced) and set(kwargs) == {"out"}:
            # x /= y on a traced array: the program computes a new value and the array goes by its name
            result = self.ufunc(ufunc, method, inputs, {})
            if result.dtype == target.dtype and result.shape == target.shape:
                np.copyto(target.view(np.ndarray), result.view(np.ndarray))
                target.symbol = result.symbol
                return target
        result = getattr(ufunc, method)(*plain(inputs), **plain(kwargs))
        targets = kwargs.get("out", inputs[:1]) if method != "at" else inputs[:1]
        for target in targets if isinstance(targets, tuple) else (targets,):
            self.mark_written(target, f"np.{ufunc.__name__} wrote into an array in place (out=)")
        return kwargs["out"][0] if "out" in kwargs and len(kwargs["out"]) == 1 else result

    def mark_written(self, target: Any, why: str) -> None:
        """An array changed in place behind the recorder: any later use of it is refused."""
        if isinstance(target, Traced):
            target.symbol = self.problem(target, why)
        elif isinstance(target, np.ndarray):
            self.keep_alive.append(target)
            self.known[id(target)] = self.problem(target, why)

    def function(self, function: Any, args: tuple, kwargs: dict) -> Any:
        """A NumPy function of traced arrays (``np.where``, ``np.sum``, ...): recorded as ``np.<name>(...)``."""
        if function in STATIC_FUNCTIONS:
            return function(*plain(args), **plain(kwargs))
        if function in MUTATING_FUNCTIONS:
            function(*plain(args), **plain(kwargs))
            self.mark_written(args[0], f"np.{function.__name__} wrote into an array in place")
            return None
        name = numpy_name(function)
        parts = [f"{{{i}}}" for i in range(len(args))] + [f"{key}={{{key}}}" for key in kwargs]
        template = f"{name}(" + ", ".join(parts) + ")" if name else "{fn}(" + ", ".join(parts) + ")"
        if not name:
            kwargs = {**kwargs, "fn": Constant(function, getattr(function, "__name__", "function"))}
        compute = lambda: function(*plain(args), **plain({k: v for k, v in kwargs.items() if k != "fn"}))
        return self.call(template, compute, args, kwargs, "t")

    def method(self, array: Traced, name: str, args: tuple, kwargs: dict) -> Any:
        """An ndarray method (``x.reshape(...)``, ``x[i]``), recorded."""
        if name == "copy":  # the program never writes into its values, so a copy is the same value
            return self.wrap(np.array(array.view(np.ndarray)), array.symbol or self.problem(array, "lost its name"))
        if name == "__getitem__":
            template = "{0}[{1}]"
        else:
            parts = [f"{{{i + 1}}}" for i in range(len(args))] + [f"{key}={{{key}}}" for key in kwargs]
            template = "{0}." + name + "(" + ", ".join(parts) + ")"
        compute = lambda: getattr(np.ndarray, name)(array.view(np.ndarray), *plain(args), **plain(kwargs))
        return self.call(template, compute, (array, *args), kwargs, "t")

    def setitem(self, array: Traced, index: Any, value: Any) -> None:
        """``x[i] = v`` on a traced array: recorded as a new value (``x2 = x.copy(); x2[i] = v``)."""
        plain_array = array.view(np.ndarray)
        np.ndarray.__setitem__(plain_array, plain(index), plain(value))
        symbol = self.symbol(plain_array, "t")
        self.emit((symbol,), "{0}.copy()\n{out}[{1}] = {2}", self.argument((array, index, value)))
        array.symbol = symbol

    # ----- the engine's hook -------------------------------------------------------------------
    def active(self) -> bool:
        """True in the thread that traces."""
        return threading.get_ident() == self.thread

    def record(self, op: type[Node], inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Any:
        """An op of the table: one instruction, its forward run on plain arrays."""
        if threading.get_ident() != self.thread:
            return None
        arrays = [self._outside(t) for t in inputs]
        if not any(self._is_traced(a) for a in (*arrays, *_flatten(params))):
            return None  # constants only: the value is a constant too
        template, arguments, keywords = op_template(op, tuple(arrays), params)
        resolved, named = self.argument(arguments), self.argument(keywords)  # before the output shares memory
        with np.errstate(all="ignore"):
            values = op.forward(*plain(arrays), **plain(params))
        outputs, traced = self.result(values, op_hint(op))
        self.emit(outputs, template, resolved, named, isinstance(values, tuple))
        return traced

    def _outside(self, tensor: Tensor) -> Any:
        """A tensor's values; a problem for a tensor that requires grad but is no argument (a closure's weight)."""
        values = data_of(tensor)
        if tensor.requires_grad and tensor.node is None and not isinstance(values, Traced):
            if isinstance(self._plain_array(values), Constant):
                symbol = self.problem(
                    values,
                    f"the function uses a tensor that requires grad (shape {tensor.shape}) without taking it as an "
                    "argument (a weight from a closure or a model): its values would be frozen into the compiled code; "
                    "pass it as an argument",
                )
                return self.wrap(values, symbol)
        return values

    def _is_traced(self, value: Any) -> bool:
        if isinstance(value, Traced):
            return True
        return isinstance(value, np.ndarray) and not isinstance(self._plain_array(value), Constant)

    def vjp_started(self, node: Node, output: Tensor, grad: Any) -> None:
        """Backward records this Node's vjps next: name the gradient after the output."""
        self.backward = True
        out, upstream = self.argument(output), self.argument(grad)
        if isinstance(upstream, Symbol) and isinstance(out, Symbol) and upstream.grad_of is None:
            upstream.grad_of = out
        self.step = (node, out if isinstance(out, Symbol) else None)

    def vjp_finished(self, node: Node, shares: list[Any]) -> None:
        """Each share is the gradient of one input: named after it, commented with the op's formula."""
        for index, (tensor, share) in enumerate(zip(node.inputs, shares)):
            symbol, target = self.argument(share) if share is not None else None, self.argument(tensor)
            if not isinstance(symbol, Symbol) or not isinstance(target, Symbol):
                continue
            if symbol.grad_of is None:
                symbol.grad_of = target
            for instruction in reversed(self.instructions):
                if symbol in instruction.outputs:
                    instruction.comment = instruction.comment or type(node).input_formula(index, node.inputs)
                    break
        self.step = None
