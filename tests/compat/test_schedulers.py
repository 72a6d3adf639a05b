"""Generated scheduler programs: chains of schedulers on one optimizer (one or two parameter
groups), stepped together for up to 100 steps, with learning rates set by hand in between; the
learning rates are PyTorch's. Torch-free: chains of the multiplicative schedules against their
product written out, and the cosine schedule's recursive form against its closed form."""
import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_cnn as tc

from .generators import PROGRAMS, torch

SCHEDULES = {
    "StepLR": st.fixed_dictionaries({"step_size": st.integers(1, 7), "gamma": st.sampled_from([0.5, 0.9, 0.1])}),
    "MultiStepLR": st.fixed_dictionaries({"milestones": st.lists(st.integers(1, 60), min_size=1, max_size=4),
                                          "gamma": st.sampled_from([0.5, 0.3])}),
    "ExponentialLR": st.fixed_dictionaries({"gamma": st.sampled_from([0.97, 0.9, 1.01])}),
    "CosineAnnealingLR": st.fixed_dictionaries({"T_max": st.integers(1, 40), "eta_min": st.sampled_from([0.0, 1e-3])}),
}


@st.composite
def programs(draw, names=tuple(SCHEDULES)):
    chain = [(name, draw(SCHEDULES[name])) for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))]
    steps = draw(st.integers(1, 100))
    by_hand = draw(st.dictionaries(st.integers(0, steps - 1), st.sampled_from([0.05, 0.2, 1.0]), max_size=3))
    return chain, steps, by_hand, draw(st.integers(1, 2))


def run(lib, program):
    chain, steps, by_hand, groups = program
    params = [lib.nn.Parameter(lib.zeros(1)) for _ in range(groups)]
    opt = lib.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], lr=0.1)
    scheds = [getattr(lib.optim.lr_scheduler, name)(opt, **kw) for name, kw in chain]
    lrs = []
    for t in range(steps):
        if t in by_hand:
            for g in opt.param_groups:
                g["lr"] = by_hand[t]
        opt.step()
        for s in scheds:
            s.step()
        lrs.append([g["lr"] for g in opt.param_groups] + [v for s in scheds for v in s.get_last_lr()])
    return np.array(lrs)


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(programs())
@example(([("StepLR", {"step_size": 3, "gamma": 0.5}), ("ExponentialLR", {"gamma": 0.9})], 20, {}, 1))
@example(([("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.0})], 30, {7: 1.0}, 2))
@example(([("MultiStepLR", {"milestones": [3, 3, 8], "gamma": 0.5}), ("CosineAnnealingLR",
                                                                      {"T_max": 10, "eta_min": 1e-3})], 25, {}, 1))
def test_scheduler_chains_match_torch(program):
    np.testing.assert_allclose(run(tc, program), run(torch, program), rtol=1e-12, atol=0, err_msg=str(program))


def _factor(name, kw, t):
    """The factor a multiplicative schedule applies at step ``t`` (t >= 1)."""
    if name == "StepLR":
        return kw["gamma"] if t % kw["step_size"] == 0 else 1.0
    if name == "MultiStepLR":
        return kw["gamma"] ** kw["milestones"].count(t)
    return kw["gamma"]


@PROGRAMS
@given(programs(names=("StepLR", "MultiStepLR", "ExponentialLR")))
@example(([("StepLR", {"step_size": 2, "gamma": 0.5}), ("MultiStepLR", {"milestones": [4, 4], "gamma": 0.3})],
          10, {5: 1.0}, 1))
def test_multiplicative_chains_are_the_product_of_their_factors(program):
    chain, steps, by_hand, groups = program
    lr = [0.1 * (i + 1) for i in range(groups)]
    want = []
    for t in range(steps):
        if t in by_hand:
            lr = [by_hand[t]] * groups
        f = math.prod(_factor(name, kw, t + 1) for name, kw in chain)
        lr = [v * f for v in lr]
        want.append(lr)
    got = run(tc, program)[:, :groups]
    np.testing.assert_allclose(got, np.array(want), rtol=1e-12, err_msg=str(program))


@pytest.mark.parametrize("T_max, eta_min", [(5, 0.0), (10, 1e-3), (1, 0.0), (7, 0.01)])
def test_cosine_recursive_form_follows_the_closed_form(T_max, eta_min):
    p = tc.nn.Parameter(tc.zeros(1))
    opt = tc.optim.SGD([p], lr=0.1)
    s = tc.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    for t in range(1, 3 * T_max + 2):
        s.step()
        closed = eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
        assert opt.param_groups[0]["lr"] == pytest.approx(closed, rel=1e-9, abs=1e-12), t


def test_an_lr_set_by_hand_is_scaled_from_then_on_and_not_reported_until_the_next_step():
    p = tc.nn.Parameter(tc.zeros(1))
    opt = tc.optim.SGD([p], lr=1.0)
    s = tc.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    s.step()
    opt.param_groups[0]["lr"] = 8.0
    assert s.get_last_lr() == [0.5]
    s.step()
    assert opt.param_groups[0]["lr"] == 4.0 and s.get_last_lr() == [4.0]
