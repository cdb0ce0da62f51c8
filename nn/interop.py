"""PyTorch state dicts: the names and layouts ``torch.nn`` uses, as a dict of NumPy arrays (no PyTorch import here).

The architecture-equivalent PyTorch model has the same modules in the same places:

- a :class:`~nn.Sequential` (or :class:`~nn.MLP`) is a ``torch.nn.Sequential``: its layers are
  numbered ``0, 1, 2, ...`` without our ``layers.`` prefix, and a :class:`~nn.Dense` built with
  an ``activation`` counts as two layers, ``Linear`` then the activation (so ``MLP([3, 4, 2])``
  is ``Sequential(Linear(3, 4), ReLU(), Linear(4, 2))``, keys ``0.*`` and ``2.*``);
- :class:`~nn.Dense` is ``torch.nn.Linear``, whose weight is ``(out, in)``: ours is ``(in, out)``,
  so it is transposed both ways;
- everything else already has PyTorch's names and layouts and keeps them: ``Conv2d``
  ``(out, in, kh, kw)``, batch norm's ``running_mean``, ``running_var`` and
  ``num_batches_tracked``, ``LayerNorm``, ``Embedding``, and ``RNN``/``LSTM``/``GRU`` (and their
  cells) with ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0`` and PyTorch's gate
  order; attributes of other modules keep their names (``self.features`` is ``features``).

PyTorch takes the dict with one line: ``torch_model.load_state_dict({k: torch.from_numpy(v)
for k, v in state.items()})``; and gives one with ``torch_model.state_dict()``, which
:func:`load_torch_state_dict` reads directly (CPU tensors convert with ``np.asarray``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from nn.layers import Dense, Sequential
from nn.module import Module, state_tensors


def _torch_prefixes(module: Module, ours: str, theirs: str) -> Iterator[tuple[str, str, Module]]:
    """(our dotted prefix, PyTorch's dotted prefix, module) of ``module`` and every sub-module, depth first."""
    yield ours, theirs, module
    if isinstance(module, Sequential):
        position = 0
        for index, layer in enumerate(module.layers):
            yield from _torch_prefixes(layer, f"{ours}layers.{index}.", f"{theirs}{position}.")
            if isinstance(layer, Dense) and layer.activation is not None:
                position += 1  # the activation is a layer of its own in PyTorch
                yield f"{ours}layers.{index}.activation.", f"{theirs}{position}.", layer.activation
            position += 1
        return
    for name, child in module.named_children():
        if not (isinstance(module, Dense) and name == "activation"):
            yield from _torch_prefixes(child, f"{ours}{name}.", f"{theirs}{name}.")


def torch_names(model: Module) -> dict[str, tuple[str, bool]]:
    """Each state entry's PyTorch name, and whether its array is transposed there (a Dense weight).

    >>> import nn
    >>> nn.interop.torch_names(nn.MLP([3, 4, 2], rng=0))["layers.1.weight"]
    ('2.weight', True)
    """
    owners = {ours: (theirs, module) for ours, theirs, module in _torch_prefixes(model, "", "")}
    names = {}
    for name in state_tensors(model):
        prefix, _, leaf = name.rpartition(".")
        theirs, owner = owners[f"{prefix}." if prefix else ""]
        names[name] = (theirs + leaf, isinstance(owner, Dense) and leaf == "weight")
    return names


def to_torch_state_dict(model: Module) -> dict[str, np.ndarray]:
    """The model's parameters and persistent buffers under PyTorch's names and layouts, as NumPy arrays (copies).

    The architecture-equivalent ``torch.nn`` model (see the module's docstring) given this dict
    computes the same outputs, to float32 rounding::

        state = nn.to_torch_state_dict(model)
        torch_model.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})

    >>> import nn
    >>> state = nn.to_torch_state_dict(nn.MLP([3, 4, 2], rng=0))
    >>> {key: value.shape for key, value in state.items()}
    {'0.weight': (4, 3), '0.bias': (4,), '2.weight': (2, 4), '2.bias': (2,)}
    """
    if not isinstance(model, Module):
        raise TypeError(f"nn.to_torch_state_dict: expected an nn.Module, got {type(model).__name__}")
    tensors = state_tensors(model)
    state = {}
    for name, (theirs, transposed) in torch_names(model).items():
        values = tensors[name].data
        state[theirs] = np.ascontiguousarray(values.T) if transposed else values.copy()
    return state


def _as_array(key: str, value: Any) -> np.ndarray:
    """A state dict's value as a NumPy array: a NumPy array, or a CPU tensor that does not require grad."""
    try:
        array = np.asarray(value)
    except (TypeError, RuntimeError, ValueError) as error:
        raise TypeError(
            f"nn.load_torch_state_dict: {key!r} cannot be read as a NumPy array ({error}); pass "
            f"{{k: v.detach().cpu() for k, v in torch_model.state_dict().items()}}"
        ) from None
    if array.dtype.hasobject:
        raise TypeError(f"nn.load_torch_state_dict: {key!r} is not an array of numbers ({type(value).__name__})")
    return array


def load_torch_state_dict(model: Module, state_dict: Mapping[str, Any], strict: bool = True) -> Module:
    """Set the model's parameters and buffers from a PyTorch-named state dict; return the model.

    Accepts what :func:`to_torch_state_dict` returns and ``torch_model.state_dict()`` itself.
    All or nothing, as :meth:`Module.load_state_dict`: a missing key, an unexpected key (when
    ``strict``), a shape or dtype mismatch raises before anything changes.

    >>> import nn
    >>> source, target = nn.MLP([3, 4, 2], rng=0), nn.MLP([3, 4, 2], rng=1)
    >>> state = nn.to_torch_state_dict(source)
    >>> nn.load_torch_state_dict(target, state) is target
    True
    >>> np.array_equal(target(np.ones((1, 3))).data, source(np.ones((1, 3))).data)
    True
    """
    if not isinstance(model, Module):
        raise TypeError(f"nn.load_torch_state_dict: expected an nn.Module to load into, got {type(model).__name__}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"nn.load_torch_state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}"
        )
    names = torch_names(model)
    missing = [f"{theirs} (our {ours})" for ours, (theirs, _) in names.items() if theirs not in state_dict]
    if missing:
        raise ValueError(
            f"nn.load_torch_state_dict: {len(missing)} key(s) missing from the state dict: {', '.join(missing[:5])}"
            f"{' ...' if len(missing) > 5 else ''}; is the PyTorch model the same architecture?"
        )
    known = {theirs for theirs, _ in names.values()}
    unexpected = [str(key) for key in state_dict if key not in known]
    if unexpected and strict:
        raise ValueError(
            f"nn.load_torch_state_dict: unexpected key(s) the model has no parameter for: {', '.join(unexpected[:5])}"
            f"{' ...' if len(unexpected) > 5 else ''}; pass strict=False to ignore them"
        )
    ours = _in_our_layout(model, names, state_dict)
    try:
        model.load_state_dict(ours, strict=True)
    except ValueError as error:  # (a dtype mismatch) named by the key the caller knows
        message = str(error).replace("load_state_dict:", "nn.load_torch_state_dict:", 1)
        for name, (theirs, _) in names.items():
            message = message.replace(f"{name!r}", f"{theirs!r} (our {name!r})")
        raise ValueError(message) from None
    return model


def _in_our_layout(
    model: Module, names: Mapping[str, tuple[str, bool]], state_dict: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The state dict's arrays under our names and layouts, each shape checked in PyTorch's layout."""
    tensors = state_tensors(model)
    ours = {}
    for name, (theirs, transposed) in names.items():
        array = _as_array(theirs, state_dict[theirs])
        expected = tensors[name].shape[::-1] if transposed else tensors[name].shape
        if array.shape != expected:
            raise ValueError(
                f"nn.load_torch_state_dict: {theirs!r} has shape {array.shape} in the state dict, but the model's "
                f"{name!r} needs {expected} there{' (a Linear weight, (out, in))' if transposed else ''}"
            )
        ours[name] = array.T if transposed else array
    return ours
