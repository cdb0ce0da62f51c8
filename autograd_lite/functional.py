"""Functional transforms, to any order and composable: grad, value_and_grad, vjp, jvp (forward
mode), jacobian (reverse or forward), hessian and hvp (forward-over-reverse), elementwise_grad."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite import ops
from autograd_lite.engine import (
    Node,
    Tensor,
    apply,
    data_of,
    enable_grad,
    is_grad_enabled,
    no_grad,
    push_tangents,
    run_backward,
)


def value_and_grad(function: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """Return ``f`` that computes ``(function(*args), gradient)``.

    The gradient is taken with respect to argument ``argnums`` (a tuple of gradients
    when ``argnums`` is a tuple). Arguments may be arrays, numbers or Tensors; the
    gradients are Tensors that carry their own graph, so they can be differentiated
    again (``grad(grad(f))``).
    """
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args: Any) -> tuple[Tensor, Any]:
        arguments = list(args)
        targets = []
        with enable_grad():
            for position in positions:
                if position >= len(arguments):
                    raise TypeError(f"grad: argnums={argnums} but the function got {len(arguments)} arguments")
                arguments[position] = _independent(arguments[position])
                targets.append(arguments[position])
            output = function(*arguments)
        if not isinstance(output, Tensor):
            output = Tensor(output)
        if output.size != 1:
            raise ValueError(
                f"grad: the function must return a single number, but it returned shape {output.shape}; "
                f"reduce it (e.g. .sum()) or use backward(grad=...)"
            )
        if output.requires_grad:
            # Record the backward pass (create_graph) so the gradients can be differentiated again.
            found = run_backward(
                output, None, retain_graph=True, create_graph=True, targets=targets, stop_at_targets=True
            )
        else:
            found = [None] * len(targets)
        assert found is not None
        gradients = tuple(
            Tensor(np.zeros_like(target.data)) if gradient is None else gradient
            for target, gradient in zip(targets, found)
        )
        return output, gradients[0] if isinstance(argnums, int) else gradients

    return wrapped


def grad(function: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """Return the function's gradient as a function: ``grad(f)(x)`` is df/dx at x.

    ``f`` must return a single number. The result is a Tensor (a tuple of them when
    ``argnums`` is a tuple) that can be differentiated again.
    """
    with_value = value_and_grad(function, argnums)

    def gradient(*args: Any) -> Any:
        return with_value(*args)[1]

    return gradient


# ----- vector products, Jacobians, Hessians ---------------------------------------------
def _independent(value: Any) -> Tensor:
    """An argument as an independent variable of the function being differentiated.

    Arrays and numbers become new leaves. A Tensor that requires grad gets a stand-in of its
    own (an identity op), so the same tensor passed twice gives each position its own partial
    derivative, as in JAX, and the result stays differentiable with respect to the tensor.
    """
    if isinstance(value, Tensor) and value.requires_grad:
        with enable_grad():
            return ops.reshape(value, value.shape)
    return Tensor(data_of(value), requires_grad=True)


def _leaves(primals: tuple[Any, ...], caller: str) -> list[Tensor]:
    """The primals as independent variables (see :func:`_independent`)."""
    if not primals:
        raise TypeError(f"{caller}: give at least one primal (the point to differentiate at)")
    return [_independent(p) for p in primals]


def _as_output(value: Any, caller: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{caller}: the function must return a Tensor, got {type(value).__name__}")
    return value


def vjp(function: Callable[..., Any], *primals: Any) -> tuple[Tensor, Callable[[Any], tuple[Tensor, ...]]]:
    """``(out, vjp_fn)`` as in JAX: ``vjp_fn(cotangent)`` is the cotangent pulled back to each primal.

    ``vjp_fn`` may be called any number of times; its results are Tensors that can be
    differentiated again.
    """
    leaves = _leaves(primals, "vjp")
    with enable_grad():
        out = _as_output(function(*leaves), "vjp")

    def vjp_fn(cotangent: Any) -> tuple[Tensor, ...]:
        cotangent = cotangent if isinstance(cotangent, Tensor) else Tensor(np.asarray(cotangent, dtype=out.dtype))
        if cotangent.shape != out.shape:
            raise ValueError(f"vjp: the cotangent has shape {cotangent.shape}, the output {out.shape}; they must match")
        if not out.requires_grad:
            return tuple(Tensor(np.zeros_like(leaf.data)) for leaf in leaves)
        found = run_backward(out, cotangent, retain_graph=True, create_graph=True, targets=leaves, stop_at_targets=True)
        assert found is not None
        return tuple(Tensor(np.zeros_like(leaf.data)) if g is None else g for leaf, g in zip(leaves, found))

    return out, vjp_fn


def jvp(function: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Tensor, Tensor]:
    """``(out, tangent_out)`` as in JAX: forward mode, the directional derivative of ``function``
    at ``primals`` along ``tangents``, pushed through the tape in one forward sweep."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    leaves = _leaves(primals, "jvp")
    seeds = {}
    for index, (leaf, tangent) in enumerate(zip(leaves, tangents)):
        tangent = tangent if isinstance(tangent, Tensor) else Tensor(np.asarray(tangent, dtype=leaf.dtype))
        if tangent.shape != leaf.shape:
            raise ValueError(
                f"jvp: tangent {index} has shape {tangent.shape}, its primal {leaf.shape}; they must match"
            )
        seeds[id(leaf)] = tangent
    with enable_grad():
        out = _as_output(function(*leaves), "jvp")
        tangent_out = push_tangents(out, seeds)
    if tangent_out is None:  # the output does not depend on the primals
        tangent_out = Tensor(np.zeros(out.shape, dtype=out.dtype))
    return out, tangent_out if isinstance(tangent_out, Tensor) else Tensor(tangent_out)


def jacobian(
    function: Callable[..., Any], argnums: int | tuple[int, ...] = 0, mode: str = "reverse"
) -> Callable[..., Any]:
    """``jacobian(f)(*args)``: d out / d args[argnums], shaped ``out.shape + arg.shape``.

    ``mode="reverse"`` builds it a row per output element (vjps), ``"forward"`` a column per
    input element (jvps, one forward sweep each): forward is cheaper when the input is the
    smaller side. A tuple ``argnums`` gives a tuple of Jacobians.
    """
    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def jacobian_at(*args: Any) -> Any:
        if any(position >= len(args) for position in positions):
            raise TypeError(f"jacobian: argnums={argnums} but the function got {len(args)} arguments")
        leaves = _leaves(args, "jacobian")
        with enable_grad():
            out = _as_output(function(*leaves), "jacobian")
        build = _jacobian_by_rows if mode == "reverse" else _jacobian_by_columns
        found = tuple(build(out, leaves[position]) for position in positions)
        return found[0] if isinstance(argnums, int) else found

    return jacobian_at


def _jacobian_by_rows(out: Tensor, leaf: Tensor) -> Tensor:
    rows = []
    for index in range(out.size):
        row = None
        if out.requires_grad:  # one backward per output element, seeded with its one-hot cotangent
            seed = np.zeros(out.size, dtype=out.dtype)
            seed[index] = 1
            seed = seed.reshape(out.shape)
            row = run_backward(out, seed, retain_graph=True, create_graph=True, targets=[leaf], stop_at_targets=True)[0]
        rows.append(Tensor(np.zeros(leaf.shape, dtype=leaf.dtype)) if row is None else row)
    return _assemble(rows, out.shape + leaf.shape, leaf.dtype)


def _jacobian_by_columns(out: Tensor, leaf: Tensor) -> Tensor:
    columns = []
    for index in range(leaf.size):
        seed = np.zeros(leaf.size, dtype=leaf.dtype)
        seed[index] = 1
        with enable_grad():
            tangent = push_tangents(out, {id(leaf): Tensor(seed.reshape(leaf.shape))})
        columns.append(Tensor(np.zeros(out.shape, dtype=out.dtype)) if tangent is None else tangent)
    # columns[j] is d out / d leaf_j: stack them last, then put the input's axes back in its shape
    if not columns:
        return Tensor(np.zeros(out.shape + leaf.shape, dtype=out.dtype))
    stacked = ops.stack([ops.reshape(c, (out.size,)) for c in columns], axis=1)
    return ops.reshape(stacked, out.shape + leaf.shape)


def _assemble(rows: list[Tensor], shape: tuple[int, ...], dtype: Any) -> Tensor:
    if not rows:
        return Tensor(np.zeros(shape, dtype=dtype))
    return ops.reshape(ops.stack([ops.reshape(row, (-1,)) for row in rows]), shape)


def hessian(function: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """``hessian(f)(*args)``: the matrix of second derivatives of a scalar ``f``, shaped
    ``arg.shape + arg.shape``; forward-over-reverse (the forward-mode Jacobian of ``grad(f)``)."""
    return jacobian(grad(function, argnums), argnums, mode="forward")


def hvp(
    function: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...]
) -> Tensor | tuple[Tensor, ...]:
    """The Hessian of a scalar ``function`` at ``primals`` times ``tangents``, without building the
    Hessian: a forward sweep through the gradient's graph (forward-over-reverse). With several
    primals the Hessian is the one with respect to all of them, and the result a tuple."""
    count = len(tuple(primals))
    gradient = grad(function, argnums=tuple(range(count)))
    _, product = jvp(lambda *xs: ops.concatenate([ops.reshape(g, (-1,)) for g in gradient(*xs)]), primals, tangents)
    sizes = [int(np.size(data_of(p))) for p in primals]
    parts, start = [], 0
    for primal, size in zip(primals, sizes):
        parts.append(ops.reshape(product[start : start + size], np.shape(data_of(primal))))
        start += size
    return parts[0] if count == 1 else tuple(parts)


def elementwise_grad(function: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The gradient of ``sum(function(x))``: for an elementwise ``function``, each element's own derivative."""
    return grad(lambda *args: ops.sum(function(*args)), argnums)


# ----- checkpoint: trade compute for memory ---------------------------------------------------
class Checkpoint(Node):
    """``function`` as one Node that keeps only its inputs: backward runs it again to get the rest."""

    name = "checkpoint"
    formulas = ("the function's own derivative, from its forward pass run again during backward",)

    @staticmethod
    def forward(*arrays: np.ndarray, function: Callable[..., Any], needed: tuple[int, ...], shares: dict) -> np.ndarray:
        recording = is_grad_enabled()
        with enable_grad() if recording else no_grad():
            out = _as_output(function(*[Tensor(a) for a in arrays]), "the checkpointed function")
        if recording and out.requires_grad:  # a gradient would reach tensors backward never sees
            raise TypeError(
                "the function uses a tensor that requires grad without taking it as an argument "
                "(e.g. a weight in a closure); pass every such tensor as an argument"
            )
        return np.array(out.data)  # the graph inside is gone here: that is the point

    @classmethod
    def vjp(cls, index: int, grad: Any, out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        function = params["function"]
        if isinstance(grad, Tensor):  # create_graph: the share is checkpointed too, differentiable in inputs and grad
            return checkpoint(functools.partial(_share_of, function, index))(*inputs, grad)
        # One recomputation serves every input of this sweep; it is dropped after the last one asks.
        shares, needed = params["shares"], params["needed"]
        if index == needed[0] or index not in shares:
            shares.clear()
            shares.update(enumerate(_pullback(function, inputs, grad)))
        share = shares.pop(index)
        if index == needed[-1]:
            shares.clear()
        return share

    @classmethod
    def tangent(cls, tangents: list[Any], out: Any, inputs: tuple[Any, ...], params: dict[str, Any]) -> Any:
        with enable_grad():
            again = params["function"](*inputs)  # on the recorded inputs: forward mode walks into them
        seeds = {id(x): t for x, t in zip(inputs, tangents) if t is not None}
        return push_tangents(again, seeds)


def _pullback(function: Callable[..., Any], arrays: tuple[Any, ...], grad: Any) -> list[Any]:
    """Each input's share of ``grad`` through ``function``, run again on new leaves holding ``arrays``."""
    leaves = [Tensor(array, requires_grad=np.asarray(array).dtype.kind == "f") for array in arrays]
    with enable_grad():
        again = _as_output(function(*leaves), "checkpoint")
    found = run_backward(again, grad, targets=leaves) if again.requires_grad else [None] * len(leaves)
    return [np.zeros_like(leaf.data) if share is None else share for leaf, share in zip(leaves, found)]


def _share_of(function: Callable[..., Any], index: int, *arguments: Tensor) -> Tensor:
    """Input ``index``'s share of the last argument (a gradient) through ``function`` of the others.

    Run by a checkpoint's forward (on constants) it is plain arithmetic; run by forward mode or
    a higher derivative (on recorded Tensors) it records, so it can be differentiated again.
    """
    *inputs, grad = arguments
    if not (is_grad_enabled() and any(argument.requires_grad for argument in arguments)):
        return Tensor(_pullback(function, tuple(x.data for x in inputs), grad.data)[index])
    # The share is a partial derivative: each position is an independent variable, even when
    # one tensor fills two positions, whatever made the inputs.
    positions = [_independent(x) if x.requires_grad else x for x in inputs]
    again = _as_output(function(*positions), "checkpoint")
    found = run_backward(again, grad, retain_graph=True, create_graph=True, targets=positions, stop_at_targets=True)
    return Tensor(np.zeros_like(inputs[index].data)) if found[index] is None else found[index]


def checkpoint(function: Callable[..., Any]) -> Callable[..., Tensor]:
    """``function`` that keeps only its inputs and output for backward, and runs again to differentiate.

    Activations inside ``function`` are freed right after the forward pass, so a deep network
    checkpointed block by block holds one block's activations at a time during backward, for
    the price of a second forward pass. ``function`` must be deterministic, return one Tensor and
    take every tensor that requires grad as a positional argument (weights too, not from a
    closure); keyword arguments are passed on as constants.
    """

    @functools.wraps(function)
    def checkpointed(*args: Any, **options: Any) -> Tensor:
        inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in args]
        needed = tuple(i for i, x in enumerate(inputs) if x.requires_grad) or (0,)
        run = functools.partial(function, **options) if options else function  # keywords: constants
        return apply(Checkpoint, *inputs, function=run, needed=needed, shares={})

    return checkpointed
