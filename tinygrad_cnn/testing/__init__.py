"""Gradient-testing toolkit: finite-difference checks, the op registry and (with hypothesis) strategies.

>>> from tinygrad_cnn import Tensor
>>> x = Tensor([0.3, -1.2], dtype="float64", requires_grad=True)
>>> gradcheck(lambda t: (t * t.exp()).sum(), x)
True
"""
from .check_grads import check_grads
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_grad, numerical_vjp
from .opinfo import OPS, OpInfo, Sample

__all__ = ["check_grads", "gradcheck", "gradgradcheck", "numerical_grad", "numerical_vjp", "GradcheckError", "OPS",
           "OpInfo", "Sample"]
