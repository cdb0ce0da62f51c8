"""The expression evaluator behind ``autograd-lite explain``: parse, whitelist, budget, evaluate.

The expression is parsed with :mod:`ast` and evaluated by walking a whitelist of node
types (numbers, the bound variables, ``+ - * / ** @``, unary minus, subscripts of a bound
tensor, calls to the public functions of autograd_lite); nothing is ever passed to
``eval`` or ``exec``. Everything else is refused with :class:`RefusedError`. Memory is bounded before
work starts: every op's result size is worked out from the shapes before it runs.
"""

from __future__ import annotations

import ast
import collections
import inspect
import keyword
import math
import re
from collections.abc import Callable
from typing import Any, TypeGuard

import numpy as np

import autograd_lite as ag
from autograd_lite.ops import ops_in
from autograd_lite.ops.common import NUMPY_1  # getitem's bounds checks differ between NumPy 1 and 2

MAX_EXPRESSION_LENGTH = 500
MAX_VALUE_LENGTH = 20_000
MAX_DEPTH = 32  # nesting of the syntax tree
MAX_ELEMENTS = 10_000  # per variable given with --at
MAX_RESULT_ELEMENTS = 1_000_000  # per intermediate result
# Summed over every intermediate result of one evaluation: the trace keeps a few copies of each
# (upstream, gradient, running total), so this bounds the memory of the whole run to a few hundred MB.
MAX_TOTAL_ELEMENTS = 3_000_000
MAX_EXPONENT = 1_000
MAX_INTEGER = 10**9
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
ROOT_LABEL = "f"
# The table's own names: the output f, the intermediates v1, v2, ..., unnamed parameters and
# constants p1, c1; and what a constant can print as (inf, nan). A variable called so would be confused with them.
RESERVED_NAME = re.compile(r"(f|[vpc][0-9]+|inf|nan)\Z")


class RefusedError(ValueError):
    """The expression or a value uses something explain does not allow."""


# ----- values given with --at ---------------------------------------------------------
def parse_value(text: str) -> np.ndarray:
    """A number or nested list of numbers (``2.5``, ``[[1, 2], [3, 4]]``) as a float64 array."""
    if len(text) > MAX_VALUE_LENGTH:
        raise RefusedError(f"value is {len(text):,} characters long; at most {MAX_VALUE_LENGTH:,} are accepted")
    tree = _parse(text, "value")

    def convert(node: ast.AST, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise RefusedError(f"value is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            number = convert(node.operand, depth + 1)
            if isinstance(number, list):
                raise RefusedError("a sign can only stand before a number in a value")
            return -number if isinstance(node.op, ast.USub) else number
        if isinstance(node, ast.Constant) and _is_number(node.value):
            return _checked_number(node.value)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [convert(element, depth + 1) for element in node.elts]
        raise RefusedError(f"a value may only contain numbers and [...] lists, not {_describe(node)}")

    nested = convert(tree.body, 0)
    try:
        array = np.array(nested, dtype=np.float64)
    except ValueError:
        raise RefusedError("value is ragged: every row of a nested list needs the same length") from None
    if array.size > MAX_ELEMENTS:
        raise RefusedError(f"value has {array.size:,} elements; at most {MAX_ELEMENTS:,} are accepted")
    return array


def parse_binding(text: str) -> tuple[str, np.ndarray]:
    """``NAME=VALUE`` -> (name, array)."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals:
        raise RefusedError(f"--at {text!r}: expected NAME=VALUE, e.g. --at x=1.0 or --at 'W=[[1,2],[3,4]]'")
    try:
        check_name(name)
    except RefusedError as error:
        raise RefusedError(f"--at {text!r}: {error}") from None
    try:
        return name, parse_value(value.strip())
    except RefusedError as error:
        raise RefusedError(f"--at {name}=...: {error}") from None


def check_name(name: str) -> None:
    """Refuse a variable name an expression could not use or the table would confuse (``f``, ``v1``, ``exp``...)."""
    if not isinstance(name, str) or not NAME.match(name):
        raise RefusedError(f"{name!r} is not a valid variable name (letters, digits, _; a letter first)")
    if name in ag.OPS:
        raise RefusedError(f"{name!r} is the name of a function of autograd_lite; choose another name")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise RefusedError(f"{name!r} is a Python keyword and cannot be used in an expression")
    if RESERVED_NAME.match(name):
        raise RefusedError(
            f"{name!r} is reserved for the table ({ROOT_LABEL} is the output, v1, p1, c1 ... "
            "are unnamed tensors); choose another name"
        )


# ----- the expression -------------------------------------------------------------------
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: ag.add,
    ast.Sub: ag.sub,
    ast.Mult: ag.mul,
    ast.Div: ag.div,
    ast.Pow: ag.power,
    ast.MatMult: ag.matmul,
}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}
# Elementwise ops: the result has the shape every argument broadcasts to.
_BROADCASTING = ops_in("elementwise")


def _parse(text: str, what: str) -> ast.Expression:
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise RefusedError(f"{what} is not valid syntax: {error.msg}") from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise RefusedError(f"{what} cannot be parsed: {type(error).__name__}") from None


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _checked_number(value: int | float) -> int | float:
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        raise RefusedError(f"integer {value:.3g} is too large (at most {MAX_INTEGER:,} in absolute value)")
    return value


def _describe(node: ast.AST) -> str:
    """What a refused syntax element is, in words."""
    names = {
        ast.Attribute: "attribute access (.name)",
        ast.Lambda: "lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a generator expression",
        ast.Compare: "a comparison",
        ast.BoolOp: "and/or",
        ast.IfExp: "if/else",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.JoinedStr: "an f-string",
        ast.Starred: "*unpacking",
        ast.NamedExpr: "assignment (:=)",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.YieldFrom: "yield",
    }
    if isinstance(node, ast.Constant):
        return f"the constant {node.value!r}"[:60]
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{node.attr})"
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    if isinstance(node, ast.UnaryOp):
        return f"the unary operator {type(node.op).__name__}"
    return names.get(type(node), type(node).__name__)


def check_depth(tree: ast.AST) -> None:
    """Refuse syntax trees nested deeper than MAX_DEPTH (checked without recursion).

    A flat chain of ``+ - * /`` (``x + x + ... + x``, which Python parses as a left-leaning tree)
    counts as one level however long it is; parentheses, calls and other operators nest.
    """
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RefusedError(f"expression is nested more than {MAX_DEPTH} levels deep")
        for child in ast.iter_child_nodes(node):
            flat = _is_flat(node) and child is node.left and _is_flat(child)  # type: ignore[attr-defined]
            stack.append((child, depth if flat else depth + 1))


_FLAT = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def _is_flat(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, _FLAT)


# ----- how big each op's results are, worked out before it runs -------------------------
Shape = tuple[int, ...]
#: What one call makes: (shape, how many tensors of that shape), its intermediates included.
Made = list[tuple[Shape, int]]


def _shape_of(value: Any) -> Shape:
    """The shape a value has as an array; a list or tuple counts as NumPy would stack it (by its largest item)."""
    if isinstance(value, (list, tuple)):
        items = [_shape_of(item) for item in value]
        return (len(value), *max(items, key=math.prod, default=()))
    if isinstance(value, ag.Tensor):
        return value.shape
    return np.shape(value) if _is_number(value) or isinstance(value, np.ndarray) else ()


def _size_of(value: Any) -> int:
    """Elements of a value; a list or tuple of values (stack, concatenate, split's pieces) counts all of them."""
    if isinstance(value, (list, tuple)):
        return sum(_size_of(item) for item in value)
    return math.prod(_shape_of(value))


def _pieces(value: Any) -> Made:
    """The tensors a sequence argument becomes (a Tensor is split along its first axis, as iterating it does)."""
    if isinstance(value, ag.Tensor):
        return [(value.shape[1:], value.shape[0])] if value.ndim else [((), 1)]
    if isinstance(value, (list, tuple)):
        return [(_shape_of(item), 1) for item in value]
    return [(_shape_of(value), 1)]


def _total(made: Made) -> int:
    """Elements of everything a call makes; each tensor counts at least one (it costs memory when empty too)."""
    return sum(copies * max(math.prod(shape), 1) for shape, copies in made)


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (an int or a sequence of them; None: every axis) as non-negative axes of ``ndim`` dimensions."""
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"axis {axis!r} must be integers")
        if not -max(ndim, 1) <= item < max(ndim, 1):
            raise ValueError(f"axis {item} is out of bounds for {ndim} dimensions")
    return tuple(int(item) % max(ndim, 1) for item in items)


def _reduced(shape: Shape, axis: Any, keepdims: Any = False) -> Shape:
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape) if keepdims or i not in axes)


def _matmul_shape(a: Shape, b: Shape) -> Shape:
    if len(a) == 0 or len(b) == 0:
        return np.broadcast_shapes(a, b)
    if a[-1] != (b[0] if len(b) == 1 else b[-2]):
        raise ValueError(f"shapes {a} and {b} do not fit: {a[-1]} != {b[0] if len(b) == 1 else b[-2]}")
    batch = np.broadcast_shapes(a[:-2], b[:-2])
    return tuple(batch) + tuple(a[-2:-1] if len(a) >= 2 else ()) + tuple(b[-1:] if len(b) >= 2 else ())


def _dot_shape(a: Shape, b: Shape) -> Shape:
    if len(a) == 0 or len(b) == 0:
        return np.broadcast_shapes(a, b)
    return a[:-1] if len(b) == 1 else a[:-1] + b[:-2] + b[-1:]


def _ints_of(value: Any) -> np.ndarray:
    array = np.asarray(value.data if isinstance(value, ag.Tensor) else value)
    if array.dtype.kind not in "iu" and array.size:
        raise TypeError(f"expected integers, got {value!r}"[:120])
    return array.astype(np.int64)


def _tile_shape(shape: Shape, reps: Any) -> Shape:
    counts = tuple(int(n) for n in np.atleast_1d(_ints_of(reps)))
    rank = max(len(shape), len(counts))
    shape, counts = (1,) * (rank - len(shape)) + shape, (1,) * (rank - len(counts)) + counts
    return tuple(n * max(count, 0) for n, count in zip(shape, counts))


def _repeat_shape(shape: Shape, repeats: Any, axis: Any) -> Shape:
    counts = np.maximum(_ints_of(repeats), 0)
    if axis is None:
        shape, axis = (math.prod(shape),), 0
    axis = _axes(axis, len(shape))[0]
    length = shape[axis] if shape else 1
    total = length * int(counts.reshape(-1)[0]) if counts.size == 1 else int(counts.sum())
    return shape[:axis] + (total,) + shape[axis + 1 :]


def _pad_shape(shape: Shape, pad_width: Any) -> Shape:
    widths = np.broadcast_to(np.maximum(_ints_of(pad_width), 0), (len(shape), 2))
    return tuple(n + int(before) + int(after) for n, (before, after) in zip(shape, widths))


def _diagonal_shape(shape: Shape, offset: Any, axis1: Any, axis2: Any) -> Shape:
    first, second = _axes(axis1, len(shape))[0], _axes(axis2, len(shape))[0]
    rows, columns, offset = shape[first], shape[second], int(offset)
    length = max(0, min(rows, columns - offset) if offset >= 0 else min(rows + offset, columns))
    return tuple(n for i, n in enumerate(shape) if i not in (first, second)) + (length,)


def _index_parts(index: Any) -> list[Any]:
    """The parts of an index as getitem passes them to NumPy: ints, slices, None, Ellipsis and arrays."""
    parts: list[Any] = []
    for part in index if isinstance(index, tuple) else (index,):
        if part is None or part is Ellipsis or isinstance(part, slice):
            parts.append(part)
        elif isinstance(part, (bool, np.bool_)):
            parts.append(np.array(part))
        elif isinstance(part, (int, np.integer)):
            parts.append(int(part))
        else:
            array = np.asarray(part.data if isinstance(part, ag.Tensor) else part)
            array = np.zeros(0, np.intp) if isinstance(part, list) and not part else array
            if array.dtype.kind not in "iub":
                raise IndexError("an index must be integers, slices, None, Ellipsis or integer or boolean lists")
            parts.append(int(array) if array.ndim == 0 and array.dtype.kind != "b" else array)
    return parts


def _indexed_axes(parts: list[Any], ndim: int) -> list[Any]:
    """The parts with Ellipsis (or the end) filled with whole slices, so that every axis is indexed."""
    consumed = sum(
        part.ndim if isinstance(part, np.ndarray) and part.dtype == bool else part is not None and part is not Ellipsis
        for part in parts
    )
    if sum(part is Ellipsis for part in parts) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices: {consumed} for a tensor of {ndim} dimensions")
    fill = [slice(None)] * (ndim - consumed)
    if not any(part is Ellipsis for part in parts):
        return [*parts, *fill]
    at = next(i for i, part in enumerate(parts) if part is Ellipsis)
    return [*parts[:at], *fill, *parts[at + 1 :]]


def getitem_shape(shape: Shape, index: Any) -> Shape:
    """The shape of ``a[index]`` for ``a`` of ``shape``, as NumPy would make it, without indexing anything."""
    parts = _indexed_axes(_index_parts(index), len(shape))
    advanced = any(isinstance(part, np.ndarray) for part in parts)
    out: list[int] = []
    selections: list[Shape] = []  # the shapes of the advanced indices, which broadcast together
    positions: list[int] = []
    outside: list[str] = []  # index arrays out of bounds: an error unless they select nothing
    insert_at, axis = 0, 0
    for position, part in enumerate(parts):
        if part is None or isinstance(part, slice):
            out.append(1 if part is None else len(range(*part.indices(shape[axis]))))
            axis += part is not None
            continue
        if isinstance(part, int):
            if not -shape[axis] <= part < shape[axis]:
                raise IndexError(f"index {part} is out of bounds for axis {axis} with size {shape[axis]}")
            selected: Shape | None = () if advanced else None
            axis += 1
        elif part.dtype == bool:
            if part.shape != shape[axis : axis + part.ndim]:
                raise IndexError(f"a boolean index of shape {part.shape} does not match axes of shape {shape}")
            selected, axis = (int(np.count_nonzero(part)),), axis + part.ndim
        else:
            if part.size and not (-shape[axis] <= part.min() and part.max() < shape[axis]):
                outside.append(f"an index is out of bounds for axis {axis} with size {shape[axis]}")
            selected, axis = part.shape, axis + 1
        if selected is not None:
            insert_at = insert_at if positions else len(out)
            selections.append(selected)
            positions.append(position)
    try:
        joined = np.broadcast_shapes(*selections)
    except ValueError:
        raise IndexError(f"index arrays of shapes {selections} do not broadcast together") from None
    result = tuple(out)
    if positions:
        if positions != list(range(positions[0], positions[-1] + 1)):
            insert_at = 0  # advanced indices apart from each other: NumPy puts their axes first
        result = (*out[:insert_at], *joined, *out[insert_at:])
    # NumPy 2 checks the bounds unless the index arrays select nothing; NumPy 1, only if the result has elements.
    if outside and (0 not in result if NUMPY_1 else not positions or 0 not in joined):
        raise IndexError(outside[0])
    return result


def _einsum_made(subscripts: Any, operands: tuple[Any, ...]) -> Made:
    """einsum's result, and the operands it broadcasts first; the subscripts as a string or as index lists."""
    if isinstance(subscripts, str):
        inputs, arrow, written = subscripts.replace(" ", "").partition("->")
        terms: list[Any] = inputs.split(",")
        given: Any = written if arrow else None
        if "." in subscripts:
            raise ValueError("explain cannot size einsum with '...'; write the axes out")
    else:  # einsum(a, [0, 1], b, [1, 2], [0, 2])
        items = [subscripts, *operands]
        operands, terms = tuple(items[0::2][: len(items) // 2]), items[1::2][: len(items) // 2]
        given = items[-1] if len(items) % 2 else None
    if len(terms) != len(operands):
        raise ValueError(f"{len(terms)} subscripts for {len(operands)} operands")
    sizes: dict[Any, int] = {}
    for term, operand in zip(terms, operands):
        shape = _shape_of(operand)
        if len(list(term)) != len(shape):
            raise ValueError(f"subscripts {term!r} do not fit an operand of shape {shape}")
        for label, size in zip(term, shape):
            sizes[label] = max(sizes.get(label, 1), size)
    counts = collections.Counter(label for term in terms for label in term)
    output = sorted(label for label, count in counts.items() if count == 1) if given is None else list(given)
    made = [(tuple(sizes[label] for label in output), 1)]
    for term, operand in zip(terms, operands):
        full = tuple(sizes[label] for label in term)
        made += [(full, 1)] if full != _shape_of(operand) else []
    return made


def _tensordot_shape(a: Shape, b: Shape, axes: Any) -> Shape:
    if isinstance(axes, (int, np.integer)):
        first, second = list(range(len(a) - int(axes), len(a))), list(range(int(axes)))
    else:
        first, second = (list(_axes(side, ndim)) for side, ndim in zip(axes, (len(a), len(b))))
    if [a[i] for i in first] != [b[j] for j in second]:
        raise ValueError(f"axes {axes} do not fit shapes {a} and {b}")
    return tuple(n for i, n in enumerate(a) if i not in first) + tuple(n for j, n in enumerate(b) if j not in second)


def _take_along_axis_shape(shape: Shape, indices: Shape, axis: Any) -> Shape:
    if axis is None:
        return indices
    axis = _axes(axis, len(shape))[0]
    return np.broadcast_shapes(indices, shape[:axis] + (1,) + shape[axis + 1 :])


def _split_made(shape: Shape, sections: Any, axis: Any) -> Made:
    """array_split's pieces: sections of nearly equal length, or the pieces between the given indices."""
    _axes(axis, len(shape))  # an axis the tensor has
    cuts = _ints_of(sections)
    count = int(cuts) if cuts.ndim == 0 else cuts.size + 1
    return [((math.prod(shape),), 1), ((), max(count, 1))]  # every piece counts at least one element


def _take_shape(shape: Shape, indices: Any, axis: Any) -> Shape:
    selected = _shape_of(indices)
    if axis is None:
        return selected
    axis = _axes(axis, len(shape))[0]
    return shape[:axis] + selected + shape[axis + 1 :]


def _solve_shape(a: Shape, b: Shape) -> Shape:
    if len(b) == 1:
        return a[:-1]
    return tuple(np.broadcast_shapes(a[:-2], b[:-2])) + b[-2:]


def _decomposition_made(shape: Shape, kind: str) -> Made:
    """eigh, svd and qr: one packed result, and the views their results are cut from."""
    batch, (m, n) = shape[:-2], shape[-2:]
    k = min(m, n)
    shapes: dict[str, list[tuple[int, ...]]] = {
        "eigh": [(n,), (n, n)],
        "svd": [(m, k), (k,), (k, n)],
        "qr": [(m, k), (k, n)],
    }
    parts = shapes[kind]
    packed = batch + (sum(math.prod(part) for part in parts),)
    return [(packed, 1), *((batch + part, 1) for part in parts)]


def _matrix_power_made(shape: Shape, power: Any) -> Made:
    power = int(power)
    products = abs(power).bit_length() + bin(abs(power)).count("1") + (power < 0)
    return [(shape, max(products, 1))]


def _same(name: str, copies: int = 1) -> Callable[[dict[str, Any]], Made]:
    """The rule of ops whose results are as big as their argument ``name`` (``copies`` tensors of it)."""
    return lambda a: [(_shape_of(a[name]), copies)]


def _joined(name: str, copies: int = 1) -> Callable[[dict[str, Any]], Made]:
    """The rule of ops that join a sequence: ``copies`` tensors as big as all its pieces, and the pieces it makes.

    A Tensor is cut into its rows and a nested list becomes a new tensor; tensors in a list are there already.
    """

    def rule(a: dict[str, Any]) -> Made:
        value = a[name]
        pieces = _pieces(value)
        made = pieces if isinstance(value, ag.Tensor) else [(_shape_of(v), 1) for v in value if isinstance(v, list)]
        return [*made, ((sum(copies * math.prod(shape) for shape, copies in pieces),), copies)]

    return rule


def _reduction(extra_inputs: int = 0, results: int = 1) -> Callable[[dict[str, Any]], Made]:
    """The rule of reductions: ``results`` reduced tensors and ``extra_inputs`` tensors as big as the input."""
    return lambda a: [
        (_reduced(_shape_of(a.get("a", a.get("x"))), a["axis"], a.get("keepdims")), results),
        (_shape_of(a.get("a", a.get("x"))), extra_inputs),
    ]


def _quantile_made(a: dict[str, Any]) -> Made:
    shape = _shape_of(a["a"])
    levels = np.shape(a["q"].data if isinstance(a["q"], ag.Tensor) else a["q"])
    return [(shape, 4), (levels + _reduced(shape, a["axis"], a["keepdims"]), 6)]


def _meshgrid_made(a: dict[str, Any]) -> Made:
    sides = [(_shape_of(x), 1) for x in a["xi"]]
    grid = (math.prod(_size_of(x) for x in a["xi"]),)
    return sides if a["sparse"] else [*sides, (grid, len(sides))]


def _svd_made(a: dict[str, Any]) -> Made:
    return _decomposition_made(_shape_of(a.get("a", a.get("x"))), "svd")


def _norm_made(a: dict[str, Any]) -> Made:
    shape = _shape_of(a["x"])
    return [(_reduced(shape, a["axis"], a["keepdims"]), 1), (shape, 0 if a["ord"] is None else 5)]


def _shapes(*values: Any) -> list[Shape]:
    return [_shape_of(value) for value in values]


def _side_pair(value: Any) -> tuple[int, int]:
    return (value, value) if _is_number(value) else tuple(value)


def _window_made(x: Shape, kernel: Any, out_channels: int, stride: Any, padding: Any, dilation: Any = 1) -> Made:
    """A conv/pool result (N, out_channels, Ho, Wo) and its im2col patches (N, Ho, Wo, C*kh*kw), made once."""
    if len(x) != 4:
        raise ValueError(f"the input must be 4-D (N, C, H, W), got shape {x}")
    sides = [
        (side + 2 * p - d * (k - 1) - 1) // s + 1
        for side, k, s, p, d in zip(x[2:], *map(_side_pair, (kernel, stride, padding, dilation)))
    ]
    if min(sides) < 1:
        raise ValueError(f"the kernel {kernel} does not fit an input of shape {x}")
    patches = (x[0], *sides, x[1] * math.prod(_side_pair(kernel)))
    return [((x[0], out_channels, *sides), 1), (patches, 1)]


def _conv2d_made(a: dict[str, Any]) -> Made:
    weight = _shape_of(a["weight"])
    return _window_made(_shape_of(a["x"]), weight[2:], weight[0], a["stride"], a["padding"], a["dilation"])


def _pool_made(a: dict[str, Any]) -> Made:
    x = _shape_of(a["x"])
    stride = a["kernel_size"] if a["stride"] is None else a["stride"]
    return _window_made(x, a["kernel_size"], x[1] if len(x) > 1 else 0, stride, a["padding"])


def _broadcast_made(a: dict[str, Any]) -> Made:
    """Elementwise ops: every argument broadcasts, lists included (clip's bounds, where's condition ...)."""
    return [(np.broadcast_shapes(*_shapes(*a.values())), 1)]


_RULES: dict[str, Callable[[dict[str, Any]], Made]] = {
    **{name: _broadcast_made for name in _BROADCASTING},
    **{name: _reduction() for name in ("sum", "mean", "max", "min", "logsumexp", "prod", "var", "std")},
    "norm": _norm_made,
    "ptp": _reduction(results=3),
    "nansum": _reduction(extra_inputs=1),
    "nanmean": _reduction(extra_inputs=1, results=3),
    "average": _reduction(extra_inputs=2, results=3),
    "median": _reduction(extra_inputs=4, results=4),
    "quantile": _quantile_made,
    "percentile": _quantile_made,
    **{name: _same("a") for name in ("softmax", "log_softmax", "inv", "cholesky")},
    **{name: _same("a", 2) for name in ("cumsum", "cumprod", "sort", "ravel", "flatten")},
    "trace": lambda a: [(_diagonal_shape(_shape_of(a["a"]), a["offset"], a["axis1"], a["axis2"])[:-1], 2)],
    "pinv": lambda a: [(_shape_of(a["a"])[:-2] + _shape_of(a["a"])[:-3:-1], 1)],
    "det": lambda a: [(_shape_of(a["a"])[:-2], 1)],
    "slogdet": lambda a: [(_shape_of(a["a"])[:-2], 2)],
    "solve": lambda a: [(_solve_shape(*_shapes(a["a"], a["b"])), 1)],
    "eigh": lambda a: _decomposition_made(_shape_of(a["a"]), "eigh"),
    "eigvalsh": lambda a: _decomposition_made(_shape_of(a["a"]), "eigh"),
    "svd": _svd_made,
    "svdvals": _svd_made,
    "qr": lambda a: _decomposition_made(_shape_of(a["a"]), "qr"),
    "matrix_power": lambda a: _matrix_power_made(_shape_of(a["a"]), a["n"]),
    "matmul": lambda a: [(_matmul_shape(*_shapes(a["a"], a["b"])), 1)],
    "dot": lambda a: [(_dot_shape(*_shapes(a["a"], a["b"])), 1)],
    "linear": lambda a: [(_matmul_shape(*_shapes(a["x"], a["weight"])), 1)],
    "einsum": lambda a: _einsum_made(a["subscripts"], a["operands"]),
    "tensordot": lambda a: [(_tensordot_shape(_shape_of(a["a"]), _shape_of(a["b"]), a["axes"]), 1)],
    "outer": lambda a: [((_size_of(a["a"]), _size_of(a["b"])), 1), *((s, 1) for s in _shapes(a["a"], a["b"]))],
    "inner": lambda a: [
        (
            _dot_shape(*_shapes(a["a"], a["b"]))
            if 0 in map(len, _shapes(a["a"], a["b"]))
            else _shape_of(a["a"])[:-1] + _shape_of(a["b"])[:-1],
            1,
        )
    ],  # fmt: skip
    "vdot": lambda a: [((), 1), *((s, 1) for s in _shapes(a["a"], a["b"]))],
    "kron": lambda a: [
        (_tile_shape(_shape_of(a["a"]), _shape_of(a["b"]) or 1), 2),
        *((s, 1) for s in _shapes(a["a"], a["b"])),
    ],
    "softmax_cross_entropy": lambda a: [(_shape_of(a["logits"])[:-1], 1)],
    **{name: _same("a") for name in ("reshape", "transpose", "swapaxes", "expand_dims", "roll", "squeeze")},
    **{name: _same("a") for name in ("moveaxis", "rollaxis")},
    **{name: _same("m") for name in ("flip", "fliplr", "flipud")},
    "rot90": _same("m", 2),
    **{
        name: lambda a: [(_shape_of(a["m"]) * (2 if len(_shape_of(a["m"])) == 1 else 1), 1)]
        for name in ("tril", "triu")
    },
    "broadcast_to": lambda a: [((a["shape"],) if _is_number(a["shape"]) else tuple(a["shape"]), 1)],
    "getitem": lambda a: [(getitem_shape(_shape_of(a["a"]), a["index"]), 1)],
    "concatenate": _joined("tensors", 2),
    "stack": _joined("tensors"),
    "tile": lambda a: [(_tile_shape(_shape_of(a["A"]), a["reps"]), 1)],
    "repeat": lambda a: [(_repeat_shape(_shape_of(a["a"]), a["repeats"], a["axis"]), 1)],
    "take": lambda a: [(_take_shape(_shape_of(a["a"]), a["indices"], a["axis"]), 1)],
    "take_along_axis": lambda a: [(_take_along_axis_shape(_shape_of(a["arr"]), _shape_of(a["indices"]), a["axis"]), 2)],
    "pad": lambda a: [(_pad_shape(_shape_of(a["array"]), a["pad_width"]), 1)],
    "diagonal": lambda a: [(_diagonal_shape(_shape_of(a["a"]), a["offset"], a["axis1"], a["axis2"]), 1)],
    "diag": lambda a: [(_diag_shape(_shape_of(a["v"]), a["k"]), 1)],
    "split": lambda a: _split_made(_shape_of(a["ary"]), a["indices_or_sections"], a["axis"]),
    "array_split": lambda a: _split_made(_shape_of(a["ary"]), a["indices_or_sections"], a["axis"]),
    "hsplit": lambda a: _split_made(_shape_of(a["ary"]), a["indices_or_sections"], int(len(_shape_of(a["ary"])) > 1)),
    "vsplit": lambda a: _split_made(_shape_of(a["ary"]), a["indices_or_sections"], 0),
    "dsplit": lambda a: _split_made(_shape_of(a["ary"]), a["indices_or_sections"], 2),
    **{name: lambda a: [(s, 1) for s in _shapes(*a["arys"])] for name in ("atleast_1d", "atleast_2d", "atleast_3d")},
    **{name: _joined("tup", 2) for name in ("vstack", "hstack", "dstack", "column_stack")},
    "append": lambda a: [((_size_of(a["arr"]) + _size_of(a["values"]),), 3)],
    "select": lambda a: [
        (np.broadcast_shapes(*_shapes(*a["condlist"], *a["choicelist"], a["default"])), len(a["choicelist"]) + 1)
    ],  # fmt: skip
    "broadcast_arrays": lambda a: [(np.broadcast_shapes(*_shapes(*a["args"])), len(a["args"]))],
    "meshgrid": _meshgrid_made,
    "conv2d": _conv2d_made,
    "max_pool2d": _pool_made,
    "avg_pool2d": _pool_made,
}


def _diag_shape(shape: Shape, k: Any) -> Shape:
    if len(shape) == 1:
        return (shape[0] + abs(int(k)),) * 2
    return _diagonal_shape(shape, k, 0, 1)


def planned_results(function: str, arguments: list[Any], keywords: dict[str, Any]) -> Made:
    """What a call to ``function`` will make, worked out from its arguments' shapes before it runs.

    Raises :class:`RefusedError` when the arguments do not fit the op (the message says why) or
    when explain has no size rule for it.
    """
    rule = _RULES.get(function)
    if rule is None:
        raise RefusedError(f"{function}() is not available in explain: its result size cannot be worked out first")
    try:
        bound = inspect.signature(getattr(ag, function)).bind(*arguments, **keywords)
        bound.apply_defaults()
        return rule(dict(bound.arguments))
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError, OverflowError) as error:
        raise RefusedError(f"{function}: {' '.join(str(error).split())}"[:300]) from None


class Evaluator:
    """Evaluate a whitelisted expression tree over bound Tensors."""

    def __init__(self, variables: dict[str, ag.Tensor]) -> None:
        self.variables = variables
        self.elements_made = 0  # summed over every result so far: memory adds up along a chain

    def run(self, function: str, arguments: list[Any], keywords: dict[str, Any] | None = None) -> Any:
        """Call the op ``function`` if what it makes fits in the per-result and total element budgets."""
        keywords = keywords or {}
        made = planned_results(function, arguments, keywords)
        largest = max((math.prod(shape) for shape, copies in made if copies), default=0)
        elements = _total(made)
        if largest > MAX_RESULT_ELEMENTS:
            raise RefusedError(
                f"{function} would make {largest:,} elements; at most {MAX_RESULT_ELEMENTS:,} are allowed"
            )
        if self.elements_made + elements > MAX_TOTAL_ELEMENTS:
            raise RefusedError(
                f"{function} would bring the intermediate results to {self.elements_made + elements:,} elements "
                f"in all; at most {MAX_TOTAL_ELEMENTS:,} are allowed"
            )
        result = getattr(ag, function)(*arguments, **keywords)
        self.elements_made += max(elements, _size_of(result))
        return result

    def evaluate(self, node: ast.AST) -> Any:
        """The value of one syntax node: a Tensor, a number, or a tuple/list of them (call arguments)."""
        if isinstance(node, ast.Expression):
            return self.evaluate(node.body)
        if isinstance(node, ast.Constant):
            if not _is_number(node.value):
                raise RefusedError(f"{_describe(node)} is not allowed; only numbers")
            return _checked_number(node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.variables:
                if node.id in ag.OPS:
                    raise RefusedError(f"{node.id} is a function: call it, e.g. {node.id}(x)")
                raise RefusedError(f"unknown name {node.id!r}; bind it with --at {node.id}=VALUE")
            return self.variables[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.evaluate(node.operand)
            self._require_value(operand, "unary minus")
            if isinstance(node.op, ast.UAdd):
                return operand
            return -operand if _is_number(operand) else self.run("neg", [operand])
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            # A chain a + b - c * d ... leans left: walk down it in a loop, not by recursion.
            chain = [node]
            while isinstance(chain[-1].left, ast.BinOp) and type(chain[-1].left.op) in _BINARY:
                chain.append(chain[-1].left)
            value = self.evaluate(chain[-1].left)
            for operation in reversed(chain):
                value = self._binary(operation, value, self.evaluate(operation.right))
            return value
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, (ast.Tuple, ast.List)) and isinstance(node.ctx, ast.Load):
            if len(node.elts) > MAX_DEPTH:
                raise RefusedError(f"a list or tuple may have at most {MAX_DEPTH} items in an expression")
            items = [self.evaluate(element) for element in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        raise RefusedError(f"{_describe(node)} is not allowed")

    def _binary(self, node: ast.BinOp, left: Any, right: Any) -> Any:
        symbol = _SYMBOLS[type(node.op)]
        self._require_value(left, symbol)
        self._require_value(right, symbol)
        if isinstance(node.op, ast.Pow):
            self._check_exponent(right)
        if _is_number(left) and _is_number(right):
            left = ag.Tensor(float(left))  # NumPy float arithmetic: no unbounded Python integers
        return self.run(_BINARY[type(node.op)].__name__, [left, right])

    @staticmethod
    def _require_value(value: Any, operator: str) -> None:
        if not (_is_number(value) or isinstance(value, ag.Tensor)):
            raise RefusedError(f"{operator} needs numbers or tensors, not a {type(value).__name__}")

    @staticmethod
    def _check_exponent(exponent: Any) -> None:
        data = np.abs(exponent.data if isinstance(exponent, ag.Tensor) else np.asarray(exponent, dtype=np.float64))
        # NaN exponents are fine (the answer is NaN); np.nanmax would warn on an all-NaN array.
        if np.any(data[~np.isnan(data)] > MAX_EXPONENT):
            raise RefusedError(f"exponent is too large (at most {MAX_EXPONENT} in absolute value)")

    def _call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name):
            raise RefusedError(
                f"only functions of autograd_lite called by name are allowed, not {_describe(node.func)}"
            )
        name = node.func.id
        if name not in ag.OPS:
            raise RefusedError(f"{name}() is not a function of autograd_lite; allowed: {', '.join(ag.OPS)}")
        arguments = []
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise RefusedError("*unpacking is not allowed")
            arguments.append(self.evaluate(argument))
        keywords = {}
        for keyword_argument in node.keywords:
            if keyword_argument.arg is None:
                raise RefusedError("**unpacking is not allowed")
            keywords[keyword_argument.arg] = self._keyword_value(keyword_argument.value)
        if name == "power" and len(arguments) > 1:
            self._check_exponent(arguments[1])
        return self.run(name, arguments, keywords)

    def _keyword_value(self, node: ast.AST) -> Any:
        """Keyword arguments are plain numbers, True/False/None or tuples of integers."""
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, bool)):
            return node.value
        value = self.evaluate(node)
        if isinstance(value, ag.Tensor):
            raise RefusedError("keyword arguments must be numbers or tuples of integers, not tensors")
        return value

    def _subscript(self, node: ast.Subscript) -> Any:
        if not (isinstance(node.value, ast.Name) and node.value.id in self.variables):
            raise RefusedError("only a bound tensor can be indexed, e.g. W[0, 1] or W[:, 1]")
        return self.run("getitem", [self.variables[node.value.id], self._index(node.slice, 0)])

    def _index(self, node: ast.AST, depth: int) -> Any:
        if isinstance(node, ast.Tuple) and depth == 0:
            return tuple(self._index(element, 1) for element in node.elts)
        if isinstance(node, ast.Slice):
            return slice(
                *(None if part is None else self._integer(part) for part in (node.lower, node.upper, node.step))
            )
        return self._integer(node)

    @staticmethod
    def _integer(node: ast.AST) -> int:
        sign = 1
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            sign, node = -1, node.operand
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
            return sign * int(_checked_number(node.value))
        raise RefusedError("an index must be integers and slices of integers, e.g. W[0, 1:3]")


def evaluate_expression(expression: str, variables: dict[str, np.ndarray]) -> ag.Tensor:
    """Parse and evaluate ``expression`` over the variables (each becomes a Tensor that requires grad)."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise RefusedError(
            f"expression is {len(expression):,} characters long; at most {MAX_EXPRESSION_LENGTH} are accepted"
        )
    tree = _parse(expression.strip(), "expression")
    check_depth(tree)
    tensors = {name: ag.Tensor(value, requires_grad=True, name=name) for name, value in variables.items()}
    with np.errstate(all="ignore"):  # inf and nan are legitimate answers to show, not warnings
        result = Evaluator(tensors).evaluate(tree)
    if not isinstance(result, ag.Tensor):
        raise RefusedError("the expression does not use any variable; bind one with --at NAME=VALUE and use it")
    if not result.requires_grad:
        raise RefusedError("the result does not depend on any variable given with --at")
    return result
