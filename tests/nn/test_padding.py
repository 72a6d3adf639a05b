"""Padding modes, padding layers, Conv2d's padding_mode and adaptive pooling to any size."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")

MODES = ["reflect", "replicate", "circular"]


def _loop_pad(x: np.ndarray, pad: tuple, mode: str) -> np.ndarray:
    """Plain-loop reference: each output element looks up its source position axis by axis."""
    k = len(pad) // 2
    widths = [(0, 0)] * (x.ndim - k) + [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(k))]
    out = np.empty([n + lo + hi for n, (lo, hi) in zip(x.shape, widths)])
    for pos in np.ndindex(*out.shape):
        src = []
        for p, n, (lo, _) in zip(pos, x.shape, widths):
            i = p - lo
            if mode == "reflect":
                while not 0 <= i < n:
                    i = -i if i < 0 else 2 * (n - 1) - i
            elif mode == "replicate":
                i = min(max(i, 0), n - 1)
            else:
                i %= n
            src.append(i)
        out[pos] = x[tuple(src)]
    return out


@st.composite
def _pad_case(draw: st.DrawFn) -> tuple:
    k = draw(st.integers(1, 2))
    shape = tuple(draw(st.lists(st.integers(2, 4), min_size=k + 1, max_size=k + 2)))
    mode = draw(st.sampled_from(MODES))
    pad = []
    for n in reversed(shape[-k:]):
        limit = n - 1 if mode == "reflect" else n
        pad += [draw(st.integers(0, limit)), draw(st.integers(0, limit))]
    x = np.random.default_rng(draw(st.integers(0, 2**31))).normal(size=shape)
    return x, tuple(pad), mode


@settings(max_examples=40, deadline=None)
@given(_pad_case())
def test_pad_modes_match_the_loop_reference_and_differentiate_twice(case: tuple) -> None:
    x, pad, mode = case
    np.testing.assert_array_equal(F.pad(Tensor(x), pad, mode=mode).numpy(), _loop_pad(x, pad, mode))
    xt = Tensor(x, requires_grad=True)
    gradcheck(lambda t: F.pad(t, pad, mode=mode), (xt,))
    gradgradcheck(lambda t: F.pad(t, pad, mode=mode) ** 2, (xt,))


def test_reflect_gradient_by_hand() -> None:
    """Reflect (2, 1) of [a, b, c] is [c, b, a, b, c, b]: b is used three times, c twice."""
    x = Tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    F.pad(x, (2, 1), mode="reflect").sum().backward()
    assert x.grad.tolist() == [[[1.0, 3.0, 2.0]]]


def test_pad_mode_errors() -> None:
    x = Tensor(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="mode must be"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(RuntimeError, match="must be at most 2 for its size 3"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="needs a 2-D or 3-D input"):
        F.pad(Tensor(np.zeros((1, 1, 2, 3))), (1, 1), mode="replicate")
    with pytest.raises(ValueError, match="only meaningful in 'constant' mode"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)


@needs_torch
@pytest.mark.parametrize("mode", MODES)
def test_pad_modes_and_layers_match_torch(mode: str) -> None:
    x = np.random.default_rng(1).normal(size=(2, 3, 5, 6))
    for pad in [(1, 2, 0, 3), (2, 2, 2, 2), (0, 0, 1, 0)]:
        np.testing.assert_array_equal(F.pad(Tensor(x), pad, mode=mode).numpy(),
                                      torch.nn.functional.pad(torch.tensor(x), pad, mode=mode).numpy())
    layer = {"reflect": "ReflectionPad2d", "replicate": "ReplicationPad2d", "circular": "CircularPad2d"}[mode]
    np.testing.assert_array_equal(getattr(nn, layer)((1, 2, 3, 1))(Tensor(x)).numpy(),
                                  getattr(torch.nn, layer)((1, 2, 3, 1))(torch.tensor(x)).numpy())


def test_padding_layers_by_hand() -> None:
    x = Tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert nn.ZeroPad2d((1, 0, 0, 1))(x).tolist() == [[[[0.0, 1.0, 2.0], [0.0, 3.0, 4.0], [0.0, 0.0, 0.0]]]]
    assert nn.ConstantPad2d((0, 1, 0, 0), -1.0)(x).tolist() == [[[[1.0, 2.0, -1.0], [3.0, 4.0, -1.0]]]]
    assert nn.ReplicationPad2d((0, 0, 1, 0))(x).tolist() == [[[[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]]]
    assert nn.ReflectionPad1d((1, 0))(Tensor([[[1.0, 2.0]]])).tolist() == [[[2.0, 1.0, 2.0]]]
    with pytest.raises(ValueError, match="ReflectionPad2d: padding must be a non-negative int or 4"):
        nn.ReflectionPad2d((1, 2))


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_padding_mode_is_pad_then_unpadded_conv(mode: str) -> None:
    tc.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
    x = Tensor(np.random.default_rng(2).normal(size=(1, 2, 5, 5)).astype(np.float32))
    want = F.conv2d(F.pad(x, (2, 2, 1, 1), mode=mode), conv.weight, conv.bias)
    np.testing.assert_array_equal(conv(x).numpy(), want.numpy())
    assert f"padding_mode='{mode}'" in repr(conv)
    if torch is not None:
        ref = torch.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
        with torch.no_grad():
            ref.weight.copy_(torch.tensor(conv.weight.numpy()))
            ref.bias.copy_(torch.tensor(conv.bias.numpy()))
        np.testing.assert_allclose(conv(x).numpy(), ref(torch.tensor(x.numpy())).detach().numpy(), rtol=1e-5, atol=1e-6)


def _loop_adaptive(x: np.ndarray, oh: int, ow: int) -> np.ndarray:
    h, w = x.shape[-2:]
    out = np.empty(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            c0, c1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            out[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return out


@pytest.mark.parametrize("shape, size", [((2, 3, 7, 5), (3, 2)), ((1, 2, 10, 10), 7), ((3, 6, 6), (4, None)),
                                         ((1, 1, 5, 8), (5, 3)), ((2, 1, 8, 8), 4)])
def test_adaptive_avg_pool_any_size(shape: tuple, size: object) -> None:
    x = np.random.default_rng(3).normal(size=shape)
    oh, ow = (size, size) if isinstance(size, int) else size
    oh, ow = oh or shape[-2], ow or shape[-1]
    np.testing.assert_allclose(F.adaptive_avg_pool2d(Tensor(x), size).numpy(), _loop_adaptive(x, oh, ow), rtol=1e-12)
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(size)(Tensor(x)).numpy(), _loop_adaptive(x, oh, ow), rtol=1e-12)
    xt = Tensor(x, requires_grad=True)
    gradcheck(lambda t: F.adaptive_avg_pool2d(t, size), (xt,))
    gradgradcheck(lambda t: F.adaptive_avg_pool2d(t, size) ** 2, (xt,))
    if torch is not None:
        ref = torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), size).numpy()
        np.testing.assert_allclose(F.adaptive_avg_pool2d(Tensor(x), size).numpy(), ref, rtol=1e-12)


def test_unsupported_features_are_named() -> None:
    with pytest.raises(AttributeError, match="torch.nn.LSTM is not supported by tinygrad_cnn"):
        nn.LSTM  # noqa: B018
    with pytest.raises(AttributeError, match="torch.Tensor.cumsum is not supported by tinygrad_cnn"):
        tc.ones(2).cumsum(0)
    with pytest.raises(AttributeError, match="torch.optim.LBFGS is not supported"):
        tc.optim.LBFGS  # noqa: B018
    assert not hasattr(tc, "fft") and not hasattr(tc.ones(1), "_private")
