"""Optimizers against hand-computed updates (and PyTorch when installed); state dicts; schedulers."""
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn, optim

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


def _param(value=1.0):
    return Tensor(np.array([value]), requires_grad=True)


def _step(opt, p, grad):
    p.grad = Tensor(np.array([grad]))
    opt.step()
    return p.item()


def test_sgd_plain_and_weight_decay():
    p = _param()
    opt = optim.SGD([p], lr=0.1, weight_decay=0.5)
    assert _step(opt, p, 2.0) == pytest.approx(1 - 0.1 * (2 + 0.5 * 1))


def test_sgd_momentum_dampening_nesterov_by_hand():
    p = _param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    assert _step(opt, p, 1.0) == pytest.approx(0.9)           # buf = g = 1 on the first step
    assert _step(opt, p, 1.0) == pytest.approx(0.9 - 0.1 * (0.9 * 1 + 0.5 * 1))  # buf = 1.4
    p = _param()
    opt = optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    assert _step(opt, p, 1.0) == pytest.approx(1 - 0.1 * (1 + 0.9 * 1))
    assert _step(opt, p, 1.0) == pytest.approx(0.81 - 0.1 * (1 + 0.9 * 1.9))


def test_adam_two_steps_by_hand():
    p = _param()
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    first = _step(opt, p, 0.5)
    assert first == pytest.approx(1 - 0.1 * 0.5 / (0.5 + 1e-8), rel=1e-12)  # m_hat / sqrt(v_hat) = 1
    m = 0.9 * 0.05 + 0.1 * 0.25
    v = 0.999 * 0.00025 + 0.001 * 0.0625
    expected = first - 0.1 * (m / (1 - 0.81)) / (math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8)
    assert _step(opt, p, 0.25) == pytest.approx(expected, rel=1e-10)


def test_adamw_decouples_weight_decay():
    p = _param(2.0)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.1)
    assert _step(opt, p, 1.0) == pytest.approx(2.0 * (1 - 0.01) - 0.1)


def test_rmsprop_by_hand():
    p = _param()
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9)
    assert _step(opt, p, 2.0) == pytest.approx(1 - 0.01 * 2 / (math.sqrt(0.1 * 4) + 1e-8))


@needs_torch
@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
])
def test_optimizers_match_torch_over_steps(name, kwargs):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    ours = Tensor(w0.copy(), requires_grad=True)
    theirs = torch.tensor(w0.copy(), requires_grad=True)
    o1 = getattr(optim, name)([ours], **kwargs)
    o2 = getattr(torch.optim, name)([theirs], **kwargs)
    for _ in range(5):
        g = rng.standard_normal((3, 4))
        ours.grad = Tensor(g)
        theirs.grad = torch.tensor(g)
        o1.step()
        o2.step()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_optimizer_state_dict_round_trip_continues_identically(tmp_path):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(3) for _ in range(4)]
    a = Tensor(np.ones(3), requires_grad=True)
    opt_a = optim.Adam([a], lr=0.1)
    for g in grads[:2]:
        a.grad = Tensor(g)
        opt_a.step()
    tc.save(opt_a.state_dict(), tmp_path / "opt.npz")
    b = Tensor(a.numpy().copy(), requires_grad=True)
    opt_b = optim.Adam([b], lr=0.5)
    opt_b.load_state_dict(tc.load(tmp_path / "opt.npz"))
    assert opt_b.param_groups[0]["lr"] == 0.1 and opt_b.param_groups[0]["betas"] == (0.9, 0.999)
    for g in grads[2:]:
        a.grad, b.grad = Tensor(g), Tensor(g)
        opt_a.step()
        opt_b.step()
    assert np.array_equal(a.numpy(), b.numpy())


def test_zero_grad_and_bad_arguments():
    p = _param()
    opt = optim.SGD([p], lr=0.1)
    p.grad = Tensor([1.0])
    opt.zero_grad()
    assert p.grad is None
    with pytest.raises(ValueError, match="SGD: lr must be a number >= 0"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([p * 2])
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.Adam(p)  # PyTorch's TypeError: a bare Tensor would be iterated row by row
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)


def test_frozen_parameters_are_kept_and_skipped_at_step():
    # the fine-tuning idiom: freeze a layer, hand all parameters to the optimizer
    model = nn.Linear(2, 1)
    model.weight.requires_grad_(False)
    for opt in (optim.SGD(model.parameters(), lr=0.1), optim.Adam(model.parameters(), lr=0.1)):
        w0, b0 = model.weight.numpy().copy(), model.bias.numpy().copy()
        opt.zero_grad()
        model(Tensor([[1.0, 2.0]])).sum().backward()
        opt.step()
        assert np.array_equal(model.weight.numpy(), w0) and not np.array_equal(model.bias.numpy(), b0)


def test_schedulers():
    p = _param()
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    assert lrs == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01])
    opt = optim.SGD([p], lr=1.0)
    cos = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    seen = [opt.param_groups[0]["lr"]]
    for _ in range(4):
        cos.step()
        seen.append(cos.get_last_lr()[0])
    assert seen == pytest.approx([0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)])


@needs_torch
def test_cosine_matches_torch():
    p = torch.zeros(1, requires_grad=True)
    topt = torch.optim.SGD([p], lr=0.5)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=5, eta_min=0.01)
    opt = optim.SGD([_param()], lr=0.5)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.01)
    for _ in range(5):
        topt.step()
        tsched.step()
        sched.step()
        assert sched.get_last_lr()[0] == pytest.approx(tsched.get_last_lr()[0], rel=1e-9)


@pytest.mark.parametrize("name, kwargs", [("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, weight_decay=0.1)),
                                          ("AdamW", dict(lr=0.01, weight_decay=0.2))])
def test_adam_whole_group_update_is_bit_identical_to_per_parameter_updates(name, kwargs, tmp_path):
    # a group of several parameters is updated through concatenated buffers; one parameter per
    # group takes the per-parameter path: both must agree bit for bit, also across a reload
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(6)]
    flat = [Tensor(w.copy(), requires_grad=True) for w in init]
    single = [Tensor(w.copy(), requires_grad=True) for w in init]
    opt_flat = getattr(optim, name)(flat, **kwargs)
    opt_single = getattr(optim, name)([{"params": [p]} for p in single], **kwargs)
    for step, gs in enumerate(grads):
        if step == 3:  # a checkpoint round trip in the middle
            tc.save(opt_flat.state_dict(), tmp_path / "opt.npz")
            opt_flat = getattr(optim, name)(flat, **kwargs)
            opt_flat.load_state_dict(tc.load(tmp_path / "opt.npz"))
        for p, q, g in zip(flat, single, gs):
            p.grad, q.grad = Tensor(g), Tensor(g)
        opt_flat.step()
        opt_single.step()
    for p, q in zip(flat, single):
        assert np.array_equal(p.numpy(), q.numpy())
    state = opt_flat.state_dict()["state"]
    assert [s["step"] for s in state.values()] == [6, 6, 6]
    assert state[1]["exp_avg"].shape == (5,)


def test_adam_falls_back_when_a_parameter_has_no_gradient():
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(3))
    opt.step()
    a.grad, b.grad = Tensor(np.ones(2)), None
    opt.step()
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(3))
    opt.step()  # steps now differ (3 vs 2): per-parameter updates, each with its own bias correction
    assert opt.state[a]["step"] == 3 and opt.state[b]["step"] == 2  # keyed by the parameter, as PyTorch
    np.testing.assert_allclose(b.numpy(), 1 - 0.2, rtol=1e-7)  # Adam moves by ~lr per step at a constant gradient
