"""LeNet-5 for 28x28 images: the classic layout with modern defaults (ReLU, max pooling)."""
from __future__ import annotations

from ..tensor import Tensor
from .layers import AvgPool2d, Conv2d, Linear, MaxPool2d, ReLU, Sigmoid, Tanh
from .module import Module

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
_POOLS = {"max": MaxPool2d, "avg": AvgPool2d}


class LeNet5(Module):
    """conv 6@5x5 pad 2 -> pool 2 -> conv 16@5x5 -> pool 2 -> fc 120 -> fc 84 -> fc classes.

    Shape: (N, in_channels, 28, 28) -> (N, num_classes) logits.

    >>> import numpy as np
    >>> LeNet5()(Tensor(np.zeros((2, 1, 28, 28), np.float32))).shape
    (2, 10)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, pool: str = "max", activation: str = "relu"):
        super().__init__()
        if pool not in _POOLS:
            raise ValueError(f"LeNet5: pool must be one of {sorted(_POOLS)}, got {pool!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        act, pooling = _ACTIVATIONS[activation], _POOLS[pool]
        self.conv1 = Conv2d(in_channels, 6, 5, padding=2)
        self.act1 = act()
        self.pool1 = pooling(2)
        self.conv2 = Conv2d(6, 16, 5)
        self.act2 = act()
        self.pool2 = pooling(2)
        self.fc1 = Linear(16 * 5 * 5, 120)
        self.act3 = act()
        self.fc2 = Linear(120, 84)
        self.act4 = act()
        self.fc3 = Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[2:] != (28, 28):
            raise ValueError(f"LeNet5: expected input (N, C, 28, 28), got shape {x.shape}")
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        x = x.flatten(1)
        x = self.act3(self.fc1(x))
        x = self.act4(self.fc2(x))
        return self.fc3(x)
