"""Tensor factories (float32 unless ``dtype`` says otherwise), drawing from ``seeding``'s generator, and
the ways to build a tensor from data: ``tensor`` copies, ``from_numpy`` and ``as_tensor`` share."""
from __future__ import annotations

from typing import Any

import numpy as np

from .seeding import get_rng, manual_seed  # noqa: F401  (manual_seed: also tinygrad_cnn.manual_seed)
from .tensor import Tensor, _to_array


def _size(size: tuple, op: str, keyword: Any = None) -> tuple:
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``, as PyTorch's factories take it."""
    if keyword is not None:
        if size:
            raise TypeError(f"{op}: give the size positionally or as size=, not both")
        size = (keyword,) if isinstance(keyword, (int, np.integer)) else (tuple(keyword),)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"{op}: sizes must be non-negative ints, got {size!r}")
    return tuple(int(s) for s in size)


def _dtype(dtype: Any) -> np.dtype:
    return np.dtype(np.float32 if dtype is None else dtype)


def zeros(*sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros. Shape: ``size``.

    >>> zeros(2, 3).shape
    (2, 3)
    """
    return Tensor(np.zeros(_size(sizes, "zeros", size), _dtype(dtype)), requires_grad=requires_grad)


def ones(*sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones. Shape: ``size``.

    >>> ones(2).tolist()
    [1.0, 1.0]
    """
    return Tensor(np.ones(_size(sizes, "ones", size), _dtype(dtype)), requires_grad=requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``. Shape: ``size``.

    >>> full((2,), 7.0).tolist()
    [7.0, 7.0]
    """
    size = _size((size,) if isinstance(size, (int, np.integer)) else (tuple(size),), "full")
    return Tensor(np.full(size, fill_value, _dtype(dtype)), requires_grad=requires_grad)


def randn(*sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples. Shape: ``size``.

    >>> randn(3, 2).shape
    (3, 2)
    """
    data = get_rng().standard_normal(_size(sizes, "randn", size)).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def rand(*sizes: Any, size: Any = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1). Shape: ``size``.

    >>> bool(((rand(5) >= 0) & (rand(5) < 1)).numpy().all())
    True
    """
    data = get_rng().random(_size(sizes, "rand", size)).astype(_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """``[start, end)`` in steps; int64 for int arguments, else float32, as PyTorch.

    >>> arange(3).tolist()
    [0, 1, 2]
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = np.dtype(dtype) if dtype is not None else np.dtype(np.int64 if ints else np.float32)
    return Tensor(np.arange(start, end, step).astype(dt))


def eye(n: int, m: int | None = None, dtype: Any = None) -> Tensor:
    """The identity matrix. Shape: (n, m or n).

    >>> eye(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)))


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype.

    >>> zeros_like(ones(2)).tolist()
    [0.0, 0.0]
    """
    return Tensor(np.zeros(t.shape, dtype or t.dtype), requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype.

    >>> ones_like(zeros(2)).tolist()
    [1.0, 1.0]
    """
    return Tensor(np.ones(t.shape, dtype or t.dtype), requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None) -> Tensor:
    """``fill_value`` with ``t``'s shape and dtype.

    >>> full_like(zeros(2), 3.0).tolist()
    [3.0, 3.0]
    """
    return Tensor(np.full(t.shape, fill_value, dtype or t.dtype))


def randn_like(t: Tensor) -> Tensor:
    """Standard normal samples with ``t``'s shape and dtype.

    >>> randn_like(zeros(4)).shape
    (4,)
    """
    return Tensor(get_rng().standard_normal(t.shape).astype(t.dtype))


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """A new Tensor holding a copy of ``data``, as ``torch.tensor``: lists of floats become float32,
    of ints int64, of bools bool; an ndarray keeps its dtype.

    >>> tensor([1.0, 2.0]).dtype, tensor([1, 2]).dtype
    (dtype('float32'), dtype('int64'))
    """
    arr = _to_array(data, dtype, ints_stay_ints=True)
    return Tensor(np.array(arr, copy=True), requires_grad=requires_grad, name=name)


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing ``array``'s memory and dtype, as ``torch.from_numpy``.

    >>> a = np.zeros(2, np.float32); t = from_numpy(a); a[0] = 5; t.tolist()
    [5.0, 0.0]
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return Tensor(array)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """``data`` as a Tensor, sharing memory where it can (a Tensor of that dtype is returned as it is,
    an ndarray of that dtype is shared), as ``torch.as_tensor``; lists as :func:`tensor`.

    >>> a = np.ones(2); as_tensor(a)._data is a
    True
    """
    if isinstance(data, Tensor):
        return data if dtype is None or np.dtype(dtype) == data.dtype else data.astype(dtype)
    if isinstance(data, np.ndarray):
        return Tensor(data, dtype=dtype)
    return Tensor(_to_array(data, dtype, ints_stay_ints=True))
