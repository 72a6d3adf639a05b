"""Containers, as ``torch.nn``'s (Sequential, ModuleList, ModuleDict, Identity), and the small
layers PyTorch code often names (Softmax, LogSoftmax, Dropout2d, AdaptiveAvgPool2d)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .layers import _DropoutNd
from .module import Module


class Sequential(Module):
    """Modules applied in order, given as arguments or as an ``OrderedDict`` of named modules;
    indexing gives a module, slicing a Sequential. Shape: that of the last module's output.

    >>> from tinygrad_cnn import ones
    >>> from tinygrad_cnn.nn import Linear, ReLU
    >>> Sequential(Linear(2, 3), ReLU())(ones(1, 2)).shape
    (1, 3)
    """

    def __init__(self, *modules: Any):
        super().__init__()
        named = modules[0].items() if len(modules) == 1 and isinstance(modules[0], OrderedDict) else \
            ((str(i), m) for i, m in enumerate(modules))
        for name, m in named:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {name} must be a Module, got {type(m).__name__}")
            setattr(self, name, m)

    def forward(self, x: Any) -> Any:
        for m in self.children():
            x = m(x)
        return x

    def __getitem__(self, i: Any) -> Any:
        items = list(self.named_children())
        if isinstance(i, slice):
            return Sequential(OrderedDict(items[i]))
        return items[i][1]

    def __len__(self) -> int:
        return len(list(self.children()))

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self.children()))

    def append(self, module: Module) -> Sequential:
        setattr(self, str(len(self)), module)
        return self

    def __setitem__(self, i: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: can only assign a Module, got {type(module).__name__}")
        setattr(self, list(self.named_children())[i][0], module)

    def __delitem__(self, i: Any) -> None:
        items = list(self.named_children())
        drop = {name for name, _ in (items[i] if isinstance(i, slice) else [items[i]])}
        self._reset([(n, m) for n, m in items if n not in drop])

    def insert(self, index: int, module: Module) -> Sequential:
        items = list(self.named_children())
        items.insert(index if index >= 0 else len(items) + index, ("", module))
        self._reset(items)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def pop(self, index: int = -1) -> Module:
        module = self[index]
        del self[index]
        return module

    def _reset(self, items: list) -> None:
        """Hold ``items`` as the children, numbered 0, 1, ... again unless they were named (PyTorch's rule)."""
        numbered = all(n == "" or n.isdigit() for n, _ in items)
        for name, _ in list(self.named_children()):
            delattr(self, name)
        for k, (name, m) in enumerate(items):
            setattr(self, str(k) if numbered else name, m)


class ModuleList(Module):
    """A list of modules whose parameters belong to the owner, as ``torch.nn.ModuleList``.

    >>> from tinygrad_cnn.nn import Linear
    >>> layers = ModuleList([Linear(2, 2) for _ in range(3)])
    >>> len(layers), len(list(layers.parameters()))
    (3, 6)
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: expected a Module, got {type(module).__name__}")
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, i: Any) -> Any:
        items = list(self.children())
        return ModuleList(items[i]) if isinstance(i, slice) else items[i]

    def __len__(self) -> int:
        return len(list(self.children()))

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self.children()))

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward: iterate over it and call its modules")


class ModuleDict(Module):
    """A dict of named modules whose parameters belong to the owner, as ``torch.nn.ModuleDict``.

    >>> from tinygrad_cnn.nn import ReLU
    >>> d = ModuleDict({"act": ReLU()}); list(d.keys())
    ['act']
    """

    def __init__(self, modules: dict | None = None):
        super().__init__()
        for k, m in (modules or {}).items():
            self[k] = m

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: expected a Module for {key!r}, got {type(module).__name__}")
        setattr(self, key, module)

    def __getitem__(self, key: str) -> Module:
        return dict(self.named_children())[key]

    def __contains__(self, key: object) -> bool:
        return key in dict(self.named_children())

    def __len__(self) -> int:
        return len(list(self.children()))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        return [k for k, _ in self.named_children()]

    def values(self) -> list[Module]:
        return list(self.children())

    def items(self) -> list[tuple[str, Module]]:
        return list(self.named_children())

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleDict has no forward: look its modules up by name")


class Identity(Module):
    """Returns its input unchanged (a placeholder, as ``torch.nn.Identity``).

    >>> from tinygrad_cnn import Tensor
    >>> Identity()(Tensor([1.0])).tolist()
    [1.0]
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


class Softmax(Module):
    """Softmax along ``dim``, as ``torch.nn.Softmax``.

    >>> from tinygrad_cnn import Tensor
    >>> Softmax(dim=0)(Tensor([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)


class LogSoftmax(Softmax):
    """Log-softmax along ``dim``, as ``torch.nn.LogSoftmax``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)


class Dropout2d(_DropoutNd):
    """Zero whole channels with probability ``p`` while training (scaling the rest by 1/(1-p)).
    Shape: (N, C, H, W) unchanged."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        from ..seeding import get_rng

        keep = (get_rng().random(x.shape[:2] + (1,) * (x.ndim - 2)) >= self.p).astype(x.dtype)
        scale = keep * np.asarray(0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p), x.dtype)
        return x.mul_(scale) if self.inplace else x * Tensor(scale)


class AdaptiveAvgPool2d(Module):
    """Average pooling to ``output_size`` (see ``F.adaptive_avg_pool2d``).

    >>> from tinygrad_cnn import ones
    >>> AdaptiveAvgPool2d((1, 1))(ones(2, 3, 4, 4)).shape
    (2, 3, 1, 1)
    """

    def __init__(self, output_size: Any):
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)
