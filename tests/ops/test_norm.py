"""batch_norm as one op: forward against a plain-loop reference, the kernel gradient against the
composed one that create_graph uses, running statistics, and PyTorch when installed."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None


def _loop_bn(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        vals = x[:, c].ravel()
        mean = sum(vals) / len(vals)
        var = sum((v - mean) ** 2 for v in vals) / len(vals)
        out[:, c] = (x[:, c] - mean) / np.sqrt(var + eps) * w[c] + b[c]
    return out


@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 5), (2, 3, 4, 5)])
def test_forward_matches_the_loop_reference(shape: tuple) -> None:
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=shape) * 2 + 1, rng.uniform(0.5, 2, shape[1]), rng.normal(size=shape[1])
    got = F.batch_norm(Tensor(x), None, None, Tensor(w), Tensor(b), training=True, eps=1e-3)
    np.testing.assert_allclose(got.numpy(), _loop_bn(x, w, b, 1e-3), rtol=1e-10, atol=1e-12)


def test_kernel_gradient_equals_the_composed_gradient() -> None:
    """First-order backward runs the numpy kernel; under create_graph the Tensor-op formula runs."""
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(4, 3, 2, 2)), requires_grad=True)
    w, b = Tensor(rng.uniform(0.5, 2, 3), requires_grad=True), Tensor(rng.normal(size=3), requires_grad=True)
    g = Tensor(rng.normal(size=(4, 3, 2, 2)))

    def grads(create_graph: bool) -> list:
        y = F.batch_norm(x, None, None, w, b, training=True)
        return [t.numpy() for t in tc.grad(y, [x, w, b], g, create_graph=create_graph)]
    for fast, composed in zip(grads(False), grads(True)):
        np.testing.assert_allclose(fast, composed, rtol=1e-10, atol=1e-12)


def test_gradient_by_hand_two_values() -> None:
    """x = [1, 3] in one channel: xhat = [-1, 1]; with g = [1, 0], dx = (g - mean g - xhat mean(g xhat)) / sigma."""
    x = Tensor(np.array([[1.0], [3.0]]), requires_grad=True)
    F.batch_norm(x, None, None, training=True, eps=0.0).backward(Tensor(np.array([[1.0], [0.0]])))
    # mean g = 0.5, mean(g xhat) = -0.5, sigma = 1: dx = [1 - 0.5 - 0.5, 0 - 0.5 + 0.5] = [0, 0]
    np.testing.assert_allclose(x.grad.numpy(), [[0.0], [0.0]], atol=1e-12)


def test_running_statistics_and_eval() -> None:
    rm, rv = np.zeros(2), np.ones(2)
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    F.batch_norm(Tensor(x), rm, rv, training=True, momentum=0.5)
    np.testing.assert_allclose(rm, [1.0, 2.0])  # 0.5 * 0 + 0.5 * mean
    np.testing.assert_allclose(rv, [0.5 + 0.5 * 2.0, 0.5 + 0.5 * 8.0])  # unbiased: 2 and 8
    out = F.batch_norm(Tensor(x), rm, rv, training=False, eps=0.0)
    np.testing.assert_allclose(out.numpy(), (x - rm) / np.sqrt(rv))


def test_momentum_none_is_a_cumulative_average() -> None:
    bn = nn.BatchNorm1d(1, momentum=None)
    for v in ([0.0, 2.0], [4.0, 6.0]):
        bn(Tensor(np.array(v).reshape(2, 1)))
    np.testing.assert_allclose(bn.running_mean.numpy(), [3.0])  # the mean of the batch means 1 and 5


def test_errors() -> None:
    with pytest.raises(RuntimeError, match="more than 1 value per channel"):
        F.batch_norm(Tensor(np.ones((1, 3))), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean and running_var are required"):
        F.batch_norm(Tensor(np.ones((2, 3))), None, None, training=False)
    with pytest.raises(RuntimeError, match=r"weight must be a Tensor of shape \(3,\)"):
        F.batch_norm(Tensor(np.ones((2, 3))), None, None, Tensor(np.ones(2)), training=True)
    with pytest.raises(RuntimeError, match=r"BatchNorm2d: expected input \(N, C, H, W\) with C=3"):
        nn.BatchNorm2d(3)(Tensor(np.ones((2, 3))))


@pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")
@pytest.mark.parametrize("cls, shape", [("BatchNorm2d", (8, 3, 5, 4)), ("BatchNorm1d", (6, 4)),
                                        ("BatchNorm1d", (6, 4, 7))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_modules_match_torch_over_steps(cls: str, shape: tuple, momentum: float | None) -> None:
    rng = np.random.default_rng(2)
    ours, ref = getattr(nn, cls)(shape[1], momentum=momentum), getattr(torch.nn, cls)(shape[1], momentum=momentum)
    ref = ref.double()
    ours.weight.numpy()[:] = rng.uniform(0.5, 2, shape[1])
    ours.bias.numpy()[:] = rng.normal(size=shape[1])
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(ours.weight.numpy()))
        ref.bias.copy_(torch.tensor(ours.bias.numpy()))
    for _ in range(3):
        x, g = rng.normal(size=shape) * 3 + 1, rng.normal(size=shape)
        xt, xr = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours.zero_grad()
        ref.zero_grad()
        y, yr = ours(xt), ref(xr)
        y.backward(Tensor(g))
        yr.backward(torch.tensor(g))
        np.testing.assert_allclose(y.numpy(), yr.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours.running_var.numpy(), ref.running_var.numpy(), rtol=1e-5)
    ours.eval()
    ref.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
