"""Depthwise convolution's twins (one input channel per group, any channel multiplier): the
forward, the input gradient and the weight gradient as direct loops, where the GEMM kernels run
one tiny matrix product per group.

The loops take images whose batch is innermost in memory, as the (C, H, W, N) or (H, C, W, N)
block they lie in (``rows_first``), and run the innermost loop over the contiguous batch. Images
they make are rows-outermost, (H, C, W, N), like the GEMM kernels' (``kernels/__init__.py``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..geometry import ConvGeometry
from . import REDUCE_MATH, block, floats, jit, rows_outer, window_sizes


def _depthwise(geo: ConvGeometry, x: np.ndarray) -> bool:
    return geo.groups == x.shape[1] and geo.groups > 1


@jit()
def depthwise_forward(x: np.ndarray, x_rows: bool, w: np.ndarray, out: np.ndarray, kh: int, kw: int, sh: int,
                      sw: int, dh: int, dw: int, pt: int, pl: int, h: int, wd: int, ho: int, wo: int) -> None:
    """out (H', F, W', N) += the depthwise convolution of x by w (F, 1, kh, kw); also average
    pooling's window sum, with w all ones."""
    n_f, m, n = w.shape[0], w.shape[0] // (x.shape[1] if x_rows else x.shape[0]), x.shape[3]
    for f in range(n_f):
        c = f // m
        for oh in range(ho):
            for i in range(kh):
                ih = oh * sh + i * dh - pt
                if 0 <= ih < h:
                    a0, a1 = (ih, c) if x_rows else (c, ih)
                    for ow in range(wo):
                        for j in range(kw):
                            iw = ow * sw + j * dw - pl
                            if 0 <= iw < wd:
                                k = w[f, 0, i, j]
                                for q in range(n):
                                    out[oh, f, ow, q] += k * x[a0, a1, iw, q]


@jit()
def depthwise_input_grad(g: np.ndarray, g_rows: bool, w: np.ndarray, out: np.ndarray, kh: int, kw: int, sh: int,
                         sw: int, dh: int, dw: int, pt: int, pl: int, h: int, wd: int, ho: int, wo: int) -> None:
    """out (H, C, W, N) += the depthwise convolution's input gradient for g; also average
    pooling's fold, with w all ones."""
    n_f, n_c, n = w.shape[0], out.shape[1], g.shape[3]
    m = n_f // n_c
    for f in range(n_f):
        c = f // m
        for oh in range(ho):
            b0, b1 = (oh, f) if g_rows else (f, oh)
            for i in range(kh):
                ih = oh * sh + i * dh - pt
                if 0 <= ih < h:
                    for ow in range(wo):
                        for j in range(kw):
                            iw = ow * sw + j * dw - pl
                            if 0 <= iw < wd:
                                k = w[f, 0, i, j]
                                for q in range(n):
                                    out[ih, c, iw, q] += k * g[b0, b1, ow, q]


@jit(REDUCE_MATH)
def _weight_grad(x: np.ndarray, x_rows: bool, g: np.ndarray, g_rows: bool, out: np.ndarray, kh: int, kw: int,
                 sh: int, sw: int, dh: int, dw: int, pt: int, pl: int, h: int, wd: int, ho: int, wo: int) -> None:
    n_f, n = out.shape[0], x.shape[3]
    m = n_f // (x.shape[1] if x_rows else x.shape[0])
    acc = np.zeros((kh, kw))
    for f in range(n_f):
        c = f // m
        acc[:] = 0.0
        for oh in range(ho):  # each gradient row is read while in cache by every kernel offset
            b0, b1 = (oh, f) if g_rows else (f, oh)
            for i in range(kh):
                ih = oh * sh + i * dh - pt
                if 0 <= ih < h:
                    a0, a1 = (ih, c) if x_rows else (c, ih)
                    for ow in range(wo):
                        for j in range(kw):
                            iw = ow * sw + j * dw - pl
                            if 0 <= iw < wd:
                                s = 0.0
                                for q in range(n):
                                    s += g[b0, b1, ow, q] * x[a0, a1, iw, q]
                                acc[i, j] += s
        for i in range(kh):
            for j in range(kw):
                out[f, 0, i, j] = acc[i, j]


def conv_forward(x: np.ndarray, w: np.ndarray, geo: ConvGeometry, bias: np.ndarray | None = None) -> Any:
    """Twin of ``conv.conv_forward`` for depthwise convolutions; no windows are kept (None)."""
    xb = block(x) if _depthwise(geo, x) and floats(x, w) else None
    if xb is None:
        return NotImplemented
    out, mem = rows_outer(x.shape[0], w.shape[0], *geo.out_hw, x.dtype)
    if bias is not None:
        mem += bias.reshape(1, -1, 1, 1)
    depthwise_forward(xb[0], xb[1], w, mem, *window_sizes(geo))
    return out, None


def conv_transpose(y: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> Any:
    """Twin of ``conv.conv_transpose`` for depthwise convolutions."""
    yb = block(y) if geo.groups > 1 and w.shape[1] == 1 and floats(y, w) else None
    if yb is None:
        return NotImplemented
    out, mem = rows_outer(y.shape[0], geo.groups, *geo.in_hw, y.dtype)
    depthwise_input_grad(yb[0], yb[1], w, mem, *window_sizes(geo))
    return out


def conv_weight(x: np.ndarray, y: np.ndarray, geo: ConvGeometry, windows: np.ndarray | None = None) -> Any:
    """Twin of ``conv.conv_weight`` for depthwise convolutions."""
    xb, yb = (block(x), block(y)) if _depthwise(geo, x) and floats(x, y) else (None, None)
    if xb is None or yb is None:
        return NotImplemented
    out = np.empty((y.shape[1], 1) + geo.kernel, x.dtype)
    _weight_grad(xb[0], xb[1], yb[0], yb[1], out, *window_sizes(geo))
    return out
