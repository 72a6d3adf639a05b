"""The installed plain-loop references (tinygrad_cnn.testing.reference): their backward loops
against the fast ops' gradients, on drawn arguments and explicit cases. (Their forward loops are
the oracle of tests/ops/test_conv.py and test_pool.py.)"""
import numpy as np
from hypothesis import example, given

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.geometry import conv_geometry, pair
from tinygrad_cnn.testing.reference import (avg_pool2d_backward_ref, conv2d_input_ref, conv2d_weight_ref,
                                            max_pool2d_backward_ref, max_pool2d_ref)
from tinygrad_cnn.testing.conv_strategies import Pool2dArgs
from tinygrad_cnn.testing.strategies import conv2d_args, pool2d_args


@given(conv2d_args())
def test_conv2d_backward_loops_match_the_ops_gradients(a):
    x, w = Tensor(a.input.numpy(), requires_grad=True), Tensor(a.weight.numpy(), requires_grad=True)
    out = F.conv2d(x, w, None, **a.kwargs())
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(Tensor(g))
    geo = conv_geometry("conv2d", x.shape, w.shape, a.stride, a.padding, a.dilation, a.groups)
    np.testing.assert_allclose(conv2d_input_ref(g, w.numpy(), x.shape, geo.stride, geo.pads, geo.dilation, a.groups),
                               x.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv2d_weight_ref(x.numpy(), g, w.shape[2:], geo.stride, geo.pads, geo.dilation,
                                                 a.groups), w.grad.numpy(), rtol=1e-10, atol=1e-12)


def _pool(a):
    k = pair(a.kernel_size, "t", "k", 1)
    s = pair(a.stride if a.stride is not None else a.kernel_size, "t", "s", 1)
    return k, s, pair(a.padding, "t", "p", 0)


def _overlapping_max_case():
    x = np.random.default_rng(2).permutation(50).astype(np.float64).reshape(1, 2, 5, 5)
    return Pool2dArgs("max", Tensor(x), (3, 3), (1, 1), (1, 1), False)  # overlapping windows accumulate


@given(pool2d_args(kind="max"))
@example(_overlapping_max_case())
def test_max_pool_backward_loop_matches_the_ops_gradient(a):
    x = Tensor(a.input.numpy(), requires_grad=True)
    out = F.max_pool2d(x, **a.kwargs())
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(Tensor(g))
    k, s, p = _pool(a)
    _, idx = max_pool2d_ref(x.numpy(), k, s, p, pair(a.dilation, "t", "d", 1), a.ceil_mode)
    np.testing.assert_allclose(max_pool2d_backward_ref(g, idx, x.shape), x.grad.numpy(), rtol=1e-12)


@given(pool2d_args(kind="avg"))
def test_avg_pool_backward_loop_matches_the_ops_gradient(a):
    x = Tensor(a.input.numpy(), requires_grad=True)
    out = F.avg_pool2d(x, **a.kwargs())
    g = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(Tensor(g))
    k, s, p = _pool(a)
    want = avg_pool2d_backward_ref(g, x.shape, k, s, p, a.ceil_mode, a.count_include_pad, a.divisor_override)
    np.testing.assert_allclose(want, x.grad.numpy(), rtol=1e-10, atol=1e-12)
