"""The Tensor; the ways to build tensors from data (``tensor``, ``from_numpy``, ``as_tensor``) are
in ``factories.py``, and how an op records its node in ``graph.py``.

A Tensor wraps a numpy array. Every op builds its result with ``graph.make_op``, handing over the
numpy result, the input Tensors and a backward closure. The closure receives the output's gradient
(a Tensor) and returns one gradient per input, computed with Tensor ops, so that the same closure
gives first-order gradients (run under ``no_grad``) and higher-order ones (``create_graph=True``).
"""
from __future__ import annotations

import builtins
from typing import Any, Callable

import numpy as np

from .torch_surface import TorchSurface
from .errors import ShapeError

float16, float32, float64 = np.float16, np.float32, np.float64
int32, int64, bool_ = np.int32, np.int64, np.bool_


# ----------------------------------------------------------------------------- dtype helpers
def _to_array(data: Any, dtype: Any = None, ints_stay_ints: bool = False) -> np.ndarray:
    """``data`` as an ndarray, sharing an ndarray's memory. Python numbers and lists become float32,
    or (``ints_stay_ints``, as ``torch.tensor``) int64 for ints and bool for bools."""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        arr = np.array(data)
        if dtype is None:
            kind = arr.dtype.kind
            if kind not in "fiub":
                raise TypeError(f"Tensor: data must be numeric, got {type(data).__name__} of dtype {arr.dtype}")
            if kind == "f" or not ints_stay_ints:
                arr = arr.astype(np.float32)
            elif kind in "iu":
                arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


def _is_float(arr: np.ndarray) -> bool:
    return arr.dtype.kind == "f"


# ----------------------------------------------------------------------------- Tensor
def _axis(dim: Any, axis: Any) -> Any:
    """``dim``, or numpy's spelling ``axis`` that PyTorch also accepts (d2l writes ``argmax(axis=1)``)."""
    return dim if axis is None else axis


class Tensor(TorchSurface):
    """An n-dimensional array that records the ops applied to it for automatic differentiation.

    Shape: any. Python numbers and lists become float32 (as ``torch.Tensor``); an ndarray keeps its
    dtype and its memory (as ``torch.as_tensor``); :func:`tensor` copies.

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [[2.0, 4.0], [6.0, 8.0]]
    """

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "name", "_hooks", "_retains_grad", "_version_counter",
                 "_is_view", "_in_graph", "__weakref__")
    _version_counter: list[int]
    __array_priority__ = 1000  # numpy scalars on the left defer to our reflected operators

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        arr = _to_array(data, dtype)
        if requires_grad and not _is_float(arr):
            raise TypeError(f"Tensor: only floating-point tensors can require grad, got dtype {arr.dtype}")
        self._init_slots(arr, bool(requires_grad), name)
        if isinstance(data, Tensor) and arr is data._data:  # shared memory: one version, as PyTorch's
            self._version_counter = data._version_counter

    def _init_slots(self, data: np.ndarray, requires_grad: bool, name: str | None) -> None:
        self._data = data
        self.requires_grad = requires_grad
        self.grad: Tensor | None = None
        self.grad_fn: Node | None = None
        self.name = name
        self._hooks: list | None = None
        self._retains_grad = False
        self._version_counter = [0]  # the version: in-place changes so far; one list shared by tensors sharing memory
        self._is_view = False  # shares memory (and so its version) with another tensor
        self._in_graph = False  # an input of a recorded op: in-place ops can no longer rebase its history

    # ---- attributes
    @property
    def data(self) -> Tensor:
        """This tensor's values as a new leaf sharing its memory, cut off from the graph and with a
        version of its own (PyTorch's escape hatch: changing ``.data`` in place is not checked by
        backward). Assigning a Tensor to ``.data`` swaps this tensor's values for that tensor's.

        >>> w = Tensor([1.0, 2.0], requires_grad=True); _ = w.data.mul_(10); w.tolist()
        [10.0, 20.0]
        """
        out = Tensor.__new__(Tensor)
        out._init_slots(self._data, False, None)
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: can only assign a Tensor to .data, got {type(value).__name__} "
                            "(wrap an ndarray with tinygrad_cnn.from_numpy)")
        if self.requires_grad and not _is_float(value._data):
            raise TypeError(f"Tensor.data: a tensor that requires grad needs floating-point data, got {value.dtype}")
        self._data = value._data

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def numel(self) -> int:
        return self._data.size

    def dim(self) -> int:
        return self._data.ndim

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen (checked by backward)."""
        return self._version_counter[0]

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    # ---- conversion
    def numpy(self) -> np.ndarray:
        """The numpy array holding this tensor's values (shared memory, as ``torch.Tensor.numpy``).

        >>> Tensor([1.0, 2.0]).numpy()
        array([1., 2.], dtype=float32)
        """
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """``np.asarray(t)``: the values as an ndarray (shared memory unless a dtype or copy asks otherwise)."""
        arr = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def item(self) -> Any:
        if self._data.size != 1:
            raise ShapeError(f"Tensor.item: only one-element tensors convert to a Python scalar, "
                             f"got shape {self.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing the data and its version counter, cut off from the graph."""
        out = Tensor(self._data)
        out._version_counter, out._is_view = self._version_counter, True
        return out

    def astype(self, dtype: Any) -> Tensor:
        return _sh.astype(self, dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not _is_float(self._data):
            raise TypeError(f"Tensor.requires_grad_: only floating-point tensors can require grad, got {self.dtype}")
        if not self.is_leaf:
            raise RuntimeError("Tensor.requires_grad_: can only change requires_grad of leaf tensors")
        self.requires_grad = requires_grad
        return self

    def __repr__(self) -> str:
        """As PyTorch prints it: rows aligned under ``tensor(``, the dtype unless it is a default
        one (float32, int64, bool).

        >>> Tensor([[1.0, -20.5], [300.0, 2.0]])
        tensor([[  1. , -20.5],
                [300. ,   2. ]])
        """
        body = np.array2string(self._data, separator=", ", precision=4, threshold=50, prefix="tensor(")
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self._data.dtype not in (np.float32, np.int64, np.bool_):
            extra = f", dtype={self._data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Tensor.__bool__: truth value of a tensor with {self._data.size} elements is ambiguous")
        return bool(self._data)

    def __float__(self) -> builtins.float:  # the builtin: `float` here is the method below
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    # ---- autograd
    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad."""
        run_backward([self], [root_gradient(self, gradient, "backward")], None, retain_graph, create_graph)

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> "RemovableHandle":
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: tensor does not require grad")
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad and self.grad_fn is not None

    # ---- operators (the ops live in tinygrad_cnn/ops; these are thin forwards)
    def __add__(self, o): return _ew.add(self, o)
    def __radd__(self, o): return _ew.add(o, self)
    def __sub__(self, o): return _ew.sub(self, o)
    def __rsub__(self, o): return _ew.sub(o, self)
    def __mul__(self, o): return _ew.mul(self, o)
    def __rmul__(self, o): return _ew.mul(o, self)
    def __truediv__(self, o): return _ew.div(self, o)
    def __rtruediv__(self, o): return _ew.div(o, self)
    def __pow__(self, o): return _ew.power(self, o)
    def __rpow__(self, o): return _ew.power(o, self)
    def __neg__(self): return _ew.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ew.absolute(self)
    def __floordiv__(self, o): return _int.floor_divide(self, o)
    def __rfloordiv__(self, o): return _int.floor_divide(o, self)
    def __mod__(self, o): return _int.remainder(self, o)
    def __rmod__(self, o): return _int.remainder(o, self)
    def __matmul__(self, o): return _mm.matmul(self, o)
    def __rmatmul__(self, o): return _mm.matmul(o, self)
    def __getitem__(self, idx): return _sh.getitem(self, idx)
    def __setitem__(self, idx, value): _ip.setitem_(self, idx, value)

    def _compare(self, o: Any, fn: Callable) -> Any:
        if o is None or isinstance(o, str):
            return NotImplemented  # t == None is False, as in PyTorch
        # in the promoted dtype, a number taking this tensor's (a negative int wraps into uint8, as PyTorch)
        other = lift(o, self)
        dtype = _ew.result_type(self, other)
        return Tensor(fn(self._data.astype(dtype, copy=False), other._data.astype(dtype, copy=False)))

    def __lt__(self, o): return self._compare(o, np.less)
    def __le__(self, o): return self._compare(o, np.less_equal)
    def __gt__(self, o): return self._compare(o, np.greater)
    def __ge__(self, o): return self._compare(o, np.greater_equal)
    def __eq__(self, o): return self._compare(o, np.equal)
    def __ne__(self, o): return self._compare(o, np.not_equal)
    def __invert__(self): return _int.bitwise_not(self)
    def __and__(self, o): return _int.bitwise_and(self, o)
    def __rand__(self, o): return _int.bitwise_and(o, self)
    def __or__(self, o): return _int.bitwise_or(self, o)
    def __ror__(self, o): return _int.bitwise_or(o, self)
    def __xor__(self, o): return _int.bitwise_xor(self, o)
    def __rxor__(self, o): return _int.bitwise_xor(o, self)
    def all(self) -> Tensor: return Tensor(np.all(self._data))
    def any(self) -> Tensor: return Tensor(np.any(self._data))

    # ---- methods
    def exp(self): return _ew.exp(self)
    def log(self): return _ew.log(self)
    def sqrt(self): return _ew.sqrt(self)
    def abs(self): return _ew.absolute(self)
    def relu(self): return _act.relu(self)
    def sigmoid(self): return _act.sigmoid(self)
    def tanh(self): return _act.tanh(self)
    def clip(self, min=None, max=None): return _ew.clip(self, min, max)  # noqa: A002
    clamp = clip
    def sum(self, dim=None, keepdim=False, *, axis=None): return _red.reduce_sum(self, _axis(dim, axis), keepdim)
    def mean(self, dim=None, keepdim=False, *, axis=None): return _red.mean(self, _axis(dim, axis), keepdim)
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
        return _red.var(self, *_red.var_args("var", _axis(dim, axis), unbiased, correction), keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
        return _red.var(self, *_red.var_args("std", _axis(dim, axis), unbiased, correction), keepdim).sqrt()

    def max(self, dim=None, keepdim=False, *, axis=None): return _red.reduce_max(self, _axis(dim, axis), keepdim)
    def min(self, dim=None, keepdim=False, *, axis=None): return _red.reduce_min(self, _axis(dim, axis), keepdim)
    def argmax(self, dim=None, keepdim=False, *, axis=None): return _red.argmax(self, _axis(dim, axis), keepdim)
    def argmin(self, dim=None, keepdim=False, *, axis=None): return _red.argmin(self, _axis(dim, axis), keepdim)
    def softmax(self, dim=-1): return _act.softmax(self, dim)
    def log_softmax(self, dim=-1): return _act.log_softmax(self, dim)
    def reshape(self, *shape): return _sh.reshape(self, *shape)
    view = reshape
    def transpose(self, dim0=-2, dim1=-1): return _sh.transpose(self, dim0, dim1)
    def permute(self, *dims): return _sh.permute(self, *dims)
    def flatten(self, start_dim=0, end_dim=-1): return _sh.flatten(self, start_dim, end_dim)
    def unsqueeze(self, dim): return _sh.unsqueeze(self, dim)
    def squeeze(self, dim=None): return _sh.squeeze(self, dim)
    def expand(self, *shape): return _sh.expand(self, *shape)
    def pad(self, pad, value=0.0): return _sh.pad(self, pad, value)
    def matmul(self, o): return _mm.matmul(self, o)
    def clone(self): return _sh.clone(self)

    # ---- in-place ops (tinygrad_cnn/ops/inplace.py: version counting and PyTorch's rules)
    def add_(self, other, alpha=1): return _ip.add_(self, other, alpha)
    def sub_(self, other, alpha=1): return _ip.sub_(self, other, alpha)
    def mul_(self, other): return _ip.mul_(self, other)
    def div_(self, other): return _ip.div_(self, other)
    def clamp_(self, min=None, max=None): return _ip.clamp_(self, min, max)  # noqa: A002
    def zero_(self): return _ip.zero_(self)
    def fill_(self, value): return _ip.fill_(self, value)
    def copy_(self, src): return _ip.copy_(self, src)
    def masked_fill_(self, mask, value): return _ip.masked_fill_(self, mask, value)
    def normal_(self, mean=0.0, std=1.0): return _ip.normal_(self, mean, std)
    def uniform_(self, a=0.0, b=1.0, **bounds): return _ip.uniform_(self, a, b, **bounds)
    def __iadd__(self, o): return _ip.add_(self, o)
    def __isub__(self, o): return _ip.sub_(self, o)
    def __imul__(self, o): return _ip.mul_(self, o)
    def __itruediv__(self, o): return _ip.div_(self, o)
    def pow_(self, o): return _ip.pow_(self, o)
    def __ipow__(self, o): return _ip.pow_(self, o)
    def __ifloordiv__(self, o): return _ip.floor_divide_(self, o)
    def __imod__(self, o): return _ip.remainder_(self, o)
    def __iand__(self, o): return _ip.bitwise_(self, o, "bitwise_and_", np.bitwise_and)
    def __ior__(self, o): return _ip.bitwise_(self, o, "bitwise_or_", np.bitwise_or)
    def __ixor__(self, o): return _ip.bitwise_(self, o, "bitwise_xor_", np.bitwise_xor)


class RemovableHandle:
    """What ``register_hook`` and ``register_forward_hook`` return: ``remove()`` takes the hook off."""

    def __init__(self, hooks: list, fn: Callable):
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)

    __call__ = remove  # a handle called like a function removes its hook too


_SCALAR_KIND = {"b": 0, "i": 1, "u": 1, "f": 2}


def lift(x: Any, like: Tensor | None = None) -> Tensor:
    """An op's operand as a Tensor. A Python or numpy scalar takes ``like``'s dtype unless it is of
    a higher kind (bool < integer < float), then the kind's default (int64, float32): PyTorch's
    rule that a number never widens a tensor of its own kind."""
    if isinstance(x, Tensor):
        return x
    if like is not None and not isinstance(x, np.ndarray) and np.ndim(x) == 0:
        arr = np.asarray(x)
        if _SCALAR_KIND.get(arr.dtype.kind, 3) <= _SCALAR_KIND.get(like._data.dtype.kind, -1):
            return Tensor(arr.astype(like._data.dtype))  # wraps into a narrow integer dtype, as PyTorch
    return Tensor(_to_array(x, ints_stay_ints=True))


# the op modules import Tensor from here, so they are imported last
from .graph import Node, make_op  # noqa: E402,F401
from .engine import grad, root_gradient, run_backward, sum_to_shape  # noqa: E402,F401
from .ops import activation as _act  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import inplace as _ip  # noqa: E402
from .ops import integer as _int  # noqa: E402
from .ops import matmul as _mm  # noqa: E402
from .ops import reduce as _red  # noqa: E402
from .ops import shape as _sh  # noqa: E402
