"""Layers with PyTorch's names, arguments and default initialisation."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..seeding import get_rng
from ..ops.args import pair
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter
from ..errors import ShapeError


def _uniform(shape: tuple, bound: float) -> Parameter:
    return Parameter(get_rng().uniform(-bound, bound, shape).astype(np.float32))


def _kaiming_uniform(shape: tuple, fan_in: int) -> Parameter:
    """PyTorch's default for Linear/Conv weights: kaiming_uniform_(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in))."""
    return _uniform(shape, 1.0 / math.sqrt(fan_in) if fan_in else 0.0)


def _positive_int(op: str, arg: str, value: Any) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{op}: {arg} must be a positive int, got {value!r}")
    return int(value)


class Linear(Module):
    """``y = x @ W.T + b``. Shape: (.., in_features) -> (.., out_features).

    >>> Linear(3, 2)(Tensor(np.ones((4, 3), np.float32))).shape
    (4, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = _positive_int("Linear", "in_features", in_features)
        self.out_features = _positive_int("Linear", "out_features", out_features)
        self.weight = _kaiming_uniform((out_features, in_features), in_features)
        self.bias = _uniform((out_features,), 1.0 / math.sqrt(in_features)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution layer. Shape: (N, C_in, H, W) -> (N, C_out, H', W').

    >>> Conv2d(1, 6, 5, padding=2)(Tensor(np.zeros((2, 1, 28, 28), np.float32))).shape
    (2, 6, 28, 28)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros"):
        super().__init__()
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"Conv2d: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        if padding_mode != "zeros" and isinstance(padding, str):
            raise NotImplementedError(f"Conv2d: padding={padding!r} with padding_mode={padding_mode!r} is not "
                                      "supported by tinygrad_cnn; give the padding as ints")
        self.padding_mode = padding_mode
        self.in_channels = _positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = _positive_int("Conv2d", "out_channels", out_channels)
        self.groups = _positive_int("Conv2d", "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        self.kernel_size = pair(kernel_size, "Conv2d", "kernel_size", 1)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        fan_in = in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        self.weight = _kaiming_uniform((out_channels, in_channels // groups) + self.kernel_size, fan_in)
        self.bias = _uniform((out_channels,), 1.0 / math.sqrt(fan_in)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode != "zeros":  # PyTorch pads by the mode first, then convolves unpadded
            ph, pw = pair(self.padding, "Conv2d", "padding", 0)
            x = F.pad(x, (pw, pw, ph, ph), mode=self.padding_mode)
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0, 0)):
            s += f", padding={self.padding}"
        if self.dilation not in (1, (1, 1)):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s + ("" if self.bias is not None else ", bias=False")


class ConvTranspose2d(Module):
    """Transposed 2-D convolution layer. Shape: (N, C_in, H, W) -> (N, C_out, H', W').

    >>> ConvTranspose2d(4, 2, 2, stride=2)(Tensor(np.zeros((1, 4, 3, 3), np.float32))).shape
    (1, 2, 6, 6)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1):
        super().__init__()
        self.in_channels = _positive_int("ConvTranspose2d", "in_channels", in_channels)
        self.out_channels = _positive_int("ConvTranspose2d", "out_channels", out_channels)
        self.groups = _positive_int("ConvTranspose2d", "groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose2d: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        self.kernel_size = pair(kernel_size, "ConvTranspose2d", "kernel_size", 1)
        self.stride, self.padding, self.output_padding, self.dilation = stride, padding, output_padding, dilation
        # PyTorch computes fan_in from the weight's dim 1 (out_channels / groups) for transposed convs
        fan_in = out_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        self.weight = _kaiming_uniform((in_channels, out_channels // groups) + self.kernel_size, fan_in)
        self.bias = _uniform((out_channels,), 1.0 / math.sqrt(fan_in)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, output_padding={self.output_padding}")


class _Pool2d(Module):
    """What the pooling layers share: their repr."""

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling layer. Shape: (N, C, H, W) -> (N, C, H', W').

    >>> MaxPool2d(2)(Tensor(np.zeros((1, 1, 4, 4), np.float32))).shape
    (1, 1, 2, 2)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Any:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool2d(_Pool2d):
    """Average pooling layer. Shape: (N, C, H, W) -> (N, C, H', W').

    >>> AvgPool2d(2)(Tensor(np.ones((1, 1, 4, 4), np.float32))).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.ceil_mode = kernel_size, stride, padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                            self.divisor_override)


class ReLU(Module):
    """``max(x, 0)``; with ``inplace`` written into ``x`` itself, as PyTorch's. Shape: unchanged.

    >>> ReLU()(Tensor([-1.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, self.inplace)


class LeakyReLU(Module):
    """``x`` or ``negative_slope * x``. Shape: unchanged.

    >>> LeakyReLU(0.5)(Tensor([-2.0])).tolist()
    [-1.0]
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        if self.inplace:  # a constant factor per element: the gradient of the in-place mul_ is leaky_relu's
            return x.mul_(np.where(x._data > 0, 1.0, self.negative_slope).astype(x.dtype))
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """Logistic sigmoid. Shape: unchanged.

    >>> Sigmoid()(Tensor([0.0])).tolist()
    [0.5]
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """Hyperbolic tangent. Shape: unchanged.

    >>> Tanh()(Tensor([0.0])).tolist()
    [0.0]
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Flatten(Module):
    """Flatten dims ``start_dim..end_dim``. Shape: (N, C, H, W) -> (N, C*H*W).

    >>> Flatten()(Tensor(np.zeros((2, 3, 4)))).shape
    (2, 12)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)


class _DropoutNd(Module):
    """What the dropout layers share, as PyTorch's ``_DropoutNd``: ``p`` checked, and ``inplace``
    (neither layer is an instance of the other, as in PyTorch)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace


class Dropout(_DropoutNd):
    """Zero elements with probability ``p`` while training. Shape: unchanged.

    >>> Dropout(0.5).eval()(Tensor([1.0, 2.0])).tolist()
    [1.0, 2.0]
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(Module):
    ndims: tuple = (4,)
    layout = "(N, C, H, W)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True):
        super().__init__()
        self.num_features = _positive_int(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.weight = Parameter(np.ones(num_features, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_features, np.float32)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, np.float32))
            self.register_buffer("running_var", np.ones(num_features, np.float32))
            self.register_buffer("num_batches_tracked", np.zeros((), np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.ndims or x.shape[1] != self.num_features:
            raise ShapeError(f"{type(self).__name__}: expected input {self.layout} with C={self.num_features}, "
                             f"got shape {x.shape}")
        rm, rv = self.running_mean, self.running_var
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and rm is not None:
            self.num_batches_tracked._data += 1
            if self.momentum is None:  # PyTorch's cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked._data)
        return F.batch_norm(x, rm._data if rm is not None else None, rv._data if rv is not None else None,
                            self.weight, self.bias, self.training or rm is None, momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.weight is not None}"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, H, W) per channel, with running statistics for eval.
    Shape: (N, C, H, W) -> (N, C, H, W).

    >>> BatchNorm2d(3)(Tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32))).shape
    (4, 3, 2, 2)
    """


class BatchNorm1d(_BatchNorm):
    """Batch normalization over N (and L) per feature, with running statistics for eval.
    Shape: (N, C) or (N, C, L) -> the same.

    >>> BatchNorm1d(3)(Tensor(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))).shape
    (4, 3)
    """
    ndims, layout = (2, 3), "(N, C) or (N, C, L)"
