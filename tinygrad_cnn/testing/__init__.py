"""Gradient-testing toolkit: finite-difference checks, the op registry and (with hypothesis) strategies.

>>> from tinygrad_cnn import Tensor
>>> x = Tensor([0.3, -1.2], dtype="float64", requires_grad=True)
>>> gradcheck(lambda t: (t * t.exp()).sum(), x)
True
"""
from typing import Any

from .check_grads import check_grads
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad, numerical_vjp
from .opinfo import OPS, OpInfo, Sample

__all__ = ["check_grads", "gradcheck", "gradgradcheck", "numerical_grad", "numerical_vjp", "GradcheckError", "OPS",
           "OpInfo", "Sample", "check_layer", "assert_layer", "LayerReport", "LayerMismatch"]

_LAYERCHECK = ("check_layer", "assert_layer", "LayerReport", "LayerMismatch", "LayerCheckError")


def __getattr__(name: str) -> Any:
    # check_layer draws with hypothesis, an extra: imported on first use, so the rest works without it
    if name in _LAYERCHECK:
        try:
            from . import layercheck
        except ImportError as e:
            if e.name != "hypothesis":
                raise
            raise ImportError(f"tinygrad_cnn.testing.{name} needs hypothesis: pip install "
                              "'tinygrad_cnn[testing]'") from None
        return getattr(layercheck, name)
    raise AttributeError(f"module 'tinygrad_cnn.testing' has no attribute {name!r}")
