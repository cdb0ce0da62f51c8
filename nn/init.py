"""Initialisation schemes under PyTorch's names: ``nn.init.kaiming_normal_(layer.weight, rng=0)``.

Each function fills a Tensor (or a NumPy array) in place, records nothing (``ag.no_grad``),
keeps its dtype and returns it. ``rng`` is a seed, a ``numpy.random.Generator`` or None.

Fans follow PyTorch's layout ``(out, in, *kernel)``: fan_in = shape[1] * prod(kernel),
fan_out = shape[0] * prod(kernel), as for the recurrent and convolution weights. ``nn.Dense``
stores its weight as ``(in, out)`` (Keras' layout), so for a Dense weight the two fans swap:
``kaiming_normal_(dense.weight, mode="fan_out")`` is He initialisation on its fan-in.

>>> import numpy as np
>>> import autograd_lite as ag
>>> from nn import init
>>> w = ag.Tensor(np.empty((256, 512), dtype=np.float32))
>>> _ = init.kaiming_uniform_(w, nonlinearity="relu", rng=0)
>>> bound = np.sqrt(6 / 512)
>>> bool(np.abs(w.data).max() <= bound), w.dtype
(True, dtype('float32'))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.layers import as_generator

Seed = int | np.random.Generator | None
Fillable = ag.Tensor | np.ndarray

_LINEAR = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for a nonlinearity (``param``: leaky_relu's negative slope, default 0.01).

    1 for linear, conv and sigmoid, 5/3 for tanh, √2 for relu, √(2/(1+slope²)) for leaky_relu, 3/4 for selu.
    """
    if nonlinearity in (*_LINEAR, "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number; pass a float such as 0.01")
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use linear, conv2d, sigmoid, tanh, relu, "
        "leaky_relu or selu"
    )


def calculate_fan_in_and_fan_out(tensor: Fillable) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight in PyTorch's layout (out, in, *kernel); needs at least 2 dimensions."""
    shape = tuple(np.shape(tensor.data if isinstance(tensor, ag.Tensor) else tensor))
    if len(shape) < 2:
        raise ValueError(
            f"init: fan in and fan out need a tensor of at least 2 dimensions, got shape {shape}; "
            "use uniform_/normal_/constant_ for biases"
        )
    receptive = int(np.prod(shape[2:], dtype=np.int64)) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Fillable, mode: str, caller: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{caller}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Fillable, values: Any, caller: str) -> Fillable:
    """Write ``values`` into ``tensor`` in place (same buffer, dtype kept; a Tensor's version is bumped)."""
    if isinstance(tensor, ag.Tensor):
        with ag.no_grad():
            array = tensor.data
            if array.flags.writeable:
                array[...] = values
                tensor.data = array  # the setter bumps the version: a graph built on old values refuses backward
            else:
                tensor.data = np.broadcast_to(np.asarray(values), array.shape).astype(array.dtype)
        return tensor
    if isinstance(tensor, np.ndarray):
        tensor[...] = values
        return tensor
    raise TypeError(f"{caller}: expected an ag.Tensor (e.g. a Parameter) or a NumPy array, got {type(tensor).__name__}")


def _float_shape(tensor: Fillable, caller: str) -> tuple[int, ...]:
    if not isinstance(tensor, (ag.Tensor, np.ndarray)):
        raise TypeError(
            f"{caller}: expected an ag.Tensor (e.g. a Parameter) or a NumPy array, got {type(tensor).__name__}"
        )
    if tensor.dtype.kind != "f":
        raise TypeError(f"{caller}: random values need a floating-point tensor, got dtype {tensor.dtype}")
    return tuple(tensor.shape)


def uniform_(tensor: Fillable, a: float = 0.0, b: float = 1.0, rng: Seed = None) -> Fillable:
    """Fill with draws from the uniform distribution on [a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    shape = _float_shape(tensor, "uniform_")
    return _fill(tensor, as_generator(rng).uniform(a, b, shape), "uniform_")


def normal_(tensor: Fillable, mean: float = 0.0, std: float = 1.0, rng: Seed = None) -> Fillable:
    """Fill with draws from N(mean, std²)."""
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    shape = _float_shape(tensor, "normal_")
    return _fill(tensor, as_generator(rng).normal(mean, std, shape), "normal_")


def trunc_normal_(
    tensor: Fillable, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, rng: Seed = None
) -> Fillable:
    """Fill with N(mean, std²) draws truncated to [a, b] (redrawn until inside, as rejection sampling)."""
    if not a < b or not std > 0:
        raise ValueError(f"trunc_normal_: need a < b and std > 0, got a={a}, b={b}, std={std}")
    shape = _float_shape(tensor, "trunc_normal_")
    generator = as_generator(rng)
    values = generator.normal(mean, std, shape)
    outside = (values < a) | (values > b)
    for _ in range(1000):  # each round keeps the draws inside; an absurd interval would stop here
        if not outside.any():
            break
        values[outside] = generator.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    else:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] is too far from N({mean}, {std}²) to draw from")
    return _fill(tensor, values, "trunc_normal_")


def constant_(tensor: Fillable, val: float) -> Fillable:
    """Fill with ``val``."""
    return _fill(tensor, val, "constant_")


def ones_(tensor: Fillable) -> Fillable:
    """Fill with 1."""
    return _fill(tensor, 1, "ones_")


def zeros_(tensor: Fillable) -> Fillable:
    """Fill with 0."""
    return _fill(tensor, 0, "zeros_")


def eye_(tensor: Fillable) -> Fillable:
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, as np.eye for non-square shapes)."""
    if np.ndim(tensor) != 2:
        raise ValueError(f"eye_: needs a 2-D tensor, got shape {tuple(np.shape(tensor))}")
    return _fill(tensor, np.eye(*tensor.shape), "eye_")


def xavier_uniform_(tensor: Fillable, gain: float = 1.0, rng: Seed = None) -> Fillable:
    """Glorot & Bengio (2010): uniform on ±gain·√(6 / (fan_in + fan_out))."""
    shape = _float_shape(tensor, "xavier_uniform_")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, as_generator(rng).uniform(-bound, bound, shape), "xavier_uniform_")


def xavier_normal_(tensor: Fillable, gain: float = 1.0, rng: Seed = None) -> Fillable:
    """Glorot & Bengio (2010): normal with std gain·√(2 / (fan_in + fan_out))."""
    shape = _float_shape(tensor, "xavier_normal_")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, as_generator(rng).normal(0.0, std, shape), "xavier_normal_")


def kaiming_uniform_(
    tensor: Fillable, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng: Seed = None
) -> Fillable:
    """He et al. (2015): uniform on ±gain·√(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    shape = _float_shape(tensor, "kaiming_uniform_")
    fan = _fan(tensor, mode, "kaiming_uniform_")
    if fan == 0:
        return tensor  # an empty tensor: nothing to fill (PyTorch warns and skips)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, as_generator(rng).uniform(-bound, bound, shape), "kaiming_uniform_")


def kaiming_normal_(
    tensor: Fillable, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng: Seed = None
) -> Fillable:
    """He et al. (2015): normal with std gain / √fan, gain = calculate_gain(nonlinearity, a)."""
    shape = _float_shape(tensor, "kaiming_normal_")
    fan = _fan(tensor, mode, "kaiming_normal_")
    if fan == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(tensor, as_generator(rng).normal(0.0, std, shape), "kaiming_normal_")


def orthogonal_(tensor: Fillable, gain: float = 1.0, rng: Seed = None) -> Fillable:
    """Saxe et al. (2013): a (semi-)orthogonal matrix times ``gain``, the tensor seen as (shape[0], rest)."""
    shape = _float_shape(tensor, "orthogonal_")
    if len(shape) < 2:
        raise ValueError(f"orthogonal_: needs a tensor of at least 2 dimensions, got shape {shape}")
    rows = shape[0]
    cols = int(np.prod(shape[1:], dtype=np.int64))
    if rows * cols == 0:
        return tensor
    flat = as_generator(rng).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # sign fix: a uniformly distributed orthogonal matrix
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape), "orthogonal_")
