"""Batch normalization as one registered op: a few-pass numpy kernel forward and backward, and,
when a graph of the backward is asked for (``create_graph=True``), the same gradient written in
Tensor ops so that every higher order follows."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import OpError, ShapeError
from ..modes import is_grad_enabled
from ..graph import make_op
from ..tensor import Tensor
from .kernels import norm as kernels
from .registry import register


def _stats_array(v: Any, name: str, c: int) -> np.ndarray | None:
    """A running statistic as the ndarray updated in place (a Tensor's own array)."""
    if v is None:
        return None
    a = v._data if isinstance(v, Tensor) else v
    if not isinstance(a, np.ndarray) or a.shape != (c,):
        raise ShapeError(f"batch_norm: {name} must be an array or Tensor of shape ({c},), got "
                         f"{getattr(a, 'shape', type(a).__name__)}")
    return a


def _graph_grads(g: Tensor, x: Tensor, weight: Tensor | None, eps: float, axes: tuple) -> tuple:
    """The training-mode gradients in Tensor ops, recomputing the statistics from ``x`` so that
    their dependence on ``x`` is part of the graph (second and higher orders)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    centered = x - x.mean(axes, keepdim=True)
    invstd = ((centered * centered).mean(axes, keepdim=True) + eps) ** -0.5
    xhat = centered * invstd
    gw = g * xhat
    scale = invstd if weight is None else invstd * weight.reshape(shape)
    dx = scale * (g - g.mean(axes, keepdim=True) - xhat * gw.mean(axes, keepdim=True))
    return dx, gw.sum(axes), g.sum(axes)


@register
def batch_norm(input: Tensor, running_mean: Any, running_var: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Batch normalization per channel (axis 1) over every other axis, as ``F.batch_norm``: in
    training the batch's statistics, and the running ones (arrays or Tensors, updated in place
    with the unbiased variance and ``momentum``); otherwise the running statistics.
    Shape: (N, C) or (N, C, ...) -> the same.

    >>> x = Tensor(np.array([[1.0, 0.0], [3.0, 4.0]]))
    >>> batch_norm(x, None, None, training=True, eps=0.0).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    c = _check_batch_norm(input, weight, bias)
    rm, rv = _stats_array(running_mean, "running_mean", c), _stats_array(running_var, "running_var", c)
    if not training:
        return _batch_norm_eval(input, rm, rv, weight, bias, eps)
    m = input.numel() // c
    if m <= 1:
        raise ShapeError(f"batch_norm: expected more than 1 value per channel when training, got input shape "
                         f"{input.shape}")
    w = None if weight is None else weight._data
    out, centred, mean, var = kernels.bn_forward(input._data, w, None if bias is None else bias._data, eps)
    if rm is not None and rv is not None:
        _update_running(rm, rv, mean, var, m, momentum)
    axes = (0,) + tuple(range(2, input.ndim))

    def backward(g: Tensor) -> tuple:
        if is_grad_enabled():  # create_graph: the gradient must itself be differentiable
            dx, dw, db = _graph_grads(g, input, weight, eps, axes)
        else:
            dxa, dwa, dba = kernels.bn_backward(g._data, centred, var, w, eps)
            dx, dw, db = Tensor(dxa), Tensor(dwa), Tensor(dba)
        return (dx,) + ((dw,) if weight is not None else ()) + ((db,) if bias is not None else ())

    parents = tuple(t for t in (input, weight, bias) if t is not None)
    # the closure reads the input and the weight, never the bias
    return make_op("batch_norm", out, parents, backward, {"eps": eps},
                   saved=(input,) if weight is None else (input, weight))


def _check_batch_norm(input: Any, weight: Any, bias: Any) -> int:
    """batch_norm's argument checks; returns the number of channels."""
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: input must be (N, C) or (N, C, ...), got shape {input.shape}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.shape != (c,)):
            raise ShapeError(f"batch_norm: {name} must be a Tensor of shape ({c},), got "
                             f"{getattr(t, 'shape', type(t).__name__)}")
    return c


def _batch_norm_eval(input: Tensor, rm: Any, rv: Any, weight: Tensor | None, bias: Tensor | None,
                     eps: float) -> Tensor:
    """Eval mode: an affine map per channel from the running statistics, its gradients by composition."""
    if rm is None or rv is None:
        raise OpError("batch_norm: running_mean and running_var are required when not training")
    shape = (1, -1) + (1,) * (input.ndim - 2)
    invstd = Tensor((1.0 / np.sqrt(rv + eps)).astype(input.dtype))
    scale = invstd if weight is None else invstd * weight
    shift = -Tensor(rm.astype(input.dtype)) * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(shape) + shift.reshape(shape)


def _update_running(rm: np.ndarray, rv: np.ndarray, mean: np.ndarray, var: np.ndarray, m: int,
                    momentum: Any) -> None:
    """The running statistics, in place: ``r = (1 - momentum) r + momentum * batch`` (the variance
    unbiased over the ``m`` values per channel)."""
    if not isinstance(momentum, (int, float)):
        raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r}")
    rm *= 1 - momentum
    rm += (momentum * mean).astype(rm.dtype)
    rv *= 1 - momentum
    rv += (momentum * var * m / (m - 1)).astype(rv.dtype)
