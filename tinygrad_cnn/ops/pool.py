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

from typing import Any

import numpy as np

from ..graph import make_op
from ..tensor import Tensor
from .elementwise import mul
from .geometry import PoolGeometry, batched_input, pool_geometry
from .kernels import pool as kernels
from .registry import register
from ..errors import OpError


# ----------------------------------------------------------------------------- max: pick / place
@register
def pool_pick(x: Tensor, which: np.ndarray, geo: PoolGeometry) -> Tensor:
    """From each window of the zero-padded ``x``, the element at kernel offset ``which`` (row-major).
    Shape: (N, C, H, W), which (N, C, H', W') -> (N, C, H', W').

    >>> geo = pool_geometry("max_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> pool_pick(Tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), np.array([[[[2]]]]), geo).item()
    3.0
    """
    return make_op("pool_pick", kernels.pick(x._data, which, geo), (x,), lambda g: (pool_place(g, which, geo),),
                   geo.meta, saved=())


@register
def pool_place(g: Tensor, which: np.ndarray, geo: PoolGeometry) -> Tensor:
    """Adjoint of :func:`pool_pick`: each window's value goes to its element at offset ``which``;
    overlapping windows add up. Shape: (N, C, H', W') -> (N, C, H, W).

    >>> geo = pool_geometry("max_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> pool_place(Tensor([[[[5.0]]]]), np.array([[[[1]]]]), geo).tolist()
    [[[[0.0, 5.0], [0.0, 0.0]]]]
    """
    return make_op("pool_place", kernels.place(g._data, which, geo), (g,), lambda gg: (pool_pick(gg, which, geo),),
                   geo.meta, saved=())


def max_pool2d_op(x: Tensor, geo: PoolGeometry, return_indices: bool) -> Any:
    """The max-pool primitive on validated arguments; its backward places each window's gradient
    on the window's (first) maximal element."""
    best, which = kernels.argmax_windows(x._data, geo)
    out = make_op("max_pool2d", best, (x,), lambda g: (pool_place(g, which, geo),), geo.meta, saved=())
    return (out, Tensor(kernels.flat_indices(which, geo))) if return_indices else out


@register
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
@register
def window_sum(x: Tensor, geo: PoolGeometry) -> Tensor:
    """Sum of each (zero-padded) window. Shape: (N, C, H, W) -> (N, C, H', W').

    >>> g = pool_geometry("avg_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> window_sum(Tensor(np.ones((1, 1, 2, 2))), g).item()
    4.0
    """
    return make_op("window_sum", kernels.window_sum(x._data, geo), (x,), lambda g: (window_fold(g, geo),), geo.meta,
                   saved=())


@register
def window_fold(g: Tensor, geo: PoolGeometry) -> Tensor:
    """Adjoint of :func:`window_sum`: add each window's value to all its elements.
    Shape: (N, C, H', W') -> (N, C, H, W).

    >>> geo = pool_geometry("avg_pool2d", (1, 1, 2, 2), 2, None, 0, 1, False)
    >>> window_fold(Tensor(np.ones((1, 1, 1, 1))), geo).tolist()
    [[[[1.0, 1.0], [1.0, 1.0]]]]
    """
    return make_op("window_fold", kernels.window_fold(g._data, geo), (g,), lambda gg: (window_sum(gg, geo),),
                   geo.meta, saved=())


@register
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
        raise OpError(f"avg_pool2d: divisor_override must be a positive int, got {divisor_override!r}")
    geo = pool_geometry("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    scale = Tensor((1.0 / kernels.avg_divisor(geo, count_include_pad, divisor_override)).astype(x.dtype))
    def meta() -> dict:  # made only when a picture or an export asks
        return dict(geo.meta(), count_include_pad=count_include_pad, divisor_override=divisor_override)

    out = make_op("avg_pool2d", kernels.window_sum(x._data, geo) * scale._data, (x,),
                  lambda g: (window_fold(mul(g, scale), geo),), meta, saved=())
    return out.reshape(out.shape[1:]) if unbatched else out
