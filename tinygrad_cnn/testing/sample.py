"""``Sample``: one drawn call of an op; ``SAMPLES``: each op's strategy of them, filled by ``@sample``
in ``op_samples.py`` and ``nn_samples.py``."""
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


@dataclass
class Spec:
    """How to test one op: a strategy of Samples, and what of the op's output to check."""

    strategy: Callable[[], Any]  # -> a hypothesis SearchStrategy
    post: Callable | None = None  # maps the op's output to what is checked (e.g. ``.values``)


SAMPLES: dict[str, Spec] = {}


def sample(name: str, post: Callable | None = None) -> Callable:
    """Decorator: register a composite strategy (``draw -> Sample``) for the op ``name``: your own op,
    registered with ``tinygrad_cnn.ops.register``, then joins ``OPS`` and ``verify_ops`` as the
    built-in ones do.

    >>> from tinygrad_cnn.ops import register
    >>> from tinygrad_cnn.testing.strategies import tensors
    >>> from tinygrad_cnn.testing.verify import verify_ops
    >>> @register
    ... def softsign(x):
    ...     return x / (1 + x.abs())
    >>> @sample("softsign")
    ... def softsign_samples(draw):               # kink-free: |x| >= 0.1
    ...     return Sample((draw(tensors(shape=(2, 3), min_magnitude=0.1)),))
    >>> verify_ops(["softsign"], 5, ["gradient", "second order"])[0].passed
    {'gradient': 5, 'second order': 5}
    >>> from tinygrad_cnn.ops.registry import REGISTRY
    >>> _ = REGISTRY.pop("softsign"), SAMPLES.pop("softsign")   # leave the registry as it was
    """
    def deco(fn: Callable) -> Callable:
        def strategy() -> Any:
            from hypothesis import strategies as st  # only the strategy modules need hypothesis

            return st.composite(fn)()
        SAMPLES[name] = Spec(strategy, post)
        return fn

    return deco
