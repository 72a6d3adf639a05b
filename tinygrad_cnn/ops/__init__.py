"""The op families: each op's forward and backward side by side, registered in ``REGISTRY``.

Importing this package imports every family, so the registry is complete on ``import tinygrad_cnn``.
The families import ``Tensor`` from ``tensor.py``, which imports them back for its operators and
methods: the one import cycle of the package, resolved by ``tensor.py`` importing them last.
"""
from . import activation, conv, elementwise, indexing, inplace, integer, loss, matmul, norm, pool, reduce, shape  # noqa: F401
from .registry import REGISTRY, register

__all__ = ["REGISTRY", "register"]
