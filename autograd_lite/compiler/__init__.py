"""``ag.compile``: trace a function of tensors once, run straight-line NumPy afterwards.

>>> import numpy as np
>>> import autograd_lite as ag
>>> step = ag.compile(ag.value_and_grad(lambda w, x: (ag.tanh(x @ w) ** 2).sum()))
>>> loss, g = step(np.ones(3), np.eye(3))     # traces, then runs the generated code
>>> np.allclose(g.data, ag.grad(lambda w, x: (ag.tanh(x @ w) ** 2).sum())(np.ones(3), np.eye(3)).data)
True
>>> step.cache_info()
CacheInfo(hits=0, misses=1, maxsize=32, currsize=1)

The pieces: ``tracing`` (the recording values and the engine's hook), ``program`` (the
instructions and the passes over them), ``codegen`` (the readable source), ``trees``
(arguments and results as flat lists of arrays). See docs/compile.md.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from autograd_lite.compiler.codegen import FUSIONS, NUMBERED, cse_key, source
from autograd_lite.compiler.program import (
    Program,
    Symbol,
    eliminate_common_subexpressions,
    eliminate_dead_code,
    fold_constant_masks,
    fuse_pairs,
    refuse_problems,
)
from autograd_lite.compiler.tracing import Recorder, plain
from autograd_lite.compiler.trees import Tree, flatten, signature_of
from autograd_lite.engine import Tensor, data_of, set_trace_hook, swap_values
from autograd_lite.functional import value_and_grad

__all__ = ["compile", "backward_code", "Compiled", "CacheInfo"]

#: Argument types whose calls take the quick signature (no structure to walk).
FLAT = frozenset({Tensor, np.ndarray})
#: Intermediates at least this large are freed (``del``) right after their last use.
FREE_BYTES = 4096
_TRACING = threading.Lock()  # the engine's hook is one per process: traces take turns


class CacheInfo(NamedTuple):
    """Counters of a compiled function's cache, as functools.lru_cache reports them."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


class Entry(NamedTuple):
    """One traced signature: the generated function, its source and how to rebuild the results."""

    function: Callable[..., Any]
    source: str
    results: Tree
    trace_seconds: float


class Compiled:
    """A function compiled by :func:`compile`: call it like the original."""

    def __init__(
        self, function: Callable[..., Any], maxsize: int, name: str | None, names: list[str] | None, in_place: bool
    ) -> None:
        self.function = function
        self.names = names
        self.in_place = in_place
        self.maxsize = maxsize
        self.name = name or _function_name(function)
        self.cache: OrderedDict[Any, Entry] = OrderedDict()
        self.hits = self.misses = 0
        self.last: Entry | None = None
        functools.update_wrapper(self, function)

    def __call__(self, *args: Any) -> Any:
        leaves: Any
        key: Any
        if all(type(a) in FLAT for a in args):  # the common case, tensors and arrays only: a quicker key
            leaves = args  # (no getattr with a default: on an array it raises and catches an AttributeError)
            key = ("flat", *[(a.shape, a.dtype, a.requires_grad if type(a) is Tensor else None) for a in args])
        else:
            leaves, arguments = flatten(args)
            key = signature_of(arguments, leaves)
        entry = self.cache.get(key)
        if entry is None:
            self.misses += 1
            entry = self.cache[key] = trace(self.function, args, self.name, self.names, self.in_place)
            if len(self.cache) > self.maxsize:
                self.cache.popitem(last=False)
        else:
            self.hits += 1
            self.cache.move_to_end(key)
        self.last = entry
        return entry.results.build(entry.function(*[data_of(leaf) for leaf in leaves]))

    @property
    def source(self) -> str:
        """The generated code of the latest call's signature (forward, then backward)."""
        if self.last is None:
            raise ValueError(f"compile: {self.name} has not been called yet; call it once to trace it")
        return self.last.source

    @property
    def trace_seconds(self) -> float:
        """How long tracing and generating the latest call's code took."""
        return self.last.trace_seconds if self.last is not None else 0.0

    def cache_info(self) -> CacheInfo:
        """Hits (calls that ran generated code), misses (traces), the bound and the number kept."""
        return CacheInfo(self.hits, self.misses, self.maxsize, len(self.cache))

    def cache_clear(self) -> None:
        """Forget every traced signature (the next call traces again)."""
        self.cache.clear()
        self.hits = self.misses = 0
        self.last = None


def compile(
    function: Callable[..., Any],
    maxsize: int = 32,
    name: str | None = None,
    names: list[str] | None = None,
    in_place: bool = True,
) -> Compiled:
    """``function`` traced once per signature and run as generated straight-line NumPy afterwards.

    ``function`` takes Tensors, arrays, numbers (or lists/tuples/dicts of them) and returns
    the same kinds — typically ``ag.value_and_grad(loss)`` or ``ag.hessian(f)``. The first call
    with a new signature (shapes, dtypes, whether each tensor requires grad, the structure of
    the arguments and the values of the Python numbers among them) runs it on recording
    values, forward and the backward pass the transforms record, and generates one Python
    function of NumPy calls; later calls with that signature run it. At most ``maxsize``
    signatures are kept (least recently used dropped). Results are Tensors holding values
    (no graph). Refused with a clear message: branching on traced values (use ``ag.where``),
    random draws, ``.data`` assignments and tensors that require grad taken from a closure.
    ``name`` and ``names`` name the generated function and its inputs (one per array or Tensor
    among the arguments; by default the tensors' own names, else the parameters'). ``in_place``
    lets an elementwise op write into the buffer of an intermediate it reads for the last time
    (``t = np.multiply(g, m, out=g)``); False keeps one new array per line, as for reading.
    """
    if not callable(function):
        raise TypeError(f"compile: expected a function, got {type(function).__name__}")
    if maxsize < 1:
        raise ValueError(f"compile: maxsize must be at least 1, got {maxsize}")
    return Compiled(function, maxsize, name, names, in_place)


def backward_code(loss: Callable[..., Any], *example_inputs: Any, argnums: int | tuple[int, ...] | None = None) -> str:
    """The generated forward and backward code of ``value_and_grad(loss)`` at these inputs, for reading.

    ``argnums`` defaults to the positions of the tensors that require grad (all arguments
    when there are none).
    """
    if argnums is None:
        wanted = tuple(i for i, x in enumerate(example_inputs) if isinstance(x, Tensor) and x.requires_grad)
        argnums = wanted or tuple(range(len(example_inputs)))
    compiled = compile(value_and_grad(loss, argnums), name=_function_name(loss), in_place=False)
    compiled(*example_inputs)
    return compiled.source


def _function_name(function: Callable[..., Any]) -> str:
    name = getattr(function, "__name__", "compiled")
    return name if name.isidentifier() and name != "<lambda>" else "compiled"


def parameter_names(function: Callable[..., Any], count: int) -> list[str]:
    """Names for the inputs: the function's parameters (or those of the function a transform wraps)."""
    for candidate in (function, *_wrapped_functions(function)):
        try:
            parameters = list(inspect.signature(candidate).parameters.values())
        except (TypeError, ValueError):
            continue
        names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if names and not any(p.kind == p.VAR_POSITIONAL for p in parameters[: len(names)]):
            return (names + [f"x{i}" for i in range(len(names), count)])[:count]
    return [f"x{i}" for i in range(count)]


def _wrapped_functions(function: Callable[..., Any]) -> list[Callable[..., Any]]:
    """The functions a transform's closure holds (grad(f) holds f), nearest first."""
    found, frontier = [], [function]
    for _ in range(4):
        cells = [c for f in frontier for c in (getattr(f, "__closure__", None) or ())]
        frontier = [c.cell_contents for c in cells if callable(getattr(c, "cell_contents", None))]
        frontier = [f for f in frontier if inspect.isfunction(f)]
        found.extend(frontier)
    return found


def trace(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    name: str,
    names: list[str] | None = None,
    in_place: bool = True,
) -> Entry:
    """Trace ``function`` at ``args`` and generate its code (see :func:`compile`)."""
    start = time.perf_counter()
    recorder = Recorder()
    leaves, arguments = flatten(args)
    names = _leaf_names(function, args, leaves) if names is None else [*names, *_leaf_names(function, args, leaves)]
    with _TRACING:
        previous, swapped = set_trace_hook(recorder), list[tuple[Tensor, Any]]()
        try:
            traced_leaves = [_traced_input(recorder, leaf, n, swapped) for leaf, n in zip(leaves, names)]
            result_leaves, results = flatten(function(*arguments.build(traced_leaves)))
            outputs = [recorder.argument(x) for x in result_leaves]
            expected = [np.array(plain(data_of(x))) for x in result_leaves]  # before the inputs get their values back
            _name_value(outputs)
        finally:
            for tensor, values in reversed(swapped):
                swap_values(tensor, values)
            set_trace_hook(previous)
    program = Program(recorder.inputs, recorder.instructions, outputs)
    generated, text = _generate(program, name, in_place)
    _verify(generated, [data_of(x) for x in leaves], expected, text)
    return Entry(generated, text, results.with_tensors(result_leaves), time.perf_counter() - start)


def _name_value(outputs: list[Any]) -> None:
    """The first result (value_and_grad's value) is called ``value`` unless it has a name of its own."""
    for symbol in outputs[:1]:
        if isinstance(symbol, Symbol) and symbol.grad_of is None and symbol.hint in NUMBERED:
            symbol.hint = "value"


def _leaf_names(function: Callable[..., Any], args: tuple[Any, ...], leaves: list[Any]) -> list[str]:
    """A name per input array: the tensor's own name, else its parameter's (``x``, ``params_0``)."""
    names = parameter_names(function, len(args))
    per_leaf: list[str] = []
    for position, arg in enumerate(args):
        count = len(flatten(arg)[0])
        base = names[position]
        per_leaf.extend([base] if count == 1 and not isinstance(arg, (list, tuple, dict)) else
                        [f"{base}_{i}" for i in range(count)])  # fmt: skip
    return [getattr(leaf, "name", None) or base for leaf, base in zip(leaves, per_leaf)]


def _traced_input(recorder: Recorder, leaf: Any, name: str, swapped: list[tuple[Tensor, Any]]) -> Any:
    """The recording stand-in for one input: a traced array, or the caller's Tensor itself holding one.

    The tensor itself, so that code reaching it another way (a model's parameter used by the
    model) sees the recording values too; its own values come back after the trace.
    """
    traced = recorder.new_input(np.asarray(data_of(leaf)), name)
    if isinstance(leaf, Tensor):
        swapped.append((leaf, swap_values(leaf, traced)))
        return leaf
    return traced


def _generate(program: Program, name: str, in_place: bool) -> tuple[Callable[..., Any], str]:
    """Optimise the program, write its source and turn it into a function."""
    fold_constant_masks(program)
    eliminate_common_subexpressions(program, cse_key)
    eliminate_dead_code(program)
    fuse_pairs(program, FUSIONS)
    refuse_problems(program)
    text, constants = source(program, name, FREE_BYTES, in_place)
    namespace: dict[str, Any] = {"np": np, **constants}
    exec(builtins.compile(text, f"<compiled {name}>", "exec"), namespace)
    return namespace[name], text


def _verify(generated: Callable[..., Any], inputs: list[Any], expected: list[np.ndarray], text: str) -> None:
    """Run the generated code once on the traced inputs: it must give what the trace computed."""
    with np.errstate(all="ignore"):
        got = generated(*[np.array(x) for x in inputs])
    for index, (value, want) in enumerate(zip(got, expected)):
        value = np.asarray(value)
        tolerance = 1e-5 if want.dtype.kind == "f" and want.dtype.itemsize < 8 else 1e-12
        same = value.shape == want.shape and value.dtype == want.dtype
        if same and want.dtype.kind in "fc":
            scale = np.max(np.abs(want[np.isfinite(want)]), initial=1.0)
            same = np.allclose(value, want, rtol=tolerance, atol=tolerance * scale, equal_nan=True)
        elif same:
            same = np.array_equal(value, want)
        if not same:
            raise RuntimeError(
                f"compile: the generated code gives another result {index} ({value.shape} {value.dtype}) than the "
                f"traced run ({want.shape} {want.dtype}); this is a bug in compile, please report it with:\n{text}"
            )
