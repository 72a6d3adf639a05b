"""max_pool2d / avg_pool2d: forward against plain loops (and PyTorch), hand-made gradient cases
(masks, ties, overlap, ceil_mode overhang, count_include_pad, return_indices) and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops.geometry import pair
from tinygrad_cnn.testing.strategies import pool2d_args
from tinygrad_cnn.testing.reference import avg_pool2d_ref, max_pool2d_ref

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


def _resolved(a):
    k = pair(a.kernel_size, "t", "k", 1)
    s = pair(a.stride if a.stride is not None else a.kernel_size, "t", "s", 1)
    return k, s, pair(a.padding, "t", "p", 0)


@given(pool2d_args(kind="max", requires_grad=False))
def test_max_pool2d_matches_loop_reference(a):
    k, s, p = _resolved(a)
    values, idx = max_pool2d_ref(a.input.numpy(), k, s, p, pair(a.dilation, "t", "d", 1), a.ceil_mode)
    out, got_idx = F.max_pool2d(a.input, **a.kwargs(), return_indices=True)
    np.testing.assert_array_equal(out.numpy(), values)
    np.testing.assert_array_equal(got_idx.numpy(), idx)


@given(pool2d_args(kind="avg", requires_grad=False))
def test_avg_pool2d_matches_loop_reference(a):
    k, s, p = _resolved(a)
    expected = avg_pool2d_ref(a.input.numpy(), k, s, p, a.ceil_mode, a.count_include_pad, a.divisor_override)
    np.testing.assert_allclose(F.avg_pool2d(a.input, **a.kwargs()).numpy(), expected, rtol=1e-12, atol=1e-14)


@needs_torch
@settings(max_examples=40)
@given(pool2d_args(kind="max"))
def test_max_pool2d_matches_torch(a):
    tx = torch.tensor(a.input.numpy(), requires_grad=True)
    ty, tidx = torch.nn.functional.max_pool2d(tx, **a.kwargs(), return_indices=True)
    out, idx = F.max_pool2d(a.input, **a.kwargs(), return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ty.detach().numpy())
    real = np.isfinite(out.numpy())  # PyTorch's index for an all-padding window is arbitrary
    np.testing.assert_array_equal(idx.numpy()[real], tidx.numpy()[real])
    if not real.all():
        return  # PyTorch sends an all-padding window's gradient to that arbitrary index; we drop it
    g = np.random.default_rng(0).standard_normal(out.shape)
    ty.backward(torch.tensor(g))
    out.backward(Tensor(g))
    np.testing.assert_allclose(a.input.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@needs_torch
@settings(max_examples=40)
@given(pool2d_args(kind="avg"))
def test_avg_pool2d_matches_torch(a):
    tx = torch.tensor(a.input.numpy(), requires_grad=True)
    ty = torch.nn.functional.avg_pool2d(tx, **a.kwargs())
    out = F.avg_pool2d(a.input, **a.kwargs())
    np.testing.assert_allclose(out.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(0).standard_normal(out.shape)
    ty.backward(torch.tensor(g))
    out.backward(Tensor(g))
    np.testing.assert_allclose(a.input.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_max_pool_2x2_mask_and_gradient():
    x = Tensor([[[[1.0, 2.0, 5.0, 0.0],
                  [4.0, 3.0, 1.0, 6.0],
                  [0.0, 0.0, 7.0, 8.0],
                  [9.0, 1.0, 2.0, 3.0]]]], requires_grad=True)
    out = F.max_pool2d(x, 2)
    assert out.tolist() == [[[[4.0, 6.0], [9.0, 8.0]]]]
    out.backward(Tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    assert x.grad.tolist() == [[[[0, 0, 0, 0], [1, 0, 0, 2], [0, 0, 0, 4], [3, 0, 0, 0]]]]


def test_max_pool_ties_first_element_takes_all_gradient():
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    out.sum().backward()
    assert idx.item() == 0
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]
    assert x.grad.sum().item() == out.numel()  # gradient mass is conserved


def test_max_pool_overlapping_windows_accumulate():
    x = Tensor([[[[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]], requires_grad=True)
    out = F.max_pool2d(x, 2, stride=1)  # all four windows share the centre
    assert out.tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]
    out.sum().backward()
    assert x.grad.numpy()[0, 0, 1, 1] == 4.0 and x.grad.sum().item() == 4.0


def test_max_pool_tied_overlapping_windows_conserve_mass():
    x = Tensor(np.zeros((1, 1, 4, 4)), requires_grad=True)
    out = F.max_pool2d(x, 3, stride=1, padding=1)
    out.sum().backward()
    assert x.grad.sum().item() == out.numel()


def test_ceil_mode_window_hanging_over_the_edge():
    x = Tensor(np.arange(25.0).reshape(1, 1, 5, 5), requires_grad=True)
    out = F.max_pool2d(x, 2, ceil_mode=True)
    assert out.shape == (1, 1, 3, 3)
    assert out.numpy()[0, 0, 2, 2] == 24.0  # the last window holds one real element
    out.sum().backward()
    assert x.grad.numpy()[0, 0, 4, 4] == 1.0
    avg = F.avg_pool2d(x, 2, ceil_mode=True)
    assert avg.numpy()[0, 0, 2, 2] == 24.0  # divided by 1: the overhang is not counted


def test_ceil_mode_drops_window_starting_in_right_padding():
    # PyTorch's rule: 5 + 2*1 - 3 = 4 -> ceil(4/2) + 1 = 3, and the 3rd window starts at 3 < 5 + 1: kept
    assert F.max_pool2d(Tensor(np.ones((1, 1, 5, 5))), 3, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    # 6 + 0 - 2 = 4 -> ceil(4/3) + 1 = 3, but the 3rd window would start at 6 >= 6: dropped
    assert F.max_pool2d(Tensor(np.ones((1, 1, 6, 6))), 2, 3, ceil_mode=True).shape == (1, 1, 2, 2)


def test_avg_count_include_pad_both_ways():
    x = Tensor(np.ones((1, 1, 2, 2)))
    with_pad = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=True)
    without = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    np.testing.assert_allclose(with_pad.numpy(), 4 / 9)
    np.testing.assert_allclose(without.numpy(), 1.0)
    assert F.avg_pool2d(x, 2, divisor_override=1).item() == 4.0


def test_return_indices_are_flat_per_plane():
    x = Tensor(np.arange(32.0).reshape(1, 2, 4, 4))
    _, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.tolist() == [[[[5, 7], [13, 15]], [[5, 7], [13, 15]]]]
    assert idx.dtype == np.int64


def test_unbatched_pooling():
    x = Tensor(np.ones((3, 4, 4)))
    assert F.max_pool2d(x, 2).shape == (3, 2, 2)
    assert F.avg_pool2d(x, 2).shape == (3, 2, 2)


@pytest.mark.parametrize("fn", [F.max_pool2d, F.avg_pool2d])
@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel_size=2, padding=2), r"padding 2 must be at most half the kernel size"),
    (dict(kernel_size=0), r"kernel_size must be >= 1"),
    (dict(kernel_size=2, stride=-1), r"stride must be >= 1"),
    (dict(kernel_size=2, stride=1.5), r"stride must be an int or a pair"),
    (dict(kernel_size=9), r"output size .* too small"),
])
def test_pool_bad_input(fn, kwargs, match):
    with pytest.raises(ValueError, match=fn.__name__ + ": " + match):
        fn(Tensor(np.ones((1, 1, 4, 4))), **kwargs)


def test_pool_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"max_pool2d: input must be 4-D .* got shape \(4, 4\)"):
        F.max_pool2d(Tensor(np.ones((4, 4))), 2)


def test_dilated_window_wholly_in_padding_is_minus_inf_with_index_minus_one():
    x = Tensor(np.array([[[[-0.5]]]]), requires_grad=True)
    out, idx = F.max_pool2d(x, (1, 2), padding=(0, 1), dilation=(1, 2), return_indices=True)
    assert out.tolist() == [[[[-np.inf]]]] and idx.tolist() == [[[[-1]]]]
    out.backward(Tensor(np.ones(out.shape)))
    assert x.grad.tolist() == [[[[0.0]]]]


@pytest.mark.parametrize("overlap", [False, True])
def test_max_pool_gradient_same_for_any_memory_layout(overlap):
    # after a conv the pooled input is batch-innermost, while a flatten's backward hands NCHW
    # gradients back: every mix of layouts must give the same numbers
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((3, 2, 6, 6))
    g_np = rng.standard_normal((3, 2, 3, 3) if not overlap else (3, 2, 5, 5))
    kwargs = dict(kernel_size=2) if not overlap else dict(kernel_size=2, stride=1)
    grads = []
    for x_layout in (x_np, np.ascontiguousarray(x_np.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)):
        for g_layout in (g_np, np.ascontiguousarray(g_np.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)):
            x = Tensor(x_layout, requires_grad=True)
            F.max_pool2d(x, **kwargs).backward(Tensor(g_layout))
            grads.append(x.grad.numpy())
    for got in grads[1:]:
        np.testing.assert_array_equal(got, grads[0])


@pytest.mark.parametrize("fn, kwargs", [(F.max_pool2d, dict(kernel_size=2)),
                                        (F.max_pool2d, dict(kernel_size=3, stride=1, padding=1)),
                                        (F.avg_pool2d, dict(kernel_size=2)),
                                        (F.avg_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True))])
def test_pooling_a_wide_batch_equals_pooling_each_image(fn, kwargs):
    # a batch much wider than a row is pooled in the batch-innermost layout; one image never is
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((16, 2, 5, 5))
    x = Tensor(x_np, requires_grad=True)
    out = fn(x, **kwargs)
    g_np = rng.standard_normal(out.shape)
    out.backward(Tensor(g_np))
    for i in range(16):
        xi = Tensor(x_np[i:i + 1], requires_grad=True)
        oi = fn(xi, **kwargs)
        oi.backward(Tensor(g_np[i:i + 1]))
        np.testing.assert_allclose(out.numpy()[i:i + 1], oi.numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy()[i:i + 1], xi.grad.numpy(), rtol=1e-12)
