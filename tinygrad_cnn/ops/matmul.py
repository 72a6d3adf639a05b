"""Matrix product with NumPy/PyTorch semantics: 1-D, 2-D, batched, broadcast batch dimensions."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor, make_op
from .registry import register
from .shape import reshape, transpose


def _mT(x: Tensor) -> Tensor:
    return transpose(x, -1, -2)


def _matmul_nd(a: Tensor, b: Tensor) -> Tensor:
    """Both at least 2-D. Gradients come back in the broadcast batch shape; the engine sums them."""

    def backward(g: Tensor) -> tuple:
        return (_matmul_nd(g, _mT(b)) if a.requires_grad else None,
                _matmul_nd(_mT(a), g) if b.requires_grad else None)

    return make_op("matmul", np.matmul(a.data, b.data), (a, b), backward)


@register("matmul")
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b``. Shape: (.., M, K) @ (.., K, N) -> (.., M, N); 1-D operands as numpy.

    >>> (Tensor([[1.0, 2.0]]) @ Tensor([[3.0], [4.0]])).tolist()
    [[11.0]]
    """
    a = as_tensor(a, b if isinstance(b, Tensor) else None)
    b = as_tensor(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(f"matmul: inner dimensions differ: a {a.shape} has {ka} columns, b {b.shape} has {kb} rows")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of {a.shape} and {b.shape} cannot be broadcast") from None
    squeeze_a, squeeze_b = a.ndim == 1, b.ndim == 1
    if squeeze_a:
        a = reshape(a, (1, ka))
    if squeeze_b:
        b = reshape(b, (kb, 1))
    out = _matmul_nd(a, b)
    if squeeze_a or squeeze_b:
        rows = () if squeeze_a else (out.shape[-2],)
        shape = out.shape[:-2] + rows + (() if squeeze_b else (out.shape[-1],))
        out = reshape(out, shape)
    return out
