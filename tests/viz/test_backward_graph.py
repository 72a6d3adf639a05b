"""draw_graph(backward=True): the closures backward runs, double backward included; depth=."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_cnn as tc
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, nn, viz


def _labels(dot: str) -> list[str]:
    return re.findall(r'label="([^"]*)"', dot)


def test_backward_graph_of_lenet() -> None:
    tc.manual_seed(0)
    model = nn.LeNet5()
    loss = F.cross_entropy(model(tc.randn(2, 1, 28, 28)), Tensor(np.array([1, 2])))
    dot = viz.to_dot(loss, params=model, backward=True)
    labels = _labels(dot)
    assert sum(label.startswith("AccumulateGrad") for label in labels) == 10
    assert any(label.startswith("AccumulateGrad\\nconv1.weight") for label in labels)
    assert sum(label.startswith("conv2dBackward") for label in labels) == 2
    assert labels.count("sumBackward\\ngrad () float32") == 1
    # edges run from each op's backward to its inputs' (the root has no incoming edge)
    edges = re.findall(r"(t\d+) -> (t\d+)", dot)
    assert not [e for e in edges if e[1] == "t0"] and [e for e in edges if e[0] == "t0"]


def test_double_backward_shows_the_backward_ops_of_conv2d() -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(1, 1, 6, 6)), requires_grad=True)
    w = Tensor(np.random.default_rng(1).normal(size=(2, 1, 3, 3)), requires_grad=True)
    gx, gw = tc.grad(F.conv2d(x, w).tanh().sum(), (x, w), create_graph=True)
    forward = viz.to_dot([gx, gw], params={"x": x, "w": w})
    assert "conv_transpose2d" in forward and "conv2d_weight" in forward
    backward = viz.to_dot(gx.sum() + gw.sum(), params={"x": x, "w": w}, backward=True)
    assert "conv_transpose2dBackward" in backward and "conv2d_weightBackward" in backward
    assert "conv2dBackward" in backward  # the forward conv's own backward, reached through tanh


class Block(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return (self.bn(self.conv(x)) + x).relu()


def _resnetish() -> tuple:
    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), Block(4), Block(4), Block(4), nn.Conv2d(4, 8, 1, stride=2),
                          Block(8), nn.Flatten(), nn.Linear(8 * 4 * 4, 3))
    return model, model(tc.randn(2, 1, 8, 8)).sum()


def test_depth_collapses_modules_and_folds_repeated_blocks() -> None:
    model, out = _resnetish()
    labels = _labels(viz.to_dot(out, params=model, depth=1))
    assert "1 … 3: Block ×3\\n(2, 4, 8, 8) → (2, 4, 8, 8)" in labels
    assert "5: Block\\n(2, 8, 4, 4) → (2, 8, 4, 4)" in labels  # alone after the stride-2 conv
    assert "4: Conv2d\\n(2, 4, 8, 8) → (2, 8, 4, 4)" in labels
    assert not any("conv.weight" in label for label in labels)  # parameters are inside the boxes
    full = _labels(viz.to_dot(out, params=model, depth=2))  # depth 2: the blocks' layers, unfolded
    assert sum(label.startswith(("1.conv: Conv2d", "2.conv: Conv2d", "3.conv: Conv2d")) for label in full) == 3


def test_depth_arguments() -> None:
    model, out = _resnetish()
    with pytest.raises(ValueError, match="depth must be a positive int"):
        viz.to_dot(out, params=model, depth=0)
    with pytest.raises(ValueError, match="depth needs params to be the Module"):
        viz.to_dot(out, depth=1)
