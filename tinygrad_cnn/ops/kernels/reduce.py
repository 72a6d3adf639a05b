"""Fast sums: a reduction over the innermost memory runs as a matrix-vector product with ones."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np


@functools.lru_cache(maxsize=8)
def ones(n: int, dtype: str) -> np.ndarray:
    """A read-only vector of ones, kept: filling a fresh one costs as much as the product itself.
    Shape: (n,).

    >>> ones(3, "<f4").tolist()
    [1.0, 1.0, 1.0]
    """
    vector = np.ones(n, dtype)
    vector.flags.writeable = False
    return vector


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


_add_reduce: Any = np.add.reduce  # np.sum's Python wrapper costs a tiny sum half its time


def sum_axes(a: np.ndarray, axes: tuple, keepdim: bool) -> np.ndarray:
    """``np.sum(a, axes)``; but over float memory laid in one block, as products with ones, run by
    run of axes adjacent in memory (:func:`_sum_runs`): several times faster than numpy's
    reduction for a conv's bias gradient over its batch-innermost output, or a global average
    pool over rows-outermost (H, C, W, N) memory. Shape: ``a.shape`` without (or with size 1 at) ``axes``.

    >>> sum_axes(np.ones((2, 3)), (1,), False).tolist()
    [3.0, 3.0]
    """
    kept = [ax for ax in range(a.ndim) if ax not in axes]
    # large: BLAS is faster; float32 with long sums: the blocked sums are more accurate than numpy's
    if a.dtype.kind == "f" and kept and axes and (a.size >= 8192 or a.dtype == np.float32 and a.size > 512 and
                                                  a.size // max(1, int(np.prod([a.shape[k] for k in kept]))) > 512):
        out = _sum_in_memory_order(a, axes, kept)
        if out is not None:
            return out.reshape(_keep_shape(a.shape, axes)) if keepdim else np.ascontiguousarray(out)
    if a.dtype == np.float32 and not kept and a.size > 4 * _BLOCK:  # a whole-array float32 sum: in float64
        return np.asarray(np.sum(a, axis=axes, keepdims=keepdim, dtype=np.float64), dtype=np.float32)
    return _add_reduce(a, axis=axes, keepdims=keepdim)


def _sum_in_memory_order(a: np.ndarray, axes: tuple, kept: list) -> np.ndarray | None:
    """``a`` summed over ``axes`` by :func:`_sum_runs` on its axes in memory order, the kept axes
    back in their order; None when ``a``'s memory is not one block. Shape: ``a.shape`` without ``axes``."""
    order = sorted(range(a.ndim), key=lambda ax: a.strides[ax], reverse=True)
    moved = a.transpose(order)
    if not moved.flags.c_contiguous:
        return None
    out = _sum_runs(moved, [ax in axes for ax in order])
    in_memory = [ax for ax in order if ax not in axes]
    return out.transpose(np.argsort([kept.index(ax) for ax in in_memory]))


def _sum_runs(m: np.ndarray, summed: list) -> np.ndarray:
    """Sum C-contiguous ``m`` over the axes flagged in ``summed``, from the innermost, viewed as
    (outer, run, inner): a matrix times ones when nothing is inner (the innermost summed axes as
    one run: BLAS keeps many partial sums across a row), else ones times a matrix per outer
    index, one axis at a time (each output adds its run in order, so runs stay as short as the
    axes, for float32's sake). Shape: ``m.shape`` without the summed axes.

    >>> _sum_runs(np.ones((2, 3, 4)), [True, False, True]).tolist()
    [8.0, 8.0, 8.0]
    """
    shape, flags = list(m.shape), list(summed)
    while any(flags):
        end = max(i for i, f in enumerate(flags) if f) + 1
        start = end - 1
        while start > 0 and flags[start - 1] and end == len(flags):
            start -= 1
        outer, run, inner = (int(np.prod(shape[:start])), int(np.prod(shape[start:end])),
                             int(np.prod(shape[end:])))
        m = _sum_middle(m.reshape(outer, run, inner))
        shape, flags = shape[:start] + shape[end:], flags[:start] + flags[end:]
        m = m.reshape(shape)
    return m


_BLOCK = 512  # long float32 sums go in blocks of this (a quarter of it for column sums), whose sums add in float64


def _sum_middle(m: np.ndarray) -> np.ndarray:
    """Sum (outer, run, inner) over ``run``; a long float32 run in blocks (each a product with ones)
    whose partial sums add up in float64: an error like a block's, not the whole run's, as
    PyTorch's cascade sum. Shape: (outer, run, inner) -> (outer, inner).

    >>> _sum_middle(np.ones((2, 3000, 3), np.float32)).tolist()[0]
    [3000.0, 3000.0, 3000.0]
    """
    outer, run, inner = m.shape
    # a row's dot product keeps many partial sums in BLAS; a column sum adds in order
    if inner == 1 and m.dtype == np.float32 and run > _BLOCK:
        return _row_sums(m.reshape(outer, run)).reshape(outer, 1)
    block = _BLOCK // 4
    if m.dtype != np.float32 or run <= 4 * block:
        return _ones_product(m)
    k = run // block
    s0, s1, s2 = m.strides  # the whole blocks as (outer, k, block, inner), a view
    blocks = np.lib.stride_tricks.as_strided(m, (outer, k, block, inner), (s0, block * s1, s1, s2), writeable=False)
    v = ones(block, m.dtype.str)
    partial = blocks[..., 0] @ v if inner == 1 else np.matmul(v[None, :], blocks)
    total = partial.reshape(outer, k, inner).sum(axis=1, dtype=np.float64)
    if run % block:
        total += _ones_product(m[:, k * block:])
    return total.astype(np.float32)


def _row_sums(m: np.ndarray) -> np.ndarray:
    """Row sums of a C-contiguous float32 (outer, run) matrix: rows cut into equal blocks of 128 to
    512 (one matrix-vector product over all of them, as a view) whose sums add in float64; numpy's
    pairwise sum when no such block divides the run. Shape: (outer,)."""
    outer, run = m.shape
    block = next((b for b in range(_BLOCK, _BLOCK // 4 - 1, -1) if run % b == 0), 0)
    if not block:
        return np.add.reduce(m, axis=1)
    partial = m.reshape(outer * (run // block), block) @ ones(block, m.dtype.str)
    return partial.reshape(outer, run // block).sum(axis=1, dtype=np.float64).astype(np.float32)


def _ones_product(m: np.ndarray) -> np.ndarray:
    """(outer, run, inner) summed over ``run`` as a product with ones. Shape: (outer, inner)."""
    outer, run, inner = m.shape
    v = ones(run, m.dtype.str)
    if inner == 1:
        return (m.reshape(outer, run) @ v).reshape(outer, 1)
    if outer == 1:
        return (v @ m.reshape(run, inner)).reshape(1, inner)
    return np.matmul(v[None, :], m).reshape(outer, inner)
