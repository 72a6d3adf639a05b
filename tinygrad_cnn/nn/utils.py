"""``torch.nn.utils``: gradient clipping and parameters as one vector."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor


def _with_grads(parameters: Any) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm is at most ``max_norm``;
    returns the norm before clipping, as PyTorch's.

    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([4.0])
    >>> clip_grad_norm_([p], 2.0).item(), p.grad.tolist()
    (4.0, [2.0])
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor(np.float32(0.0))
    norm_type = float(norm_type)
    grads = [p.grad._data.astype(np.float64) for p in params if p.grad is not None]
    if norm_type == math.inf:
        total = float(np.max([np.abs(g).max(initial=0.0) for g in grads]))
    else:
        total = float(np.sum([(np.abs(g) ** norm_type).sum() for g in grads])) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}")
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            p.grad.mul_(coef)  # type: ignore[union-attr]
    return Tensor(np.asarray(total, dtype=params[0].grad.dtype))  # type: ignore[union-attr]


def clip_grad_value_(parameters: Any, clip_value: float) -> None:
    """Clamp every gradient into ``[-clip_value, clip_value]``, in place.

    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([4.0])
    >>> clip_grad_value_([p], 1.0); p.grad.tolist()
    [1.0]
    """
    for p in _with_grads(parameters):
        p.grad.clamp_(-clip_value, clip_value)  # type: ignore[union-attr]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters' values as one flat vector (a copy).

    >>> parameters_to_vector([Tensor([1.0, 2.0]), Tensor([[3.0]])]).tolist()
    [1.0, 2.0, 3.0]
    """
    return Tensor(np.concatenate([p._data.ravel() for p in parameters]))


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive pieces of ``vec`` into the parameters, in place (their versions bump).

    >>> p = Tensor([0.0, 0.0]); vector_to_parameters(Tensor([5.0, 6.0]), [p]); p.tolist()
    [5.0, 6.0]
    """
    from ..modes import no_grad

    start = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec._data[start:start + n].reshape(p.shape))
            start += n
    if start != vec.numel():
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements, the parameters {start}")
