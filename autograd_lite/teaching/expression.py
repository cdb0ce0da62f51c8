"""The expression evaluator behind ``autograd-lite explain``: parse, whitelist, budget, evaluate.

The expression is parsed with :mod:`ast` and evaluated by walking a whitelist of node
types (numbers, the bound variables, ``+ - * / ** @``, unary minus, subscripts of a bound
tensor, calls to the public functions of autograd_lite); nothing is ever passed to
``eval`` or ``exec``. Everything else is refused with :class:`RefusedError`. Memory is bounded before
work starts: every op's result size is worked out from the shapes before it runs.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_lite as ag
from autograd_lite.ops import ops_in

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
    if not NAME.match(name):
        raise RefusedError(f"--at {text!r}: {name!r} is not a valid variable name (letters, digits, _; a letter first)")
    if name in ag.OPS:
        raise RefusedError(f"--at {text!r}: {name!r} is the name of a function of autograd_lite; choose another name")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise RefusedError(f"--at {text!r}: {name!r} is a Python keyword and cannot be used in an expression")
    if RESERVED_NAME.match(name):
        raise RefusedError(
            f"--at {text!r}: {name!r} is reserved for the table ({ROOT_LABEL} is the output, v1, p1, c1 ... "
            "are unnamed tensors); choose another name"
        )
    try:
        return name, parse_value(value.strip())
    except RefusedError as error:
        raise RefusedError(f"--at {name}=...: {error}") from None


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
# How an op's result size follows from its inputs' shapes, by the op table's categories.
_BROADCASTING = ops_in("elementwise")
_MATRIX_PRODUCTS = ops_in("matrix product")
_REDUCTIONS = ops_in("reduction")


def _parse(text: str, what: str) -> ast.Expression:
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise RefusedError(f"{what} is not valid syntax: {error.msg}") from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise RefusedError(f"{what} cannot be parsed: {type(error).__name__}") from None


def _is_number(value: Any) -> bool:
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
    """Refuse syntax trees nested deeper than MAX_DEPTH (checked without recursion)."""
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RefusedError(f"expression is nested more than {MAX_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    if len(a) == 0 or len(b) == 0:
        return np.broadcast_shapes(a, b)
    batch = np.broadcast_shapes(a[:-2], b[:-2])
    rows = a[-2:-1] if len(a) >= 2 else ()
    columns = b[-1:] if len(b) >= 2 else ()
    return tuple(batch) + tuple(rows) + tuple(columns)


def _shape_of(value: Any) -> tuple[int, ...]:
    """The shape a value has as an array; a list or tuple counts as NumPy would stack it (by its first item)."""
    if isinstance(value, (list, tuple)):
        return (len(value), *(_shape_of(value[0]) if value else ()))
    return np.shape(value.data if isinstance(value, ag.Tensor) else value)


def _size_of(value: Any) -> int:
    """Elements of a value; a list or tuple of values (stack, concatenate) counts all of them."""
    if isinstance(value, (list, tuple)):
        return sum(_size_of(item) for item in value)
    return math.prod(_shape_of(value))


def result_elements(function: str, arguments: list[Any], keywords: dict[str, Any]) -> int:
    """How many elements a call to ``function`` will make, worked out before it runs.

    Ops without a rule of their own (exp, sum, reshape, getitem, ...) make at most as many
    elements as their largest input.
    """
    shapes = [_shape_of(value) for value in arguments if not isinstance(value, (list, tuple))]
    try:
        if function in _BROADCASTING:  # every input broadcasts, by position or keyword, lists included
            shape = np.broadcast_shapes(*map(_shape_of, arguments), *map(_shape_of, keywords.values()))
        elif function in _MATRIX_PRODUCTS and len(shapes) >= 2:
            shape = _matmul_shape(shapes[0], shapes[1])
            if function == "linear" and len(shapes) > 2:
                shape = np.broadcast_shapes(shape, shapes[2])
        elif function == "broadcast_to":
            target = keywords.get("shape", arguments[1] if len(arguments) > 1 else ())
            shape = (target,) if isinstance(target, int) else tuple(target)
        elif function in _REDUCTIONS and keywords.get("axis", arguments[1] if len(arguments) > 1 else None) is None:
            shape = ()  # a reduction over every axis
        else:
            return max([_size_of(value) for value in [*arguments, *keywords.values()]], default=1)
        return math.prod(int(side) for side in shape)
    except (ValueError, TypeError, IndexError):
        # The op itself will report the mismatch; until then, count it as its inputs.
        return sum(_size_of(value) for value in arguments)


class Evaluator:
    """Evaluate a whitelisted expression tree over bound Tensors."""

    def __init__(self, variables: dict[str, ag.Tensor]) -> None:
        self.variables = variables
        self.elements_made = 0  # summed over every result so far: memory adds up along a chain

    def run(self, function: str, arguments: list[Any], keywords: dict[str, Any] | None = None) -> Any:
        """Call the op ``function`` if its result fits in the per-result and total element budgets."""
        keywords = keywords or {}
        elements = result_elements(function, arguments, keywords)
        if elements > MAX_RESULT_ELEMENTS:
            raise RefusedError(
                f"{function} would make {elements:,} elements; at most {MAX_RESULT_ELEMENTS:,} are allowed"
            )
        if self.elements_made + elements > MAX_TOTAL_ELEMENTS:
            raise RefusedError(
                f"{function} would bring the intermediate results to {self.elements_made + elements:,} elements "
                f"in all; at most {MAX_TOTAL_ELEMENTS:,} are allowed"
            )
        result = getattr(ag, function)(*arguments, **keywords)
        self.elements_made += _size_of(result)
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
            left, right = self.evaluate(node.left), self.evaluate(node.right)
            symbol = _SYMBOLS[type(node.op)]
            self._require_value(left, symbol)
            self._require_value(right, symbol)
            if isinstance(node.op, ast.Pow):
                self._check_exponent(right)
            if _is_number(left) and _is_number(right):
                left = ag.Tensor(float(left))  # NumPy float arithmetic: no unbounded Python integers
            return self.run(_BINARY[type(node.op)].__name__, [left, right])
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
            return sign * _checked_number(node.value)
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
