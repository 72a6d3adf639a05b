"""Losses, composed of registered primitives (so their gradients of every order come for free)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import composite, make_op
from ..tensor import Tensor, lift
from .activation import log_softmax, softplus
from .elementwise import absolute, clip, div, log, mul, sub, where
from .reduce import reduce_sum
from .registry import register
from ..errors import OpError, ShapeError

_REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss: Tensor, reduction: str, denom: float | None = None) -> Tensor:
    if reduction == "none":
        return loss
    total = reduce_sum(loss)
    if reduction == "sum":
        return total
    n = denom if denom is not None else loss.numel()
    return total * (1.0 / n) if n else total * float("nan")  # a mean over nothing is NaN, as PyTorch's


def _check_common(op: str, input: Any, reduction: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if reduction not in _REDUCTIONS:
        raise OpError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _class_targets(op: str, logp: Tensor, target: Any) -> tuple[np.ndarray, tuple]:
    """Integer class targets of the input's batch shape, and the input's shape with a batch axis
    (a single (C,) input is a batch of one). Shape: (N, ...) targets for (N, C, ...) inputs."""
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    if logp.ndim == 1:
        if t.ndim != 0:
            raise ShapeError(f"{op}: for input of shape {logp.shape}, target must be a scalar, got shape {t.shape}")
        return t.reshape(1), (1,) + logp.shape
    expected = logp.shape[:1] + logp.shape[2:]
    if t.shape != expected:
        raise ShapeError(f"{op}: target shape {t.shape} does not match input shape {logp.shape} "
                         f"(expected target shape {expected})")
    return t, logp.shape


def _class_weights(op: str, logp: Tensor, target: Any, ignore_index: int, label_smoothing: float,
                   weight: Any = None) -> tuple:
    """The constant (N, C, ...) matrix W with loss_i = -sum_c W[i, c] * logp[i, c], and the mean's
    divisor: the count of non-ignored targets, or with class ``weight`` the sum of their weights
    (PyTorch's rule). W folds one-hot targets, label smoothing, class weights and ignore_index
    into one product."""
    t, logp_shape = _class_targets(op, logp, target)
    n_cls = logp_shape[1]
    valid = t != ignore_index
    all_valid = bool(valid.all())
    checked = t if all_valid else t[valid]
    if checked.size and (checked.min() < 0 or checked.max() >= n_cls):
        bad = checked[(checked < 0) | (checked >= n_cls)].flat[0]
        raise IndexError(f"{op}: target {bad} is out of bounds for {n_cls} classes")
    safe = t if all_valid else np.where(valid, t, 0)
    classes = np.arange(n_cls).reshape((1, n_cls) + (1,) * (t.ndim - 1))
    w = (classes == safe[:, None]).astype(logp.dtype)
    if label_smoothing:
        w *= 1.0 - label_smoothing
        w += label_smoothing / n_cls
    if not all_valid:
        w *= valid[:, None]
    count: float = int(valid.sum()) if not all_valid else t.size
    if weight is not None:
        cw = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if cw.shape != (n_cls,):
            raise ShapeError(f"{op}: weight must have one entry per class, shape ({n_cls},), got {cw.shape}")
        w *= cw.astype(logp.dtype).reshape((1, n_cls) + (1,) * (t.ndim - 1))
        count = float(cw[safe][valid].sum())
    return w.reshape(logp.shape), count


def _legacy(op: str, size_average: Any, reduce: Any) -> None:
    if size_average is not None or reduce is not None:
        raise NotImplementedError(f"{op}: size_average and reduce are deprecated in PyTorch and not supported "
                                  "here; use reduction='mean', 'sum' or 'none'")


def _nll(op: str, logp: Tensor, target: Any, ignore_index: int, reduction: str, label_smoothing: float,
         weight: Any = None) -> Tensor:
    w, count = _class_weights(op, logp, target, ignore_index, label_smoothing, weight)
    if not np.isfinite(logp._data).all():  # a masked (-inf) logit outside the target: its weight 0 must not meet it
        logp = where(np.broadcast_to(w != 0, logp.shape), logp, 0.0)
    if reduction == "none":
        return reduce_sum(mul(logp, Tensor(-w, name="target weights")), 0 if logp.ndim == 1 else 1)
    # the minus sign and the mean's divisor go into the constant weights: two graph nodes, not five
    w *= -1.0 if reduction == "sum" or not count else -1.0 / count
    total = reduce_sum(mul(logp, Tensor(w, name="target weights")))
    return total if reduction == "sum" or count else total * float("nan")  # a mean over nothing is NaN


@register
@composite("nll_loss")
def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
             reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer ``target`` classes under log-probabilities ``input``.
    Shape: (N, C) with target (N,), or (N, C, d1, ..) with target (N, d1, ..) -> () or per item.

    >>> nll_loss(Tensor([[-1.0, -2.0]]), Tensor(np.array([1]))).item()
    2.0
    """
    _check_common("nll_loss", input, reduction)
    _legacy("nll_loss", size_average, reduce)
    return _nll("nll_loss", input, target, ignore_index, reduction, 0.0, weight)


@register
@composite("cross_entropy")
def cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: Any = None, ignore_index: int = -100,
                  reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input`` against integer class ``target`` or class
    probabilities (a float target of the input's shape), as PyTorch's (``ignore_index`` items
    excluded from the mean; ``label_smoothing`` mixes in the uniform).
    Shape: (N, C) logits, (N,) targets or (N, C) probabilities -> () (or (N,) with reduction='none').

    >>> round(cross_entropy(Tensor([[0.0, 0.0]]), Tensor(np.array([0]))).item(), 4)
    0.6931
    """
    _check_common("cross_entropy", input, reduction)
    _legacy("cross_entropy", size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise OpError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class dimension, got a scalar")
    logp = log_softmax(input, 0 if input.ndim == 1 else 1)
    if isinstance(target, Tensor) and target.dtype.kind == "f" or \
            isinstance(target, np.ndarray) and target.dtype.kind == "f":
        return _soft_cross_entropy(logp, lift(target, input), reduction, label_smoothing, weight)
    return _nll("cross_entropy", logp, target, ignore_index, reduction, label_smoothing, weight)


def _soft_cross_entropy(logp: Tensor, target: Tensor, reduction: str, label_smoothing: float, weight: Any) -> Tensor:
    """Cross-entropy against class probabilities (``target`` of the input's shape), as PyTorch's:
    -sum_c w_c t_c log p_c per item, the mean over items (not over weights); differentiable in
    the target too."""
    if target.shape != logp.shape:
        raise ShapeError(f"cross_entropy: a float target holds class probabilities and must have the input's shape "
                         f"{logp.shape}, got {target.shape} (class indices must be integers)")
    c_axis = 0 if logp.ndim == 1 else 1
    n_cls = logp.shape[c_axis]
    t = target if not label_smoothing else target * (1.0 - label_smoothing) + label_smoothing / n_cls
    if weight is not None:
        w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (n_cls,):
            raise ShapeError(f"cross_entropy: weight must have shape ({n_cls},), got {w.shape}")
        t = mul(t, Tensor(w.astype(logp.dtype).reshape((n_cls,) + (1,) * (logp.ndim - c_axis - 1))))
    per_item = -reduce_sum(mul(logp, t), c_axis)
    return _reduce(per_item, reduction)


def _same_shape(op: str, input: Tensor, target: Any) -> Tensor:
    target = lift(target, input)
    if target.shape != input.shape:
        raise ShapeError(f"{op}: target shape {target.shape} must equal input shape {input.shape}")
    return target


@register
@composite("mse_loss")
def mse_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target) ** 2``. Shape: input and target alike -> () or same.

    >>> mse_loss(Tensor([1.0, 3.0]), Tensor([0.0, 0.0])).item()
    5.0
    """
    _check_common("mse_loss", input, reduction)
    _legacy("mse_loss", size_average, reduce)
    target = _same_shape("mse_loss", input, target)
    d = sub(input, target)
    return _reduce(mul(d, d), reduction)


def _elementwise_weight(op: str, name: str, w: Any, input: Tensor, trailing: bool = False) -> Tensor | None:
    """A weight that must broadcast to the input's shape (``trailing``: to its last dimension, pos_weight's rule)."""
    if w is None:
        return None
    w = lift(w, input)
    try:
        np.broadcast_shapes(w.shape, input.shape[-1:] if trailing and input.ndim else input.shape)
    except ValueError:
        raise ShapeError(f"{op}: {name} of shape {w.shape} cannot be broadcast to the input's "
                         f"{'last dimension' if trailing else 'shape'} {input.shape}") from None
    return w


@register
@composite("binary_cross_entropy")
def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """BCE of probabilities ``input`` in [0, 1], each element's loss times ``weight`` (broadcast);
    logs clamped at -100 as PyTorch. Shape: input and target alike -> () or same.

    >>> round(binary_cross_entropy(Tensor([0.5]), Tensor([1.0])).item(), 4)
    0.6931
    """
    _check_common("binary_cross_entropy", input, reduction)
    _legacy("binary_cross_entropy", size_average, reduce)
    target = _same_shape("binary_cross_entropy", input, target)
    w = _elementwise_weight("binary_cross_entropy", "weight", weight, input)
    if np.any((input._data < 0) | (input._data > 1)):
        raise OpError("binary_cross_entropy: input values must lie in [0, 1]")
    return _reduce(_bce(input, target) if w is None else mul(_bce(input, target), w), reduction)


def _clamped_logs(p: np.ndarray) -> tuple:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100.0), np.maximum(np.log1p(-p), -100.0)


def _bce(p: Tensor, t: Tensor) -> Tensor:
    """Elementwise BCE with PyTorch's backward: dp = (p - t) / max(p (1 - p), 1e-12), finite (0 where
    p = t) at p = 0 and 1, where the chain rule through the clamped logs would give 0 * inf = NaN."""
    log_p, log_q = _clamped_logs(p._data)
    data = -(t._data * log_p + (1 - t._data) * log_q)

    def backward(g: Tensor) -> tuple:
        gp = mul(g, div(sub(p, t), clip(mul(p, sub(1.0, p)), 1e-12))) if p.requires_grad else None
        gt = None
        if t.requires_grad:  # the loss is linear in t: its derivative is the difference of the clamped logs
            with np.errstate(divide="ignore"):
                gt = mul(g, sub(clip(log(sub(1.0, p)), -100.0), clip(log(p), -100.0)))
        return gp, gt

    return make_op("binary_cross_entropy", data.astype(p.dtype, copy=False), (p, t), backward,
                   saved=(p, t) if p.requires_grad else (p,))


@register
@composite("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """BCE of ``sigmoid(input)``, computed as ``softplus(x) - x*t``: stable for large logits and
    smooth at 0. ``pos_weight`` (broadcast along the last dimension, one per class) scales the
    positive term, ``weight`` each element's loss, as PyTorch. Shape: input and target alike -> () or same.

    >>> round(binary_cross_entropy_with_logits(Tensor([0.0]), Tensor([1.0])).item(), 4)
    0.6931
    """
    op = "binary_cross_entropy_with_logits"
    _check_common(op, input, reduction)
    _legacy(op, size_average, reduce)
    target = _same_shape(op, input, target)
    w = _elementwise_weight(op, "weight", weight, input)
    pw = _elementwise_weight(op, "pos_weight", pos_weight, input, trailing=True)
    if pw is None:
        loss = softplus(input) - mul(input, target)
    else:  # (1 - t) * softplus(x) + pw * t * softplus(-x), with softplus(-x) = softplus(x) - x
        pt = mul(pw, target)
        loss = mul(softplus(input), sub(1.0, target) + pt) - mul(input, pt)
    return _reduce(loss if w is None else mul(loss, w), reduction)


@register
@composite("l1_loss")
def l1_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|`` (gradient 0 where they are equal, as PyTorch).
    Shape: input and target alike -> () or same.

    >>> l1_loss(Tensor([1.0, -3.0]), Tensor([0.0, 0.0])).item()
    2.0
    """
    _check_common("l1_loss", input, reduction)
    _legacy("l1_loss", size_average, reduce)
    target = _same_shape("l1_loss", input, target)
    return _reduce(absolute(sub(input, target)), reduction)


@register
@composite("smooth_l1_loss")
def smooth_l1_loss(input: Tensor, target: Any, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Huber-like loss: ``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, with
    ``d = input - target`` (``beta = 0`` is the L1 loss), as PyTorch. Shape: as l1_loss.

    >>> smooth_l1_loss(Tensor([0.5, 3.0]), Tensor([0.0, 0.0]), reduction="sum").item()
    2.625
    """
    _check_common("smooth_l1_loss", input, reduction)
    _legacy("smooth_l1_loss", size_average, reduce)
    if not isinstance(beta, (int, float)) or beta < 0:
        raise OpError(f"smooth_l1_loss: beta must be a number >= 0, got {beta!r}")
    target = _same_shape("smooth_l1_loss", input, target)
    d = sub(input, target)
    ad = absolute(d)
    if beta == 0:
        return _reduce(ad, reduction)
    inside = ad._data < beta
    dq = where(inside, d, 0.0)  # the square only of what it serves: an infinite d outside gives no 0 * inf
    return _reduce(where(inside, mul(mul(dq, dq), 0.5 / beta), sub(ad, 0.5 * beta)), reduction)
