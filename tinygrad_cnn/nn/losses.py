"""Loss modules, as ``torch.nn``'s: each holds its options and calls the functional loss."""
from __future__ import annotations

from typing import Any

from ..ops import loss as L
from ..tensor import Tensor
from .module import Module


def _no(feature: str, value: Any, cls: str) -> None:
    if value is not None:
        raise NotImplementedError(f"{cls}: '{feature}' is not supported by tinygrad_cnn yet (got {feature}=...); "
                                  "leave it None")


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits against class indices, as ``torch.nn.CrossEntropyLoss``.

    >>> import numpy as np
    >>> round(CrossEntropyLoss()(Tensor([[0.0, 0.0]]), Tensor(np.array([1]))).item(), 4)
    0.6931
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices under log-probabilities, as ``torch.nn.NLLLoss``."""

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error, as ``torch.nn.MSELoss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error, as ``torch.nn.L1Loss``."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Huber-like loss with threshold ``beta``, as ``torch.nn.SmoothL1Loss``."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities, as ``torch.nn.BCELoss``."""

    def __init__(self, weight: Any = None, reduction: str = "mean"):
        _no("weight", weight, "BCELoss")
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, as ``torch.nn.BCEWithLogitsLoss``."""

    def __init__(self, weight: Any = None, reduction: str = "mean", pos_weight: Any = None):
        _no("weight", weight, "BCEWithLogitsLoss")
        _no("pos_weight", pos_weight, "BCEWithLogitsLoss")
        super().__init__(reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return L.binary_cross_entropy_with_logits(input, target, self.reduction)
