"""Average pooling's twins: a window sum is a depthwise convolution with a kernel of ones, and its
fold that convolution's input gradient, so they run the depthwise loops of ``fast/conv.py``.
Max pooling stays numpy's: loops for its maximum-and-offset pass and for its backward were no
faster than ``pool.argmax_windows`` and ``pool.place`` (benchmarks/README.md).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..geometry import PoolGeometry
from . import block, floats, rows_outer, window_sizes
from .conv import depthwise_forward, depthwise_input_grad


def _ones(c: int, geo: PoolGeometry, dtype: Any) -> np.ndarray:
    return np.ones((c, 1) + geo.kernel, dtype)


def window_sum(x: Any, geo: PoolGeometry) -> Any:
    """Twin of ``pool.window_sum``. Images it makes are rows-outermost, (H, C, W, N)."""
    xb = block(x) if floats(x) else None
    if xb is None:
        return NotImplemented
    out, mem = rows_outer(x.shape[0], x.shape[1], *geo.out_hw, x.dtype)
    depthwise_forward(xb[0], xb[1], _ones(x.shape[1], geo, x.dtype), mem, *window_sizes(geo))
    return out


def window_fold(g: Any, geo: PoolGeometry) -> Any:
    """Twin of ``pool.window_fold``."""
    gb = block(g) if floats(g) else None
    if gb is None:
        return NotImplemented
    out, mem = rows_outer(g.shape[0], g.shape[1], *geo.in_hw, g.dtype)
    depthwise_input_grad(gb[0], gb[1], _ones(g.shape[1], geo, g.dtype), mem, *window_sizes(geo))
    return out
