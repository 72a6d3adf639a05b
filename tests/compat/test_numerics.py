"""Generated float32 reductions (sum, mean, var) along any axis of arrays of up to 10^6 elements:
at least as accurate as PyTorch's (within one float32 rounding), and, torch-free, within a bound
that naive summation breaks, against exact float64 sums (math.fsum for whole-array sums)."""
import math
import os

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc

from .generators import torch

ULP = 2.0 ** -23  # float32's relative rounding step near 1
# arrays of up to 10^6 elements take a while each: fewer programs than the other generators, but for `thorough`
PROGRAMS = settings(max_examples={"dev": 10, "ci": 40, "thorough": 2000}.get(os.environ.get("HYPOTHESIS_PROFILE",
                                                                                              "dev"), 10))


@st.composite
def reductions(draw):
    """(shape, axis, offset, op): up to 3 axes, one of them long; values offset from 0 (1000 + noise
    is what breaks a naive variance; uniform positives what breaks a naive sum)."""
    ndim = draw(st.integers(1, 3))
    long_axis = draw(st.integers(0, ndim - 1))
    long = draw(st.sampled_from([1000, 5000, 20000, 100000, 1000000]))
    shape = [draw(st.integers(1, max(1, 1000000 // long // 4))) if i != long_axis else long for i in range(ndim)]
    shape = [min(s, 7) if i != long_axis else s for i, s in enumerate(shape)]
    axis = draw(st.one_of(st.none(), st.integers(0, ndim - 1)))
    return tuple(shape), axis, draw(st.sampled_from([1.0, 1000.0])), draw(st.sampled_from(["sum", "mean", "var"]))


def _data(shape, offset, seed=0):
    rng = np.random.default_rng(seed)
    return (offset + rng.random(shape, dtype=np.float32)).astype(np.float32)


def _error(got, exact, floor=0.0):
    """The largest relative error; ``floor`` is the smallest magnitude counted as such (a variance of
    two equal values is 0: its error counts against the variance float32 can resolve there)."""
    return float(np.max(np.abs(np.asarray(got, np.float64) - exact) / np.maximum(np.abs(exact), floor)))


def _floor(op, offset):
    return (offset * ULP) ** 2 if op == "var" else 0.0


def _exact(a, axis, op):
    a64 = a.astype(np.float64)
    return {"sum": a64.sum(axis), "mean": a64.mean(axis), "var": a64.var(axis, ddof=1)}[op]


def _ours(lib, a, axis, op):
    t = lib.tensor(a)
    out = getattr(t, op)() if axis is None else getattr(t, op)(axis)
    return out.numpy() if lib is tc else out.detach().numpy()


@pytest.mark.skipif(torch is None, reason="PyTorch is the oracle of this generator")
@PROGRAMS
@given(reductions())
@example(((1000000, 4), 0, 1.0, "sum"))
@example(((1000, 1000), 0, 1.0, "sum"))
@example(((8192, 3), 0, 1.0, "mean"))
@example(((100000,), None, 1000.0, "var"))
@example(((50, 1000), 1, 1000.0, "var"))
def test_reductions_are_at_least_as_accurate_as_torch(program):
    shape, axis, offset, op = program
    a = _data(shape, offset)
    if op == "var" and (axis is None and a.size < 2 or axis is not None and shape[axis] < 2):
        return
    exact = _exact(a, axis, op)
    floor = _floor(op, offset)
    ours, theirs = _error(_ours(tc, a, axis, op), exact, floor), _error(_ours(torch, a, axis, op), exact, floor)
    slack = 4 * ULP if op == "var" else ULP  # var: the two-pass formula's few roundings of its own
    assert ours <= theirs + slack, f"{op} over axis {axis} of {shape} (+{offset}): {ours:.2e}, torch {theirs:.2e}"


@PROGRAMS
@given(reductions())
@example(((1000000, 4), 0, 1.0, "sum"))
@example(((1000, 1000), 0, 1.0, "sum"))
@example(((100000,), None, 1000.0, "var"))
def test_reductions_stay_within_a_few_roundings_without_torch(program):
    shape, axis, offset, op = program
    a = _data(shape, offset, seed=1)
    if op == "var" and (axis is None and a.size < 2 or axis is not None and shape[axis] < 2):
        return
    # naive float32 summation of 10^6 positives is off by ~1e-5 (hundreds of roundings)
    bound = 8 * ULP if op != "var" else 32 * ULP
    assert _error(_ours(tc, a, axis, op), _exact(a, axis, op), _floor(op, offset)) <= bound, program


def test_a_long_sum_against_fsum_by_hand():
    a = _data((10 ** 6,), 1.0, seed=2)
    exact = math.fsum(a.astype(np.float64).tolist())
    assert abs(float(tc.tensor(a).sum()) - exact) / exact <= 2 * ULP
    col = _data((10 ** 6, 2), 1.0, seed=3)
    sums = tc.tensor(col).sum(0).numpy()
    for j in range(2):
        e = math.fsum(col[:, j].astype(np.float64).tolist())
        assert abs(float(sums[j]) - e) / e <= 2 * ULP
