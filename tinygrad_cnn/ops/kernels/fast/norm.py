"""Batch normalization's twins: the forward in three passes over the memory (sum, centred squares,
output), the backward in two (two sums, the input gradient), where numpy makes five and six.

Both run on the (A, C, B) view of the memory (``norm.channel_view``); the output takes the
input's memory order. The statistics are accumulated in float64.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import select
from ..norm import SavedInput, channel_view, memory_order
from . import REDUCE_MATH, floats, jit


@jit(REDUCE_MATH)
def _stats(v: np.ndarray) -> tuple:
    n_a, n_c, n_b = v.shape
    total = np.zeros(n_c)
    for a in range(n_a):
        for c in range(n_c):
            acc = 0.0
            for b in range(n_b):
                acc += v[a, c, b]
            total[c] += acc
    mean = total / (n_a * n_b)
    squares = np.zeros(n_c)
    for a in range(n_a):
        for c in range(n_c):
            mu, acc = mean[c], 0.0
            for b in range(n_b):
                d = v[a, c, b] - mu
                acc += d * d
            squares[c] += acc
    return mean, squares / (n_a * n_b)


@jit()
def _normalize(v: np.ndarray, mean: np.ndarray, scale: np.ndarray, shift: np.ndarray, out: np.ndarray) -> None:
    n_a, n_c, n_b = v.shape
    for a in range(n_a):
        for c in range(n_c):
            mu, s, t = mean[c], scale[c], shift[c]
            for b in range(n_b):
                out[a, c, b] = (v[a, c, b] - mu) * s + t


@jit(REDUCE_MATH)
def _grad_sums(vg: np.ndarray, vx: np.ndarray, mean: np.ndarray) -> tuple:
    n_a, n_c, n_b = vg.shape
    sum_g, sum_gc = np.zeros(n_c), np.zeros(n_c)
    for a in range(n_a):
        for c in range(n_c):
            mu, acc_g, acc_gc = mean[c], 0.0, 0.0
            for b in range(n_b):
                gv = vg[a, c, b]
                acc_g += gv
                acc_gc += gv * (vx[a, c, b] - mu)
            sum_g[c] += acc_g
            sum_gc[c] += acc_gc
    return sum_g, sum_gc


@jit()
def _input_grad(vg: np.ndarray, vx: np.ndarray, mean: np.ndarray, scale: np.ndarray, shift: np.ndarray,
                slope: np.ndarray, out: np.ndarray) -> None:
    n_a, n_c, n_b = vg.shape
    for a in range(n_a):
        for c in range(n_c):
            mu, s, t, k = mean[c], scale[c], shift[c], slope[c]
            for b in range(n_b):
                out[a, c, b] = s * vg[a, c, b] - t - k * (vx[a, c, b] - mu)


def _views(x: np.ndarray, *others: np.ndarray) -> list | None:
    """(A, C, B) views of ``x`` and of ``others`` (same shape) that match element for element, and
    a fresh array in ``x``'s memory order with its view; None when one is not a contiguous block."""
    order = memory_order(x)
    out = np.empty(tuple(x.shape[a] for a in order), x.dtype).transpose(np.argsort(order))
    views = [channel_view(a, order) for a in (x,) + others + (out,)]
    return None if any(v is None for v in views) else [out] + views


def bn_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float) -> Any:
    """Twin of ``norm.bn_forward``; keeps a :class:`SavedInput` instead of the centred input."""
    found = _views(x) if floats(x) and x.ndim >= 2 else None
    # short runs per channel (BatchNorm1d's (N, C)): numpy's is faster, unless the tests ask for every size
    if found is None or found[1].shape[2] < min(16, select.MIN_SIZE):
        return NotImplemented
    out, v, vo = found
    mean, var = _stats(v)
    scale = 1.0 / np.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = np.zeros_like(mean) if bias is None else bias.astype(np.float64)
    _normalize(v, mean, scale, shift, vo)
    return out, SavedInput(x, mean), mean.astype(x.dtype), var.astype(x.dtype)


def bn_backward(g: np.ndarray, saved: Any, var: np.ndarray, weight: np.ndarray | None, eps: float) -> Any:
    """Twin of ``norm.bn_backward`` for a forward made by the twin:
    ``dx = w*invstd * (g - sum(g)/m - xhat * sum(g*xhat)/m)``."""
    if not isinstance(saved, SavedInput) or g.dtype != saved.x.dtype:
        return NotImplemented
    x, mean = saved
    found = _views(x, g)
    if found is None:  # e.g. g NCHW after a flatten's backward, while x is batch-innermost: one copy
        found = _views(x, _copy_like(g, x))
    if found is None:
        return NotImplemented
    dx, vx, vg, vdx = found
    m = g.size // g.shape[1]
    sum_g, sum_gc = _grad_sums(vg, vx, mean)
    invstd = 1.0 / np.sqrt(var.astype(np.float64) + eps)
    scale = invstd if weight is None else invstd * weight
    _input_grad(vg, vx, mean, scale, scale * sum_g / m, scale * invstd * invstd * sum_gc / m, vdx)
    return dx, (sum_gc * invstd).astype(g.dtype), sum_g.astype(g.dtype)


def _copy_like(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    order = memory_order(ref)
    out = np.empty(tuple(ref.shape[i] for i in order), ref.dtype).transpose(np.argsort(order))
    out[...] = a
    return out
