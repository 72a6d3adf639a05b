"""Gradient flow: per-layer norms by hand, the bar plot, the history a training run draws."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn, viz


def _model_with_grads() -> nn.Module:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with tc.no_grad():
        model[0].weight.copy_(Tensor(np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)))
        model[0].bias.zero_()
        model[2].weight.copy_(Tensor(np.array([[3.0, 4.0]], np.float32)))
        model[2].bias.zero_()
    model(Tensor(np.array([[1.0, 2.0]], np.float32))).sum().backward()
    return model


def test_layer_norms_by_hand() -> None:
    norms = viz.layer_grad_norms(_model_with_grads().named_parameters())
    # layer 2: d/dw = hidden = (1, 2), d/db = 1 -> sqrt(1 + 4 + 1); layer 0: d/dW = outer((3, 4), (1, 2)), d/db = (3, 4)
    assert list(norms) == ["0", "2"]
    assert norms["2"] == pytest.approx(np.sqrt(6.0))
    assert norms["0"] == pytest.approx(np.sqrt(9 + 36 + 16 + 64 + 9 + 16))


def test_history_records_nan_for_layers_without_a_gradient() -> None:
    model = _model_with_grads()
    flow = viz.GradFlow(model)
    flow.record(1)
    model[0].weight.grad = model[0].bias.grad = None
    flow.record(2)
    assert flow.steps == [1, 2] and np.isnan(flow.norms["0"][1]) and flow.norms["2"][1] == pytest.approx(np.sqrt(6))


def test_plot_and_errors() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = viz.plot_grad_flow(_model_with_grads().named_parameters())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert ax.get_yscale() == "log" and len(ax.patches) == 8  # max and mean bars per parameter
    with pytest.raises(ValueError, match="no parameter has a gradient"):
        viz.plot_grad_flow(nn.Linear(2, 2).named_parameters())
    with pytest.raises(TypeError, match=r"expected \(name, Tensor\) pairs"):
        viz.plot_grad_flow([1, 2])
