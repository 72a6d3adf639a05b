"""Jacobians, Hessians and their products, as ``torch.autograd.functional``: the same names,
arguments and return shapes, built on reverse mode. Forward-mode products (``jvp``) use the
double-VJP trick: the VJP is linear in its vector ``u``, so differentiating it with respect to
``u`` along ``v`` gives ``J v``; it works through every registered op, since every backward is
itself differentiable.

>>> import tinygrad_cnn as tc
>>> x = tc.tensor([1.0, 2.0])
>>> hessian(lambda t: (t ** 3).sum(), x).tolist()
[[6.0, 0.0], [0.0, 12.0]]
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..engine import grad
from ..modes import enable_grad, set_grad_enabled
from ..ops.shape import stack
from ..tensor import Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x: Any, what: str, fn: str) -> tuple[bool, tuple]:
    """``(was a tuple, x as a tuple)``; every element must be a Tensor."""
    is_tuple = isinstance(x, (tuple, list))
    xs = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            where = f"{what}[{i}]" if is_tuple else what
            raise TypeError(f"{fn}: {where} must be a Tensor (or {what} a tuple of Tensors), got {type(t).__name__}")
    return is_tuple, xs


def _tuple_postprocess(res: Any, to_unpack: Any) -> Any:
    """Unwrap the one-element tuples the user did not pass (one flag, or one per nesting level)."""
    if isinstance(to_unpack, tuple):
        outputs_tuple, inputs_tuple = to_unpack
        if not inputs_tuple:
            res = tuple(r[0] for r in res)
        return res if outputs_tuple else res[0]
    return res if to_unpack else res[0]


def _preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Inputs as fresh leaves (or, with create_graph, views that keep the caller's graph)."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else t.detach().requires_grad_(need_graph)
                 for t in inputs)


def _postprocess(res: Any, create_graph: bool) -> Any:
    if isinstance(res, Tensor):
        return res if create_graph else res.detach()
    return tuple(_postprocess(r, create_graph) for r in res)


def _vectors(v: Any, refs: tuple, fn: str, what: str, create_graph: bool) -> tuple | None:
    """``v`` as a tuple shaped like ``refs`` (the function's inputs or outputs); None is allowed
    only for a single one-element ``refs``, as PyTorch's rule."""
    if v is None:
        if len(refs) != 1 or refs[0].numel() != 1:
            whose = "returns" if what == "output" else "takes as input"
            raise RuntimeError(f"{fn}: the vector v can only be None if the user-provided function {whose} a single "
                               "Tensor with a single element")
        return None
    _, vs = _as_tuple(v, "v", fn)
    vs = _preprocess(vs, create_graph, False)
    _validate_v(vs, refs, fn, what)
    return vs


def _validate_v(v: tuple, refs: tuple, fn: str, what: str) -> None:
    if len(v) != len(refs):
        raise RuntimeError(f"{fn}: v has {len(v)} Tensors but the {what} has {len(refs)}")
    for i, (a, b) in enumerate(zip(v, refs)):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn}: entry {i} of v has shape {a.shape}, but entry {i} of the {what} has "
                               f"shape {b.shape}")


def _grad(outputs: tuple, inputs: tuple, grad_outputs: tuple | None = None, create_graph: bool = False,
          retain_graph: bool | None = None) -> tuple:
    """``grad`` over the outputs that require grad; None for every input when none does."""
    go = grad_outputs if grad_outputs is not None else (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, go) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gos = zip(*pairs)
    return grad(list(outs), list(inputs), list(gos) if grad_outputs is not None else None,
                retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


def _check_requires_grad(ts: tuple, kind: str, strict: bool) -> None:
    if not strict:
        return
    for i, t in enumerate(ts):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError({
                "outputs": f"Output {i} of the user-provided function does not require gradients. The outputs "
                           "must be computed in a differentiable manner from the input when running in strict mode.",
                "grad_inputs": f"The gradient with respect to input {i} is independent of the inputs of the "
                               "user-provided function. This is not allowed in strict mode.",
                "jacobian": f"While computing the hessian, found that the jacobian of the user-provided function "
                            f"with respect to input {i} is independent of the input. This is not allowed in strict "
                            "mode.",
            }[kind])


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """Zeros for the inputs an output does not depend on (strict mode raises instead)."""
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError({
                    "back": f"The output of the user-provided function is independent of input {i}.",
                    "back_trick": f"The gradient with respect to the input is independent of entry {i} in the "
                                  "grad_outputs when using the double backward trick to compute forward mode "
                                  "gradients.",
                    "double_back": f"The jacobian of the user-provided function is independent of input {i}.",
                }[stage] + " This is not allowed in strict mode.")
            g = Tensor(np.zeros_like(ref._data))
        elif strict and create_graph and not g.requires_grad:
            which = "hessian" if stage == "double_back" else "jacobian"
            raise RuntimeError(f"The {which} of the user-provided function is independent of input {i}. This is not "
                               "allowed in strict mode when create_graph=True.")
        res.append(g)
    return tuple(res)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ J)``: the vector-Jacobian product. Shape: v like the outputs -> like the inputs.

    >>> import tinygrad_cnn as tc
    >>> vjp(lambda x: x ** 2, tc.tensor([1.0, 3.0]), tc.tensor([1.0, 1.0]))[1].tolist()
    [2.0, 6.0]
    """
    with enable_grad():
        is_inputs_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
        ins = _preprocess(ins, create_graph, True)
        is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "vjp")
        vs = _vectors(v, outs, "vjp", "output", create_graph)
    with set_grad_enabled(create_graph):
        res = _fill_in_zeros(_grad(outs, ins, vs, create_graph), ins, strict, create_graph, "back")
    return (_tuple_postprocess(_postprocess(outs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_postprocess(res, create_graph), is_inputs_tuple))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), J v)``: the Jacobian-vector product, by differentiating the VJP with
    respect to its vector. Shape: v like the inputs -> like the outputs.

    >>> import tinygrad_cnn as tc
    >>> jvp(lambda x: x ** 2, tc.tensor([1.0, 3.0]), tc.tensor([1.0, 0.5]))[1].tolist()
    [2.0, 3.0]
    """
    with enable_grad():
        is_inputs_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
        ins = _preprocess(ins, create_graph, True)
        vs = _vectors(v, ins, "jvp", "input", create_graph)
        is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "jvp")
        _check_requires_grad(outs, "outputs", strict)
        # u: zeros that require grad; the VJP uᵀJ is linear in u, and d(uᵀJ)/du along v is J v
        us = tuple(Tensor(np.zeros_like(o._data), requires_grad=True) for o in outs)
        grad_inputs = _grad(outs, ins, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(create_graph):
        res = _grad(grad_inputs, us, vs, create_graph)
        res = _fill_in_zeros(res, outs, strict, create_graph, "back_trick")
    return (_tuple_postprocess(_postprocess(outs, create_graph), is_outputs_tuple),
            _tuple_postprocess(_postprocess(res, create_graph), is_outputs_tuple))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Any:
    """The Jacobian, one backward pass per output element. Shape: one Tensor of
    ``output.shape + input.shape``, nested in tuples (outputs, then inputs) where those were tuples.
    ``vectorize`` is accepted (a speed hint in PyTorch; the result is the same).

    >>> import tinygrad_cnn as tc
    >>> jacobian(lambda x: x ** 2, tc.tensor([1.0, 3.0])).tolist()
    [[2.0, 0.0], [0.0, 6.0]]
    """
    if strategy != "reverse-mode":
        raise NotImplementedError(f"jacobian: strategy={strategy!r} is not supported by tinygrad_cnn; use "
                                  "'reverse-mode' (the default)")
    with enable_grad():
        is_inputs_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
        ins = _preprocess(ins, create_graph, True)
        is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", "jacobian")
        result: list = []
        for i, out in enumerate(outs):
            rows: list[list] = [[] for _ in ins]
            flat = out.reshape(-1)
            for j in range(out.numel()):
                element = flat[j]  # recorded: grad mode is on here
                with set_grad_enabled(create_graph):
                    vj = _grad((element,), ins, retain_graph=True, create_graph=create_graph)
                for k, (g, ref) in enumerate(zip(vj, ins)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is independent of input "
                                               f"{k}. This is not allowed in strict mode.")
                        g = Tensor(np.zeros_like(ref._data))
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(f"The jacobian of the user-provided function is independent of input {k}. "
                                           "This is not allowed in strict mode when create_graph=True.")
                    rows[k].append(g)
            result.append(tuple(stack(r, 0).reshape(out.shape + ref.shape) if r else
                                Tensor(np.zeros(out.shape + ref.shape, ref.dtype)) for r, ref in zip(rows, ins)))
    return _tuple_postprocess(_postprocess(tuple(result), create_graph), (is_outputs_tuple, is_inputs_tuple))


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a function returning one element: the Jacobian of its gradient. Shape:
    ``input.shape + input.shape``, or a tuple of tuples ``[i][j]`` of ``input_i.shape + input_j.shape``.

    >>> import tinygrad_cnn as tc
    >>> hessian(lambda x: (x[0] * x[1]), tc.tensor([1.0, 3.0])).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    is_inputs_tuple, ins = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*inp: Tensor) -> Tensor:
        is_out_tuple, out = _as_tuple(func(*inp), "outputs of the user-provided function", "hessian")
        if is_out_tuple or out[0].numel() != 1:
            raise RuntimeError("hessian: the function must return a single Tensor with a single element, got "
                               f"{len(out) if is_out_tuple else 'one'} Tensor(s) of shape(s) "
                               f"{[o.shape for o in out]}")
        return out[0].reshape(())

    def jac_func(*inp: Tensor) -> Any:
        jac = jacobian(single_output, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, ins, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), vᵀ H)`` for a function returning one element: the VJP of its gradient.
    Shape: v like the inputs -> like the inputs.

    >>> import tinygrad_cnn as tc
    >>> vhp(lambda x: (x ** 3).sum(), tc.tensor([1.0, 2.0]), tc.tensor([1.0, 1.0]))[1].tolist()
    [6.0, 12.0]
    """
    return _hessian_product("vhp", func, inputs, v, create_graph, strict)


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """``(func(inputs), H v)`` for a function returning one element. The Hessian of a twice
    differentiable function is symmetric, so this is :func:`vhp` (PyTorch computes the same
    product by a further double backward). Shape: v like the inputs -> like the inputs.

    >>> import tinygrad_cnn as tc
    >>> hvp(lambda x: x[0] ** 2 * x[1], tc.tensor([1.0, 2.0]), tc.tensor([1.0, 0.0]))[1].tolist()
    [4.0, 2.0]
    """
    return _hessian_product("hvp", func, inputs, v, create_graph, strict)


def _hessian_product(fn: str, func: Callable, inputs: Any, v: Any, create_graph: bool, strict: bool) -> tuple:
    with enable_grad():
        is_inputs_tuple, ins = _as_tuple(inputs, "inputs", fn)
        ins = _preprocess(ins, create_graph, True)
        vs = _vectors(v, ins, fn, "input", create_graph)
        is_outputs_tuple, outs = _as_tuple(func(*ins), "outputs of the user-provided function", fn)
        if is_outputs_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"{fn}: the function must return a single Tensor with a single element, got shape(s) "
                               f"{[o.shape for o in outs]}")
        jac = _grad(outs, ins, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(create_graph):
        res = _fill_in_zeros(_grad(jac, ins, vs, create_graph), ins, strict, create_graph, "double_back")
    return (_postprocess(outs[0], create_graph), _tuple_postprocess(_postprocess(res, create_graph), is_inputs_tuple))
