"""Indexing with PyTorch's rules: ``x[idx]`` (getitem), its adjoint (index_add) and ``x[idx] = v``.

PyTorch and numpy agree on slices, ints, None, Ellipsis and index arrays alone, but not on:
- an int beside an index array: PyTorch selects the int first (a basic index), numpy counts it as
  an advanced index, which moves the result's axes (``t[0, :, [0, 1]]`` comes back transposed);
- a uint8 index tensor: a mask in PyTorch (deprecated there), positions in numpy;
- a list holding lists, slices, None or Ellipsis: a tuple of indices in PyTorch, an array in numpy.
:class:`TorchIndex` turns an index into one numpy index, or into a basic index followed by an
advanced one, so that numpy computes what PyTorch does.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..graph import make_op
from ..tensor import Tensor
from .registry import register


class TorchIndex:
    """An index as PyTorch reads it: ``first`` (applied first) and ``then`` (applied to its result,
    or None); ``advanced`` when any array takes part; ``tensors`` the index Tensors (their values
    are read again by backward, so their versions are checked)."""

    first: tuple
    then: tuple | None
    advanced: bool
    tensors: tuple

    def __init__(self, idx: Any, ndim: int):
        if isinstance(idx, TorchIndex):
            self.first, self.then, self.advanced, self.tensors = idx.first, idx.then, idx.advanced, idx.tensors
            return
        parts = _parts(idx)
        self.tensors = tuple(p for p in parts if isinstance(p, Tensor))
        out = _numpy_components(parts, ndim)
        self.advanced = any(isinstance(p, np.ndarray) for p in out)
        ints = any(isinstance(p, (int, np.integer)) for p in out)
        self.first, self.then = (tuple(out), None) if not (self.advanced and ints) else _split(out)

    def get(self, a: np.ndarray) -> np.ndarray:
        out = a[self.first]
        return out[self.then] if self.then is not None else out

    def view_of(self, a: np.ndarray) -> tuple[np.ndarray, Any]:
        """``(array, index)`` such that ``array[index]`` is this index of ``a``, ``array`` a view of ``a``."""
        return (a, self.first) if self.then is None else (a[self.first], self.then)


def _parts(idx: Any) -> tuple:
    """The index as a tuple of components; a list holding lists, slices, None or Ellipsis is one
    too (PyTorch's legacy reading of ``x[[[0, 1]]]`` or ``x[[0, slice(None)]]``)."""
    if isinstance(idx, list) and any(p is None or p is Ellipsis or isinstance(p, (list, tuple, slice, np.ndarray,
                                                                                  Tensor)) for p in idx):
        return tuple(idx)
    return idx if isinstance(idx, tuple) else (idx,)


def _numpy_components(parts: tuple, ndim: int) -> list:
    out: list = []
    for p in parts:
        out.extend(_component(p))
    if any(p is Ellipsis for p in out) and ndim == sum(_axes(p) for p in out):
        out = [p for p in out if p is not Ellipsis]  # it stands for no axis, so it parts no index arrays
    return out


def _axes(p: Any) -> int:
    """How many axes of the indexed array a numpy index component takes."""
    if p is None or p is Ellipsis:
        return 0
    return p.ndim if isinstance(p, np.ndarray) and p.dtype == np.bool_ else 1


def _component(p: Any) -> list:
    """One index component as numpy components (uint8 as a mask: PyTorch's rule)."""
    if isinstance(p, Tensor):
        if p.dtype not in (np.int64, np.int32, np.uint8, np.bool_):
            raise IndexError(f"getitem: tensors used as indices must be int64, int32, uint8 or bool, got {p.dtype}")
        p = p._data
    if isinstance(p, (list, tuple)):
        p = np.asarray(p)
    if isinstance(p, (bool, np.bool_)):
        p = np.asarray(p)
    if isinstance(p, np.ndarray):
        if p.dtype == np.uint8:
            warnings.warn("indexing with dtype uint8 is deprecated (as in PyTorch): the index is read as a mask; "
                          "use a bool tensor", UserWarning, stacklevel=4)
            p = p.astype(bool)
        if p.dtype.kind not in "iub":
            raise TypeError(f"getitem: index arrays must be integer or bool, got dtype {p.dtype}")
        return [p if p.dtype == np.bool_ else p.astype(np.intp, copy=False)]
    if not (p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))):
        raise TypeError(f"getitem: unsupported index of type {type(p).__name__}")
    return [p]


def _split(parts: list) -> tuple[tuple, tuple]:
    """A basic index (ints, slices, None, Ellipsis; a full slice where an array stands) and the
    arrays' index into its result: PyTorch applies the ints before the arrays."""
    first: list = []
    then: list = []
    for p in parts:
        if isinstance(p, np.ndarray):
            first.extend([slice(None)] * _axes(p))
        else:
            first.append(p)
        if isinstance(p, np.ndarray) or p is Ellipsis:
            then.append(p)
        elif not isinstance(p, (int, np.integer)):  # a slice or a new axis stays an axis of the result
            then.append(slice(None))
    return tuple(first), tuple(then)


@register
def getitem(x: Tensor, idx: Any) -> Tensor:
    """``x[idx]`` with slices, ints, None, Ellipsis and integer/bool index arrays, by PyTorch's
    rules; repeated indices accumulate their gradients. Shape: as PyTorch's indexing.

    >>> Tensor([1.0, 2.0, 3.0])[[0, 0, 2]].tolist()
    [1.0, 1.0, 3.0]
    >>> Tensor(np.arange(24.0).reshape(2, 3, 4))[0, :, [0, 1]].shape   # ints select first
    (3, 2)
    """
    index = TorchIndex(idx, x.ndim)
    data = index.get(x._data)
    if not index.advanced:
        data = np.asarray(data)
    in_shape = x.shape
    return make_op("getitem", data, (x,), lambda g: (index_add(g, index, in_shape),), {"index": idx},
                   saved=index.tensors)


@register
def index_add(g: Tensor, index: Any, shape: tuple, advanced: bool = True) -> Tensor:
    """The adjoint of ``getitem``: zeros of ``shape`` with ``g`` added at ``index`` (repeats add up).
    Shape: ``g`` (indexed shape) -> ``shape``.

    >>> index_add(Tensor([1.0, 2.0]), ([0, 0],), (3,)).tolist()
    [3.0, 0.0, 0.0]
    """
    index = TorchIndex(index, len(shape))
    out = np.zeros(shape, dtype=g.dtype)
    target, idx = index.view_of(out)
    if index.advanced:
        np.add.at(target, idx, g._data)  # repeated indices must accumulate; plain assignment would drop them
    else:
        target[idx] = g._data
    return make_op("index_add", out, (g,), lambda gg: (getitem(gg, index),), saved=index.tensors)


def index_put(x: Tensor, idx: Any, value: Any) -> Tensor:
    """A copy of ``x`` with ``x[idx] = value`` (broadcast; the last write wins at repeated indices,
    as PyTorch's CPU kernel); the gradient flows to ``x`` outside ``idx`` and to ``value`` inside.
    Shape: ``x``'s.

    >>> index_put(Tensor([1.0, 2.0, 3.0]), 1, 9.0).tolist()
    [1.0, 9.0, 3.0]
    """
    index = TorchIndex(idx, x.ndim)
    v = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=x.dtype))
    data = x._data.copy()
    target, i = index.view_of(data)
    target[i] = v._data
    kept = np.ones(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.float32)
    k_target, k_i = index.view_of(kept)
    k_target[k_i] = 0

    def backward(g: Tensor) -> tuple:
        from .elementwise import mul

        gx = mul(g, Tensor(kept.astype(g.dtype, copy=False))) if x.requires_grad else None
        gv = getitem(g, index) if v.requires_grad else None
        return gx, gv

    return make_op("index_put", data, (x, v), backward, saved=index.tensors)
