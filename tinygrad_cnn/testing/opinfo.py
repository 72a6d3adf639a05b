"""``OPS``: every registered differentiable op paired with a strategy for valid, kink-free inputs.

Importing this needs no hypothesis; ``OpInfo.strategy()`` imports it when called.
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator, Mapping
from typing import Any, Callable

from ..ops.registry import REGISTRY
from .sample import Sample

__all__ = ["OPS", "OpInfo", "Sample"]


@dataclass
class OpInfo:
    """A registered op: its function, and (lazily) the hypothesis strategy of its ``Sample``s."""

    name: str
    fn: Callable

    def spec(self) -> Any:
        from .op_samples import SAMPLES

        if self.name not in SAMPLES:
            raise LookupError(f"op '{self.name}' is registered without a strategy in testing/op_samples.py")
        return SAMPLES[self.name]

    def strategy(self) -> Any:
        """A hypothesis strategy of :class:`Sample` for this op."""
        return self.spec().strategy()

    def bind(self, sample: Sample) -> tuple[Callable, tuple]:
        """``(f, inputs)`` ready for ``gradcheck(f, inputs)``."""
        return sample.bind(self.fn, self.spec().post), sample.inputs()


class _Ops(Mapping):
    """A live, read-only view of the registry: ops registered later (user ops too) show up."""

    def __getitem__(self, name: str) -> OpInfo:
        return OpInfo(name, REGISTRY[name])

    def __iter__(self) -> Iterator[str]:
        return iter(list(REGISTRY))

    def __len__(self) -> int:
        return len(REGISTRY)


OPS: Mapping[str, OpInfo] = _Ops()
