"""User-defined ops (``Function``), anomaly detection and the functional ``grad``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..modes import AnomalyError, _modes, enable_grad, is_grad_enabled, no_grad
from ..graph import make_op
from ..tensor import Tensor
from ..engine import grad, run_backward  # after tensor, which imports the engine once Tensor exists

__all__ = ["Function", "FunctionCtx", "detect_anomaly", "functional", "grad", "no_grad", "enable_grad",
           "is_grad_enabled", "AnomalyError", "run_backward"]


class FunctionCtx:
    """What ``forward`` hands to ``backward``: saved tensors and any attributes set on it."""

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *tensors: Tensor) -> None:
        self.saved_tensors = tensors


class Function:
    """Base class of a user-defined differentiable op, as ``torch.autograd.Function``.

    Write static ``forward(ctx, *args)`` (numpy or Tensor code, returns a Tensor) and
    ``backward(ctx, grad_output)`` returning one gradient per ``forward`` argument (None for
    non-Tensors). Write ``backward`` with Tensor ops and it is differentiable again.

    >>> class Cube(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return Tensor(x.data ** 3)
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return g * 3 * x * x
    >>> x = Tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward(); x.grad.item()
    12.0
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Tensor:
        raise NotImplementedError("Function subclasses must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grads: Tensor) -> Any:
        raise NotImplementedError("Function subclasses must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}")
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        parents = tuple(args[i] for i in positions)

        def backward(g: Tensor) -> tuple:
            grads = cls.backward(ctx, g)
            if not isinstance(grads, tuple):
                grads = (grads,)
            if len(grads) != len(args):
                raise RuntimeError(f"{cls.__name__}.backward returned {len(grads)} gradients, "
                                   f"expected {len(args)} (one per forward argument)")
            return tuple(_as_gradient(cls.__name__, i, grads[i]) for i in positions)

        # the saved tensors' versions are checked by backward, as PyTorch's save_for_backward
        saved = tuple(t for t in ctx.saved_tensors if isinstance(t, Tensor))
        return make_op(cls.__name__, out._data, parents, backward, saved=saved)


def _as_gradient(fn: str, i: int, g: Any) -> Tensor | None:
    """A gradient returned by a Function's backward: a Tensor, None, or an ndarray (a constant: no
    higher-order gradient through it)."""
    if g is None or isinstance(g, Tensor):
        return g
    if isinstance(g, (np.ndarray, np.generic)):
        return Tensor(np.asarray(g))
    raise TypeError(f"{fn}.backward returned a {type(g).__name__} as gradient {i}; expected a Tensor, "
                    "an ndarray or None")


class detect_anomaly:
    """Inside, the first NaN/inf made by any op's forward or backward raises ``AnomalyError`` naming
    the op and the user's line that created it.

    >>> import numpy as np
    >>> with detect_anomaly():
    ...     try:
    ...         Tensor([-1.0]).log()
    ...     except AnomalyError as e:
    ...         print(str(e).split(" (")[0])
    detect_anomaly: forward of op 'log' produced nan
    """

    def __enter__(self) -> None:
        self._prev = _modes.anomaly
        _modes.anomaly = True

    def __exit__(self, *exc: Any) -> None:
        _modes.anomaly = self._prev


from . import functional  # noqa: E402  (torch.autograd.functional's names, as tinygrad_cnn.autograd.functional)
