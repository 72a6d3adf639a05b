"""The error classes of tensor ops, shaped so that code written for PyTorch still catches them.

PyTorch raises ``RuntimeError`` when an op's arguments do not fit (shapes that do not broadcast,
a channel count that does not match a weight, a zero stride); Python code conventionally raises
``ValueError`` for a bad argument. Ours subclass both, so ``except RuntimeError`` (PyTorch code)
and ``except ValueError`` (Python code) both catch them.
"""
from __future__ import annotations


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
