"""The functional interface, as ``torch.nn.functional``: stateless ops on Tensors.

>>> import numpy as np
>>> from tinygrad_cnn import Tensor
>>> x = Tensor(np.ones((1, 1, 4, 4)))
>>> max_pool2d(relu(conv2d(x, Tensor(np.ones((2, 1, 3, 3))), padding=1)), 2).shape
(1, 2, 2, 2)
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..seeding import get_rng
from ..ops import activation as _act
from ..ops.activation import leaky_relu, sigmoid, softplus, tanh
from ..ops.conv import conv2d, conv2d_weight, conv_transpose2d
from ..ops.elementwise import mul
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss,
                        nll_loss, smooth_l1_loss)
from ..ops.kernels import pool as _pool_kernels
from ..ops.matmul import linear, matmul
from ..ops.norm import batch_norm
from ..ops.pool import avg_pool2d, max_pool2d
from ..ops import shape as _shape
from ..tensor import Tensor
from ..errors import ShapeError, missing_attribute

__all__ = ["conv2d", "conv_transpose2d", "conv2d_weight", "max_pool2d", "avg_pool2d", "linear", "relu",
           "leaky_relu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax", "dropout", "cross_entropy",
           "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "pad", "flatten", "one_hot", "adaptive_avg_pool2d", "batch_norm"]


def legacy_softmax_dim(ndim: int, who: str) -> int:
    """PyTorch's dim for a softmax called without one (deprecated there, with this warning): 0 for
    0-, 1- and 3-d input, else 1."""
    warnings.warn(f"{who}: implicit dimension choice for softmax has been deprecated (as in PyTorch); "
                  "pass dim=", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (PyTorch's legacy choice, with a warning, when None).
    Shape: unchanged.

    >>> softmax(Tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
    """
    x = input if dtype is None else input.astype(dtype)
    return _act.softmax(x, legacy_softmax_dim(x.ndim, "softmax") if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably (PyTorch's legacy choice when None). Shape: unchanged.

    >>> round(log_softmax(Tensor([0.0, 0.0]), dim=0).tolist()[0], 4)
    -0.6931
    """
    x = input if dtype is None else input.astype(dtype)
    return _act.log_softmax(x, legacy_softmax_dim(x.ndim, "log_softmax") if dim is None else dim)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(input, 0)``; with ``inplace``, written into ``input`` itself (same object, as PyTorch).
    Shape: unchanged.

    >>> x = Tensor([-1.0, 2.0]); relu(x, inplace=True) is x, x.tolist()
    (True, [0.0, 2.0])
    """
    if not inplace:
        return _act.relu(input)
    return input.masked_fill_(~(input._data > 0) & ~np.isnan(input._data), 0.0)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (identity when not
    training). Shape: unchanged.

    >>> dropout(Tensor([1.0, 2.0]), 0.5, training=False).tolist()
    [1.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        zeros = np.zeros(input.shape, dtype=input.dtype)
        return input.mul_(zeros) if inplace else mul(input, Tensor(zeros))
    keep = (get_rng().random(input.shape) >= p).astype(input.dtype) * np.asarray(1.0 / (1.0 - p), input.dtype)
    return input.mul_(keep) if inplace else mul(input, Tensor(keep))


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last axes by ``pad`` = (left, right, top, bottom, ...) with a constant ``value``, or
    in 'reflect', 'replicate' or 'circular' mode, as PyTorch's. Shape: each padded axis grows by its widths.

    >>> pad(Tensor([[1.0]]), (1, 0), value=2.0).tolist()
    [[2.0, 1.0]]
    """
    if mode == "constant":
        return _shape.pad(input, pad, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if value:
        raise ValueError(f"pad: value={value} is only meaningful in 'constant' mode, got mode {mode!r}")
    return _shape.pad_mode(input, pad, mode)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot rows (int64), as PyTorch's; ``num_classes`` -1 takes max + 1.
    Shape: (...) -> (..., num_classes).

    >>> one_hot(Tensor(np.array([0, 2]))).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    idx = tensor._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: expects an integer (int64) tensor, got dtype {idx.dtype}")
    if idx.size and idx.min() < 0:
        raise RuntimeError("one_hot: class values must be non-negative")
    n = int(idx.max()) + 1 if num_classes == -1 and idx.size else num_classes
    if n < 0 or (idx.size and idx.max() >= n):
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes ({num_classes})")
    return Tensor((idx[..., None] == np.arange(n)).astype(np.int64))


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Flatten axes ``start_dim..end_dim`` (from 1 by default, keeping the batch). Shape: (N, ..) -> (N, ..).

    >>> flatten(Tensor(np.zeros((2, 3, 4)))).shape
    (2, 12)
    """
    return input.flatten(start_dim, end_dim)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output size with PyTorch's bins (overlapping where the size does
    not divide the input). Shape: (N, C, H, W) or (C, H, W) -> (..., oh, ow).

    >>> adaptive_avg_pool2d(Tensor(np.arange(16.0).reshape(1, 1, 4, 4)), 1).tolist()
    [[[[7.5]]]]
    """
    if input.ndim not in (3, 4):
        raise ShapeError(f"adaptive_avg_pool2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape "
                         f"{input.shape}")
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    h, w = input.shape[-2:]
    oh, ow = h if oh is None else oh, w if ow is None else ow
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0 and input.ndim == 4:
        return avg_pool2d(input, (h // oh, w // ow))
    # bins of unequal or overlapping extent: one averaging matrix per axis, rows then columns
    rows = Tensor(_pool_kernels.adaptive_matrix(h, oh, input.dtype))
    cols = Tensor(_pool_kernels.adaptive_matrix(w, ow, input.dtype).T)
    return matmul(matmul(rows, input), cols)


__getattr__ = missing_attribute("tinygrad_cnn.nn.functional", "torch.nn.functional")
