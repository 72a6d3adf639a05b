"""Convolution kernels: the forward, the transposed convolution and the weight gradient as matrix
products over window matrices, with no Python loop over batch, channels or pixels.

- Undilated rows (:func:`uses_row_windows`): the forward and the weight gradient are one batched
  GEMM over output rows, each reading its windows in place from a copy of only kw column-shifted
  images (:func:`row_windows`), or from the input itself for a kernel one column wide
  (:func:`windows_in_place`). With 16 filters or fewer the forward multiplies two output rows
  at a time through a banded kernel (:func:`pairs_output_rows`). A bias can ride in the forward
  GEMM as one more weight column against a row of ones (:func:`fuses_bias`).
- Dilated rows: one GEMM per group over the full im2col matrix (:func:`im2col`).
- The transposed convolution at stride 1 (:func:`uses_stacked_rows`) is a batched GEMM over
  blocks of input rows through a band of the kernel, reading the output rows it gathers in place
  and folding its kernel columns a megabyte at a time, while in cache
  (:func:`conv_transpose_stacked`); at other strides one GEMM per group and a col2im fold.

Every function takes a :class:`ConvGeometry`, the sizes of the *forward* convolution.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .geometry import ConvGeometry
from .reduce import ones
from .select import has_twin


def padded(x: np.ndarray, geo: ConvGeometry, order: tuple) -> np.ndarray:
    """``x`` (N, C, H, W) zero-padded to ``geo.padded_hw``, its axes moved to ``order`` and made
    contiguous there (no copy when x already lies so and needs no padding).
    Shape: (N, C, H, W) -> (N, C, Hp, Wp) permuted by ``order``."""
    n, c, h, w = x.shape
    (hp, wp), (pt, _, pl, _) = geo.padded_hw, geo.pads
    moved = x.transpose(order)
    if (hp, wp) == (h, w):
        return np.ascontiguousarray(moved)
    canvas = np.zeros(tuple((n, c, hp, wp)[a] for a in order), x.dtype)
    inner = (slice(None), slice(None), slice(pt, pt + h), slice(pl, pl + w))
    canvas[tuple(inner[a] for a in order)] = moved
    return canvas


def im2col(x: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """Every window of ``x`` as one column, rows ordered (c, i, j), columns (y, x, n).
    Shape: (N, C, H, W) -> (G, Cg*kh*kw, H'*W'*N)."""
    n, c = x.shape[:2]
    xq = padded(x, geo, (1, 2, 3, 0))  # (C, Hp, Wp, N)
    (ho, wo), (kh, kw), (sh, sw), (dh, dw) = geo.out_hw, geo.kernel, geo.stride, geo.dilation
    s = xq.strides
    windows = as_strided(xq, (c, kh, kw, ho, wo, n), (s[0], s[1] * dh, s[2] * dw, s[1] * sh, s[2] * sw, s[3]),
                         writeable=False)
    return np.ascontiguousarray(windows).reshape(geo.groups, (c // geo.groups) * kh * kw, ho * wo * n)


def uses_row_windows(geo: ConvGeometry) -> bool:
    """Whether the forward and weight-gradient GEMMs run on :func:`row_windows` (undilated rows)
    instead of the full im2col matrix."""
    return geo.dilation[0] == 1


def row_windows(x: np.ndarray, geo: ConvGeometry, ones_row: bool = False) -> np.ndarray:
    """The im2col matrix of each output row, rows ordered (i, j, c), as a view of a copy of only kw
    column-shifted images, (G, Hp, kw, Cg, W', N): output row y's windows are input rows
    y*sh .. y*sh + kh - 1 of that copy, one contiguous block a batched GEMM reads in place (the
    copy is kh times smaller than im2col's); a view of ``x`` itself where it needs no copy
    (:func:`windows_in_place`). With ``ones_row`` each input row of the copy ends in a row of
    ones, kh*(kw*Cg + 1) rows per window: a weight column then adds the bias in the GEMM.
    Shape: (N, C, H, W) -> (G, H', kh*(kw*Cg [+1]), W'*N)."""
    n, c, h, w = x.shape
    g, (ho, wo), (kh, kw), (sh, sw), dw = geo.groups, geo.out_hw, geo.kernel, geo.stride, geo.dilation[1]
    hp, wp = geo.padded_hw
    cg = c // g
    if not ones_row and windows_in_place(x, geo):
        rows_2d = x.transpose(2, 1, 3, 0).reshape(h * c, w * n)  # a view, with strides that size-1 axes can't skew
        r, e = rows_2d.strides
        return as_strided(rows_2d, (g, ho, kh * cg, wo * n), (cg * r, sh * c * r, r, e), writeable=False)
    row_len = kw * cg + ones_row
    rows = np.empty((g, hp, row_len, wo * n), x.dtype)
    by_column = rows[:, :, :kw * cg].reshape(g, hp, kw, cg, wo, n)
    if n == 1 or x.strides[0] == x.itemsize:  # batch-innermost already: shift straight from it
        (pt, _, pl, _), (s_n, s_c, s_h, s_w) = geo.pads, x.strides
        src = as_strided(x, (g, h, cg, w, n), (cg * s_c, s_h, s_c, s_w, s_n), writeable=False)
        by_column[:, :pt] = 0  # the padding's rows and columns are written as zeros, never copied
        by_column[:, pt + h:] = 0
        inside = by_column[:, pt:pt + h]
        for j in range(kw):
            out_cols, in_cols = _clipped(j * dw, sw, wo, pl, w)
            inside[:, :, j, :, out_cols] = src[:, :, :, in_cols]
            inside[:, :, j, :, :out_cols.start] = 0
            inside[:, :, j, :, out_cols.stop:] = 0
    else:  # one transposing copy into the padded layout, then contiguous shifted copies from it
        src = padded(x, geo, (2, 1, 3, 0))  # (Hp, C, Wp, N)
        s_h, s_c, s_w, s_n = src.strides
        np.copyto(by_column, as_strided(src, (g, hp, kw, cg, wo, n), (cg * s_c, s_h, dw * s_w, s_c, sw * s_w, s_n),
                                        writeable=False))
    if ones_row:
        rows[:, :, -1] = 1
    s = rows.strides
    return as_strided(rows, (g, ho, kh * row_len, wo * n), (s[0], sh * s[1], s[2], s[3]), writeable=False)


def windows_in_place(x: np.ndarray, geo: ConvGeometry) -> bool:
    """Whether ``x`` is its own :func:`row_windows`: a kernel one column wide at unit stride with no
    padding, over (H, C, W, N) memory, where each output row's windows are one evenly spaced block
    of whole input rows (with one group, or one kernel row, so that rows and channels interleave)."""
    (kh, kw), (_, sw), g = geo.kernel, geo.stride, geo.groups
    return (kw == 1 and sw == 1 and not any(geo.pads) and (g == 1 or kh == 1)
            and x.transpose(2, 1, 3, 0).flags.c_contiguous)


def _clipped(offset: int, stride: int, count: int, pad: int, size: int) -> tuple[slice, slice]:
    """The output positions o < ``count`` whose input position o*stride + offset - pad lies inside
    [0, size), and those input positions. Shape: -> (slice of outputs, slice of inputs)."""
    lo = max(0, -(-(pad - offset) // stride))
    hi = min(count, -(-(size + pad - offset) // stride))
    hi = max(hi, lo)
    first = lo * stride + offset - pad
    return slice(lo, hi), slice(first, first + (hi - lo - 1) * stride + 1 if hi > lo else first, stride)


def col2im(cols: np.ndarray, n: int, c: int, geo: ConvGeometry) -> np.ndarray:
    """Adjoint of :func:`im2col` for columns laid out (G, kh, kw, Cg, H'*W'*N): add each kernel
    offset's slab back into the image, the parts that fall in the padding left out.
    Shape: -> (N, C, H, W), a view of rows-outermost (H, C, W, N) memory."""
    (ho, wo), (kh, kw) = geo.out_hw, geo.kernel
    (sh, sw), (dh, dw), g = geo.stride, geo.dilation, geo.groups
    (h, w), (pt, _, pl, _) = geo.in_hw, geo.pads
    cols = cols.reshape(g, kh, kw, c // g, ho, wo, n)
    # rows outermost, the layout of every other activation and gradient: mixing layouts in one
    # elementwise op costs numpy several times a matching pass
    canvas = np.zeros((h, c, w, n), dtype=cols.dtype)
    per_group = canvas.reshape(h, g, c // g, w, n).transpose(1, 2, 0, 3, 4)
    for i in range(kh):
        out_rows, in_rows = _clipped(i * dh, sh, ho, pt, h)
        for j in range(kw):
            out_cols, in_cols = _clipped(j * dw, sw, wo, pl, w)
            if out_rows.stop > out_rows.start and out_cols.stop > out_cols.start:
                per_group[:, :, in_rows, in_cols] += cols[:, i, j, :, out_rows, out_cols]
    return canvas.transpose(3, 1, 0, 2)


def uses_stacked_rows(geo: ConvGeometry) -> bool:
    """Whether the transposed convolution runs as batched GEMMs over row-stacked windows of its
    input (stride 1, undilated rows) instead of a GEMM and a col2im fold."""
    return geo.stride == (1, 1) and geo.dilation[0] == 1


class _Layouts(threading.local):
    made: dict | None = None  # (id(y), geo) -> (y, y's layout) while a conv's gradients are made


_layouts = _Layouts()


@contextlib.contextmanager
def shared_layouts() -> Iterator[None]:
    """Within the block, :func:`grad_layout` makes each array's layout once: a conv's three
    gradients (input, weight, bias) read the incoming gradient in the same layout.

    >>> with shared_layouts():
    ...     pass
    """
    outer = _layouts.made
    _layouts.made = {} if outer is None else outer
    try:
        yield
    finally:
        _layouts.made = outer


def grad_layout(y: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """``y``, the output side of ``geo``, in the layout the GEMMs read it in. Where
    :func:`uses_stacked_rows`: image rows outermost, so that any run of consecutive rows is one
    contiguous (rows*F/G, W'*N) block (a conv's own output, and the gradient that comes back to it
    through ReLU and pooling, already lie so and are read in place); otherwise the column order
    of :func:`im2col`. Inside :func:`shared_layouts`, made once per array.
    Shape: (N, F, H', W') -> (G, H', F/G, W'*N) or (G, F/G, H'*W'*N)."""
    made = _layouts.made
    if made is None:
        return _grad_layout(y, geo)
    key = (id(y), geo)
    if key not in made:
        made[key] = (y, _grad_layout(y, geo))  # y kept alive, so its id is not reused in the block
    return made[key][1]


def _grad_layout(y: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    n, f, ho, wo = y.shape
    g = geo.groups
    if not uses_stacked_rows(geo):
        return np.ascontiguousarray(y.transpose(1, 2, 3, 0)).reshape(g, f // g, -1)
    rows = np.ascontiguousarray(y.reshape(n, g, f // g, ho, wo).transpose(1, 3, 2, 4, 0))
    return rows.reshape(g, ho, f // g, wo * n)


def per_output_row(y_gemm: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """:func:`grad_layout`'s array as one matrix per output row. Shape: -> (G, H', W'*N, F/G) view."""
    if uses_stacked_rows(geo):
        return y_gemm.transpose(0, 1, 3, 2)
    return y_gemm.reshape(geo.groups, y_gemm.shape[1], geo.out_hw[0], -1).transpose(0, 2, 3, 1)


def rows_per_gemm(kh: int) -> int:
    """How many input rows :func:`conv_transpose_stacked` gathers in one GEMM: R rows cost
    (R+kh-1)/kh times the products of one row at a time, so the fewest calls for at most 20% more
    (2 for 5x5 and 7x7 kernels, 1 for 3x3; taller products also split better over threads)."""
    return 1 + kh // 5


# the transposed convolution folds its GEMMs' output this many bytes at a time, while in cache
CHUNK_BYTES = 1 << 20


def _fold_columns(by_column: np.ndarray, per_group: np.ndarray, pl: int, dw: int) -> None:
    """Add kernel column j of each output column x onto input column x + j*dw - pl (those inside
    the input), writing every element of ``per_group`` once or more: the widest column's share is
    assigned, the other columns added. Shape: (G, R, kw, Cg, W', N) -> (G, R, Cg, W, N) in place."""
    kw, wo, w_in = by_column.shape[2], by_column.shape[4], per_group.shape[3]
    spans = [(max(0, pl - j * dw), min(wo, w_in + pl - j * dw)) for j in range(kw)]
    widest = max(range(kw), key=lambda j: spans[j][1] - spans[j][0])
    (x0, x1), shift = spans[widest], widest * dw - pl
    if x1 > x0:
        per_group[..., x0 + shift:x1 + shift, :] = by_column[:, :, widest, :, x0:x1]
        per_group[..., :x0 + shift, :] = 0
        per_group[..., x1 + shift:, :] = 0
    else:  # every kernel column meets only the padding
        per_group[...] = 0
    for j in range(kw):
        (x0, x1), shift = spans[j], j * dw - pl
        if j != widest and x1 > x0:
            per_group[..., x0 + shift:x1 + shift, :] += by_column[:, :, j, :, x0:x1]


def conv_transpose_stacked(w: np.ndarray, y_gemm: np.ndarray, n: int, geo: ConvGeometry) -> np.ndarray:
    """The stride-1 transposed convolution from :func:`grad_layout`'s row stack ``y_gemm``.

    Input row r gathers output rows r-kh+1 .. r, so R consecutive input rows gather R+kh-1
    consecutive output rows: one contiguous block of the stack, read in place. One GEMM per R
    input rows (:func:`rows_per_gemm`) with a block-banded kernel matrix (block row rho holds
    the kernel at column block rho) sums all kernel rows at once; the blocks inside the output go
    in one batched call, the edge blocks one call each on the part of the band that meets the
    output. kw strided adds then fold the kernel columns into rows-outermost memory, the layout
    pooling's gradients have, so that the pooling layer below takes the result without a copy.
    Shape: w (F, Cg, kh, kw), y_gemm (G, H', F/G, W'*N) -> (N, C, H, W) view of (H, C, W, N) memory."""
    g, (ho, wo), (kh, kw), dw = geo.groups, geo.out_hw, geo.kernel, geo.dilation[1]
    f_g, cg = w.shape[0] // geo.groups, w.shape[1]
    rows_each = rows_per_gemm(kh)
    row_len = kw * cg
    assert y_gemm.strides[1] == f_g * y_gemm.strides[2], "the row stack must be contiguous across its rows"
    # kernel[g, (j, c), i', f] = w[g*f_g + f, c, kh-1-i', j], placed at column block rho + i' of block
    # row rho: input row r0+rho meets output row r0-kh+1+rho+i' through kernel row kh-1-i'
    kernel = w.reshape(g, f_g, cg, kh, kw)[:, :, :, ::-1].transpose(0, 4, 2, 3, 1).reshape(g, row_len, kh, f_g)
    band = np.zeros((g, rows_each, row_len, rows_each + kh - 1, f_g), w.dtype)
    for rho in range(rows_each):
        band[:, rho, :, rho:rho + kh] = kernel
    band = band.reshape(g, rows_each * row_len, (rows_each + kh - 1) * f_g)
    stack = y_gemm.reshape(g, ho * f_g, wo * n)
    (h, w_in), (pt, _, pl, _) = geo.in_hw, geo.pads
    # block b holds padded rows pt + b*R ..; those whose output rows all lie inside the output (at
    # or after row 0, before row ho) go in batched GEMMs over overlapping views of the stack
    first = max(0, -(-(kh - 1 - pt) // rows_each))
    last = max(first, (min(pt + h, ho) - pt) // rows_each)
    canvas = np.empty((h, g, cg, w_in, n), y_gemm.dtype)  # rows outermost, as pooling's gradients lie
    # a few input rows at a time, so that the fold reads the GEMMs' output while it is in cache
    chunk = rows_each * max(1, CHUNK_BYTES // (rows_each * row_len * wo * n * y_gemm.itemsize or 1))
    direct = kw == 1 and g == 1 and pl == 0 and wo == w_in  # nothing to fold: the GEMMs write the result
    rows = None if direct else np.empty((g, min(chunk, h) * row_len, wo * n), y_gemm.dtype)
    for c0 in range(0, h, chunk):
        c1 = min(h, c0 + chunk)
        part = canvas[c0:c1].reshape(1, (c1 - c0) * row_len, wo * n) if rows is None else rows[:, :(c1 - c0) * row_len]
        b_in0, b_in1 = max(first, c0 // rows_each), min(last, c1 // rows_each)  # whole inner blocks here
        if b_in1 > b_in0:
            s = stack.strides
            blocks = as_strided(stack[:, (pt + b_in0 * rows_each - kh + 1) * f_g:],
                                (g, b_in1 - b_in0, (rows_each + kh - 1) * f_g, wo * n),
                                (s[0], rows_each * f_g * s[1], s[1], s[2]), writeable=False)
            out = part[:, (b_in0 * rows_each - c0) * row_len:(b_in1 * rows_each - c0) * row_len]
            np.matmul(band[:, None], blocks, out=out.reshape(g, b_in1 - b_in0, rows_each * row_len, wo * n))
        else:
            b_in0 = b_in1 = c0 // rows_each
        for b0 in [*range(c0, b_in0 * rows_each, rows_each), *range(b_in1 * rows_each, c1, rows_each)]:  # edges
            b1 = min(c1, b0 + rows_each)
            r0, r1 = pt + b0, pt + b1  # in padded rows
            y0, y1 = max(0, r0 - kh + 1), min(ho, r1)  # the output rows these input rows gather
            assert y0 < y1, "at stride 1 every input row meets the kernel"
            k0 = (y0 - (r0 - kh + 1)) * f_g
            np.matmul(band[:, :(b1 - b0) * row_len, k0:k0 + (y1 - y0) * f_g], stack[:, y0 * f_g:y1 * f_g],
                      out=part[:, (b0 - c0) * row_len:(b1 - c0) * row_len])
        if not direct:
            _fold_columns(part.reshape(g, c1 - c0, kw, cg, wo, n), canvas[c0:c1].transpose(1, 0, 2, 3, 4), pl, dw)
    return canvas.reshape(h, g * cg, w_in, n).transpose(3, 1, 0, 2)


def matmul_few_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b)`` for a (1, M, K) @ (1, K, P) product with few rows M: OpenBLAS's sgemm has
    no fast path for 4-7 (mod 8) rows, so those are padded with zero rows to a multiple of 8 (the
    result's first M rows stay one contiguous block). Shape: (G, M, K) @ (G, K, P) -> (G, M, P)."""
    m = a.shape[1]
    if a.shape[0] != 1 or m % 8 < 4:
        return np.matmul(a, b)
    padded_a = np.empty((1, m + 8 - m % 8, a.shape[2]), a.dtype)
    padded_a[:, :m] = a
    padded_a[:, m:] = 0
    return np.matmul(padded_a, b)[:, :m]


def fuses_bias(row_len: int) -> bool:
    """Whether the forward adds the bias inside its GEMM through a row of ones after each input
    row's ``row_len`` = kw*Cg window rows: one more row per ``row_len`` pays for itself by saving
    a pass over the output only when rows are many (few rows: the extra products cost more)."""
    return row_len >= 16


def pairs_output_rows(geo: ConvGeometry, m: int, row_len: int) -> bool:
    """Whether the forward multiplies two output rows at a time through a banded kernel: with 16
    filters or fewer a GEMM has too few rows for OpenBLAS, and two rows' band (one kernel row of
    zeros more per row) runs faster for 8-16 filters over rows of 18 or more window
    elements (a 3x3 kernel over 6 or more channels), where the extra products cost less than
    they save; one group, unit row stride."""
    return geo.groups == 1 and geo.stride[0] == 1 and m <= 16 and row_len >= 18 and geo.out_hw[0] >= 2


def _forward_row_pairs(wk: np.ndarray, windows: np.ndarray, row: int, out: np.ndarray) -> None:
    """Output rows 2b and 2b+1 in one GEMM: a (2F, (kh+1)*row) band holding the kernel at column
    block 0 in its first F rows and at block 1 in the others, times input rows 2b .. 2b+kh of the
    windows' memory (contiguous, as at unit row stride consecutive windows overlap by all but
    one row); an odd last row alone; ``row`` is one input row's window elements.
    Shape: wk (F, kh*row), windows (H', kh*row, W'*N) -> out (H', F, W'*N)."""
    (ho, depth, cols), f = windows.shape, wk.shape[0]
    band = np.zeros((2 * f, depth + row), wk.dtype)
    band[:f, :depth] = wk
    band[f:, row:] = wk
    s = windows.strides
    pairs = as_strided(windows, (ho // 2, depth + row, cols), (2 * s[0], s[1], s[2]), writeable=False)
    np.matmul(band, pairs, out=out[:ho // 2 * 2].reshape(ho // 2, 2 * f, cols))
    if ho % 2:
        np.matmul(wk, windows[-1], out=out[-1])


@has_twin
def conv_forward(x: np.ndarray, w: np.ndarray, geo: ConvGeometry, bias: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The convolution plus ``bias``, and the windows the weight gradient will need
    (:func:`row_windows` or :func:`im2col`'s matrix). Shape: (N, C, H, W) * (F, Cg, kh, kw) ->
    (N, F, H', W'), a view of rows-outermost (H', F, W', N) memory on the row-window path."""
    n, (ho, wo), g, f = x.shape[0], geo.out_hw, geo.groups, w.shape[0]
    m, (cg, kh, kw) = f // g, w.shape[1:]
    fused = bias is not None and uses_row_windows(geo) and fuses_bias(kw * cg) and not windows_in_place(x, geo)
    if not uses_row_windows(geo):
        windows = im2col(x, geo)
        out = matmul_few_rows(w.reshape(g, m, -1), windows)  # (G, F/G, H'*W'*N)
        out = out.reshape(f, ho, wo, n).transpose(3, 0, 1, 2)
    else:
        windows = row_windows(x, geo, ones_row=fused)
        wk = w.reshape(g, m, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, m, kh, kw * cg)
        if fused:  # the ones row's column: the bias in kernel row 0, zero in the others
            assert bias is not None
            wk = np.concatenate([wk, np.zeros((g, m, kh, 1), w.dtype)], axis=3)
            wk[:, :, 0, -1] = bias.reshape(g, m)
        # rows outermost: each output row's GEMM writes one contiguous block, and the gradient that
        # comes back through ReLU and pooling is already in the order of grad_layout's row stack
        out = np.empty((ho, g, m, wo * n), x.dtype)
        if pairs_output_rows(geo, m, windows.shape[2] // kh):
            _forward_row_pairs(wk.reshape(m, -1), windows[0], windows.shape[2] // kh, out.reshape(ho, m, wo * n))
        else:
            np.matmul(wk.reshape(g, 1, m, -1), windows, out=out.transpose(1, 0, 2, 3))  # one GEMM per output row
        out = out.reshape(ho, f, wo, n).transpose(3, 1, 0, 2)
    if bias is not None and not fused:
        out += bias.reshape(1, -1, 1, 1)  # in place: out is the fresh GEMM result
    return out, windows


@has_twin
def conv_transpose(y: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The transposed convolution (the adjoint of :func:`conv_forward` in its input).
    Shape: (N, F, H', W') * (F, Cg, kh, kw) -> (N, C, H, W)."""
    y_gemm = grad_layout(y, geo)
    if uses_stacked_rows(geo):
        return conv_transpose_stacked(w, y_gemm, y.shape[0], geo)
    g = geo.groups
    f, cg, kh, kw = w.shape
    # rows ordered (kh, kw, Cg) so that each kernel offset's block of the product is contiguous
    wr = w.reshape(g, f // g, cg, kh, kw).transpose(0, 3, 4, 2, 1).reshape(g, kh * kw * cg, f // g)
    cols = np.matmul(wr, y_gemm)  # (G, kh*kw*Cg, H'*W'*N)
    return col2im(cols, y.shape[0], cg * g, geo)


@has_twin
def conv_weight(x: np.ndarray, y: np.ndarray, geo: ConvGeometry, windows: np.ndarray | None = None) -> np.ndarray:
    """The correlation of input and output gradient (conv2d's weight gradient); ``windows``
    optionally holds what :func:`conv_forward` returned (columns of ones rows are skipped).
    Shape: (N, C, H, W), (N, F, H', W') -> (F, Cg, kh, kw)."""
    y_gemm = grad_layout(y, geo)
    g, m, cg, (kh, kw) = geo.groups, y.shape[1] // geo.groups, x.shape[1] // geo.groups, geo.kernel
    if uses_row_windows(geo):
        windows = row_windows(x, geo) if windows is None else windows
        row_len = windows.shape[2] // kh
        per_row = np.matmul(windows, per_output_row(y_gemm, geo)).sum(axis=1).reshape(g, kh, row_len, m)
        return per_row[:, :, :kw * cg].reshape(g, kh, kw, cg, m).transpose(0, 4, 3, 1, 2).reshape(g * m, cg, kh, kw)
    windows = im2col(x, geo) if windows is None else windows
    if y_gemm.shape[1] >= 16:  # (cols @ g^T)^T is the faster order for many filters
        gw = np.matmul(windows, y_gemm.transpose(0, 2, 1)).transpose(0, 2, 1)
    else:
        gw = matmul_few_rows(y_gemm, windows.transpose(0, 2, 1))  # (G, F/G, Cg*kh*kw)
    return gw.reshape(g * m, cg, kh, kw)


def bias_grad(y: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The sum of ``y`` per channel (conv2d's bias gradient), as a product with ones over
    :func:`grad_layout`'s contiguous runs.
    Shape: (N, F, H', W') -> (F,)."""
    if y.size == 0:
        return np.zeros(y.shape[1], y.dtype)
    y_gemm = grad_layout(y, geo)
    sums = y_gemm.reshape(-1, y_gemm.shape[-1]) @ ones(y_gemm.shape[-1], y_gemm.dtype.str)
    if uses_stacked_rows(geo):  # (G, H', F/G): per output row and filter, then over the rows
        sums = sums.reshape(y_gemm.shape[:3]).sum(axis=1)
    return sums.reshape(-1)
