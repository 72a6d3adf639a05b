"""Activations and (log-)softmax. Kinks (relu at 0) take PyTorch's one-sided gradient (0)."""
from __future__ import annotations

import numpy as np

from ..modes import is_grad_enabled
from ..graph import make_op
from ..tensor import Tensor
from .elementwise import floating, mul, no_bool, sub
from .args import normalize_dim
from .reduce import reduce_sum
from .kernels import activation as kernels
from .registry import register


@register
def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``; gradient 0 at 0. Shape: unchanged.

    >>> relu(Tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    no_bool("relu", x)
    # the mask is kept instead of x (a quarter of its bytes), made while the output is still in cache
    out, mask = kernels.relu_with_mask(x._data, x.requires_grad and is_grad_enabled())

    def backward(g: Tensor) -> tuple:
        assert mask is not None, "a node is recorded only when the mask was made"
        return (mul(g, Tensor(mask)),)  # mul casts the mask to g's dtype first, the fast way

    return make_op("relu", out, (x,), backward, saved=())


@register
def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` where positive, else ``negative_slope * x``. Shape: unchanged.

    >>> leaky_relu(Tensor([-1.0, 2.0]), 0.1).tolist()
    [-0.10000000149011612, 2.0]
    """
    if not isinstance(negative_slope, (int, float)):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}")
    slope = np.where(x._data > 0, 1.0, negative_slope).astype(x.dtype)
    return make_op("leaky_relu", x._data * slope, (x,), lambda g: (mul(g, Tensor(slope)),),
                   {"negative_slope": negative_slope}, saved=())


@register
def sigmoid(x: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, stable for large ``|x|``. Shape: unchanged.

    >>> sigmoid(Tensor([0.0])).item()
    0.5
    """
    x = floating(x)
    data = np.exp(-np.logaddexp(0, -x._data)).astype(x.dtype, copy=False)
    return make_op("sigmoid", data, (x,), lambda g, out: (mul(g, mul(out, sub(1.0, out))),), saved=(),
                   needs_output=True)


@register
def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent. Shape: unchanged.

    >>> tanh(Tensor([0.0])).item()
    0.0
    """
    x = floating(x)
    return make_op("tanh", np.tanh(x._data), (x,), lambda g, out: (mul(g, sub(1.0, mul(out, out))),), saved=(),
                   needs_output=True)


@register
def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed after subtracting the max. Shape: unchanged.

    >>> softmax(Tensor([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    d = normalize_dim(dim, x.ndim, "softmax")
    e = np.exp(x._data - np.max(x._data, axis=d, keepdims=True))
    e /= np.sum(e, axis=d, keepdims=True)

    def backward(g: Tensor, out: Tensor) -> tuple:
        return (mul(out, sub(g, reduce_sum(mul(g, out), d, keepdim=True))),)

    return make_op("softmax", e, (x,), backward, {"dim": d}, saved=(), needs_output=True)


@register
def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``; stable for logits of 1e4 and beyond. Shape: unchanged.

    >>> round(log_softmax(Tensor([1e4, 0.0])).tolist()[1])
    -10000
    """
    from .elementwise import exp

    d = normalize_dim(dim, x.ndim, "log_softmax")
    shifted = x._data - np.max(x._data, axis=d, keepdims=True)
    data = shifted - np.log(np.sum(np.exp(shifted), axis=d, keepdims=True))

    def backward(g: Tensor, out: Tensor) -> tuple:
        return (sub(g, mul(exp(out), reduce_sum(g, d, keepdim=True))),)

    return make_op("log_softmax", data, (x,), backward, {"dim": d}, saved=(), needs_output=True)


@register
def softplus(x: Tensor) -> Tensor:
    """``log(1 + exp(x))``, stable for large ``|x|``; smooth everywhere. Shape: unchanged.

    >>> round(softplus(Tensor([0.0])).item(), 4)
    0.6931
    """
    return make_op("softplus", np.logaddexp(0, x._data).astype(x.dtype, copy=False), (x,),
                   lambda g: (mul(g, sigmoid(x)),), saved=(x,))
