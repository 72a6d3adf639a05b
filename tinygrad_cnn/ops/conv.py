"""2-D convolution and its transpose as matrix products over window matrices.

No Python loop over batch, channels or pixels: the forward and the weight gradient of an
undilated conv are one batched ``np.matmul`` call over output rows, reading each row's windows in
place from a kw-shifted copy of the input (:func:`_row_windows`); dilated rows use one GEMM per
group over a full im2col matrix. The input gradient at stride 1 is a batched GEMM over blocks
of input rows, each reading the output-gradient rows it gathers from as one block in place
(:func:`_conv_transpose_stacked`), so that the column matrix is never written; at other
strides it is one GEMM per group and a col2im fold over the kernel offsets. A bias rides in the
undilated forward GEMM as one more weight column against a row of ones in the windows, whose
weight-gradient GEMM then also sums the bias gradient (:func:`_fuses_bias`).

Three primitives close under differentiation (design.md):

- ``conv2d``            y = conv(x, w)            backward: x <- conv_transpose(g, w), w <- conv2d_weight(x, g)
- ``conv_transpose``    x = conv_transpose(y, w)  backward: y <- conv(g, w),           w <- conv2d_weight(g, y)
- ``conv2d_weight``     w = conv2d_weight(x, y)   backward: x <- conv_transpose(y, g), y <- conv(x, g)

All three share a :class:`ConvGeometry` that describes the *forward convolution* (input size,
output size, kernel, stride, 4-sided padding, dilation, groups); a transposed convolution is the
adjoint of the convolution with the same geometry.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..tensor import Tensor, is_grad_enabled, make_op
from .args import pair
from .geometry import ConvGeometry, batched_input, check_4d, conv_geometry, transpose_geometry
from .reduce import _ones
from .reduce import sum as _sum
from .registry import register


# ----------------------------------------------------------------------------- numpy kernels
# (internal layout: see ops/layout.py)
def _padded(x: np.ndarray, geo: ConvGeometry, order: tuple) -> np.ndarray:
    """``x`` (N, C, H, W) zero-padded to ``geo.padded_hw``, its axes moved to ``order`` and made
    contiguous there (no copy when x already lies so and needs no padding)."""
    n, c, h, w = x.shape
    (hp, wp), (pt, _, pl, _) = geo.padded_hw, geo.pads
    moved = x.transpose(order)
    if (hp, wp) == (h, w):
        return np.ascontiguousarray(moved)
    canvas = np.zeros(tuple((n, c, hp, wp)[a] for a in order), x.dtype)
    inner = (slice(None), slice(None), slice(pt, pt + h), slice(pl, pl + w))
    canvas[tuple(inner[a] for a in order)] = moved
    return canvas


def _unpadded(canvas: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """Adjoint of :func:`_padded` for a (G, Cg, Hp, Wp, N) canvas: the input's part, as an NCHW view."""
    g, cg, hp, wp, n = canvas.shape
    (h, w), (pt, _, pl, _) = geo.in_hw, geo.pads
    return canvas.reshape(g * cg, hp, wp, n)[:, pt:pt + h, pl:pl + w, :].transpose(3, 0, 1, 2)


def _im2col(x: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """Windows of ``x`` as a (G, Cg*kh*kw, H'*W'*N) matrix: the single big contiguous copy of a conv."""
    n, c = x.shape[:2]
    xq = _padded(x, geo, (1, 2, 3, 0))  # (C, Hp, Wp, N)
    (ho, wo), (kh, kw), (sh, sw), (dh, dw) = geo.out_hw, geo.kernel, geo.stride, geo.dilation
    s = xq.strides
    win = as_strided(xq, (c, kh, kw, ho, wo, n), (s[0], s[1] * dh, s[2] * dw, s[1] * sh, s[2] * sw, s[3]),
                     writeable=False)
    return np.ascontiguousarray(win).reshape(geo.groups, (c // geo.groups) * kh * kw, ho * wo * n)


def _uses_row_windows(geo: ConvGeometry) -> bool:
    """Whether the forward and weight-gradient GEMMs run on :func:`_row_windows` (undilated rows)
    instead of the full im2col matrix."""
    return geo.dilation[0] == 1


def _row_windows(x: np.ndarray, geo: ConvGeometry, ones_row: bool = False) -> np.ndarray:
    """The im2col matrix of each output row, as a (G, H', kh*kw*Cg, W'*N) view, rows ordered
    (i, j, c), taken from a copy of only kw column-shifted images, (G, Hp, kw, Cg, W', N).

    Output row y's windows are input rows y*sh .. y*sh + kh - 1 of that copy, and in this layout
    they are one contiguous (kh*kw*Cg, W'*N) block: a batched GEMM reads them in place. The copy
    is kh times smaller than im2col's (LeNet's 6->16 conv: 1.1 MB instead of 3.8 MB at batch 64).

    With ``ones_row`` each input row of the copy ends in a row of ones, (i, j, c) then (i, 1),
    kh*(kw*Cg + 1) rows per window: a column of the weight matrix then adds the bias inside the
    forward GEMM, and the weight gradient's GEMM sums the output gradient for the bias."""
    n, c, h, w = x.shape
    g, (ho, wo), (kh, kw), (sh, sw), dw = geo.groups, geo.out_hw, geo.kernel, geo.stride, geo.dilation[1]
    hp, wp = geo.padded_hw
    cg = c // g
    if (hp, wp) == (h, w) and (n == 1 or x.strides[0] == x.itemsize):
        src, (s_n, s_c, s_h, s_w) = x, x.strides  # batch-innermost already: shift straight from it
    else:
        src = _padded(x, geo, (2, 1, 3, 0))  # (Hp, C, Wp, N)
        s_h, s_c, s_w, s_n = src.strides
    shifted = as_strided(src, (g, hp, kw, cg, wo, n), (cg * s_c, s_h, dw * s_w, s_c, sw * s_w, s_n), writeable=False)
    kc = kw * cg + ones_row
    rows = np.empty((g, hp, kc, wo * n), x.dtype)
    np.copyto(rows[:, :, :kw * cg].reshape(g, hp, kw, cg, wo, n), shifted)
    if ones_row:
        rows[:, :, -1] = 1
    s = rows.strides
    return as_strided(rows, (g, ho, kh * kc, wo * n), (s[0], sh * s[1], s[2], s[3]), writeable=False)


def _col2im(cols: np.ndarray, n: int, c: int, geo: ConvGeometry) -> np.ndarray:
    """Adjoint of ``_im2col`` for columns laid out (G, kh, kw, Cg, H'*W'*N): add each kernel
    offset's slab back into the image. Returns NCHW."""
    (ho, wo), (kh, kw) = geo.out_hw, geo.kernel
    (sh, sw), (dh, dw), g = geo.stride, geo.dilation, geo.groups
    hp, wp = geo.padded_hw
    cols = cols.reshape(g, kh, kw, c // g, ho, wo, n)
    canvas = np.zeros((g, c // g, hp, wp, n), dtype=cols.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            canvas[:, :, rows, j * dw:j * dw + sw * (wo - 1) + 1:sw] += cols[:, i, j]
    return _unpadded(canvas, geo)


def _uses_stacked_rows(geo: ConvGeometry) -> bool:
    """Whether the transposed convolution (conv2d's input gradient) runs as batched GEMMs over
    row-stacked windows of its input (stride 1, undilated rows) instead of a GEMM and a col2im fold."""
    return geo.stride == (1, 1) and geo.dilation[0] == 1


def _grad_layout(y: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """``y`` (N, F, H', W'), the output side of ``geo``, in the layout the kernels read it in.

    Where :func:`_uses_stacked_rows`: (G, H', F/G, W'*N), rows of the image outermost, so that any
    run of consecutive rows is one contiguous (rows*F/G, W'*N) block; a conv's own output already
    lies so (one group), and so does the gradient that comes back to it through ReLU and pooling,
    which is then read in place. Otherwise (G, F/G, H'*W'*N), matching the column order of ``_im2col``."""
    n, f, ho, wo = y.shape
    g = geo.groups
    if not _uses_stacked_rows(geo):
        return np.ascontiguousarray(y.transpose(1, 2, 3, 0)).reshape(g, f // g, -1)
    rows = np.ascontiguousarray(y.reshape(n, g, f // g, ho, wo).transpose(1, 3, 2, 4, 0))
    return rows.reshape(g, ho, f // g, wo * n)


def _per_output_row(yq: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """:func:`_grad_layout`'s array as a (G, H', W'*N, F/G) view: one matrix per output row."""
    if _uses_stacked_rows(geo):
        return yq.transpose(0, 1, 3, 2)
    return yq.reshape(geo.groups, yq.shape[1], geo.out_hw[0], -1).transpose(0, 2, 3, 1)


def _rows_per_gemm(kh: int) -> int:
    """How many input rows :func:`_conv_transpose_stacked` gathers in one GEMM: R rows multiply
    (R+kh-1)/kh times the products one row at a time needs, the fewest calls for at most 20%
    more (R = 2 for 5x5 and 7x7 kernels, 1 for 3x3). Measured on the input gradient alone, paired
    against one row per GEMM: 5x5 kernels over 6 and 1 channels (LeNet-5) 0.85-0.86 of the time,
    7x7 over 3 channels 0.86, 5x5 over 16 channels 0.97; two rows of a 3x3 kernel, 1.33 times the
    products, gained over 8 channels (0.90) but lost over 3 and 16 (1.15, 1.20)."""
    return 1 + kh // 5


def _conv_transpose_stacked(w: np.ndarray, yq: np.ndarray, n: int, geo: ConvGeometry) -> np.ndarray:
    """The stride-1 transposed convolution from :func:`_grad_layout`'s row stack. Returns an NCHW
    view of rows-outermost (H, C, W, N) memory, the layout of a conv's output.

    Input row r gathers output rows r-kh+1 .. r (those inside the output), so R consecutive
    input rows gather R+kh-1 consecutive output rows: one contiguous block of the stack, read in
    place. One GEMM per R input rows (:func:`_rows_per_gemm`), (R*kw*Cg, (R+kh-1)*F/G) @ block
    with a block-banded matrix (block row rho holds the kernel at column block rho), sums all
    kernel rows at once; the blocks inside the output go in one batched call, the edge blocks
    one call each on the part of the band that meets the output. kw strided adds then fold the
    kernel columns, into rows-outermost memory so that the pooling layer below, whose gradients
    lie so, takes the result without a copy (LeNet-5 step 0.95-0.97 of the time against a
    (C, H, W, N) result).

    Nothing the size of the (kh*kw*Cg, H'*W'*N) column matrix is written (1.1 MB instead of
    3.8 MB at LeNet's 6->16 conv, batch 64), and no zero-padded copy of the gradient: the
    gradient that arrives rows-outermost through ReLU and pooling is read where it lies. Two
    input rows per GEMM at that conv (R = 2) make its 30-row products 60 rows, which OpenBLAS
    splits over two threads far better: 0.85-0.86 of the input gradient's time."""
    g, (ho, wo), (kh, kw), dw = geo.groups, geo.out_hw, geo.kernel, geo.dilation[1]
    (hp, wp), (fg, cg) = geo.padded_hw, (w.shape[0] // geo.groups, w.shape[1])
    rr = _rows_per_gemm(kh)
    kc = kw * cg
    assert yq.strides[1] == fg * yq.strides[2], "the row stack must be contiguous across its rows"
    # a[g, (j, c), i', f] = w[g*fg + f, c, kh-1-i', j], placed at column block rho + i' of block row
    # rho: input row r0+rho meets output row r0-kh+1+rho+i' through kernel row kh-1-i'
    a = w.reshape(g, fg, cg, kh, kw)[:, :, :, ::-1].transpose(0, 4, 2, 3, 1).reshape(g, kc, kh, fg)
    band = np.zeros((g, rr, kc, rr + kh - 1, fg), w.dtype)
    for rho in range(rr):
        band[:, rho, :, rho:rho + kh] = a
    band = band.reshape(g, rr * kc, (rr + kh - 1) * fg)
    stack = yq.reshape(g, ho * fg, wo * n)
    rows = np.empty((g, hp * kc, wo * n), yq.dtype)
    # blocks whose output rows all lie inside the output: one batched GEMM over overlapping views
    first = -(-(kh - 1) // rr)  # first block index with r0 >= kh-1
    last = min(hp, ho) // rr  # blocks [first, last) end at or before row ho
    if last > first:
        s = stack.strides
        blocks = as_strided(stack[:, (first * rr - kh + 1) * fg:], (g, last - first, (rr + kh - 1) * fg, wo * n),
                            (s[0], rr * fg * s[1], s[1], s[2]), writeable=False)
        out = rows[:, first * rr * kc:last * rr * kc].reshape(g, last - first, rr * kc, wo * n)
        np.matmul(band[:, None], blocks, out=out)
    else:
        first = last = 0
    for r0 in [*range(0, first * rr, rr), *range(last * rr, hp, rr)]:  # the edge blocks, clipped
        r1 = min(hp, r0 + rr)
        y0, y1 = max(0, r0 - kh + 1), min(ho, r1)  # the output rows these input rows gather
        assert y0 < y1, "at stride 1 every input row meets the kernel"
        c0 = (y0 - (r0 - kh + 1)) * fg
        np.matmul(band[:, :(r1 - r0) * kc, c0:c0 + (y1 - y0) * fg], stack[:, y0 * fg:y1 * fg],
                  out=rows[:, r0 * kc:r1 * kc])
    by_column = rows.reshape(g, hp, kw, cg, wo, n)
    # rows outermost, (Hp, C, Wp, N), as a conv's output and pooling's gradients lie: in LeNet-5
    # this gradient goes to the pooling layer below, which then need not copy it into its layout
    canvas = np.empty((hp, g, cg, wp, n), yq.dtype)
    per_group = canvas.transpose(1, 0, 2, 3, 4)
    per_group[..., :wo, :] = by_column[:, :, 0]
    per_group[..., wo:, :] = 0
    for j in range(1, kw):
        per_group[..., j * dw:j * dw + wo, :] += by_column[:, :, j]
    (h, w_in), (pt, _, pl, _) = geo.in_hw, geo.pads
    return canvas.reshape(hp, g * cg, wp, n)[pt:pt + h, :, pl:pl + w_in].transpose(3, 1, 0, 2)


def _weight_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    f = w.shape[0]
    return w.reshape(groups, f // groups, -1)


def _matmul_few_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)`` for a (1, M, K) @ (1, K, P) product with few rows M (the im2col
    path). OpenBLAS's sgemm has no fast path for 4-7 (mod 8) rows: with zero rows up to a multiple
    of 8 the product is faster even counting the padded copy (measured on LeNet's first conv, 6
    filters at batch 64: forward 0.50 -> 0.31 ms, weight gradient 0.72 -> 0.53 ms), and the first
    M rows of the result stay one contiguous block."""
    m = a.shape[1]
    if a.shape[0] != 1 or m % 8 < 4:
        return np.matmul(a, b)
    padded = np.empty((1, m + 8 - m % 8, a.shape[2]), a.dtype)
    padded[:, :m] = a
    padded[:, m:] = 0
    return np.matmul(padded, b)[:, :m]


def _conv_np(x: np.ndarray, w: np.ndarray, geo: ConvGeometry, bias: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """The convolution plus ``bias``, NCHW out (batch-innermost in memory), and the windows the
    weight gradient will need (:func:`_row_windows` or :func:`_im2col`'s matrix)."""
    n, (ho, wo), g, f = x.shape[0], geo.out_hw, geo.groups, w.shape[0]
    m, (cg, kh, kw) = f // g, w.shape[1:]
    fused = bias is not None and _uses_row_windows(geo) and _fuses_bias(kw * cg)
    if not _uses_row_windows(geo):
        windows = _im2col(x, geo)
        out = _matmul_few_rows(_weight_matrix(w, g), windows)  # (G, F/G, H'*W'*N)
        out = out.reshape(f, ho, wo, n).transpose(3, 0, 1, 2)
    else:
        windows = _row_windows(x, geo, ones_row=fused)
        wk = w.reshape(g, m, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, m, kh, kw * cg)
        if fused:  # the ones row's column: the bias in kernel row 0, zero in the others
            wk = np.concatenate([wk, np.zeros((g, m, kh, 1), w.dtype)], axis=3)
            wk[:, :, 0, -1] = bias.reshape(g, m)
        # rows outermost, (H', F, W', N): each output row's GEMM writes one contiguous block, and the
        # gradient that comes back through ReLU and pooling (which keep the layout) is already in
        # the order of _grad_layout's row stack
        out = np.empty((ho, g, m, wo * n), x.dtype)
        np.matmul(wk.reshape(g, 1, m, -1), windows, out=out.transpose(1, 0, 2, 3))  # one GEMM per output row
        out = out.reshape(ho, f, wo, n).transpose(3, 1, 0, 2)
    if bias is not None and not fused:
        out += bias.reshape(1, -1, 1, 1)  # in place: out is the fresh GEMM result
    return out, windows


def _fuses_bias(row_len: int) -> bool:
    """Whether the forward adds the bias inside its GEMM through a row of ones after each input
    row's ``row_len`` = kw*Cg window rows (:func:`_row_windows`): one more row in ``row_len``
    saves a pass over the output for the bias and one over the gradient for its sum. LeNet-5's
    6->16 conv (30 rows) fwd+bwd: 0.96 of the time; its 1->6 conv (5 rows, 20% more products)
    lost (1.07, 1.12), hence at least 16 rows."""
    return row_len >= 16


def _conv_transpose_np(y: np.ndarray, w: np.ndarray, geo: ConvGeometry, yq: np.ndarray | None = None) -> np.ndarray:
    """The transposed convolution, NCHW out; ``yq`` optionally holds :func:`_grad_layout` of ``y``."""
    if yq is None:
        yq = _grad_layout(y, geo)
    if _uses_stacked_rows(geo):
        return _conv_transpose_stacked(w, yq, y.shape[0], geo)
    g = geo.groups
    f, cg, kh, kw = w.shape
    # rows ordered (kh, kw, Cg) so that each kernel offset's block of the product is contiguous
    wr = w.reshape(g, f // g, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(g, kh * kw * cg, f // g)
    cols = np.matmul(wr, yq)  # (G, kh*kw*Cg, H'*W'*N)
    return _col2im(cols, y.shape[0], cg * g, geo)


def _conv_weight_np(x: np.ndarray, y: np.ndarray, geo: ConvGeometry, cols: np.ndarray | None,
                    yq: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """conv2d's weight gradient, ``cols`` optionally holding the windows :func:`_conv_np` returned;
    and when those have ones rows (a forward with its bias inside the GEMM), the bias gradient
    that the same GEMM sums, else None."""
    if yq is None:
        yq = _grad_layout(y, geo)
    if _uses_row_windows(geo):
        windows = _row_windows(x, geo) if cols is None else cols
        g, m, cg, (kh, kw) = geo.groups, y.shape[1] // geo.groups, x.shape[1] // geo.groups, geo.kernel
        kc = windows.shape[2] // kh
        per_row = np.matmul(windows, _per_output_row(yq, geo)).sum(axis=1).reshape(g, kh, kc, m)  # (G, kh, K', F/G)
        gb = per_row[:, 0, -1].reshape(-1) if kc > kw * cg else None
        gw = per_row[:, :, :kw * cg].reshape(g, kh, kw, cg, m).transpose(0, 4, 3, 1, 2).reshape(g * m, cg, kh, kw)
        return gw, gb
    if cols is None:
        cols = _im2col(x, geo)
    if yq.shape[1] >= 16:  # (cols @ g^T)^T: 0.66-0.93 of the time at LeNet's second conv's shape (16 filters)
        gw = np.matmul(cols, yq.transpose(0, 2, 1)).transpose(0, 2, 1)
    else:
        gw = _matmul_few_rows(yq, cols.transpose(0, 2, 1))  # (G, F/G, Cg*kh*kw)
    return gw.reshape(y.shape[1], x.shape[1] // geo.groups, *geo.kernel), None


# ----------------------------------------------------------------------------- primitives
def _bias_grad(g: Tensor) -> Tensor:
    return _sum(g, (0, 2, 3))


def _bias_grad_from(gq: np.ndarray, g: Tensor, geo: ConvGeometry) -> Tensor:
    """The bias gradient from ``gq``, g already in :func:`_grad_layout` for the GEMMs (contiguous
    runs per filter: a product with ones, 0.06 -> 0.01 ms at LeNet's 64x16x10x10); the graph op
    instead while recording a graph (``create_graph``)."""
    if is_grad_enabled():
        return _bias_grad(g)
    if gq.size == 0:  # batch 0: the sum over nothing (reshape(-1, 0) has no answer)
        return Tensor(np.zeros(g.shape[1], g.dtype))
    sums = gq.reshape(-1, gq.shape[-1]) @ _ones(gq.shape[-1], gq.dtype.str)
    if _uses_stacked_rows(geo):  # (G, H', F/G): per output row and filter, then over the rows
        sums = sums.reshape(gq.shape[:3]).sum(axis=1)
    return Tensor(sums.reshape(-1))


def conv2d_op(x: Tensor, w: Tensor, b: Tensor | None, geo: ConvGeometry) -> Tensor:
    """The convolution primitive on validated arguments. Shape: (N, C, H, W) -> (N, F, H', W')."""
    out, cols = _conv_np(x.data, w.data, geo, None if b is None else b.data)
    keep_cols = cols if w.requires_grad else None

    def backward(g: Tensor) -> tuple:
        gq = _grad_layout(g.data, geo)  # shared by both gradients' GEMMs
        gx = conv_transpose_op(g, w, None, geo, gq) if x.requires_grad else None
        gw = gb = None
        if w.requires_grad:  # with the forward's ones rows, its GEMM also gives the bias gradient
            gw, gb = _conv2d_weight_op(x, g, geo, keep_cols, gq)
        if b is None or not b.requires_grad:
            gb = None
        elif gb is None:
            gb = _bias_grad_from(gq, g, geo)
        return gx, gw, gb

    parents = (x, w) if b is None else (x, w, b)
    return make_op("conv2d", out, parents, backward, geo.meta)


def conv_transpose_op(y: Tensor, w: Tensor, b: Tensor | None, geo: ConvGeometry,
                      yq: np.ndarray | None = None) -> Tensor:
    """The adjoint of :func:`conv2d_op` in its input. Shape: (N, F, H', W') -> (N, C, H, W).
    ``yq`` optionally holds ``y`` already in the kernels' internal layout."""
    out = _conv_transpose_np(y.data, w.data, geo, yq)
    if b is not None:
        out += b.data.reshape(1, -1, 1, 1)

    def backward(g: Tensor) -> tuple:
        gy = conv2d_op(g, w, None, geo) if y.requires_grad else None
        gw = _conv2d_weight_op(g, y, geo, None)[0] if w.requires_grad else None
        gb = _bias_grad(g) if b is not None and b.requires_grad else None
        return gy, gw, gb

    parents = (y, w) if b is None else (y, w, b)
    return make_op("conv_transpose2d", out, parents, backward, geo.meta)


def _conv2d_weight_op(x: Tensor, y: Tensor, geo: ConvGeometry, cols: np.ndarray | None,
                      yq: np.ndarray | None = None) -> tuple[Tensor, Tensor | None]:
    """The correlation of input and output gradient: conv2d's weight gradient. Shape -> (F, C/G, kh, kw).
    ``cols``/``yq`` optionally hold x's windows and y in the internal layout, already made. Second:
    y's sum per filter (conv2d's bias gradient) when the windows' ones rows gave it and no graph
    is being recorded, else None."""
    gw, gb = _conv_weight_np(x.data, y.data, geo, cols, yq)

    def backward(g: Tensor) -> tuple:
        gx = conv_transpose_op(y, g, None, geo) if x.requires_grad else None
        gy = conv2d_op(x, g, None, geo) if y.requires_grad else None
        return gx, gy

    recording = is_grad_enabled() and (x.requires_grad or y.requires_grad)
    return make_op("conv2d_weight", gw, (x, y), backward, geo.meta), (None if gb is None or recording else Tensor(gb))


@register("conv2d_weight")
def conv2d_weight(input: Tensor, grad_output: Tensor, kernel_size: Any, stride: Any = 1,
                  pads: Any = (0, 0, 0, 0), dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv2d`` with respect to its weight (as ``torch.nn.grad.conv2d_weight``);
    ``pads`` is (top, bottom, left, right). Shape: (N, C, H, W), (N, F, H', W') -> (F, C/groups, kh, kw).

    >>> x, g = Tensor(np.ones((1, 1, 3, 3))), Tensor(np.ones((1, 1, 2, 2)))
    >>> conv2d_weight(x, g, (2, 2)).shape
    (1, 1, 2, 2)
    """
    op = "conv2d_weight"
    kh, kw = pair(kernel_size, op, "kernel_size", 1)
    check_4d(op, "input", input.shape)
    check_4d(op, "grad_output", grad_output.shape)
    if len(pads) != 4 or any(p < 0 for p in pads):
        raise ValueError(f"{op}: pads must be 4 non-negative ints (top, bottom, left, right), got {pads!r}")
    pads4 = tuple(int(p) for p in pads)
    geo = conv_geometry(op, (input.shape[0], input.shape[1], input.shape[2] + pads4[0] + pads4[1],
                             input.shape[3] + pads4[2] + pads4[3]),
                        (grad_output.shape[1], input.shape[1] // groups, kh, kw), stride, 0, dilation, groups)
    geo = ConvGeometry(input.shape[2:], geo.out_hw, (kh, kw), geo.stride, pads4, geo.dilation, geo.groups)
    if grad_output.shape != (input.shape[0], grad_output.shape[1]) + geo.out_hw:
        raise ValueError(f"{op}: grad_output shape {grad_output.shape} does not match the convolution's output "
                         f"{(input.shape[0], grad_output.shape[1]) + geo.out_hw}")
    return _conv2d_weight_op(input, grad_output, geo, None)[0]


def _check_params(op: str, x: Tensor, weight: Any, bias: Any, n_out: int) -> None:
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, got {type(weight).__name__}")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
        if bias.shape != (n_out,):
            raise ValueError(f"{op}: bias must have shape ({n_out},), got {bias.shape}")
    if x.dtype.kind != "f" or weight.dtype.kind != "f":
        raise TypeError(f"{op}: input and weight must be floating point, got {x.dtype} and {weight.dtype}")


@register("conv2d")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``; ``padding`` may be an int, a pair,
    'valid' or 'same' ('same' at stride > 1 follows TensorFlow: output = ceil(input / stride), the
    odd extra row/column of padding at the bottom/right).
    Shape: (N, C, H, W) * (F, C/groups, kh, kw) -> (N, F, H', W').

    >>> conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((2, 1, 3, 3))), padding=1).shape
    (1, 2, 4, 4)
    """
    x, unbatched = batched_input("conv2d", input)
    _check_params("conv2d", x, weight, bias, weight.shape[0] if weight.ndim else 0)
    geo = conv_geometry("conv2d", x.shape, weight.shape, stride, padding, dilation, groups)
    out = conv2d_op(x, weight, bias, geo)
    return out.reshape(out.shape[1:]) if unbatched else out


@register("conv_transpose2d")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed convolution (the gradient of conv2d with respect to its input), as PyTorch's.
    Shape: (N, C_in, H, W) * (C_in, C_out/groups, kh, kw) -> (N, C_out, H', W') with
    H' = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.

    >>> conv_transpose2d(Tensor(np.ones((1, 2, 3, 3))), Tensor(np.ones((2, 1, 2, 2))), stride=2).shape
    (1, 1, 6, 6)
    """
    x, unbatched = batched_input("conv_transpose2d", input)
    n_out = weight.shape[1] * groups if weight.ndim == 4 and isinstance(groups, int) else 0
    _check_params("conv_transpose2d", x, weight, bias, n_out)
    geo = transpose_geometry("conv_transpose2d", x.shape, weight.shape, stride, padding, output_padding, groups,
                             dilation)
    out = conv_transpose_op(x, weight, bias, geo)
    return out.reshape(out.shape[1:]) if unbatched else out
