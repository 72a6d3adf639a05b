"""Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer


class SGD(Optimizer):
    """``p -= lr * d`` where d is the (weight-decayed, momentum-averaged) gradient, as ``torch.optim.SGD``.

    >>> from tinygrad_cnn import Tensor
    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([0.5])
    >>> SGD([p], lr=0.1).step(); p.tolist()
    [0.949999988079071]
    """

    def __init__(self, params: Iterable[Any], lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))
        for name in ("lr", "momentum", "weight_decay"):
            self._check(name, self.defaults[name])
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires a momentum > 0 and zero dampening")

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        d = grad
        if group["weight_decay"]:
            d = d + group["weight_decay"] * p._data
        mu = group["momentum"]
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(d, dtype=p.dtype, copy=True)
            else:
                buf *= mu
                buf += (1.0 - group["dampening"]) * d
            d = d + mu * buf if group["nesterov"] else buf
        p._data -= group["lr"] * d
