"""The compiled twins (kernels/fast/, numba) against their numpy kernels, which stay the oracle:
values and gradients, float32 and float64, the memory layouts a network hands them (NCHW, batch
innermost, rows outermost), odd sizes. Twins are asked to take every size here (min_size=0)."""
import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, strategies as st

from tinygrad_cnn.ops.geometry import conv_geometry, pool_geometry
from tinygrad_cnn.ops.kernels import activation, conv, norm, pool
from tinygrad_cnn.ops.kernels.select import kernels_in_use, use_kernels

numba = pytest.importorskip("numba", reason="the compiled path needs numba (the 'fast' extra)")
LAYOUTS = {"nchw": (0, 1, 2, 3), "batch_inner": (1, 2, 3, 0), "rows_outer": (2, 1, 3, 0)}
DTYPES = {"float32": np.float32, "float64": np.float64}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _laid_out(a: np.ndarray, layout: str) -> np.ndarray:
    """``a`` (N, C, H, W) with the same values in the memory order ``layout`` names."""
    order = LAYOUTS[layout]
    return np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


@st.composite
def images(draw, min_hw=1, channels=None):
    n, c = draw(st.integers(1, 9)), channels or draw(st.integers(1, 4))
    h, w = draw(st.integers(min_hw, min_hw + 5)), draw(st.integers(min_hw, min_hw + 5))
    dtype = DTYPES[draw(st.sampled_from(sorted(DTYPES)))]
    seed = draw(st.integers(0, 2 ** 16))
    a = np.random.default_rng(seed).standard_normal((n, c, h, w)).astype(dtype)
    return _laid_out(a, draw(st.sampled_from(sorted(LAYOUTS))))


def _same_layout(a, b):
    """Whether ``a`` and ``b`` lie alike in memory (size-1 axes' strides mean nothing)."""
    return all(sa == sb for sa, sb, n in zip(a.strides, b.strides, a.shape) if n > 1)


def _tol(a):
    return dict(rtol=2e-5, atol=2e-5) if a.dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


@contextlib.contextmanager
def twins():
    with use_kernels("numba", min_size=0):
        yield


# ----------------------------------------------------------------------------------- batch norm
def _bn_reference(x, w, b, g):
    """numpy's batch norm in float64 on the same values: the oracle for both kernels' float32, whose
    float32 sums cancel differently (a batch of two values per channel amplifies that)."""
    as64 = [None if a is None else a.astype(np.float64) for a in (x, w, b, g)]
    y, centred, mean, var = norm.bn_forward.numpy(as64[0], as64[1], as64[2], 1e-5)
    return (y, mean, var), norm.bn_backward.numpy(as64[3], centred, var, as64[1], 1e-5)


def _close(got, want):
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    tol = 5e-5 if got.dtype == np.float32 else 1e-11
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * scale)


@given(images(), st.booleans(), st.booleans())
@example(_laid_out(np.arange(96.0).reshape(4, 2, 3, 4), "rows_outer"), True, True)
@example(np.arange(12.0).reshape(6, 2), False, False)  # (N, C): runs of one value per channel
def test_batch_norm_twin_matches_numpy(x, affine, g_nchw):
    c = x.shape[1]
    w, b = (np.linspace(0.5, 2, c).astype(x.dtype), np.linspace(-1, 1, c).astype(x.dtype)) if affine else (None, None)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(x.dtype)
    g = np.ascontiguousarray(g) if g_nchw else _laid_out(g, "rows_outer") if g.ndim == 4 else g
    forward, backward = _bn_reference(x, w, b, g)
    with twins():
        y1, saved1, mean1, var1 = norm.bn_forward(x, w, b, 1e-5)
        got = norm.bn_backward(g, saved1, var1, w, 1e-5)
    assert isinstance(saved1, norm.SavedInput), "the twin took the forward"
    assert _same_layout(y1, x) and y1.dtype == x.dtype and mean1.dtype == var1.dtype == x.dtype
    for a, want in zip((y1, mean1, var1) + got, forward + backward):
        assert a.dtype == x.dtype
        _close(a, want)
    # a forward by the twin, a backward by numpy (the mode changed in between): the same gradients
    # (in float64: numpy's float32 cancels as above)
    with use_kernels("numpy"):
        for a, want in zip(norm.bn_backward(g, saved1, var1, w, 1e-5), backward):
            assert a.dtype == x.dtype
            if x.dtype == np.float64:
                _close(a, want)


# ----------------------------------------------------------------------------------------- relu
@given(images(), st.booleans())
@example(np.array([[[[np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0]]]]), True)
@example(np.zeros((3, 1, 2, 2), np.float32)[:, :, :, :1], True)  # not one block: numpy runs
def test_relu_twin_matches_numpy_bit_for_bit(x, need_mask):
    out0, mask0 = activation.relu_with_mask.numpy(x, need_mask)
    with twins():
        out1, mask1 = activation.relu_with_mask(x, need_mask)
    np.testing.assert_array_equal(out1, out0)
    np.testing.assert_array_equal(np.signbit(out1), np.signbit(out0))
    assert out1.dtype == out0.dtype and (mask1 is None) == (not need_mask)
    if need_mask:
        np.testing.assert_array_equal(mask1, mask0)
    if x.flags.c_contiguous or x.transpose(1, 2, 3, 0).flags.c_contiguous:
        assert _same_layout(out1, x)


# -------------------------------------------------------------------------------------- pooling
@st.composite
def pooled(draw):
    k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3)), 1
    p = draw(st.integers(0, k // 2))
    x = draw(images(min_hw=max(1, d * (k - 1) + 1 - 2 * p)))
    geo = pool_geometry("avg_pool2d", x.shape, k, s, p, d, draw(st.booleans()))
    return x, geo


@given(pooled())
@example((_laid_out(np.arange(2 * 3 * 5 * 5, dtype=np.float32).reshape(2, 3, 5, 5), "rows_outer"),
          pool_geometry("avg_pool2d", (2, 3, 5, 5), 3, 2, 1, 1, True)))
def test_window_sum_and_fold_twins_match_numpy(case):
    x, geo = case
    g = np.random.default_rng(2).standard_normal(x.shape[:2] + geo.out_hw).astype(x.dtype)
    with twins():
        got_sum, got_fold = pool.window_sum(x, geo), pool.window_fold(g, geo)
    np.testing.assert_allclose(got_sum, pool.window_sum.numpy(x, geo), **_tol(x))
    np.testing.assert_allclose(got_fold, pool.window_fold.numpy(g, geo), **_tol(x))


# ---------------------------------------------------------------------------- depthwise conv
@st.composite
def depthwise(draw):
    k, s, d, m = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    p = draw(st.integers(0, 2))
    x = draw(images(min_hw=max(1, d * (k - 1) + 1 - 2 * p), channels=draw(st.integers(2, 4))))
    c = x.shape[1]
    w = np.random.default_rng(3).standard_normal((c * m, 1, k, k)).astype(x.dtype)
    return x, w, conv_geometry("conv2d", x.shape, w.shape, s, p, d, c)


@given(depthwise(), st.booleans())
@example((_laid_out(np.ones((5, 3, 6, 6)), "rows_outer"), np.ones((6, 1, 3, 3)),
          conv_geometry("conv2d", (5, 3, 6, 6), (6, 1, 3, 3), 2, 1, 1, 3)), True)
def test_depthwise_conv_twins_match_numpy(case, bias):
    x, w, geo = case
    b = np.linspace(-1, 1, w.shape[0]).astype(x.dtype) if bias else None
    out0, _ = conv.conv_forward.numpy(x, w, geo, b)
    g = _laid_out(np.random.default_rng(4).standard_normal(out0.shape).astype(x.dtype), "rows_outer")
    with twins():
        out1, windows = conv.conv_forward(x, w, geo, b)
        gx, gw = conv.conv_transpose(g, w, geo), conv.conv_weight(x, g, geo, windows)
    np.testing.assert_allclose(out1, out0, **_tol(x))
    np.testing.assert_allclose(gx, conv.conv_transpose.numpy(g, w, geo), **_tol(x))
    np.testing.assert_allclose(gw, conv.conv_weight.numpy(x, g, geo), **_tol(x))


# ---------------------------------------------------------------------------------- the switch
def test_twins_take_the_layouts_a_network_hands_them():
    """A twin that silently declined everything would pass the tests above: check it ran."""
    x = _laid_out(np.random.default_rng(0).standard_normal((64, 8, 8, 8)).astype(np.float32), "rows_outer")
    geo = pool_geometry("avg_pool2d", x.shape, 2, 2, 0, 1, False)
    for kernel, args in ((norm.bn_forward, (x, None, None, 1e-5)), (activation.relu_with_mask, (x, True)),
                         (pool.window_sum, (x, geo))):
        assert kernel.twin()(*args) is not NotImplemented, kernel.__name__
    w = np.ones((8, 1, 3, 3), np.float32)
    assert conv.conv_forward.twin()(x, w, conv_geometry("conv2d", x.shape, w.shape, 1, 1, 1, 8)) is not NotImplemented


def test_use_kernels_switches_and_restores():
    before = kernels_in_use()
    with use_kernels("numpy"):
        assert set(kernels_in_use().values()) == {"numpy"}
    assert kernels_in_use() == before
    x = np.random.default_rng(0).standard_normal((4096, 8)).astype(np.float32)
    assert norm.bn_forward.twin()(x, None, None, 1e-5) is NotImplemented  # (N, C) at the default sizes: numpy's
    with pytest.raises(ValueError, match="use_kernels: mode must be one of"):
        with use_kernels("cuda"):
            pass


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=300)


def test_environment_chooses_the_kernels_and_import_stays_numba_free():
    code = ("import sys, numpy as np, tinygrad_cnn as tc; print('numba' in sys.modules); "
            "x = tc.randn(64, 8, 8, 8, requires_grad=True); tc.nn.functional.relu(x).sum().backward(); "
            "print(set(tc.kernels_in_use().values()), 'numba' in sys.modules)")
    numpy_run = _python(code, TINYGRAD_CNN_KERNELS="numpy")
    assert numpy_run.stdout.split("\n")[:2] == ["False", "{'numpy'} False"], numpy_run.stderr
    auto_run = _python(code, TINYGRAD_CNN_KERNELS="")
    assert auto_run.stdout.split("\n")[:2] == ["False", "{'numba'} True"], auto_run.stderr
    message = "TINYGRAD_CNN_KERNELS must be 'numpy', 'numba' or 'auto', got 'fast'"
    bad = _python("import tinygrad_cnn as tc; tc.kernels_in_use()", TINYGRAD_CNN_KERNELS="fast")
    assert bad.returncode != 0 and f"ValueError: {message}" in bad.stderr
    # read when a kernel first runs, not at import: the CLI reports it in one line, no traceback
    cli = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "gradcheck", "--op", "relu", "--examples", "1"],
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "TINYGRAD_CNN_KERNELS": "fast"},
                         timeout=300)
    assert message in cli.stdout + cli.stderr and "Traceback" not in cli.stdout + cli.stderr


def test_compiling_is_announced_once_and_only_past_a_second(capsys, monkeypatch):
    from tinygrad_cnn.ops.kernels import fast

    monkeypatch.setattr(fast, "_compile_seconds", 0.0)
    monkeypatch.setattr(fast, "_told", False)
    fast._count(0.6)
    assert capsys.readouterr().err == ""
    fast._count(0.6)
    fast._count(2.0)
    assert capsys.readouterr().err.count("compiling the numba kernels") == 1


def test_training_steps_agree_with_and_without_the_twins():
    """A net that uses every twin (batch norm, ReLU, a depthwise conv, average pooling), trained for
    three SGD steps from the same weights: the same losses and weights either way (float64)."""
    import tinygrad_cnn as tc
    from tinygrad_cnn import nn

    def run(mode):
        tc.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                              nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.ReLU(), nn.AvgPool2d(2),
                              nn.Flatten(), nn.Linear(8 * 8 * 8, 4)).double()
        opt = tc.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        rng = np.random.default_rng(0)
        x, y = tc.tensor(rng.standard_normal((32, 3, 16, 16))), tc.tensor(rng.integers(0, 4, 32))
        losses = []
        with use_kernels(mode):
            for _ in range(3):
                loss = nn.functional.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return losses, [p.numpy() for p in model.parameters()]

    (fast_losses, fast_params), (numpy_losses, numpy_params) = run("numba"), run("numpy")
    np.testing.assert_allclose(fast_losses, numpy_losses, rtol=1e-10)
    for a, b in zip(fast_params, numpy_params):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
