"""Matrix product with NumPy/PyTorch semantics: 1-D, 2-D, batched, broadcast batch dimensions."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import make_op
from ..tensor import Tensor, lift
from .registry import register
from .reduce import reduce_sum
from .shape import permute_axes, reshape
from ..errors import ShapeError


def _mT(x: Tensor) -> Tensor:
    n = x.ndim
    return permute_axes(x, tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_nd(a: Tensor, b: Tensor) -> Tensor:
    """Both at least 2-D. Gradients come back in the broadcast batch shape; the engine sums them."""

    def backward(g: Tensor) -> tuple:
        return (_matmul_nd(g, _mT(b)) if a.requires_grad else None,
                _matmul_nd(_mT(a), g) if b.requires_grad else None)

    saved = ((b,) if a.requires_grad else ()) + ((a,) if b.requires_grad else ())
    return make_op("matmul", np.matmul(a._data, b._data), (a, b), backward, saved=saved)


@register
def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b``. Shape: (.., M, K) @ (.., K, N) -> (.., M, N); 1-D operands as numpy.

    >>> (Tensor([[1.0, 2.0]]) @ Tensor([[3.0], [4.0]])).tolist()
    [[11.0]]
    """
    a = lift(a, b if isinstance(b, Tensor) else None)
    b = lift(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ShapeError(f"matmul: inner dimensions differ: a {a.shape} has {ka} columns, b {b.shape} has {kb} rows")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions of {a.shape} and {b.shape} cannot be broadcast") from None
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


@register
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, weight of shape (out, in), as ``torch.nn.functional.linear``.
    One graph node instead of three (transpose, matmul, add): a fully connected layer is small,
    so per-op overhead is a good part of its cost. Shape: (.., in) -> (.., out).

    >>> linear(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3))), Tensor(np.zeros(4))).shape
    (2, 4)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"linear: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ShapeError(f"linear: weight must be a 2-D Tensor (out_features, in_features), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input's last dimension must be in_features={weight.shape[1]} "
                         f"(weight shape {weight.shape}), got input shape {input.shape}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (weight.shape[0],)):
        raise ShapeError(f"linear: bias must be a Tensor of shape ({weight.shape[0]},), "
                         f"got {getattr(bias, 'shape', type(bias).__name__)}")
    data = np.matmul(input._data, weight._data.T)
    if bias is not None:
        data += bias._data  # in place: data is the product's fresh array
    lead = input.shape[:-1]

    def backward(g: Tensor) -> tuple:
        # the checked public matmul only where a 1-D input needs its reshapes: per-op overhead counts here
        gx = (_matmul_nd(g, weight) if g.ndim >= 2 else matmul(g, weight)) if input.requires_grad else None
        gw = gb = None
        if weight.requires_grad:  # summed over every leading axis: (out, rows) @ (rows, in)
            g2, x2 = (g, input) if g.ndim == 2 else (reshape(g, (-1, weight.shape[0])),
                                                      reshape(input, (-1, weight.shape[1])))
            gw = _matmul_nd(_mT(g2), x2)
        if bias is not None and bias.requires_grad:
            gb = reduce_sum(g, tuple(range(len(lead)))) if lead else g
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (input, weight) if bias is None else (input, weight, bias)
    saved = ((weight,) if input.requires_grad else ()) + ((input,) if weight.requires_grad else ())
    return make_op("linear", data, parents, backward, saved=saved)
