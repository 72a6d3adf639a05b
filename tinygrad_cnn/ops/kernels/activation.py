"""Activation kernels."""
from __future__ import annotations

import numpy as np

from .select import has_twin


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``, keeping ``x``'s memory layout. numpy's maximum against a scalar runs without
    SIMD; against a row of zeros broadcast along the innermost axis in memory it vectorizes.
    Shape: unchanged.

    >>> relu(np.array([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """
    if x.size < 4096:
        return np.maximum(x, 0)
    inner = min(range(x.ndim), key=lambda ax: abs(x.strides[ax]) if x.shape[ax] > 1 else np.inf)
    zeros = np.zeros([x.shape[ax] if ax == inner else 1 for ax in range(x.ndim)], dtype=x.dtype)
    return np.maximum(x, zeros)


def relu_mask(out: np.ndarray) -> np.ndarray:
    """Where relu passes its gradient on, from its output ``out``: ``out != 0`` is exactly
    ``not x <= 0`` (PyTorch's rule; true at NaN, which the output keeps). Shape: unchanged, bool.

    >>> relu_mask(relu(np.array([-1.0, 0.0, 2.0, np.nan]))).tolist()
    [False, False, True, True]
    """
    return np.not_equal(out, 0)


@has_twin
def relu_with_mask(x: np.ndarray, need_mask: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`relu`, and with ``need_mask`` its :func:`relu_mask` (the twin writes both in one pass).
    Shape: unchanged, and bool or None.

    >>> out, mask = relu_with_mask(np.array([-1.0, 2.0]), True)
    >>> out.tolist(), mask.tolist()
    ([0.0, 2.0], [False, True])
    """
    out = relu(x)
    return out, relu_mask(out) if need_mask else None
