"""tinygrad_cnn: a small, readable, correct and fast autograd framework on numpy.

>>> import tinygrad_cnn as tc
>>> x = tc.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad.tolist()
[2.0, 4.0]
"""
from typing import Any

import numpy as np

from . import tensor as _tensor  # noqa: F401  (first: it imports the engine and the ops in their order)
from .autograd import Function, detect_anomaly
from .factories import (arange, as_tensor, eye, from_numpy, full, full_like, manual_seed, ones, ones_like, rand,
                        randn, randn_like, tensor, zeros, zeros_like)
from .ops.elementwise import maximum, minimum, where
from .ops.shape import cat, stack
from .ops.kernels.select import kernels_in_use, use_kernels
from . import nn, optim  # noqa: F401
from .serialization import load, save
from .errors import OpError, ShapeError, missing_attribute
from .modes import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, bool_, float16, float32, float64, grad, int32, int64
from . import cuda, utils  # noqa: F401
from .torch_functions import (abs, add, argmax, argmin, clamp, exp, flatten, is_tensor, log, log_softmax, matmul, max,
                        mean, min, mul, numel, relu, reshape, sigmoid, softmax, sqrt, squeeze, sum, tanh, transpose,
                        unsqueeze)
from .torch_surface import Device as device

# a user's own training loop gets the allocator setting the CLI had to ask for (opt out: TINYGRAD_CNN_TUNE_MALLOC=0)
utils.tune_malloc_at_import()

# PyTorch's dtype names (numpy dtypes underneath)
float, double, half, long, int, bool, uint8 = float32, float64, float16, int64, int32, bool_, np.uint8

__version__ = "0.1.0"

__all__ = [
    "kernels_in_use", "use_kernels",
    "Tensor", "tensor", "from_numpy", "as_tensor", "grad", "no_grad", "enable_grad", "is_grad_enabled",
    "detect_anomaly", "Function", "OpError", "ShapeError",
    "zeros", "ones", "full", "randn", "rand", "arange", "eye", "zeros_like", "ones_like", "full_like", "randn_like",
    "manual_seed", "save", "load", "nn", "optim", "cat", "stack", "where", "maximum", "minimum",
    "float16", "float32", "float64", "int32", "int64", "bool_", "float", "double", "half", "long", "int", "bool",
    "uint8", "set_grad_enabled", "device", "cuda", "flatten", "max", "min", "sum", "mean", "argmax", "argmin", "exp",
    "log", "sqrt", "abs", "clamp", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "matmul", "transpose",
    "reshape", "unsqueeze", "squeeze", "numel", "is_tensor", "add", "mul",
]


_missing = missing_attribute("tinygrad_cnn", "torch")
_SUBPACKAGES = ("testing", "viz", "data", "autograd", "plots", "training", "onnx")


def __getattr__(name: str) -> Any:
    """Subpackages load on first use (``tc.testing`` without its import, as ``torch.testing``);
    PyTorch names tinygrad_cnn lacks say so."""
    if name in _SUBPACKAGES:
        import importlib

        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ImportError as e:
            raise AttributeError(f"tinygrad_cnn.{name} needs a package that is not installed ({e}); "
                                 "pip install \"tinygrad_cnn[dev]\"") from None
    return _missing(name)
