"""RMSprop with PyTorch's update rule (optional momentum and centering)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """Divide the gradient by a running RMS of recent gradients, as ``torch.optim.RMSprop``.

    >>> from tinygrad_cnn import Tensor
    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([1.0])
    >>> RMSprop([p], lr=0.01).step(); round(p.item(), 4)  # 1 - 0.01 / sqrt(0.01)
    0.9
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))
        for name in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            self._check(name, self.defaults[name])

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        alpha, eps, mu = group["alpha"], group["eps"], group["momentum"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p._data
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p._data)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(p._data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p._data)
        state["step"] += 1
        sq = state["square_avg"]
        sq *= alpha
        sq += (1.0 - alpha) * (grad * grad)
        if group["centered"]:
            ga = state["grad_avg"]
            ga *= alpha
            ga += (1.0 - alpha) * grad
            avg = np.sqrt(sq - ga * ga) + eps
        else:
            avg = np.sqrt(sq) + eps
        if mu > 0:
            buf = state["momentum_buffer"]
            buf *= mu
            buf += grad / avg
            p._data -= group["lr"] * buf
        else:
            p._data -= group["lr"] * (grad / avg)
