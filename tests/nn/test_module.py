"""Module: discovery, modes, state dicts, repr and summary."""
import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.scale = nn.Parameter(np.ones(1, np.float32))
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.conv(x) * self.scale)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.bn = nn.BatchNorm2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 3))

    def forward(self, x):
        return self.head(self.bn(self.block(x)))


def test_parameters_found_by_attribute_walk_in_order():
    # PyTorch's order: each module's own parameters, then its children's, depth first
    names = [n for n, _ in Net().named_parameters()]
    assert names == ["block.scale", "block.conv.weight", "block.conv.bias", "bn.weight", "bn.bias",
                     "head.1.weight", "head.1.bias"]
    assert len(list(Net().parameters())) == 7


def test_children_and_modules():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["block", "bn", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.conv", "block.drop", "bn", "head", "head.0",
                                                   "head.1"]


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2


def test_train_eval_propagate():
    net = Net().eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad():
    net = Net()
    net(Tensor(np.ones((2, 1, 4, 4), np.float32))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_is_bit_exact(tmp_path):
    tc.manual_seed(1)
    a = Net()
    a(Tensor(np.random.default_rng(0).standard_normal((4, 1, 4, 4)).astype(np.float32)))  # moves running stats
    tc.save(a.state_dict(), tmp_path / "net.npz")
    b = Net()
    b.load_state_dict(tc.load(tmp_path / "net.npz"))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and va.dtype == vb.dtype and np.array_equal(va, vb)
    assert "bn.running_mean" in a.state_dict() and "bn.num_batches_tracked" in a.state_dict()


def test_load_state_dict_errors():
    net = Net()
    state = net.state_dict()
    missing = dict(state)
    del missing["bn.weight"]
    with pytest.raises(nn.StateDictError, match=r"missing keys \['bn.weight'\]"):
        net.load_state_dict(missing)
    extra = dict(state, bogus=np.zeros(1))
    with pytest.raises(ValueError, match=r"unexpected keys \['bogus'\]"):
        net.load_state_dict(extra)
    assert net.load_state_dict(extra, strict=False).unexpected_keys == ["bogus"]
    bad = dict(state)
    bad["head.1.weight"] = np.zeros((3, 5))
    with pytest.raises(RuntimeError, match=r"size mismatch for head.1.weight: checkpoint has shape \(3, 5\), "
                                           r"the model has \(3, 32\)"):
        net.load_state_dict(bad)


def test_repr_and_summary():
    text = repr(nn.LeNet5())
    assert text.startswith("LeNet5(\n  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=1, padding=2)")
    assert "(fc3): Linear(in_features=84, out_features=10, bias=True)" in text
    summary = nn.LeNet5().summary((1, 1, 28, 28))
    assert "conv1" in summary and "(1, 6, 28, 28)" in summary and "(1, 10)" in summary
    assert "total params: 61,706" in summary


def test_module_without_super_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.x = 1

    with pytest.raises(RuntimeError, match="call super\\(\\).__init__\\(\\)"):
        Bad()


def test_ops_record_their_module():
    net = nn.LeNet5()
    out = net(Tensor(np.zeros((1, 1, 28, 28), np.float32)))
    assert out.grad_fn.module is net.fc3
