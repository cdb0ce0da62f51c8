"""Convolution and pooling over images (NCHW): the ops nn's Conv2d and pooling layers are built on.

``conv2d`` is im2col: the padded input seen through ``sliding_window_view`` as every
(kh, kw) patch at once, (N, C, Ho, Wo, kh, kw), contracted with the weight by one
``tensordot`` (NumPy copies the patches into one matrix and hands the product to BLAS).
Its vjps are two more ops of the same kind: ``conv2d_input_grad`` (col2im: the column
gradients scatter-added back onto the image, one vectorised slice per kernel tap) and
``conv2d_weight_grad`` (a tensordot of the gradient with the patches). Each of the three is
linear in each input and the vjps of each are the other two, so gradients of gradients
work. ``max_pool2d`` picks each window's arg-max (the first one on ties, as PyTorch) and
gathers it with ``getitem``; ``avg_pool2d`` is a conv2d with a constant 1/(kh*kw) kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd_lite.engine import Node, Tensor, apply, constant, data_of
from autograd_lite.ops.common import ArrayLike, as_tensor
from autograd_lite.ops.shape import getitem, reshape

Pair = tuple[int, int]
IntOrPair = int | tuple[int, int]


def _patches(x: np.ndarray, size: Pair, stride: Pair, padding: Pair, dilation: Pair, fill: float = 0.0) -> Any:
    """Every window of the padded ``x`` as a view (N, C, Ho, Wo, kh, kw): im2col without a copy."""
    (ph, pw), (dh, dw), (sh, sw) = padding, dilation, stride
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    span = (dh * (size[0] - 1) + 1, dw * (size[1] - 1) + 1)
    return sliding_window_view(x, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]


def _run(op: type[Node], *values: Any, **params: Any) -> Any:
    """The op on arrays (plain backward) or recorded on Tensors (create_graph, forward mode)."""
    if any(isinstance(value, Tensor) for value in values):
        return apply(op, *[as_tensor(value) for value in values], **params)
    return op.forward(*values, **params)


class Conv2d(Node):
    name, category, arguments = "conv2d", "matrix product", ("x", "W")
    signature = "conv2d(x, W)"
    formulas = ("conv2d_input_grad(grad, W): col2im of grad @ W", "conv2d_weight_grad(x, grad): grad @ im2col(x)")

    @staticmethod
    def forward(x: np.ndarray, weight: np.ndarray, stride: Pair, padding: Pair, dilation: Pair) -> np.ndarray:
        patches = _patches(x, weight.shape[2:], stride, padding, dilation)
        out = np.tensordot(patches, weight, axes=([1, 4, 5], [1, 2, 3]))  # (N, Ho, Wo, O)
        return np.ascontiguousarray(out.transpose(0, 3, 1, 2))

    vjps = (
        lambda g, out, x, w, **p: _run(Conv2dInputGrad, g, w, shape=x.shape, **p),
        lambda g, out, x, w, **p: _run(Conv2dWeightGrad, x, g, shape=w.shape, **p),
    )
    jvps = (
        lambda t, out, x, w, **p: _run(Conv2d, t, w, **p),
        lambda t, out, x, w, **p: _run(Conv2d, x, t, **p),
    )


class Conv2dInputGrad(Node):
    name, category, public, arguments = "conv2d_input_grad", "matrix product", False, ("g", "W")
    formulas = ("conv2d(grad, W)", "conv2d_weight_grad(grad, g)")

    @staticmethod
    def forward(g: np.ndarray, weight: np.ndarray, shape: tuple[int, ...], **p: Pair) -> np.ndarray:
        (sh, sw), (ph, pw), (dh, dw) = p["stride"], p["padding"], p["dilation"]
        kh, kw = weight.shape[2:]
        columns = np.tensordot(g, weight, axes=([1], [0]))  # (N, Ho, Wo, C, kh, kw)
        columns = columns.transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, Ho, Wo)
        n, c, height, width = shape
        image = np.zeros((n, c, height + 2 * ph, width + 2 * pw), dtype=columns.dtype)
        rows, cols = g.shape[2:]
        for i in range(kh):  # col2im: one vectorised scatter per kernel tap, not per pixel
            for j in range(kw):
                top, left = i * dh, j * dw
                image[:, :, top : top + sh * (rows - 1) + 1 : sh, left : left + sw * (cols - 1) + 1 : sw] += columns[
                    :, :, i, j
                ]
        return image[:, :, ph : ph + height, pw : pw + width]

    vjps = (
        lambda g, out, grad, w, shape, **p: _run(Conv2d, g, w, **p),
        lambda g, out, grad, w, shape, **p: _run(Conv2dWeightGrad, g, grad, shape=w.shape, **p),
    )
    jvps = (
        lambda t, out, grad, w, shape, **p: _run(Conv2dInputGrad, t, w, shape=shape, **p),
        lambda t, out, grad, w, shape, **p: _run(Conv2dInputGrad, grad, t, shape=shape, **p),
    )


class Conv2dWeightGrad(Node):
    name, category, public, arguments = "conv2d_weight_grad", "matrix product", False, ("x", "g")
    formulas = ("conv2d_input_grad(g, grad)", "conv2d(x, grad)")

    @staticmethod
    def forward(x: np.ndarray, g: np.ndarray, shape: tuple[int, ...], **p: Pair) -> np.ndarray:
        patches = _patches(x, (shape[2], shape[3]), p["stride"], p["padding"], p["dilation"])
        return np.tensordot(g, patches, axes=([0, 2, 3], [0, 2, 3]))  # (O, C, kh, kw)

    vjps = (
        lambda g, out, x, grad, shape, **p: _run(Conv2dInputGrad, grad, g, shape=x.shape, **p),
        lambda g, out, x, grad, shape, **p: _run(Conv2d, x, g, **p),
    )
    jvps = (
        lambda t, out, x, grad, shape, **p: _run(Conv2dWeightGrad, t, grad, shape=shape, **p),
        lambda t, out, x, grad, shape, **p: _run(Conv2dWeightGrad, x, t, shape=shape, **p),
    )


def conv2d_input_grad(g: Any, weight: Any, shape: tuple[int, ...], **params: Pair) -> Any:
    """The gradient of conv2d for its input (col2im of ``g @ weight``); differentiable."""
    return _run(Conv2dInputGrad, g, weight, shape=shape, **params)


def conv2d_weight_grad(x: Any, g: Any, shape: tuple[int, ...], **params: Pair) -> Any:
    """The gradient of conv2d for its weight (``g`` contracted with the patches of ``x``); differentiable."""
    return _run(Conv2dWeightGrad, x, g, shape=shape, **params)


def _pair(op: str, name: str, value: Any, low: int) -> Pair:
    """An int-or-pair argument as a pair of ints >= ``low``, or a one-line ValueError."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < low:
        raise ValueError(f"{op}: {name} must be at least {low}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _image(op: str, x: ArrayLike) -> Tensor:
    """``x`` as a real floating-point NCHW Tensor, or a one-line ValueError naming the op."""
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"{op}: the input must be 4-D (N, C, H, W), got shape {x.shape}; add axes with reshape")
    if x.dtype.kind != "f":
        raise ValueError(f"{op}: the input must be real floating point, got dtype {x.dtype}; use .astype(np.float32)")
    return x


def _output_size(op: str, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> None:
    """Refuse a window that does not fit the padded input."""
    for side, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation):
        if (side + 2 * p - d * (k - 1) - 1) // s + 1 < 1:
            raise ValueError(
                f"{op}: the kernel {kernel} (dilation {dilation}) does not fit the input {shape} padded by {padding}; "
                "use a smaller kernel or more padding"
            )


def conv2d(
    x: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) of NCHW ``x`` with ``weight`` (O, C, kh, kw), as torch's conv2d."""
    x, weight = _image("conv2d", x), as_tensor(weight)
    params = {
        "stride": _pair("conv2d", "stride", stride, 1),
        "padding": _pair("conv2d", "padding", padding, 0),
        "dilation": _pair("conv2d", "dilation", dilation, 1),
    }
    if weight.ndim != 4 or weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"conv2d: weight of shape {weight.shape} does not fit input {x.shape}; it must be "
            f"(out_channels, {x.shape[1]}, kh, kw)"
        )
    _output_size("conv2d", x.shape, weight.shape[2:], **params)
    out = apply(Conv2d, x, weight, **params)
    if bias is None:
        return out
    bias = as_tensor(bias, out)
    if bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: bias of shape {bias.shape} must be ({weight.shape[0]},), one per output channel")
    return out + reshape(bias, (1, -1, 1, 1))


def _pool_params(op: str, x: Tensor, kernel_size: Any, stride: Any, padding: Any) -> tuple[Pair, Pair, Pair]:
    """Kernel, stride (the kernel when None) and padding of a pooling op, checked as torch does."""
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    steps = kernel if stride is None else _pair(op, "stride", stride, 1)
    pads = _pair(op, "padding", padding, 0)
    if pads[0] > kernel[0] // 2 or pads[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding!r} must be at most half the kernel {kernel}")
    _output_size(op, x.shape, kernel, steps, pads, (1, 1))
    return kernel, steps, pads


def max_pool2d(x: ArrayLike, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> Tensor:
    """The maximum of each window of NCHW ``x``; the gradient goes to the first arg-max (as torch)."""
    x = _image("max_pool2d", x)
    kernel, steps, pads = _pool_params("max_pool2d", x, kernel_size, stride, padding)
    windows = _patches(data_of(x), kernel, steps, pads, (1, 1), fill=-np.inf)
    n, c, rows, cols = windows.shape[:4]
    first = np.argmax(windows.reshape(n, c, rows, cols, -1), axis=-1)  # the first maximum, as torch
    i, j = np.divmod(first, kernel[1])
    # Window (r, s) starts at r*stride - padding; a padded cell is picked only when every value is -inf:
    # clipping moves it to the window's first real cell, which then holds the maximum too.
    top = np.clip(np.arange(rows)[:, None] * steps[0] - pads[0] + i, 0, x.shape[2] - 1)
    left = np.clip(np.arange(cols)[None, :] * steps[1] - pads[1] + j, 0, x.shape[3] - 1)
    index = (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], top, left)
    return getitem(x, index)


def avg_pool2d(x: ArrayLike, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> Tensor:
    """The mean of each window of NCHW ``x``, zero padding counted (torch's count_include_pad=True)."""
    x = _image("avg_pool2d", x)
    kernel, steps, pads = _pool_params("avg_pool2d", x, kernel_size, stride, padding)
    n, c, height, width = x.shape
    ones = constant(np.full((1, 1, *kernel), 1.0 / (kernel[0] * kernel[1]), dtype=x.dtype))
    pooled = conv2d(reshape(x, (n * c, 1, height, width)), ones, stride=steps, padding=pads)
    return reshape(pooled, (n, c, *pooled.shape[2:]))


#: The public functions composed of other ops (no NumPy counterpart).
COMPOSITES: dict[str, tuple[Any, ...]] = {"max_pool2d": (), "avg_pool2d": ()}
