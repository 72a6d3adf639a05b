"""The registry of differentiable ops: every public op that records a backward registers here.

``tinygrad_cnn.testing.OPS`` pairs each entry with a hypothesis strategy, and the test suite runs
gradcheck and gradgradcheck on all of them, so registering an op is what gets it tested.
"""
from __future__ import annotations

from typing import Callable

REGISTRY: dict[str, Callable] = {}


def register(op: str | Callable) -> Callable:
    """Decorator recording an op in :data:`REGISTRY` under its function's name (``@register``),
    or under the PyTorch name given (``@register("sum")``, where the function's own name must
    not shadow a builtin)."""

    def add(name: str, fn: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"register: op '{name}' is registered twice")
        REGISTRY[name] = fn
        return fn

    if callable(op):
        return add(op.__name__, op)
    return lambda fn: add(op, fn)
