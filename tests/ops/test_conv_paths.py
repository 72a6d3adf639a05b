"""Every convolution code path by an explicit case, so that none depends on what hypothesis draws:
forward against the plain loops, gradients (input, weight, bias) against central differences,
with the input in NCHW and in the batch-innermost layout a network hands a layer."""
import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.geometry import conv_geometry
from tinygrad_cnn.testing import gradcheck
from tinygrad_cnn.testing.reference import conv2d_ref, conv_transpose2d_ref

# (input shape, weight shape, stride, padding, dilation, groups): each names the path it exercises
CONV_CASES = {
    "dilation in the window copy": ((2, 2, 7, 7), (3, 2, 3, 3), 1, 1, 2, 1),
    "dilation and stride": ((2, 2, 8, 7), (2, 2, 2, 3), 2, 1, (2, 1), 1),
    "input gradient through the transposed path at stride (1, 2)": ((2, 2, 5, 7), (3, 2, 3, 3), (1, 2), 1, 1, 1),
    "stride (2, 1)": ((2, 1, 7, 5), (2, 1, 3, 2), (2, 1), 0, 1, 1),
    "asymmetric padding ('same', even kernel) at batch 2": ((2, 2, 5, 6), (2, 2, 2, 4), 1, "same", 1, 1),
    "asymmetric padding ('same' at stride 2, TensorFlow's rule) at batch 3":
        ((3, 1, 6, 5), (2, 1, 3, 3), 2, "same", 1, 1),
    "1x1 kernel at stride 1 (windows are the input)": ((2, 3, 4, 5), (2, 3, 1, 1), 1, 0, 1, 1),
    "1x1 kernel at stride 2": ((2, 3, 5, 5), (2, 3, 1, 1), 2, 0, 1, 1),
    "kh x 1 kernel": ((2, 2, 6, 4), (2, 2, 3, 1), 1, 0, 1, 1),
    "depthwise": ((2, 3, 5, 5), (3, 1, 3, 3), 1, 1, 1, 3),
    "grouped": ((2, 4, 5, 5), (4, 2, 3, 3), 1, 1, 1, 2),
    "pair padding": ((2, 2, 5, 5), (2, 2, 3, 3), 1, (2, 0), 1, 1),
    "more than 16 filters (one GEMM per image row pair is off)": ((2, 2, 5, 5), (17, 2, 3, 3), 1, 1, 1, 1),
    "batch of one": ((1, 2, 5, 5), (2, 2, 3, 3), 2, 1, 1, 1),
}


def _batch_innermost(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


@pytest.mark.parametrize("layout", ["nchw", "batch_innermost"])
@pytest.mark.parametrize("name", sorted(CONV_CASES))
def test_conv2d_path(name, layout):
    xs, ws, stride, padding, dilation, groups = CONV_CASES[name]
    rng = np.random.default_rng(len(name))
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    if layout == "batch_innermost":
        x = _batch_innermost(x)
    geo = conv_geometry("conv2d", xs, ws, stride, padding, dilation, groups)
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), stride, padding, dilation, groups)
    want = conv2d_ref(np.ascontiguousarray(x), w, b, geo.stride, geo.pads, geo.dilation, groups)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12, err_msg=name)
    assert gradcheck(lambda a, v, c: F.conv2d(a, v, c, stride, padding, dilation, groups),
                     (Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)))


# (input shape, weight shape, stride, padding, output_padding, groups, dilation)
TRANSPOSE_CASES = {
    "stride (1, 2)": ((2, 2, 3, 4), (2, 3, 3, 3), (1, 2), 1, (0, 1), 1, 1),
    "stride 1 (the row-block path)": ((2, 2, 4, 4), (2, 2, 3, 3), 1, 1, 0, 1, 1),
    "stride 2 with dilation": ((2, 1, 3, 3), (1, 2, 2, 2), 2, 0, 1, 1, 2),
    "grouped": ((2, 4, 3, 3), (4, 1, 3, 3), 2, 1, 1, 2, 1),
}


@pytest.mark.parametrize("name", sorted(TRANSPOSE_CASES))
def test_conv_transpose2d_path(name):
    xs, ws, stride, padding, out_pad, groups, dilation = TRANSPOSE_CASES[name]
    rng = np.random.default_rng(len(name))
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[1] * groups)
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    out = F.conv_transpose2d(Tensor(x), Tensor(w), Tensor(b), stride, padding, out_pad, groups, dilation)
    want = conv_transpose2d_ref(x, w, b, pair(stride), pair(padding), pair(out_pad), groups, pair(dilation))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10, atol=1e-12, err_msg=name)
    assert gradcheck(lambda a, v, c: F.conv_transpose2d(a, v, c, stride, padding, out_pad, groups, dilation),
                     (Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)))
