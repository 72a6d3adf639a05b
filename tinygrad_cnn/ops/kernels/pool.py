"""Pooling kernels. Every loop runs over the kernel offsets only (kh*kw of them, or kh + kw for the
separable window sums), each step one large strided numpy operation over all windows; outputs
keep the input's memory layout (batch innermost after a conv)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .geometry import PoolGeometry
from .layout import batch_innermost, full_like_layout, like_layout
from .select import has_twin


def pad(x: np.ndarray, geo: PoolGeometry, value: float) -> np.ndarray:
    """``x`` padded by ``geo.pads`` with ``value``, in ``x``'s memory layout (``x`` itself when
    there is no padding). Shape: (N, C, H, W) -> (N, C, Hp, Wp)."""
    pt, pb, pl, pr = geo.pads
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = full_like_layout((n, c, h + pt + pb, w + pl + pr), x, value)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


def slabs(xp: np.ndarray, geo: PoolGeometry) -> list[np.ndarray]:
    """For each kernel offset (row-major), the strided view of the element it covers in every
    window of the padded ``xp``. Shape: (N, C, Hp, Wp) -> kh*kw views of (N, C, H', W')."""
    return [xp[:, :, rows, cols] for rows, cols in geo.offsets()]


def argmax_windows(x: np.ndarray, geo: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum (padding is -inf), and the kernel offset (row-major, int8 or int16)
    of its first maximal element. Shape: (N, C, H, W) -> two of (N, C, H', W')."""
    views = slabs(pad(batch_innermost(x), geo, -np.inf), geo)
    best = views[0].copy(order="K")  # "K": keep the input's memory layout
    for s in views[1:]:
        np.maximum(best, s, out=best)
    dtype = np.int16 if len(views) > 127 else np.int8
    which: np.ndarray = np.full_like(best, len(views) - 1, dtype=dtype)
    for k in range(len(views) - 2, -1, -1):  # walk backwards so the first maximum wins ties
        hit = (views[k] == best).view(np.int8).astype(dtype, copy=False)
        which -= (which - dtype(k)) * hit  # an integer select: faster than copyto(where=)
    return best, which


def flat_indices(which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """:func:`argmax_windows`'s offsets as PyTorch's indices into each flattened input plane; -1
    for a window lying wholly in the padding (possible with dilation). Shape: (N, C, H', W') int64."""
    (h, w), (ho, wo), kw = geo.in_hw, geo.out_hw, geo.kernel[1]
    (sh, sw), (dh, dw) = geo.stride, geo.dilation
    r = np.arange(ho).reshape(ho, 1) * sh + (which // kw).astype(np.int64) * dh - geo.pads[0]
    q = np.arange(wo) * sw + (which % kw).astype(np.int64) * dw - geo.pads[2]
    return np.where((r >= 0) & (r < h) & (q >= 0) & (q < w), r * w + q, -1).astype(np.int64)


def pick(x: np.ndarray, which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """From each window of the zero-padded ``x``, the element at kernel offset ``which``.
    Shape: (N, C, H, W), which (N, C, H', W') -> (N, C, H', W')."""
    views = slabs(pad(like_layout(x, which), geo, 0.0), geo)
    out = views[0] * (which == 0)
    for k, view in enumerate(views[1:], 1):
        out += view * (which == k)  # masks multiply: faster in numpy than copyto(where=)
    return out


def place(g: np.ndarray, which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Adjoint of :func:`pick`: each window's value goes to its element at offset ``which``;
    overlapping windows add up. Shape: (N, C, H', W') -> (N, C, H, W), in ``which``'s layout."""
    n, c = g.shape[:2]
    hp, wp = geo.padded_hw
    canvas = full_like_layout((n, c, hp, wp), which, None if geo.tiles else 0.0, g.dtype)
    g = like_layout(g, which)  # e.g. NCHW after a flatten's backward, while `which` is batch-innermost
    for k, (rows, cols) in enumerate(geo.offsets()):
        if geo.overlapping:
            canvas[:, :, rows, cols] += g * (which == k)
        else:  # windows are disjoint: each position is written by one offset only, straight into place
            np.multiply(g, which == k, out=canvas[:, :, rows, cols])
    (h, w), pt, pl = geo.in_hw, geo.pads[0], geo.pads[2]
    return canvas[:, :, pt:pt + h, pl:pl + w] if (hp, wp) != (h, w) else canvas


def _axis_slices(k: int, s: int, d: int, out: int) -> list[slice]:
    """For each kernel offset along one axis, the strided slice of the padded input it covers."""
    return [slice(i * d, i * d + s * (out - 1) + 1, s) for i in range(k)]


@has_twin
def window_sum(x: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """The sum of each zero-padded window, separably: over the kh row offsets, then the kw column
    offsets (kh + kw strided adds instead of kh * kw). Shape: (N, C, H, W) -> (N, C, H', W')."""
    xp = pad(batch_innermost(x), geo, 0.0)
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    row_slices = _axis_slices(kh, sh, dh, ho)
    rows = xp[:, :, row_slices[0], :].copy(order="K")
    for rs in row_slices[1:]:
        rows += xp[:, :, rs, :]
    col_slices = _axis_slices(kw, sw, dw, wo)
    out = rows[..., col_slices[0]].copy(order="K")
    for cs in col_slices[1:]:
        out += rows[..., cs]
    return out


@has_twin
def window_fold(g: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Adjoint of :func:`window_sum`: add each window's value to all its elements, spreading along
    columns, then rows; where windows do not overlap along an axis every position is written once,
    so plain assignment into an uninitialised buffer suffices. Shape: (N, C, H', W') -> (N, C, H, W)."""
    n, c = g.shape[:2]
    hp, wp = geo.padded_hw
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    g = batch_innermost(g)
    rows = full_like_layout((n, c, ho, wp), g, None if geo.tiles_axis(1) else 0.0)
    for cs in _axis_slices(kw, sw, dw, wo):
        if sw >= dw * (kw - 1) + 1:
            rows[..., cs] = g
        else:
            rows[..., cs] += g
    canvas = full_like_layout((n, c, hp, wp), g, None if geo.tiles_axis(0) else 0.0)
    for rs in _axis_slices(kh, sh, dh, ho):
        if sh >= dh * (kh - 1) + 1:
            canvas[:, :, rs, :] = rows
        else:
            canvas[:, :, rs, :] += rows
    (h, w), pt, pl = geo.in_hw, geo.pads[0], geo.pads[2]
    return canvas[:, :, pt:pt + h, pl:pl + w]


def avg_divisor(geo: PoolGeometry, count_include_pad: bool, divisor_override: Any) -> np.ndarray:
    """Per-window divisor, PyTorch's rule: windows are clipped to the padded input (never to the
    ceil_mode overhang); without count_include_pad, to the input itself. Shape: (H', W') float64."""
    if divisor_override is not None:
        return np.full(geo.out_hw, float(divisor_override))
    counts = []
    for size, out, k, s, p in zip(geo.in_hw, geo.out_hw, geo.kernel, geo.stride, geo.padding):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, size + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    return np.outer(counts[0], counts[1]).astype(np.float64)


def adaptive_matrix(n: int, out: int, dtype: Any) -> np.ndarray:
    """The averaging matrix of adaptive pooling along one axis, PyTorch's bins: output i averages
    inputs ``floor(i*n/out)`` to ``ceil((i+1)*n/out) - 1`` (bins overlap when ``out`` does not
    divide ``n``). Shape: (out, n).

    >>> adaptive_matrix(3, 2, np.float64).tolist()
    [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]]
    """
    i = np.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    j = np.arange(n)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)
