"""The backward engine: owned gradients, graphs freed without the cycle collector, and PyTorch's
copy and dtype rules for what users build tensors from."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None

LIBS = [tc] + ([torch] if torch is not None else [])


def _np(t):
    return t.detach().numpy() if torch is not None and isinstance(t, torch.Tensor) else t.numpy()


# ---- gradients own their memory

@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_gradients_of_a_sum_do_not_share_memory(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    assert _np(b.grad).tolist() == [1.0, 1.0]
    assert not np.shares_memory(_np(a.grad), _np(b.grad))


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_backward_gradient_argument_is_not_aliased(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    g = lib.tensor([1.0, 1.0])
    x.backward(g)
    g.mul_(5)
    assert _np(x.grad).tolist() == [1.0, 1.0]


def test_gradients_do_not_share_memory_through_views_or_create_graph():
    a = tc.tensor([[1.0, 2.0]], requires_grad=True)
    b = tc.tensor([3.0, 4.0], requires_grad=True)
    (a.reshape(2) + b).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad = b.grad = None
    (a.reshape(2) + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad and not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    ga, gb = tc.grad((a.reshape(2) + b).sum(), [a, b])
    assert not np.shares_memory(ga.numpy(), gb.numpy())


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_gradients_can_be_changed_in_place(lib):
    """p.grad.zero_() in a hand-written loop: the gradient of a sum is a broadcast of ones, which
    must still come as an array the user may write into."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.sum().backward()
    x.grad.zero_()
    x.grad += 3
    assert _np(x.grad).tolist() == [3.0, 3.0]


@pytest.mark.parametrize("lib", LIBS)
def test_accumulated_gradient_is_added_into_the_same_tensor(lib):
    """As PyTorch: a reference kept to .grad sees the next backward's sum (with create_graph a new
    tensor, which is a graph's result)."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x * 2).sum().backward()
    assert x.grad is first and _np(first).tolist() == [4.0, 4.0]
    (x * x).sum().backward(create_graph=True)
    assert x.grad is not first and _np(x.grad).tolist() == [6.0, 8.0]


# ---- graphs are freed without the cycle collector

@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "sqrt", "softmax", "log_softmax", "pow"])
def test_ops_that_keep_their_output_make_no_cycle(op):
    gc.collect()
    gc.disable()
    try:
        x = tc.tensor([1.0, 2.0], requires_grad=True)
        y = getattr(tc.Tensor, op)(x) if op != "pow" else x ** tc.tensor([2.0, 3.0], requires_grad=True)
        node = weakref.ref(y.grad_fn)
        out = weakref.ref(y)
        del y
        assert out() is None and node() is None
    finally:
        gc.enable()


def test_forward_only_loop_keeps_memory_flat_without_gc():
    """A forward-only LeNet loop (inference without no_grad) frees each graph as soon as its output goes."""
    tc.manual_seed(0)
    model = nn.LeNet5()
    x = tc.randn(200, 1, 28, 28)
    y = tc.tensor(np.arange(200) % 10)
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        F.cross_entropy(model(x), y)  # warm up caches
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(8):
            loss = F.cross_entropy(model(x), y)
            assert loss.requires_grad
        del loss
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    one_graph = peak - base
    assert current - base < 0.1 * one_graph  # nothing of the eight graphs is left
    assert peak - base < 2.5 * one_graph / 2 + 1  # at most about two graphs alive at once (old and new)


# ---- copies and dtypes, as PyTorch

@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_tensor_copies_and_from_numpy_shares(lib):
    a = np.ones(3, np.float32)
    t, s, v = lib.tensor(a), lib.from_numpy(a), lib.as_tensor(a)
    a[0] = 5
    assert _np(t).tolist() == [1.0, 1.0, 1.0]
    assert _np(s).tolist() == [5.0, 1.0, 1.0] and _np(v).tolist() == [5.0, 1.0, 1.0]


def test_tensor_of_an_array_does_not_change_the_gradient_later():
    a = np.array([1.0, 2.0], np.float32)
    x = tc.tensor(a, requires_grad=True)
    (x * x).sum().backward(retain_graph=True)
    a[:] = 10.0
    x.grad = None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_constructor_dtypes(lib):
    assert str(lib.Tensor([1, 2, 3]).dtype).endswith("float32")
    assert str(lib.tensor([1, 2, 3]).dtype).endswith("int64")
    assert str(lib.tensor([1.0, 2.0]).dtype).endswith("float32")
    assert str(lib.tensor([True, False]).dtype).endswith("bool")
    assert str(lib.tensor(np.zeros(2)).dtype).endswith("float64")


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_counting_correct_predictions(lib):
    pred, target = lib.tensor([1, 2, 3, 4]), lib.tensor([1, 0, 3, 4])
    correct = (pred == target).sum()
    assert str(correct.dtype).endswith("int64") and correct.item() == 3
    assert (lib.tensor([1, 2], dtype=lib.int32).sum().item()) == 3
    assert str(lib.tensor([1, 2], dtype=lib.int32).sum().dtype).endswith("int64")
    with pytest.raises(RuntimeError, match="dtype"):
        lib.tensor([1, 2]).mean()
    assert (pred == target).float().mean().item() == 0.75


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_mixed_dtype_promotion(lib):
    f32, f64, i64 = lib.ones(3), lib.ones(3, dtype=lib.float64), lib.tensor([1, 2, 3])
    assert str((f32 + i64).dtype).endswith("float32")
    assert str((i64 * f32).dtype).endswith("float32")
    assert str((f32 + f64).dtype).endswith("float64")
    assert str((f32 + lib.tensor(1.0, dtype=lib.float64)).dtype).endswith("float32")  # 0-d loses to dimensioned
    assert str((i64 + lib.tensor(1.5, dtype=lib.float64)).dtype).endswith("float64")  # higher category wins
    assert str((i64 + 1.5).dtype).endswith("float32")
    assert str((i64 + 1).dtype).endswith("int64")
    np.testing.assert_allclose(_np(f32 - i64), [0.0, -1.0, -2.0])


@pytest.mark.parametrize("lib", LIBS, ids=lambda m: m.__name__)
def test_loss_of_float32_against_int_targets_is_float32(lib):
    x = lib.tensor([1.0, 2.0, 4.0], requires_grad=True)
    t = lib.tensor([1, 2, 3])
    loss = (lib.nn.functional if lib is torch else F).mse_loss(x, t)
    assert str(loss.dtype).endswith("float32")
    assert abs(loss.item() - 1 / 3) < 1e-6
    loss.backward()
    assert str(x.grad.dtype).endswith("float32")


def test_tensor_class_keeps_ndarray_dtype_and_memory():
    arr = np.zeros(3, np.float64)
    t = Tensor(arr)
    assert t.numpy() is arr and t.dtype == np.float64
