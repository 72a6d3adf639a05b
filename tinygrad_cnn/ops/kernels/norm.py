"""Batch normalization's training-mode forward and backward in few passes over the batch.

Arrays are (N, C, ...) in any memory order (a conv's output lies batch-innermost). Per-channel
sums and dot products run on a (A, C, B) view of the memory when there is one (a product with
ones, numpy's vecdot), so no temporary is written for them; elementwise passes keep the input's
memory order.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .reduce import ones, sum_axes
from .select import has_twin


class SavedInput(NamedTuple):
    """What the compiled forward keeps for the backward instead of the centred input: the input
    itself (saved anyway) and the mean in float64."""
    x: np.ndarray
    mean: np.ndarray


def channel_view(a: np.ndarray, order: list[int] | None = None) -> np.ndarray | None:
    """``a``'s memory as (A, C, B): the axes stored before the channel axis, the channel axis, the
    axes after it; None when the memory is not one contiguous block. ``order`` (axes from the
    outermost in memory) makes views of several arrays match element for element.
    Shape: -> (A, C, B)."""
    order = memory_order(a) if order is None else order
    moved = a.transpose(order)
    if not moved.flags.c_contiguous:
        return None
    p = order.index(1)
    return moved.reshape(int(np.prod(moved.shape[:p])), a.shape[1], -1)


def memory_order(a: np.ndarray) -> list[int]:
    """``a``'s axes from the largest stride to the smallest."""
    return sorted(range(a.ndim), key=lambda ax: a.strides[ax], reverse=True)


def channel_sum(a: np.ndarray) -> np.ndarray:
    """The sum over every axis but 1. Shape: (N, C, ...) -> (C,).

    >>> channel_sum(np.ones((2, 3, 4))).tolist()
    [8.0, 8.0, 8.0]
    """
    v = channel_view(a) if a.dtype.kind == "f" else None
    if v is None or v.shape[2] < 16:
        return sum_axes(a, (0,) + tuple(range(2, a.ndim)), False)
    return (v.reshape(-1, v.shape[2]) @ ones(v.shape[2], a.dtype.str)).reshape(v.shape[:2]).sum(axis=0)


def channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum(a * b)`` per channel without writing the product. Shape: (N, C, ...) twice -> (C,).

    >>> channel_dot(np.ones((2, 3)), np.full((2, 3), 2.0)).tolist()
    [4.0, 4.0, 4.0]
    """
    order = memory_order(a)  # b viewed in a's order, so that the views match element for element
    va, vb = channel_view(a, order), channel_view(b, order)
    if va is None or vb is None:
        return channel_sum(a * b)
    return np.vecdot(va, vb).sum(axis=0)


def _centre(x: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return x - _per_channel(mean, x)  # _per_channel casts the mean to x's dtype


def _per_channel(v: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return v.astype(ref.dtype, copy=False).reshape((1, -1) + (1,) * (ref.ndim - 2))


@has_twin
def bn_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
               ) -> tuple[np.ndarray, np.ndarray | SavedInput, np.ndarray, np.ndarray]:
    """Normalize ``x`` per channel by the batch's mean and biased variance, then scale and shift.
    Returns the output, what the backward needs (the centred input here, a :class:`SavedInput`
    from the twin), the mean and the biased variance. Shape: (N, C, ...) -> (N, C, ...), centred
    alike, (C,), (C,).

    >>> y, centred, mean, var = bn_forward(np.array([[1.0], [3.0]]), None, None, 0.0)
    >>> y.ravel().tolist(), mean.tolist(), var.tolist()
    ([-1.0, 1.0], [2.0], [1.0])
    """
    m = x.size // x.shape[1]
    mean = channel_sum(x) / m
    centred = x - _per_channel(mean, x)
    var = channel_dot(centred, centred) / m
    scale = 1.0 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    y = np.multiply(centred, _per_channel(scale, x))
    if bias is not None:
        y += _per_channel(bias, x)
    return y, centred, mean, var


@has_twin
def bn_backward(g: np.ndarray, centred: np.ndarray | SavedInput, var: np.ndarray, weight: np.ndarray | None,
                eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`bn_forward`'s output with respect to the input, the weight and the
    bias: ``dx = w/sigma * (g - mean(g) - xhat * mean(g * xhat))`` with ``xhat = centred/sigma``,
    the means per channel. Shape: g, centred (N, C, ...), var (C,) -> (N, C, ...), (C,), (C,).

    >>> dx, dw, db = bn_backward(np.array([[1.0], [1.0]]), np.array([[-1.0], [1.0]]), np.array([1.0]), None, 0.0)
    >>> dx.ravel().tolist(), dw.tolist(), db.tolist()
    ([0.0, 0.0], [0.0], [2.0])
    """
    if isinstance(centred, SavedInput):  # the twin made the forward, and numpy runs the backward
        centred = _centre(*centred)
    m = g.size // g.shape[1]
    invstd = 1.0 / np.sqrt(var + eps)
    dbias = channel_sum(g)
    dweight = channel_dot(g, centred) * invstd
    scale = invstd if weight is None else invstd * weight
    # dx = scale*g - (scale*invstd*dweight/m) * centred - scale*dbias/m, in three passes
    dx = np.multiply(centred, _per_channel(scale * invstd * dweight / m, g))
    dx += _per_channel(scale * dbias / m, g)
    np.subtract(np.multiply(g, _per_channel(scale, g)), dx, out=dx)
    return dx, dweight.astype(g.dtype), dbias.astype(g.dtype)
