"""The convolution kernels, called directly on ndarrays, against plain-loop references."""
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn.ops.geometry import conv_geometry, transpose_geometry
from tinygrad_cnn.ops.kernels import conv as K
from tinygrad_cnn.testing.strategies import conv2d_args, conv_transpose2d_args
from tinygrad_cnn.testing.reference import conv2d_ref, conv2d_weight_ref, conv_transpose2d_ref


def _geometry(a):
    return conv_geometry("conv2d", a.input.shape, a.weight.shape, a.stride, a.padding, a.dilation, a.groups)


def _batch_innermost(x):
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


@given(conv2d_args(requires_grad=False), st.booleans())
def test_forward_matches_loops(a, batch_inner):
    geo = _geometry(a)
    x = _batch_innermost(a.input.numpy()) if batch_inner else a.input.numpy()
    bias = None if a.bias is None else a.bias.numpy()
    out, windows = K.conv_forward(x, a.weight.numpy(), geo, bias)
    x, w = a.input.numpy(), a.weight.numpy()
    np.testing.assert_allclose(out, conv2d_ref(x, w, bias, geo.stride, geo.pads, geo.dilation,
                                               a.groups), rtol=1e-10, atol=1e-12)


@given(conv2d_args(requires_grad=False))
def test_weight_gradient_and_bias_sum_match_loops(a):
    geo = _geometry(a)
    rng = np.random.default_rng(0)
    g = rng.standard_normal((a.input.shape[0], a.weight.shape[0]) + geo.out_hw)
    expected = conv2d_weight_ref(a.input.numpy(), g, geo.kernel, geo.stride, geo.pads, geo.dilation, a.groups)
    np.testing.assert_allclose(K.conv_weight(a.input.numpy(), g, geo), expected, rtol=1e-10, atol=1e-10)
    _, windows = K.conv_forward(a.input.numpy(), a.weight.numpy(), geo)  # the forward's windows, reused
    np.testing.assert_allclose(K.conv_weight(a.input.numpy(), g, geo, windows), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(K.bias_grad(g, geo), g.sum((0, 2, 3)), rtol=1e-10, atol=1e-12)


@given(conv_transpose2d_args(requires_grad=False))
def test_transpose_matches_loops(a):
    geo = transpose_geometry("conv_transpose2d", a.input.shape, a.weight.shape, a.stride, a.padding,
                             a.output_padding, a.groups, a.dilation)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    expected = conv_transpose2d_ref(a.input.numpy(), a.weight.numpy(), None, pair(a.stride), pair(a.padding),
                                    pair(a.output_padding), a.groups, pair(a.dilation))
    got = K.conv_transpose(a.input.numpy(), a.weight.numpy(), geo)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=30)
@given(conv2d_args(requires_grad=False, padding_strings=False))
def test_im2col_holds_every_window_and_col2im_is_its_adjoint(a):
    geo = _geometry(a)
    x = a.input.numpy()
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    pt, pb, pl, pr = geo.pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    cols = K.im2col(x, geo).reshape(c, kh, kw, ho, wo, n)
    for ch in range(c):
        for i in range(kh):
            for j in range(kw):
                for y in range(ho):
                    for z in range(wo):
                        np.testing.assert_array_equal(cols[ch, i, j, y, z], xp[:, ch, y * sh + i * dh, z * sw + j * dw])
    # <im2col(x), v> == <x, col2im(v)> for col2im's (G, kh, kw, Cg, ...) column order
    g, cg = geo.groups, c // geo.groups
    v = np.random.default_rng(1).standard_normal((g, kh, kw, cg, ho * wo * n))
    as_im2col = v.transpose(0, 3, 1, 2, 4).reshape(g, cg * kh * kw, -1)
    folded = K.col2im(v, n, c, geo)
    np.testing.assert_allclose((K.im2col(x, geo) * as_im2col).sum(), (x * folded).sum(), rtol=1e-10)
    assert folded.transpose(2, 1, 3, 0).flags.c_contiguous  # rows outermost, and no padding left in between


@settings(max_examples=60)
@given(st.integers(1, 6), st.integers(1, 3), st.integers(1, 2), st.integers(1, 8), st.integers(1, 4),
       st.integers(1, 2), st.integers(1, 2), st.integers(1, 6), st.data())
def test_stacked_transpose_for_any_rows_per_gemm(kh, kw, dw, h, w, groups, cin_g, rows_each, data):
    """The banded stride-1 transposed conv, for 1 to 6 input rows per GEMM and kernels up to 6 rows
    (edge blocks clipped on both sides when the kernel is taller than the image), folded in chunks
    of one block of rows or all at once."""
    ph = data.draw(st.integers(0, (h + kh - 2) // 2))
    pw = data.draw(st.integers(0, (w - 1 + dw * (kw - 1)) // 2))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.standard_normal((data.draw(st.integers(1, 2)), groups * cin_g, h, w))
    wt = rng.standard_normal((groups * cin_g, data.draw(st.integers(1, 2)), kh, kw))
    geo = transpose_geometry("conv_transpose2d", x.shape, wt.shape, 1, (ph, pw), 0, groups, (1, dw))
    assert K.uses_stacked_rows(geo)
    chunk_bytes = data.draw(st.sampled_from([1, K.CHUNK_BYTES]))  # one block of rows per chunk, or all
    with mock.patch.object(K, "rows_per_gemm", lambda kh: rows_each), mock.patch.object(K, "CHUNK_BYTES", chunk_bytes):
        out = K.conv_transpose(x, wt, geo)
    expected = conv_transpose2d_ref(x, wt, None, (1, 1), (ph, pw), (0, 0), groups, (1, dw))
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    if min(out.shape) > 1:  # rows outermost in memory, the layout pooling's gradients have
        assert sorted(range(4), key=lambda axis: -out.strides[axis]) == [2, 1, 3, 0]
    assert out.transpose(2, 1, 3, 0).flags.c_contiguous  # no padding rows or columns left in between


def test_fused_bias_rides_in_the_gemm():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 8, 4, 5)), rng.standard_normal((4, 4, 3, 4)), rng.standard_normal(4)
    geo = conv_geometry("conv2d", x.shape, w.shape, 1, (1, 2), 1, 2)
    assert K.fuses_bias(4 * 4) and K.uses_row_windows(geo)
    out, windows = K.conv_forward(x, w, geo, b)
    assert windows.shape[2] == geo.kernel[0] * (4 * 4 + 1)  # a row of ones after each input row
    np.testing.assert_allclose(out, conv2d_ref(x, w, b, (1, 1), geo.pads, (1, 1), 2), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    np.testing.assert_allclose(K.conv_weight(x, g, geo, windows),
                               conv2d_weight_ref(x, g, geo.kernel, (1, 1), geo.pads, (1, 1), 2), rtol=1e-10)


@given(st.integers(1, 20), st.integers(1, 9), st.integers(1, 9))
def test_matmul_few_rows_equals_matmul(m, k, p):
    rng = np.random.default_rng(m)
    a, b = rng.standard_normal((1, m, k)).astype(np.float32), rng.standard_normal((1, k, p)).astype(np.float32)
    np.testing.assert_allclose(K.matmul_few_rows(a, b), np.matmul(a, b), rtol=1e-5, atol=1e-5)


def test_rows_per_gemm_costs_at_most_a_fifth_more_products():
    for kh in range(1, 12):
        r = K.rows_per_gemm(kh)
        assert r >= 1 and (r + kh - 1) / kh <= 1.2 + 1e-9  # products against one row per GEMM


@settings(max_examples=40)
@given(st.sampled_from([(1, 1), (3, 1)]), st.integers(1, 2), st.sampled_from([1, 2]), st.integers(1, 3),
       st.integers(1, 5), st.integers(1, 4), st.booleans(), st.integers(0, 2**16))
def test_a_one_column_kernel_reads_rows_outermost_input_as_its_own_windows(kernel, stride_h, groups, cin_g, n, f_g,
                                                                           with_bias, seed):
    """1x1 (and kh x 1) kernels at unit column stride, no padding, over (H, C, W, N) memory: the
    windows are a view of the input, never a copy; forward, weight and input gradients as the loops."""
    kh, kw = kernel
    if kh > 1 and groups > 1:
        groups = 1  # rows and channels interleave evenly only with one group
    rng = np.random.default_rng(seed)
    c, f, h, w = groups * cin_g, groups * f_g, 5, 4
    x = rng.standard_normal((h, c, w, n)).transpose(3, 1, 0, 2)  # (N, C, H, W) view of (H, C, W, N) memory
    wt = rng.standard_normal((f, cin_g, kh, kw))
    bias = rng.standard_normal(f) if with_bias else None
    geo = conv_geometry("conv2d", x.shape, wt.shape, (stride_h, 1), 0, 1, groups)
    assert K.windows_in_place(x, geo)
    out, windows = K.conv_forward(x, wt, geo, bias)
    assert np.shares_memory(windows, x)
    np.testing.assert_allclose(out, conv2d_ref(x, wt, bias, geo.stride, geo.pads, geo.dilation, groups),
                               rtol=1e-10, atol=1e-12)
    g = np.ascontiguousarray(rng.standard_normal((geo.out_hw[0], f, geo.out_hw[1], n))).transpose(3, 1, 0, 2)
    expected_w = conv2d_weight_ref(x, g, geo.kernel, geo.stride, geo.pads, geo.dilation, groups)
    np.testing.assert_allclose(K.conv_weight(x, g, geo, windows), expected_w, rtol=1e-10, atol=1e-10)
    if stride_h == 1:  # the stacked transposed conv: with one group the GEMMs write the result in place
        expected_x = conv_transpose2d_ref(g, wt, None, (1, 1), (0, 0), (0, 0), groups, (1, 1))
        np.testing.assert_allclose(K.conv_transpose(g, wt, geo), expected_x, rtol=1e-10, atol=1e-12)


@settings(max_examples=60)
@given(st.integers(1, 3), st.integers(1, 8), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2),
       st.integers(0, 2), st.integers(0, 4), st.integers(0, 4), st.sampled_from(["none", "fused", "added"]),
       st.sampled_from([(0, 1, 2, 3), (1, 2, 3, 0), (2, 1, 3, 0)]), st.integers(0, 2**16))
def test_forward_two_output_rows_per_gemm(n, c, f, kh, kw, ph, pw, extra_h, extra_w, bias_mode, memory, seed):
    """The banded forward that multiplies two output rows at a time (chosen by default for few
    filters over long window rows), forced on for plain convolutions of any size, odd and even
    output heights, padding, each memory order, and a bias in the GEMM or added after it."""
    rng = np.random.default_rng(seed)
    h, w = max(1, kh + extra_h - 2 * ph), max(1, kw + extra_w - 2 * pw)
    x = np.ascontiguousarray(rng.standard_normal((n, c, h, w)).transpose(memory)).transpose(np.argsort(memory))
    wt = rng.standard_normal((f, c, kh, kw))
    bias = None if bias_mode == "none" else rng.standard_normal(f)
    geo = conv_geometry("conv2d", x.shape, wt.shape, 1, (ph, pw), 1, 1)
    with mock.patch.object(K, "pairs_output_rows", lambda geo, m, row_len: geo.out_hw[0] >= 2), \
            mock.patch.object(K, "fuses_bias", lambda row_len: bias_mode == "fused"):
        out, _ = K.conv_forward(x, wt, geo, bias)
    np.testing.assert_allclose(out, conv2d_ref(x, wt, bias, (1, 1), geo.pads, (1, 1), 1), rtol=1e-10, atol=1e-12)
