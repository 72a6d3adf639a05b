"""Regression tests for the silent differences from PyTorch found by hand (issue 29): each checked
against hand values or numpy (always) and against PyTorch (when installed)."""
import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import nn

from .generators import torch

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the oracle")


# ---- gradients that were NaN where PyTorch's are finite
def _bce_grad(lib, fn, logits, target):
    x = lib.tensor(logits, requires_grad=True)
    fn(x.sigmoid(), lib.tensor(target)).backward()
    return x.grad.detach().numpy() if lib is torch else x.grad.numpy()


def test_bce_of_a_saturated_sigmoid_has_pytorch_gradient():
    # p rounds to 1 in float32: PyTorch's (p - t) / max(p (1 - p), 1e-12) gives 0 for t = 1
    g = _bce_grad(tc, F.binary_cross_entropy, [20.0, -20.0, 0.0], [1.0, 0.0, 1.0])
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [0.0, 0.0, -0.5 / 3], atol=1e-7)
    loss = nn.BCELoss()
    x = tc.tensor([30.0], requires_grad=True)
    loss(x.sigmoid(), tc.tensor([1.0])).backward()
    assert x.grad.tolist() == [0.0]


@needs_torch
def test_bce_gradients_match_torch_at_the_clipping_points():
    logits = [20.0, -20.0, 10.0, -17.0, 0.5, 40.0]
    for target in ([1.0, 0.0, 1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.5, 0.5, 0.0, 1.0]):
        ours = _bce_grad(tc, F.binary_cross_entropy, logits, target)
        theirs = _bce_grad(torch, torch.nn.functional.binary_cross_entropy, logits, target)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("p", [2, 3, 1.5, 0.5])
def test_norm_of_zeros_has_zero_gradient(p):
    x = tc.zeros(3, requires_grad=True)
    x.norm(p).backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("p", [2, 3, 1.5])
def test_norm_gradient_with_a_zero_element_by_hand(p):
    v = np.array([0.0, 1.0, -2.0])
    x = tc.tensor(v, requires_grad=True)
    x.norm(p).backward()
    n = np.sum(np.abs(v) ** p) ** (1 / p)
    np.testing.assert_allclose(x.grad.numpy(), np.sign(v) * np.abs(v) ** (p - 1) / n ** (p - 1), rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("p", [2, 3, 1.5, 0.5])
def test_norm_gradients_match_torch(p):
    for v in ([0.0, 0.0], [0.0, 1.0, -2.0], [[3.0, 0.0], [0.0, 0.0]]):
        x, xt = tc.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        x.norm(p, dim=-1).sum().backward()
        xt.norm(p, dim=-1).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_power_gradients_at_zero_by_hand():
    x = tc.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    a = tc.tensor([0.0, 2.0, 0.0], requires_grad=True)
    e = tc.tensor([2.0, 0.5, 0.0], requires_grad=True)
    (a ** e).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.0, 0.5 / np.sqrt(2), 0.0], rtol=1e-6)
    np.testing.assert_allclose(e.grad.numpy(), [0.0, np.sqrt(2) * np.log(2), 0.0], rtol=1e-6)


@needs_torch
def test_power_gradients_at_zero_match_torch():
    for base, exp in (([0.0, 2.0, 0.0, -1.0], [2.0, 0.5, 0.0, 0.0]), ([0.0, 0.0], [1.0, 3.0])):
        a, e = tc.tensor(base, requires_grad=True), tc.tensor(exp, requires_grad=True)
        at, et = torch.tensor(base, requires_grad=True), torch.tensor(exp, requires_grad=True)
        (a ** e).sum().backward()
        (at ** et).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-6)
        np.testing.assert_allclose(e.grad.numpy(), et.grad.numpy(), rtol=1e-6)


def test_lenet_with_a_bce_head_and_a_norm_regulariser_stays_finite_on_saturated_inputs():
    tc.manual_seed(0)
    model = nn.Sequential(nn.LeNet5(num_classes=1), nn.Sigmoid())
    opt = tc.optim.SGD(model.parameters(), lr=0.05)
    images = tc.tensor(np.full((4, 1, 28, 28), 50.0, np.float32))  # drives the sigmoid to exactly 0 or 1
    target = tc.tensor([[1.0], [0.0], [1.0], [0.0]])
    for _ in range(100):
        opt.zero_grad()
        reg = sum(p.norm() for p in model.parameters())
        loss = F.binary_cross_entropy(model(images), target) + 1e-3 * reg
        loss.backward()
        for p in model.parameters():
            assert np.all(np.isfinite(p.grad.numpy()))
        opt.step()
    assert all(np.all(np.isfinite(p.numpy())) for p in model.parameters())


# ---- .data is PyTorch's: a detached Tensor sharing memory, writes unchecked
def test_data_is_a_detached_tensor_sharing_memory():
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    d = w.data
    assert isinstance(d, tc.Tensor) and not d.requires_grad and d.grad_fn is None
    d.mul_(10)
    assert w.tolist() == [10.0, 20.0]
    assert w.numpy() is w.data.numpy() or np.shares_memory(w.numpy(), w.data.numpy())


def test_writes_through_data_are_not_version_checked():
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.data.add_(1.0)  # PyTorch's escape hatch: backward uses the new values without an error
    y.backward()
    assert w.grad.tolist() == [4.0, 6.0]
    w2 = tc.tensor([1.0, 2.0], requires_grad=True)
    y2 = (w2 * w2).sum()
    with tc.no_grad():
        w2.add_(1.0)  # through the tensor itself it is checked
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.backward()


def test_data_assignment_swaps_values_and_keeps_the_object():
    p = nn.Parameter(tc.ones(2))
    p.data = tc.tensor([3.0, 4.0])
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.tolist() == [3.0, 4.0]
    with pytest.raises(TypeError, match="Tensor.data"):
        p.data = np.zeros(2)


def test_the_snippets_that_failed_on_data_run():
    tc.manual_seed(0)
    m = nn.Conv2d(3, 4, 3)
    m.weight.data.normal_(0.0, 0.02)
    assert float(m.weight.std()) < 0.05
    outputs = tc.tensor([[0.1, 0.9], [0.8, 0.2]], requires_grad=True) * 1
    _, predicted = tc.max(outputs.data, 1)
    assert predicted.tolist() == [1, 0]
    param = tc.tensor([1.0, 2.0], requires_grad=True)
    (param * 3).sum().backward()
    param.data.sub_(0.1 * param.grad / 2)
    np.testing.assert_allclose(param.numpy(), [0.85, 1.85], rtol=1e-6)
    a = param.data.cpu().numpy()
    assert isinstance(a, np.ndarray) and np.shares_memory(a, param.numpy())


# ---- .grad keeps its identity; version counters shared
def test_grad_accumulates_into_the_same_tensor_and_zero_grad_keeps_it():
    w = nn.Parameter(tc.ones(3))
    (w * 2).sum().backward()
    g = w.grad
    (w * 3).sum().backward()
    assert w.grad is g and g.tolist() == [5.0, 5.0, 5.0]
    opt = tc.optim.SGD([w], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and g.tolist() == [0.0, 0.0, 0.0]
    lin = nn.Linear(2, 1)
    lin(tc.ones(1, 2)).sum().backward()
    gw = lin.weight.grad
    lin.zero_grad(set_to_none=False)
    assert lin.weight.grad is gw and gw.tolist() == [[0.0, 0.0]]


@needs_torch
def test_grad_identity_matches_torch():
    for lib in (tc, torch):
        w = lib.ones(3, requires_grad=True)
        (w * 2).sum().backward()
        g = w.grad
        (w * 3).sum().backward()
        assert (w.grad is g) and g.tolist() == [5.0, 5.0, 5.0], lib


def test_tensors_and_parameters_made_from_a_tensor_share_its_version():
    t = tc.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    y = (p * p).sum()
    t.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    u = tc.Tensor(t)
    assert u._version == t._version


# ---- signatures and modes
def test_var_and_std_read_torch_signatures():
    x = tc.tensor([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    v = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    np.testing.assert_allclose(x.var(0, False).numpy(), v.var(0), rtol=1e-6)
    np.testing.assert_allclose(x.var(1, True, True).numpy(), v.var(1, ddof=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(x.var(False).numpy(), v.var(), rtol=1e-6)
    np.testing.assert_allclose(x.std(1).numpy(), v.std(1, ddof=1), rtol=1e-6)
    np.testing.assert_allclose(x.std(1, correction=0).numpy(), v.std(1), rtol=1e-6)
    with pytest.raises(TypeError, match="unbiased"):
        x.var(0, 1)


def test_set_grad_enabled_as_a_decorator_changes_nothing_until_called():
    @tc.set_grad_enabled(False)
    def f(x):
        return (x * 2).requires_grad

    assert tc.is_grad_enabled()
    assert f(tc.ones(1, requires_grad=True)) is False
    assert tc.is_grad_enabled()


# ---- data
def test_default_collate_keeps_floats_among_ints():
    from tinygrad_cnn.utils.data import default_collate

    out = default_collate([1, 2.5, 3])
    assert out.dtype == np.float32 and out.tolist() == [1.0, 2.5, 3.0]
    assert default_collate([1, 2]).dtype == np.int64 and default_collate([1.5, 2.0]).dtype == np.float64


@needs_torch
def test_default_collate_matches_torch():
    from torch.utils.data import default_collate as theirs

    from tinygrad_cnn.utils.data import default_collate as ours

    for items in ([1, 2.5, 3], [1, 2], [1.5, 2.0], [True, False]):
        a, b = ours(items), theirs(items)
        assert str(a.dtype) == str(b.dtype).replace("torch.", "") and a.tolist() == b.tolist(), items


def test_shuffled_loader_is_repeated_by_manual_seed_and_drop_last_shuffles_everything():
    from tinygrad_cnn.utils.data import DataLoader, TensorDataset

    ds = TensorDataset(tc.tensor(np.arange(10)))

    def epoch():
        return [b[0].tolist() for b in DataLoader(ds, batch_size=3, shuffle=True, drop_last=True)]

    tc.manual_seed(3)
    first = epoch()
    tc.manual_seed(3)
    assert epoch() == first
    seen = set()
    for _ in range(30):  # every item is drawn into a kept batch sooner or later: the whole set is shuffled
        seen.update(i for batch in epoch() for i in batch)
    assert seen == set(range(10))


def test_subset_and_random_split_are_torchs():
    from tinygrad_cnn.utils.data import Subset, TensorDataset, random_split

    ds = TensorDataset(tc.tensor(np.arange(10.0)), tc.tensor(np.arange(10)))
    s = Subset(ds, range(2, 5))
    assert len(s) == 3 and s[0][1].item() == 2 and s.indices == range(2, 5)
    assert Subset(ds, [7, 1])[1][1].item() == 1
    with pytest.raises(TypeError, match="range"):
        Subset(ds, 3)
    tc.manual_seed(0)
    a, b = random_split(ds, [7, 3])
    assert len(a) == 7 and len(b) == 3 and sorted(list(a.indices) + list(b.indices)) == list(range(10))
    assert [len(p) for p in random_split(range(10), [0.5, 0.25, 0.25])] == [6, 2, 2]  # remainder round-robin
    with pytest.raises(ValueError, match="sum of input lengths"):
        random_split(ds, [3, 3])
    batches = list(tc.utils.data.DataLoader(s, batch_size=2))
    assert [x[1].tolist() for x in batches] == [[2, 3], [4]]


@needs_torch
def test_random_split_lengths_match_torch():
    from torch.utils.data import random_split as theirs

    from tinygrad_cnn.utils.data import random_split as ours

    for n, lengths in ((10, [0.5, 0.25, 0.25]), (7, [0.3, 0.7]), (11, [0.1, 0.2, 0.3, 0.4]), (5, [2, 3])):
        assert [len(s) for s in ours(range(n), lengths)] == [len(s) for s in theirs(range(n), lengths)]


def test_softmax_without_dim_follows_torchs_legacy_rule():
    x = tc.randn(2, 3, 4)
    with pytest.warns(UserWarning, match="implicit dimension"):
        out = nn.Softmax()(x)
    np.testing.assert_allclose(out.sum(0).numpy(), np.ones((3, 4)), rtol=1e-6)  # dim 0 for 3-d input
    with pytest.warns(UserWarning):
        out = F.log_softmax(tc.randn(2, 5))
    np.testing.assert_allclose(np.exp(out.numpy()).sum(1), [1.0, 1.0], rtol=1e-6)  # dim 1 for 2-d input


@pytest.mark.parametrize("change", ["where_condition", "gather_index"])
def test_values_a_closure_reads_changed_in_place_raise(change):
    x = tc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    if change == "where_condition":
        c = tc.tensor([[True, False], [False, True]])
        y = tc.where(c, x, 0.0)
        c[0, 0] = False
    else:
        i = tc.tensor([[1], [0]])
        y = x.gather(1, i)
        i[0, 0] = 0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_clamp_with_min_above_max_gives_max_as_torch():
    assert tc.ones(3).clamp(min=2.0, max=1.0).tolist() == [1.0, 1.0, 1.0]  # torch's documented rule
    x = tc.tensor([0.5, 3.0], requires_grad=True)
    x.clamp(2.0, 1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


# ---- modules
def _tied(lib):
    m = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 3), lib.nn.BatchNorm2d(2), lib.nn.Flatten(), lib.nn.Linear(3, 3),
                          lib.nn.Linear(3, 3))
    m[4].weight = m[3].weight
    return m


def test_state_dict_goes_module_by_module_and_keeps_tied_names():
    sd = _tied(tc).state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "1.num_batches_tracked", "3.weight", "3.bias", "4.weight", "4.bias"]
    m = _tied(tc)
    w = m.state_dict()["3.weight"]
    assert isinstance(w, tc.Tensor) and not w.requires_grad and np.shares_memory(w.numpy(), m[3].weight.numpy())
    m.load_state_dict(sd)  # both names of the tied weight are there and load


@needs_torch
def test_a_torch_state_dict_of_a_tied_model_loads():
    theirs = _tied(torch).state_dict()
    assert list(theirs) == list(_tied(tc).state_dict())
    ours = _tied(tc)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.items()})
    np.testing.assert_array_equal(ours[4].weight.numpy(), theirs["3.weight"].numpy())


@pytest.mark.parametrize("lib", [tc] + ([torch] if torch is not None else []))
def test_sequential_edits_and_forward_pre_hooks_as_torch(lib):
    s = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Tanh(), lib.nn.Sigmoid())
    s[1] = lib.nn.Identity()
    del s[0]
    s.insert(0, lib.nn.Tanh())
    s.append(lib.nn.ReLU())
    popped = s.pop(1)
    assert [type(m).__name__ for m in s] == ["Tanh", "Sigmoid", "ReLU"] and type(popped).__name__ == "Identity"
    assert [n for n, _ in s.named_children()] == ["0", "1", "2"]
    seen = []
    handle = s.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    out = s(lib.ones(2))
    seen.append(out.tolist())
    handle.remove()
    seen.append(s(lib.ones(2)).tolist())
    assert seen[0] == [0.5, 0.5] and seen[1] != seen[0]


def test_missing_torch_names_say_they_are_not_supported():
    with pytest.raises(AttributeError, match="torch.nn.Module.register_full_backward_hook is not supported"):
        nn.Linear(1, 1).register_full_backward_hook(lambda *a: None)
    with pytest.raises(AttributeError, match="has no attribute 'wieght'$"):
        _ = nn.Linear(1, 1).wieght  # a typo is a plain AttributeError
    import importlib
    import sys

    saved = sys.modules.pop("tinygrad_cnn.testing", None)
    try:
        assert importlib.import_module("tinygrad_cnn").testing.gradcheck  # tc.testing without its import
    finally:
        if saved is not None:
            sys.modules["tinygrad_cnn.testing"] = saved
    for expr in ("tc.ones(2) // 2", "tc.ones(2) % 2", "abs(tc.ones(2))", "+tc.ones(2)", "tc.ones(2).double()",
                 "tc.ones(2).std()"):
        eval(expr)  # once missing, now PyTorch's


def test_cross_entropy_with_class_probabilities_by_hand():
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    want = -(t * logp).sum(1).mean()
    got = F.cross_entropy(tc.tensor(x), tc.tensor(t))
    np.testing.assert_allclose(got.item(), want, rtol=1e-12)
    smooth = t * 0.9 + 0.1 / 3
    np.testing.assert_allclose(F.cross_entropy(tc.tensor(x), tc.tensor(t), label_smoothing=0.1).item(),
                               -(smooth * logp).sum(1).mean(), rtol=1e-12)


@needs_torch
def test_cross_entropy_with_class_probabilities_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2)).astype(np.float32)
    t = rng.random((4, 3, 2)).astype(np.float32)
    t /= t.sum(1, keepdims=True)
    w = np.array([0.5, 1.0, 2.0], np.float32)
    for reduction in ("mean", "sum", "none"):
        got, want = [], []
        for lib, out in ((tc, got), (torch, want)):
            a, b = lib.tensor(x, requires_grad=True), lib.tensor(t, requires_grad=True)
            loss = lib.nn.functional.cross_entropy(a, b, weight=lib.tensor(w), reduction=reduction,
                                                   label_smoothing=0.1)
            loss.sum().backward()
            out.extend(v.detach().numpy() if lib is torch else v.numpy() for v in (loss, a.grad, b.grad))
        for g, e in zip(got, want):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", ["mul", "div", "matmul", "pow"])
def test_an_operand_without_grad_changed_in_place_is_caught(op):
    # the closure reads the constant operand to make x's gradient: its version is checked too
    x = tc.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    c = tc.tensor([[2.0, 3.0], [4.0, 5.0]])
    y = {"mul": lambda: x * c, "div": lambda: x / c, "matmul": lambda: x @ c, "pow": lambda: c ** x}[op]()
    c.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_label_smoothing_by_hand(reduction):
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [0.3, 0.3, 0.3]])
    t = np.array([1, 2, -100])
    w = np.array([0.5, 1.0, 2.0])
    ls = 0.2
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    keep = t != -100
    # PyTorch's rule: (1 - ls) * weighted nll + ls * mean over classes of the weighted -log p,
    # a mean over the weights of the kept targets
    nll = np.where(keep, -w[np.where(keep, t, 0)] * logp[np.arange(3), np.where(keep, t, 0)], 0.0)
    smooth = np.where(keep, -(w * logp).sum(1) / 3, 0.0)
    per_item = (1 - ls) * nll + ls * smooth
    want = {"none": per_item, "sum": per_item.sum(), "mean": per_item.sum() / w[t[keep]].sum()}[reduction]
    got = F.cross_entropy(tc.tensor(x), tc.tensor(t), weight=tc.tensor(w), label_smoothing=ls, reduction=reduction)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
