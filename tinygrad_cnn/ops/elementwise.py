"""Elementwise arithmetic: each op's forward, then its backward closure built from these same ops.

Broadcasting is undone by the engine (``engine.sum_to_shape``), so closures return gradients in the
broadcast shape.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, lift, make_op
from .registry import register
from ..errors import OpError, ShapeError


def _operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Lift Python/numpy scalars to Tensors of the other operand's dtype."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    a = lift(a, b if isinstance(b, Tensor) else None)
    return a, lift(b, a)


def _category(dtype: np.dtype) -> int:
    return 2 if dtype.kind in "fc" else 1 if dtype.kind in "iu" else 0


def result_type(a: Tensor, b: Tensor) -> np.dtype:
    """PyTorch's type promotion of two tensors: the higher category (bool < int < float) wins;
    within one category a tensor with dimensions wins over a 0-d one, else the wider dtype.

    >>> result_type(Tensor(np.zeros(2, np.float32)), Tensor(np.zeros(2, np.int64)))
    dtype('float32')
    """
    da, db = a.data.dtype, b.data.dtype
    if da == db:
        return da
    ca, cb = _category(da), _category(db)
    if ca != cb:
        return da if ca > cb else db
    if (a.ndim == 0) != (b.ndim == 0):
        return db if a.ndim == 0 else da
    return np.promote_types(da, db)


def _apply(op: str, fn: Any, a: Tensor, b: Tensor) -> np.ndarray:
    """``fn(a.data, b.data)`` in the operands' promoted dtype; a broadcasting failure becomes a
    ValueError naming the op and shapes."""
    x, y = a.data, b.data
    if x.dtype != y.dtype:
        dtype = result_type(a, b)
        x, y = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
    try:
        return fn(x, y, out=_out_like_full_operand(fn, x, y))
    except ValueError:
        raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _out_like_full_operand(fn: Any, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """An output laid out as the operand of the result's shape, when the other one is broadcast:
    numpy would otherwise pick a layout of its own (e.g. a pooled gradient expanded back against a
    batch-innermost mask), and every later op would mix layouts, several times slower.
    Shape: broadcast(x, y), or None to let numpy allocate."""
    if not isinstance(fn, np.ufunc) or x.dtype.kind != "f" or x.ndim < 2 or max(x.size, y.size) < 4096:
        return None
    shape = np.broadcast_shapes(x.shape, y.shape)
    full = [a for a in (x, y) if a.shape == shape and 0 not in a.strides]
    if len(full) != 1 or full[0].flags.c_contiguous:  # both full, or numpy's choice is already C order
        return None
    return np.empty_like(full[0], dtype=np.result_type(x, y))


def _const(arr: np.ndarray) -> Tensor:
    return Tensor(arr)


@register
def add(a: Any, b: Any) -> Tensor:
    """Elementwise ``a + b`` with broadcasting. Shape: broadcast(a, b).

    >>> (Tensor([1.0, 2.0]) + 1).tolist()
    [2.0, 3.0]
    """
    a, b = _operands(a, b, "add")
    return make_op("add", _apply("add", np.add, a, b), (a, b), lambda g: (g, g), saved=())


@register
def sub(a: Any, b: Any) -> Tensor:
    """Elementwise ``a - b``. Shape: broadcast(a, b).

    >>> (Tensor([3.0]) - Tensor([1.0])).item()
    2.0
    """
    a, b = _operands(a, b, "sub")
    return make_op("sub", _apply("sub", np.subtract, a, b), (a, b),
                   lambda g: (g, neg(g) if b.requires_grad else None), saved=())


@register
def mul(a: Any, b: Any) -> Tensor:
    """Elementwise ``a * b``. Shape: broadcast(a, b).

    >>> (Tensor([2.0]) * 3).item()
    6.0
    """
    a, b = _operands(a, b, "mul")

    def backward(g: Tensor) -> tuple:
        return (mul(g, b) if a.requires_grad else None, mul(g, a) if b.requires_grad else None)

    saved = ((b,) if a.requires_grad else ()) + ((a,) if b.requires_grad else ())
    return make_op("mul", _apply("mul", np.multiply, a, b), (a, b), backward, saved=saved)


@register
def div(a: Any, b: Any) -> Tensor:
    """Elementwise ``a / b``. Shape: broadcast(a, b).

    >>> (Tensor([3.0]) / 2).item()
    1.5
    """
    a, b = _operands(a, b, "div")

    def backward(g: Tensor) -> tuple:
        ga = div(g, b) if a.requires_grad else None
        gb = neg(div(mul(g, a), mul(b, b))) if b.requires_grad else None
        return ga, gb

    saved = (a, b) if b.requires_grad else (b,)
    return make_op("div", _apply("div", np.divide, a, b), (a, b), backward, saved=saved)


@register
def neg(a: Tensor) -> Tensor:
    """Elementwise ``-a``. Shape: unchanged.

    >>> (-Tensor([1.0])).item()
    -1.0
    """
    return make_op("neg", -a.data, (a,), lambda g: (neg(g),), saved=())


@register("pow")
def power(a: Any, b: Any) -> Tensor:
    """Elementwise ``a ** b``; ``b`` a Tensor or a number. Shape: broadcast(a, b).

    >>> (Tensor([3.0]) ** 2).item()
    9.0
    """
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        if not np.isscalar(b):
            b = lift(np.asarray(b), a)
        else:
            c = float(b)  # type: ignore[arg-type]  # np.isscalar: a number here

            def backward_scalar(g: Tensor) -> tuple:
                if c == 2.0:
                    return (mul(g, mul(a, 2.0)),)
                return (mul(g, mul(power(a, c - 1.0), c)),)

            with np.errstate(divide="ignore", invalid="ignore"):
                out = a.data ** np.asarray(c, dtype=a.dtype) if a.data.dtype.kind == "f" else a.data ** b
            return make_op("pow", out, (a,), backward_scalar, {"exponent": c})
    a, b = _operands(a, b, "pow")
    with np.errstate(divide="ignore", invalid="ignore"):
        out_data = _apply("pow", np.power, a, b)

    def backward(g: Tensor, out: Tensor) -> tuple:
        ga = mul(g, mul(b, power(a, sub(b, 1.0)))) if a.requires_grad else None
        gb = mul(g, mul(out, log(a))) if b.requires_grad else None
        return ga, gb

    return make_op("pow", out_data, (a, b), backward, needs_output=True)


@register
def exp(a: Tensor) -> Tensor:
    """Elementwise ``e ** a``. Shape: unchanged.

    >>> exp(Tensor([0.0])).item()
    1.0
    """
    return make_op("exp", np.exp(a.data), (a,), lambda g, out: (mul(g, out),), saved=(), needs_output=True)


@register
def log(a: Tensor) -> Tensor:
    """Elementwise natural logarithm. Shape: unchanged.

    >>> log(Tensor([1.0])).item()
    0.0
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        data = np.log(a.data)
    return make_op("log", data, (a,), lambda g: (div(g, a),))


@register
def sqrt(a: Tensor) -> Tensor:
    """Elementwise square root. Shape: unchanged.

    >>> sqrt(Tensor([4.0])).item()
    2.0
    """
    with np.errstate(invalid="ignore"):
        data = np.sqrt(a.data)
    return make_op("sqrt", data, (a,), lambda g, out: (div(g, mul(out, 2.0)),), saved=(), needs_output=True)


@register("abs")
def absolute(a: Tensor) -> Tensor:
    """Elementwise absolute value; the gradient at 0 is 0. Shape: unchanged.

    >>> absolute(Tensor([-2.0])).item()
    2.0
    """
    return make_op("abs", np.abs(a.data), (a,), lambda g: (mul(g, _const(np.sign(a.data))),))


@register
def clip(a: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp into ``[min, max]``; the gradient passes where ``min <= a <= max``. Shape: unchanged.

    >>> clip(Tensor([-1.0, 0.5, 2.0]), 0, 1).tolist()
    [0.0, 0.5, 1.0]
    """
    if min is None and max is None:
        raise OpError("clip: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise OpError(f"clip: min ({min}) must not exceed max ({max})")
    data = np.clip(a.data, min, max)
    mask = np.ones(a.shape, dtype=bool)
    if min is not None:
        mask &= a.data >= min
    if max is not None:
        mask &= a.data <= max
    return make_op("clip", data.astype(a.dtype, copy=False), (a,),
                   lambda g: (mul(g, _const(mask.astype(a.dtype))),), {"min": min, "max": max}, saved=())


@register
def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (broadcast). Shape: broadcast of all three.

    >>> where(Tensor(np.array([True, False])), Tensor([1.0, 2.0]), 0.0).tolist()
    [1.0, 0.0]
    """
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    a, b = _operands(a, b, "where")
    try:
        data = np.where(cond, a.data, b.data)
    except ValueError:
        raise ShapeError(f"where: shapes condition {cond.shape}, a {a.shape}, b {b.shape} "
                         "cannot be broadcast together") from None
    c = Tensor(cond)

    def backward(g: Tensor) -> tuple:
        zero = lift(0.0, g)
        return (where(c, g, zero) if a.requires_grad else None, where(c, zero, g) if b.requires_grad else None)

    return make_op("where", data, (a, b), backward, saved=())


def _extremum(a: Any, b: Any, name: str, pick: Any) -> Tensor:
    a, b = _operands(a, b, name)
    data = _apply(name, pick, a, b)
    # ties split the gradient evenly between the two inputs, as PyTorch does
    # a's share: 1 where it won, 0.5 on ties, 0 where b won (data is already the pick)
    wa = np.where(a.data == b.data, 0.5, data == a.data).astype(data.dtype)

    def backward(g: Tensor) -> tuple:
        return mul(g, _const(wa)), mul(g, _const(1 - wa))

    return make_op(name, data, (a, b), backward, saved=())


@register
def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; ties give each side half the gradient. Shape: broadcast(a, b).

    >>> maximum(Tensor([1.0, 5.0]), Tensor([3.0, 2.0])).tolist()
    [3.0, 5.0]
    """
    return _extremum(a, b, "maximum", np.maximum)


@register
def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; ties give each side half the gradient. Shape: broadcast(a, b).

    >>> minimum(Tensor([1.0, 5.0]), Tensor([3.0, 2.0])).tolist()
    [1.0, 2.0]
    """
    return _extremum(a, b, "minimum", np.minimum)
