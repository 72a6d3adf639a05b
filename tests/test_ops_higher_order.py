"""Every registered op, to third order and in both modes: JAX-style ``check_grads`` (order 3), the
VJP/JVP identity in float64 and float32, and symmetric Hessians of scalar functions built from it.

Like test_ops_gradients.py, the registry drives this file: a registered op is checked here too.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings

from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd.functional import hessian
from tinygrad_cnn.ops.registry import REGISTRY
from tinygrad_cnn.testing import OPS, check_grads
from tinygrad_cnn.testing.verify import as_float32

HEAVY = {"conv2d", "conv_transpose2d", "conv2d_weight", "max_pool2d", "avg_pool2d", "window_sum", "window_fold",
         "batch_norm"}


def _examples(name: str, share: int) -> int:
    n = settings().max_examples // share
    return max(1 if name in HEAVY else 2, n // 3 if name in HEAVY else n)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_third_order_both_modes(name: str) -> None:
    info = OPS[name]

    @settings(max_examples=_examples(name, 10))
    @given(info.strategy())
    def check(sample: Any) -> None:
        fn, inputs = info.bind(sample)
        check_grads(fn, inputs, order=3)

    check()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_vjp_jvp_identity_float64_and_float32(name: str) -> None:
    info = OPS[name]

    @settings(max_examples=_examples(name, 5))
    @given(info.strategy())
    def check(sample: Any) -> None:
        fn, inputs = info.bind(sample)
        check_grads(fn, inputs, order=1, modes=("rev",))
        check_grads(*as_float32(fn, inputs), order=1, modes=("rev",))

    check()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_hessian_of_a_scalar_function_is_symmetric(name: str) -> None:
    info = OPS[name]

    @settings(max_examples=_examples(name, 10))
    @given(info.strategy())
    def check(sample: Any) -> None:
        fn, inputs = info.bind(sample)
        sizes = [x.numel() for x in inputs]
        assume(0 < sum(sizes) <= 40)  # the Hessian costs one double backward per input element
        rng = np.random.default_rng(0)
        weights: dict = {}

        def scalar(*xs: Tensor) -> Tensor:
            out = fn(*xs)
            outs = out if isinstance(out, tuple) else (out,)
            total = None
            for k, o in enumerate(outs):
                if k not in weights:
                    weights[k] = Tensor(rng.standard_normal(o.shape).astype(o.dtype))
                term = (o * weights[k]).sum()
                total = term if total is None else total + term
            return total

        h = hessian(scalar, tuple(inputs))
        for i in range(len(inputs)):
            for j in range(len(inputs)):
                a = h[i][j].numpy().reshape(sizes[i], sizes[j])
                b = h[j][i].numpy().reshape(sizes[j], sizes[i]).T
                np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"{name}: H[{i}][{j}] != H[{j}][{i}]ᵀ")

    check()
