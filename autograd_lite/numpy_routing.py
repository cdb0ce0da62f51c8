"""NumPy on Tensors: differentiate or refuse, never drop a gradient.

NumPy hands a call with a Tensor argument to ``Tensor.__array_ufunc__`` (ufuncs) or
``Tensor.__array_function__`` (everything else), which come here. A call

- runs the differentiable op when the op table has one for it (each Node lists the NumPy
  callables it implements in ``numpy``; ``from_numpy`` adapts a differing signature);
- runs on the plain arrays when its result carries no gradient by nature
  (:data:`NON_DIFFERENTIABLE`: indices, comparisons, rounding, tests, shapes);
- otherwise refuses with a TypeError while recording (a Tensor that requires grad, grad
  mode on), since its result would be a constant and the gradient would silently vanish.
  Inside ``ag.no_grad()``, or when nothing requires grad, it runs on the plain arrays.

NumPy always gets read-only views of a Tensor's values, and never a Tensor as ``out=`` or
as the target of ``ufunc.at``: a NumPy call cannot write into a Tensor. ``autograd-lite
numpy`` prints the three lists.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autograd_lite import ops
from autograd_lite.engine import Tensor, is_grad_enabled, read_only


def _route(op: type[ops.Node]) -> Callable[..., Any]:
    """The public function NumPy's callables reach: the op's own (in its family module), or its from_numpy."""
    return getattr(op, "from_numpy", None) or getattr(sys.modules[op.__module__], op.name)


_ROUTES: dict[Any, Callable[..., Any]] = {
    **{function: _route(op) for op in ops.OP_TABLE for function in op.numpy},
    **{function: ours for ours, numpy_callables in ops.COMPOSITES.values() for function in numpy_callables},
}
UFUNCS: dict[np.ufunc, Callable[..., Any]] = {f: ours for f, ours in _ROUTES.items() if isinstance(f, np.ufunc)}
FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    f: ours for f, ours in _ROUTES.items() if not isinstance(f, np.ufunc)
}


def _present(module: Any, names: str) -> frozenset[Any]:
    """The callables of ``module`` with these names (those this NumPy version has)."""
    return frozenset(getattr(module, name) for name in names.split() if hasattr(module, name))


#: NumPy callables whose result carries no gradient by nature: they return plain arrays, even
#: while recording. Their derivative is 0 wherever it exists (rounding, signs, comparisons,
#: indices, counts) or their result is not a number of the input (shapes, tests, text).
#: (Histograms are not here: their bin edges move with the data and weights flow into counts.)
NON_DIFFERENTIABLE: frozenset[Any] = _present(
    np,
    """sign floor ceil trunc rint fix round around floor_divide heaviside spacing signbit
    greater greater_equal less less_equal equal not_equal isnan isinf isfinite isnat isneginf isposinf
    logical_and logical_or logical_xor logical_not bitwise_and bitwise_or bitwise_xor bitwise_not
    bitwise_invert bitwise_count invert left_shift right_shift bitwise_left_shift bitwise_right_shift gcd lcm
    argmax argmin nanargmax nanargmin argsort argpartition argwhere nonzero flatnonzero searchsorted
    digitize lexsort count_nonzero any all isclose allclose array_equal array_equiv isin in1d
    shape ndim size isreal iscomplex isrealobj iscomplexobj result_type can_cast min_scalar_type
    common_type zeros_like ones_like
    empty_like shares_memory may_share_memory array_repr array_str array2string
    diag_indices_from tril_indices_from triu_indices_from ravel_multi_index unravel_index
    packbits unpackbits is_busday busday_count busday_offset datetime_as_string isscalar iterable isfortran""",
) | _present(np.linalg, "matrix_rank")


def plain(value: Any) -> Any:
    """Tensors replaced by read-only views of their values, inside lists, tuples and dicts too."""
    if isinstance(value, Tensor):
        return read_only(value.data)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def recording(*values: Any) -> bool:
    """Whether any Tensor among ``values`` (in lists, tuples, dicts) requires grad while grad mode is on."""
    return is_grad_enabled() and any(_tensors_requiring_grad(values))


def _tensors_requiring_grad(value: Any) -> Iterator[bool]:
    if isinstance(value, Tensor):
        yield value.requires_grad
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors_requiring_grad(item)
    elif isinstance(value, dict):
        yield from _tensors_requiring_grad(list(value.values()))


#: Why some refused functions stay refused (the rest: no derivative written yet).
REFUSAL_REASONS: dict[str, str] = {
    **dict.fromkeys(
        "linalg.eig linalg.eigvals iscomplex real imag conj conjugate angle real_if_close sort_complex".split(),
        "complex numbers are out of scope",
    ),
    **dict.fromkeys(
        "copyto put place putmask fill_diagonal put_along_axis".split(),
        "it writes into its argument, behind the graph's back",
    ),
    **dict.fromkeys(
        "unique unique_values unique_counts unique_inverse unique_all".split(),
        "a set of values, not a function of each",
    ),
    **dict.fromkeys("round around fix rint floor ceil trunc".split(), "piecewise constant: its derivative is 0"),
}


def _refuse(name: str) -> TypeError:
    reason = REFUSAL_REASONS.get(name.removeprefix("np."))
    return TypeError(
        f"{name} has no derivative in autograd_lite{f' ({reason})' if reason else ''}: on a Tensor that requires "
        f"grad it would return a constant and the gradient would be lost. Use a differentiable op (ag.OPS lists "
        f"them), call it on t.detach() to drop the gradient deliberately, run it inside ag.no_grad(), or write the "
        f"op with ag.apply"
    )


def _refuse_writes(name: str, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    out = kwargs.get("out")
    targets = out if isinstance(out, tuple) else (out,)
    if any(isinstance(target, Tensor) for target in targets) or (method == "at" and isinstance(inputs[0], Tensor)):
        raise TypeError(
            f"{name}{'.at' if method == 'at' else '(..., out=...)'} would write into a Tensor, behind the back of "
            f"the graph that recorded it: compute a new tensor (y = {name}(x)), or assign t.data = ... deliberately"
        )


def dispatch_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Route a NumPy ufunc on Tensors: the op, plain arrays by nature, else refused while recording."""
    name = f"np.{ufunc.__name__}"
    _refuse_writes(name, method, inputs, kwargs)
    function = UFUNCS.get(ufunc)
    if function is not None and method == "__call__" and not kwargs:
        return function(*inputs)
    if ufunc not in NON_DIFFERENTIABLE and recording(inputs, kwargs):
        raise _refuse(name if method == "__call__" else f"{name}.{method}")
    return getattr(ufunc, method)(*plain(inputs), **plain(kwargs))


def dispatch_function(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Route a NumPy function on Tensors: the op, plain arrays by nature, else refused while recording."""
    ours = FUNCTIONS.get(function)
    if ours is not None:  # a keyword we do not support is an error, not a silent loss of the graph
        try:
            return ours(*args, **kwargs)
        except TypeError as error:
            if "keyword argument" not in str(error):
                raise
            raise TypeError(
                f"np.{function.__name__} on a Tensor runs autograd_lite's differentiable version, which "
                f"takes different arguments ({error}); call it on t.detach() for a plain array instead"
            ) from None
    if function not in NON_DIFFERENTIABLE and recording(args, kwargs):
        raise _refuse(f"{_module_prefix(function)}{function.__name__}")
    return function(*plain(args), **plain(kwargs))


def _module_prefix(function: Any) -> str:
    module = getattr(function, "__module__", "") or ""
    return "np.linalg." if "linalg" in module else "np.fft." if "fft" in module else "np."


# ----- the lists -------------------------------------------------------------------------
#: Callables that take no array to differentiate or that act on the process, left out of the lists.
NOT_ARRAY_FUNCTIONS = frozenset(
    """get_include get_printoptions getbufsize geterr geterrcall info printoptions set_printoptions setbufsize
    seterr seterrcall show_config show_runtime test typename mintypecode isdtype issubdtype promote_types
    datetime_data format_float_positional format_float_scientific base_repr binary_repr from_dlpack
    nested_iters load loadtxt genfromtxt fromfile fromregex fromstring frombuffer fromiter fromfunction
    frompyfunc save savez savez_compressed savetxt bmat
    deprecate deprecate_with_doc disp find_common_type get_array_wrap issctype issubclass_ issubsctype lookfor
    maximum_sctype obj2sctype sctype2char set_numeric_ops source safe_eval""".split()
)  # bmat: matrices from strings or nested lists; from deprecate on: NumPy 1.x's (types, printing), gone in 2.0


def numpy_callables() -> Iterator[tuple[str, Any]]:
    """(name, callable) for NumPy's public functions and ufuncs in ``np`` and ``np.linalg`` that take arrays."""
    for prefix, module in (("np.", np), ("np.linalg.", np.linalg)):
        for name in sorted(dir(module)):
            value = getattr(module, name)
            if name.startswith("_") or name in NOT_ARRAY_FUNCTIONS or isinstance(value, type):
                continue
            if not callable(value):
                continue
            yield prefix + name, value


def classify(function: Any) -> str:
    """One of "differentiable", "non-differentiable" (plain arrays) or "refused while recording"."""
    if function in UFUNCS or function in FUNCTIONS:
        return "differentiable"
    if function in NON_DIFFERENTIABLE:
        return "non-differentiable"
    return "refused while recording"


def supported_table() -> str:
    """The NumPy functions that differentiate, as a Markdown table made from the op table (docs/numpy.md)."""
    rows = ["| NumPy | autograd_lite | kind |", "|---|---|---|"]
    for name, function in numpy_callables():
        ours = UFUNCS.get(function) or FUNCTIONS.get(function)
        if ours is None:
            continue
        op = next((op for op in ops.OP_TABLE if function in op.numpy), None)
        kind = op.category if op is not None else "composed of other ops"
        public = op.name if op is not None else ours.__name__
        rows.append(f"| `{name}` | `ag.{public}` | {kind} |")
    return "\n".join(rows)


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # a usage error is one line and exit code 2
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    """``autograd-lite numpy [NAME ...]``: NumPy's callables in three lists, or what becomes of the named ones."""
    parser = _OneLineParser(
        prog="autograd-lite numpy",
        description="What NumPy's functions do on a Tensor that requires grad: differentiate, return plain "
        "arrays (no gradient by nature), or refuse while recording.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="e.g. tan np.cumsum linalg.norm (default: all)")
    arguments = parser.parse_args(argv)
    found = {name: classify(function) for name, function in numpy_callables()}
    if arguments.names:
        for name in arguments.names:
            key = name if name.startswith("np.") else f"np.{name}"
            print(f"{key}: {found.get(key, 'not a NumPy function taking arrays')}")
        return 0 if all((n if n.startswith("np.") else f"np.{n}") in found for n in arguments.names) else 2
    for group in ("differentiable", "non-differentiable", "refused while recording"):
        names = [name for name, kind in found.items() if kind == group]
        print(f"{group} ({len(names)}):")
        print(textwrap.fill(" ".join(names), width=100, initial_indent="  ", subsequent_indent="  "))
    return 0
