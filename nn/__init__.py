"""nn: neural networks on autograd_lite's public API: modules, layers, losses, optimizers, training, checkpoints.

>>> import nn
>>> model = nn.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", rng=0)
>>> [name for name, _ in model.named_parameters()]
['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']

docs/nn.md is the tour; every example there runs as a doctest.
"""

import autograd_lite as ag
from nn import clip, data, datasets, init, interop, lr_scheduler, metrics, optim
from nn.activations import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Step,
    Tanh,
    step,
)
from nn.checkpoint import load, save
from nn.clip import clip_grad_norm_, clip_grad_value_
from nn.conv import AdaptiveAvgPool2d, AvgPool2d, Conv2d, Flatten, MaxPool2d
from nn.drawing import layer_groups
from nn.interop import load_torch_state_dict, to_torch_state_dict
from nn.layers import MLP, Dense, Sequential
from nn.losses import (
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    MSELoss,
    SoftmaxCrossEntropy,
    SumSquaredError,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    softmax_cross_entropy,
    sum_squared_error,
)
from nn.metrics import accuracy
from nn.module import Buffer, Module, Parameter
from nn.normalization import BatchNorm1d, BatchNorm2d, Dropout, Embedding, LayerNorm
from nn.onnx_export import export_onnx
from nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from nn.summary import ModelSummary, summary
from nn.training import History, evaluate, fit, predict

# the functional forms, as torch.nn.functional's: the differentiable ops themselves
conv2d, max_pool2d, avg_pool2d = ag.conv2d, ag.max_pool2d, ag.avg_pool2d

__all__ = [
    "data", "datasets", "init", "metrics", "optim", "lr_scheduler", "clip",
    "clip_grad_norm_", "clip_grad_value_", "summary", "ModelSummary",
    "Module", "Parameter", "Buffer", "Dense", "Sequential", "MLP",
    "Identity", "ReLU", "Sigmoid", "Softmax", "Step", "Tanh", "step",
    "LeakyReLU", "ELU", "GELU", "Softplus", "LogSoftmax",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Embedding",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "conv2d", "max_pool2d", "avg_pool2d",
    "mse_loss", "sum_squared_error", "softmax_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "MSELoss", "SumSquaredError", "SoftmaxCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy",
    "accuracy", "fit", "evaluate", "predict", "History", "save", "load", "layer_groups",
    "interop", "to_torch_state_dict", "load_torch_state_dict", "export_onnx",
]  # fmt: skip
