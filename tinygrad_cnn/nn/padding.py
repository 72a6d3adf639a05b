"""Padding layers, as ``torch.nn``'s: each holds its widths (and value) and calls ``F.pad``."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import functional as F
from .module import Module


def _widths(cls: str, padding: Any, n: int) -> tuple[int, ...]:
    """``padding`` (an int, or 2*n ints: left, right, top, bottom) as 2*n non-negative ints."""
    widths = (padding,) * (2 * n) if isinstance(padding, int) else tuple(padding)
    if len(widths) != 2 * n or not all(isinstance(w, int) and w >= 0 for w in widths):
        raise ValueError(f"{cls}: padding must be a non-negative int or {2 * n} of them, got {padding!r}")
    return widths


class _Pad(Module):
    mode, dims = "constant", 2

    def __init__(self, padding: Any, value: float = 0.0):
        super().__init__()
        self.padding, self.value = _widths(type(self).__name__, padding, self.dims), value

    def forward(self, x: Tensor) -> Tensor:
        if self.mode == "constant":
            return F.pad(x, self.padding, value=self.value)
        return F.pad(x, self.padding, mode=self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}" + (f", value={self.value}" if self.mode == "constant" else "")


class ConstantPad2d(_Pad):
    """Pad H and W with ``value``. Shape: (N, C, H, W) -> (N, C, H + top + bottom, W + left + right).

    >>> ConstantPad2d((1, 0, 0, 0), 5.0)(Tensor([[[[1.0]]]])).tolist()
    [[[[5.0, 1.0]]]]
    """

    def __init__(self, padding: Any, value: float):
        super().__init__(padding, value)


class ZeroPad2d(_Pad):
    """Pad H and W with zeros. Shape: as ConstantPad2d.

    >>> ZeroPad2d(1)(Tensor([[[[1.0]]]])).shape
    (1, 1, 3, 3)
    """

    def __init__(self, padding: Any):
        super().__init__(padding, 0.0)


class ReflectionPad2d(_Pad):
    """Mirror H and W at their edges (the edge itself not repeated). Shape: as ConstantPad2d.

    >>> ReflectionPad2d((1, 1, 0, 0))(Tensor([[[[1.0, 2.0]]]])).tolist()
    [[[[2.0, 1.0, 2.0, 1.0]]]]
    """
    mode = "reflect"

    def __init__(self, padding: Any):
        super().__init__(padding)


class ReplicationPad2d(ReflectionPad2d):
    """Repeat the edge values of H and W. Shape: as ConstantPad2d.

    >>> ReplicationPad2d((1, 0, 0, 0))(Tensor([[[[1.0, 2.0]]]])).tolist()
    [[[[1.0, 1.0, 2.0]]]]
    """
    mode = "replicate"


class CircularPad2d(ReflectionPad2d):
    """Wrap H and W around. Shape: as ConstantPad2d.

    >>> CircularPad2d((1, 0, 0, 0))(Tensor([[[[1.0, 2.0]]]])).tolist()
    [[[[2.0, 1.0, 2.0]]]]
    """
    mode = "circular"


class ReflectionPad1d(ReflectionPad2d):
    """Mirror the last axis at its edges. Shape: (N, C, L) -> (N, C, L + left + right).

    >>> ReflectionPad1d(1)(Tensor([[[1.0, 2.0]]])).tolist()
    [[[2.0, 1.0, 2.0, 1.0]]]
    """
    dims = 1


class ReplicationPad1d(ReflectionPad2d):
    """Repeat the edge values of the last axis. Shape: (N, C, L) -> (N, C, L + left + right).

    >>> ReplicationPad1d((0, 2))(Tensor([[[1.0, 2.0]]])).tolist()
    [[[1.0, 2.0, 2.0, 2.0]]]
    """
    mode, dims = "replicate", 1
