"""The parts of PyTorch's tensor API that code written for PyTorch reaches for, as a base class of
``Tensor``: sizes, comparisons as methods, matrix products, conversions, devices, ``norm``,
``masked_fill`` and formatting. Every method here is made of the ops; none adds a gradient rule."""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

import numpy as np

_DTYPE_NAMES = {np.dtype(np.float32): "FloatTensor", np.dtype(np.float64): "DoubleTensor",
                np.dtype(np.float16): "HalfTensor", np.dtype(np.int64): "LongTensor",
                np.dtype(np.int32): "IntTensor", np.dtype(np.bool_): "BoolTensor", np.dtype(np.uint8): "ByteTensor"}


class Device:
    """A device, as ``torch.device``: tinygrad_cnn computes on the CPU only, so a tensor can be
    moved to ``'cpu'``; naming another device is allowed, moving to it raises a clear error.

    >>> Device("cpu"), Device("cuda:0").type
    (device(type='cpu'), 'cuda')
    """

    def __init__(self, spec: Any = "cpu", index: int | None = None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index
        if not isinstance(spec, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type(spec).__name__}")
        kind, _, number = spec.partition(":")
        self.type: str = kind
        self.index = int(number) if number else index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, (Device, str)) and str(Device(other)) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = Device("cpu")


def check_device(device: Any, where: str) -> None:
    """Accept the CPU; any other device raises a RuntimeError that says why."""
    if Device(device).type != "cpu":
        raise RuntimeError(f"{where}: device '{Device(device)}' is not available: tinygrad_cnn runs on the CPU "
                           "with numpy; use 'cpu' (torch.cuda.is_available() is False here)")


def _normalize_dtype(dtype: Any) -> np.dtype:
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype: cannot interpret {dtype!r} as a dtype") from None


def parse_to(args: tuple, kwargs: dict, where: str) -> tuple[np.dtype | None, bool]:
    """The dtype (or None) and ``copy`` flag of a ``to(...)`` call, after checking its device."""
    kwargs = dict(kwargs)
    dtype, device = kwargs.pop("dtype", None), kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    copy = bool(kwargs.pop("copy", False))
    if kwargs:
        raise TypeError(f"{where}: unexpected argument {sorted(kwargs)[0]!r}")
    for a in args:
        if isinstance(a, TorchSurface):
            dtype = a._data.dtype
        elif isinstance(a, (str, Device)):
            device = a
        else:
            dtype = a
    if device is not None:
        check_device(device, where)
    return (None if dtype is None else _normalize_dtype(dtype)), copy


class TorchSurface:
    """PyTorch's tensor methods that are spelled differently from numpy's (see module docstring)."""

    __slots__ = ()
    _data: np.ndarray

    if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any attribute of a Tensor
        def __getattr__(self, name: str) -> Any:
            # called only when normal lookup fails: name the PyTorch feature that ported code reached for
            if name.startswith("_"):
                raise AttributeError(f"'Tensor' object has no attribute {name!r}")
            raise AttributeError(f"'Tensor' object has no attribute {name!r}: torch.Tensor.{name} is not "
                                 "supported by tinygrad_cnn")

    # ---- sizes
    def size(self, dim: builtins.int | None = None) -> Any:
        """The shape (a tuple, as ``torch.Size``), or its length along ``dim``.

        >>> from tinygrad_cnn import Tensor
        >>> x = Tensor(np.zeros((2, 3))); x.size(), x.size(-1)
        ((2, 3), 3)
        """
        if dim is None:
            return self._data.shape
        from .ops.args import normalize_dim

        return self._data.shape[normalize_dim(dim, self._data.ndim, "size")]

    def view_as(self, other: Any) -> Any:
        return self.reshape(other.shape)  # type: ignore[attr-defined]

    reshape_as = view_as

    def expand_as(self, other: Any) -> Any:
        return self.expand(*other.shape)  # type: ignore[attr-defined]

    # ---- comparisons, as methods
    def eq(self, other: Any) -> Any: return self == other
    def ne(self, other: Any) -> Any: return self != other
    def lt(self, other: Any) -> Any: return self < other
    def le(self, other: Any) -> Any: return self <= other
    def gt(self, other: Any) -> Any: return self > other
    def ge(self, other: Any) -> Any: return self >= other

    def pow(self, exponent: Any) -> Any:
        return self ** exponent

    # ---- matrix products
    def t(self) -> Any:
        """Transpose of a matrix (0-D and 1-D tensors are returned as they are), as ``torch.t``."""
        if self._data.ndim > 2:
            raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {self._data.ndim}; use transpose()")
        return self.transpose(0, 1) if self._data.ndim == 2 else self  # type: ignore[attr-defined]

    def mm(self, other: Any) -> Any:
        if self._data.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise RuntimeError(f"mm: both operands must be 2-D matrices, got shapes {self._data.shape} and "
                               f"{getattr(other, 'shape', None)}; use matmul() for other shapes")
        return self @ other

    def bmm(self, other: Any) -> Any:
        if self._data.ndim != 3 or getattr(other, "ndim", 0) != 3 or self._data.shape[0] != other.shape[0]:
            raise RuntimeError(f"bmm: both operands must be 3-D with the same batch size, got shapes "
                               f"{self._data.shape} and {getattr(other, 'shape', None)}")
        return self @ other

    # ---- conversions and devices
    @property
    def device(self) -> Device:
        return CPU

    @property
    def is_cuda(self) -> builtins.bool:
        return False

    def cpu(self) -> Any:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Any:
        check_device("cuda", "Tensor.cuda")

    def contiguous(self) -> Any:
        """The tensor itself: every op here accepts any memory layout."""
        return self

    def long(self) -> Any: return self.astype(np.int64)  # type: ignore[attr-defined]
    def int(self) -> Any: return self.astype(np.int32)  # type: ignore[attr-defined]
    def bool(self) -> Any: return self.astype(np.bool_)  # type: ignore[attr-defined]
    def half(self) -> Any: return self.astype(np.float16)  # type: ignore[attr-defined]

    def is_floating_point(self) -> builtins.bool:
        return self._data.dtype.kind == "f"

    def type(self, dtype: Any = None) -> Any:
        """With no argument the type's name (``'tinygrad_cnn.FloatTensor'``), else a conversion."""
        if dtype is None:
            return "tinygrad_cnn." + _DTYPE_NAMES.get(self._data.dtype, f"Tensor[{self._data.dtype}]")
        return self.astype(_normalize_dtype(dtype))  # type: ignore[attr-defined]

    def to(self, *args: Any, **kwargs: Any) -> Any:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``, or the same as
        keywords, as PyTorch's; devices other than the CPU raise a clear error."""
        dtype, copy = parse_to(args, kwargs, "Tensor.to")
        out = self if dtype is None else self.astype(dtype)  # type: ignore[attr-defined]
        return out.clone() if copy and out is self else out  # type: ignore[attr-defined]

    # ---- reductions and masks
    def norm(self, p: Any = "fro", dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """The vector p-norm over ``dim`` (all elements when None): 2 / 'fro', 1, inf, -inf or any
        other positive number, as ``torch.norm``."""
        from .ops.reduce import norm

        x: Any = self
        if p in ("fro", 2, 2.0):
            return norm(x, 2.0, dim, keepdim)
        if p in (1, 1.0):
            return x.abs().sum(dim, keepdim)
        if p == float("inf"):
            return _extreme_norm(x.abs(), dim, keepdim, "max")
        if p == float("-inf"):
            return _extreme_norm(x.abs(), dim, keepdim, "min")
        if not isinstance(p, (int, float)) or p <= 0:
            raise ValueError(f"norm: p must be 'fro' or a positive number, got {p!r}")
        return norm(x, float(p), dim, keepdim)

    def masked_fill(self, mask: Any, value: Any) -> Any:
        """``value`` where ``mask`` is True, else this tensor (broadcast), as PyTorch's.

        >>> from tinygrad_cnn import Tensor
        >>> Tensor([1.0, 2.0]).masked_fill(np.array([True, False]), 0.0).tolist()
        [0.0, 2.0]
        """
        from .ops.elementwise import where

        m = mask._data if isinstance(mask, TorchSurface) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.dtype}")
        return where(np.broadcast_to(m, np.broadcast_shapes(m.shape, self._data.shape)), value, self)

    def gather(self, dim: builtins.int, index: Any) -> Any:
        """Values picked along ``dim`` by ``index``, as ``torch.gather`` (differentiable)."""
        from .ops.shape import gather

        return gather(self, dim, index)

    # ---- printing
    def __format__(self, spec: str) -> str:
        if self._data.size == 1 and self._data.ndim <= 1 or self._data.ndim == 0:
            return format(self._data.item(), spec)
        return format(str(self), spec)


def _extreme_norm(x: Any, dim: Any, keepdim: bool, which: str) -> Any:
    if dim is None:
        return x.max() if which == "max" else x.min()
    from .ops import reduce

    fn = reduce.reduce_max if which == "max" else reduce.reduce_min
    out = fn(x, dim if isinstance(dim, (tuple, list)) else (dim,), keepdim)
    return out
