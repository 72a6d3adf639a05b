"""Shape ops: reshape, transpose/permute, (un)squeeze, expand, pad, cat, stack, astype (indexing: ``indexing.py``).

Each backward is the inverse shape op, so all of them are differentiable to any order.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..graph import make_op
from ..tensor import Tensor
from .args import normalize_dim
from .elementwise import promote_types
from .kernels.layout import pad_indices
from .indexing import getitem, index_add  # noqa: F401  (indexing is a shape op too)
from .registry import register
from ..errors import OpError, ShapeError


def _shape_arg(shape: tuple, op: str) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{op}: shape entries must be ints, got {shape!r}")
    return tuple(int(s) for s in shape)


@register
def astype(x: Tensor, dtype: Any) -> Tensor:
    """Convert to ``dtype``; the gradient converts back. Shape: unchanged.

    >>> Tensor([1.0]).astype("float64").dtype
    dtype('float64')
    """
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    src = x.dtype
    return make_op("astype", x._data.astype(dtype), (x,), lambda g: (astype(g, src),), {"dtype": str(dtype)},
                   saved=())


@register
def clone(x: Tensor) -> Tensor:
    """A copy with its own memory; the gradient passes through unchanged. Shape: unchanged.

    >>> a = Tensor([1.0]); b = clone(a); b._data is a._data
    False
    """
    return make_op("clone", x._data.copy(), (x,), lambda g: (g,), saved=())


@register
def reshape(x: Tensor, *shape: Any) -> Tensor:
    """Same elements in a new shape (one entry may be -1). Shape: ``shape``.

    >>> Tensor([1.0, 2.0, 3.0, 4.0]).reshape(2, 2).shape
    (2, 2)
    """
    shape = _shape_arg(shape, "reshape")
    try:
        data = x._data.reshape(shape)
    except ValueError:
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.numel()} elements) "
                         f"into shape {shape}") from None
    in_shape = x.shape
    return make_op("reshape", data, (x,), lambda g: (reshape(g, in_shape),), {"shape": data.shape},
                   saved=())


view = reshape


@register
def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the axes. Shape: ``x.shape`` permuted by ``dims``.

    >>> Tensor(np.zeros((2, 3, 4))).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    dims = _shape_arg(dims, "permute")
    if len(dims) != x.ndim:
        raise ShapeError(f"permute: expected {x.ndim} dims for a tensor of shape {x.shape}, got {dims}")
    axes = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if sorted(axes) != list(range(x.ndim)):
        raise OpError(f"permute: dims {dims} is not a permutation of the {x.ndim} axes")
    return permute_axes(x, axes)


def permute_axes(x: Tensor, axes: tuple) -> Tensor:
    """:func:`permute` for axes already checked (non-negative, a permutation): what ops and their
    backward closures call, skipping the checks."""
    inverse = tuple(sorted(range(x.ndim), key=axes.__getitem__))  # plain Python: np.argsort costs more here
    return make_op("permute", x._data.transpose(axes), (x,), lambda g: (permute_axes(g, inverse),), {"dims": axes},
                   saved=())


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two axes. Shape: ``x.shape`` with ``dim0`` and ``dim1`` exchanged.

    >>> Tensor(np.zeros((2, 3))).transpose(0, 1).shape
    (3, 2)
    """
    if x.ndim < 2:
        return x
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    axes = list(range(x.ndim))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute_axes(x, tuple(axes))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge axes ``start_dim..end_dim`` into one. Shape: e.g. (N, C, H, W) -> (N, C*H*W) for start_dim=1.

    >>> Tensor(np.zeros((2, 3, 4))).flatten(1).shape
    (2, 12)
    """
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise OpError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:]
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert an axis of size 1 at ``dim``. Shape: (..) -> (.., 1, ..).

    >>> Tensor([1.0, 2.0]).unsqueeze(0).shape
    (1, 2)
    """
    d = normalize_dim(dim, x.ndim, "unsqueeze", extra=1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove axes of size 1 (all, or only ``dim`` when it has size 1). Shape: (.., 1, ..) -> (..).

    >>> Tensor(np.zeros((1, 2, 1))).squeeze().shape
    (2,)
    """
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
    else:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        axes = {normalize_dim(d, x.ndim, "squeeze") for d in dims}
        shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return reshape(x, shape) if shape != x.shape else x


@register
def expand(x: Tensor, *shape: Any) -> Tensor:
    """Broadcast to ``shape`` without copying (-1 keeps a size). Shape: ``shape``.

    >>> Tensor([[1.0], [2.0]]).expand(2, 3).shape
    (2, 3)
    """
    shape = _shape_arg(shape, "expand")
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to fewer dimensions {shape}")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    try:
        return expand_to(x, shape)
    except ValueError:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to {shape}") from None


def expand_to(x: Tensor, shape: tuple) -> Tensor:
    """:func:`expand` to a shape of ints with no -1: what ops and their backward closures call,
    skipping the checks (numpy's ValueError when ``x`` does not broadcast)."""
    from ..engine import sum_to_shape  # the engine imports this module

    in_shape = x.shape
    return make_op("expand", np.broadcast_to(x._data, shape), (x,), lambda g: (sum_to_shape(g, in_shape),),
                   {"shape": shape}, saved=())


def _pad_widths(pad: Sequence[int], ndim: int, op: str) -> list[tuple[int, int]]:
    if len(pad) % 2 or len(pad) // 2 > ndim:
        raise OpError(f"{op}: pad must have an even length of at most 2*ndim={2 * ndim}, got {tuple(pad)}")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        if not all(isinstance(v, (int, np.integer)) and v >= 0 for v in (lo, hi)):
            raise OpError(f"{op}: pad entries must be non-negative ints, got {tuple(pad)}")
        widths[ndim - 1 - i] = (int(lo), int(hi))
    return widths



def pad_mode(x: Tensor, pad: Sequence[int], mode: str) -> Tensor:
    """'reflect', 'replicate' or 'circular' padding of the last ``len(pad) // 2`` axes, as PyTorch's
    ``F.pad`` (which wants a batch and a channel axis, or only one of them, before those), made of
    index selections so that every order of gradient follows. Shape: each padded axis grows.

    >>> pad_mode(Tensor([[[1.0, 2.0, 3.0]]]), (2, 1), "reflect").tolist()
    [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]]
    """
    op = f"pad (mode={mode!r})"
    k = len(pad) // 2
    if not 1 <= k <= 3 or x.ndim not in (k + 1, k + 2):
        raise ShapeError(f"{op}: padding the last {k} axes needs a {k + 1}-D or {k + 2}-D input, "
                         f"got shape {x.shape} and pad {tuple(pad)}")
    widths = _pad_widths(pad, x.ndim, op)
    for a in range(x.ndim - k, x.ndim):
        (lo, hi), n = widths[a], x.shape[a]
        limit = n - 1 if mode == "reflect" else n
        if max(lo, hi) > limit:
            raise OpError(f"{op}: padding {(lo, hi)} of axis {a} must be at most {limit} for its size {n}")
        if lo or hi:
            x = getitem(x, (slice(None),) * a + (pad_indices(n, lo, hi, mode),))
    return x

@register
def pad(x: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Constant padding, PyTorch's order: ``(left, right, top, bottom, ...)`` from the last axis.
    Shape: each padded axis grows by its two widths.

    >>> Tensor(np.ones((1, 2))).pad((1, 1)).tolist()
    [[0.0, 1.0, 1.0, 0.0]]
    """
    widths = _pad_widths(pad, x.ndim, "pad")
    if all(w == (0, 0) for w in widths):
        return x
    out = np.full(tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths)), value, dtype=x.dtype)
    inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, widths))
    out[inner] = x._data
    return make_op("pad", out, (x,), lambda g: (getitem(g, inner),), {"pad": tuple(pad), "value": value}, saved=())


def _tensor_list(tensors: Sequence[Tensor], op: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise OpError(f"{op}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: tensors[{i}] must be a Tensor, got {type(t).__name__}")
    return tensors


@register
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis. Shape: sizes at ``dim`` add up, other axes must agree.

    >>> cat([Tensor([1.0]), Tensor([2.0, 3.0])]).tolist()
    [1.0, 2.0, 3.0]
    """
    tensors = _tensor_list(tensors, "cat")
    ref = tensors[0]
    d = normalize_dim(dim, ref.ndim, "cat")
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or t.shape[:d] + t.shape[d + 1:] != ref.shape[:d] + ref.shape[d + 1:]:
            raise ShapeError(f"cat: tensors[{i}] has shape {t.shape}, which does not match tensors[0] {ref.shape} "
                             f"outside dim {d}")
    data = np.concatenate([t._data for t in tensors], axis=d, dtype=promote_types(t.dtype for t in tensors))
    bounds = np.cumsum([0] + [t.shape[d] for t in tensors])

    def backward(g: Tensor) -> tuple:
        pre = (slice(None),) * d
        return tuple(getitem(g, pre + (slice(int(a), int(b)),)) if t.requires_grad else None
                     for t, a, b in zip(tensors, bounds[:-1], bounds[1:]))

    return make_op("cat", data, tuple(tensors), backward, {"dim": d}, saved=())


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis. Shape: k tensors of (..) -> (.., k, ..).

    >>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]).shape
    (2, 2)
    """
    tensors = _tensor_list(tensors, "stack")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: tensors[{i}] has shape {t.shape}, expected {tensors[0].shape} like tensors[0]")
    d = normalize_dim(dim, tensors[0].ndim, "stack", extra=1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def _gather_index(x_shape: tuple, index: Any, dim: int, op: str) -> tuple[np.ndarray, int]:
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer (int64) tensor, got dtype {idx.dtype}")
    d = normalize_dim(dim, len(x_shape), op)
    if idx.ndim != len(x_shape) or any(i > n for a, (i, n) in enumerate(zip(idx.shape, x_shape)) if a != d):
        raise RuntimeError(f"{op}: index of shape {idx.shape} must have the input's {len(x_shape)} dimensions and "
                           f"be no larger than the input {x_shape} outside dim {d}")
    if idx.size and (idx.min() < 0 or idx.max() >= x_shape[d]):
        raise IndexError(f"{op}: index out of range for dim {d} of size {x_shape[d]}")
    return idx, d


def _along(idx: np.ndarray, d: int) -> tuple:
    """The full advanced index that picks ``idx`` along axis ``d`` (every other axis by position)."""
    grids: tuple = np.indices(idx.shape, sparse=True)
    return tuple(idx if a == d else grid for a, grid in enumerate(grids))


@register
def gather(x: Tensor, dim: int, index: Any) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` along ``dim`` (and likewise for every axis), as
    ``torch.gather``. Shape: ``index.shape``.

    >>> gather(Tensor([[1.0, 2.0], [3.0, 4.0]]), 1, np.array([[1], [0]])).tolist()
    [[2.0], [3.0]]
    """
    idx, d = _gather_index(x.shape, index, dim, "gather")
    where = _along(idx, d)
    in_shape = x.shape
    # the closure reads the index: a change of it in place before backward raises, as in PyTorch
    return make_op("gather", x._data[where], (x,), lambda g: (scatter_add(g, d, idx, in_shape),), {"dim": d},
                   saved=(index,) if isinstance(index, Tensor) else ())


@register
def scatter_add(src: Tensor, dim: int, index: Any, shape: tuple) -> Tensor:
    """The adjoint of :func:`gather`: zeros of ``shape`` with ``src`` added at ``index`` along
    ``dim`` (repeated indices add up). Shape: ``index.shape`` -> ``shape``.

    >>> scatter_add(Tensor([[5.0], [7.0]]), 1, np.array([[1], [1]]), (2, 2)).tolist()
    [[0.0, 5.0], [0.0, 7.0]]
    """
    idx, d = _gather_index(tuple(shape), index, dim, "scatter_add")
    if src.shape != idx.shape:
        raise ShapeError(f"scatter_add: src of shape {src.shape} must match index of shape {idx.shape}")
    out = np.zeros(shape, dtype=src.dtype)
    np.add.at(out, _along(idx, d), src._data)
    return make_op("scatter_add", out, (src,), lambda g: (gather(g, d, idx),), {"dim": d},
                   saved=(index,) if isinstance(index, Tensor) else ())
