"""Reductions: sum, mean, var, max, min (with ``dim``/``keepdim``), argmax, argmin."""
from __future__ import annotations

from typing import Any, NamedTuple


import numpy as np

from ..graph import make_op
from ..tensor import Tensor
from .args import normalize_dim, normalize_dims
from .kernels import reduce as kernels
from .registry import register
from ..errors import ShapeError


def _keep_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(g: Tensor, in_shape: tuple, axes: tuple) -> Tensor:
    """Broadcast a reduced gradient back over the reduced axes."""
    from .shape import expand_to, reshape

    keep = _keep_shape(in_shape, axes)
    if g.shape != keep:
        g = reshape(g, keep)
    return expand_to(g, in_shape) if keep != in_shape else g


@register("sum")
def reduce_sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (all when None). Shape: ``x.shape`` without (or with size 1 at) ``dim``.

    >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(dim=0).tolist()
    [4.0, 6.0]
    """
    axes = normalize_dims(dim, x.ndim, "sum")
    src = x._data if x.dtype.kind in "fc" else x._data.astype(np.int64)  # bool and int sums count in int64
    data = kernels.sum_axes(src, axes, keepdim)
    if not isinstance(data, np.ndarray):
        data = np.asarray(data, dtype=src.dtype)
    in_shape = x.shape
    return make_op("sum", data, (x,), lambda g: (_expand_back(g, in_shape, axes),),
                   {"dim": dim, "axes": axes, "keepdim": keepdim}, saved=())


def _reciprocal(n: int) -> float:
    """1/n, with PyTorch's results for n = 0: a mean or variance over nothing is NaN (0 * inf)."""
    return 1.0 / n if n else float("inf")


def _count(shape: tuple, axes: tuple) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


@register
def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all when None). Shape: as :func:`reduce_sum`.

    >>> Tensor([1.0, 2.0, 6.0]).mean().item()
    3.0
    """
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"mean: could not infer output dtype: input dtype must be floating point, got {x.dtype} "
                           "(convert first, e.g. x.float().mean())")
    axes = normalize_dims(dim, x.ndim, "mean")
    n = _count(x.shape, axes)
    return reduce_sum(x, dim, keepdim) * _reciprocal(n)  # an empty mean is NaN, as PyTorch's


def var_args(op: str, dim: Any, unbiased: Any, correction: Any) -> tuple:
    """``(dim, correction)`` from PyTorch's two signatures, ``var(dim, unbiased, keepdim)`` and
    ``var(dim, *, correction)``, and its legacy ``var(unbiased)`` (a bool first argument).

    >>> var_args("var", 0, False, None), var_args("var", True, None, None)
    ((0, 0), (None, 1))
    """
    if isinstance(dim, (bool, np.bool_)):
        if unbiased is not None:
            raise TypeError(f"{op}: got a bool dim ({dim}) and unbiased={unbiased}")
        dim, unbiased = None, bool(dim)
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass unbiased or correction, not both")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{op}: unbiased must be a bool, got {type(unbiased).__name__} (keepdim is the third "
                            "argument, as in PyTorch)")
        return dim, int(unbiased)
    return dim, 1 if correction is None else correction


def var(x: Tensor, dim: Any = None, correction: Any = 1, keepdim: bool = False) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (as ``torch.var``). Shape: as :func:`reduce_sum`.

    >>> Tensor([1.0, 3.0]).var().item()
    2.0
    """
    axes = normalize_dims(dim, x.ndim, "var")
    n = _count(x.shape, axes)
    d = x - mean(x, axes, keepdim=True)
    # the corrected two-pass formula: sum(d)^2 / n takes out the rounding error of the mean, which
    # values far from 0 make large (its derivative is 0: sum(d) is 0 as a function of x)
    ss = reduce_sum(d * d, axes, keepdim)
    if n and x.dtype == np.float32:
        s = reduce_sum(d, axes, keepdim)
        ss = ss - s * s * (1.0 / n)
    return ss * _reciprocal(max(n - correction, 0))


def _scaled_norm(x: np.ndarray, p: float, axes: tuple, keepdim: bool) -> np.ndarray:
    """``(sum |x|^p)^(1/p)`` in float64 with |x| scaled by its largest value: no overflow of the
    powers (float32's 1e30 squared), as PyTorch's. Shape: as :func:`reduce_sum`."""
    a = np.abs(x).astype(np.float64)
    if not a.size:
        return np.zeros(_keep_shape(x.shape, axes) if keepdim else
                        tuple(n for i, n in enumerate(x.shape) if i not in axes), dtype=x.dtype)
    m = np.max(a, axis=axes, keepdims=True)
    m = np.where((m == 0) | ~np.isfinite(m), 1.0, m)
    with np.errstate(invalid="ignore", over="ignore"):
        out = m * np.sum((a / m) ** p, axis=axes, keepdims=True) ** (1.0 / p)
    return (out if keepdim else np.squeeze(out, axis=axes)).astype(x.dtype)


@register
def norm(x: Tensor, p: float = 2.0, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm ``(sum |x|^p)^(1/p)`` over ``dim`` (all when None), for a finite ``p > 0``,
    with PyTorch's gradient: 0 (not NaN) where the norm or an element is 0. Shape: as :func:`reduce_sum`.

    >>> norm(Tensor([3.0, 4.0])).item()
    5.0
    """
    from .elementwise import absolute, div, mul, power, where

    axes = normalize_dims(dim, x.ndim, "norm")
    data = _scaled_norm(x._data, p, axes, keepdim)
    in_shape = x.shape

    def backward(g: Tensor, out: Tensor) -> tuple:
        n = _expand_back(out, in_shape, axes)
        n0 = n._data == 0
        n = where(n0, 1.0, n) if n0.any() else n  # where n is 0 so is every x, and the gradient 0
        g = _expand_back(g, in_shape, axes)
        if p == 2:
            return (mul(x, div(g, n)),)
        x0 = x._data == 0
        ax = absolute(x)
        # sign(x) (|x| / n)^(p-1) g: the ratio is at most 1, so its powers neither overflow nor
        # divide tiny by tiny; at x = 0 the sign is 0 and the ratio stands at 1 (no 0 ** negative)
        ratio = div(ax, n)
        if x0.any():
            ax, ratio = where(x0, 1.0, ax), where(x0, 1.0, ratio)
        return (mul(mul(div(x, ax), power(ratio, p - 1.0)), g),)

    return make_op("norm", np.asarray(data, dtype=x.dtype), (x,), backward, {"p": p, "dim": dim}, saved=(x,),
                   needs_output=True)


class ValuesIndices(NamedTuple):
    """``max``/``min`` over a ``dim``: the values (differentiable) and their int64 indices."""

    values: Tensor
    indices: Tensor


def _extreme(x: Tensor, dim: Any, keepdim: bool, name: str, np_fn: Any, np_arg: Any) -> Any:
    if x.numel() == 0:
        raise ShapeError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    axes = normalize_dims(dim, x.ndim, name)
    data = np_fn(x._data, axis=axes, keepdims=True)
    # ties share the gradient evenly among all extreme elements (as torch.amax/amin)
    hit = x._data == data
    weights = hit / np.sum(hit, axis=axes, keepdims=True)
    weights = weights.astype(x.dtype) if x.dtype.kind == "f" else weights
    in_shape = x.shape
    out = data if keepdim else np.squeeze(data, axis=axes) if axes else data

    def backward(g: Tensor) -> tuple:
        return (_expand_back(g, in_shape, axes) * Tensor(weights),)

    values = make_op(name, np.asarray(out), (x,), backward, {"dim": dim}, saved=())
    if dim is None or not isinstance(dim, (int, np.integer)):
        return values
    idx = np_arg(x._data, axis=axes[0], keepdims=keepdim).astype(np.int64)
    return ValuesIndices(values, Tensor(idx))


@register("max")
def reduce_max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Maximum over all elements, or ``(values, indices)`` over an int ``dim`` as PyTorch.

    Ties: every maximal element gets an equal share of the gradient.
    Shape: () or ``x.shape`` reduced at ``dim``.

    >>> Tensor([[1.0, 5.0], [7.0, 2.0]]).max(dim=1).values.tolist()
    [5.0, 7.0]
    """
    return _extreme(x, dim, keepdim, "max", np.max, np.argmax)


@register("min")
def reduce_min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Minimum, as :func:`reduce_max`; ties share the gradient evenly.

    >>> Tensor([3.0, 1.0, 2.0]).min().item()
    1.0
    """
    return _extreme(x, dim, keepdim, "min", np.min, np.argmin)


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) maximum, over the flattened tensor when ``dim`` is None (int64, no grad).

    >>> Tensor([1.0, 9.0, 3.0]).argmax().item()
    1
    """
    if dim is None:
        return Tensor(np.asarray(np.argmax(x._data), dtype=np.int64))
    return Tensor(np.argmax(x._data, axis=normalize_dim(dim, x.ndim, "argmax"), keepdims=keepdim).astype(np.int64))


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the (first) minimum, as :func:`argmax`.

    >>> Tensor([1.0, 9.0, 0.0]).argmin().item()
    2
    """
    if dim is None:
        return Tensor(np.asarray(np.argmin(x._data), dtype=np.int64))
    return Tensor(np.argmin(x._data, axis=normalize_dim(dim, x.ndim, "argmin"), keepdims=keepdim).astype(np.int64))
