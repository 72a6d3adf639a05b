"""Strategies drawing valid, kink-free calls (``Sample``s) of every registered op.

A new op gets its gradient tests by registering it (``ops.register``) and adding an entry here.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..ops.geometry import conv_geometry, pool_geometry
from ..tensor import Tensor
from .sample import SAMPLES, Sample, Spec, sample  # noqa: F401  (SAMPLES and Spec: importable from here)
from .strategies import (broadcastable_shapes, conv2d_args, conv_transpose2d_args, distinct_tensors, pool2d_args,
                         shapes, tensors)


def _broadcastable_pair(draw: Any, **kw: Any) -> tuple[Tensor, Tensor]:
    shape = draw(shapes(max_dims=3))
    other = draw(broadcastable_shapes(shape, max_dims=3, max_side=4))
    if draw(st.booleans()):
        shape, other = other, shape
    return draw(tensors(shape, **kw)), draw(tensors(other, **kw))


for _name in ("add", "sub", "mul"):
    @sample(_name)
    def _binary(draw: Any) -> Sample:
        a, b = _broadcastable_pair(draw)
        return Sample((a, b))


@sample("div")
def _div(draw: Any) -> Sample:
    a, b = _broadcastable_pair(draw, min_magnitude=0.5)
    return Sample((a, b))


@sample("remainder")
def _remainder(draw: Any) -> Sample:
    # a = (k + f) * b with f in [0.2, 0.8]: away from the jumps of a % b at multiples of b
    b = draw(tensors(min_magnitude=0.5, max_value=2.0, min_value=-2.0))
    k = draw(st.integers(-3, 3))
    f = draw(st.floats(0.2, 0.8))
    a = Tensor((k + f) * b._data, requires_grad=True)
    return Sample((a, b) if draw(st.booleans()) else (a, Tensor(b._data)))


def _unary(name: str, **kw: Any) -> None:
    @sample(name)
    def draw_unary(draw: Any) -> Sample:
        return Sample((draw(tensors(**kw)),))


_unary("neg")
_unary("clone")
_unary("exp")
_unary("log", min_value=0.2, max_value=3.0)
_unary("sqrt", min_value=0.2, max_value=3.0)
_unary("abs", min_magnitude=0.1)
_unary("relu", min_magnitude=0.1)
_unary("sigmoid", min_value=-4, max_value=4)
_unary("tanh")
_unary("softplus", min_value=-4, max_value=4)


@sample("leaky_relu")
def _leaky(draw: Any) -> Sample:
    return Sample((draw(tensors(min_magnitude=0.1)), draw(st.floats(0.0, 0.5))))


@sample("pow")
def _pow(draw: Any) -> Sample:
    if draw(st.booleans()):
        a, b = _broadcastable_pair(draw, min_value=0.3, max_value=2.0)
        return Sample((a, b))
    return Sample((draw(tensors(min_value=0.3, max_value=2.0)), draw(st.sampled_from([2, 3, 0.5, -1.5, 2.5]))))


@sample("clip")
def _clip(draw: Any) -> Sample:
    x = draw(tensors(min_value=-2.0, max_value=2.0))
    lo, hi = -0.8, 0.9
    assume(np.all(np.abs(x._data - lo) > 0.02) and np.all(np.abs(x._data - hi) > 0.02))
    which = draw(st.sampled_from(["both", "min", "max"]))
    return Sample((x, lo if which != "max" else None, hi if which != "min" else None))


@sample("where")
def _where(draw: Any) -> Sample:
    a, b = _broadcastable_pair(draw)
    shape = np.broadcast_shapes(a.shape, b.shape)
    cond = draw(st.lists(st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return Sample((Tensor(np.array(cond, dtype=bool).reshape(shape)), a, b))


for _name in ("maximum", "minimum"):
    @sample(_name)
    def _extremum(draw: Any) -> Sample:
        a, b = _broadcastable_pair(draw)
        assume(np.all(np.abs(a._data - b._data) > 1e-3))
        return Sample((a, b))


def _dims(draw: Any, ndim: int, allow_none: bool = True) -> Any:
    if ndim == 0:
        return None
    choice = draw(st.sampled_from(["none", "int", "tuple"] if allow_none else ["int"]))
    if choice == "none":
        return None
    if choice == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim)))


for _name in ("sum", "mean"):
    @sample(_name)
    def _reduction(draw: Any) -> Sample:
        x = draw(tensors())
        return Sample((x, _dims(draw, x.ndim), draw(st.booleans())))


@sample("norm")
def _norm(draw: Any) -> Sample:
    x = draw(tensors(min_magnitude=0.1))  # away from |x|'s kink at 0 (the zeros are tested apart)
    return Sample((x, draw(st.sampled_from([2.0, 3.0, 1.5])), _dims(draw, x.ndim), draw(st.booleans())))


def _values(out: Any) -> Tensor:
    return out.values if hasattr(out, "values") else out


for _name in ("max", "min"):
    @sample(_name, post=_values)
    def _extreme(draw: Any) -> Sample:
        x = draw(distinct_tensors(shapes(min_dims=1)))
        return Sample((x, _dims(draw, x.ndim), draw(st.booleans())))


@sample("astype")
def _astype(draw: Any) -> Sample:
    # a round trip through long double keeps float64 precision for finite differences
    return Sample((draw(tensors()), np.longdouble))


@sample("reshape")
def _reshape(draw: Any) -> Sample:
    x = draw(tensors())
    n = x.numel()
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = draw(st.sampled_from(divisors))
    return Sample((x, (d, -1)))


@sample("permute")
def _permute(draw: Any) -> Sample:
    x = draw(tensors(shapes(min_dims=1)))
    return Sample((x, *draw(st.permutations(range(x.ndim)))))


@sample("expand")
def _expand(draw: Any) -> Sample:
    x = draw(tensors(shapes(max_dims=2, max_side=3)))
    target = tuple(draw(st.integers(1, 3)) if n == 1 else n for n in x.shape)
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    return Sample((x, lead + target))


@st.composite
def _index_for(draw: Any, shape: tuple) -> Any:
    kind = draw(st.sampled_from(["int", "slice", "array", "mixed", "bool"]))
    n = shape[0]
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "slice":
        start = draw(st.integers(0, n - 1))
        return slice(start, draw(st.integers(start + 1, n)), draw(st.integers(1, 2)))
    if kind == "array":  # repeats allowed: their gradients must add up
        return np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=5)))
    if kind == "bool":
        return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    if len(shape) < 2:
        return (Ellipsis,)
    return (slice(None), np.array(draw(st.lists(st.integers(0, shape[1] - 1), min_size=1, max_size=4))))


@sample("getitem")
def _getitem(draw: Any) -> Sample:
    x = draw(tensors(shapes(min_dims=1)))
    return Sample((x, draw(_index_for(x.shape))))


@sample("index_add")
def _index_add(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1))
    idx = draw(_index_for(shape))
    g_shape = np.zeros(shape)[idx].shape
    return Sample((draw(tensors(g_shape)), idx, shape))


@sample("pad")
def _pad(draw: Any) -> Sample:
    x = draw(tensors(shapes(min_dims=1)))
    k = draw(st.integers(1, x.ndim))
    pads = tuple(draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k)))
    return Sample((x, pads, draw(st.sampled_from([0.0, 1.5]))))


@sample("cat")
def _cat(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(0, len(shape) - 1))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[dim] = draw(st.integers(1, 3))
        parts.append(draw(tensors(tuple(s))))
    return Sample((parts, dim))


@sample("matmul")
def _matmul(draw: Any) -> Sample:
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched", "broadcast"]))
    sa: tuple
    sb: tuple
    if kind == "vv":
        sa, sb = (k,), (k,)
    elif kind == "mv":
        sa, sb = (m, k), (k,)
    elif kind == "vm":
        sa, sb = (k,), (k, n)
    elif kind == "mm":
        sa, sb = (m, k), (k, n)
    elif kind == "batched":
        b = draw(st.integers(1, 3))
        sa, sb = (b, m, k), (b, k, n)
    else:
        sa, sb = (2, 1, m, k), (3, k, n)
    return Sample((draw(tensors(sa)), draw(tensors(sb))))


@sample("linear")
def _linear(draw: Any) -> Sample:
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead = draw(st.sampled_from([(), (2,), (3,), (2, 3)]))
    x, w = draw(tensors(lead + (n_in,))), draw(tensors((n_out, n_in)))
    return Sample((x, w, draw(tensors((n_out,))) if draw(st.booleans()) else None))


for _name in ("softmax", "log_softmax"):
    @sample(_name)
    def _softmax(draw: Any) -> Sample:
        x = draw(tensors(shapes(min_dims=1), min_value=-3, max_value=3))
        return Sample((x, draw(st.integers(-x.ndim, x.ndim - 1))))


@sample("gather")
def _gather(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1, max_dims=3))
    x = draw(tensors(shape))
    d = draw(st.integers(0, len(shape) - 1))
    idx_shape = tuple(n if a == d else draw(st.integers(1, n)) for a, n in enumerate(shape))
    idx_shape = tuple(draw(st.integers(1, 4)) if a == d else n for a, n in enumerate(idx_shape))
    idx = np.array(draw(st.lists(st.integers(0, shape[d] - 1), min_size=int(np.prod(idx_shape)),
                                 max_size=int(np.prod(idx_shape))))).reshape(idx_shape)
    return Sample((x, d, idx))


@sample("scatter_add")
def _scatter_add(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1, max_dims=3))
    d = draw(st.integers(0, len(shape) - 1))
    idx_shape = tuple(draw(st.integers(1, 4)) if a == d else draw(st.integers(1, n)) for a, n in enumerate(shape))
    idx = np.array(draw(st.lists(st.integers(0, shape[d] - 1), min_size=int(np.prod(idx_shape)),
                                 max_size=int(np.prod(idx_shape))))).reshape(idx_shape)
    return Sample((draw(tensors(idx_shape)), d, idx, shape))


# ---------------------------------------------------------------- CNN primitives
@sample("conv2d")
def _conv2d(draw: Any) -> Sample:
    a = draw(conv2d_args())
    return Sample((a.input, a.weight, a.bias), a.kwargs())


@sample("conv_transpose2d")
def _conv_transpose2d(draw: Any) -> Sample:
    a = draw(conv_transpose2d_args())
    return Sample((a.input, a.weight, a.bias), a.kwargs())


@sample("conv2d_weight")
def _conv2d_weight(draw: Any) -> Sample:
    a = draw(conv2d_args(padding_strings=False, with_bias=False))
    p = conv_geometry("conv2d", a.input.shape, a.weight.shape, a.stride, a.padding, a.dilation, a.groups)
    g = draw(tensors((a.input.shape[0], a.weight.shape[0]) + p.out_hw))
    return Sample((a.input, g, a.weight.shape[2:], p.stride, p.pads, p.dilation, a.groups))


@sample("conv_bias_grad")
def _conv_bias_grad(draw: Any) -> Sample:
    a = draw(conv2d_args(padding_strings=False, with_bias=False))
    p = conv_geometry("conv2d", a.input.shape, a.weight.shape, a.stride, a.padding, a.dilation, a.groups)
    g = draw(tensors((a.input.shape[0], a.weight.shape[0]) + p.out_hw))
    return Sample((g, p) if draw(st.booleans()) else (g,))


@sample("max_pool2d")
def _max_pool2d(draw: Any) -> Sample:
    a = draw(pool2d_args(kind="max"))
    return Sample((a.input,), a.kwargs())


@sample("avg_pool2d")
def _avg_pool2d(draw: Any) -> Sample:
    a = draw(pool2d_args(kind="avg"))
    return Sample((a.input,), a.kwargs())


@st.composite
def _which(draw: Any, geo: Any, shape: tuple) -> np.ndarray:
    k = geo.kernel[0] * geo.kernel[1]
    n = int(np.prod(shape))
    return np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=np.int8).reshape(shape)


@sample("pool_pick")
def _pool_pick(draw: Any) -> Sample:
    a = draw(pool2d_args(kind="max"))
    geo = pool_geometry("max_pool2d", a.input.shape, a.kernel_size, a.stride, a.padding, a.dilation,
                                 a.ceil_mode)
    return Sample((a.input, draw(_which(geo, a.input.shape[:2] + geo.out_hw)), geo))


@sample("pool_place")
def _pool_place(draw: Any) -> Sample:
    a = draw(pool2d_args(kind="max"))
    geo = pool_geometry("max_pool2d", a.input.shape, a.kernel_size, a.stride, a.padding, a.dilation,
                                 a.ceil_mode)
    shape = a.input.shape[:2] + geo.out_hw
    return Sample((draw(tensors(shape)), draw(_which(geo, shape)), geo))


@sample("window_sum")
def _window_sum(draw: Any) -> Sample:
    a = draw(pool2d_args(kind="avg"))
    geo = pool_geometry("avg_pool2d", a.input.shape, a.kernel_size, a.stride, a.padding, 1, a.ceil_mode)
    return Sample((a.input, geo))


@sample("window_fold")
def _window_fold(draw: Any) -> Sample:
    a = draw(pool2d_args(kind="avg"))
    geo = pool_geometry("avg_pool2d", a.input.shape, a.kernel_size, a.stride, a.padding, 1, a.ceil_mode)
    g = draw(tensors(a.input.shape[:2] + geo.out_hw))
    return Sample((g, geo))


from . import nn_samples  # noqa: E402,F401  (the loss and normalization strategies register themselves)
