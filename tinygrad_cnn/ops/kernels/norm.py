"""Batch normalization's training-mode forward and backward in few passes over the batch.

Arrays are (N, C, ...) in any memory order (a conv's output lies batch-innermost); per-channel
sums go through :func:`channel_sum`, elementwise passes keep the input's order.
"""
from __future__ import annotations

import numpy as np

from .reduce import sum_axes


def channel_sum(a: np.ndarray) -> np.ndarray:
    """The sum over every axis but 1. Shape: (N, C, ...) -> (C,).

    >>> channel_sum(np.ones((2, 3, 4))).tolist()
    [8.0, 8.0, 8.0]
    """
    return sum_axes(a, (0,) + tuple(range(2, a.ndim)), False)


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def bn_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Normalize ``x`` per channel by the batch's mean and biased variance, then scale and shift.
    Returns the output, the normalized input xhat (what the backward needs), the mean and the
    biased variance. Shape: (N, C, ...) -> (N, C, ...), xhat alike, (C,), (C,).

    >>> y, xhat, mean, var = bn_forward(np.array([[1.0], [3.0]]), None, None, 0.0)
    >>> y.ravel().tolist(), mean.tolist(), var.tolist()
    ([-1.0, 1.0], [2.0], [1.0])
    """
    m = x.size // x.shape[1]
    mean = channel_sum(x) / m
    xhat = x - _per_channel(mean.astype(x.dtype), x.ndim)
    sq = np.multiply(xhat, xhat)
    var = channel_sum(sq) / m
    invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
    xhat *= _per_channel(invstd, x.ndim)
    y = sq  # the squares' buffer has the shape and memory order the output wants
    if weight is None:
        np.copyto(y, xhat)
    else:
        np.multiply(xhat, _per_channel(weight, x.ndim), out=y)
    if bias is not None:
        y += _per_channel(bias, x.ndim)
    return y, xhat, mean, var


def bn_backward(g: np.ndarray, xhat: np.ndarray, var: np.ndarray, weight: np.ndarray | None, eps: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`bn_forward`'s output with respect to the input, the weight and the
    bias: ``dx = w/sigma * (g - mean(g) - xhat * mean(g * xhat))``, the means per channel.
    Shape: g, xhat (N, C, ...), var (C,) -> (N, C, ...), (C,), (C,).

    >>> dx, dw, db = bn_backward(np.array([[1.0], [1.0]]), np.array([[-1.0], [1.0]]), np.array([1.0]), None, 0.0)
    >>> dx.ravel().tolist(), dw.tolist(), db.tolist()
    ([0.0, 0.0], [0.0], [2.0])
    """
    m = g.size // g.shape[1]
    dbias = channel_sum(g)
    gx = np.multiply(g, xhat)
    dweight = channel_sum(gx)
    scale = 1.0 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    dx = np.multiply(xhat, _per_channel((-dweight / m * scale).astype(g.dtype), g.ndim), out=gx)
    dx += np.multiply(g, _per_channel(scale.astype(g.dtype), g.ndim))
    dx -= _per_channel((dbias / m * scale).astype(g.dtype), g.ndim)
    return dx, dweight.astype(g.dtype), dbias.astype(g.dtype)
