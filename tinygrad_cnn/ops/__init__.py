"""The op families: each op's forward and backward side by side, registered in ``REGISTRY``.

Importing this package imports every family, so the registry is complete on ``import tinygrad_cnn``.
The families import ``Tensor`` from ``tensor.py`` and ``make_op`` from ``graph.py``; ``tensor.py``
imports them back for its operators and methods. So the core (``tensor``, ``graph``, ``engine``,
``torch_surface`` and the families) is one import cycle, resolved by ``tensor.py`` importing the
rest last and by the package importing ``tensor`` first.
"""
from . import activation, conv, elementwise, indexing, inplace, integer, loss, matmul, norm, pool, reduce, shape  # noqa: F401
from .registry import REGISTRY, register

__all__ = ["REGISTRY", "register"]
