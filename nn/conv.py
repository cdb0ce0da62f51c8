"""Convolution and pooling layers on NCHW images: Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten.

They are thin modules over the op table's ``ag.conv2d`` (im2col: one matrix product, see
docs/nn_conv.md), ``ag.max_pool2d`` and ``ag.avg_pool2d``, with PyTorch's names, arguments,
defaults and initialisation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import autograd_lite as ag
from nn.layers import as_generator, as_input
from nn.module import Module, Parameter

IntOrPair = int | tuple[int, int]


def _pair(layer: str, name: str, value: Any, low: int) -> tuple[int, int]:
    """An int-or-pair argument as a pair of ints >= ``low``, or a one-line ValueError naming the layer."""
    pair = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low for v in pair)
    ):
        raise ValueError(f"{layer}: {name} must be an int >= {low} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _as_input(layer: str, x: Any, dtype: np.dtype | None = None) -> ag.Tensor:
    """``x`` as a 4-D Tensor (N, C, H, W), cast to ``dtype`` when given (differentiably if it needs a gradient)."""
    x = as_input(x, dtype)
    if x.ndim != 4:
        raise ValueError(f"{layer}: input has shape {x.shape}, but it must be 4-D (N, C, H, W); reshape it first")
    return x


class Conv2d(Module):
    """2-D convolution over NCHW images, as torch.nn.Conv2d: weight (out, in, kh, kw), bias (out,).

    Initialised as PyTorch does: kaiming-uniform with a=sqrt(5) for the weight, i.e. uniform on
    ±1/sqrt(fan_in) with fan_in = in_channels*kh*kw, and the bias uniform on the same bound.
    Inputs of another dtype are cast to the layer's (float32 by default), as Dense does.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrPair,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
        dilation: IntOrPair = 1,
        bias: bool = True,
        dtype: Any = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        for label, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Conv2d: {label} must be a positive integer, got {value!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Conv2d: dtype must be a floating-point type such as np.float32, got {dtype}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = _pair("Conv2d", "stride", stride, 1)
        self.padding = _pair("Conv2d", "padding", padding, 0)
        self.dilation = _pair("Conv2d", "dilation", dilation, 1)
        generator = as_generator(rng)
        bound = 1.0 / np.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(generator.uniform(-bound, bound, shape), dtype=dtype)
        self.bias = Parameter(generator.uniform(-bound, bound, self.out_channels), dtype=dtype) if bias else None

    def forward(self, x: Any) -> ag.Tensor:
        x = _as_input("Conv2d", x, self.weight.dtype)
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d({self.in_channels} -> {self.out_channels}): input has shape {x.shape}, but axis 1 must "
                f"have {self.in_channels} channels"
            )
        return ag.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}", f"stride={self.stride}"]
        if self.padding != (0, 0):
            parts.append(f"padding={self.padding}")
        if self.dilation != (1, 1):
            parts.append(f"dilation={self.dilation}")
        if self.bias is None:
            parts.append("bias=False")
        return ", ".join(parts)


class _Pool2d(Module):
    """What MaxPool2d and AvgPool2d share: kernel_size, stride (the kernel size when None), padding."""

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> None:
        layer = type(self).__name__
        self.kernel_size = _pair(layer, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair(layer, "stride", stride, 1)
        self.padding = _pair(layer, "padding", padding, 0)
        if self.padding[0] > self.kernel_size[0] // 2 or self.padding[1] > self.kernel_size[1] // 2:
            raise ValueError(f"{layer}: padding {padding!r} must be at most half the kernel size {self.kernel_size}")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each window, as torch.nn.MaxPool2d; the gradient goes to the (first) arg-max."""

    def forward(self, x: Any) -> ag.Tensor:
        return ag.max_pool2d(_as_input("MaxPool2d", x), self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each window, as torch.nn.AvgPool2d (zero padding counted: count_include_pad=True)."""

    def forward(self, x: Any) -> ag.Tensor:
        return ag.avg_pool2d(_as_input("AvgPool2d", x), self.kernel_size, self.stride, self.padding)


class AdaptiveAvgPool2d(Module):
    """The mean over each channel's whole image, as torch.nn.AdaptiveAvgPool2d(1): (N, C, H, W) -> (N, C, 1, 1)."""

    def __init__(self, output_size: IntOrPair = 1) -> None:
        if _pair("AdaptiveAvgPool2d", "output_size", output_size, 1) != (1, 1):
            raise ValueError(
                f"AdaptiveAvgPool2d: only output_size=1 (global average pooling) is supported, got {output_size!r}"
            )
        self.output_size = output_size

    def forward(self, x: Any) -> ag.Tensor:
        return ag.mean(_as_input("AdaptiveAvgPool2d", x), axis=(2, 3), keepdims=True)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class Flatten(Module):
    """Axes start_dim..end_dim joined into one, as torch.nn.Flatten (default: all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> ag.Tensor:
        x = x if isinstance(x, ag.Tensor) else ag.Tensor(np.asarray(x))
        ndim = max(x.ndim, 1)
        start, end = self.start_dim % ndim, self.end_dim % ndim
        if not (-ndim <= self.start_dim < ndim and -ndim <= self.end_dim < ndim) or start > end:
            raise ValueError(
                f"Flatten: start_dim={self.start_dim}, end_dim={self.end_dim} do not fit an input of shape {x.shape}; "
                "give axes within its dimensions, start before end"
            )
        if x.ndim == 0:
            return ag.reshape(x, (1,))
        joined = int(np.prod(x.shape[start : end + 1]))
        return ag.reshape(x, (*x.shape[:start], joined, *x.shape[end + 1 :]))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
