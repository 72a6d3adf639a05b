"""Helpers that make and match the memory layouts described in ``kernels/__init__.py``."""
from __future__ import annotations

from typing import Any

import numpy as np


# below this many elements numpy's own choice of layout costs less than matching one
MIN_SIZE = 4096


def full_like_layout(shape: tuple, ref: np.ndarray, value: float | None = 0.0, dtype: Any = None) -> np.ndarray:
    """An array of ``shape`` filled with ``value`` (left uninitialised for None: the caller writes
    every element) whose memory order of axes is that of ``ref`` (e.g. batch innermost when ``ref``
    came from a conv). Shape: ``shape`` (same rank as ``ref``).

    >>> full_like_layout((2, 3), np.zeros((3, 2)).T).strides
    (8, 16)
    """
    order = _axis_order(ref)
    dtype = dtype or ref.dtype
    make = (lambda s: np.empty(s, dtype)) if value is None else (lambda s: np.full(s, value, dtype))
    if order == list(range(ref.ndim)):
        return make(shape)
    return make(tuple(shape[a] for a in order)).transpose(np.argsort(order))


def like_layout(a: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``a`` itself when its memory order of axes is ``ref``'s, else a copy in ``ref``'s order:
    elementwise numpy over two arrays of different memory orders is several times slower than
    over two of the same, so one copy pays off. Shape: unchanged.

    >>> ref = np.zeros((2, 3)).T
    >>> like_layout(np.ones((3, 2)), ref).strides == ref.strides
    True
    """
    order = _axis_order(ref)
    if a.shape != ref.shape or _axis_order(a) == order:
        return a
    return np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


def _axis_order(a: np.ndarray) -> list[int]:
    """Axes from the largest stride to the smallest; size-1 axes (whose stride means nothing) first."""
    return sorted(range(a.ndim), key=lambda ax: (a.shape[ax] == 1, abs(a.strides[ax])), reverse=True)


def batch_innermost(a: np.ndarray) -> np.ndarray:
    """``a`` (N, C, H, W) moved to the batch-innermost layout when that gives much longer contiguous
    runs than its rows (a batch at least twice the width: for wide images the copy costs more than
    it saves), else ``a`` itself. Shape: unchanged.

    >>> batch_innermost(np.zeros((64, 2, 4, 4))).strides
    (8, 8192, 2048, 512)
    """
    if a.ndim != 4 or a.shape[0] < 2 * a.shape[3] or _axis_order(a)[-1] == 0:
        return a
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def pad_indices(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """The source position of each output position when an axis of length ``n`` is padded by
    ``lo``/``hi`` in PyTorch's 'reflect' (mirror, edge not repeated), 'replicate' (edge repeated)
    or 'circular' (wrap around) mode. Shape: (lo + n + hi,).

    >>> pad_indices(3, 2, 1, "reflect").tolist(), pad_indices(3, 2, 1, "replicate").tolist()
    ([2, 1, 0, 1, 2, 1], [0, 0, 0, 1, 2, 2])
    """
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    assert mode == "circular", mode
    return i % n


def binary_out(fn: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The ``out=`` array of a binary ufunc: laid out as the operand of the result's shape when the
    other one is broadcast. numpy would otherwise pick a layout of its own (a pooled gradient
    expanded back against a batch-innermost mask, say), and every later op would mix layouts,
    several times slower. Shape: broadcast(x, y), or None to let numpy allocate.

    >>> x = np.ones((64, 8, 8, 8)).transpose(3, 0, 1, 2)   # batch-innermost memory
    >>> binary_out(np.add, x, np.ones(8)).strides == x.strides
    True
    """
    if not isinstance(fn, np.ufunc) or x.dtype.kind != "f" or x.ndim < 2 or max(x.size, y.size) < MIN_SIZE:
        return None
    shape = np.broadcast_shapes(x.shape, y.shape)
    full = [a for a in (x, y) if a.shape == shape and 0 not in a.strides]
    if len(full) != 1 or full[0].flags.c_contiguous:  # both full, or numpy's choice is already C order
        return None
    return np.empty_like(full[0], dtype=np.result_type(x, y))
