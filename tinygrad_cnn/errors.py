"""The error classes of tensor ops, shaped so that code written for PyTorch still catches them.

PyTorch raises ``RuntimeError`` when an op's arguments do not fit (shapes that do not broadcast,
a channel count that does not match a weight, a zero stride); Python code conventionally raises
``ValueError`` for a bad argument. Ours subclass both, so ``except RuntimeError`` (PyTorch code)
and ``except ValueError`` (Python code) both catch them.
"""
from __future__ import annotations

from typing import Any, Callable


class OpError(ValueError, RuntimeError):
    """An op's argument has a bad value (a zero stride, a negative pad, min > max).

    >>> issubclass(OpError, RuntimeError) and issubclass(OpError, ValueError)
    True
    """


class ShapeError(OpError):
    """Tensor shapes do not fit an op (broadcasting, matmul's inner sizes, channels, target shape).

    >>> issubclass(ShapeError, RuntimeError)
    True
    """


def missing_attribute(owner: str, torch_name: str) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` whose AttributeError says that PyTorch's ``torch_name.<name>``
    is not supported here, so ported code fails on its own line with the feature named.

    >>> missing_attribute("tinygrad_cnn.nn", "torch.nn")("LSTM")
    Traceback (most recent call last):
    ...
    AttributeError: module 'tinygrad_cnn.nn' has no attribute 'LSTM': torch.nn.LSTM is not supported by tinygrad_cnn
    """
    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        raise AttributeError(f"module {owner!r} has no attribute {name!r}: {torch_name}.{name} is not supported by "
                             "tinygrad_cnn")
    return __getattr__
