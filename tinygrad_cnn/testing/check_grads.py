"""JAX-style derivative checks of any order in forward and reverse mode (``check_grads``).

- "fwd": the JVP ``J v`` along a random direction against central finite differences.
- "rev": the VJP ``Jᵀu`` against that JVP through ``⟨u, J v⟩ = ⟨Jᵀu, v⟩``; no finite
  differences, so it also holds in float32. Here the JVP is itself derived from the VJP (double
  VJP), so this mode proves the VJP linear in ``u`` and inside the graph; the values are proven
  by "fwd".

For order k > 1 the same checks (every mode asked for) run on the derivative functions
themselves: ``(x, v) -> (f(x), J v)`` after "fwd", and ``x -> Jᵀ f(x)`` (the VJP of the output
itself) after "rev", as JAX does.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..autograd import functional as AF
from ..engine import grad
from ..modes import enable_grad
from ..tensor import Tensor
from .gradcheck import GradcheckError

__all__ = ["check_grads"]

_DEFAULTS = {np.dtype(np.float64): (1e-6, 1e-5, 1e-3), np.dtype(np.float32): (1e-3, 1e-2, 1e-2)}


def _outputs(f: Callable, xs: tuple) -> tuple:
    out = f(*xs)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise GradcheckError(f"check_grads: output {i} of f is a {type(o).__name__}, expected a Tensor")
    return outs


def _random_like(ts: tuple, rng: np.random.Generator) -> tuple:
    return tuple(Tensor(rng.standard_normal(t.shape).astype(t.dtype)) for t in ts)


def _dot(a: tuple, b: tuple) -> tuple[float, float]:
    """``Σ⟨a_i, b_i⟩`` and ``Σ|a_i * b_i|`` (the scale the sum's rounding error is relative to)."""
    prods = [np.asarray(x._data, np.float64) * np.asarray(y._data, np.float64) for x, y in zip(a, b)]
    return float(sum(p.sum() for p in prods)), float(sum(np.abs(p).sum() for p in prods))


def _check_fwd(f: Callable, xs: tuple, order: int, eps: float, atol: float, rtol: float,
               rng: np.random.Generator) -> None:
    vs = _random_like(xs, rng)
    _, tangents = AF.jvp(f, xs, vs)
    tangents = tangents if isinstance(tangents, tuple) else (tangents,)
    plus = _outputs(f, tuple(Tensor(x._data + eps * v._data) for x, v in zip(xs, vs)))
    minus = _outputs(f, tuple(Tensor(x._data - eps * v._data) for x, v in zip(xs, vs)))
    for i, (t, p, m) in enumerate(zip(tangents, plus, minus)):
        num = (np.asarray(p._data, np.float64) - np.asarray(m._data, np.float64)) / (2 * eps)
        ana = np.asarray(t._data, np.float64)
        bad = np.abs(ana - num) - (atol + rtol * np.abs(num))
        bad = np.where(np.isnan(bad), np.inf, bad)
        if bad.size and bad.max() > 0:
            e = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
            raise GradcheckError(f"check_grads: order {order}, fwd mode: the JVP of output {i} along a random "
                                 f"direction differs from central differences at index {tuple(int(k) for k in e)}: "
                                 f"numerical {num[e]:.6g}, JVP {ana[e]:.6g} (atol {atol}, rtol {rtol})")


def _check_rev(f: Callable, xs: tuple, order: int, atol: float, rtol: float, rng: np.random.Generator) -> None:
    vs = _random_like(xs, rng)
    outs, tangents = AF.jvp(f, xs, vs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    tangents = tangents if isinstance(tangents, tuple) else (tangents,)
    us = _random_like(outs, rng)
    _, cotangents = AF.vjp(f, xs, us)
    cotangents = cotangents if isinstance(cotangents, tuple) else (cotangents,)
    u_jv, scale_a = _dot(us, tangents)
    jtu_v, scale_b = _dot(cotangents, vs)
    if not abs(u_jv - jtu_v) <= atol + rtol * max(scale_a, scale_b):
        worst = ""
        for i, (c, x) in enumerate(zip(cotangents, xs)):
            if not np.all(np.isfinite(c._data)):
                worst = f"; the VJP for input {i} (shape {x.shape}) is not finite"
        raise GradcheckError(f"check_grads: order {order}, rev mode: ⟨u, J v⟩ = {u_jv:.8g} but ⟨Jᵀu, v⟩ = "
                             f"{jtu_v:.8g} for random u, v (atol {atol}, rtol {rtol}){worst}")


def check_grads(f: Callable, args: Any, order: int = 2, modes: tuple = ("fwd", "rev"), eps: float | None = None,
                atol: float | None = None, rtol: float | None = None, seed: int = 0) -> None:
    """Check ``f``'s derivatives at ``args`` (Tensors, all differentiated) up to ``order``, in
    forward mode (JVP against finite differences) and reverse mode (VJP against JVP), as JAX's
    ``check_grads``; raises ``GradcheckError`` naming the order, the mode and the values.
    Defaults by dtype: float64 eps 1e-6, atol 1e-5, rtol 1e-3; float32 1e-3, 1e-2, 1e-2.

    >>> from tinygrad_cnn import tensor
    >>> check_grads(lambda x: (x * x.exp()).sum(), (tensor([0.3, -1.2], dtype="float64"),), order=3)
    """
    xs = (args,) if isinstance(args, Tensor) else tuple(args)
    if not xs or not all(isinstance(x, Tensor) and x.dtype.kind == "f" for x in xs):
        raise TypeError("check_grads: args must be a floating-point Tensor or a tuple of them")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be a positive int, got {order!r}")
    unknown = set(modes) - {"fwd", "rev"}
    if unknown or not modes:
        raise ValueError(f"check_grads: modes must be a non-empty subset of ('fwd', 'rev'), got {modes!r}")
    d_eps, d_atol, d_rtol = _DEFAULTS.get(np.dtype(xs[0].dtype), _DEFAULTS[np.dtype(np.float32)])
    tol = (d_eps if eps is None else eps, d_atol if atol is None else atol, d_rtol if rtol is None else rtol)
    rng = np.random.default_rng(seed)
    with enable_grad():
        _check(f, tuple(x.detach() for x in xs), order, 1, tuple(modes), tol, rng)


def _check(f: Callable, xs: tuple, order: int, level: int, modes: tuple, tol: tuple,
           rng: np.random.Generator) -> None:
    eps, atol, rtol = tol
    if "fwd" in modes:
        _check_fwd(f, xs, level, eps, atol, rtol, rng)
        if level < order:
            n = len(xs)

            def f_jvp(*args: Tensor) -> tuple:
                outs, tangents = AF.jvp(f, args[:n], args[n:], create_graph=True)
                return ((outs,) if isinstance(outs, Tensor) else outs) + (
                    (tangents,) if isinstance(tangents, Tensor) else tangents)
            _check(f_jvp, xs + _random_like(xs, rng), order, level + 1, modes, tol, rng)
    if "rev" in modes:
        _check_rev(f, xs, level, atol, rtol, rng)
        if level < order:
            def f_vjp(*args: Tensor) -> tuple:
                ins = tuple(a if a.requires_grad else a.detach().requires_grad_(True) for a in args)
                outs = [o for o in _outputs(f, ins) if o.requires_grad]
                grads = (grad(outs, list(ins), outs, create_graph=True, allow_unused=True) if outs
                         else (None,) * len(ins))
                return tuple(g if g is not None else Tensor(np.zeros_like(a._data)) for g, a in zip(grads, ins))
            _check(f_vjp, xs, order, level + 1, modes, tol, rng)
