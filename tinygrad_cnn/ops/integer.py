"""Floor division, remainder and the bitwise ops (``// % & | ^``), with PyTorch's dtypes and rules.

``remainder`` is differentiable (da = g, db = -g * floor(a / b)); ``floor_divide`` records a node
whose backward raises, as PyTorch's does, so that a gradient through it is never silently 0.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import make_op
from ..tensor import Tensor
from .elementwise import _operands, mul, neg, result_type
from .registry import register
from ..errors import ShapeError


def _promoted(op: str, a: Tensor, b: Tensor, bools: bool = True) -> tuple[np.ndarray, np.ndarray]:
    dtype = result_type(a, b)
    if dtype == np.bool_ and not bools:
        raise TypeError(f"{op}: not defined for bool tensors (as in PyTorch)")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    return a._data.astype(dtype, copy=False), b._data.astype(dtype, copy=False)


def _divide(op: str, ufunc: Any, a: Tensor, b: Tensor) -> np.ndarray:
    """``ufunc(a, b)`` (floor_divide or mod) in the promoted dtype; integer division by zero raises,
    as PyTorch's, and float division by zero gives inf/NaN without a warning."""
    x, y = _promoted(op, a, b, bools=False)
    if y.dtype.kind in "iu" and not np.all(y):
        raise ZeroDivisionError(f"{op}: integer division by zero")
    with np.errstate(divide="ignore", invalid="ignore"):
        return ufunc(x, y)


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``: the quotient rounded down (PyTorch's ``//``); ints stay ints. Shape: broadcast(a, b).

    >>> (Tensor([7.0, -7.0]) // 2).tolist()
    [3.0, -4.0]
    """
    a, b = _operands(a, b, "floor_divide")
    data = _divide("floor_divide", np.floor_divide, a, b)

    def backward(g: Tensor) -> tuple:
        raise RuntimeError("the derivative for 'floor_divide' is not implemented (as in PyTorch): its gradient "
                           "is 0 almost everywhere; detach() the quotient if that is what you mean")

    return make_op("floor_divide", data, (a, b), backward, saved=())


@register
def remainder(a: Any, b: Any) -> Tensor:
    """``a % b`` with the sign of ``b`` (Python's and PyTorch's ``%``). Shape: broadcast(a, b).

    >>> (Tensor([5.0, -5.0]) % 3).tolist()
    [2.0, 1.0]
    """
    a, b = _operands(a, b, "remainder")
    data = _divide("remainder", np.mod, a, b)

    def backward(g: Tensor) -> tuple:
        gb = None
        if b.requires_grad:  # a % b = a - b * floor(a / b): the quotient is a constant almost everywhere
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.floor_divide(a._data, b._data).astype(g.dtype)
            gb = neg(mul(g, Tensor(q)))
        return g, gb

    return make_op("remainder", data, (a, b), backward, saved=(a, b) if b.requires_grad else ())


def _bitwise(op: str, ufunc: Any, a: Any, b: Any) -> Tensor:
    a, b = _operands(a, b, op)
    x, y = _promoted(op, a, b)
    if x.dtype.kind not in "iub":
        raise TypeError(f"{op}: defined for integer and bool tensors only, got dtype {x.dtype}")
    return Tensor(ufunc(x, y))


def bitwise_and(a: Any, b: Any) -> Tensor:
    """``a & b`` bit by bit (logical for bool). Shape: broadcast(a, b).

    >>> (Tensor(np.array([6, 5])) & 3).tolist()
    [2, 1]
    """
    return _bitwise("bitwise_and", np.bitwise_and, a, b)


def bitwise_or(a: Any, b: Any) -> Tensor:
    """``a | b`` bit by bit (logical for bool). Shape: broadcast(a, b).

    >>> (Tensor(np.array([6, 5])) | 8).tolist()
    [14, 13]
    """
    return _bitwise("bitwise_or", np.bitwise_or, a, b)


def bitwise_xor(a: Any, b: Any) -> Tensor:
    """``a ^ b`` bit by bit (logical for bool). Shape: broadcast(a, b).

    >>> (Tensor(np.array([6, 5])) ^ 3).tolist()
    [5, 6]
    """
    return _bitwise("bitwise_xor", np.bitwise_xor, a, b)


def bitwise_not(a: Tensor) -> Tensor:
    """``~a`` bit by bit (logical for bool). Shape: unchanged.

    >>> (~Tensor(np.array([True, False]))).tolist()
    [False, True]
    """
    if a.dtype.kind not in "iub":
        raise TypeError(f"bitwise_not: defined for integer and bool tensors only, got dtype {a.dtype}")
    return Tensor(np.invert(a._data))
