"""Memory layouts of image arrays.

Internally images are laid out batch innermost, (C, H, W, N) or, for a conv's output, (H, C, W, N):
then every window slab and every kernel-offset slice is a run of W'*N contiguous floats, which
numpy copies and adds far faster than the (.., W') runs of the NCHW layout (measured 2-4x on
LeNet shapes); the kernels only rely on the batch being innermost. Results are returned
as NCHW-shaped *views* of that memory: elementwise ops and pooling keep the layout (see
``full_like_layout``), so the next conv finds its input already batch-innermost and no
transposing copy is made between layers.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def full_like_layout(shape: tuple, ref: np.ndarray, value: float | None = 0.0, dtype: Any = None) -> np.ndarray:
    """An array of ``shape`` filled with ``value`` (left uninitialised for None: the caller writes
    every element) whose memory order of axes is that of ``ref`` (e.g. batch innermost when ``ref``
    came from a conv). Shape: ``shape`` (same rank as ``ref``)."""
    order = _axis_order(ref)
    dtype = dtype or ref.dtype
    make = (lambda s: np.empty(s, dtype)) if value is None else (lambda s: np.full(s, value, dtype))
    if order == list(range(ref.ndim)):
        return make(shape)
    return make(tuple(shape[a] for a in order)).transpose(np.argsort(order))


def like_layout(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``a`` itself when its memory order of axes is ``ref``'s, else a copy in ``ref``'s order.
    Elementwise numpy over two arrays of different memory orders is 5-15x slower than over two
    of the same (measured on pooling's gradients), so one copy of the smaller input pays off.
    Shape: unchanged."""
    order = _axis_order(ref)
    if a.shape != ref.shape or _axis_order(a) == order:
        return a
    return np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


def _axis_order(a: np.ndarray) -> list[int]:
    """Axes from the largest stride to the smallest; size-1 axes (whose stride means nothing) first."""
    return sorted(range(a.ndim), key=lambda ax: (a.shape[ax] == 1, abs(a.strides[ax])), reverse=True)


def batch_innermost(a: np.ndarray) -> np.ndarray:
    """``a`` (N, C, H, W) moved to the batch-innermost layout when that gives much longer contiguous
    runs than its rows (a batch at least twice the width), else ``a`` itself. Pooling a 64x16x10x10
    NCHW batch this way, the copy included, took 0.36 ms instead of 0.51 ms; for 64x3x64x64 it
    would double the time, hence the rule. Shape: unchanged.

    >>> batch_innermost(np.zeros((64, 2, 4, 4))).strides
    (8, 8192, 2048, 512)
    """
    if a.ndim != 4 or a.shape[0] < 2 * a.shape[3] or _axis_order(a)[-1] == 0:
        return a
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
