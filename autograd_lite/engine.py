"""The engine core: Tensor, Node, the tape, and reverse-mode backward.

Running an op (see ``ops/``) calls :func:`apply`, which computes the result with
NumPy and, when a gradient will be needed, records a :class:`Node` for the op. Each
Node gets a sequence number from one global counter, so the Nodes of any graph sorted
by that number are the *tape*: the order in which the forward pass ran them.
``backward()`` walks that tape in reverse and applies each Node's vector-Jacobian
products (the chain rule), summing gradients where a tensor feeds several consumers.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from heapq import heappop, heappush
from typing import Any, ClassVar, TypeVar, overload

import numpy as np

_next_sequence = itertools.count(1).__next__


class _Mutations:
    # Sequence number of the latest assignment to any Tensor's .data. A Node recorded after
    # it cannot have seen its inputs or output change, so backward checks them only for older Nodes.
    latest = 0
    lock = threading.Lock()  # taking a number and publishing it is one step: no thread's older number wins

    @classmethod
    def stamp(cls) -> int:
        """A new sequence number for a change of values, published as the latest."""
        with cls.lock:
            number = cls.latest = _next_sequence()
            return number


FunctionType = TypeVar("FunctionType", bound=Callable[..., Any])


class _GradMode(threading.local):
    """Whether ops record Nodes, kept per thread as in PyTorch: one thread's ``no_grad()`` never reaches another."""

    def __init__(self) -> None:
        self.enabled = True
        self.saved: list[bool] = []  # what each open no_grad/enable_grad block found, innermost last


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Return True when ops record Nodes in this thread (outside :class:`no_grad`)."""
    return _grad_mode.enabled


class _SetGradMode:
    """Context manager and decorator that sets whether ops record Nodes."""

    enabled: bool

    def __new__(cls, function: Any = None) -> Any:
        if function is not None:  # used as a bare decorator: @ag.no_grad
            return object.__new__(cls)(function)
        return object.__new__(cls)

    def __enter__(self) -> None:
        _grad_mode.saved.append(_grad_mode.enabled)
        _grad_mode.enabled = self.enabled

    def __exit__(self, *exception: object) -> None:
        _grad_mode.enabled = _grad_mode.saved.pop()  # exactly what this block found, in this thread

    def __call__(self, function: FunctionType) -> FunctionType:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_SetGradMode):  # noqa: N801 - lower case like torch.no_grad
    """Record nothing inside: ops return plain Tensors and allocate no Nodes.

    Use as ``with ag.no_grad(): ...`` or as a decorator, ``@ag.no_grad()`` or ``@ag.no_grad``.
    """

    enabled = False


class enable_grad(_SetGradMode):  # noqa: N801
    """Record Nodes again inside a :class:`no_grad` block (used by ``grad``)."""

    enabled = True


def _forward_not_defined(*arrays: np.ndarray, **params: Any) -> np.ndarray:
    """What a Node subclass that forgot its ``forward`` computes: nothing."""
    raise NotImplementedError


class TracedArray(np.ndarray):
    """Values that ``ag.compile`` is tracing (its recorder subclasses this, see ``autograd_lite.compiler``).

    The engine keeps their type where it would otherwise convert (``Tensor(...)``) and refuses
    what would turn them into plain Python values or arrays behind the recorder's back.
    """


class TraceHook:
    """What ``ag.compile``'s recorder does while it traces (set with :func:`set_trace_hook`).

    ``record(op, inputs, params)`` runs an op's forward on plain arrays and returns its output
    (a TracedArray), or None when the calling thread is not the one tracing; ``vjp_started`` and
    ``vjp_finished`` bracket each Node's vjps when backward records them (``create_graph``).
    """

    def record(self, op: type[Node], inputs: tuple[Tensor, ...], params: dict[str, Any]) -> Any:
        """The op's output values, recorded, or None to let ``apply`` run it as usual."""
        raise NotImplementedError

    def active(self) -> bool:
        """True in the thread that is tracing."""
        raise NotImplementedError

    def vjp_started(self, node: Node, output: Tensor, grad: Any) -> None:
        """Backward is about to record the vjps of ``node``."""

    def vjp_finished(self, node: Node, shares: list[Any]) -> None:
        """Backward recorded each input's share of ``node``'s gradient."""


_trace_hook: TraceHook | None = None


def tracing() -> bool:
    """True while ``ag.compile`` traces a function in this thread (random draws and side effects are refused)."""
    return _trace_hook is not None and _trace_hook.active()


def swap_values(tensor: Tensor, values: Any) -> Any:
    """Put ``values`` into ``tensor`` as they are, without ``.data``'s checks, and return the old ones.

    ``ag.compile`` traces with the caller's own tensors (a model's parameters) holding recording
    values, and puts the real ones back right after.
    """
    old, tensor._data = tensor._data, values
    return old


def set_trace_hook(hook: TraceHook | None) -> TraceHook | None:
    """Install ``ag.compile``'s recorder (None: remove it); returns the previous one. One per process at a time."""
    global _trace_hook
    previous, _trace_hook = _trace_hook, hook
    return previous


class Node:
    """One recorded operation: the entry on the tape, and the class that holds the op's facts.

    Subclasses (one per op, in ``ops/``) define ``forward(*arrays, **params)`` and a
    tuple ``vjps`` with one vector-Jacobian product per input,
    ``vjp(grad, out, *inputs, **params)``. Ops with any number of inputs leave ``vjps``
    empty and override :meth:`vjp` instead. The vjps are written with NumPy functions and
    operators that also work on Tensors, so the same formula runs on arrays (plain
    backward) or on Tensors (``create_graph=True``, for gradients of gradients).

    Everything else the project knows about an op is class data beside them (all optional
    for a custom op): its public function ``name``, its ``notation`` when it is written
    with a symbol (``"{0} / {1}"``), its ``category`` (``"elementwise"`` ops have a
    diagonal Jacobian), the NumPy callables routed to it (``numpy``), the names of its
    inputs in formulas (``arguments``) and its derivative *per input* (``formulas``, like
    the ``self:``/``other:`` lines of PyTorch's derivatives.yaml). The whole-op ``formula``
    is derived from them; a custom op may give ``formula`` alone instead.
    """

    __slots__ = ("inputs", "params", "sequence", "released")
    name: ClassVar[str] = ""
    notation: ClassVar[str] = ""
    category: ClassVar[str] = ""
    public: ClassVar[bool] = True
    numpy: ClassVar[tuple[Callable[..., Any], ...]] = ()
    arguments: ClassVar[tuple[str, ...]] = ("a", "b", "c")
    signature: ClassVar[str] = ""
    formulas: ClassVar[tuple[str, ...]] = ()
    formula: ClassVar[str] = ""
    vjps: ClassVar[tuple[Callable[..., Any], ...]] = ()
    jvps: ClassVar[tuple[Callable[..., Any], ...]] = ()

    inputs: tuple[Tensor, ...]
    params: dict[str, Any]
    sequence: int
    released: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.formulas and "formula" not in cls.__dict__:
            variadic = "{i}" in cls.arguments[0]  # one rule for every input: shown once, for a_i
            indices = [None] if variadic else range(len(cls.formulas))
            cls.formula = "; ".join(cls.input_formula(index) for index in indices)

    #: Compute the op's output from input arrays: ``forward(*arrays, **params)``. Each op has its own
    #: signature (often a NumPy function itself), hence typed as any callable.
    forward: ClassVar[Callable[..., Any]] = staticmethod(_forward_not_defined)

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        """The gradient for input ``index`` given the output's gradient ``grad``."""
        return cls.vjps[index](grad, out, *inputs, **params)

    @classmethod
    def tangent(cls, tangents: list[Any], out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        """Forward mode: the output's tangent from the inputs' tangents (None where an input has none).

        The sum of ``jvps[i](tangent_i, out, *inputs, **params)`` over the inputs that have a
        tangent; it may come back in a shape that broadcasts to the output's. An elementwise
        op's Jacobian is diagonal, so its vjps serve as its jvps unless it gives its own.
        Ops with any number of inputs override this instead.
        """
        rules = cls.jvps or (cls.vjps if cls.category == "elementwise" else ())
        if not rules:
            raise NotImplementedError(f"{cls.__name__} has no forward-mode rule (jvps)")
        total = None
        for rule, tangent in zip(rules, tangents):
            if tangent is not None:
                part = rule(tangent, out, *inputs, **params)
                total = part if total is None else total + part
        return total

    @classmethod
    def written(cls) -> str:
        """The op applied to its argument names, as formulas write it: ``a/b``, ``exp(a)``."""
        if cls.signature:
            return cls.signature
        if cls.notation:
            return cls.notation.replace(" ", "").format(*cls.arguments)
        return f"{cls.function_name()}({', '.join(cls.arguments[: len(cls.formulas) or 1])})"

    @classmethod
    def function_name(cls) -> str:
        """The public function's name; a custom op without one is called by its class name, in snake case."""
        return cls.name or re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    @classmethod
    def formulas_for(cls, inputs: tuple[Any, ...]) -> tuple[str, ...]:
        """The per-input rules that hold for these inputs (an op whose rule depends on ranks overrides this)."""
        return cls.formulas

    @classmethod
    def input_formula(cls, index: int | None = None, inputs: tuple[Any, ...] = ()) -> str:
        """The derivative rule for input ``index``, e.g. ``d(a/b)/db = -a/b**2``.

        Ops of any arity share one rule, written for input ``{i}`` (counted from 0, named ``a_{i}``).
        """
        formulas = cls.formulas_for(inputs) if inputs else cls.formulas
        if not formulas:  # a custom op that gave only the whole formula
            return cls.formula
        position = 0 if index is None else index
        rule = formulas[min(position, len(formulas) - 1)]
        argument = cls.arguments[min(position, len(cls.arguments) - 1)]
        expression = cls.written()
        if expression.startswith(f"{cls.function_name()}("):
            text = f"d/d{argument} {expression} = {rule}"
        else:
            text = f"d({expression})/d{argument} = {rule}"
        return text.replace("{i}", "i" if index is None else str(index))

    @property
    def op(self) -> str:
        """The op's name, e.g. ``"Mul"``."""
        return type(self).__name__

    def __repr__(self) -> str:
        shapes = ", ".join(str(t.shape) for t in self.inputs)
        return f"<{self.op} #{self.sequence} inputs: {shapes}>"


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    ``data`` is a NumPy array; ``grad`` is filled by :meth:`backward` for tensors that
    require grad; ``node`` is the :class:`Node` that produced this tensor (None for a
    leaf created by the user).
    """

    __slots__ = ("_data", "grad", "requires_grad", "node", "name", "_version", "retains_grad", "__weakref__")
    __array_priority__ = 1000.0
    _data: np.ndarray
    requires_grad: bool

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        if isinstance(data, Tensor):
            if data.requires_grad and _grad_mode.enabled:
                raise TypeError(
                    f"Tensor(t) of a tensor that requires grad (shape {data.shape}) would be a constant, cut off "
                    "from its gradient: use t itself, t.clone() to copy it in the graph, or t.detach() deliberately"
                )
            data = data._data
        if isinstance(data, TracedArray):  # ag.compile is tracing: converting would hide the values from it
            array = data if dtype is None else data.astype(dtype)
        else:
            array = np.asarray(data, dtype=dtype)
        if requires_grad:
            # A tensor that requires grad owns its values (a copy): optimizers update them in
            # place, which must never reach the caller's array. Constants share memory.
            converted = _differentiable_values(array, "Tensor")
            array = array.copy() if converted is array else converted
        self._data = array
        self.grad: Any = None
        self.requires_grad = bool(requires_grad)
        self.node: Node | None = None
        self.name = name
        self._version = 0
        self.retains_grad = False

    # ----- array-like properties -------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The values as a NumPy array. Assigning (also ``t.data -= x``) bumps the version."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        if isinstance(data_of(value), TracedArray) or isinstance(self._data, TracedArray):
            raise TypeError(
                "Tensor.data = ...: ag.compile is tracing this function, and an assignment to a tensor's values is "
                "a side effect the compiled code would not repeat; return the new values from the function instead"
            )
        array = np.asarray(data_of(value))
        if self.requires_grad:
            converted = _differentiable_values(array, "Tensor.data")
            # It owns its values, as after Tensor(...): never the caller's (or another tensor's) array.
            array = array.copy() if converted is array and array is not self._data else converted
        if array.shape != self._data.shape:
            if self.node is not None:
                raise ValueError(
                    f"Tensor.data: this tensor is the output of {self.node.op} in a recorded graph; its shape "
                    f"{self._data.shape} cannot become {array.shape} (compute a new tensor instead)"
                )
            if self.grad is not None:
                raise ValueError(
                    f"Tensor.data: the new shape {array.shape} does not fit the accumulated .grad of shape "
                    f"{np.shape(self.grad)}; call zero_grad() first"
                )
        self._data = array
        self._version = _Mutations.stamp()

    @property
    def shape(self) -> tuple[int, ...]:
        """The array shape."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype."""
        return self._data.dtype

    @property
    def size(self) -> int:
        """The number of elements."""
        return self._data.size

    def __len__(self) -> int:
        return len(self._data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # NumPy converts implicitly (np.array([x, y]), np.r_, a function autograd_lite does not
        # know): while recording, that would turn a tensor that requires grad into a constant and
        # lose its gradient without a word, so it is refused, as in PyTorch. Otherwise: read-only.
        if isinstance(self._data, TracedArray):
            raise TypeError(
                f"np.asarray/np.array of a Tensor (shape {self.shape}) while ag.compile traces the function: the "
                "compiled code could not follow the values through NumPy; use the ops of autograd_lite on the tensor "
                "(ag.where(condition, a, b) instead of a branch on its values)"
            )
        if self.requires_grad and _grad_mode.enabled:
            raise TypeError(
                f"np.asarray/np.array of a Tensor that requires grad (shape {self.shape}) would drop its "
                "gradient: build arrays with ag.stack or ag.concatenate, take values with t.numpy() or "
                "t.detach(), or convert inside ag.no_grad()"
            )
        if dtype is not None and dtype != self._data.dtype:
            if copy is False:
                raise ValueError(f"Tensor.__array__: converting {self._data.dtype} to {dtype} needs a copy")
            return self._data.astype(dtype)
        return self._data.copy() if copy else read_only(self._data)

    @property
    def values_released(self) -> bool:
        """True for the stand-ins a finished backward leaves in its graph in place of intermediates."""
        return self._version < 0

    def numpy(self) -> np.ndarray:
        """The values as a read-only NumPy view: nothing written through it can corrupt a pending backward.

        ``.data`` is the tensor's own buffer, the one deliberate way to change values in place.
        """
        return read_only(self._data)

    def item(self) -> float:
        """The single value of a one-element tensor as a Python number."""
        return self._data.item()

    def detach(self) -> Tensor:
        """A new leaf sharing the values, cut off from the graph."""
        return constant(self._data, None)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this intermediate tensor after backward (leaves always do)."""
        self.retains_grad = True

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extra = ""
        if self.node is not None:
            extra = f", node={self.node.op}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self._data.dtype != np.float64:
            extra += f", dtype={self._data.dtype}"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    def _repr_html_(self) -> str:
        """What a Jupyter notebook shows: name, shape, dtype, the values and the grad (see autograd_lite.display)."""
        from autograd_lite.display import tensor_html

        return tensor_html(self)

    # ----- comparisons: plain boolean arrays, not differentiable -----------------
    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._data == data_of(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self._data != data_of(other)

    def __lt__(self, other: Any) -> np.ndarray:
        return self._data < data_of(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self._data <= data_of(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self._data > data_of(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self._data >= data_of(other)

    __hash__ = object.__hash__

    # ----- operators and method forms (the op table lives in ops/) --------------
    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)

    # In-place operators, as in PyTorch: on a leaf that requires grad they are allowed only
    # where nothing is recorded (e.g. an optimizer step inside no_grad()); otherwise
    # `w -= lr * w.grad` would silently turn a parameter into the output of a Sub node.
    # When a gradient must flow (`total += loss`), the op is recorded like `total = total + loss`.
    def _in_place(self, symbol: str, other: Any, recorded: Callable[[Any, Any], Tensor]) -> Tensor:
        if _grad_mode.enabled and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            if self.requires_grad and self.node is None:
                raise RuntimeError(
                    f"{symbol}: in-place update of a leaf tensor that requires grad while gradients are being "
                    f"recorded; do it inside `with ag.no_grad():` or on `.data` (e.g. `w.data -= lr * w.grad`)"
                )
            return recorded(self, other)
        result = np.asarray(recorded(self._data, data_of(other)).data)
        if not np.can_cast(result.dtype, self._data.dtype, casting="same_kind"):
            raise TypeError(
                f"{symbol}: the result has dtype {result.dtype}, which cannot be stored in this tensor's "
                f"dtype {self._data.dtype}; use `t = t {symbol[0]} other` to get a new tensor"
            )
        # A new array (same dtype): arrays shared with the caller or with views are never written through.
        self.data = result.astype(self._data.dtype, copy=False)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place("+=", other, ops.add)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place("-=", other, ops.sub)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place("*=", other, ops.mul)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place("/=", other, ops.div)

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self) -> bool:
        return bool(self._data)

    def __float__(self) -> float:
        return float(self._data.item())

    def __int__(self) -> int:
        return int(self._data.item())

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return numpy_routing.dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return numpy_routing.dispatch_function(function, args, kwargs)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (int, tuple or None for all)."""
        return ops.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``."""
        return ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; the gradient goes to the arg-max (split between ties)."""
        return ops.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``."""
        return ops.min(self, axis, keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        """Same values, new shape (``t.reshape(2, 3)`` or ``t.reshape((2, 3))``)."""
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute axes (reverse them when none are given)."""
        return ops.transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return ops.transpose(self)

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return ops.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return ops.log(self)

    def sigmoid(self) -> Tensor:
        """Elementwise 1 / (1 + exp(-x)), computed without overflow."""
        return ops.sigmoid(self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return ops.tanh(self)

    def relu(self) -> Tensor:
        """Elementwise max(x, 0)."""
        return ops.relu(self)

    def astype(self, dtype: Any) -> Tensor:
        """A differentiable cast to another float dtype."""
        return ops.astype(self, dtype)

    # NumPy's and PyTorch's other method names, each the differentiable op of the same name.
    def clip(self, low: Any = None, high: Any = None) -> Tensor:
        """Values limited to [low, high]."""
        return ops.clip(self, low, high)

    def abs(self) -> Tensor:
        """Elementwise |x|."""
        return ops.abs(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return ops.sqrt(self)

    def sin(self) -> Tensor:
        """Elementwise sine."""
        return ops.sin(self)

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return ops.cos(self)

    def ravel(self) -> Tensor:
        """The values as one axis."""
        return ops.reshape(self, (-1,))

    flatten = ravel

    def squeeze(self, axis: Any = None) -> Tensor:
        """Without axes of length 1 (only ``axis`` when given)."""
        return ops.squeeze(self, axis)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Product over ``axis``."""
        return ops.prod(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis: Any = None) -> Tensor:
        """Running sum along ``axis`` (over the flattened values when None)."""
        return ops.cumsum(self, axis=axis)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Variance over ``axis`` (``ddof=1``: the sample variance)."""
        return ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Standard deviation over ``axis``."""
        return ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def argmax(self, axis: int | None = None) -> Any:
        """Index of the largest value, as np.argmax (a plain array: indices carry no gradient)."""
        return np.argmax(self._data, axis=axis)

    def argmin(self, axis: int | None = None) -> Any:
        """Index of the smallest value, as np.argmin (a plain array)."""
        return np.argmin(self._data, axis=axis)

    def tolist(self) -> Any:
        """The values as nested Python lists."""
        return self._data.tolist()

    def clone(self) -> Tensor:
        """A copy of the values that stays in the graph (its gradient flows back to this tensor)."""
        return ops.positive(self)

    copy = clone

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording ops on this leaf, in place, as in PyTorch; returns the tensor."""
        if self.node is not None:
            raise RuntimeError(
                f"requires_grad_: this tensor is the output of {self.node.op}; only leaves can change it "
                "(use .detach() for a leaf with the same values)"
            )
        if requires_grad and not self.requires_grad:
            self._data = _differentiable_values(self._data, "requires_grad_").copy()  # its own values, as Tensor()
        self.requires_grad = bool(requires_grad)
        return self

    def fill_(self, value: float) -> Tensor:
        """Every element set to ``value``, in place (refused on a leaf that requires grad while recording)."""
        if self.requires_grad and self.node is None and _grad_mode.enabled:
            raise RuntimeError(
                "fill_: in-place update of a leaf tensor that requires grad while gradients are being recorded; "
                "do it inside `with ag.no_grad():`"
            )
        self.data = np.full_like(self._data, data_of(value))
        return self

    def __mod__(self, other: Any) -> Tensor:
        return ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return ops.remainder(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        # Integer-valued: the derivative is 0 wherever it exists, so the result is a constant
        # (as np.floor_divide returns a plain array and PyTorch's floor_divide has no gradient).
        return constant(np.floor_divide(self._data, data_of(other)))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return constant(np.floor_divide(data_of(other), self._data))

    # ----- backward ---------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``grad`` is the upstream gradient (required unless self has one element).
        ``retain_graph=True`` allows a second backward through the same graph;
        ``create_graph=True`` records the backward pass so ``.grad`` is a Tensor that
        can be differentiated again.
        """
        run_backward(self, grad, retain_graph=retain_graph or create_graph, create_graph=create_graph)


def _differentiable_values(array: np.ndarray, where: str) -> np.ndarray:
    """Values a tensor that requires grad can hold: real floating point; integers and booleans become float64."""
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{where}: requires_grad=True needs real floating-point data, got dtype {array.dtype} "
            f"(shape {array.shape}); convert it with .astype(np.float64)"
        )
    return array


def constant(array: Any, node: Node | None = None) -> Tensor:
    """A Tensor holding ``array`` as it is, no checks, no copy: a constant, or (given its Node) an op's result."""
    tensor = object.__new__(Tensor)
    tensor._data = array if type(array) is np.ndarray else np.asarray(array)
    tensor.grad = None
    tensor.requires_grad = node is not None
    tensor.node = node
    tensor.name = None
    tensor._version = 0
    tensor.retains_grad = False
    return tensor


def read_only(array: np.ndarray) -> np.ndarray:
    """A view of ``array`` that refuses writes (the array itself stays writable)."""
    view = array.view()
    view.flags.writeable = False
    return view


def data_of(value: Any) -> Any:
    """The NumPy array of a Tensor; any other value unchanged (masks, bounds, plain constants)."""
    return value._data if isinstance(value, Tensor) else value


def apply(op: type[Node], *inputs: Tensor, **params: Any) -> Tensor:
    """Run ``op`` forward on the inputs' data and record its Node when needed."""
    if _trace_hook is not None:  # ag.compile is tracing (in some thread): its recorder runs the forward
        traced = _trace_hook.record(op, inputs, params)
        if traced is not None:
            return _traced_result(op, inputs, params, traced)
    try:  # one- and two-input ops are nearly all of them: skip the generic list building
        if len(inputs) == 1:
            out = op.forward(inputs[0]._data, **params)
            recording = inputs[0].requires_grad
        elif len(inputs) == 2:
            out = op.forward(inputs[0]._data, inputs[1]._data, **params)
            recording = inputs[0].requires_grad or inputs[1].requires_grad
        else:
            out = op.forward(*[t._data for t in inputs], **params)
            recording = any(t.requires_grad for t in inputs)
    except (ValueError, TypeError, IndexError) as error:
        described = ", ".join(f"{t.shape} {t.dtype}" for t in inputs)
        message = f"{op.__name__}: {error} (inputs: {described})"
        try:
            named = type(error)(message)
        except Exception:  # some NumPy exception classes take other arguments
            named = next(kind(message) for kind in (IndexError, ValueError, TypeError) if isinstance(error, kind))
        raise named from None
    if recording and _grad_mode.enabled:
        node = object.__new__(op)
        node.inputs = inputs
        node.params = params
        node.sequence = _next_sequence()
        node.released = False
        return constant(out, node)
    return constant(out, None)


def _traced_result(op: type[Node], inputs: tuple[Tensor, ...], params: dict[str, Any], traced: Any) -> Tensor:
    """The Tensor ``apply`` returns for an output ag.compile's recorder computed: recorded as usual."""
    node = None
    if _grad_mode.enabled and any(t.requires_grad for t in inputs):
        node = object.__new__(op)
        node.inputs, node.params, node.sequence, node.released = inputs, params, _next_sequence(), False
    tensor = constant(np.zeros(()), node)
    tensor._data = traced
    return tensor


# ----- the tape ---------------------------------------------------------------
def _graph(root: Tensor) -> list[tuple[int, Node, Tensor]]:
    """(sequence, Node, output tensor) for every Node reachable from root, in tape order.

    Iterative, not recursive, so graphs of any depth work.
    """
    found: list[tuple[int, Node, Tensor]] = []
    seen: set[Node] = set()
    stack = [root]
    pop, push, remember, record = stack.pop, stack.extend, seen.add, found.append
    while stack:
        tensor = pop()
        node = tensor.node
        if node is None or node in seen:
            continue
        remember(node)
        record((node.sequence, node, tensor))
        push(node.inputs)
    found.sort()  # sequence numbers are unique, so only the first item is ever compared
    return found


def tape(output: Tensor) -> list[Node]:
    """The Nodes that produced ``output``, in the order the forward pass ran them."""
    return [node for _, node, _ in _graph(output)]


def graph_tensors(output: Tensor) -> Iterator[tuple[Node, Tensor]]:
    """Pairs (Node, the tensor it produced) in tape order (for drawing and tracing)."""
    return ((node, tensor) for _, node, tensor in _graph(output))


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` down to ``shape``: the one place broadcasting is undone.

    Works on arrays and (for ``create_graph``) on Tensors.
    """
    if grad.shape == shape:
        return grad
    if grad.ndim < len(shape):
        return np.broadcast_to(grad, shape)
    leading = grad.ndim - len(shape)
    axes = tuple(range(leading)) + tuple(
        leading + i for i, size in enumerate(shape) if size == 1 and grad.shape[leading + i] != 1
    )
    if axes:
        grad = np.sum(grad, axis=axes, keepdims=True)
    return grad.reshape(shape)


def push_tangents(root: Tensor, seeds: dict[int, Any]) -> Any:
    """Forward mode: the tangent of ``root`` given tangents of some tensors it was computed from.

    ``seeds`` maps id(tensor) to its tangent (same shape). One sweep over the tape in
    recording order applies each Node's forward rule (``Node.tangent``) to its inputs'
    tangents. The rules run on the Tensors themselves, so under recording the result can be
    differentiated again (grad of jvp, forward-over-reverse Hessians). None: root does not
    depend on the seeded tensors.
    """
    known = dict(seeds)
    quiet = np.errstate(divide="ignore", invalid="ignore")  # the rules' limits, as in backward
    with quiet:
        _push(root, known)
    return known.get(id(root))


def _push(root: Tensor, known: dict[int, Any]) -> None:
    seeded = set(known)
    for node, output in graph_tensors(root):
        if id(output) in seeded:  # a seed is given, whatever produced it
            continue
        if node.released:
            raise RuntimeError(
                f"push_tangents: the graph through {node.op} was released by a backward pass; compute the forward "
                f"pass again (or pass retain_graph=True to that backward)"
            )
        tangents = [known.get(id(tensor)) for tensor in node.inputs]
        if all(tangent is None for tangent in tangents):
            continue
        tangent = type(node).tangent(tangents, output, node.inputs, node.params)
        if tangent is None:  # the output does not depend on the tangents after all
            continue
        if np.shape(tangent) != output.shape:
            tangent = np.broadcast_to(tangent, output.shape)
        known[id(output)] = tangent


#: ``on_step(node, output, grad, input_grads)``, called once per Node as backward leaves it:
#: ``grad`` is the gradient of the root with respect to ``output`` (complete: every consumer
#: has sent its share) and ``input_grads`` holds each input's share by the op's vjp, already
#: in the input's shape and dtype (None for inputs that need no gradient). The hook runs
#: before the shares are added to anything, so it sees each one as sent. The arrays are
#: the engine's own buffers, valid only during the call: copy what you keep, change nothing.
StepHook = Callable[[Node, Tensor, Any, list[Any]], None]


@overload
def run_backward(
    root: Tensor,
    grad: Any = ...,
    retain_graph: bool = ...,
    create_graph: bool = ...,
    targets: None = ...,
    on_step: StepHook | None = ...,
    stop_at_targets: bool = ...,
) -> None: ...
@overload
def run_backward(
    root: Tensor,
    grad: Any = ...,
    retain_graph: bool = ...,
    create_graph: bool = ...,
    *,
    targets: list[Tensor],
    on_step: StepHook | None = ...,
    stop_at_targets: bool = ...,
) -> list[Any]: ...
def run_backward(
    root: Tensor,
    grad: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
    targets: list[Tensor] | None = None,
    on_step: StepHook | None = None,
    stop_at_targets: bool = False,
) -> list[Any] | None:
    """Reverse-mode sweep over the tape of ``root``.

    Without ``targets``, accumulates into ``.grad`` of leaves that require grad.
    With ``targets``, touches no ``.grad`` and returns one gradient per target (None
    where root does not depend on it): the total derivative, through every path, unless
    ``stop_at_targets`` treats the targets as independent inputs (partial derivatives: the
    sweep goes no further back than them). ``on_step(node, output, grad, input_grads)``
    is called after each Node, with the engine's own numbers (used by the tracer).
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this tensor does not require grad: none of the tensors it was computed "
            "from has requires_grad=True (or it was computed inside no_grad())"
        )
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward(): the output has shape {root.shape}, not a single value; pass grad= "
                f"(an array of shape {root.shape}) or reduce it first, e.g. .sum()"
            )
        grad = np.ones(root.shape, dtype=root.dtype)
    else:
        if isinstance(grad, Tensor) and not create_graph:
            grad = grad._data
        if not isinstance(grad, Tensor):
            grad = np.asarray(grad, dtype=root.dtype)
        if grad.shape != root.shape:
            raise ValueError(
                f"backward(): grad has shape {grad.shape} but the output has shape {root.shape}; they must match"
            )
    if create_graph:
        grad = grad if isinstance(grad, Tensor) else constant(grad, None)
    # The derivative rules take limits (1/0 at log 0, inf - inf): backward stays quiet about them.
    with enable_grad() if create_graph else no_grad(), np.errstate(divide="ignore", invalid="ignore"):
        sums = _GradientSums(targets, create_graph, stop_at_targets)
        return _sweep(root, grad, retain_graph, targets, on_step, sums)


def _sweep(
    root: Tensor,
    root_grad: Any,
    retain_graph: bool,
    targets: list[Tensor] | None,
    on_step: StepHook | None,
    sums: _GradientSums,
) -> list[Any] | None:
    """The chain rule over the tape, latest Node first: each Node's complete gradient times its vjps."""
    create_graph = not sums.plain
    if root.node is None or id(root) in sums.stops:  # a leaf (or a stop): its gradient is the seed itself
        sums.send((root,), [root_grad], root_grad, [])  # the seed is not ours to add into
        return sums.result()
    # Always take the latest-recorded Node that has a gradient waiting: its consumers were all
    # recorded later, so they have all sent their shares. Nodes no gradient reaches are never visited.
    queue = [(-root.node.sequence, root.node, root)]
    pending = sums.pending
    pending[root.node] = root_grad
    stand_ins: dict[int, Tensor] = {}  # one stand-in per released tensor, shared by all its consumers
    while queue:
        _, node, output = heappop(queue)
        grad = pending.pop(node)
        if node.released or node.sequence < _Mutations.latest:
            _check_unchanged(node, output)
        if output.retains_grad or targets is not None:
            sums.keep(output, grad)
        shares = _input_grads(node, output, grad, create_graph)
        if on_step is not None:
            on_step(node, output, grad, shares)
        sums.send(node.inputs, shares, grad, queue)
        if not retain_graph:
            node.released = True
            for tensor in node.inputs:  # a loop over one or two inputs costs less than a call
                if tensor.node is not None and tensor._data.nbytes >= RELEASE_BYTES:
                    _release_intermediates(node, stand_ins)
                    break
    return sums.result()


def _input_grads(node: Node, output: Tensor, grad: Any, create_graph: bool) -> list[Any]:
    """Each input's share ``vjp(grad)``, in the input's shape (and dtype); None where none is needed.

    Plain backward runs the vjps on arrays and records nothing; with ``create_graph`` they
    run on the Tensors themselves and are recorded.
    """
    op = type(node)
    rules = op.vjps
    inputs = node.inputs
    values: tuple[Any, ...]  # the Tensors themselves, or their arrays
    out: Any
    if create_graph:
        values, out = inputs, output
        if _trace_hook is not None:  # ag.compile names the gradients and comments each vjp with its formula
            _trace_hook.vjp_started(node, output, grad)
    else:  # one- and two-input ops are nearly all of them: skip the generic list building
        if len(inputs) == 1:
            values = (inputs[0]._data,)
        elif len(inputs) == 2:
            values = (inputs[0]._data, inputs[1]._data)
        else:
            values = tuple([t._data for t in inputs])
        out = output._data
    shares: list[Any] = []
    for index, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            shares.append(None)
            continue
        if rules:
            share = rules[index](grad, out, *values, **node.params)
        else:
            share = op.vjp(index, grad, out, values, node.params)
        like = tensor._data
        if not create_graph and type(share) is not np.ndarray:
            share = np.asarray(share)  # NumPy returns scalars for 0-d results
        if share.shape != like.shape:
            share = _summed_to_input(share, like.shape, np.shape(out), node, index)
        if not create_graph and share.dtype is not like.dtype and share.dtype != like.dtype:
            share = share.astype(like.dtype)
        shares.append(share)
    if create_graph and _trace_hook is not None:
        _trace_hook.vjp_finished(node, shares)
    return shares


def _summed_to_input(share: Any, shape: tuple[int, ...], out_shape: tuple[int, ...], node: Node, index: int) -> Any:
    """A share summed over the axes broadcasting added; any other shape is a wrong vjp, refused.

    Broadcasting can only have added leading axes the output has, to a shape the input broadcasts to.
    """
    extra = share.ndim - len(shape)
    fits_input = extra >= 0 and all(side in (1, given) for side, given in zip(shape, share.shape[extra:]))
    lead = len(out_shape) - share.ndim  # where the share's added axes stand in the output
    within_output = lead >= 0 and all(share.shape[i] in (1, out_shape[lead + i]) for i in range(extra))
    if not (fits_input and within_output):
        raise ValueError(
            f"backward(): the vjp of {node.op} for input {index} returned shape {share.shape}, which is neither the "
            f"input's shape {shape} nor one it broadcasts to within the output's {out_shape}; a vjp must return a "
            f"gradient shaped like its input"
        )
    return unbroadcast(share, shape)


class _GradientSums:
    """Where backward's gradients add up: per Node waiting in the queue, per leaf, per target."""

    __slots__ = ("pending", "owned", "plain", "target_slots", "captured", "stops")

    def __init__(self, targets: list[Tensor] | None, create_graph: bool, stop_at_targets: bool = False) -> None:
        self.pending: dict[Node, Any] = {}  # the gradient summed so far for each Node's output
        self.owned: set[Node] = set()  # pending buffers this sweep allocated: safe to add into in place
        self.plain = not create_graph  # arrays, nothing recorded; else Tensors (create_graph)
        self.target_slots: dict[int, list[int]] | None = None
        self.captured: list[Any] = []
        if targets is not None:  # a tensor may be asked for twice (grad(f, argnums=(0, 1))(t, t))
            self.target_slots = {}
            for slot, target in enumerate(targets):
                self.target_slots.setdefault(id(target), []).append(slot)
            self.captured = [None] * len(targets)
        # Tensors the sweep goes no further back than (partial derivatives): an empty set is falsy and costs nothing.
        self.stops: frozenset[int] = frozenset(self.target_slots or ()) if stop_at_targets else frozenset()

    def send(self, inputs: tuple[Tensor, ...], shares: list[Any], upstream: Any, queue: list[Any]) -> None:
        """Add each input's share to what it has received; queue the producers that start waiting."""
        pending, owned, plain, stops = self.pending, self.owned, self.plain, self.stops
        for tensor, share in zip(inputs, shares):
            if share is None:
                continue
            # A buffer of its own (neither the upstream gradient nor a view) may be added into in place later.
            fresh = plain and share is not upstream and share.base is None
            producer = tensor.node
            if producer is None or (stops and id(tensor) in stops):
                self._deliver(tensor, share, fresh)
                continue
            existing = pending.get(producer)
            if existing is None:
                pending[producer] = share
                heappush(queue, (-producer.sequence, producer, tensor))
                if fresh:
                    owned.add(producer)
            elif producer in owned:
                existing += share
            elif plain:
                # a new buffer of our own (0-d sums come back as NumPy scalars, which += cannot change)
                pending[producer] = np.asarray(existing + share)
                owned.add(producer)
            else:
                pending[producer] = existing + share

    def keep(self, output: Tensor, grad: Any) -> None:
        """An intermediate's complete gradient: into its ``.grad`` (retain_grad) and its target slots."""
        if output.retains_grad:  # accumulates like a leaf's .grad, in its own array
            copy = np.array(grad) if self.plain else grad
            output.grad = copy if output.grad is None else output.grad + grad
        if self.target_slots is not None:
            for slot in self.target_slots.get(id(output), ()):
                self.captured[slot] = grad

    def _deliver(self, leaf: Tensor, grad: Any, fresh: bool) -> None:
        """Give a leaf its gradient: into a target slot, or accumulated into ``.grad``."""
        if self.target_slots is not None:
            for slot in self.target_slots.get(id(leaf), ()):
                self.captured[slot] = grad if self.captured[slot] is None else self.captured[slot] + grad
        elif not self.plain:
            leaf.grad = grad if leaf.grad is None else leaf.grad + grad
        elif leaf.grad is None:
            leaf.grad = grad if fresh else np.array(grad, dtype=leaf.dtype)
        elif isinstance(leaf.grad, Tensor):
            leaf.grad = leaf.grad._data + grad
        else:
            leaf.grad += grad

    def result(self) -> list[Any] | None:
        """The gradients of the targets (None for a plain backward, which filled ``.grad``)."""
        return self.captured if self.target_slots is not None else None


def _check_unchanged(node: Node, output: Tensor) -> None:
    """Refuse a Node whose graph a backward released, or whose input or output changed since it ran."""
    if node.released:
        raise RuntimeError(
            f"backward(): the graph through {node.op} was already used by a backward pass and "
            f"released; pass retain_graph=True to the first backward() to go through it twice"
        )
    for tensor in (*node.inputs, output):
        if tensor._version > node.sequence:
            role = "the output" if tensor is output else "an input"
            raise RuntimeError(
                f"backward(): {role} of {node.op} (shape {tensor.shape}) was modified in place after the op "
                f"ran, so its gradient would be wrong; compute the forward pass again after changing .data"
            )


#: Intermediates of at least this many bytes are let go of by backward (see _release_intermediates).
RELEASE_BYTES = 4096
_RELEASED_BUFFERS: dict[np.dtype, np.ndarray] = {}


def _release_intermediates(node: Node, stand_ins: dict[int, Tensor]) -> None:
    """Let go of the intermediates a used Node kept alive, as PyTorch does: stand-ins take their place.

    Their producers were queued with the real tensors. Backward calls this only for Nodes
    with an intermediate of at least RELEASE_BYTES: smaller ones cost more time to let go
    of than the memory is worth.
    """
    node.inputs = tuple([t if t.node is None else _released(t, stand_ins) for t in node.inputs])


def _released(tensor: Tensor, stand_ins: dict[int, Tensor]) -> Tensor:
    """A stand-in for an intermediate whose values backward no longer needs.

    It keeps the shape, dtype, name and producing Node (so the graph can still be drawn
    and walked) but holds no memory: its data is one read-only zero seen through zero
    strides. ``values_released`` tells it apart.
    """
    stand_in = stand_ins.get(id(tensor))  # the real tensor is alive until its producer is done
    if stand_in is not None:
        return stand_in
    dtype = tensor._data.dtype
    buffer = _RELEASED_BUFFERS.get(dtype)
    if buffer is None:
        buffer = _RELEASED_BUFFERS[dtype] = np.zeros(1, dtype)
        buffer.flags.writeable = False
    shape = tensor._data.shape
    stand_in = constant(np.ndarray(shape, dtype, buffer, 0, (0,) * len(shape)), tensor.node)
    stand_in.name = tensor.name
    stand_in._version = -1
    stand_ins[id(tensor)] = stand_in
    return stand_in


from autograd_lite import numpy_routing, ops  # noqa: E402  (Tensor's operators call the op table)
