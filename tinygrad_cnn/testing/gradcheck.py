"""Finite-difference gradient checks (numpy only, float64).

The analytical Jacobian is built row by row with one backward pass per output element; the
numerical one column by column with central differences. Both are compared in full, so a failure
can name the input, the element and both values.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..tensor import Tensor, grad
from .failures import GradcheckError
from .numpy_grads import gradcheck_numpy, is_numpy_call, numerical_grad_numpy, numerical_vjp  # noqa: F401

__all__ = ["GradcheckError", "numerical_grad", "gradcheck", "gradgradcheck", "numerical_vjp"]


def _as_inputs(inputs: Any) -> tuple:
    return (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)


def _outputs(fn: Callable, inputs: tuple) -> list[Tensor]:
    out = fn(*inputs)
    outs = [out] if isinstance(out, Tensor) else list(out)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise GradcheckError(f"gradcheck: output {i} of fn is a {type(o).__name__}, expected a Tensor")
    return outs


def _flat_output(fn: Callable, inputs: tuple) -> np.ndarray:
    return np.concatenate([np.asarray(o._data, dtype=np.float64).ravel() for o in _outputs(fn, inputs)])


def _diff_inputs(inputs: tuple, who: str) -> list[int]:
    idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in idx:
        if inputs[i].dtype != np.float64:
            raise GradcheckError(f"{who}: input {i} ({_label(inputs, i)}) is {inputs[i].dtype}; finite differences "
                                 "need float64 (use .double())")
    return idx


def _label(inputs: tuple, i: int) -> str:
    return inputs[i].name or f"shape {inputs[i].shape}"


def _numerical_jacobians(fn: Callable, inputs: tuple, idx: list[int], eps: float) -> list[np.ndarray]:
    """One (n_out, n_in) matrix per differentiable input, by central differences."""
    jacs = []
    for i in idx:
        x = inputs[i]
        original = x._data
        work = np.array(original, dtype=np.float64, copy=True)  # the same memory layout as the input's
        x._data = work
        cols = []
        try:
            for j in np.ndindex(work.shape):  # row-major order, as the outputs; a reshape could copy
                v = work[j]
                work[j] = v + eps
                plus = _flat_output(fn, inputs)
                work[j] = v - eps
                minus = _flat_output(fn, inputs)
                work[j] = v
                with np.errstate(invalid="ignore"):  # inf - inf: reported by the comparison as a NaN mismatch
                    cols.append((plus - minus) / (2 * eps))
        finally:
            x._data = original
        jacs.append(np.stack(cols, axis=1) if cols else np.zeros((_flat_output(fn, inputs).size, 0)))
    return jacs


def _analytical_jacobians(fn: Callable, inputs: tuple, idx: list[int]) -> list[np.ndarray]:
    """One (n_out, n_in) matrix per differentiable input, by one backward pass per output element."""
    outs = _outputs(fn, inputs)
    diff = [inputs[i] for i in idx]
    n_out = sum(o.numel() for o in outs)
    jacs = [np.zeros((n_out, inputs[i].numel())) for i in idx]
    row = 0
    for o in outs:
        if not o.requires_grad:
            row += o.numel()
            continue
        for e in range(o.numel()):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[e] = 1.0
            grads = grad(o, diff, grad_outputs=Tensor(seed), retain_graph=True, allow_unused=True)
            for k, g in enumerate(grads):
                if g is None:
                    continue
                if g.shape != diff[k].shape:
                    raise GradcheckError(f"gradcheck: gradient for input {idx[k]} has shape {g.shape}, "
                                         f"expected {diff[k].shape}")
                jacs[k][row] = np.asarray(g._data, dtype=np.float64).ravel()
            row += 1
    return jacs


def numerical_grad(fn: Callable, inputs: Any, eps: float = 1e-6) -> list:
    """Central-difference derivatives of ``fn``'s output with respect to each input that requires grad.

    Shape: one array per input of ``output.shape + input.shape`` (the input's shape for a scalar output);
    None for inputs that do not require grad.

    >>> x = Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    >>> numerical_grad(lambda t: (t * t).sum(), x)[0].round(6).tolist()
    [2.0, 4.0]

    A plain numpy function of arrays works too (every array is differentiated):

    >>> numerical_grad(lambda a: (a * a).sum(), np.array([1.0, 2.0]))[0].round(6).tolist()
    [2.0, 4.0]
    """
    if is_numpy_call(inputs):
        return numerical_grad_numpy(fn, inputs, eps)
    inputs = _as_inputs(inputs)
    idx = _diff_inputs(inputs, "numerical_grad")
    jacs = _numerical_jacobians(fn, inputs, idx, eps)
    outs = _outputs(fn, inputs)
    out_shape = outs[0].shape if len(outs) == 1 else (sum(o.numel() for o in outs),)
    result: list = [None] * len(inputs)
    for k, i in enumerate(idx):
        result[i] = jacs[k].reshape(out_shape + inputs[i].shape)
    return result


def _compare(who: str, inputs: tuple, idx: list[int], num: list, ana: list, atol: float, rtol: float,
             names: Sequence[str] | None) -> str | None:
    for k, i in enumerate(idx):
        with np.errstate(invalid="ignore"):
            diff = np.abs(ana[k] - num[k]) - (atol + rtol * np.abs(num[k]))
        # a NaN anywhere is a mismatch (diff.max() > 0 alone would let it through): NaN first, else the worst
        bad = np.where(np.isnan(diff), np.inf, diff)
        if bad.size and bad.max() > 0:
            r, c = np.unravel_index(int(np.argmax(bad)), bad.shape)
            elem = np.unravel_index(int(c), inputs[i].shape) if inputs[i].ndim else ()
            label = names[i] if names else _label(inputs, i)
            hint = "" if np.isfinite(num[k][r, c]) else " (the output is not finite near this point)"
            if not np.any(ana[k]) and np.any(num[k]):
                hint += (" (the analytical derivative is 0 everywhere: a backward written with numpy instead of "
                         "Tensor ops is not differentiable)" if who == "gradgradcheck" else
                         " (the analytical derivative is 0 everywhere: is the input used, and its gradient returned?)")
            return (f"{who}: mismatch for input {i} ({label}) at index {tuple(int(e) for e in elem)} "
                    f"(output element {int(r)}): numerical {num[k][r, c]:.6g}, analytical {ana[k][r, c]:.6g}{hint}")
    return None


def gradcheck(fn: Callable, inputs: Any, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, fast_mode: bool = False, backward: Callable | None = None, *,
              _who: str = "gradcheck", _names: Sequence[str] | None = None) -> bool:
    """Compare backward's gradients of ``fn(*inputs)`` with central differences, in float64.

    Every input that requires grad must be float64. Returns True, or raises ``GradcheckError``
    naming the input, the element and both values (or returns False with ``raise_exception=False``).
    ``fast_mode`` compares, per input, the projection ``uᵀ J v`` on random vectors (one backward
    pass and two evaluations of ``fn`` per input) instead of full Jacobians, as PyTorch's fast mode:
    for large inputs; a failure then names the input but not the element.

    >>> w = Tensor([[0.5, -1.0], [2.0, 0.3]], dtype="float64", requires_grad=True)
    >>> x = Tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    >>> gradcheck(lambda w, x: (w @ x).tanh(), (w, x))
    True

    With numpy arrays as inputs, ``fn`` is a plain numpy function and ``backward(dout, *arrays)``
    (one gradient per array) is checked against central differences for a random ``dout``:

    >>> gradcheck(np.sin, [np.array([0.3, -1.2])], backward=lambda dout, x: dout * np.cos(x))
    True
    """
    if is_numpy_call(inputs):
        try:
            return gradcheck_numpy(fn, inputs, backward, eps, atol, rtol)
        except GradcheckError:
            if raise_exception:
                raise
            return False
    inputs = _as_inputs(inputs)
    try:
        idx = _diff_inputs(inputs, _who)
        if not idx:
            raise GradcheckError(f"{_who}: no input requires grad")
        if fast_mode:
            msg = _fast_compare(fn, inputs, idx, eps, atol, rtol, _who, _names)
        else:
            num = _numerical_jacobians(fn, inputs, idx, eps)
            ana = _analytical_jacobians(fn, inputs, idx)
            msg = _compare(_who, inputs, idx, num, ana, atol, rtol, _names)
        if msg:
            raise GradcheckError(msg)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _fast_compare(fn: Callable, inputs: tuple, idx: list[int], eps: float, atol: float, rtol: float, who: str,
                  names: Sequence[str] | None) -> str | None:
    """Per input i: ``uᵀ (J_i v_i)`` by central differences along v_i against ``(J_iᵀ u) · v_i`` by
    one backward pass, for random unit vectors u and v_i (fixed seed)."""
    rng = np.random.default_rng(0)
    outs = _outputs(fn, inputs)
    us = [rng.standard_normal(o.shape) for o in outs]
    us = [u / max(float(np.sqrt(sum((w * w).sum() for w in us))), 1e-300) for u in us]
    u_flat = np.concatenate([u.ravel() for u in us])
    pairs = [(o, Tensor(u.astype(o.dtype))) for o, u in zip(outs, us) if o.requires_grad]
    diff = [inputs[i] for i in idx]
    grads = grad([p[0] for p in pairs], diff, [p[1] for p in pairs], allow_unused=True) if pairs else [None] * len(idx)
    for k, i in enumerate(idx):
        x = inputs[i]
        v = rng.standard_normal(x.shape)
        v /= max(float(np.linalg.norm(v)), 1e-300)
        original = x._data
        try:
            x._data = original + eps * v
            plus = _flat_output(fn, inputs)
            x._data = original - eps * v
            minus = _flat_output(fn, inputs)
        finally:
            x._data = original
        with np.errstate(invalid="ignore"):
            num = float(u_flat @ ((plus - minus) / (2 * eps)))
        g = grads[k]
        ana = 0.0 if g is None else float(np.asarray(g._data, np.float64).ravel() @ v.ravel())
        if not abs(ana - num) <= atol + rtol * abs(num):
            label = names[i] if names else _label(inputs, i)
            return (f"{who} (fast mode): mismatch for input {i} ({label}): uᵀJv for random unit u, v is numerical "
                    f"{num:.6g}, analytical {ana:.6g}; rerun with fast_mode=False to find the element")
    return None


def gradgradcheck(fn: Callable, inputs: Any, grad_outputs: Any = None, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0, fast_mode: bool = False) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> grad(fn(inputs), inputs, grad_outputs)``.

    The backward must be differentiable with respect to the inputs and to ``grad_outputs`` (random
    float64 tensors when not given), as PyTorch's gradgradcheck.

    >>> x = Tensor([0.5, -1.5], dtype="float64", requires_grad=True)
    >>> gradgradcheck(lambda t: t.sigmoid() * t, x)
    True
    """
    inputs = _as_inputs(inputs)
    idx = _diff_inputs(inputs, "gradgradcheck")
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs)
    else:
        grad_outputs = _as_inputs(grad_outputs)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: got {len(grad_outputs)} grad_outputs for {len(outs)} outputs")
    n_in = len(inputs)

    def first_grads(*args: Tensor) -> tuple:
        xs, gos = args[:n_in], args[n_in:]
        ys = _outputs(fn, xs)
        pairs = [(y, go) for y, go in zip(ys, gos) if y.requires_grad]
        diff = [xs[i] for i in idx]
        grads = grad([p[0] for p in pairs], diff, [p[1] for p in pairs], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor(np.zeros(d.shape)) for g, d in zip(grads, diff))

    names = [_label(inputs, i) for i in range(n_in)] + [f"grad_output {j}" for j in range(len(grad_outputs))]
    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps, atol, rtol, raise_exception, fast_mode,
                     _who="gradgradcheck", _names=names)
