"""Torch-free twins of the comparisons that need PyTorch elsewhere in the suite: the same rules
against numpy written out (np.pad's modes, batch norm's statistics, the losses' formulas,
OneCycleLR's schedule (lr and momentum) as PyTorch documents it, AMSGrad and centered RMSprop by hand), so that a
run without PyTorch still guards each of them."""
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn, optim

NP_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", sorted(NP_MODE))
def test_pad_modes_match_np_pad(mode):
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    for arr, pad in ((x[0], (1, 2)), (x, (2, 1, 1, 3))):  # PyTorch's rule: one padded axis wants 2-D or 3-D input
        k = len(pad) // 2
        widths = [(0, 0)] * (arr.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in range(k)][::-1]
        want = np.pad(arr, widths, mode=NP_MODE[mode])
        np.testing.assert_array_equal(F.pad(Tensor(arr), pad, mode=mode).numpy(), want, err_msg=f"{mode} {pad}")
    layer = {"reflect": nn.ReflectionPad2d, "replicate": nn.ReplicationPad2d, "circular": nn.CircularPad2d}[mode]
    np.testing.assert_array_equal(layer(1)(Tensor(x)).numpy(), np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)],
                                                                     mode=NP_MODE[mode]))


@pytest.mark.parametrize("cls, shape", [("BatchNorm2d", (8, 3, 5, 4)), ("BatchNorm1d", (6, 4)),
                                        ("BatchNorm1d", (6, 4, 7))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_train_eval_and_running_statistics_by_numpy(cls, shape, momentum):
    rng = np.random.default_rng(0)
    c = shape[1]
    m = getattr(nn, cls)(c, momentum=momentum)
    m.weight.data = Tensor(rng.uniform(0.5, 1.5, c).astype(np.float32))
    m.bias.data = Tensor(rng.normal(size=c).astype(np.float32))
    axes = tuple(i for i in range(len(shape)) if i != 1)
    bshape = [1] * len(shape)
    bshape[1] = c
    mean_r, var_r = np.zeros(c), np.ones(c)
    for step in range(1, 5):
        x = rng.normal(2.0, 3.0, size=shape).astype(np.float32)
        out = m(Tensor(x)).numpy()
        mu, var = x.astype(np.float64).mean(axes), x.astype(np.float64).var(axes)
        n = x.size // c
        want = (x - mu.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5) * m.weight.numpy().reshape(bshape) \
            + m.bias.numpy().reshape(bshape)
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
        f = 1.0 / step if momentum is None else momentum  # None: the cumulative average, as PyTorch
        mean_r, var_r = (1 - f) * mean_r + f * mu, (1 - f) * var_r + f * var * n / (n - 1)
        np.testing.assert_allclose(m.running_mean.numpy(), mean_r, rtol=1e-5)
        np.testing.assert_allclose(m.running_var.numpy(), var_r, rtol=1e-5)
    m.eval()
    x = rng.normal(size=shape).astype(np.float32)
    want = (x - mean_r.reshape(bshape)) / np.sqrt(var_r.reshape(bshape) + 1e-5) * m.weight.numpy().reshape(bshape) \
        + m.bias.numpy().reshape(bshape)
    np.testing.assert_allclose(m(Tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)


def _log_softmax(x, axis):
    return x - np.log(np.exp(x - x.max(axis, keepdims=True)).sum(axis, keepdims=True)) - x.max(axis, keepdims=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_with_spatial_dims_weights_and_ignore_index_by_numpy(reduction):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 2, 5))
    t = rng.integers(0, 4, size=(3, 2, 5))
    t[0, 1, 2] = -100
    w = rng.uniform(0.5, 2.0, 4)
    logp = _log_softmax(x, 1)
    keep = t != -100
    tt = np.where(keep, t, 0)
    picked = np.take_along_axis(logp, tt[:, None], 1)[:, 0]
    per = np.where(keep, -w[tt] * picked, 0.0)
    want = {"none": per, "sum": per.sum(), "mean": per.sum() / w[tt][keep].sum()}[reduction]
    got = F.cross_entropy(Tensor(x), Tensor(t), weight=Tensor(w), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    got = F.nll_loss(Tensor(logp), Tensor(t), weight=Tensor(w), reduction=reduction)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_weights_and_pos_weight_by_numpy(reduction):
    rng = np.random.default_rng(2)
    x, t = rng.normal(size=(4, 3)) * 30, (rng.random((4, 3)) > 0.5).astype(np.float64)  # large logits: stability
    w, pw = rng.uniform(0.5, 2, size=(4, 1)), rng.uniform(0.5, 3, size=3)
    softplus = lambda v: np.logaddexp(0, v)  # noqa: E731
    for weight, pos in ((w, None), (None, pw), (w, pw)):
        per = (1 - t) * softplus(x) + (1 if pos is None else pos) * t * softplus(-x)
        per = per if weight is None else per * weight
        want = {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
        got = F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t), None if weight is None else Tensor(weight),
                                                 reduction=reduction, pos_weight=None if pos is None else Tensor(pos))
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    p = np.clip(1 / (1 + np.exp(-x / 30)), 0, 1)
    per = -(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100)) * w
    want = {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
    np.testing.assert_allclose(nn.BCELoss(weight=Tensor(w), reduction=reduction)(Tensor(p), Tensor(t)).numpy(),
                               want, rtol=1e-12)


def _one_cycle(t, total, max_lr, pct, div, final_div, anneal, three_phase):
    """OneCycleLR's (lr, momentum) at step ``t``, from PyTorch's documented phases (momentum
    cycles between 0.95 and 0.85 the other way)."""
    initial, minimum, hi, lo = max_lr / div, max_lr / div / final_div, 0.95, 0.85
    up = float(pct * total) - 1
    phases = [(up, initial, max_lr, hi, lo), (2 * up, max_lr, initial, lo, hi), (total - 1, initial, minimum, hi, hi)] \
        if three_phase else [(up, initial, max_lr, hi, lo), (total - 1, max_lr, minimum, lo, hi)]
    start = 0.0
    for i, (end, a, b, ma, mb) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            pct_t = (t - start) / (end - start)
            if anneal == "cos":
                return tuple(y + (x - y) / 2 * (math.cos(math.pi * pct_t) + 1) for x, y in ((a, b), (ma, mb)))
            return tuple((y - x) * pct_t + x for x, y in ((a, b), (ma, mb)))
        start = end
    raise AssertionError("unreachable")


@pytest.mark.parametrize("kw", [dict(max_lr=0.5, total_steps=12), dict(max_lr=0.5, total_steps=12, three_phase=True),
                                dict(max_lr=2.0, total_steps=8, pct_start=0.5, anneal_strategy="linear"),
                                dict(max_lr=0.3, total_steps=9, div_factor=3.0)])
def test_one_cycle_follows_its_documented_phases(kw):
    p = nn.Parameter(tc.zeros(1))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    s = optim.lr_scheduler.OneCycleLR(opt, **kw)
    args = dict(total=kw["total_steps"], max_lr=kw["max_lr"], pct=kw.get("pct_start", 0.3),
                div=kw.get("div_factor", 25.0), final_div=1e4, anneal=kw.get("anneal_strategy", "cos"),
                three_phase=kw.get("three_phase", False))
    for t in range(kw["total_steps"]):
        lr, momentum = _one_cycle(t, **args)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12, abs=1e-15), t
        assert opt.param_groups[0]["momentum"] == pytest.approx(momentum, rel=1e-12), t
        if t + 1 < kw["total_steps"]:
            s.step()


def test_amsgrad_and_centered_rmsprop_by_hand():
    p = nn.Parameter(Tensor(np.array([1.0])))
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    m = v = vmax = 0.0
    x = 1.0
    for step, g in enumerate([0.5, 0.1, 0.3], start=1):
        p.grad = Tensor(np.array([g]))
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        vmax = max(vmax, v)
        x -= 0.1 * (m / (1 - 0.9 ** step)) / (math.sqrt(vmax / (1 - 0.999 ** step)) + 1e-8)
        assert p.item() == pytest.approx(x, rel=1e-12)
    q = nn.Parameter(Tensor(np.array([1.0])))
    opt = optim.RMSprop([q], lr=0.01, alpha=0.9, momentum=0.5, centered=True)
    sq = avg = buf = 0.0
    y = 1.0
    for g in (2.0, -1.0, 0.5):
        q.grad = Tensor(np.array([g]))
        opt.step()
        sq, avg = 0.9 * sq + 0.1 * g * g, 0.9 * avg + 0.1 * g
        buf = 0.5 * buf + g / (math.sqrt(sq - avg * avg) + 1e-8)
        y -= 0.01 * buf
        assert q.item() == pytest.approx(y, rel=1e-12)
