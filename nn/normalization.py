"""Normalisation, dropout and embedding layers: BatchNorm1d/2d, LayerNorm, Dropout, Embedding.

Each is composed from autograd_lite's ops (mean, sqrt, getitem, ...), so its gradient is the
engine's and the stepper and graph drawer can show it. Names, arguments and defaults are
PyTorch's; parameters are float32 unless ``dtype`` says otherwise, and inputs are cast to
the layer's dtype as :class:`nn.Dense` does.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd_lite as ag
from nn.layers import as_generator, as_input
from nn.module import Buffer, Module, Parameter


def _float_dtype(dtype: Any, layer: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{layer}: dtype must be a floating-point type such as np.float32, got {dtype}")
    return dtype


def _positive_int(value: Any, label: str, layer: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {label} must be a positive integer, got {value!r}")
    return int(value)


def _non_negative(value: Any, label: str, layer: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) >= 0:
        raise ValueError(f"{layer}: {label} must be a non-negative number, got {value!r}")
    return float(value)


class _BatchNorm(Module):
    """Batch normalisation over every axis but the channel axis 1 (PyTorch's BatchNorm)."""

    #: The input ranks the layer accepts, e.g. (2, 3) for BatchNorm1d, and how they read.
    ranks: tuple[int, ...] = ()
    layout = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        layer = type(self).__name__
        self.num_features = _positive_int(num_features, "num_features", layer)
        self.eps = _non_negative(eps, "eps", layer)
        if momentum is not None and not 0 <= _non_negative(momentum, "momentum", layer) <= 1:
            raise ValueError(f"{layer}: momentum must be in [0, 1] or None (a cumulative average), got {momentum!r}")
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dtype = _float_dtype(dtype, layer)
        self.weight = Parameter(np.ones(self.num_features), dtype=dtype) if affine else None
        self.bias = Parameter(np.zeros(self.num_features), dtype=dtype) if affine else None
        if self.track_running_stats:
            self.running_mean = Buffer(np.zeros(self.num_features), dtype=dtype)
            self.running_var = Buffer(np.ones(self.num_features), dtype=dtype)
            self.num_batches_tracked = Buffer(np.array(0, dtype=np.int64))
        else:
            # None only without running statistics: every use is behind track_running_stats
            self.running_mean = self.running_var = self.num_batches_tracked = None  # type: ignore[assignment]
        self.dtype = dtype

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1 and no batch tracked, as freshly built."""
        if self.track_running_stats:
            self.running_mean.data = np.zeros_like(self.running_mean.data)
            self.running_var.data = np.ones_like(self.running_var.data)
            self.num_batches_tracked.data = np.zeros_like(self.num_batches_tracked.data)

    def _check(self, x: ag.Tensor) -> None:
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): input has shape {x.shape}, expected {self.layout} "
                f"with C = {self.num_features} channels"
            )

    def forward(self, x: Any) -> ag.Tensor:
        x = as_input(x, self.dtype)
        self._check(x)
        axes = (0, *range(2, x.ndim))
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # broadcasts a per-channel vector over x
        if self.training or not self.track_running_stats:
            count = x.size // self.num_features
            if self.training and count < 2:
                raise ValueError(
                    f"{type(self).__name__}({self.num_features}): expected more than 1 value per channel when "
                    f"training, got input of shape {x.shape}; use a larger batch or call .eval()"
                )
            mean = ag.mean(x, axis=axes, keepdims=True)
            centred = x - mean
            var = ag.mean(centred * centred, axis=axes, keepdims=True)  # biased: what normalises the batch
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data.reshape(-1), var.data.reshape(-1), count)
        else:
            centred = x - ag.Tensor(self.running_mean.data.reshape(shape))
            var = ag.Tensor(self.running_var.data.reshape(shape))
        out = centred / ag.sqrt(var + np.asarray(self.eps, dtype=self.dtype))
        if self.affine:
            out = out * ag.reshape(self.weight, shape) + ag.reshape(self.bias, shape)
        return out

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        """PyTorch's update: r = (1 - m) r + m * batch value, the variance unbiased (times n / (n - 1))."""
        self.num_batches_tracked.data = self.num_batches_tracked.data + 1
        momentum = 1.0 / int(self.num_batches_tracked.data) if self.momentum is None else self.momentum
        factor = self.dtype.type(momentum)
        unbiased = var * self.dtype.type(count / (count - 1))
        self.running_mean.data = (1 - factor) * self.running_mean.data + factor * mean
        self.running_var.data = (1 - factor) * self.running_var.data + factor * unbiased

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs per channel C (PyTorch's BatchNorm1d).

    In training mode each channel is normalised with the batch's mean and biased variance,
    and the running statistics move towards the batch's (variance unbiased) by ``momentum``
    (``None``: a cumulative average); in evaluation mode the running statistics are used.
    """

    ranks, layout = (2, 3), "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs per channel C (PyTorch's BatchNorm2d); see :class:`BatchNorm1d`."""

    ranks, layout = (4,), "(N, C, H, W)"


class LayerNorm(Module):
    """Normalise over the last axes given by ``normalized_shape`` (PyTorch's LayerNorm, biased variance).

    The same in training and evaluation; ``elementwise_affine`` adds a weight (ones) and a
    bias (zeros) of shape ``normalized_shape``.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape = tuple(_positive_int(side, "normalized_shape", "LayerNorm") for side in shape)
        if not self.normalized_shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one axis, got ()")
        self.eps = _non_negative(eps, "eps", "LayerNorm")
        self.elementwise_affine = bool(elementwise_affine)
        self.dtype = _float_dtype(dtype, "LayerNorm")
        affine = self.elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape), dtype=self.dtype) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape), dtype=self.dtype) if affine and bias else None

    def forward(self, x: Any) -> ag.Tensor:
        x = as_input(x, self.dtype)
        count = len(self.normalized_shape)
        if x.shape[x.ndim - count :] != self.normalized_shape or x.ndim < count:
            raise ValueError(
                f"LayerNorm{self.normalized_shape}: input has shape {x.shape}, but its last axes must be "
                f"{self.normalized_shape}"
            )
        axes = tuple(range(x.ndim - count, x.ndim))
        centred = x - ag.mean(x, axis=axes, keepdims=True)
        var = ag.mean(centred * centred, axis=axes, keepdims=True)
        out = centred / ag.sqrt(var + np.asarray(self.eps, dtype=self.dtype))
        if self.weight is not None:
            out = out * self.weight
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps:g}, elementwise_affine={self.elementwise_affine}"


class Dropout(Module):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) in training; identity in eval.

    ``rng`` (a seed or a numpy Generator) draws the masks: the same seed gives the same masks.
    """

    p: float
    generator: np.random.Generator

    def __init__(self, p: float = 0.5, inplace: bool = False, rng: int | np.random.Generator | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= float(p) <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        if inplace:
            raise ValueError("Dropout: inplace=True would overwrite a value the graph may need; use inplace=False")
        self.p = float(p)
        self.generator = as_generator(rng)

    def forward(self, x: Any) -> ag.Tensor:
        x = x if isinstance(x, ag.Tensor) else ag.Tensor(np.asarray(x))
        if not self.training or self.p == 0:
            return x
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        if self.p == 1:
            return x * np.zeros(x.shape, dtype=dtype)
        keep = self.generator.random(x.shape) >= self.p
        return x * (keep.astype(dtype) / dtype.type(1 - self.p))

    def extra_repr(self) -> str:
        return f"p={self.p:g}"


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each index ``i``.

    The output has the indices' shape plus ``embedding_dim``; the gradient of a row repeated
    in the batch is the sum of its uses. Weights start N(0, 1) as in PyTorch; the row
    ``padding_idx``, if given, starts at zero and gets no gradient.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: Any = np.float32,
        rng: int | np.random.Generator | None = None,
    ) -> None:
        self.num_embeddings = _positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _positive_int(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not isinstance(padding_idx, (int, np.integer)) or not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings, got {padding_idx!r}")
            padding_idx = int(padding_idx) % self.num_embeddings
        self.padding_idx = padding_idx
        values = as_generator(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        if padding_idx is not None:
            values[padding_idx] = 0.0
        self.weight = Parameter(values, dtype=_float_dtype(dtype, "Embedding"))

    def forward(self, indices: Any) -> ag.Tensor:
        indices = np.asarray(indices.data if isinstance(indices, ag.Tensor) else indices)
        if indices.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding({self.num_embeddings}, {self.embedding_dim}): indices must be integers, got dtype "
                f"{indices.dtype}; cast them with .astype(int)"
            )
        if indices.size and (indices.min() < 0 or indices.max() >= self.num_embeddings):
            bad = indices.min() if indices.min() < 0 else indices.max()
            raise ValueError(
                f"Embedding({self.num_embeddings}, {self.embedding_dim}): index {bad} is out of range "
                f"(indices must be 0..{self.num_embeddings - 1})"
            )
        out = ag.getitem(self.weight, indices)
        if self.padding_idx is not None:  # the padding row's value, as a constant: no gradient reaches it
            padding = (indices == self.padding_idx)[..., None]
            out = ag.where(padding, self.weight.data[self.padding_idx], out)
        return out

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
