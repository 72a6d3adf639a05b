"""``Module`` and ``Parameter``, as PyTorch's: models are plain Python classes whose attributes hold
parameters and sub-modules, found by walking the attributes."""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from ..serialization import TENSOR_TYPES, StateDictError
from ..engine import zero_grad_of
from ..modes import _modes, no_grad
from ..tensor import RemovableHandle, Tensor
from ..torch_surface import parse_to


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates (``requires_grad=True`` by default).

    >>> Parameter(np.zeros(3)).requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


# torch.nn.Module's names that tinygrad_cnn lacks: reaching for one says so, not just "no attribute"
_TORCH_MODULE_NAMES = frozenset(
    "bfloat16 compile get_buffer get_extra_state ipu mtia register_backward_hook register_full_backward_hook "
    "register_full_backward_pre_hook register_load_state_dict_post_hook register_load_state_dict_pre_hook "
    "register_state_dict_post_hook register_state_dict_pre_hook set_extra_state set_submodule share_memory "
    "to_empty type xpu".split())


TENSOR_TYPES["parameter"] = Parameter  # save/load give a Parameter back as a Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: keys the model lacks in the state, and the reverse."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of every layer and model. Subclasses set attributes in ``__init__`` and define
    ``forward``; calling the module runs ``forward``.

    >>> class Net(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.ones((2, 2), np.float32))
    ...     def forward(self, x):
    ...         return x @ self.w
    >>> [name for name, _ in Net().named_parameters()]
    ['w']
    """

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_forward_pre_hooks", [])

    def __setattr__(self, name: str, value: Any) -> None:
        if "_buffers" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self._buffers[name] = value if isinstance(value, Tensor) or value is None else Tensor(value)
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            return buffers[name]
        if name in _TORCH_MODULE_NAMES:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}': torch.nn.Module.{name} "
                                 "is not supported by tinygrad_cnn")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def register_buffer(self, name: str, value: Any) -> None:
        """Keep ``value`` (state that is not trained, e.g. running statistics) in the state dict."""
        self._buffers[name] = value if isinstance(value, Tensor) or value is None else Tensor(value)

    # ---- running
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for pre in list(self._forward_pre_hooks):
            result = pre(self, args)
            if result is not None:  # as PyTorch: a pre-hook may replace the inputs (one value or a tuple)
                args = result if isinstance(result, tuple) else (result,)
        stack = _modes.module_stack
        stack.append(self)  # ops record the innermost module that made them (graph pictures)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            stack.pop()
        for hook in list(self._forward_hooks):
            result = hook(self, args, out)
            if result is not None:  # as PyTorch: a hook may replace the output
                out = result
        return out

    def register_forward_hook(self, fn: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """Call ``fn(module, inputs, output)`` after every forward (a returned value replaces the
        output); returns a handle whose ``remove()`` (or call) takes the hook off."""
        self._forward_hooks.append(fn)
        return RemovableHandle(self._forward_hooks, fn)

    def register_forward_pre_hook(self, fn: Callable[[Module, tuple], Any]) -> RemovableHandle:
        """Call ``fn(module, inputs)`` before every forward (a returned value replaces the inputs)."""
        self._forward_pre_hooks.append(fn)
        return RemovableHandle(self._forward_pre_hooks, fn)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name`` (as ``setattr``), as PyTorch's."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        setattr(self, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` ('' for this one)."""
        mod: Module = self
        for part in target.split(".") if target else []:
            child = vars(mod).get(part)
            if not isinstance(child, Module):
                raise AttributeError(f"get_submodule: {type(mod).__name__} has no submodule {part!r} (in {target!r})")
            mod = child
        return mod

    def get_parameter(self, target: str) -> Parameter:
        owner, _, name = target.rpartition(".")
        p = vars(self.get_submodule(owner)).get(name)
        if not isinstance(p, Parameter):
            raise AttributeError(f"get_parameter: {target!r} is not a parameter")
        return p

    def buffers(self) -> Iterator[Tensor]:
        for _, b in self.named_buffers():
            yield b

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` under ``name``, as assigning the attribute does."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: expected a Parameter or None, got {type(param).__name__}")
        setattr(self, name, param)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule, children first, then on this module (weight init)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to(device)`` (the CPU only) and/or ``to(dtype)`` for floating parameters and buffers,
        converted in place as PyTorch does (the Parameter objects stay)."""
        dtype, _ = parse_to(args, kwargs, f"{type(self).__name__}.to")
        if dtype is not None:
            for t in list(self.parameters()) + [b for _, b in self.named_buffers() if b is not None]:
                if t.dtype.kind == "f":
                    t._data = t._data.astype(dtype)
                    t._version_counter[0] += 1
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Module:
        return self.to("cuda")


    # ---- structure
    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, with dotted names ('' for this one)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            kids = [(f"{name}.{n}" if name else n, m) for n, m in mod.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mod_name, mod in mods:
            for name, value in vars(mod).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{mod_name}.{name}" if mod_name else name), value

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        for mod_name, mod in self.named_modules():
            for name, buf in mod._buffers.items():
                if buf is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), buf

    # ---- modes and gradients
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            zero_grad_of(p, set_to_none)

    # ---- state
    def state_dict(self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and buffer by dotted name, as PyTorch's: module by module (its parameters,
        its buffers, then its children), a tied tensor under each of its names, each value a
        detached Tensor sharing the memory (``copy.deepcopy`` it for a snapshot).

        >>> from tinygrad_cnn import nn
        >>> list(nn.Linear(2, 1).state_dict())
        ['weight', 'bias']
        """
        state: OrderedDict = OrderedDict() if destination is None else destination
        for name, value in self._own_state():
            state[prefix + name] = value if keep_vars else value.detach()
        for name, child in self.named_children():
            child.state_dict(destination=state, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
        return state

    def _own_state(self) -> Iterator[tuple[str, Tensor]]:
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield name, value
        for name, buf in self._buffers.items():
            if buf is not None:
                yield name, buf

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy ``state`` into the parameters and buffers (in place, keeping dtypes).

        Raises StateDictError naming missing or unexpected keys (when ``strict``) and any shape mismatch.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise StateDictError(f"load_state_dict: for {type(self).__name__}: missing keys {missing}, "
                                 f"unexpected keys {unexpected}")
        for key, target in own.items():
            if key not in state:
                continue
            value = state[key]
            value = value._data if isinstance(value, Tensor) else np.asarray(value)
            if value.shape != target.shape:
                raise StateDictError(f"load_state_dict: size mismatch for {key}: checkpoint has shape {value.shape}, "
                                     f"the model has {target.shape}")
            with no_grad():  # in place, as PyTorch: the object, its memory and its registrations stay
                target.copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # ---- display
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self.named_children():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"

    def summary(self, input_shape: tuple, dtype: Any = np.float32) -> str:
        """A table of the leaf layers: name, type, output shape and parameter count, from one
        forward pass on zeros of ``input_shape`` (batch included).

        Shape: ``input_shape`` is what ``forward`` takes, e.g. (1, 1, 28, 28) for LeNet5.
        """
        rows: list[tuple[str, str, str, int]] = []
        removers = []
        for name, mod in self.named_modules():
            if next(mod.children(), None) is not None:
                continue

            def record(m: Module, _in: tuple, out: Any, name: str = name) -> None:
                shape = tuple(out.shape) if isinstance(out, Tensor) else "?"
                rows.append((name, type(m).__name__, str(shape), sum(p.numel() for p in m.parameters())))

            removers.append(mod.register_forward_hook(record))
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                self(Tensor(np.zeros(input_shape, dtype=dtype)))
        finally:
            self.train(was_training)
            for remove in removers:
                remove()
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        header = ("layer", "type", "output shape", "params")
        table = [header] + [(n, t, s, f"{c:,}") for n, t, s, c in rows]
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        fmt = lambda r: "  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(r, widths)))
        rule = "-" * (sum(widths) + 6)
        out = [fmt(table[0]), rule] + [fmt(r) for r in table[1:]] + [rule]
        out.append(f"total params: {total:,} (trainable: {trainable:,}); input {tuple(input_shape)}")
        return "\n".join(out)
