"""Matrix products and linear algebra: matmul, dot, linear, einsum and the contractions built on it, and the
np.linalg functions (inv, det, slogdet, solve, pinv, cholesky, eigh, svd, qr, norm, ...).

Every rule is written with ops of the table (matmul, einsum, inv, solve, ...) through NumPy's names, so it runs
on arrays in plain backward and on Tensors under ``create_graph``. ``a.T`` in the formulas swaps the last two axes.
"""

from __future__ import annotations

import builtins
import string
from typing import Any, ClassVar, NamedTuple

import numpy as np

from autograd_lite.engine import Node, Tensor, apply, data_of
from autograd_lite.ops.common import NUMPY_1, ArrayLike, as_pair, as_tensor, normalize_axes
from autograd_lite.ops.elementwise import abs as _abs
from autograd_lite.ops.elementwise import mul
from autograd_lite.ops.reductions import max as _max
from autograd_lite.ops.reductions import min as _min
from autograd_lite.ops.reductions import sum as _sum
from autograd_lite.ops.shape import broadcast_to, reshape, transpose


def _matmul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if b.ndim == 1:  # (..., m, k) @ (k,) -> (..., m): outer product of g and b
        return g[..., None] * b
    if a.ndim == 1:  # (k,) @ (..., k, n) -> (..., n)
        return (b @ g[..., None])[..., 0]
    return g @ np.swapaxes(b, -1, -2)


def _matmul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, n): outer product of a and g
        return a[:, None] * g[..., None, :]
    if b.ndim == 1:  # (..., m, k) @ (k,)
        return (np.swapaxes(a, -1, -2) @ g[..., None])[..., 0]
    return np.swapaxes(a, -1, -2) @ g


class Matmul(Node):
    name, notation, category = "matmul", "{0} @ {1}", "matrix product"
    numpy = (np.matmul, *[f for f in (getattr(np.linalg, "matmul", None),) if f is not None])  # NumPy 2
    formulas = ("grad @ b.T", "a.T @ grad")  # 2-D and batched operands (.T swaps the last two axes)
    #: (a is 1-D, b is 1-D) -> the rules that hold for those ranks.
    formulas_by_rank: ClassVar[dict[tuple[bool, bool], tuple[str, str]]] = {
        (True, True): ("grad * b", "grad * a"),
        (False, True): ("outer(grad, b)", "a.T @ grad"),
        (True, False): ("b @ grad", "outer(a, grad)"),
    }

    @classmethod
    def formulas_for(cls, inputs: tuple[Any, ...]) -> tuple[str, ...]:
        return cls.formulas_by_rank.get((inputs[0].ndim == 1, inputs[1].ndim == 1), cls.formulas)

    forward = staticmethod(np.matmul)
    vjps = (
        lambda g, out, a, b: g * b if a.ndim == 1 and b.ndim == 1 else _matmul_vjp_a(g, out, a, b),
        _matmul_vjp_b,
    )
    jvps = (lambda t, out, a, b: t @ b, lambda t, out, a, b: a @ t)


class Dot(Node):
    name, category, numpy = "dot", "matrix product", (np.dot,)
    formulas, formulas_by_rank = Matmul.formulas, Matmul.formulas_by_rank  # np.dot is np.matmul up to 2-D
    formulas_for = classmethod(Matmul.formulas_for.__func__)  # type: ignore[attr-defined,var-annotated]
    forward = staticmethod(np.dot)
    vjps = Matmul.vjps  # np.dot equals np.matmul for 1-D and 2-D operands
    jvps = (lambda t, out, a, b: np.dot(t, b), lambda t, out, a, b: np.dot(a, t))


class Linear(Node):
    name, category, arguments = "linear", "matrix product", ("x", "W", "b")
    signature = "x@W+b"
    formulas = ("grad @ W.T", "x.T @ grad", "grad summed over rows")
    # Fused dense layer: one node instead of Matmul + Add, and the bias gradient is a
    # plain row sum instead of the general un-broadcasting path.

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
        out = x @ weight
        out += bias
        return out

    vjps = (
        lambda g, out, x, weight, bias: g @ np.swapaxes(weight, -1, -2),
        lambda g, out, x, weight, bias: np.swapaxes(x.reshape(-1, x.shape[-1]), -1, -2) @ g.reshape(-1, g.shape[-1]),
        lambda g, out, x, weight, bias: np.sum(g.reshape(-1, g.shape[-1]), axis=0),
    )
    jvps = (lambda t, out, x, weight, bias: t @ weight, lambda t, out, x, weight, bias: x @ t, lambda t, *_: t)


def matmul(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Matrix product following np.matmul (1-D operands and batched N-D included)."""
    a, b = as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got shapes {a.shape} and {b.shape}; use mul"
        )
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of a ({inner_a}) must "
            f"equal the {'only' if b.ndim == 1 else 'second-to-last'} axis of b ({inner_b})"
        )
    return apply(Matmul, a, b)


def dot(a: ArrayLike, b: ArrayLike) -> Tensor:
    """np.dot: a product with a scalar, matrix products up to 2-D, beyond that the last axis of a with the
    second-to-last of b (its only axis when b is 1-D)."""
    a, b = as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.ndim > 2 or b.ndim > 2:
        return _dot_nd(a, b)
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner_b:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} do not fit: {a.shape[-1]} != {inner_b}")
    return apply(Dot, a, b)


def linear(x: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None) -> Tensor:
    """``x @ weight + bias`` as one fused node (a dense layer); weight has shape (in, out)."""
    x, weight = as_pair(x, weight)
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[0]:
        raise ValueError(
            f"linear: x of shape {x.shape} does not fit weight of shape {weight.shape}: need weight (in, out) "
            f"with in == x.shape[-1]"
        )
    if bias is None:
        return matmul(x, weight)
    bias = as_tensor(bias, weight)
    if bias.shape != (weight.shape[1],):
        raise ValueError(
            f"linear: bias has shape {bias.shape}, expected ({weight.shape[1]},) for weight {weight.shape}"
        )
    return apply(Linear, x, weight, bias)


# ----- contractions: einsum, and the NumPy contractions written with it --------------------------------------
_LETTERS = string.ascii_letters


def _real(name: str, *tensors: Tensor) -> None:
    """Refuse complex operands (real floating point only), naming the op."""
    for tensor in tensors:
        if tensor.dtype.kind == "c":
            raise TypeError(
                f"{name}: complex input (dtype {tensor.dtype}, shape {tensor.shape}) is not supported; "
                "autograd_lite differentiates real floating point only"
            )


def _einsum_terms(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str, dict[str, int]]:
    """The operands' subscripts and the output's with '...' spelled out in letters, and each letter's size."""
    text = subscripts.replace(" ", "")
    inputs_text, arrow, output_text = text.partition("->")
    terms = inputs_text.split(",")
    labels = {c for c in text if c.isalpha()}
    if len(terms) != len(shapes) or set(text) - labels - set(".,->") or text.replace("...", "").count("."):
        raise ValueError(
            f"einsum: subscripts {subscripts!r} do not describe {len(shapes)} operands of shapes "
            f"{shapes}: write one comma-separated term of letters (and at most one '...') per operand"
        )
    widths = []
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if ("..." in term and named > len(shape)) or ("..." not in term and named != len(shape)):
            raise ValueError(f"einsum: term {term!r} of {subscripts!r} does not fit an operand of shape {shape}")
        widths.append(len(shape) - named)
    spare = [c for c in _LETTERS if c not in labels]
    ellipsis = "".join(spare[: builtins.max(widths, default=0)])
    terms = [term.replace("...", ellipsis[len(ellipsis) - width :]) for term, width in zip(terms, widths)]
    if arrow:
        if ellipsis and "..." not in output_text:
            raise ValueError(f"einsum: {subscripts!r} has broadcast dimensions ('...') but its output does not")
        output = output_text.replace("...", ellipsis)
    else:
        counts = "".join(terms)
        output = ellipsis + "".join(sorted(c for c in labels if counts.count(c) == 1))
    if len(set(output)) != len(output) or set(output) - set("".join(terms)):
        raise ValueError(f"einsum: the output of {subscripts!r} repeats a letter or names one no operand has")
    return terms, output, _einsum_sizes(subscripts, terms, shapes)


def _einsum_sizes(subscripts: str, terms: list[str], shapes: list[tuple[int, ...]]) -> dict[str, int]:
    """Each letter's size; a size 1 broadcasts, as NumPy's einsum allows."""
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for label, size in zip(term, shape):
            known = sizes.setdefault(label, size)
            if known != size and 1 not in (known, size):
                raise ValueError(
                    f"einsum: {subscripts!r}: index {label!r} has sizes {known} and {size} (operand shapes {shapes})"
                )
            sizes[label] = builtins.max(known, size)
        for label in set(term):
            if len({size for own, size in zip(term, shape) if own == label}) > 1:
                raise ValueError(
                    f"einsum: {subscripts!r}: the repeated index {label!r} of {term!r} has different "
                    f"sizes in shape {shape}"
                )
    return sizes


def _from_sublists(first: Any, rest: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """np.einsum's other form, einsum(a, [0, 1], b, [1, 2], [0, 2]), as subscripts and operands."""
    arguments = (first, *rest)
    output = arguments[-1] if len(arguments) % 2 else None
    arguments = arguments[:-1] if output is not None else arguments
    operands, lists = arguments[0::2], arguments[1::2]

    def letters(indices: Any) -> str:
        return "".join("..." if index is Ellipsis else _LETTERS[index] for index in indices)

    text = ",".join(letters(indices) for indices in lists)
    return (text if output is None else f"{text}->{letters(output)}"), tuple(operands)


class Einsum(Node):
    name, category, numpy, arguments = "einsum", "matrix product", (np.einsum,), ("a_{i}",)
    signature = "einsum(subscripts, a_0, a_1, ...)"
    formulas = ("einsum of grad with the other operands onto a_{i}'s subscripts (its diagonal for a repeated index)",)

    @staticmethod
    def forward(*arrays: np.ndarray, subscripts: str) -> np.ndarray:
        return np.einsum(subscripts, *arrays, optimize=len(arrays) > 2)

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        # d/dA_k sum(grad * einsum(..., A_k, ...)) = einsum(grad, the others -> A_k's indices). A repeated index
        # of A_k (its diagonal) is spread back through an identity, an index only A_k has through ones.
        subscripts = params["subscripts"]
        terms, output = subscripts.split("->")[0].split(","), subscripts.split("->")[1]
        term, like = terms[index], data_of(inputs[index])
        sizes = dict(zip(term, like.shape))
        spare = iter(c for c in _LETTERS if c not in subscripts)
        operands = [grad, *inputs[:index], *inputs[index + 1 :]]
        subs = [output, *terms[:index], *terms[index + 1 :]]
        reached, result = set("".join(subs)), ""
        for label in term:
            if label in result:
                fresh = next(spare)
                operands.append(np.eye(sizes[label], dtype=like.dtype))
                subs.append(label + fresh)
                result += fresh
            else:
                result += label
        for label in dict.fromkeys(term):
            if label not in reached:
                operands.append(np.ones(sizes[label], dtype=like.dtype))
                subs.append(label)
        return np.einsum(",".join(subs) + "->" + result, *operands)

    @classmethod
    def tangent(cls, tangents: list[Any], out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        """Linear in each operand: the sum of einsums with one operand replaced by its tangent."""
        total = None
        for index, tangent in enumerate(tangents):
            if tangent is not None:
                operands = [tangent if k == index else x for k, x in enumerate(inputs)]
                part = np.einsum(params["subscripts"], *operands)
                total = part if total is None else total + part
        return total


def einsum(subscripts: Any, *operands: ArrayLike, optimize: Any = False) -> Tensor:
    """Einstein summation as np.einsum: explicit or implicit output, repeated indices, '...', index lists."""
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists(subscripts, operands)
    tensors = [as_tensor(x) for x in operands]
    _real("einsum", *tensors)
    terms, output, sizes = _einsum_terms(subscripts, [t.shape for t in tensors])
    tensors = [
        t if t.shape == tuple(sizes[c] for c in term) else broadcast_to(t, tuple(sizes[c] for c in term))
        for t, term in zip(tensors, terms)
    ]
    return apply(Einsum, *tensors, subscripts=",".join(terms) + "->" + output)


def _axes_pair(a: Tensor, b: Tensor, axes: Any) -> tuple[list[int], list[int]]:
    """np.tensordot's axes (an int N, or a pair of ints or sequences) as two lists of non-negative axes."""
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= builtins.min(a.ndim, b.ndim) or a.shape[a.ndim - axes :] != b.shape[:axes]:
            raise ValueError(
                f"tensordot: axes={axes} does not fit shapes {a.shape} and {b.shape}: the last {axes} "
                f"axes of a must match the first {axes} of b"
            )
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    first, second = axes
    first = [first] if isinstance(first, (int, np.integer)) else list(first)
    second = [second] if isinstance(second, (int, np.integer)) else list(second)
    try:
        pairs = [(normalize_axes(i, a.ndim)[0], normalize_axes(j, b.ndim)[0]) for i, j in zip(first, second)]
    except ValueError as error:
        raise ValueError(f"tensordot: axes {axes!r} for shapes {a.shape} and {b.shape}: {error}") from None
    if len(first) != len(second) or any(a.shape[i] != b.shape[j] for i, j in pairs):
        raise ValueError(f"tensordot: axes {axes!r} pair axes of different lengths in {a.shape} and {b.shape}")
    return [i for i, _ in pairs], [j for _, j in pairs]


def tensordot(a: ArrayLike, b: ArrayLike, axes: Any = 2) -> Tensor:
    """Sum over the paired axes of a and b, as np.tensordot (axes an int N or a pair of axis lists)."""
    a, b = as_pair(a, b)
    first, second = _axes_pair(a, b, axes)
    left = _LETTERS[: a.ndim]
    right = [_LETTERS[a.ndim + j] for j in range(b.ndim)]
    for i, j in zip(first, second):
        right[j] = left[i]
    output = [c for i, c in enumerate(left) if i not in first] + [c for j, c in enumerate(right) if j not in second]
    return einsum(f"{left},{''.join(right)}->{''.join(output)}", a, b)


def outer(a: ArrayLike, b: ArrayLike) -> Tensor:
    """The outer product of the flattened operands, as np.outer."""
    a, b = as_pair(a, b)
    return einsum("i,j->ij", reshape(a, -1), reshape(b, -1))


def inner(a: ArrayLike, b: ArrayLike) -> Tensor:
    """Sum over the last axes of a and b, as np.inner (a product when one is a scalar)."""
    a, b = as_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner: the last axes of shapes {a.shape} and {b.shape} differ")
    left, right = _LETTERS[: a.ndim - 1], _LETTERS[a.ndim - 1 : a.ndim + b.ndim - 2]
    return einsum(f"{left}z,{right}z->{left}{right}", a, b)


def vdot(a: ArrayLike, b: ArrayLike) -> Tensor:
    """The dot product of the flattened operands, as np.vdot (real numbers)."""
    a, b = as_pair(a, b)
    if a.size != b.size:
        raise ValueError(f"vdot: shapes {a.shape} and {b.shape} have different sizes")
    return einsum("i,i->", reshape(a, -1), reshape(b, -1))


def kron(a: ArrayLike, b: ArrayLike) -> Tensor:
    """The Kronecker product, as np.kron (the shorter shape padded with leading ones)."""
    a, b = as_pair(a, b)
    ndim = builtins.max(a.ndim, b.ndim)
    a_shape, b_shape = (1,) * (ndim - a.ndim) + a.shape, (1,) * (ndim - b.ndim) + b.shape
    left, right = _LETTERS[:ndim], _LETTERS[ndim : 2 * ndim]
    pairs = "".join(i + j for i, j in zip(left, right))
    product = einsum(f"{left},{right}->{pairs}", reshape(a, a_shape), reshape(b, b_shape))
    return reshape(product, tuple(i * j for i, j in zip(a_shape, b_shape)))


def _dot_nd(a: Tensor, b: Tensor) -> Tensor:
    """np.dot beyond 2-D: the last axis of a with the second-to-last of b (the only one when b is 1-D)."""
    inner_axis = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[inner_axis]:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} do not fit: {a.shape[-1]} != {b.shape[inner_axis]}")
    return tensordot(a, b, axes=([a.ndim - 1], [inner_axis]))


def matrix_power(a: ArrayLike, n: int) -> Tensor:
    """a @ a @ ... (n times) by repeated squaring, as np.linalg.matrix_power; negative n uses inv(a)."""
    a = as_tensor(a)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}")
    _square("matrix_power", a)
    if n == 0:  # the identity: constant, as no entry of a reaches it
        return as_tensor(np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape))
    base, n = (inv(a), -int(n)) if n < 0 else (a, int(n))
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    assert result is not None  # n > 0 here
    return result


# ----- np.linalg: the helpers the rules share ------------------------------------------------------------------
def _mT(x: Any) -> Any:
    """The last two axes swapped (the formulas' ``.T``), on arrays and Tensors."""
    return np.swapaxes(x, -1, -2)


def _matrices(name: str, a: Tensor) -> None:
    """Refuse what is not a (stack of) real matrices, naming the op."""
    _real(name, a)
    if a.ndim < 2:
        raise ValueError(f"{name}: needs matrices in the last two axes (shape (..., m, n)), got shape {a.shape}")


def _square(name: str, a: Tensor) -> None:
    """Refuse what is not a (stack of) real square matrices, naming the op."""
    _matrices(name, a)
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: needs square matrices in the last two axes (..., n, n), got shape {a.shape}")


def _diagonal(x: Any) -> Any:
    """The diagonals of a stack of square matrices."""
    return np.einsum("...ii->...i", x)


def _eye(like: Any) -> np.ndarray:
    """The identity the size of ``like``'s last axis, in its dtype."""
    return np.eye(like.shape[-1], dtype=data_of(like).dtype)


def _lower_weights(like: Any) -> np.ndarray:
    """1 below the diagonal, 1/2 on it, 0 above: the lower triangle with half its diagonal."""
    n = like.shape[-1]
    return np.tril(np.ones((n, n), dtype=data_of(like).dtype), -1) + 0.5 * _eye(like)


def _strictly_lower(like: Any) -> np.ndarray:
    """1 below the diagonal, 0 on and above it."""
    return _lower_weights(like) - 0.5 * _eye(like)


def _read_triangle(s: Any, upper: bool) -> Any:
    """A gradient ``s`` with respect to the symmetric matrix a function sees, moved onto the triangle of ``a``
    it actually reads (np.linalg.cholesky and eigh read one triangle): 2 sym(s) off the diagonal, sym(s) on it."""
    weights = _lower_weights(s)
    return (s + _mT(s)) * (weights.T if upper else weights)


def _seen(t: Any, upper: bool) -> Any:
    """The symmetric matrix a function that reads one triangle of ``t`` sees."""
    half = t * (_lower_weights(t).T if upper else _lower_weights(t))
    return half + _mT(half)


def _gaps(w: Any) -> Any:
    """F_ij = 1/(w_j - w_i) off the diagonal, 0 on it (inf where two values coincide)."""
    eye = _eye(w)
    return (1 - eye) / (w[..., None, :] - w[..., :, None] + eye)


# ----- inv, det, slogdet, solve, pinv ------------------------------------------------------------------------------
class Inv(Node):
    name, category, numpy = "inv", "linear algebra", (np.linalg.inv,)
    formulas = ("-out.T @ grad @ out.T  (out = inv(a); d inv(a) = -inv(a) da inv(a))",)
    forward = staticmethod(np.linalg.inv)
    vjps = (lambda g, out, a: -(_mT(out) @ g @ _mT(out)),)
    jvps = (lambda t, out, a: -(out @ t @ out),)


def inv(a: ArrayLike) -> Tensor:
    """The inverse of each square matrix in the last two axes, as np.linalg.inv."""
    a = as_tensor(a)
    _square("inv", a)
    return apply(Inv, a)


def _cofactor(a: Any, det: Any) -> Any:
    """d det(a)/da, the cofactor matrix: det(a) inv(a).T, or from an SVD where a is (nearly) singular."""
    values = data_of(a)
    if values.shape[-1] == 0:
        return a * 0
    eps = np.finfo(np.result_type(values.dtype, np.float32)).eps
    with np.errstate(all="ignore"):
        conditioned = bool(np.all(np.linalg.cond(values) < 1 / np.sqrt(eps)))
    if conditioned:
        return det[..., None, None] * _mT(np.linalg.inv(a))
    return _svd_cofactor(a)


def _svd_cofactor(a: Any) -> Any:
    """adj(a).T = det(U) det(V) U adj(S) V.T for a = U S V.T, adj(S)_ii = prod_{j != i} s_j: no division by det."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :])  # row i: s with s_i replaced by 1
    products = others[..., 0]
    for j in range(1, n):
        products = products * others[..., j]
    signs = np.linalg.det(data_of(u)) * np.linalg.det(data_of(vh))
    return signs[..., None, None] * ((u * products[..., None, :]) @ vh)


class Det(Node):
    name, category, numpy = "det", "linear algebra", (np.linalg.det,)
    formulas = ("grad * det(a) * inv(a).T  (Jacobi's formula; the cofactors from an SVD where a is singular)",)
    forward = staticmethod(np.linalg.det)
    vjps = (lambda g, out, a: g[..., None, None] * _cofactor(a, out),)
    jvps = (lambda t, out, a: np.sum(_cofactor(a, out) * t, axis=(-2, -1)),)


def det(a: ArrayLike) -> Tensor:
    """The determinant of each square matrix in the last two axes, as np.linalg.det (singular ones included)."""
    a = as_tensor(a)
    _square("det", a)
    return apply(Det, a)


class SlogdetResult(NamedTuple):
    """slogdet's result, as NumPy's: the sign (a plain array, no gradient) and log|det| (a Tensor)."""

    sign: np.ndarray
    logabsdet: Tensor


class Slogdet(Node):
    name, category, numpy = "slogdet", "linear algebra", (np.linalg.slogdet,)
    signature = "slogdet(a).logabsdet"
    formulas = ("grad * inv(a).T  (d log|det a| = tr(inv(a) da); the sign has no gradient)",)

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        return np.linalg.slogdet(a)[1]

    vjps = (lambda g, out, a: g[..., None, None] * _mT(np.linalg.inv(a)),)
    jvps = (lambda t, out, a: np.sum(_mT(np.linalg.inv(a)) * t, axis=(-2, -1)),)


def slogdet(a: ArrayLike) -> SlogdetResult:
    """(sign, log|det|) of each square matrix, as np.linalg.slogdet: the sign a plain array, log|det| a Tensor."""
    a = as_tensor(a)
    _square("slogdet", a)
    return SlogdetResult(np.linalg.slogdet(a.data)[0], apply(Slogdet, a))


def _solved(a: Any, v: Any, vector: bool) -> Any:
    """solve(a, v), v a (batch of) vector(s) when ``vector``, else of matrices, on every NumPy version.

    NumPy 1 reads a ``v`` with one axis fewer than ``a`` as a batch of vectors; NumPy 2 only a 1-D
    one. Leading axes of length 1 make the batch explicit, so both read it as NumPy 2 does.
    """
    if vector:
        return _solved(a, v[..., None], False)[..., 0]
    if v.ndim < a.ndim:
        v = v[(None,) * (a.ndim - v.ndim)]
    return np.linalg.solve(a, v)


def _times(m: Any, x: Any, vector: bool) -> Any:
    """m @ x, x a (batch of) vector(s) when ``vector``."""
    return (m @ x[..., None])[..., 0] if vector else m @ x


def _solve_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    vector = b.ndim == 1  # NumPy 2: b is a vector only when 1-D
    gb = _solved(_mT(a), g, vector)
    return -(gb[..., :, None] * out[..., None, :]) if vector else -(gb @ _mT(out))


class Solve(Node):
    name, category, numpy = "solve", "linear algebra", (np.linalg.solve,)
    formulas = ("-solve(a.T, grad) @ x.T  (x = out; dx = inv(a) (db - da x))", "solve(a.T, grad)")
    forward = staticmethod(lambda a, b: _solved(a, b, b.ndim == 1))  # NumPy 2's reading of b
    vjps = (_solve_vjp_a, lambda g, out, a, b: _solved(_mT(a), g, b.ndim == 1))
    jvps = (
        lambda t, out, a, b: -_solved(a, _times(t, out, b.ndim == 1), b.ndim == 1),
        lambda t, out, a, b: _solved(a, t, b.ndim == 1),
    )


def solve(a: ArrayLike, b: ArrayLike) -> Tensor:
    """x with a @ x = b, as np.linalg.solve (NumPy 2: b is a vector when 1-D, else a (batch of) matrices)."""
    a, b = as_pair(a, b)
    _square("solve", a)
    _real("solve", b)
    rows = b.shape[0] if b.ndim == 1 else (b.shape[-2] if b.ndim >= 2 else None)
    if rows != a.shape[-1]:
        raise ValueError(
            f"solve: b of shape {b.shape} does not fit a of shape {a.shape}: b needs "
            f"{a.shape[-1]} rows (shape ({a.shape[-1]},) or (..., {a.shape[-1]}, k))"
        )
    return apply(Solve, a, b)


def _pinv_vjp(g: Any, p: Any, a: Any) -> Any:
    # From d pinv(a) = -P da P + P P.T da.T (I - a P) + (I - P a) da.T P.T P (Golub & Pereyra 1973; constant rank).
    pt, gt = _mT(p), _mT(g)
    return -(pt @ g @ pt) + (gt - a @ (p @ gt)) @ (p @ pt) + (pt @ p) @ (gt - (gt @ p) @ a)


def _pinv_jvp(t: Any, p: Any, a: Any) -> Any:
    pt, tt = _mT(p), _mT(t)
    return -(p @ t @ p) + (p @ pt) @ (tt - (tt @ a) @ p) + (tt - p @ (a @ tt)) @ (pt @ p)


class Pinv(Node):
    name, category, numpy = "pinv", "linear algebra", (np.linalg.pinv,)
    formulas = ("-P.T grad P.T + (I - a P) grad.T P P.T + P.T P grad.T (I - P a)  (P = out; a of constant rank)",)

    @staticmethod
    def forward(a: np.ndarray, options: tuple[tuple[str, Any], ...]) -> np.ndarray:
        return np.linalg.pinv(a, **dict(options))

    vjps = (lambda g, out, a, options: _pinv_vjp(g, out, a),)
    jvps = (lambda t, out, a, options: _pinv_jvp(t, out, a),)


def pinv(a: ArrayLike, rcond: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse, as np.linalg.pinv; the gradient assumes the rank does not change nearby."""
    a = as_tensor(a)
    _matrices("pinv", a)
    if hermitian:
        raise ValueError("pinv: hermitian=True reads one triangle of a and is not supported; use the default")
    options = tuple((key, value) for key, value in (("rcond", rcond), ("rtol", rtol)) if value is not None)
    return apply(Pinv, a, options=options)


# ----- cholesky, eigh, svd, qr ---------------------------------------------------------------------------------------
def _cholesky_vjp(g: Any, out: Any, upper: bool) -> Any:
    # S = L^-T phi(L.T grad) L^-1, phi: the lower triangle with half its diagonal (Murray 2016, as PyTorch);
    # its symmetric part is the gradient for the symmetric matrix NumPy sees, moved onto the triangle it reads.
    low, g = (_mT(out), _mT(g)) if upper else (out, g)
    inverse = np.linalg.inv(low)
    return _read_triangle(_mT(inverse) @ ((_mT(low) @ g) * _lower_weights(low)) @ inverse, upper)


def _cholesky_jvp(t: Any, out: Any, upper: bool) -> Any:
    # dL = L phi(L^-1 dA L^-T) for the symmetric dA seen (from dA = dL L.T + L dL.T).
    low = _mT(out) if upper else out
    inverse = np.linalg.inv(low)
    tangent = low @ ((inverse @ _seen(t, upper) @ _mT(inverse)) * _lower_weights(low))
    return _mT(tangent) if upper else tangent


def _cholesky_factor(a: np.ndarray, upper: bool) -> np.ndarray:
    """np.linalg.cholesky(a, upper=upper); NumPy 1 has no ``upper``: there U = cholesky(a^H)^H (a's upper triangle)."""
    if NUMPY_1 and upper:
        return np.conj(np.swapaxes(np.linalg.cholesky(np.conj(np.swapaxes(a, -1, -2))), -1, -2))
    return np.linalg.cholesky(a, upper=upper) if upper else np.linalg.cholesky(a)


class Cholesky(Node):
    name, category, numpy = "cholesky", "linear algebra", (np.linalg.cholesky,)
    formulas = ("sym(L^-T phi(L.T grad) L^-1) onto the triangle read, phi = lower triangle, diagonal halved",)
    forward = staticmethod(lambda a, upper: _cholesky_factor(a, upper))
    vjps = (lambda g, out, a, upper: _cholesky_vjp(g, out, upper),)
    jvps = (lambda t, out, a, upper: _cholesky_jvp(t, out, upper),)


def cholesky(a: ArrayLike, *, upper: bool = False) -> Tensor:
    """The Cholesky factor L (a = L @ L.T; U = L.T with upper=True) of symmetric positive-definite matrices, as
    np.linalg.cholesky, which reads only a's lower (upper) triangle: the gradient is that function's."""
    a = as_tensor(a)
    _square("cholesky", a)
    return apply(Cholesky, a, upper=bool(upper))


class EighResult(NamedTuple):
    """eigh's result, as NumPy's: the eigenvalues (ascending) and the eigenvectors (columns)."""

    eigenvalues: Tensor
    eigenvectors: Tensor


def _eigh_vjp(g: Any, packed: Any, upper: bool) -> Any:
    # V (diag(grad_w) + F * (V.T grad_V)) V.T, F_ij = 1/(w_j - w_i) (Giles 2008), onto the triangle read.
    w, v = packed[..., 0, :], packed[..., 1:, :]
    gw, gv = g[..., 0, :], g[..., 1:, :]
    inner = gw[..., None, :] * _eye(w)
    if np.any(data_of(gv)):  # eigenvalues alone need no F (no inf where they repeat)
        inner = inner + _gaps(w) * (_mT(v) @ gv)
    return _read_triangle(v @ inner @ _mT(v), upper)


def _eigh_jvp(t: Any, packed: Any, upper: bool) -> Any:
    # dw = diag(V.T dA V), dV = V (F * (V.T dA V)).
    w, v = packed[..., 0, :], packed[..., 1:, :]
    p = _mT(v) @ _seen(t, upper) @ v
    return np.concatenate([_diagonal(p)[..., None, :], v @ (_gaps(w) * p)], axis=-2)


class Eigh(Node):
    name, category, numpy = "eigh", "linear algebra", (np.linalg.eigh,)
    signature = "eigh(a) = [w; V]"
    formulas = ("V (diag(grad_w) + F * (V.T grad_V)) V.T, F_ij = 1/(w_j - w_i), onto the triangle read",)

    @staticmethod
    def forward(a: np.ndarray, UPLO: Any) -> np.ndarray:  # "L" or "U", checked by eigh
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        return np.concatenate([w[..., None, :], v], axis=-2)  # one output: eigenvalues above eigenvectors

    vjps = (lambda g, out, a, UPLO: _eigh_vjp(g, out, UPLO == "U"),)
    jvps = (lambda t, out, a, UPLO: _eigh_jvp(t, out, UPLO == "U"),)


def eigh(a: ArrayLike, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, as np.linalg.eigh (which reads the lower,
    or with UPLO='U' the upper, triangle: the gradient is that function's). Repeated eigenvalues make the
    eigenvectors' gradient inf/nan, as in PyTorch; the eigenvalues' alone stays finite."""
    a = as_tensor(a)
    _square("eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = apply(Eigh, a, UPLO=UPLO)
    return EighResult(packed[..., 0, :], packed[..., 1:, :])


def eigvalsh(a: ArrayLike, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of symmetric matrices, as np.linalg.eigvalsh."""
    return eigh(a, UPLO).eigenvalues


class SVDResult(NamedTuple):
    """svd's result, as NumPy's: a = U @ (S[..., None] * Vh)."""

    U: Tensor
    S: Tensor
    Vh: Tensor


def _svd_parts(packed: Any, shape: tuple[int, ...]) -> tuple[Any, Any, Any]:
    """U, S and Vh out of svd's one output (U, S, Vh flattened side by side)."""
    m, n = shape[-2:]
    k, batch = builtins.min(m, n), packed.shape[:-1]
    u = packed[..., : m * k].reshape(*batch, m, k)
    return u, packed[..., m * k : m * k + k], packed[..., m * k + k :].reshape(*batch, k, n)


def _svd_vjp(g: Any, packed: Any, shape: tuple[int, ...]) -> Any:
    # U (F*(U.T gU - gU.T U) S + diag(gS) + S F*(V.T gV - gV.T V)) V.T + (I - U U.T) gU S^-1 V.T
    # + U S^-1 gV.T (I - V V.T), F_ij = 1/(s_j^2 - s_i^2) (Townsend 2016).
    u, s, vh = _svd_parts(packed, shape)
    gu, gs, gvh = _svd_parts(g, shape)
    inner = gs[..., None, :] * _eye(s)
    if not (np.any(data_of(gu)) or np.any(data_of(gvh))):  # singular values alone: no F, no 1/s
        return u @ inner @ vh
    f, v, gv = _gaps(s * s), _mT(vh), _mT(gvh)
    ut_gu, vt_gv = _mT(u) @ gu, _mT(v) @ gv
    inner = inner + (f * (ut_gu - _mT(ut_gu))) * s[..., None, :] + s[..., :, None] * (f * (vt_gv - _mT(vt_gv)))
    grad = u @ inner @ vh
    if shape[-2] > s.shape[-1]:
        grad = grad + ((gu - u @ ut_gu) / s[..., None, :]) @ vh
    if shape[-1] > s.shape[-1]:
        grad = grad + u @ (_mT(gv - v @ vt_gv) / s[..., :, None])
    return grad


def _svd_jvp(t: Any, packed: Any, shape: tuple[int, ...]) -> Any:
    # P = U.T dA V: dS = diag(P), dU = U (F * (P S + S P.T)) + (I - U U.T) dA V S^-1,
    # dV = V (F * (S P + P.T S)) + (I - V V.T) dA.T U S^-1.
    u, s, vh = _svd_parts(packed, shape)
    v = _mT(vh)
    p, f = _mT(u) @ t @ v, _gaps(s * s)
    du = u @ (f * (p * s[..., None, :] + s[..., :, None] * _mT(p)))
    dv = v @ (f * (s[..., :, None] * p + _mT(p) * s[..., None, :]))
    if shape[-2] > s.shape[-1]:
        du = du + (t @ v - u @ p) / s[..., None, :]
    if shape[-1] > s.shape[-1]:
        dv = dv + (_mT(t) @ u - v @ _mT(p)) / s[..., None, :]
    batch = packed.shape[:-1]
    return np.concatenate([du.reshape(*batch, -1), _diagonal(p), _mT(dv).reshape(*batch, -1)], axis=-1)


class Svd(Node):
    name, category, numpy = "svd", "linear algebra", (np.linalg.svd,)
    signature = "svd(a) = [U, S, Vh]"
    formulas = (
        "U (F*(U.T gU - gU.T U) S + diag(gS) + S F*(V.T gV - gV.T V)) V.T + (I - U U.T) gU S^-1 V.T "
        "+ U S^-1 gV.T (I - V V.T), F_ij = 1/(s_j^2 - s_i^2)",
    )

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        batch = a.shape[:-2]
        return np.concatenate([u.reshape(*batch, -1), s, vh.reshape(*batch, -1)], axis=-1)

    vjps = (lambda g, out, a: _svd_vjp(g, out, a.shape),)
    jvps = (lambda t, out, a: _svd_jvp(t, out, a.shape),)


def svd(a: ArrayLike, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """The reduced singular value decomposition (U, S, Vh), as np.linalg.svd (S alone with compute_uv=False).
    Repeated (or, for non-square a, zero) singular values make U's and Vh's gradient inf/nan, as in PyTorch;
    S's alone stays finite. full_matrices=True is refused for non-square matrices (pass full_matrices=False)."""
    a = as_tensor(a)
    _matrices("svd", a)
    if hermitian:
        raise ValueError("svd: hermitian=True reads one triangle of a and is not supported; use the default")
    if full_matrices and compute_uv and a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"svd: full_matrices=True is not differentiable for non-square shape {a.shape}; "
            "pass full_matrices=False (the reduced U and Vh)"
        )
    u, s, vh = _svd_parts(apply(Svd, a), a.shape)
    return SVDResult(u, s, vh) if compute_uv else s


def svdvals(x: ArrayLike) -> Tensor:
    """The singular values (descending), as np.linalg.svdvals."""
    return svd(x, compute_uv=False)


class QRResult(NamedTuple):
    """qr's result, as NumPy's: a = Q @ R."""

    Q: Tensor
    R: Tensor


def _qr_parts(packed: Any, shape: tuple[int, ...]) -> tuple[Any, Any]:
    """Q and R out of qr's one output (Q and R flattened side by side)."""
    m, n = shape[-2:]
    k, batch = builtins.min(m, n), packed.shape[:-1]
    return packed[..., : m * k].reshape(*batch, m, k), packed[..., m * k :].reshape(*batch, k, n)


def _qr_tall_vjp(gq: Any, gr: Any, q: Any, r: Any) -> Any:
    # m >= n: (gQ + Q copyltu(M)) R^-T, M = R gR.T - gQ.T Q, copyltu(M) = tril(M) + tril(M, -1).T
    # (Walter & Lehmann 2018; PyTorch's linalg_qr_backward).
    m = r @ _mT(gr) - _mT(gq) @ q
    strict = _strictly_lower(m)
    copied = m * (strict + _eye(m)) + _mT(m * strict)
    return (gq + q @ copied) @ _mT(np.linalg.inv(r))


def _qr_vjp(g: Any, packed: Any, a: Any) -> Any:
    m, n = a.shape[-2:]
    q, r = _qr_parts(packed, a.shape)
    gq, gr = _qr_parts(g, a.shape)
    if m >= n:
        return _qr_tall_vjp(gq, gr, q, r)
    # wide a = [X | Y]: X = Q U square, R = [U | Q.T Y]; Y reaches R only, through Q.T Y.
    y, gv = a[..., :, m:], gr[..., :, m:]
    return np.concatenate([_qr_tall_vjp(gq + y @ _mT(gv), gr[..., :, :m], q, r[..., :, :m]), q @ gv], axis=-1)


def _qr_tall_jvp(t: Any, q: Any, r: Any) -> tuple[Any, Any]:
    # C = Q.T dA R^-1 = Omega + dR R^-1 (Omega skew, dR R^-1 upper): dR = (C - Omega) R, dQ = dA R^-1 - Q (C - Omega).
    inverse = np.linalg.inv(r)
    c = _mT(q) @ t @ inverse
    below = c * _strictly_lower(c)
    upper_part = c - below + _mT(below)
    return t @ inverse - q @ upper_part, upper_part @ r


def _qr_jvp(t: Any, packed: Any, a: Any) -> Any:
    m, n = a.shape[-2:]
    q, r = _qr_parts(packed, a.shape)
    if m >= n:
        dq, dr = _qr_tall_jvp(t, q, r)
    else:
        dq, du = _qr_tall_jvp(t[..., :, :m], q, r[..., :, :m])
        dr = np.concatenate([du, _mT(dq) @ a[..., :, m:] + _mT(q) @ t[..., :, m:]], axis=-1)
    batch = packed.shape[:-1]
    return np.concatenate([dq.reshape(*batch, -1), dr.reshape(*batch, -1)], axis=-1)


class Qr(Node):
    name, category, numpy = "qr", "linear algebra", (np.linalg.qr,)
    signature = "qr(a) = [Q, R]"
    formulas = ("(grad_Q + Q copyltu(M)) R^-T, M = R grad_R.T - grad_Q.T Q (wide a: through its leading square block)",)

    @staticmethod
    def forward(a: np.ndarray) -> np.ndarray:
        q, r = np.linalg.qr(a)
        batch = a.shape[:-2]
        return np.concatenate([q.reshape(*batch, -1), r.reshape(*batch, -1)], axis=-1)

    vjps = (lambda g, out, a: _qr_vjp(g, out, a),)
    jvps = (lambda t, out, a: _qr_jvp(t, out, a),)


def qr(a: ArrayLike, mode: str = "reduced") -> Any:
    """The reduced QR decomposition (Q, R), as np.linalg.qr (mode 'r': R alone; 'complete' when it is the same)."""
    a = as_tensor(a)
    _matrices("qr", a)
    m, n = a.shape[-2:]
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and m > n):
        raise ValueError(f"qr: mode {mode!r} is not supported for shape {a.shape}; use 'reduced' or 'r'")
    q, r = _qr_parts(apply(Qr, a), a.shape)
    return r if mode == "r" else QRResult(q, r)


# ----- norm ---------------------------------------------------------------------------------------------------------
def _norm_slope(a: Any, out: Any, ord: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    """d norm / da, in a's shape: a / out for the 2-norm (0 where out = 0, as PyTorch), sign(a) for ord 1,
    sign(a) |a|^(p-1) / out^(p-1) for other p, sign(a) shared among the extremes for ord +-inf, 0 for ord 0."""
    values = data_of(a)
    axes = tuple(range(values.ndim)) if axis is None else axis
    kept = out if keepdims else out.reshape(tuple(1 if i in axes else n for i, n in enumerate(values.shape)))
    if ord == 0:
        return values * 0
    if ord == 1:
        return np.sign(values)
    if ord in (np.inf, -np.inf):
        extreme = np.abs(values) == data_of(kept)
        return np.sign(values) * extreme / np.sum(extreme, axis=axes, keepdims=True)
    safe = np.where(data_of(kept) == 0, 1, kept)
    if ord in (None, 2, "fro"):
        return a / safe
    return np.sign(values) * np.abs(a) ** (ord - 1) / safe ** (ord - 1)


def _norm_vjp(g: Any, out: Any, a: Any, ord: Any, axis: tuple[int, ...] | None, keepdims: bool) -> Any:
    axes = tuple(range(a.ndim)) if axis is None else axis
    kept = g if keepdims else g.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))
    return kept * _norm_slope(a, out, ord, axis, keepdims)


class Norm(Node):
    name, category, numpy = "norm", "reduction", (np.linalg.norm,)
    formulas = (
        "grad * a / out for the 2-norm and 'fro' (0 where out = 0), grad * sign(a) |a|^(p-1) / out^(p-1) "
        "for p; matrix ords other than 'fro' are composed of svd, sum, max and min",
    )

    @staticmethod
    def forward(a: np.ndarray, ord: Any, axis: tuple[int, ...] | None, keepdims: bool) -> np.ndarray:
        return np.asarray(np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims))

    vjps = (_norm_vjp,)
    jvps = (
        lambda t, out, a, ord, axis, keepdims: np.sum(
            _norm_slope(a, out, ord, axis, keepdims) * t, axis=axis, keepdims=keepdims
        ),
    )


def _matrix_norm(x: Tensor, ord: Any, axes: tuple[int, int], keepdims: bool) -> Tensor:
    """The matrix norms besides 'fro': 'nuc', 2 and -2 from the singular values, 1, -1, inf and -inf from sums."""
    row, col = axes
    if ord in ("nuc", 2, -2):
        rest = tuple(i for i in range(x.ndim) if i not in axes)
        values = svd(transpose(x, (*rest, row, col)), compute_uv=False)
        result = {"nuc": _sum, 2: _max, -2: _min}[ord](values, axis=-1)
    elif ord in (1, -1, np.inf, -np.inf):
        summed, kept_axis = (row, col) if ord in (1, -1) else (col, row)
        totals = _sum(_abs(x), axis=summed)
        result = (_max if ord > 0 else _min)(totals, axis=kept_axis - (kept_axis > summed))
    else:
        raise ValueError(f"norm: matrix ord {ord!r} is not supported; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    return reshape(result, tuple(1 if i in axes else n for i, n in enumerate(x.shape))) if keepdims else result


def norm(x: ArrayLike, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Vector and matrix norms of real arrays, as np.linalg.norm; the 2-norm of zeros has gradient 0 (PyTorch)."""
    x = as_tensor(x)
    _real("norm", x)
    if axis is None and ord is not None:
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} needs a 1-D or 2-D array or an axis, got shape {x.shape}")
        axis = tuple(range(x.ndim))
    if axis is not None:
        try:
            axis = normalize_axes(axis, x.ndim)
        except (TypeError, ValueError) as error:
            raise ValueError(f"norm: invalid axis {axis!r} for shape {x.shape}: {error}") from None
        if len(axis) not in (1, 2) or len(set(axis)) != len(axis):
            raise ValueError(f"norm: axis must be one axis or two distinct ones, got {axis!r}")
    if axis is not None and len(axis) == 2:
        if ord not in (None, "fro"):
            return _matrix_norm(x, ord, axis, keepdims)
    elif isinstance(ord, str) or (ord is not None and not np.isscalar(ord)):
        raise ValueError(f"norm: ord {ord!r} is not a vector norm; give a number, inf or -inf (or two axes)")
    return apply(Norm, x, ord=ord, axis=axis, keepdims=bool(keepdims))


#: The public functions composed of other ops, with the NumPy callables they implement.
COMPOSITES = {
    "tensordot": (np.tensordot, *[f for f in (getattr(np.linalg, "tensordot", None),) if f is not None]),
    "outer": (np.outer,),
    "inner": (np.inner,),
    "vdot": (np.vdot,),
    "kron": (np.kron,),
    "matrix_power": (np.linalg.matrix_power,),
    "eigvalsh": (np.linalg.eigvalsh,),
    "svdvals": tuple(f for f in (getattr(np.linalg, "svdvals", None),) if f is not None),
}
