"""Loss options PyTorch users pass: BCE's weight and pos_weight, the deprecated size_average/reduce."""
from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn

try:
    import torch
except ImportError:  # PyTorch is an optional oracle
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed (optional oracle)")


def _softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_bce_with_logits_pos_weight_and_weight_by_hand() -> None:
    x, t = [0.5, -1.0], [1.0, 0.0]
    pw, w = [3.0, 2.0], [0.5, 4.0]
    # element i: w_i * (pw_i * t_i * softplus(-x_i) + (1 - t_i) * softplus(x_i))
    want = [w[i] * (pw[i] * t[i] * _softplus(-x[i]) + (1 - t[i]) * _softplus(x[i])) for i in range(2)]
    got = F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t), Tensor(w), reduction="none",
                                             pos_weight=Tensor(pw))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    loss = nn.BCEWithLogitsLoss(weight=Tensor(w), pos_weight=Tensor(pw), reduction="sum")
    assert loss(Tensor(x), Tensor(t)).item() == pytest.approx(sum(want), rel=1e-6)


def test_bce_weight_by_hand_and_broadcast_along_the_last_dim() -> None:
    p = Tensor([[0.25, 0.5], [0.75, 0.5]])
    t = Tensor([[1.0, 0.0], [0.0, 1.0]])
    w = Tensor([2.0, 1.0])  # (2,) broadcasts over rows
    want = np.mean([-2 * math.log(0.25), -math.log(0.5), -2 * math.log(0.25), -math.log(0.5)])
    assert F.binary_cross_entropy(p, t, w).item() == pytest.approx(want, rel=1e-6)
    assert nn.BCELoss(weight=w)(p, t).item() == pytest.approx(want, rel=1e-6)


def test_bce_weight_shape_errors_and_legacy_arguments() -> None:
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="pos_weight of shape \\(2,\\) cannot be broadcast"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=Tensor([1.0, 2.0]))
    with pytest.raises(NotImplementedError, match="size_average and reduce are deprecated"):
        nn.MSELoss(size_average=False)
    with pytest.raises(NotImplementedError, match="size_average and reduce are deprecated"):
        F.binary_cross_entropy(x + 0.5, x, reduce=False)


def test_pos_weight_gradient_flows_to_logits_only() -> None:
    x = Tensor(np.array([[0.3, -0.2, 1.5]]), requires_grad=True)
    pw = Tensor([1.0, 2.0, 0.5])
    F.binary_cross_entropy_with_logits(x, Tensor([[1.0, 1.0, 0.0]]), pos_weight=pw).backward()
    s = 1 / (1 + np.exp(-x.numpy()))
    t = np.array([[1.0, 1.0, 0.0]])
    # d/dx of (1 - t) softplus(x) + pw t softplus(-x) = (1 - t) s - pw t (1 - s), averaged over 3
    np.testing.assert_allclose(x.grad.numpy(), ((1 - t) * s - pw.numpy() * t * (1 - s)) / 3, rtol=1e-12)
    assert pw.grad is None


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_weights_match_torch(reduction: str) -> None:
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(4, 3)), (rng.random((4, 3)) > 0.5).astype(np.float64)
    w, pw = rng.uniform(0.5, 2, size=(4, 1)), rng.uniform(0.5, 3, size=3)
    for args, kw in [((w,), {}), ((None,), {"pos_weight": pw}), ((w,), {"pos_weight": pw})]:
        ours = F.binary_cross_entropy_with_logits(Tensor(x), Tensor(t), *[a if a is None else Tensor(a) for a in args],
                                                  reduction=reduction, **{k: Tensor(v) for k, v in kw.items()})
        ref = torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(x), torch.tensor(t), *[a if a is None else torch.tensor(a) for a in args],
            reduction=reduction, **{k: torch.tensor(v) for k, v in kw.items()})
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    p = 1 / (1 + np.exp(-x))
    ours = nn.BCELoss(weight=Tensor(w), reduction=reduction)(Tensor(p), Tensor(t))
    ref = torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction)(torch.tensor(p), torch.tensor(t))
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)


def test_positional_weight_is_weight_as_in_torch() -> None:
    """``F.binary_cross_entropy(p, t, w)``: the third positional argument is weight in PyTorch."""
    p, t = Tensor([0.5]), Tensor([1.0])
    assert F.binary_cross_entropy(p, t, Tensor([2.0])).item() == pytest.approx(2 * math.log(2), rel=1e-6)
    assert tc.nn.functional.mse_loss(Tensor([2.0]), Tensor([0.0]), None, None, "sum").item() == 4.0


def test_loss_weights_are_buffers_in_the_state_dict_as_in_torch() -> None:
    assert list(nn.BCEWithLogitsLoss(pos_weight=Tensor([1.0, 2.0])).state_dict()) == ["pos_weight"]
    assert list(nn.CrossEntropyLoss(weight=Tensor([1.0, 2.0])).state_dict()) == ["weight"]
    assert list(nn.BCELoss().state_dict()) == [] and list(nn.NLLLoss().state_dict()) == []
    if torch is not None:
        assert list(torch.nn.BCEWithLogitsLoss(pos_weight=torch.ones(2)).state_dict()) == ["pos_weight"]
        assert list(torch.nn.CrossEntropyLoss(weight=torch.ones(2)).state_dict()) == ["weight"]
