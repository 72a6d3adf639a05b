"""ReLU's twin: the output and the mask the backward needs, in one pass over the memory."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..norm import memory_order
from . import floats, jit


@jit()
def _relu(x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > 0 or v != v else 0.0  # NaN passes, -0.0 becomes 0.0: numpy's maximum(x, 0)


@jit()
def _relu_mask(x: np.ndarray, out: np.ndarray, mask: np.ndarray) -> None:
    for i in range(x.size):
        v = x[i]
        keep = v > 0 or v != v
        out[i] = v if keep else 0.0
        mask[i] = keep


def relu_with_mask(x: np.ndarray, need_mask: bool) -> Any:
    """Twin of ``activation.relu_with_mask``: the output and the mask in ``x``'s memory order."""
    order = memory_order(x)
    moved = x.transpose(order)
    if not floats(x) or not moved.flags.c_contiguous:
        return NotImplemented
    back = np.argsort(order)
    out = np.empty(moved.shape, x.dtype)
    if not need_mask:
        _relu(moved.reshape(-1), out.reshape(-1))
        return out.transpose(back), None
    mask = np.empty(moved.shape, np.bool_)
    _relu_mask(moved.reshape(-1), out.reshape(-1), mask.reshape(-1).view(np.uint8))
    return out.transpose(back), mask.transpose(back)
