"""Strategies for shapes and tensors (``strategies.py`` is the public module that gathers them)."""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, small by default (gradient checks cost one pass per element)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(shape: tuple, min_dims: int = 0, max_dims: int | None = None, min_side: int = 1,
                         max_side: int | None = None) -> st.SearchStrategy:
    """Shapes that broadcast against ``shape`` (fewer dims, or size 1 where ``shape`` is not)."""
    return hnp.broadcastable_shapes(shape, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                    max_side=max_side)


@st.composite
def tensors(draw: Any, shape: Any = None, dtype: Any = np.float64, elements: Any = None,
            requires_grad: bool = True, min_value: float = -2.0, max_value: float = 2.0,
            min_magnitude: float = 0.0, name: str | None = None) -> Tensor:
    """A Tensor of ``shape`` (a tuple, a strategy, or None for small random shapes).

    Values lie in ``[min_value, max_value]`` and, with ``min_magnitude`` > 0, at least that far from 0
    (to keep away from kinks such as relu's or abs's).
    """
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    if elements is None:
        elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=64)
    arr = draw(hnp.arrays(np.float64, shape, elements=elements))
    if min_magnitude > 0:
        small = np.abs(arr) < min_magnitude
        arr = np.where(small, np.where(arr < 0, -1.0, 1.0) * (min_magnitude + np.abs(arr)), arr)
    return Tensor(arr.astype(dtype), requires_grad=requires_grad and np.dtype(dtype).kind == "f", name=name)


@st.composite
def distinct_tensors(draw: Any, shape: Any, gap: float = 0.05, dtype: Any = np.float64,
                     requires_grad: bool = True) -> Tensor:
    """A Tensor whose values are pairwise at least ``gap`` apart: no ties in max/min or max-pool
    windows, so finite differences never cross a kink."""
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    n = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, (n,), elements=st.floats(0, gap / 4, width=64)))
    arr = (order - n / 2) * gap + jitter
    return Tensor(arr.reshape(shape).astype(dtype), requires_grad=requires_grad)
