"""Op errors are RuntimeErrors (as PyTorch raises) and ValueErrors (as Python code expects)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # torch is an optional oracle
    torch = None


def _cases(m: Any, f: Any) -> dict[str, Callable[[], Any]]:
    """The same bad calls, written once against a torch-like module ``m`` and its functional ``f``."""
    return {
        "broadcast": lambda: m.ones(2, 3) + m.ones(4, 3),
        "matmul": lambda: m.ones(2, 3) @ m.ones(4, 5),
        "mm": lambda: m.ones(2, 3).mm(m.ones(2, 3)),
        "reshape": lambda: m.ones(2, 3).reshape(4, 2),
        "view": lambda: m.ones(2, 3).view(5),
        "expand": lambda: m.ones(2, 3).expand(4, 4),
        "cat": lambda: m.cat([m.ones(2, 3), m.ones(2, 4)], 0),
        "stack": lambda: m.stack([m.ones(2, 3), m.ones(3, 3)]),
        "conv_channels": lambda: f.conv2d(m.ones(1, 3, 8, 8), m.ones(4, 2, 3, 3)),
        "conv_too_small": lambda: f.conv2d(m.ones(1, 1, 2, 2), m.ones(1, 1, 3, 3)),
        "linear": lambda: f.linear(m.ones(2, 3), m.ones(4, 5)),
        "pool_too_small": lambda: f.max_pool2d(m.ones(1, 1, 1, 1), 2),
        "item": lambda: m.ones(2).item(),
        "backward_shape": lambda: m.ones(2, requires_grad=True).sum().backward(m.ones(3)),
        "add_inplace": lambda: m.ones(2, 3).add_(m.ones(4, 3)),
    }


CASES = list(_cases(tc, F))


@pytest.mark.parametrize("case", CASES)
def test_shape_errors_are_runtime_and_value_errors(case: str) -> None:
    call = _cases(tc, F)[case]
    with pytest.raises(RuntimeError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, tc.OpError)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("case", CASES)
def test_torch_raises_runtime_error_too(case: str) -> None:
    """Each case is one where PyTorch raises RuntimeError, so `except RuntimeError` ports unchanged."""
    with pytest.raises(RuntimeError):
        _cases(torch, TF)[case]()


def test_bad_argument_values_are_op_errors() -> None:
    x = tc.ones(1, 1, 4, 4)
    for call in (lambda: F.conv2d(x, tc.ones(1, 1, 3, 3), stride=0),
                 lambda: F.pad(x, (1,)),
                 lambda: F.cross_entropy(tc.ones(2, 3), tc.tensor(np.array([0, 1])), reduction="avg")):
        with pytest.raises(RuntimeError):
            call()
        with pytest.raises(ValueError):
            call()


def test_except_runtime_error_idiom() -> None:
    """A PyTorch idiom: try a reshape, fall back on RuntimeError."""
    x = tc.arange(6.0)
    try:
        y = x.view(4, -1)
    except RuntimeError:
        y = x.view(2, -1)
    assert y.shape == (2, 3)
