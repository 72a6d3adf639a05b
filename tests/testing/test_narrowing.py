"""The conv and pooling strategies narrow to fixed values, lists and ranges by drawing inside them
(no filtering, so hypothesis's health checks pass), and never draw a max-pool window wholly in the padding."""
from itertools import product

import numpy as np
from hypothesis import HealthCheck, given, settings

from tinygrad_cnn.ops.geometry import pool_geometry
from tinygrad_cnn.testing.strategies import conv2d_args, conv_transpose2d_args, pool2d_args

STRICT = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@STRICT
@given(conv2d_args(stride=1, groups=1, dilation=1, padding=[0, 1], square=True, int_args=True, sides=(28, 28),
                   min_batch=1, max_batch=2, kernel_size=[3, 5]))
def test_conv2d_args_stays_inside_fixed_values(a):
    assert a.stride == 1 and a.dilation == 1 and a.groups == 1 and a.padding in (0, 1)
    assert a.input.shape[2:] == (28, 28) and 1 <= a.input.shape[0] <= 2
    assert a.weight.shape[2] == a.weight.shape[3] and a.weight.shape[2] in (3, 5)


@STRICT
@given(conv2d_args(stride=(2, 3), padding="same", square=False))
def test_conv2d_args_same_padding_forces_stride_one(a):
    assert a.padding == "same" and a.stride in (1, (1, 1))


@STRICT
@given(conv2d_args(sides=4, kernel_size=(1, 9), dilation=2, padding=0, square=True))
def test_a_fixed_input_size_bounds_the_kernel(a):
    k = a.weight.shape[2]
    assert 2 * (k - 1) + 1 <= 4


@STRICT
@given(pool2d_args(kernel_size=2, stride=2, padding=0, dilation=1, int_args=True, min_batch=1, channels=3,
                   sides=(6, 8)))
def test_pool2d_args_stays_inside_fixed_values(a):
    assert (a.kernel_size, a.stride, a.padding, a.dilation) == (2, 2, 0, 1)
    assert a.input.shape[1:] == (3, 6, 8) and a.input.shape[0] >= 1


@STRICT
@given(pool2d_args(kind="avg", stride=[1, 2], ceil_mode=False, square=True))
def test_pool2d_args_lists_and_flags(a):
    assert a.ceil_mode is False
    s = a.stride if isinstance(a.stride, tuple) else (a.stride, a.stride)
    assert s[0] == s[1] and s[0] in (1, 2)


def test_every_drawable_max_pool_window_reaches_the_input():
    # the side bound that replaces the old filter, checked over every small geometry it allows
    for k, d, s, ceil in product((1, 2, 3), (1, 2), (1, 2, 3), (False, True)):
        for p in range(k // 2 + 1):
            lo = max(1, d * (k - 1) + 1 - 2 * p, d if p and d > 1 else 1)
            for n in range(lo, lo + 6):
                geo = pool_geometry("max_pool2d", (1, 1, n, n), (k, k), (s, s), (p, p), (d, d), ceil)
                for t in range(geo.out_hw[0]):
                    assert any(0 <= t * s - p + d * i < n for i in range(k)), (k, p, d, s, n, ceil, t)


@STRICT
@given(pool2d_args(kind="max", dilation=2, padding=1, kernel_size=3))
def test_dilated_padded_max_pool_has_finite_outputs(a):
    from tinygrad_cnn.nn import functional as F

    assert np.isfinite(F.max_pool2d(a.input, **a.kwargs()).numpy()).all()


@STRICT
@given(conv_transpose2d_args(stride=[1, 2], padding=0, groups=1, kernel_size=3, square=True, min_batch=1))
def test_conv_transpose2d_args_narrows_too(a):
    s = a.stride if isinstance(a.stride, tuple) else (a.stride, a.stride)
    assert s[0] == s[1] and s[0] in (1, 2) and a.groups == 1 and a.weight.shape[2:] == (3, 3)
    assert a.input.shape[0] >= 1
    from tinygrad_cnn.nn import functional as F

    assert F.conv_transpose2d(a.input, a.weight, a.bias, **a.kwargs()).shape[0] == a.input.shape[0]
