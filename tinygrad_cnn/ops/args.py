"""Argument normalisers shared by the ops: axes (``dim``), int-or-pair sizes, positive ints.
Each returns the canonical form or raises an error naming the op, the argument and what it got."""
from __future__ import annotations

from typing import Any

import numpy as np
from ..errors import OpError


class DimError(IndexError, ValueError):
    """An out-of-range ``dim``: an IndexError as in PyTorch, and a ValueError as for any bad argument."""


def normalize_dim(dim: int, ndim: int, op: str, extra: int = 0) -> int:
    """``dim`` as a non-negative axis of an ``ndim``-D tensor (``extra`` more axes allowed, as
    unsqueeze and stack insert one), or a clear error."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    n = ndim + extra if ndim + extra > 0 else 1
    if not -n <= dim < n:
        raise DimError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dimensions "
                       f"(expected a value in [{-n}, {n - 1}])")
    return dim % n if ndim + extra else 0


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` (None, an int or a sequence) as a sorted tuple of axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = tuple(dim)
    else:
        dims = (dim,)
    axes = tuple(sorted({normalize_dim(d, ndim, op) for d in dims}))
    if len(axes) != len(dims):
        raise OpError(f"{op}: dim {dim} names an axis twice")
    return axes if ndim else ()


def pair(value: Any, op: str, arg: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each at least ``minimum``, as a pair; else a ValueError naming ``arg``.

    >>> pair(3, "conv2d", "stride", 1), pair((1, 2), "conv2d", "padding", 0)
    ((3, 3), (1, 2))
    """
    if type(value) is int and value >= minimum:  # the common case, without the general checks' cost
        return value, value
    vals = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if (not isinstance(vals, (tuple, list)) or len(vals) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)):
        raise OpError(f"{op}: {arg} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in vals):
        raise OpError(f"{op}: {arg} must be >= {minimum}, got {value!r}")
    return int(vals[0]), int(vals[1])


def positive_int(value: Any, op: str, arg: str) -> int:
    """``value`` as an int >= 1, else a ValueError naming ``arg``.

    >>> positive_int(3, "conv2d", "groups")
    3
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise OpError(f"{op}: {arg} must be a positive int, got {value!r}")
    return int(value)
