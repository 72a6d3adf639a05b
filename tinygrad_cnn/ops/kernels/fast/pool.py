"""Average pooling's twins: the window sum and its fold, each window visited once per output
element. Max pooling stays numpy's: loops for its maximum-and-offset pass and for its backward
were no faster than ``pool.argmax_windows`` and ``pool.place`` (benchmarks/README.md).

They take images whose batch is innermost in memory, as the (C, H, W, N) or (H, C, W, N) block
they lie in (``fast.block``), and run the innermost loop over the contiguous batch. Images they
make are rows-outermost, (H, C, W, N), as the conv kernels'.
"""
from __future__ import annotations

from typing import Any

from ..geometry import PoolGeometry
from . import block, floats, jit, rows_outer


def _sizes(geo: PoolGeometry) -> tuple:
    return geo.kernel + geo.stride + (geo.pads[0], geo.pads[2]) + geo.in_hw + geo.out_hw


@jit()
def _window_sum(x: Any, x_rows: bool, out: Any, kh: int, kw: int, sh: int, sw: int, pt: int, pl: int, h: int,
                w: int, ho: int, wo: int) -> None:
    n_c, n = out.shape[1], x.shape[3]
    for c in range(n_c):
        for oh in range(ho):
            for i in range(kh):
                ih = oh * sh + i - pt
                if 0 <= ih < h:
                    a0, a1 = (ih, c) if x_rows else (c, ih)
                    for ow in range(wo):
                        for j in range(kw):
                            iw = ow * sw + j - pl
                            if 0 <= iw < w:
                                for q in range(n):
                                    out[oh, c, ow, q] += x[a0, a1, iw, q]


@jit()
def _window_fold(g: Any, g_rows: bool, out: Any, kh: int, kw: int, sh: int, sw: int, pt: int, pl: int, h: int,
                 w: int, ho: int, wo: int) -> None:
    n_c, n = out.shape[1], g.shape[3]
    for c in range(n_c):
        for oh in range(ho):
            b0, b1 = (oh, c) if g_rows else (c, oh)
            for i in range(kh):
                ih = oh * sh + i - pt
                if 0 <= ih < h:
                    for ow in range(wo):
                        for j in range(kw):
                            iw = ow * sw + j - pl
                            if 0 <= iw < w:
                                for q in range(n):
                                    out[ih, c, iw, q] += g[b0, b1, ow, q]


def window_sum(x: Any, geo: PoolGeometry) -> Any:
    """Twin of ``pool.window_sum`` (no dilation: average pooling has none)."""
    xb = block(x) if floats(x) and geo.dilation == (1, 1) else None
    if xb is None:
        return NotImplemented
    out, mem = rows_outer(x.shape[0], x.shape[1], *geo.out_hw, x.dtype)
    _window_sum(xb[0], xb[1], mem, *_sizes(geo))
    return out


def window_fold(g: Any, geo: PoolGeometry) -> Any:
    """Twin of ``pool.window_fold``."""
    gb = block(g) if floats(g) and geo.dilation == (1, 1) else None
    if gb is None:
        return NotImplemented
    out, mem = rows_outer(g.shape[0], g.shape[1], *geo.in_hw, g.dtype)
    _window_fold(gb[0], gb[1], mem, *_sizes(geo))
    return out
