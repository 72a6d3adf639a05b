"""Layers: shapes, PyTorch's initialisation, BatchNorm statistics, LeNet-5, bad arguments."""
import math

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


def test_default_init_bounds_follow_pytorch():
    tc.manual_seed(0)
    lin = nn.Linear(400, 120)
    bound = 1 / math.sqrt(400)
    assert np.abs(lin.weight.numpy()).max() <= bound and np.abs(lin.weight.numpy()).max() > 0.9 * bound
    conv = nn.Conv2d(6, 16, 5)
    bound = 1 / math.sqrt(6 * 25)
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.bias.numpy()).max() <= bound
    assert lin.weight.dtype == np.float32


def test_layer_shapes():
    x = Tensor(np.zeros((2, 3, 8, 8), np.float32))
    assert nn.Conv2d(3, 4, 3, stride=2, padding=1)(x).shape == (2, 4, 4, 4)
    assert nn.ConvTranspose2d(3, 5, 4, stride=2, padding=1)(x).shape == (2, 5, 16, 16)
    assert nn.MaxPool2d(2)(x).shape == nn.AvgPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.Flatten()(x).shape == (2, 192)
    assert nn.LeNet5(num_classes=7, in_channels=3)(Tensor(np.zeros((2, 3, 28, 28), np.float32))).shape == (2, 7)
    assert nn.LeNet5(pool="avg", activation="tanh")(Tensor(np.zeros((1, 1, 28, 28), np.float32))).shape == (1, 10)


@needs_torch
def test_batchnorm_matches_torch_in_train_and_eval():
    rng = np.random.default_rng(0)
    bn, tbn = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32) * 2 + 1
        ours = bn(Tensor(x))
        theirs = tbn(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), tbn.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), tbn.running_var.numpy(), rtol=1e-5)
    bn.eval()
    tbn.eval()
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(bn(Tensor(x)).numpy(), tbn(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_batchnorm_gradients_pass_gradcheck():
    from tinygrad_cnn.testing import gradcheck

    x = Tensor(np.random.default_rng(1).standard_normal((3, 2, 2, 2)), requires_grad=True)
    w = Tensor(np.array([1.5, 0.5]), requires_grad=True)
    b = Tensor(np.array([0.1, -0.2]), requires_grad=True)
    assert gradcheck(lambda x, w, b: tc.nn.functional.batch_norm(x, None, None, w, b, training=True), (x, w, b))


def test_dropout_scales_and_is_identity_in_eval():
    tc.manual_seed(0)
    d = nn.Dropout(0.25)
    out = d(Tensor(np.ones(10000, np.float32))).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.03
    assert d.eval()(Tensor(np.ones(3, np.float32))).tolist() == [1.0, 1.0, 1.0]


def test_dropout_layers_are_siblings_as_in_pytorch():
    # code that finds dropout layers by isinstance(m, nn.Dropout) must not catch Dropout2d
    for lib in (tc, torch) if torch is not None else (tc,):
        assert not isinstance(lib.nn.Dropout2d(), lib.nn.Dropout) and not isinstance(lib.nn.Dropout(), lib.nn.Dropout2d)
    for layer in (nn.Dropout, nn.Dropout2d):
        with pytest.raises(ValueError, match=f"{layer.__name__}: p must be in \\[0, 1\\], got 1.5"):
            layer(1.5)


def test_layer_bad_arguments():
    with pytest.raises(ValueError, match="Linear: in_features must be a positive int, got 0"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="Conv2d: groups=2 must divide in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"LeNet5: expected input \(N, C, 28, 28\), got shape \(1, 1, 32, 32\)"):
        nn.LeNet5()(Tensor(np.zeros((1, 1, 32, 32), np.float32)))
    with pytest.raises(ValueError, match="LeNet5: pool must be one of"):
        nn.LeNet5(pool="min")
    with pytest.raises(ValueError, match=r"linear: input's last dimension must be in_features=3"):
        nn.Linear(3, 2)(Tensor(np.zeros((2, 4), np.float32)))
    with pytest.raises(TypeError, match="Sequential: argument 0 must be a Module"):
        nn.Sequential(lambda x: x)
