"""``Sample``: one drawn call of an op, as the op strategies (``op_samples.py``) make them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..tensor import Tensor


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
