"""``OPS``: every registered differentiable op paired with a strategy for valid, kink-free inputs.

Importing this needs no hypothesis; ``OpInfo.strategy()`` imports it when called.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..ops.registry import REGISTRY
from ..tensor import Tensor

__all__ = ["OPS", "OpInfo", "Sample"]


@dataclass
class Sample:
    """One drawn call of an op: positional and keyword arguments; Tensors that require grad (also
    inside lists) are the inputs that gradient checks perturb."""

    args: tuple
    kwargs: dict = field(default_factory=dict)

    def inputs(self) -> tuple:
        found: list[Tensor] = []

        def walk(a: Any) -> None:
            if isinstance(a, Tensor):
                if a.requires_grad:
                    found.append(a)
            elif isinstance(a, (list, tuple)):
                for b in a:
                    walk(b)

        walk(self.args)
        return tuple(found)

    def bind(self, fn: Callable, post: Callable | None = None) -> Callable:
        """``f(*inputs)`` calling ``fn`` with this sample's arguments, the inputs substituted."""
        originals = self.inputs()

        def call(*tensors: Tensor) -> Any:
            swap = {id(o): t for o, t in zip(originals, tensors)}

            def sub(a: Any) -> Any:
                if isinstance(a, Tensor):
                    return swap.get(id(a), a)
                if isinstance(a, list):
                    return [sub(b) for b in a]
                if isinstance(a, tuple):
                    return tuple(sub(b) for b in a)
                return a

            out = fn(*sub(self.args), **self.kwargs)
            return post(out) if post else out

        return call

    def __repr__(self) -> str:
        def show(a: Any) -> str:
            if isinstance(a, Tensor):
                return f"Tensor{a.shape}"
            if isinstance(a, list):
                return "[" + ", ".join(show(b) for b in a) + "]"
            return repr(a)

        return f"Sample({', '.join(show(a) for a in self.args)}, **{self.kwargs})"


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


class _Ops(dict):
    """A live view of the registry: ops registered later (user ops too) show up."""

    def _sync(self) -> None:
        for name, fn in REGISTRY.items():
            if name not in dict.keys(self):
                dict.__setitem__(self, name, OpInfo(name, fn))

    def __getitem__(self, name: str) -> OpInfo:
        self._sync()
        return dict.__getitem__(self, name)

    def __iter__(self):
        self._sync()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._sync()
        return dict.__len__(self)

    def __contains__(self, name: object) -> bool:
        self._sync()
        return dict.__contains__(self, name)

    def keys(self):  # type: ignore[override]
        self._sync()
        return dict.keys(self)

    def items(self):  # type: ignore[override]
        self._sync()
        return dict.items(self)

    def values(self):  # type: ignore[override]
        self._sync()
        return dict.values(self)


OPS: dict[str, OpInfo] = _Ops()
