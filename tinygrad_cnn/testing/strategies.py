"""Hypothesis strategies for property tests of tinygrad_cnn code (yours and ours).

Needs hypothesis (``pip install tinygrad_cnn[testing]``). Values are float64 by default so that the
draws feed :func:`tinygrad_cnn.testing.gradcheck` directly.

>>> from hypothesis import given
>>> from tinygrad_cnn.testing import gradcheck
>>> @given(tensors(shape=(2, 3), min_magnitude=0.1))
... def test_relu(x):
...     assert gradcheck(lambda t: t.relu(), x)
>>> test_relu()
"""
from __future__ import annotations

from .conv_strategies import (Conv2dArgs, ConvTranspose2dArgs, Pool2dArgs, conv2d_args, conv_transpose2d_args,
                              pool2d_args)
from .tensor_strategies import broadcastable_shapes, distinct_tensors, shapes, tensors

__all__ = ["shapes", "broadcastable_shapes", "tensors", "distinct_tensors", "conv2d_args", "conv_transpose2d_args",
           "pool2d_args", "Conv2dArgs", "ConvTranspose2dArgs", "Pool2dArgs"]
