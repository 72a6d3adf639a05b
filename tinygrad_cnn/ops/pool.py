"""Max and average pooling, built on two pairs of mutually adjoint primitives:

- ``pool_pick`` / ``pool_place``: max pooling's gradient places each window's value on the
  window's maximal element (overlapping windows add up); the gradient of that placement picks
  the same elements again.
- ``window_sum`` / ``window_fold``: average pooling sums each window then divides; the gradient
  spreads evenly back (fold); the fold's gradient is a window sum again.

Every loop runs over the kernel offsets only (kh*kw of them, or kh + kw for the separable window
sums), each step one large strided numpy operation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..tensor import Tensor, make_op
from .args import pair
from .geometry import WindowGeometry, batched_input
from .layout import batch_innermost, full_like_layout, like_layout
from .elementwise import mul
from .registry import register


@dataclass(frozen=True)
class PoolGeometry(WindowGeometry):
    """Window layout. Bottom/right ``pads`` include the extra rows and columns that ceil_mode
    windows hang over (never read for max, zeros for avg)."""

    padding: tuple[int, int]  # the user's symmetric padding

    @property
    def padded_hw(self) -> tuple[int, int]:
        pt, pb, pl, pr = self.pads
        return self.in_hw[0] + pt + pb, self.in_hw[1] + pl + pr

    @property
    def tiles(self) -> bool:
        """Whether the windows cover the padded input exactly once (no gaps, no overlap)."""
        return self.tiles_axis(0) and self.tiles_axis(1)

    def tiles_axis(self, axis: int) -> bool:
        k, s, d, out = self.kernel[axis], self.stride[axis], self.dilation[axis], self.out_hw[axis]
        return (k == 1 or d == 1) and s == k and out * k == self.padded_hw[axis]

    @property
    def overlapping(self) -> bool:
        """Whether an input element can fall in more than one window."""
        return any(s < d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def meta(self) -> dict:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        return {"args": f"{kh}x{kw} s{sh if sh == sw else f'{sh},{sw}'} p{ph if ph == pw else f'{ph},{pw}'}"}

    def offsets(self):
        """(row slice, column slice) into the padded input for each kernel offset, row-major."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.kernel, self.stride, self.dilation, self.out_hw
        for i in range(kh):
            for j in range(kw):
                yield (slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))


def _out_size(op: str, size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # PyTorch: the last window must start inside the input or its left padding
    return out


def pool_geometry(op: str, x_shape: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                  ceil_mode: bool) -> PoolGeometry:
    """Validate pooling arguments with PyTorch's rules."""
    kh, kw = pair(kernel_size, op, "kernel_size", 1)
    sh, sw = pair(kernel_size if stride is None or stride == () else stride, op, "stride", 1)
    ph, pw = pair(padding, op, "padding", 0)
    dh, dw = pair(dilation, op, "dilation", 1)
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(f"{op}: padding {padding!r} must be at most half the kernel size {(kh, kw)}")
    h, w = x_shape[2:]
    ho = _out_size(op, h, kh, sh, ph, dh, ceil_mode)
    wo = _out_size(op, w, kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: output size ({ho}, {wo}) is too small: kernel {(kh, kw)} (dilation {(dh, dw)}) "
                         f"does not fit the padded input; input shape {x_shape}")
    pb = max((ho - 1) * sh + dh * (kh - 1) + 1 - h - ph, 0)
    pr = max((wo - 1) * sw + dw * (kw - 1) + 1 - w - pw, 0)
    return PoolGeometry((h, w), (ho, wo), (kh, kw), (sh, sw), (ph, pb, pw, pr), (dh, dw), (ph, pw))


def _pad_np(x: np.ndarray, geo: PoolGeometry, value: float) -> np.ndarray:
    pt, pb, pl, pr = geo.pads
    if not (pt or pb or pl or pr):
        return x
    n, c, h, w = x.shape
    out = full_like_layout((n, c, h + pt + pb, w + pl + pr), x, value)
    out[:, :, pt:pt + h, pl:pl + w] = x
    return out


# ----------------------------------------------------------------------------- pick / place
def _slabs(xp: np.ndarray, geo: PoolGeometry) -> list[np.ndarray]:
    """For each kernel offset, the (N, C, H', W') strided view of the element it covers in every window."""
    return [xp[:, :, rs, cs] for rs, cs in geo.offsets()]


@register("pool_pick")
def pool_pick(x: Tensor, which: np.ndarray, geo: PoolGeometry) -> Tensor:
    """From each window of the zero-padded ``x``, the element at kernel offset ``which`` (row-major).
    Shape: (N, C, H, W), which (N, C, H', W') -> (N, C, H', W').

    >>> geo = pool_geometry("max_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> pool_pick(Tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), np.array([[[[2]]]]), geo).item()
    3.0
    """
    slabs = _slabs(_pad_np(like_layout(x.data, which), geo, 0.0), geo)
    out = slabs[0] * (which == 0)
    for k, slab in enumerate(slabs[1:], 1):
        out += slab * (which == k)  # masks multiply: far faster in numpy than copyto(where=)
    return make_op("pool_pick", out, (x,), lambda g: (pool_place(g, which, geo),), geo.meta)


@register("pool_place")
def pool_place(g: Tensor, which: np.ndarray, geo: PoolGeometry) -> Tensor:
    """Adjoint of :func:`pool_pick`: each window's value goes to its element at offset ``which``;
    overlapping windows add up. Shape: (N, C, H', W') -> (N, C, H, W).

    >>> geo = pool_geometry("max_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> pool_place(Tensor([[[[5.0]]]]), np.array([[[[1]]]]), geo).tolist()
    [[[[0.0, 5.0], [0.0, 0.0]]]]
    """
    n, c = g.shape[:2]
    hp, wp = geo.padded_hw
    canvas = full_like_layout((n, c, hp, wp), which, None if geo.tiles else 0.0, g.dtype)
    gd = like_layout(g.data, which)  # e.g. NCHW after a flatten's backward, while `which` is batch-innermost
    for k, (rs, cs) in enumerate(geo.offsets()):
        if geo.overlapping:
            canvas[:, :, rs, cs] += gd * (which == k)
        else:  # windows are disjoint: each position is written by one offset only, straight into place
            np.multiply(gd, which == k, out=canvas[:, :, rs, cs])
    (h, w), pt, pl = geo.in_hw, geo.pads[0], geo.pads[2]
    out = canvas[:, :, pt:pt + h, pl:pl + w] if (hp, wp) != (h, w) else canvas
    return make_op("pool_place", out, (g,), lambda gg: (pool_pick(gg, which, geo),), geo.meta)


def _argmax_windows(xp: np.ndarray, geo: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum, and the kernel offset (row-major) of its first maximal element,
    found with a few passes per kernel offset."""
    slabs = _slabs(xp, geo)
    best = slabs[0].copy(order="K")  # "K": keep the input's memory layout (batch innermost after a conv)
    for s in slabs[1:]:
        np.maximum(best, s, out=best)
    dtype = np.int16 if len(slabs) > 127 else np.int8
    which = np.full_like(best, len(slabs) - 1, dtype=dtype)
    for k in range(len(slabs) - 2, -1, -1):  # walk backwards so the first maximum wins ties
        hit = (slabs[k] == best).view(np.int8).astype(dtype, copy=False)
        which -= (which - dtype(k)) * hit  # integer select: much faster than copyto(where=)
    return best, which


def max_pool2d_op(x: Tensor, geo: PoolGeometry, return_indices: bool) -> Any:
    """The max-pool primitive on validated arguments; its backward places each window's gradient
    on the window's (first) maximal element."""
    best, which = _argmax_windows(_pad_np(batch_innermost(x.data), geo, -np.inf), geo)
    out = make_op("max_pool2d", best, (x,), lambda g: (pool_place(g, which, geo),), geo.meta)
    if not return_indices:
        return out
    (h, w), (ho, wo), kw = geo.in_hw, geo.out_hw, geo.kernel[1]
    (sh, sw), (dh, dw) = geo.stride, geo.dilation
    r = np.arange(ho).reshape(ho, 1) * sh + (which // kw).astype(np.int64) * dh - geo.pads[0]
    q = np.arange(wo) * sw + (which % kw).astype(np.int64) * dw - geo.pads[2]
    # a window lying wholly in the padding (possible with dilation) has max -inf and index -1
    idx = np.where((r >= 0) & (r < h) & (q >= 0) & (q < w), r * w + q, -1)
    return out, Tensor(idx.astype(np.int64))


@register("max_pool2d")
def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Max over sliding windows, as ``torch.nn.functional.max_pool2d`` (padding with -inf, at most
    half the kernel). Ties: the first maximal element of a window (row-major) takes the gradient;
    overlapping windows accumulate. ``return_indices`` gives flat indices per input plane (-1 for
    a window that, through dilation, holds only padding; its value is -inf).
    Shape: (N, C, H, W) -> (N, C, H', W').

    >>> max_pool2d(Tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2).tolist()
    [[[[4.0]]]]
    """
    x, unbatched = batched_input("max_pool2d", input)
    geo = pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    res = max_pool2d_op(x, geo, return_indices)
    if unbatched:
        if return_indices:
            return res[0].reshape(res[0].shape[1:]), res[1].reshape(res[1].shape[1:])
        return res.reshape(res.shape[1:])
    return res


# ----------------------------------------------------------------------------- window sum / fold
def _axis_slices(k: int, s: int, d: int, out: int) -> list[slice]:
    """For each kernel offset along one axis, the strided slice of the padded input it covers."""
    return [slice(i * d, i * d + s * (out - 1) + 1, s) for i in range(k)]


def _window_sum_np(x: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Window sums, separably: over the kh row offsets, then the kw column offsets (kh + kw
    strided adds instead of kh * kw)."""
    xp = _pad_np(batch_innermost(x), geo, 0.0)
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


@register("window_sum")
def window_sum(x: Tensor, geo: PoolGeometry) -> Tensor:
    """Sum of each (zero-padded) window. Shape: (N, C, H, W) -> (N, C, H', W').

    >>> g = pool_geometry("avg_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> window_sum(Tensor(np.ones((1, 1, 2, 2))), g).item()
    4.0
    """
    return make_op("window_sum", _window_sum_np(x.data, geo), (x,), lambda g: (window_fold(g, geo),), geo.meta)


@register("window_fold")
def window_fold(g: Tensor, geo: PoolGeometry) -> Tensor:
    """Adjoint of :func:`window_sum`: add each window's value to all its elements.
    Shape: (N, C, H', W') -> (N, C, H, W).

    >>> geo = pool_geometry("avg_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> window_fold(Tensor(np.ones((1, 1, 1, 1))), geo).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    n, c = g.shape[:2]
    hp, wp = geo.padded_hw
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    # the adjoint of the separable sum: spread along columns, then along rows; where windows do
    # not overlap along an axis every position is written once, so plain assignment suffices
    # (uninitialised buffers where the windows tile an axis exactly: every element gets assigned)
    gd = batch_innermost(g.data)
    rows = full_like_layout((n, c, ho, wp), gd, None if geo.tiles_axis(1) else 0.0)
    for cs in _axis_slices(kw, sw, dw, wo):
        if sw >= dw * (kw - 1) + 1:
            rows[..., cs] = gd
        else:
            rows[..., cs] += gd
    canvas = full_like_layout((n, c, hp, wp), gd, None if geo.tiles_axis(0) else 0.0)
    for rs in _axis_slices(kh, sh, dh, ho):
        if sh >= dh * (kh - 1) + 1:
            canvas[:, :, rs, :] = rows
        else:
            canvas[:, :, rs, :] += rows
    (h, w), pt, pl = geo.in_hw, geo.pads[0], geo.pads[2]
    out = canvas[:, :, pt:pt + h, pl:pl + w]
    return make_op("window_fold", out, (g,), lambda gg: (window_sum(gg, geo),), geo.meta)


def _avg_divisor(geo: PoolGeometry, count_include_pad: bool, divisor_override: Any) -> np.ndarray:
    """Per-window divisor, PyTorch's rule: windows are clipped to the padded input (never to the
    ceil_mode overhang); without count_include_pad, to the input itself."""
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


@register("avg_pool2d")
def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean over sliding windows, as ``torch.nn.functional.avg_pool2d``.
    Shape: (N, C, H, W) -> (N, C, H', W').

    >>> avg_pool2d(Tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2).tolist()
    [[[[2.5]]]]
    """
    x, unbatched = batched_input("avg_pool2d", input)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                         or divisor_override <= 0):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
    geo = pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    scale = Tensor((1.0 / _avg_divisor(geo, count_include_pad, divisor_override)).astype(x.dtype))
    out = make_op("avg_pool2d", _window_sum_np(x.data, geo) * scale.data, (x,),
                  lambda g: (window_fold(mul(g, scale), geo),), geo.meta)
    return out.reshape(out.shape[1:]) if unbatched else out
