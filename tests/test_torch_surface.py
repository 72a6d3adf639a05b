"""PyTorch's tensor, module and function surface, checked by hand-computed values (the compat
corpus, tests/compat, compares the same features with PyTorch itself when it is installed)."""
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn


def test_sizes_and_shapes():
    x = tc.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.numel() == 24 and x.dim() == 3
    assert x.view(x.size(0), -1).shape == (2, 12)
    with pytest.raises(IndexError, match="size: dim 3 is out of range"):
        x.size(3)


def test_norms_by_hand():
    x = Tensor([[3.0, -4.0], [0.0, 1.0]])
    assert x.norm().item() == pytest.approx(26 ** 0.5)
    assert x.norm(p=1).item() == 8.0
    assert x.norm(dim=1).tolist() == pytest.approx([5.0, 1.0])
    assert x.norm(p=float("inf")).item() == 4.0
    assert x.norm(p=3, dim=0).tolist() == pytest.approx([3.0, (64 + 1) ** (1 / 3)])
    v = Tensor([3.0, 4.0], requires_grad=True)
    v.norm().backward()
    assert v.grad.tolist() == pytest.approx([0.6, 0.8])


def test_to_device_and_dtype():
    x = Tensor([1.5])
    assert x.to("cpu") is x and x.to(tc.device("cpu")) is x and x.cpu() is x
    assert x.to(tc.float64).dtype == np.float64 and x.to("cpu", tc.float64).dtype == np.float64
    assert x.to(dtype=tc.int64).tolist() == [1] and x.to(Tensor(np.zeros(1))).dtype == np.float64
    assert x.to(copy=True) is not x
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="not available"):
        x.cuda()
    assert x.device == tc.device("cpu") and str(x.device) == "cpu" and not tc.cuda.is_available()
    assert x.type() == "tinygrad_cnn.FloatTensor" and x.long().type() == "tinygrad_cnn.LongTensor"


def test_set_grad_enabled_as_a_call_and_a_block():
    x = Tensor([1.0], requires_grad=True)
    tc.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        tc.set_grad_enabled(True)
    assert (x * 2).requires_grad and tc.is_grad_enabled()


def test_module_level_functions():
    x = Tensor([[1.0, 5.0], [7.0, 2.0]])
    values, indices = tc.max(x, 1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert tc.max(x, x * 0 + 3).tolist() == [[3.0, 5.0], [7.0, 3.0]]
    assert tc.sum(x).item() == 15.0 and tc.flatten(x).shape == (4,) and tc.argmax(x).item() == 2
    assert tc.add(x, x, alpha=2).tolist() == [[3.0, 15.0], [21.0, 6.0]]


def test_module_methods():
    order = []
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    model.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "ReLU", "Sequential", "Sequential"]  # children first, as PyTorch
    lin = nn.Linear(2, 1)
    handle = lin.register_forward_hook(lambda m, inp, out: out * 0)
    assert lin(tc.ones(1, 2)).tolist() == [[0.0]]  # a hook's return replaces the output
    handle.remove()
    assert lin(tc.ones(1, 2)).tolist() != [[0.0]]
    lin.register_parameter("extra", nn.Parameter(np.zeros(3, np.float32)))
    assert "extra" in dict(lin.named_parameters())
    w = lin.weight
    lin.to(tc.float64)
    assert lin.weight is w and w.dtype == np.float64


def test_loss_modules_by_hand():
    x, t = Tensor([1.0, -3.0]), Tensor([0.0, 0.0])
    assert nn.L1Loss()(x, t).item() == 2.0
    assert nn.SmoothL1Loss()(Tensor([0.5, 3.0]), t).item() == pytest.approx((0.125 + 2.5) / 2)
    assert nn.MSELoss(reduction="sum")(x, t).item() == 10.0
    # class weights by hand: -w[y] logp[y], the mean divided by the sum of the targets' weights
    logp = Tensor(np.log([[0.5, 0.5], [0.25, 0.75]]))
    y = tc.tensor([0, 1])
    expected = (2.0 * np.log(2) + 1.0 * -np.log(0.75)) / 3.0
    assert nn.NLLLoss(weight=Tensor([2.0, 1.0]))(logp, y).item() == pytest.approx(expected)
    with pytest.raises(NotImplementedError, match="size_average and reduce are deprecated"):
        tc.nn.functional.nll_loss(logp, y, size_average=True)


def test_clip_grad_norm_by_hand():
    a, b = Tensor([3.0], requires_grad=True), Tensor([4.0], requires_grad=True)
    a.grad, b.grad = Tensor([3.0]), Tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert total.item() == pytest.approx(5.0)
    assert a.grad.item() == pytest.approx(0.6, rel=1e-5) and b.grad.item() == pytest.approx(0.8, rel=1e-5)
