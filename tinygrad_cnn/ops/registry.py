"""The registry of differentiable ops: every public op that records a backward registers here.

``tinygrad_cnn.testing.OPS`` pairs each entry with a hypothesis strategy, and the test suite runs
gradcheck and gradgradcheck on all of them, so registering an op is what gets it tested.
"""
from __future__ import annotations

from typing import Callable

REGISTRY: dict[str, Callable] = {}


def register(name: str) -> Callable[[Callable], Callable]:
    """Decorator: record ``fn`` under ``name`` in :data:`REGISTRY`."""

    def deco(fn: Callable) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"register: op '{name}' is registered twice")
        REGISTRY[name] = fn
        return fn

    return deco
