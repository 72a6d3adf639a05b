"""Adadelta with PyTorch's update rule."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adadelta(Optimizer):
    """Step by the ratio of running RMS of past steps and of gradients, times ``lr``, as
    ``torch.optim.Adadelta``.

    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([1.0])
    >>> Adadelta([p], lr=1.0).step(); round(p.item(), 6)  # 1 - sqrt(1e-6) / sqrt(0.1 + 1e-6)
    0.996838
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))
        for name in ("lr", "eps", "weight_decay"):
            self._check(name, self.defaults[name])
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: rho must be in [0, 1], got {rho!r}")

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        rho, eps = group["rho"], group["eps"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p._data
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p._data)
            state["acc_delta"] = np.zeros_like(p._data)
        state["step"] += 1
        sq, acc = state["square_avg"], state["acc_delta"]
        sq *= rho
        sq += (1.0 - rho) * (grad * grad)
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * grad
        acc *= rho
        acc += (1.0 - rho) * (delta * delta)
        p._data -= group["lr"] * delta
