"""2-D convolution and its transpose as matrix products over window matrices.

No Python loop over batch, channels or pixels: the forward and the weight gradient of an
undilated conv are one batched ``np.matmul`` call over output rows, reading each row's windows in
place from a kw-shifted copy of the input (:func:`_row_windows`); dilated rows use one GEMM per
group over a full im2col matrix. The input gradient at stride 1 is a batched GEMM over input
rows, each reading the output-gradient rows it gathers from as one block in place (one call
for the middle rows, one per edge row: :func:`_conv_transpose_stacked`), so that the column
matrix is never written; at other strides it is one GEMM per group and a col2im fold over the
kernel offsets.

Three primitives close under differentiation (design.md):

- ``conv2d``            y = conv(x, w)            backward: x <- conv_transpose(g, w), w <- conv2d_weight(x, g)
- ``conv_transpose``    x = conv_transpose(y, w)  backward: y <- conv(g, w),           w <- conv2d_weight(g, y)
- ``conv2d_weight``     w = conv2d_weight(x, y)   backward: x <- conv_transpose(y, g), y <- conv(x, g)

All three share a :class:`ConvGeometry` that describes the *forward convolution* (input size,
output size, kernel, stride, 4-sided padding, dilation, groups); a transposed convolution is the
adjoint of the convolution with the same geometry.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..tensor import Tensor, is_grad_enabled, make_op
from .geometry import ConvGeometry, batched_input, check_4d, conv_geometry, pair, transpose_geometry
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


def _row_windows(x: np.ndarray, geo: ConvGeometry) -> np.ndarray:
    """The im2col matrix of each output row, as a (G, H', kh*kw*Cg, W'*N) view, rows ordered
    (i, j, c), taken from a copy of only kw column-shifted images, (G, Hp, kw, Cg, W', N).

    Output row y's windows are input rows y*sh .. y*sh + kh - 1 of that copy, and in this layout
    they are one contiguous (kh*kw*Cg, W'*N) block: a batched GEMM reads them in place. The copy
    is kh times smaller than im2col's (LeNet's 6->16 conv: 1.1 MB instead of 3.8 MB at batch 64)."""
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
    rows = np.ascontiguousarray(shifted).reshape(g, hp, kw * cg, wo * n)
    s = rows.strides
    return as_strided(rows, (g, ho, kh * kw * cg, wo * n), (s[0], sh * s[1], s[2], s[3]), writeable=False)


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


@functools.lru_cache(maxsize=64)
def _row_spans(geo: ConvGeometry) -> tuple[tuple[int, int, int, int], ...]:
    """Input rows grouped by the kernel rows that reach them at stride 1: (first row, end row,
    first kernel row i0, end kernel row i1), counting kernel rows from the bottom (i' = kh-1-i),
    so that input row r gathers output rows r-kh+1+i0 .. r-kh+i1, all inside the output. The
    middle rows, reached by the whole kernel, form one span; each edge row is its own. Cached:
    a training loop asks for the same few geometries every step (15 us each time otherwise)."""
    (hp, _), ho, kh = geo.padded_hw, geo.out_hw[0], geo.kernel[0]
    spans: list[tuple[int, int, int, int]] = []
    for r in range(hp):
        i0, i1 = max(0, kh - 1 - r), kh - max(0, r - ho + 1)
        if spans and spans[-1][2:] == (i0, i1):
            spans[-1] = (spans[-1][0], r + 1, i0, i1)
        else:
            spans.append((r, r + 1, i0, i1))
    return tuple(spans)


def _conv_transpose_stacked(w: np.ndarray, yq: np.ndarray, n: int, geo: ConvGeometry) -> np.ndarray:
    """The stride-1 transposed convolution from :func:`_grad_layout`'s row stack. Returns an NCHW
    view of rows-outermost (H, C, W, N) memory, the layout of a conv's output.

    Input row r of the result gathers output rows r-kh+1 .. r (those inside the output): in the
    stack, one (rows*F/G, W'*N) block read in place. A batched GEMM per span of rows that the same
    kernel rows reach (:func:`_row_spans`; LeNet's 6->16 conv: the 6 middle rows in one GEMM, the
    8 edge rows one each), (kw*Cg, rows*F/G) @ block, sums all kernel rows at once; then kw
    strided adds fold the kernel columns. Each span's GEMMs write one contiguous block of the
    (G, Hp, kw*Cg, W'*N) result, and the fold writes rows outermost, so that the pooling layer
    below, whose gradients lie so, takes the result without a copy (LeNet-5 step 0.95-0.97 of
    the time against a (C, H, W, N) result). The stack needs no zero rows, so the gradient that
    arrives rows-outermost is read where it lies (LeNet-5 step 0.90-0.98 of the time against a
    zero-padded copy), and the GEMMs skip the zero blocks that such a copy multiplied (28% of
    the products at that conv). Nothing the size of the (kh*kw*Cg, H'*W'*N) column matrix is
    written (1.1 MB instead of 3.8 MB there), which pays on these 2-core VMs, where the OpenBLAS
    worker writes half of each GEMM result and the main thread then reads it from the other core."""
    g, wo, (kh, kw), dw = geo.groups, geo.out_hw[1], geo.kernel, geo.dilation[1]
    (hp, wp), (fg, cg) = geo.padded_hw, (w.shape[0] // geo.groups, w.shape[1])
    s = yq.strides
    assert s[1] == fg * s[2], "the row stack must be contiguous across its rows"
    # a[g, (j, c), (i', f)] = w[g*fg + f, c, kh-1-i', j]: block row i' is output row r-kh+1+i'
    a = w.reshape(g, fg, cg, kh, kw)[:, :, :, ::-1].transpose(0, 4, 2, 3, 1).reshape(g, 1, kw * cg, kh * fg)
    rows = np.empty((g, hp, kw * cg, wo * n), yq.dtype)
    spans = _row_spans(geo)
    assert spans[0][0] == 0 and spans[-1][1] == hp, "at stride 1 every input row meets the kernel"
    for r0, r1, i0, i1 in spans:
        first = r0 - kh + 1 + i0
        if r1 - r0 == 1:  # one input row: its output rows are a plain slice (as_strided costs 5-10 us a call)
            block = yq[:, first:first + i1 - i0].reshape(g, 1, (i1 - i0) * fg, wo * n)
        else:  # overlapping blocks, one per input row
            block = as_strided(yq[:, first:], (g, r1 - r0, (i1 - i0) * fg, wo * n), s, writeable=False)
        np.matmul(a[..., i0 * fg:i1 * fg], block, out=rows[:, r0:r1])
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


def _conv_np(x: np.ndarray, w: np.ndarray, geo: ConvGeometry) -> tuple[np.ndarray, np.ndarray]:
    """The convolution, NCHW out (batch-innermost in memory), and the windows the weight
    gradient will need (:func:`_row_windows` or :func:`_im2col`'s matrix)."""
    n, (ho, wo), g, f = x.shape[0], geo.out_hw, geo.groups, w.shape[0]
    if not _uses_row_windows(geo):
        cols = _im2col(x, geo)
        out = _matmul_few_rows(_weight_matrix(w, g), cols)  # (G, F/G, H'*W'*N)
        return out.reshape(f, ho, wo, n).transpose(3, 0, 1, 2), cols
    windows = _row_windows(x, geo)
    m, (cg, kh, kw) = f // g, w.shape[1:]
    wm = w.reshape(g, m, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(g, 1, m, kh * kw * cg)
    # rows outermost, (H', F, W', N): each output row's GEMM writes one contiguous block, and the
    # gradient that comes back through ReLU and pooling (which keep the layout) is already in
    # the order of _grad_layout's row stack
    out = np.empty((ho, g, m, wo * n), x.dtype)
    np.matmul(wm, windows, out=out.transpose(1, 0, 2, 3))  # one GEMM per output row, in place
    return out.reshape(ho, f, wo, n).transpose(3, 1, 0, 2), windows


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
                    yq: np.ndarray | None = None) -> np.ndarray:
    """conv2d's weight gradient; ``cols`` optionally holds the windows :func:`_conv_np` returned."""
    if yq is None:
        yq = _grad_layout(y, geo)
    if _uses_row_windows(geo):
        windows = _row_windows(x, geo) if cols is None else cols
        g, m, cg, (kh, kw) = geo.groups, y.shape[1] // geo.groups, x.shape[1] // geo.groups, geo.kernel
        per_row = np.matmul(windows, _per_output_row(yq, geo))  # (G, H', K, F/G)
        return per_row.sum(axis=1).reshape(g, kh, kw, cg, m).transpose(0, 4, 3, 1, 2).reshape(g * m, cg, kh, kw)
    if cols is None:
        cols = _im2col(x, geo)
    if yq.shape[1] >= 16:  # (cols @ g^T)^T: 0.66-0.93 of the time at LeNet's second conv's shape (16 filters)
        gw = np.matmul(cols, yq.transpose(0, 2, 1)).transpose(0, 2, 1)
    else:
        gw = _matmul_few_rows(yq, cols.transpose(0, 2, 1))  # (G, F/G, Cg*kh*kw)
    return gw.reshape(y.shape[1], x.shape[1] // geo.groups, *geo.kernel)


# ----------------------------------------------------------------------------- primitives
def _bias_grad(g: Tensor) -> Tensor:
    return _sum(g, (0, 2, 3))


def _bias_grad_from(gq: np.ndarray, g: Tensor, geo: ConvGeometry) -> Tensor:
    """The bias gradient from ``gq``, g already in :func:`_grad_layout` for the GEMMs (contiguous
    runs per filter: a product with ones, 0.06 -> 0.01 ms at LeNet's 64x16x10x10); the graph op
    instead while recording a graph (``create_graph``)."""
    if is_grad_enabled():
        return _bias_grad(g)
    sums = gq.reshape(-1, gq.shape[-1]) @ _ones(gq.shape[-1], gq.dtype.str)
    if _uses_stacked_rows(geo):  # (G, H', F/G): per output row and filter, then over the rows
        sums = sums.reshape(gq.shape[:3]).sum(axis=1)
    return Tensor(sums.reshape(-1))


def conv2d_op(x: Tensor, w: Tensor, b: Tensor | None, geo: ConvGeometry) -> Tensor:
    """The convolution primitive on validated arguments. Shape: (N, C, H, W) -> (N, F, H', W')."""
    out, cols = _conv_np(x.data, w.data, geo)
    if b is not None:
        out += b.data.reshape(1, -1, 1, 1)  # in place: out is the fresh GEMM result
    keep_cols = cols if w.requires_grad else None

    def backward(g: Tensor) -> tuple:
        gq = _grad_layout(g.data, geo)  # shared by both gradients' GEMMs
        gx = conv_transpose_op(g, w, None, geo, gq) if x.requires_grad else None
        gw = _conv2d_weight_op(x, g, geo, keep_cols, gq) if w.requires_grad else None
        gb = _bias_grad_from(gq, g, geo) if b is not None and b.requires_grad else None
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
        gw = _conv2d_weight_op(g, y, geo, None) if w.requires_grad else None
        gb = _bias_grad(g) if b is not None and b.requires_grad else None
        return gy, gw, gb

    parents = (y, w) if b is None else (y, w, b)
    return make_op("conv_transpose2d", out, parents, backward, geo.meta)


def _conv2d_weight_op(x: Tensor, y: Tensor, geo: ConvGeometry, cols: np.ndarray | None,
                      yq: np.ndarray | None = None) -> Tensor:
    """The correlation of input and output gradient: conv2d's weight gradient. Shape -> (F, C/G, kh, kw).
    ``cols``/``yq`` optionally hold x's im2col matrix and y in the internal layout, already made."""
    gw = _conv_weight_np(x.data, y.data, geo, cols, yq)

    def backward(g: Tensor) -> tuple:
        gx = conv_transpose_op(y, g, None, geo) if x.requires_grad else None
        gy = conv2d_op(x, g, None, geo) if y.requires_grad else None
        return gx, gy

    return make_op("conv2d_weight", gw, (x, y), backward, geo.meta)


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
    return _conv2d_weight_op(input, grad_output, geo, None)


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
