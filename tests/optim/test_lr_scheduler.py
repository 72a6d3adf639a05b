"""Schedulers: hand-computed learning rates, and PyTorch's over whole runs when installed."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import optim

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


def _trace(lib: Any, opt_name: str, sched: str, steps: int, opt_kw: dict, **kw: Any) -> np.ndarray:
    """(lr, momentum or beta1) after each of ``steps`` scheduler steps, written once for both libraries."""
    p = lib.nn.Parameter(lib.ones(3))
    opt = getattr(lib.optim, opt_name)([p], lr=0.1, **opt_kw)
    s = getattr(lib.optim.lr_scheduler, sched)(opt, **kw)
    out = []
    for _ in range(steps):
        opt.step()
        s.step()
        g = opt.param_groups[0]
        out.append((g["lr"], g["betas"][0] if "betas" in g else g.get("momentum", 0.0)))
    return np.array(out)


def test_one_cycle_by_hand() -> None:
    """Cosine warm-up over 3 of 10 steps from 0.02 to 0.5, then down to 0.02 / 1e4; momentum mirrors."""
    got = _trace(tc, "SGD", "OneCycleLR", 9, {"momentum": 0.9}, max_lr=0.5, total_steps=10)
    lr0, lr_min = 0.5 / 25, 0.5 / 25 / 1e4
    cos = lambda a, b, pct: b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)  # noqa: E731
    want_lr = [cos(lr0, 0.5, t / 2) for t in (1, 2)] + [cos(0.5, lr_min, (t - 2) / 7) for t in range(3, 10)]
    want_m = [cos(0.95, 0.85, t / 2) for t in (1, 2)] + [cos(0.85, 0.95, (t - 2) / 7) for t in range(3, 10)]
    np.testing.assert_allclose(got[:, 0], want_lr, rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], want_m, rtol=1e-12)
    assert got[-1, 0] == pytest.approx(lr_min)


def test_one_cycle_cycles_adams_beta1_and_counts_steps() -> None:
    got = _trace(tc, "Adam", "OneCycleLR", 4, {}, max_lr=1.0, epochs=2, steps_per_epoch=5, anneal_strategy="linear")
    assert got[1, 0] == pytest.approx(1.0) and got[1, 1] == pytest.approx(0.85)  # the peak, at step pct_start * 10 - 1
    p = tc.nn.Parameter(tc.ones(1))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    s = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=2)
    s.step()
    s.step()
    with pytest.raises(ValueError, match="tried to step 3 times"):
        s.step()


def test_one_cycle_bad_arguments() -> None:
    opt = optim.SGD([tc.nn.Parameter(tc.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match="total_steps, or epochs and steps_per_epoch"):
        optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="neither momentum nor betas"):
        optim.lr_scheduler.OneCycleLR(optim.Adadelta([tc.nn.Parameter(tc.ones(1))]), max_lr=1.0, total_steps=5)


SCHEDULES = [
    ("SGD", "OneCycleLR", {"momentum": 0.9}, {"max_lr": 0.5, "total_steps": 12}),
    ("SGD", "OneCycleLR", {"momentum": 0.9}, {"max_lr": 0.5, "total_steps": 12, "three_phase": True}),
    ("Adam", "OneCycleLR", {}, {"max_lr": 2.0, "total_steps": 8, "pct_start": 0.5, "anneal_strategy": "linear"}),
    ("SGD", "OneCycleLR", {}, {"max_lr": 0.3, "total_steps": 9, "cycle_momentum": False, "div_factor": 3.0}),
    ("SGD", "StepLR", {}, {"step_size": 3, "gamma": 0.5}),
    ("SGD", "MultiStepLR", {}, {"milestones": [2, 5], "gamma": 0.3}),
    ("SGD", "ExponentialLR", {}, {"gamma": 0.9}),
    ("SGD", "CosineAnnealingLR", {}, {"T_max": 5, "eta_min": 0.01}),
]


@needs_torch
@pytest.mark.parametrize("opt_name, sched, opt_kw, kw", SCHEDULES)
def test_schedules_match_torch(opt_name: str, sched: str, opt_kw: dict, kw: dict) -> None:
    steps = kw.get("total_steps", 12) - 1
    np.testing.assert_allclose(_trace(tc, opt_name, sched, steps, opt_kw, **kw),
                               _trace(torch, opt_name, sched, steps, opt_kw, **kw), rtol=1e-12, atol=1e-15)


def test_one_cycle_state_dict_round_trip() -> None:
    def make() -> tuple:
        opt = optim.SGD([tc.nn.Parameter(tc.ones(1))], lr=0.1, momentum=0.9)
        return opt, optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
    opt, s = make()
    for _ in range(4):
        s.step()
    opt2, s2 = make()
    s2.load_state_dict(s.state_dict())
    s.step()
    s2.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
