"""Average pooling's twins: the window sum and its fold, each window visited once per output
element. Max pooling stays numpy's: loops for its maximum-and-offset pass and for its backward
were no faster than ``pool.argmax_windows`` and ``pool.place`` (benchmarks/README.md).

They take images whose batch is innermost in memory (a conv's output is; an NCHW input with a
batch at least twice its width is moved there first, as the numpy kernels do) and loop over the
contiguous run of the batch innermost. An image is handed to the loops as its flat memory and
the element strides of its channel, row and column axes (``_Planes``), so the innermost loop
reads one unit-stride run. Outputs take the input's memory order.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..geometry import PoolGeometry
from ..layout import batch_innermost, full_like_layout
from . import floats, jit


class _Planes(NamedTuple):
    flat: np.ndarray
    steps: tuple  # element strides of the channel, row and column axes (the batch's is 1)


def _planes(a: np.ndarray) -> _Planes | None:
    """``a`` (N, C, H, W) as its flat memory and axis steps; None unless the batch is innermost
    (stride one element, or a batch of one) in one contiguous block."""
    if a.shape[0] != 1 and a.strides[0] != a.itemsize:
        return None
    flat = a.ravel(order="K")
    if flat.size and not np.shares_memory(flat, a):
        return None
    return _Planes(flat, tuple(s // a.itemsize for s in a.strides[1:]))


def _geometry(geo: PoolGeometry) -> tuple:
    return geo.kernel + geo.stride + geo.dilation + (geo.pads[0], geo.pads[2])


@jit()
def _window_sum(x: np.ndarray, xs: tuple, out: np.ndarray, os: tuple, shape: tuple, kh: int, kw: int, sh: int,
                sw: int, dh: int, dw: int, pt: int, pl: int) -> None:
    n, c, h, w, ho, wo = shape
    acc = np.empty(n, x.dtype)
    for p in range(c):
        for oh in range(ho):
            for ow in range(wo):
                acc[:] = 0.0
                for i in range(kh):
                    ih = oh * sh + i * dh - pt
                    for j in range(kw):
                        iw = ow * sw + j * dw - pl
                        if 0 <= ih < h and 0 <= iw < w:
                            row = x[p * xs[0] + ih * xs[1] + iw * xs[2]:][:n]
                            for q in range(n):
                                acc[q] += row[q]
                o = p * os[0] + oh * os[1] + ow * os[2]
                out[o:o + n] = acc


@jit()
def _window_fold(g: np.ndarray, gs: tuple, canvas: np.ndarray, cs: tuple, shape: tuple, kh: int, kw: int, sh: int,
                 sw: int, dh: int, dw: int, pt: int, pl: int) -> None:
    n, c, h, w, ho, wo = shape
    for p in range(c):
        for oh in range(ho):
            for ow in range(wo):
                gr = g[p * gs[0] + oh * gs[1] + ow * gs[2]:][:n]
                for i in range(kh):
                    ih = oh * sh + i * dh - pt
                    for j in range(kw):
                        iw = ow * sw + j * dw - pl
                        if 0 <= ih < h and 0 <= iw < w:
                            row = canvas[p * cs[0] + ih * cs[1] + iw * cs[2]:][:n]
                            for q in range(n):
                                row[q] += gr[q]


def _shape(geo: PoolGeometry, n: int, c: int) -> tuple:
    return (n, c) + geo.in_hw + geo.out_hw


def window_sum(x: np.ndarray, geo: PoolGeometry) -> Any:
    """Twin of ``pool.window_sum``."""
    x = batch_innermost(x)
    xp = _planes(x) if floats(x) else None
    out = full_like_layout(x.shape[:2] + geo.out_hw, x, None)
    op = _planes(out)
    if xp is None or op is None:
        return NotImplemented
    _window_sum(xp.flat, xp.steps, op.flat, op.steps, _shape(geo, *x.shape[:2]), *_geometry(geo))
    return out


def window_fold(g: np.ndarray, geo: PoolGeometry) -> Any:
    """Twin of ``pool.window_fold``."""
    g = batch_innermost(g)
    gp = _planes(g) if floats(g) else None
    canvas = full_like_layout(g.shape[:2] + geo.in_hw, g, 0.0)
    cp = _planes(canvas)
    if gp is None or cp is None:
        return NotImplemented
    _window_fold(gp.flat, gp.steps, cp.flat, cp.steps, _shape(geo, *g.shape[:2]), *_geometry(geo))
    return canvas
