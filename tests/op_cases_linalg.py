"""Property-test cases of the linalg ops added to the table after the first forty (see op_testing.py).

The matrices are drawn well conditioned by construction (a fixed, comfortable matrix plus a small drawn one), so
few draws are rejected: eigenvalues and singular values stay apart and away from zero, and eigenvectors and
singular vectors are sign-fixed against the fixed part, so every checked quantity is a smooth function of the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from op_testing import Case
from strategies import arrays, away_from_zero

import autograd_lite as ag

NUMPY_1 = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def numpy2_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.linalg.solve as NumPy 2 reads b (a vector only when 1-D); on NumPy 1, by the inverse and matmul's batching."""
    if not NUMPY_1:
        return np.linalg.solve(a, b)
    return (np.linalg.inv(a) @ b[..., None])[..., 0] if b.ndim == 1 else np.linalg.inv(a) @ b


def numpy2_cholesky(a: np.ndarray, upper: bool) -> np.ndarray:
    """np.linalg.cholesky(a, upper=...); NumPy 1 has no upper=: for a symmetric a, U is L transposed."""
    if not NUMPY_1:
        return np.linalg.cholesky(a, upper=upper)
    return np.swapaxes(np.linalg.cholesky(a), -1, -2) if upper else np.linalg.cholesky(a)


MATRIX = np.array([[2.0, 0.5], [0.3, 1.5]])  # as test_numpy_routing's: square, invertible, distinct entries
CUBE = np.arange(1.0, 13.0).reshape(2, 3, 2) / 10
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2: det's cofactors from an SVD

sides = st.integers(1, 3)
batches = st.sampled_from([(), (2,)])


def orthogonal(n: int) -> np.ndarray:
    """A fixed orthogonal n x n matrix (the same for every draw)."""
    return np.linalg.qr(np.random.default_rng(n).normal(size=(n, n)))[0]


def signs_against(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """+-1 per column of ``vectors``: the sign that turns it towards the column of ``reference`` it is close to."""
    return np.sign(np.sum(vectors * reference, axis=-2, keepdims=True))


@st.composite
def conditioned(draw: Any, square: bool = True) -> np.ndarray:
    """3 I (rows of either sign) plus a drawn matrix of norm below 2.4: invertible, condition number below 10."""
    m = draw(sides)
    n = m if square else draw(sides)
    x = draw(arrays(draw(batches) + (m, n)))
    rows = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=m, max_size=m)))[:, None]
    return rows * (3 * np.eye(m, n) + 0.2 * x)


@st.composite
def symmetric_apart(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """A matrix whose lower triangle (what eigh reads) has eigenvalues at least 1 apart, and their basis."""
    n = draw(sides)
    q = orthogonal(n)
    a = q @ np.diag(3.0 * np.arange(n)) @ q.T + 0.05 * draw(arrays(draw(batches) + (n, n)))
    return a, q


@st.composite
def singular_apart(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An m x n matrix with singular values at least 1 apart and above 1, and the bases of its fixed part."""
    m, n = draw(sides), draw(sides)
    k = min(m, n)
    p, q = orthogonal(m)[:, :k], orthogonal(n)[:, :k]
    fixed = p @ np.diag(3.0 * np.arange(k, 0, -1)) @ q.T
    return fixed + 0.05 * draw(arrays(draw(batches) + (m, n))), p, q


# ----- contractions -------------------------------------------------------------------------------------------------
EINSUM_FORMS = [
    "ij,jk->ik", "ij,jk", "ii->i", "ii", "ij->", "ij->ji", "i,i", "i,j->ij", "...ij,...jk->...ik", "...ij,...jk",
    "bij,bjk->bik", "iij,jk", "ij,ij->ij", "i,i,i->", "ij...,j->i...", "ij,jk,kl->il", "i...->...", "ji",
]  # fmt: skip


@st.composite
def einsum_case(draw: Any) -> Case:
    form = draw(st.sampled_from(EINSUM_FORMS))
    sizes = {label: draw(sides) for label in "ijklb"}
    batch = draw(st.lists(sides, max_size=2))
    shapes = []
    for term in form.split("->")[0].split(","):
        own = batch[len(batch) - draw(st.integers(0, len(batch))) :] if "..." in term else []
        own = [1 if draw(st.integers(0, 3)) == 0 else size for size in own]  # broadcast axes of length 1
        named = [sizes[c] for c in term.replace("...", "")]
        position = term.find("...")
        shapes.append(tuple(named[:position] + own + named[position:] if position >= 0 else named))
    xs = [draw(arrays(shape)) for shape in shapes]
    if draw(st.booleans()) and "..." not in form and "->" in form:  # np.einsum's form with index lists
        terms, output = form.split("->")[0].split(","), form.split("->")[1]
        lists = [["ijklb".index(c) for c in term] for term in terms]
        out = ["ijklb".index(c) for c in output]

        def interleaved(*ts: Any, library: Any = ag) -> Any:
            return library.einsum(*[item for pair in zip(ts, lists) for item in pair], out)

        return Case(interleaved, xs, lambda *a: interleaved(*a, library=np))
    return Case(lambda *ts: ag.einsum(form, *ts), xs, lambda *a: np.einsum(form, *a))


@st.composite
def tensordot_case(draw: Any) -> Case:
    a = draw(arrays(st.lists(sides, min_size=0, max_size=3).map(tuple)))
    count = draw(st.integers(0, a.ndim))
    contracted = draw(st.permutations(range(a.ndim)))[:count]
    free = draw(st.lists(sides, max_size=3 - count))
    positions = draw(st.permutations(range(count + len(free))))
    b_shape = [0] * (count + len(free))
    b_axes = []
    for slot, axis in zip(positions, contracted):
        b_shape[slot] = a.shape[axis]
        b_axes.append(slot)
    for slot, size in zip(positions[count:], free):
        b_shape[slot] = size
    b = draw(arrays(tuple(b_shape)))
    if draw(st.booleans()) and list(contracted) == list(range(a.ndim - count, a.ndim)) and b_axes == list(range(count)):
        axes: Any = count
    else:
        axes = (list(contracted), b_axes)
    return Case(lambda x, y: ag.tensordot(x, y, axes), [a, b], lambda x, y: np.tensordot(x, y, axes))


small_shapes = st.lists(sides, max_size=2).map(tuple)


@st.composite
def inner_case(draw: Any) -> Case:
    last = draw(st.lists(sides, min_size=1, max_size=1))
    a = draw(arrays(st.sampled_from([(), *[tuple(draw(small_shapes)) + tuple(last)]])))
    b = draw(arrays(tuple(draw(small_shapes)) + tuple(last)))
    return Case(ag.inner, [a, b], np.inner)


@st.composite
def vdot_case(draw: Any) -> Case:
    a = draw(arrays(st.lists(sides, max_size=3).map(tuple)))
    b = draw(arrays(st.sampled_from([a.shape, (a.size,), (1, a.size)])))
    return Case(ag.vdot, [a, b], np.vdot)


@st.composite
def matrix_power_case(draw: Any) -> Case:
    a, n = draw(conditioned()), draw(st.sampled_from([1, 2, 3, 5, -1, -2, -3]))
    return Case(lambda t: ag.matrix_power(t, n), [a], lambda x: np.linalg.matrix_power(x, n))


# ----- np.linalg ----------------------------------------------------------------------------------------------------
@st.composite
def solve_case(draw: Any) -> Case:
    a = draw(conditioned())
    n = a.shape[-1]
    b = draw(arrays(st.sampled_from([(n,), (n, draw(sides)), a.shape[:-2] + (n, draw(sides))])))
    return Case(ag.solve, [a, b], numpy2_solve)


@st.composite
def cholesky_case(draw: Any) -> Case:
    x = draw(arrays(draw(batches) + (draw(sides),) * 2))
    a = x @ np.swapaxes(x, -1, -2) + x.shape[-1] * np.eye(x.shape[-1])  # symmetric positive definite
    upper = draw(st.booleans())
    return Case(lambda t: ag.cholesky(t, upper=upper), [a], lambda m: numpy2_cholesky(m, upper))


def signed_eigh(a: Any, basis: np.ndarray, library: Any) -> Any:
    """Eigenvalues, then eigenvectors turned towards ``basis``, as one flat array."""
    w, v = library.linalg.eigh(a)
    v = v * signs_against(v.data if isinstance(v, ag.Tensor) else v, basis)
    return library.concatenate([library.reshape(w, -1), library.reshape(v, -1)])


@st.composite
def eigh_case(draw: Any) -> Case:
    a, basis = draw(symmetric_apart())
    return Case(lambda t: signed_eigh(t, basis, ag), [a], lambda m: signed_eigh(m, basis, np))


def signed_svd(a: Any, left: np.ndarray, library: Any) -> Any:
    """U, S and Vh with each singular pair turned towards ``left``, as one flat array."""
    u, s, vh = library.linalg.svd(a, full_matrices=False)
    signs = signs_against(u.data if isinstance(u, ag.Tensor) else u, left)
    return library.concatenate([library.reshape(part, -1) for part in (u * signs, s, vh * np.swapaxes(signs, -1, -2))])


@st.composite
def svd_case(draw: Any) -> Case:
    a, p, _ = draw(singular_apart())
    return Case(lambda t: signed_svd(t, p, ag), [a], lambda m: signed_svd(m, p, np))


def qr_joined(a: Any, library: Any) -> Any:
    """Q and R with R's diagonal made positive (LAPACK flips its sign where a column's lower part is 0)."""
    q, r = library.linalg.qr(a)
    signs = np.sign(np.diagonal(r.data if isinstance(r, ag.Tensor) else r, axis1=-2, axis2=-1))
    q, r = q * signs[..., None, :], r * signs[..., :, None]
    return library.concatenate([library.reshape(q, -1), library.reshape(r, -1)])


@st.composite
def qr_case(draw: Any) -> Case:
    m, n = draw(sides), draw(sides)
    a = 3 * np.eye(m, n) + 0.2 * draw(arrays(draw(batches) + (m, n)))  # Householder pivots far from 0
    return Case(lambda t: qr_joined(t, ag), [a], lambda x: qr_joined(x, np))


VECTOR_ORDS = [None, 2, 1, 3, 0.5, np.inf, -np.inf, 0, -1]
MATRIX_ORDS = [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]


def apart(values: np.ndarray, gap: float = 1e-2) -> None:
    """Values at least ``gap`` apart (a max/min over them has a kink at a tie)."""
    assume(values.size < 2 or np.min(np.diff(np.sort(values, axis=None))) > gap)


@st.composite
def norm_case(draw: Any) -> Case:
    x = draw(arrays(st.lists(sides, min_size=1, max_size=3).map(tuple), away_from_zero(0.1), unique=True))
    keepdims = draw(st.booleans())
    if x.ndim >= 2 and draw(st.booleans()):  # a matrix norm
        ord = draw(st.sampled_from(MATRIX_ORDS))
        axis: Any = tuple(draw(st.permutations(range(x.ndim)))[:2])
        axis = None if x.ndim == 2 and ord is not None and draw(st.booleans()) else axis
        pair = (0, 1) if axis is None else axis
        if ord in (1, -1, np.inf, -np.inf):  # sums of |x| along one axis, then their max or min
            apart(np.sum(np.abs(x), axis=pair[0] if ord in (1, -1) else pair[1]))
        if ord in ("nuc", 2, -2):
            values = np.linalg.svd(np.moveaxis(x, pair, (-2, -1)), compute_uv=False)
            assume(np.min(values) > 0.05)
            apart(values, 0.05)
    else:
        ord = draw(st.sampled_from(VECTOR_ORDS))
        axis = None if ord is None and draw(st.booleans()) else draw(st.integers(-x.ndim, x.ndim - 1))
        axis = None if x.ndim == 1 and draw(st.booleans()) else axis
        apart(np.abs(x))  # the inf-norms' extremes
    return Case(
        lambda t: ag.norm(t, ord, axis, keepdims), [x], lambda a: np.asarray(np.linalg.norm(a, ord, axis, keepdims))
    )


#: op name -> a strategy drawing a Case (inputs from the op's valid domain).
CASES: dict[str, st.SearchStrategy[Case]] = {
    "einsum": einsum_case(),
    "tensordot": tensordot_case(),
    "outer": st.builds(lambda a, b: Case(ag.outer, [a, b], np.outer), arrays(small_shapes), arrays(small_shapes)),
    "inner": inner_case(),
    "vdot": vdot_case(),
    "kron": st.builds(lambda a, b: Case(ag.kron, [a, b], np.kron), arrays(small_shapes), arrays(small_shapes)),
    "matrix_power": matrix_power_case(),
    "inv": st.builds(lambda a: Case(ag.inv, [a], np.linalg.inv), conditioned()),
    "det": st.builds(lambda a: Case(ag.det, [a], np.linalg.det), conditioned()),
    "slogdet": st.builds(
        lambda a: Case(lambda t: ag.slogdet(t).logabsdet, [a], lambda m: np.linalg.slogdet(m)[1]), conditioned()
    ),
    "solve": solve_case(),
    "pinv": st.builds(lambda a: Case(ag.pinv, [a], np.linalg.pinv), conditioned(square=False)),
    "cholesky": cholesky_case(),
    "eigh": eigh_case(),
    "eigvalsh": st.builds(lambda pair: Case(ag.eigvalsh, [pair[0]], np.linalg.eigvalsh), symmetric_apart()),
    "svd": svd_case(),
    "svdvals": st.builds(
        lambda triple: Case(ag.svdvals, [triple[0]], lambda a: np.linalg.svd(a, compute_uv=False)), singular_apart()
    ),
    "qr": qr_case(),
    "norm": norm_case(),
}
#: ops smooth enough for the second-order test.
SECOND_ORDER: list[str] = [
    "einsum", "tensordot", "outer", "inner", "vdot", "kron", "matrix_power", "inv", "det", "slogdet", "solve",
    "pinv", "cholesky", "eigh", "eigvalsh", "svd", "svdvals", "qr", "norm",
]  # fmt: skip
#: "np.name" -> [(arrays, call(f, *arrays))] for NumPy functions that need more than arrays.
NUMPY_CALLS: dict[str, list[tuple[tuple[Any, ...], Any]]] = {
    "np.einsum": [
        ((MATRIX, MATRIX), lambda f, a, b: f("ij,jk->ik", a, b)),
        ((MATRIX,), lambda f, a: f("ii", a)),
        ((CUBE, MATRIX), lambda f, a, b: f("...ij,jk", a, b)),
    ],
    "np.tensordot": [((CUBE, MATRIX), lambda f, a, b: f(a, b, axes=([2], [1])))],
    "np.dot": [((CUBE, CUBE.reshape(3, 2, 2)), lambda f, a, b: f(a, b)), ((CUBE, MATRIX[0]), lambda f, a, b: f(a, b))],
    "np.linalg.matrix_power": [((MATRIX,), lambda f, a: f(a, 3)), ((MATRIX,), lambda f, a: f(a, -2))],
    "np.linalg.det": [((SINGULAR,), lambda f, a: f(a))],
    "np.linalg.norm": [
        ((MATRIX,), lambda f, a, ord=ord: f(a, ord)) for ord in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)
    ]
    + [((CUBE,), lambda f, a: f(a, 3, axis=1, keepdims=True))],
    "np.linalg.svd": [
        ((CUBE,), lambda f, a: f(a, full_matrices=False)),
        ((CUBE,), lambda f, a: f(a, compute_uv=False)),
    ],
    "np.linalg.qr": [((CUBE,), lambda f, a: f(a)), ((np.swapaxes(CUBE, -1, -2),), lambda f, a: f(a, mode="r"))],
}
