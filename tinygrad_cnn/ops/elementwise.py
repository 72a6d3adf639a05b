"""Elementwise arithmetic: each op's forward, then its backward closure built from these same ops.

Broadcasting is undone by the engine (``engine.sum_to_shape``), so closures return gradients in the
broadcast shape.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..graph import make_op
from .kernels import layout
from ..tensor import Tensor, lift
from .registry import register
from ..errors import OpError, ShapeError


def _operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Lift Python/numpy scalars to Tensors of the other operand's dtype."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a, b
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
    da, db = a._data.dtype, b._data.dtype
    if da == db:
        return da
    ca, cb = _category(da), _category(db)
    if ca != cb:
        return da if ca > cb else db
    if (a.ndim == 0) != (b.ndim == 0):
        return db if a.ndim == 0 else da
    return np.promote_types(da, db)


def promote_types(dtypes: Any) -> np.dtype:
    """PyTorch's promotion of several tensors' dtypes (all with dimensions, as ``cat``'s): the
    highest category, and the widest dtype within it.

    >>> promote_types([np.dtype(np.int64), np.dtype(np.float32)])
    dtype('float32')
    """
    dtypes = [np.dtype(d) for d in dtypes]
    top = max(_category(d) for d in dtypes)
    return functools.reduce(np.promote_types, [d for d in dtypes if _category(d) == top])


def _apply(op: str, fn: Any, a: Tensor, b: Tensor) -> np.ndarray:
    """``fn(a._data, b._data)`` in the operands' promoted dtype; a broadcasting failure becomes a
    ValueError naming the op and shapes."""
    x, y = a._data, b._data
    if x.dtype != y.dtype:
        dtype = result_type(a, b)
        x, y = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
    try:
        if x.size < layout.MIN_SIZE and y.size < layout.MIN_SIZE:  # binary_out would say None: skip its checks
            return fn(x, y)
        return fn(x, y, out=layout.binary_out(fn, x, y))
    except ValueError:
        raise ShapeError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _const(arr: np.ndarray) -> Tensor:
    return Tensor(arr)


def floating(a: Tensor) -> Tensor:
    """``a``, or for an integer or bool tensor its float32 copy: PyTorch's floating ops (exp, log,
    sqrt, sigmoid, ...) give the default float dtype for them."""
    return a if a._data.dtype.kind == "f" else Tensor(a._data.astype(np.float32))


def no_bool(op: str, a: Tensor) -> None:
    if a._data.dtype == np.bool_:
        raise TypeError(f"{op}: not defined for bool tensors (as in PyTorch); use ~ or logical_not() on a mask")


@register
def add(a: Any, b: Any) -> Tensor:
    """Elementwise ``a + b`` with broadcasting. Shape: broadcast(a, b).

    >>> (Tensor([1.0, 2.0]) + 1).tolist()
    [2.0, 3.0]
    """
    a, b = _operands(a, b, "add")
    return make_op("add", _apply("add", np.add, a, b), (a, b), _add_backward, saved=())


def _add_backward(g: Tensor) -> tuple:
    return g, g


def no_bool_subtraction(op: str, a: Any, b: Any) -> None:
    if any(isinstance(v, (bool, np.bool_)) or isinstance(v, Tensor) and v.dtype == np.bool_ for v in (a, b)):
        raise RuntimeError(f"{op}: subtraction with a bool tensor or value is not supported (as in PyTorch); "
                           "to invert a mask use ~ or logical_not()")


@register
def sub(a: Any, b: Any) -> Tensor:
    """Elementwise ``a - b``. Shape: broadcast(a, b).

    >>> (Tensor([3.0]) - Tensor([1.0])).item()
    2.0
    """
    no_bool_subtraction("sub", a, b)
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

    def backward(g: Tensor) -> tuple:  # d(a*b)/da = b, d(a*b)/db = a
        return (mul(g, b) if a.requires_grad else None, mul(g, a) if b.requires_grad else None)

    saved = ((b,) if a.requires_grad else ()) + ((a,) if b.requires_grad else ())
    return make_op("mul", _apply("mul", np.multiply, a, b), (a, b), backward, saved=saved)


@register
def div(a: Any, b: Any) -> Tensor:
    """Elementwise ``a / b``. Shape: broadcast(a, b).

    >>> (Tensor([3.0]) / 2).item()
    1.5
    """
    a0, b0 = a, b
    a, b = _operands(a, b, "div")
    if result_type(a, b).kind in "iub":  # true division of integers gives the default float dtype, as PyTorch's
        # from the values as given: a number is not first wrapped into a narrow integer dtype (-1 / uint8)
        a, b = (Tensor(np.asarray(v._data if isinstance(v, Tensor) else v).astype(np.float32)) for v in (a0, b0))

    def backward(g: Tensor) -> tuple:
        ga = div(g, b) if a.requires_grad else None
        # (a / b) / b, PyTorch's order: b * b would underflow to 0 for tiny b
        gb = neg(mul(g, div(div(a, b), b))) if b.requires_grad else None
        return ga, gb

    saved = (a, b) if b.requires_grad else (b,)
    with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 is inf or NaN without a warning, as in PyTorch
        data = _apply("div", np.divide, a, b)
    return make_op("div", data, (a, b), backward, saved=saved)


@register
def neg(a: Tensor) -> Tensor:
    """Elementwise ``-a``. Shape: unchanged.

    >>> (-Tensor([1.0])).item()
    -1.0
    """
    no_bool("neg", a)
    return make_op("neg", -a._data, (a,), lambda g: (neg(g),), saved=())


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
                if c == 0.0:  # a constant: 0, also at a = 0 where c * a ** (c - 1) is 0 * inf (PyTorch: zeros)
                    return (_const(np.zeros(a.shape, a.dtype)),)
                if c == 2.0:
                    return (mul(g, mul(a, 2.0)),)
                if c == 0.5:  # through sqrt, as PyTorch (its sign at -0 is -inf, as 1 / sqrt(-0))
                    return (div(mul(g, 0.5), sqrt(a)),)
                return (mul(g, mul(power(a, c - 1.0), c)),)

            with np.errstate(divide="ignore", invalid="ignore"):
                out = a._data ** np.asarray(c, dtype=a.dtype) if a._data.dtype.kind == "f" else _int_power(a, b)
            return make_op("pow", out, (a,), backward_scalar, {"exponent": c}, saved=(a,))
    a, b = _operands(a, b, "pow")
    with np.errstate(divide="ignore", invalid="ignore"):
        out_data = _apply("pow", _integer_power if result_type(a, b).kind in "biu" else np.power, a, b)

    def backward(g: Tensor, out: Tensor) -> tuple:
        # PyTorch's zeros where the formulas meet 0 * inf: d/da where b = 0, d/db where a = 0 and b >= 0;
        # the masked positions read a = 1 so that no NaN reaches a higher-order gradient either
        ga = gb = None
        if a.requires_grad:
            b0 = np.broadcast_to(b._data == 0, out.shape)
            base = where(b0, 1.0, a) if b0.any() else a
            ga = mul(g, mul(b, power(base, sub(b, 1.0))))
            ga = where(b0, 0.0, ga) if b0.any() else ga
        if b.requires_grad:
            a0 = np.broadcast_to((a._data == 0) & (b._data >= 0), out.shape)
            gb = mul(g, where(a0, 0.0, mul(out, log(where(a0, 1.0, a))))) if a0.any() else mul(g, mul(out, log(a)))
        return ga, gb

    return make_op("pow", out_data, (a, b), backward, saved=(a, b), needs_output=True)


def _int_power(a: Tensor, b: Any) -> np.ndarray:
    """An integer or bool tensor to a Python number, with PyTorch's dtypes: int64 (or the tensor's
    integer dtype) for an integer exponent, the default float32 for a float one."""
    if isinstance(b, (float, np.floating)):
        return a._data.astype(np.float32) ** np.float32(b)
    if a.dtype == np.bool_ and isinstance(b, (bool, np.bool_)):  # bool ** bool stays bool, as in PyTorch
        return (a._data.astype(np.int64) ** int(b)).astype(bool)
    if b < 0:
        raise RuntimeError("pow: integers to negative integer powers are not allowed (as in PyTorch)")
    base = a._data.astype(np.int64) if a.dtype.kind == "b" else a._data
    return base ** np.asarray(b, dtype=base.dtype)


def _integer_power(x: np.ndarray, y: np.ndarray, out: Any = None) -> np.ndarray:
    """Integer ``x ** y`` elementwise as PyTorch computes it: a negative exponent gives 1 for base 1,
    +-1 for base -1 and 0 otherwise (numpy refuses negative integer powers)."""
    if x.dtype == np.bool_:
        raise TypeError("pow: not defined for two bool tensors (as in PyTorch)")
    neg = y < 0
    if not neg.any():
        return np.power(x, y, out=out)
    res = np.power(x, np.where(neg, 0, y))
    small = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0)).astype(res.dtype)
    return np.where(neg, small, res)


@register
def exp(a: Tensor) -> Tensor:
    """Elementwise ``e ** a``. Shape: unchanged.

    >>> exp(Tensor([0.0])).item()
    1.0
    """
    a = floating(a)
    return make_op("exp", np.exp(a._data), (a,), lambda g, out: (mul(g, out),), saved=(), needs_output=True)


@register
def log(a: Tensor) -> Tensor:
    """Elementwise natural logarithm. Shape: unchanged.

    >>> log(Tensor([1.0])).item()
    0.0
    """
    a = floating(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        data = np.log(a._data)
    return make_op("log", data, (a,), lambda g: (div(g, a),), saved=(a,))


@register
def sqrt(a: Tensor) -> Tensor:
    """Elementwise square root. Shape: unchanged.

    >>> sqrt(Tensor([4.0])).item()
    2.0
    """
    a = floating(a)
    with np.errstate(invalid="ignore"):
        data = np.sqrt(a._data)
    return make_op("sqrt", data, (a,), lambda g, out: (div(g, mul(out, 2.0)),), saved=(), needs_output=True)


@register("abs")
def absolute(a: Tensor) -> Tensor:
    """Elementwise absolute value; the gradient at 0 is 0. Shape: unchanged.

    >>> absolute(Tensor([-2.0])).item()
    2.0
    """
    no_bool("abs", a)
    return make_op("abs", np.abs(a._data), (a,), lambda g: (mul(g, _const(np.sign(a._data))),), saved=(a,))


@register
def clip(a: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp into ``[min, max]``; the gradient passes where ``min <= a <= max``. Shape: unchanged.

    >>> clip(Tensor([-1.0, 0.5, 2.0]), 0, 1).tolist()
    [0.0, 0.5, 1.0]
    """
    if min is None and max is None:
        raise OpError("clip: at least one of min and max must be given")
    lo, hi = (None if v is None else lift(v, a)._data for v in (min, max))
    dtype = a.dtype  # a bound of a higher kind gives its kind's default dtype, as PyTorch's promotion
    for b in (lo, hi):
        if b is not None and _category(b.dtype) > _category(dtype):
            dtype = b.dtype
    if dtype == np.bool_:
        raise TypeError("clip: not defined for bool tensors with bool bounds (as in PyTorch)")
    if dtype != a.dtype:  # only an integer or bool tensor, which has no gradient
        a = Tensor(a._data.astype(dtype))
    data = np.clip(a._data, lo, hi)  # min > max gives max everywhere, as PyTorch's
    mask = np.ones(a.shape, dtype=bool)
    if min is not None:
        mask &= a._data >= min
    if max is not None:
        mask &= a._data <= max
    return make_op("clip", data.astype(a.dtype, copy=False), (a,),
                   lambda g: (mul(g, _const(mask.astype(a.dtype))),), {"min": min, "max": max}, saved=())


@register
def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (broadcast). Shape: broadcast of all three.

    >>> where(Tensor(np.array([True, False])), Tensor([1.0, 2.0]), 0.0).tolist()
    [1.0, 0.0]
    """
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    a, b = _operands(a, b, "where")
    try:
        data = np.where(cond, a._data, b._data).astype(result_type(a, b), copy=False)
    except ValueError:
        raise ShapeError(f"where: shapes condition {cond.shape}, a {a.shape}, b {b.shape} "
                         "cannot be broadcast together") from None
    c = Tensor(cond)

    def backward(g: Tensor) -> tuple:
        zero = lift(0.0, g)
        return (where(c, g, zero) if a.requires_grad else None, where(c, zero, g) if b.requires_grad else None)

    # the closure reads the condition: a change of it in place before backward raises, as in PyTorch
    return make_op("where", data, (a, b), backward, saved=(condition,) if isinstance(condition, Tensor) else ())


def _extremum(a: Any, b: Any, name: str, pick: Any) -> Tensor:
    a, b = _operands(a, b, name)
    data = _apply(name, pick, a, b)
    # ties split the gradient evenly between the two inputs, as PyTorch does
    # a's share: 1 where it won, 0.5 on ties, 0 where b won (data is already the pick)
    wa = np.where(a._data == b._data, 0.5, data == a._data).astype(data.dtype)

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
