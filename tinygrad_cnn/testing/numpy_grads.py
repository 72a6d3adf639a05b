"""Gradient checks of plain numpy functions of arrays: a learner's forward and backward, before any Tensor.

>>> import numpy as np

from .failures import GradcheckError
>>> gradcheck_numpy(np.tanh, [np.array([0.3, -1.2])], lambda dout, x: dout * (1 - np.tanh(x) ** 2))
True
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .failures import GradcheckError

__all__ = ["numerical_vjp", "numerical_grad_numpy", "gradcheck_numpy", "is_numpy_call"]


def is_numpy_call(inputs: Any) -> bool:
    """Whether ``inputs`` are plain arrays (an ndarray, or a list or tuple of them)."""
    if isinstance(inputs, np.ndarray):
        return True
    return isinstance(inputs, (list, tuple)) and bool(inputs) and all(isinstance(a, np.ndarray) for a in inputs)


def _arrays(inputs: Any) -> list[np.ndarray]:
    return [np.array(a, dtype=np.float64, copy=True) for a in ([inputs] if isinstance(inputs, np.ndarray) else inputs)]


def numerical_vjp(fn: Callable, arrays: Any, dout: Any, eps: float = 1e-6) -> tuple:
    """The vector-Jacobian product ``dout . d fn(*arrays) / d array`` of a plain numpy function, by
    central differences in float64: what a hand-written backward of ``fn`` must return for ``dout``.
    Shape: one array per input, of its shape.

    >>> dx, dw = numerical_vjp(lambda x, w: x @ w, [np.ones((1, 2)), np.eye(2)], np.array([[1.0, 2.0]]))
    >>> dx.round(6).tolist(), dw.round(6).tolist()
    ([[1.0, 2.0]], [[1.0, 2.0], [1.0, 2.0]])
    """
    xs = _arrays(arrays)
    g = np.asarray(dout, dtype=np.float64)

    def value() -> float:
        out = np.asarray(fn(*xs), dtype=np.float64)
        if out.shape != g.shape:
            raise ValueError(f"numerical_vjp: dout has shape {g.shape}, the function's output {out.shape}")
        return float(np.sum(out * g))

    grads = []
    for x in xs:
        d = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            v = x[j]
            x[j] = v + eps
            plus = value()
            x[j] = v - eps
            minus = value()
            x[j] = v
            d[j] = (plus - minus) / (2 * eps)
        grads.append(d)
    return tuple(grads)


def numerical_grad_numpy(fn: Callable, inputs: Any, eps: float = 1e-6) -> list:
    """Central-difference derivatives of a numpy function's output with respect to each array.
    Shape: one array per input of ``output.shape + input.shape``.

    >>> numerical_grad_numpy(lambda x: (x * x).sum(), np.array([1.0, 2.0]))[0].round(6).tolist()
    [2.0, 4.0]
    """
    xs = _arrays(inputs)
    out_shape = np.shape(fn(*xs))
    result = []
    for x in xs:
        jac = np.zeros(out_shape + x.shape)
        for j in np.ndindex(x.shape):
            v = x[j]
            x[j] = v + eps
            plus = np.asarray(fn(*xs), dtype=np.float64)
            x[j] = v - eps
            minus = np.asarray(fn(*xs), dtype=np.float64)
            x[j] = v
            jac[(...,) + j] = (plus - minus) / (2 * eps)
        result.append(jac)
    return result


def gradcheck_numpy(fn: Callable, inputs: Any, backward: Callable | None, eps: float = 1e-6, atol: float = 1e-5,
                    rtol: float = 1e-3, seed: int = 0) -> bool:
    """``backward(dout, *arrays)`` against central differences of ``fn(*arrays)`` for a random ``dout``
    (float64); raises GradcheckError naming the input, the element and both values.
    Shape: backward returns one gradient per array, each of its array's shape.

    >>> gradcheck_numpy(lambda x, w: x @ w, [np.ones((2, 3)), np.ones((3, 1))],
    ...                 lambda g, x, w: (g @ w.T, x.T @ g))
    True
    """
    if backward is None:
        raise GradcheckError("gradcheck: the inputs are numpy arrays, so fn has no backward to check; pass "
                             "backward=, a function (dout, *arrays) -> one gradient per array")
    xs = _arrays(inputs)
    out = np.asarray(fn(*xs), dtype=np.float64)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    got = backward(dout.copy(), *[x.copy() for x in xs])
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    if len(got) != len(xs):
        raise GradcheckError(f"gradcheck: backward returned {len(got)} gradients for {len(xs)} input arrays")
    for i, (x, g, n) in enumerate(zip(xs, got, numerical_vjp(fn, xs, dout, eps))):
        g = np.asarray(g, dtype=np.float64)
        if g.shape != x.shape:
            raise GradcheckError(f"gradcheck: backward's gradient {i} has shape {g.shape}, input {i} has {x.shape}")
        bad = ~np.isclose(g, n, rtol=rtol, atol=atol)
        if bad.any():
            j = tuple(int(k) for k in np.argwhere(bad)[0])
            raise GradcheckError(f"gradcheck: mismatch for input {i} (shape {x.shape}) at index {j}: numerical "
                                 f"{n[j]:.6g}, backward {g[j]:.6g} (for a random dout, seed {seed})")
    return True
