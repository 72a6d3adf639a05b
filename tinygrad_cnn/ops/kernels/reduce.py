"""Fast sums: a reduction over the innermost memory runs as a matrix-vector product with ones."""
from __future__ import annotations

import functools

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


def sum_axes(a: np.ndarray, axes: tuple, keepdim: bool) -> np.ndarray:
    """``np.sum(a, axes)``; but when the kept axes are the outermost in memory and the summed ones
    one long contiguous run per output (a conv's bias gradient over its batch-innermost output),
    a matrix-vector product with ones, which is several times faster than numpy's reduction.
    Shape: ``a.shape`` without (or with size 1 at) ``axes``.

    >>> sum_axes(np.ones((2, 3)), (1,), False).tolist()
    [3.0, 3.0]
    """
    kept = [ax for ax in range(a.ndim) if ax not in axes]
    if a.dtype.kind == "f" and kept and axes and a.size >= 8192:
        order = sorted(range(a.ndim), key=lambda ax: a.strides[ax], reverse=True)
        inner = order[len(kept):]
        if sorted(order[:len(kept)]) == kept and sorted(inner) == list(axes):
            moved = a.transpose(order)
            if moved.flags.c_contiguous:
                rows = moved.reshape(-1, int(np.prod([a.shape[ax] for ax in inner])))
                out = (rows @ ones(rows.shape[1], a.dtype.str)).reshape([a.shape[ax] for ax in order[:len(kept)]])
                out = out.transpose(np.argsort([kept.index(ax) for ax in order[:len(kept)]]))
                return out.reshape(_keep_shape(a.shape, axes)) if keepdim else np.ascontiguousarray(out)
    return np.sum(a, axis=axes, keepdims=keepdim)
