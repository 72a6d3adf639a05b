"""Forward values and bad input of the core ops (gradients: tests/test_ops_gradients.py)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.testing.strategies import broadcastable_shapes, shapes, tensors

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


@given(st.data())
def test_elementwise_forward_matches_numpy(data):
    shape = data.draw(shapes())
    a = data.draw(tensors(shape, requires_grad=False))
    b = data.draw(tensors(data.draw(broadcastable_shapes(shape)), requires_grad=False, min_magnitude=0.5))
    np.testing.assert_allclose((a + b).numpy(), a.numpy() + b.numpy())
    np.testing.assert_allclose((a - b).numpy(), a.numpy() - b.numpy())
    np.testing.assert_allclose((a * b).numpy(), a.numpy() * b.numpy())
    np.testing.assert_allclose((a / b).numpy(), a.numpy() / b.numpy())
    np.testing.assert_allclose(tc.maximum(a, b).numpy(), np.maximum(a.numpy(), b.numpy()))


def test_scalar_operands_keep_float32():
    x = Tensor([1.0, 2.0])
    for y in (x + 1, 2 * x, x / 3.0, 1 - x, x ** 2, 2.0 ** x, np.float64(2) * x):
        assert y.dtype == np.float32


def test_softmax_and_log_softmax_are_stable_for_large_logits():
    x = Tensor([[1e4, 0.0, -1e4]])
    assert np.isfinite(F.softmax(x, 1).numpy()).all()
    np.testing.assert_allclose(F.log_softmax(x, 1).numpy(), [[0.0, -1e4, -2e4]])
    np.testing.assert_allclose(F.softmax(Tensor([1.0, 2.0, 3.0]), 0).numpy().sum(), 1.0, rtol=1e-6)


def test_max_min_with_dim_return_values_and_indices_and_share_ties():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]  # ties share evenly
    assert x.min().item() == 0.0 and x.max(dim=0, keepdim=True).values.shape == (1, 3)


def test_getitem_repeated_indices_accumulate():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert y[1].tolist() == [3.0, 4.0, 5.0] and y[:, 1:].shape == (2, 2)
    y[Tensor(np.array([True, False]))].sum().backward()
    assert y.grad.tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]


def test_shape_ops():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.reshape(6, -1).shape == (6, 4) and x.view(4, 6).shape == (4, 6)
    assert Tensor(np.zeros((1, 3, 1))).squeeze().shape == (3,)
    assert Tensor(np.zeros((1, 3, 1))).squeeze(0).shape == (3, 1)
    assert tc.cat([x, x], dim=1).shape == (2, 6, 4)
    assert tc.stack([x, x], dim=0).shape == (2, 2, 3, 4)
    assert x.pad((1, 2)).shape == (2, 3, 7)
    assert tc.where(x > 10, x, 0.0).numpy().max() == 23.0


@pytest.mark.parametrize("a, b", [((2,), (2,)), ((3, 2), (2,)), ((2,), (2, 4)), ((3, 2), (2, 4)),
                                  ((5, 3, 2), (2, 4)), ((5, 1, 3, 2), (6, 2, 4))])
def test_matmul_shapes_match_numpy(a, b):
    x, y = np.ones(a), np.ones(b)
    assert (Tensor(x) @ Tensor(y)).shape == np.matmul(x, y).shape


def test_factories():
    assert tc.zeros(2, 3).shape == (2, 3) and tc.zeros((2, 3)).dtype == np.float32
    assert tc.ones(2).tolist() == [1.0, 1.0]
    assert tc.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert tc.arange(0, 1, 0.5).tolist() == [0.0, 0.5]
    assert tc.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert tc.zeros_like(tc.ones(3, dtype="float64")).dtype == np.float64
    tc.manual_seed(3)
    a = tc.randn(4)
    tc.manual_seed(3)
    assert a.tolist() == tc.randn(4).tolist()
    assert tc.rand(2, 2, requires_grad=True).requires_grad


@needs_torch
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(smoothing, reduction):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    t = np.array([0, 4, 2, -100, 1, 3])
    ours = F.cross_entropy(Tensor(x), Tensor(t), reduction=reduction, label_smoothing=smoothing)
    ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t), reduction=reduction,
                                            label_smoothing=smoothing)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10)


@needs_torch
def test_cross_entropy_with_spatial_dims_and_nll_match_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4))
    t = rng.integers(0, 3, (2, 4))
    ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(F.cross_entropy(Tensor(x), Tensor(t)).item(), ref.item(), rtol=1e-10)
    lp = torch.log_softmax(torch.tensor(x), 1)
    np.testing.assert_allclose(F.nll_loss(Tensor(lp.numpy()), Tensor(t)).item(),
                               torch.nn.functional.nll_loss(lp, torch.tensor(t)).item(), rtol=1e-10)


@needs_torch
def test_bce_losses_match_torch_and_are_stable():
    x = np.array([-200.0, -3.0, 0.0, 2.0, 150.0])
    t = np.array([1.0, 0.0, 1.0, 0.5, 0.0])
    ours = F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t), reduction="none")
    ref = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-10)
    p = np.array([0.0, 0.3, 1.0, 0.9])
    t2 = np.array([1.0, 0.0, 1.0, 0.2])
    ref2 = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(t2))
    np.testing.assert_allclose(F.binary_cross_entropy(Tensor(p), Tensor(t2)).item(), ref2.item(), rtol=1e-10)
    np.testing.assert_allclose(F.mse_loss(Tensor(p), Tensor(t2)).item(),
                               torch.nn.functional.mse_loss(torch.tensor(p), torch.tensor(t2)).item())


def test_leaky_relu_and_activations():
    x = Tensor([-2.0, 0.5])
    assert F.leaky_relu(x, 0.5).tolist() == [-1.0, 0.5]
    assert F.relu(x).tolist() == [0.0, 0.5]
    np.testing.assert_allclose(F.sigmoid(Tensor([-1000.0, 1000.0])).numpy(), [0.0, 1.0])
    assert x.clip(-1, 0).tolist() == [-1.0, 0.0]


def test_a_broadcast_operand_leaves_the_result_in_the_full_operands_layout():
    # a pooled gradient expanded back, times a batch-innermost mask: the product lies as the mask
    full = np.ascontiguousarray(np.random.default_rng(0).standard_normal((8, 4, 16, 32)).transpose(2, 1, 3, 0))
    x = Tensor(full.transpose(3, 1, 0, 2))  # (N, C, H, W) view of (H, C, W, N) memory
    for other in (Tensor(np.full((8, 4, 1, 1), 2.0)), Tensor(np.full((8, 4, 1, 1), 2.0)).expand(8, 4, 16, 32)):
        for out in (x * other, other * x, x + other, x - other, other / x):
            assert out.numpy().strides == x.numpy().strides
        np.testing.assert_array_equal((x * other).numpy(), x.numpy() * 2.0)
        np.testing.assert_array_equal((other - x).numpy(), 2.0 - x.numpy())


def test_relu_gradient_is_zero_only_where_the_input_is_not_positive():
    # PyTorch's rule (grad where not x <= 0): zero at 0 and below, passed on at NaN
    x = Tensor([np.nan, -1.0, 0.0, -0.0, 2.0], requires_grad=True)
    y = F.relu(x)
    y.backward(Tensor(np.full(5, 3.0, np.float32)))
    assert np.isnan(y.numpy()[0]) and y.numpy()[1:].tolist() == [0.0, 0.0, 0.0, 2.0]
    assert x.grad.tolist() == [3.0, 0.0, 0.0, 0.0, 3.0]
    if torch is not None:
        xt = torch.tensor(x.numpy(), requires_grad=True)
        torch.relu(xt).backward(torch.full((5,), 3.0))
        assert x.grad.tolist() == xt.grad.tolist()


# ------------------------------------------------------------------------------------ bad input
def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"mul: shapes"):
        Tensor(np.ones(2)) * Tensor(np.ones(3))


def test_matmul_mismatch():
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ: a \(2, 3\) has 3 columns, b \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"matmul: both operands need at least 1 dimension"):
        Tensor(np.ones(3)) @ Tensor(2.0)
    with pytest.raises(ValueError, match=r"matmul: batch dimensions"):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 4)))


def test_reshape_cat_stack_mismatch():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) "
                                         r"into shape \(4, 2\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(ValueError, match=r"cat: tensors\[1\] has shape \(2, 4\), which does not match "
                                         r"tensors\[0\] \(2, 3\)"):
        tc.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))], dim=0)
    with pytest.raises(ValueError, match=r"stack: tensors\[1\] has shape"):
        tc.stack([Tensor(np.ones(2)), Tensor(np.ones(3))])
    with pytest.raises(TypeError, match=r"cat: tensors\[0\] must be a Tensor"):
        tc.cat([np.ones(2)])


def test_bad_dim():
    x = Tensor(np.ones((2, 3)))
    for call in (lambda: x.sum(dim=2), lambda: x.softmax(dim=-3), lambda: x.max(dim=5), lambda: x.unsqueeze(4)):
        with pytest.raises(ValueError, match=r"dim .* out of range for a tensor of 2 dimensions"):
            call()
    with pytest.raises(IndexError):
        x.mean(dim=7)
    with pytest.raises(TypeError, match="sum: dim must be an int"):
        x.sum(dim=1.5)


def test_loss_bad_input():
    x = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"cross_entropy: target shape \(2,\) does not match input shape \(3, 4\)"):
        F.cross_entropy(x, tc.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: a float target holds class probabilities .* \(3, 4\), "
                                         r"got \(3,\) \(class indices must be integers\)"):
        F.cross_entropy(x, tc.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(IndexError, match=r"target 7 is out of bounds for 4 classes"):
        F.cross_entropy(x, tc.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match=r"reduction must be one of"):
        F.cross_entropy(x, tc.tensor([0, 1, 1]), reduction="avg")
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(3,\) must equal input shape \(3, 4\)"):
        F.mse_loss(x, Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input values must lie in \[0, 1\]"):
        F.binary_cross_entropy(Tensor([1.5]), Tensor([1.0]))


def test_ignore_index_excluded_from_mean():
    x = Tensor(np.log(np.array([[0.5, 0.5], [0.9, 0.1]])))
    loss = F.cross_entropy(x, tc.tensor([0, -100]))
    np.testing.assert_allclose(loss.item(), np.log(2), rtol=1e-6)


@pytest.mark.parametrize("dim, keepdim", [((0, 2, 3), False), ((0, 2, 3), True), ((2, 3), False), (0, False)])
def test_sum_of_a_batch_innermost_array_equals_numpy(dim, keepdim):
    # a conv's output is laid out batch-innermost; summing it over all but the channel axis takes
    # a matrix-vector fast path that must give numpy's numbers in numpy's shape
    data = np.random.default_rng(0).standard_normal((6, 9, 9, 128)).transpose(3, 0, 1, 2)
    got = Tensor(data).sum(dim, keepdim=keepdim)
    expected = data.sum(dim, keepdims=keepdim)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_empty_batch_means_are_nan_as_pytorch():
    """Means over nothing are NaN (PyTorch's result), not 0 and not an error: an empty batch's loss
    must not look like a perfect one."""
    import warnings

    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    empty = tc.tensor(np.zeros(0, np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(x.mean().item()) and np.isnan(x.mean(0).numpy()).all() and np.isnan(x.var(0).numpy()).all()
        assert np.isnan(F.cross_entropy(x, empty).item()) and np.isnan(F.mse_loss(x, x * 0).item())
        assert F.cross_entropy(x, empty, reduction="sum").item() == 0.0
        assert np.isnan(F.cross_entropy(Tensor([[1.0, 2.0]]), tc.tensor([-100])).item())  # every target ignored
        assert np.isnan(tc.tensor([1.0]).var().item()) and tc.tensor([1.0, 3.0]).var(correction=3).item() == np.inf
        F.cross_entropy(x, empty).backward()
    assert x.grad.shape == (0, 3)
