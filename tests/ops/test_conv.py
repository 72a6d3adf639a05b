"""conv2d / conv_transpose2d: forward against plain loops (and PyTorch when installed), hand-made
cases, and bad input. Gradients are checked for every op in tests/test_ops_gradients.py."""
import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.geometry import conv_geometry
from tinygrad_cnn.testing import gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import conv2d_args, conv_transpose2d_args
from tinygrad_cnn.testing.reference import conv2d_ref, conv_transpose2d_ref

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


def _np(t):
    return None if t is None else t.numpy()


@given(conv2d_args(requires_grad=False))
def test_conv2d_matches_loop_reference(a):
    geo = conv_geometry("conv2d", a.input.shape, a.weight.shape, a.stride, a.padding, a.dilation, a.groups)
    expected = conv2d_ref(a.input.numpy(), a.weight.numpy(), _np(a.bias), geo.stride, geo.pads, geo.dilation, a.groups)
    out = F.conv2d(a.input, a.weight, a.bias, **a.kwargs())
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=40)
@given(conv2d_args())
def test_conv2d_of_batch_innermost_input_matches_nchw(a):
    # inside a network a conv's input usually arrives batch-innermost in memory (a pool's or a
    # conv's output); its windows are then shifted straight out of it rather than from a copy
    x = a.input.numpy()
    inner = Tensor(np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2), requires_grad=True)
    assert (x.shape[0] <= 1 or inner.numpy().strides[0] == inner.numpy().itemsize) and np.array_equal(inner.numpy(), x)
    w = Tensor(a.weight.numpy(), requires_grad=True)
    ref_w = Tensor(a.weight.numpy(), requires_grad=True)
    out, ref = F.conv2d(inner, w, None, **a.kwargs()), F.conv2d(Tensor(x), ref_w, None, **a.kwargs())
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)
    g = Tensor(np.random.default_rng(0).standard_normal(out.shape))
    out.backward(g)
    ref.backward(g)
    np.testing.assert_allclose(w.grad.numpy(), ref_w.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(conv_transpose2d_args(requires_grad=False))
def test_conv_transpose2d_matches_loop_reference(a):
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    expected = conv_transpose2d_ref(a.input.numpy(), a.weight.numpy(), _np(a.bias), pair(a.stride), pair(a.padding),
                                    pair(a.output_padding), a.groups, pair(a.dilation))
    out = F.conv_transpose2d(a.input, a.weight, a.bias, **a.kwargs())
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def _assert_matches_torch(out, ty, pairs, seed):
    """Our output equals PyTorch's, and after backpropagating one random gradient through both,
    so does the gradient of each (our tensor, torch tensor) pair."""
    np.testing.assert_allclose(out.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(seed).standard_normal(out.shape)
    ty.backward(torch.tensor(g))
    out.backward(Tensor(g))
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-11)


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # PyTorch's note about its own copy
@settings(max_examples=30)
@given(conv2d_args())
def test_conv2d_matches_torch_forward_and_backward(a):
    geo = conv_geometry("conv2d", a.input.shape, a.weight.shape, a.stride, a.padding, a.dilation, a.groups)
    kw = a.kwargs()
    if a.padding == "same" and geo.stride != (1, 1):
        kw["padding"] = 0  # PyTorch refuses 'same' at stride > 1: pad explicitly with TensorFlow's split
        pads = (geo.pads[2], geo.pads[3], geo.pads[0], geo.pads[1])
        tx = torch.nn.functional.pad(torch.tensor(a.input.numpy()), pads)
    else:
        tx = torch.tensor(a.input.numpy())
    tx.requires_grad_(True)
    tw = torch.tensor(a.weight.numpy(), requires_grad=True)
    tb = torch.tensor(a.bias.numpy(), requires_grad=True) if a.bias is not None else None
    ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    out = F.conv2d(a.input, a.weight, a.bias, **a.kwargs())
    pairs = [(a.weight, tw)] + ([(a.bias, tb)] if tb is not None else [])
    if kw["padding"] is a.padding:  # else torch's input is our input padded: its gradient differs in shape
        pairs.append((a.input, tx))
    _assert_matches_torch(out, ty, pairs, seed=0)


@needs_torch
@settings(max_examples=30)
@given(conv_transpose2d_args())
def test_conv_transpose2d_matches_torch(a):
    tx = torch.tensor(a.input.numpy(), requires_grad=True)
    tw = torch.tensor(a.weight.numpy(), requires_grad=True)
    tb = torch.tensor(a.bias.numpy()) if a.bias is not None else None
    ty = torch.nn.functional.conv_transpose2d(tx, tw, tb, **a.kwargs())
    out = F.conv_transpose2d(a.input, a.weight, a.bias, **a.kwargs())
    _assert_matches_torch(out, ty, [(a.input, tx), (a.weight, tw)], seed=1)


def test_float32_in_float32_out():
    x = Tensor(np.ones((2, 3, 8, 8), np.float32))
    w = Tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    out = F.conv2d(x, w, padding=1)
    assert out.dtype == np.float32
    out.sum().backward()
    assert w.grad.dtype == np.float32


def test_same_padding_stride_one_keeps_size_and_follows_pytorch_split():
    x = Tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    w = Tensor(np.ones((1, 1, 2, 2)))
    out = F.conv2d(x, w, padding="same")  # total padding 1: 0 before, 1 after (PyTorch)
    assert out.shape == (1, 1, 5, 5)
    assert out.numpy()[0, 0, 0, 0] == 0 + 1 + 5 + 6
    assert out.numpy()[0, 0, 4, 4] == 24


def test_same_padding_stride_two_uses_tensorflow_rule():
    x = Tensor(np.ones((1, 1, 7, 6)))
    w = Tensor(np.ones((1, 1, 3, 3)))
    out = F.conv2d(x, w, stride=2, padding="same")
    assert out.shape == (1, 1, 4, 3)  # ceil(7/2), ceil(6/2)
    # width 6, stride 2, kernel 3: total padding 1, all of it at the right
    assert out.numpy()[0, 0, 1, 0] == 9 and out.numpy()[0, 0, 1, 2] == 6


def test_unbatched_input():
    x = Tensor(np.ones((3, 5, 5)))
    assert F.conv2d(x, Tensor(np.ones((2, 3, 3, 3)))).shape == (2, 3, 3)
    assert F.conv_transpose2d(x, Tensor(np.ones((3, 2, 3, 3)))).shape == (2, 7, 7)


def test_depthwise():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 5, 5)))
    w = Tensor(np.random.default_rng(1).standard_normal((8, 1, 3, 3)))
    out = F.conv2d(x, w, groups=4)
    expected = conv2d_ref(x.numpy(), w.numpy(), None, (1, 1), (0, 0, 0, 0), (1, 1), 4)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)


X = Tensor(np.ones((2, 3, 8, 8)))
W = Tensor(np.ones((4, 3, 3, 3)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(weight=Tensor(np.ones((4, 2, 3, 3)))), r"input has 3 channels .*\(2, 3, 8, 8\).*\(4, 2, 3, 3\)"),
    (dict(weight=Tensor(np.ones((4, 1, 3, 3))), groups=2), r"input has 3 channels"),
    (dict(weight=Tensor(np.ones((3, 1, 3, 3))), groups=3, input=Tensor(np.ones((1, 3, 5, 5))), bias=None,
          stride=1), None),
    (dict(weight=Tensor(np.ones((5, 1, 3, 3))), groups=3), r"groups=3 must divide"),
    (dict(weight=Tensor(np.ones((4, 3, 9, 9)))), r"kernel .* larger than the padded input"),
    (dict(stride=0), r"stride must be >= 1"),
    (dict(stride=1.5), r"stride must be an int or a pair"),
    (dict(padding=-1), r"padding must be >= 0"),
    (dict(dilation=0), r"dilation must be >= 1"),
    (dict(padding="full"), r"padding must be an int, a pair, 'valid' or 'same'"),
    (dict(input=Tensor(np.ones((3, 8)))), r"input must be 4-D .* got shape \(3, 8\)"),
    (dict(weight=Tensor(np.ones((3, 3, 3)))), r"weight must be 4-D"),
    (dict(bias=Tensor(np.ones(3))), r"bias must have shape \(4,\)"),
])
def test_conv2d_bad_input(kwargs, match):
    args = dict(input=X, weight=W, bias=None)
    args.update(kwargs)
    if match is None:
        F.conv2d(**args)  # valid depthwise call: no error
        return
    with pytest.raises(ValueError, match=r"conv2d: " + match):
        F.conv2d(**args)


def test_conv_transpose2d_bad_input():
    x = Tensor(np.ones((1, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv_transpose2d: input has 2 channels"):
        F.conv_transpose2d(x, Tensor(np.ones((3, 1, 2, 2))))
    with pytest.raises(ValueError, match=r"output_padding .* smaller than stride or dilation"):
        F.conv_transpose2d(x, Tensor(np.ones((2, 1, 2, 2))), stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"conv_transpose2d: output size .* too small"):
        F.conv_transpose2d(Tensor(np.ones((1, 2, 1, 1))), Tensor(np.ones((2, 1, 1, 1))), padding=1)
    with pytest.raises(ValueError, match=r"groups=2 must divide"):
        F.conv_transpose2d(Tensor(np.ones((1, 3, 3, 3))), Tensor(np.ones((3, 1, 2, 2))), groups=2)


def test_conv_rejects_non_tensor_weight():
    with pytest.raises(TypeError, match="conv2d: weight must be a Tensor"):
        F.conv2d(X, np.ones((4, 3, 3, 3)))


@pytest.mark.parametrize("dilation", [1, (2, 1)])
@pytest.mark.parametrize("filters", [4, 6, 7, 13, 16, 20])
def test_conv2d_with_filter_counts_that_change_the_gemm(filters, dilation):
    # dilated rows take the im2col GEMMs: 4-7 filters (mod 8) there are padded with zero rows
    # (forward, weight gradient), 16 or more take a transposed weight-gradient GEMM; undilated
    # ones take the per-output-row GEMMs. The hypothesis strategies draw at most 2 filters per
    # group, so these paths are checked here
    rng = np.random.default_rng(filters)
    x = Tensor(rng.standard_normal((2, 3, 7, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((filters, 3, 3, 2)), requires_grad=True)
    b = Tensor(rng.standard_normal(filters), requires_grad=True)
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    conv = lambda x, w, b=None: F.conv2d(x, w, b, padding=(1, 0), dilation=dilation)  # noqa: E731
    expected = conv2d_ref(x.numpy(), w.numpy(), b.numpy(), (1, 1), (1, 1, 0, 0), d, 1)
    np.testing.assert_allclose(conv(x, w, b).numpy(), expected, rtol=1e-10, atol=1e-12)
    f32 = conv(Tensor(x.numpy().astype(np.float32)), Tensor(w.numpy().astype(np.float32)))
    np.testing.assert_allclose(f32.numpy(), expected - b.numpy().reshape(1, -1, 1, 1), rtol=1e-4, atol=1e-4)
    assert gradcheck(conv, (x, w, b))
    assert gradgradcheck(conv, (x, w))


@pytest.mark.parametrize("needs_grad", ["xwb", "wb", "xb", "xw"])
@pytest.mark.parametrize("stride, groups", [(1, 1), ((2, 1), 2)])
def test_conv2d_with_bias_inside_the_gemm(needs_grad, stride, groups):
    # with at least 16 window rows per input row (kw*Cg) the forward adds the bias through a row
    # of ones in its GEMM, and the weight gradient's GEMM sums the bias gradient; the strategies'
    # small kernels and channel counts stay below that, so the path is checked here, with each
    # mix of inputs that need a gradient (the bias gradient then comes from the weight
    # gradient's GEMM, or from the output gradient when the weight needs none)
    from tinygrad_cnn.ops.kernels import conv

    rng = np.random.default_rng(len(needs_grad))
    x = Tensor(rng.standard_normal((2, 8, 4, 5)), requires_grad="x" in needs_grad)
    w = Tensor(rng.standard_normal((4, 8 // groups, 3, 4)), requires_grad="w" in needs_grad)
    b = Tensor(rng.standard_normal(4), requires_grad="b" in needs_grad)
    assert conv.fuses_bias(4 * 8 // groups)
    kwargs = dict(stride=stride, padding=(1, 2), groups=groups)
    conv_fn = lambda x, w, b: F.conv2d(x, w, b, **kwargs)  # noqa: E731
    sh = (stride, stride) if isinstance(stride, int) else stride
    expected = conv2d_ref(x.numpy(), w.numpy(), b.numpy(), sh, (1, 1, 2, 2), (1, 1), groups)
    out = conv_fn(x, w, b)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(Tensor(g))
    if "b" in needs_grad:
        np.testing.assert_allclose(b.grad.numpy(), g.sum((0, 2, 3)), rtol=1e-10, atol=1e-12)
    assert (b.grad is None) == ("b" not in needs_grad) and (w.grad is None) == ("w" not in needs_grad)
    assert gradcheck(conv_fn, (x, w, b))
    assert gradgradcheck(conv_fn, (x, w, b))  # a recorded graph takes the bias gradient as an op
    f32 = conv_fn(*(Tensor(t.numpy().astype(np.float32)) for t in (x, w, b)))
    np.testing.assert_allclose(f32.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_conv2d_bias_without_gradient_gets_none():
    # the weight gradient's GEMM sums the bias gradient anyway; a bias that needs none gets none
    rng = np.random.default_rng(7)
    x, w = Tensor(rng.standard_normal((2, 8, 5, 5))), Tensor(rng.standard_normal((3, 8, 2, 2)), requires_grad=True)
    b = Tensor(rng.standard_normal(3))
    F.conv2d(x, w, b).sum().backward()
    assert w.grad is not None and b.grad is None


@pytest.mark.parametrize("rows_per_gemm", [1, 2, 3])
@pytest.mark.parametrize("height", [2, 5])
@pytest.mark.parametrize("kh", [1, 2, 3, 4, 5])
def test_stride_one_transpose_by_row_blocks_matches_reference(kh, height, rows_per_gemm, monkeypatch):
    # at stride 1 the transposed conv (conv2d's input gradient) runs one GEMM per block of input
    # rows, through a band of the kernel: the blocks inside the output in one batched call, the
    # edge blocks clipped to the output rows they meet (kernels taller than the input, height 2,
    # clip them on both sides; blocks taller than the rest of the image are cut short). Groups,
    # a column dilation and an output_padding past the padding (negative right pad) on top
    from tinygrad_cnn.ops.kernels import conv

    monkeypatch.setattr(conv, "rows_per_gemm", lambda kh: rows_per_gemm)
    rng = np.random.default_rng(kh)
    x = rng.standard_normal((2, 4, height, 6))
    w = rng.standard_normal((4, 3, kh, 3))
    kwargs = dict(stride=1, padding=(0, 1), output_padding=(0, 1), groups=2, dilation=(1, 2))
    expected = conv_transpose2d_ref(x, w, None, (1, 1), (0, 1), (0, 1), 2, (1, 2))
    out = F.conv_transpose2d(Tensor(x), Tensor(w), **kwargs)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    f32 = F.conv_transpose2d(Tensor(x.astype(np.float32)), Tensor(w.astype(np.float32)), **kwargs)
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32.numpy(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("stride", [1, 2])  # the stacked-rows kernel and the col2im fold
def test_input_gradient_lies_rows_outermost_as_pooling_gradients_do(monkeypatch, stride):
    # the input gradient is written rows outermost, (H, C, W, N), the layout of a conv's output and
    # hence of the max-pool's output and gradients below it: it is used without a copy (numpy runs an
    # elementwise op on operands of different layouts several times slower than on matching ones)
    from tinygrad_cnn.ops.kernels import pool
    from tinygrad_cnn.ops.kernels.layout import like_layout

    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((4, 3, 8, 8)), requires_grad=True)
    pooled = F.max_pool2d(F.conv2d(x, Tensor(rng.standard_normal((3, 3, 1, 1)))), 2)
    out = F.conv2d(pooled, Tensor(rng.standard_normal((5, 3, 3, 3))), padding=1, stride=stride)
    handed = []
    monkeypatch.setattr(pool, "like_layout", lambda a, ref: handed.append((a, ref)) or like_layout(a, ref))
    out.backward(Tensor(rng.standard_normal(out.shape)))
    ((gx, which),) = handed  # the one pooling layer's backward, given the conv's input gradient
    assert gx.shape == pooled.shape
    for a in (gx, which, pooled.numpy()):  # axes by stride, largest first: H, C, W, N
        assert sorted(range(4), key=lambda axis: -a.strides[axis]) == [2, 1, 3, 0]
    assert like_layout(gx, which) is gx  # taken as it lies, not copied


def test_lenet_at_batch_zero_gives_zero_gradients():
    """An empty batch runs forward and backward, every gradient zero (as PyTorch)."""
    model = tc.nn.LeNet5()
    out = model(tc.zeros(0, 1, 28, 28))
    assert out.shape == (0, 10)
    out.sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape and not p.grad.numpy().any(), name
