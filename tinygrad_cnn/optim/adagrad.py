"""Adagrad with PyTorch's update rule."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Divide by the root of the sum of all past squared gradients, as ``torch.optim.Adagrad``.

    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([2.0])
    >>> Adagrad([p], lr=0.1).step(); round(p.item(), 6)
    0.9
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._check(name, self.defaults[name])

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p._data
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p._data, group["initial_accumulator_value"])
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        p._data -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])
