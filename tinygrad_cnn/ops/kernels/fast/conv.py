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
from ..layout import batch_innermost
from . import REDUCE_MATH, floats, jit


def _block(a: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """``a`` (N, C, H, W) as its C-contiguous memory block (C, H, W, N) or (H, C, W, N) and whether
    rows come first; None when it lies otherwise."""
    a = batch_innermost(a)
    for order, rows_first in (((1, 2, 3, 0), False), ((2, 1, 3, 0), True)):
        block = a.transpose(order)
        if block.flags.c_contiguous:
            return block, rows_first
    return None


def _depthwise(geo: ConvGeometry, x: np.ndarray) -> bool:
    return geo.groups == x.shape[1] and geo.groups > 1


def _sizes(geo: ConvGeometry) -> tuple:
    return geo.kernel + geo.stride + geo.dilation + (geo.pads[0], geo.pads[2]) + geo.in_hw + geo.out_hw


@jit()
def _forward(x: np.ndarray, x_rows: bool, w: np.ndarray, out: np.ndarray, kh: int, kw: int, sh: int, sw: int,
             dh: int, dw: int, pt: int, pl: int, h: int, wd: int, ho: int, wo: int) -> None:
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
def _input_grad(g: np.ndarray, g_rows: bool, w: np.ndarray, out: np.ndarray, kh: int, kw: int, sh: int, sw: int,
                dh: int, dw: int, pt: int, pl: int, h: int, wd: int, ho: int, wo: int) -> None:
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
    for f in range(n_f):
        c = f // m
        for i in range(kh):
            for j in range(kw):
                acc = 0.0
                for oh in range(ho):
                    ih = oh * sh + i * dh - pt
                    if 0 <= ih < h:
                        a0, a1 = (ih, c) if x_rows else (c, ih)
                        b0, b1 = (oh, f) if g_rows else (f, oh)
                        for ow in range(wo):
                            iw = ow * sw + j * dw - pl
                            if 0 <= iw < wd:
                                for q in range(n):
                                    acc += g[b0, b1, ow, q] * x[a0, a1, iw, q]
                out[f, 0, i, j] = acc


def conv_forward(x: np.ndarray, w: np.ndarray, geo: ConvGeometry, bias: np.ndarray | None = None) -> Any:
    """Twin of ``conv.conv_forward`` for depthwise convolutions; no windows are kept (None)."""
    xb = _block(x) if _depthwise(geo, x) and floats(x, w) else None
    if xb is None:
        return NotImplemented
    (ho, wo), f, n = geo.out_hw, w.shape[0], x.shape[0]
    out = np.zeros((ho, f, wo, n), x.dtype)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    _forward(xb[0], xb[1], w, out, *_sizes(geo))
    return out.transpose(3, 1, 0, 2), None


def conv_transpose(y: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> Any:
    """Twin of ``conv.conv_transpose`` for depthwise convolutions."""
    n_c = geo.groups
    yb = _block(y) if geo.groups > 1 and w.shape[1] == 1 and floats(y, w) else None
    if yb is None:
        return NotImplemented
    (h, wd), n = geo.in_hw, y.shape[0]
    out = np.zeros((h, n_c, wd, n), y.dtype)
    _input_grad(yb[0], yb[1], w, out, *_sizes(geo))
    return out.transpose(3, 1, 0, 2)


def conv_weight(x: np.ndarray, y: np.ndarray, geo: ConvGeometry, windows: np.ndarray | None = None) -> Any:
    """Twin of ``conv.conv_weight`` for depthwise convolutions."""
    xb, yb = (_block(x), _block(y)) if _depthwise(geo, x) and floats(x, y) else (None, None)
    if xb is None or yb is None:
        return NotImplemented
    out = np.empty((y.shape[1], 1) + geo.kernel, x.dtype)
    _weight_grad(xb[0], xb[1], yb[0], yb[1], out, *_sizes(geo))
    return out
