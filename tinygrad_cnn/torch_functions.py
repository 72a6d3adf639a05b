"""PyTorch's module-level functions (``torch.flatten(x, 1)``, ``torch.max(x, 1)``, ...), each the
Tensor method or op of the same name, so that code written for PyTorch runs unchanged."""
from __future__ import annotations

from typing import Any

from .ops import activation, elementwise, reduce
from .ops import matmul as _matmul
from .ops import shape as _shape
from .tensor import Tensor, lift


def _tensor(x: Any, fn: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: expected a Tensor, got {type(x).__name__}")
    return x


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """``input`` with axes ``start_dim..end_dim`` merged (PyTorch's default start_dim is 0 here).

    >>> flatten(Tensor([[1.0, 2.0]])).shape
    (2,)
    """
    return _shape.flatten(_tensor(input, "flatten"), start_dim, end_dim)


def _extreme(name: str, input: Tensor, dim: Any, keepdim: bool) -> Any:
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return (elementwise.maximum if name == "max" else elementwise.minimum)(input, dim)
    fn = reduce.reduce_max if name == "max" else reduce.reduce_min
    return fn(_tensor(input, name), dim, keepdim)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:  # noqa: A001
    """The maximum; over ``dim`` a ``(values, indices)`` pair; of two tensors the elementwise one.

    >>> max(Tensor([[1.0, 5.0], [7.0, 2.0]]), 1).indices.tolist()
    [1, 0]
    """
    return _extreme("max", input, dim if axis is None else axis, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:  # noqa: A001
    """The minimum, as :func:`max`.

    >>> min(Tensor([3.0, 1.0])).item()
    1.0
    """
    return _extreme("min", input, dim if axis is None else axis, keepdim)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:  # noqa: A001
    """The sum over ``dim`` (all when None).

    >>> sum(Tensor([1.0, 2.0])).item()
    3.0
    """
    return reduce.reduce_sum(_tensor(input, "sum"), dim if axis is None else axis, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """The mean over ``dim`` (all when None).

    >>> mean(Tensor([1.0, 3.0])).item()
    2.0
    """
    return reduce.mean(_tensor(input, "mean"), dim if axis is None else axis, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """Index of the first maximum (int64).

    >>> argmax(Tensor([[1.0, 5.0]]), 1).tolist()
    [1]
    """
    return reduce.argmax(_tensor(input, "argmax"), dim if axis is None else axis, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
    """Index of the first minimum (int64).

    >>> argmin(Tensor([2.0, 1.0])).item()
    1
    """
    return reduce.argmin(_tensor(input, "argmin"), dim if axis is None else axis, keepdim)


def exp(input: Tensor) -> Tensor:
    """``e ** input``.

    >>> exp(Tensor([0.0])).item()
    1.0
    """
    return elementwise.exp(_tensor(input, "exp"))


def log(input: Tensor) -> Tensor:
    """The natural logarithm.

    >>> log(Tensor([1.0])).item()
    0.0
    """
    return elementwise.log(_tensor(input, "log"))


def sqrt(input: Tensor) -> Tensor:
    """The square root.

    >>> sqrt(Tensor([4.0])).item()
    2.0
    """
    return elementwise.sqrt(_tensor(input, "sqrt"))


def abs(input: Tensor) -> Tensor:  # noqa: A001
    """The absolute value.

    >>> abs(Tensor([-2.0])).item()
    2.0
    """
    return elementwise.absolute(_tensor(input, "abs"))


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """``input`` clamped into ``[min, max]``.

    >>> clamp(Tensor([-1.0, 2.0]), 0.0, 1.0).tolist()
    [0.0, 1.0]
    """
    return elementwise.clip(_tensor(input, "clamp"), min, max)


def relu(input: Tensor) -> Tensor:
    """``max(input, 0)``.

    >>> relu(Tensor([-1.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    return activation.relu(_tensor(input, "relu"))


def sigmoid(input: Tensor) -> Tensor:
    """The logistic function.

    >>> sigmoid(Tensor([0.0])).item()
    0.5
    """
    return activation.sigmoid(_tensor(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent.

    >>> tanh(Tensor([0.0])).item()
    0.0
    """
    return activation.tanh(_tensor(input, "tanh"))


def softmax(input: Tensor, dim: int) -> Tensor:
    """Softmax along ``dim``.

    >>> softmax(Tensor([0.0, 0.0]), 0).tolist()
    [0.5, 0.5]
    """
    return activation.softmax(_tensor(input, "softmax"), dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """Log-softmax along ``dim``.

    >>> round(log_softmax(Tensor([0.0, 0.0]), 0).tolist()[0], 4)
    -0.6931
    """
    return activation.log_softmax(_tensor(input, "log_softmax"), dim)


def matmul(input: Any, other: Any) -> Tensor:
    """The matrix product, as ``@``.

    >>> matmul(Tensor([[1.0, 2.0]]), Tensor([[3.0], [4.0]])).tolist()
    [[11.0]]
    """
    return _matmul.matmul(input, other)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two axes.

    >>> transpose(Tensor([[1.0, 2.0]]), 0, 1).shape
    (2, 1)
    """
    return _shape.transpose(_tensor(input, "transpose"), dim0, dim1)


def reshape(input: Tensor, shape: Any) -> Tensor:
    """The same elements in a new shape.

    >>> reshape(Tensor([1.0, 2.0]), (2, 1)).shape
    (2, 1)
    """
    return _shape.reshape(_tensor(input, "reshape"), shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert an axis of size 1.

    >>> unsqueeze(Tensor([1.0]), 0).shape
    (1, 1)
    """
    return _shape.unsqueeze(_tensor(input, "unsqueeze"), dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Remove axes of size 1.

    >>> squeeze(Tensor([[1.0]])).shape
    ()
    """
    return _shape.squeeze(_tensor(input, "squeeze"), dim)


def numel(input: Tensor) -> int:
    """The number of elements.

    >>> numel(Tensor([[1.0, 2.0]]))
    2
    """
    return _tensor(input, "numel").numel()


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a Tensor.

    >>> is_tensor(Tensor([1.0])), is_tensor(1.0)
    (True, False)
    """
    return isinstance(obj, Tensor)


def add(input: Any, other: Any, alpha: float = 1) -> Tensor:
    """``input + alpha * other``.

    >>> add(Tensor([1.0]), Tensor([2.0]), alpha=2).item()
    5.0
    """
    return elementwise.add(input, other if alpha == 1 else elementwise.mul(lift(other), alpha))


def mul(input: Any, other: Any) -> Tensor:
    """``input * other``.

    >>> mul(Tensor([2.0]), 3).item()
    6.0
    """
    return elementwise.mul(input, other)
