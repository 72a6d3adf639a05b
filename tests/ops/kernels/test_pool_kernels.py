"""The pooling kernels, called directly on ndarrays, against plain-loop references."""
import numpy as np
from hypothesis import given

from tinygrad_cnn.ops.geometry import pool_geometry
from tinygrad_cnn.ops.kernels import pool as K
from tinygrad_cnn.testing.strategies import pool2d_args
from tinygrad_cnn.testing.reference import avg_pool2d_ref, max_pool2d_ref


def _geometry(a, kind):
    return pool_geometry(f"{kind}_pool2d", a.input.shape, a.kernel_size, a.stride, a.padding,
                         a.dilation if kind == "max" else 1, a.ceil_mode)


@given(pool2d_args(kind="max", requires_grad=False))
def test_argmax_windows_and_indices_match_loops(a):
    geo = _geometry(a, "max")
    best, which = K.argmax_windows(a.input.numpy(), geo)
    values, idx = max_pool2d_ref(a.input.numpy(), geo.kernel, geo.stride, geo.padding, geo.dilation, a.ceil_mode)
    np.testing.assert_array_equal(best, values)
    np.testing.assert_array_equal(K.flat_indices(which, geo), idx)
    np.testing.assert_array_equal(K.pick(a.input.numpy(), which, geo), np.where(np.isfinite(values), values, 0))


@given(pool2d_args(kind="max", requires_grad=False))
def test_place_is_the_adjoint_of_pick(a):
    geo = _geometry(a, "max")
    x = a.input.numpy()
    rng = np.random.default_rng(0)
    which = rng.integers(0, geo.kernel[0] * geo.kernel[1], (x.shape[0], x.shape[1]) + geo.out_hw).astype(np.int8)
    g = rng.standard_normal(which.shape)
    placed = K.place(g, which, geo)
    assert placed.shape == x.shape
    np.testing.assert_allclose((K.pick(x, which, geo) * g).sum(), (x * placed).sum(), rtol=1e-10, atol=1e-12)
    # loop reference of place: each window's value at its chosen offset (padding dropped)
    expected = np.zeros(x.shape)
    kw, (sh, sw), (dh, dw) = geo.kernel[1], geo.stride, geo.dilation
    for idx in np.ndindex(*which.shape):
        n, c, y, z = idx
        r = y * sh + (which[idx] // kw) * dh - geo.pads[0]
        q = z * sw + (which[idx] % kw) * dw - geo.pads[2]
        if 0 <= r < x.shape[2] and 0 <= q < x.shape[3]:
            expected[n, c, r, q] += g[idx]
    np.testing.assert_allclose(placed, expected, rtol=1e-10, atol=1e-12)


@given(pool2d_args(kind="avg", requires_grad=False))
def test_window_sum_divisor_and_fold_match_loops(a):
    geo = _geometry(a, "avg")
    x = a.input.numpy()
    mean = K.window_sum(x, geo) / K.avg_divisor(geo, a.count_include_pad, a.divisor_override)
    np.testing.assert_allclose(mean, avg_pool2d_ref(x, geo.kernel, geo.stride, geo.padding, a.ceil_mode,
                                                    a.count_include_pad, a.divisor_override), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(mean.shape)
    np.testing.assert_allclose((K.window_sum(x, geo) * g).sum(), (x * K.window_fold(g, geo)).sum(),
                               rtol=1e-10, atol=1e-12)
