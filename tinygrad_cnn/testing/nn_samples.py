"""Strategies for the loss and normalization ops (``op_samples`` imports this module, so that
``SAMPLES`` holds them)."""
from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..tensor import Tensor
from .sample import Sample, sample
from .strategies import shapes, tensors


@st.composite
def _classification(draw: Any, log_probs: bool) -> tuple:
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    spatial = draw(st.sampled_from([(), (), (2,)]))
    x = draw(tensors((n, c) + spatial, min_value=-3, max_value=3))
    if log_probs:
        x = Tensor(x._data - np.log(np.exp(x._data).sum(1, keepdims=True)), requires_grad=True)
    t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n * int(np.prod(spatial)),
                               max_size=n * int(np.prod(spatial))))).reshape((n,) + spatial)
    if draw(st.booleans()):
        t.reshape(-1)[draw(st.integers(0, t.size - 1))] = -100  # one ignored target
        assume((t != -100).any())
    return x, Tensor(t.astype(np.int64))


@sample("cross_entropy")
def _cross_entropy(draw: Any) -> Sample:
    x, t = draw(_classification(False))
    if draw(st.booleans()):  # class probabilities, differentiable too
        p = draw(tensors(x.shape, min_value=0.1, max_value=1.0))
        t = Tensor(p._data / p._data.sum(1, keepdims=True), requires_grad=True)
    kw = {"reduction": draw(st.sampled_from(["mean", "sum", "none"])),
          "label_smoothing": draw(st.sampled_from([0.0, 0.1, 0.3])), "weight": draw(_class_weight(x.shape[1]))}
    return Sample((x, t), kw)


def _class_weight(n_classes: int) -> st.SearchStrategy:
    """None, or positive weights per class (constants: the losses do not differentiate them)."""
    weights = st.lists(st.floats(0.2, 2.0), min_size=n_classes, max_size=n_classes)
    return st.one_of(st.none(), weights.map(lambda w: Tensor(np.array(w))))


@sample("nll_loss")
def _nll_loss(draw: Any) -> Sample:
    x, t = draw(_classification(True))
    return Sample((x, t), {"reduction": draw(st.sampled_from(["mean", "sum", "none"])),
                           "weight": draw(_class_weight(x.shape[1]))})


def _regression(name: str, **target_kw: Any) -> None:
    @sample(name)
    def draw_regression(draw: Any) -> Sample:
        shape = draw(shapes(min_dims=1))
        x = draw(tensors(shape, **target_kw)) if name == "binary_cross_entropy" else draw(tensors(shape))
        t = draw(tensors(shape, min_value=0.0, max_value=1.0, requires_grad=draw(st.booleans())))
        kwargs: dict = {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
        if name.startswith("binary_cross_entropy"):  # element weights broadcast from the last dimension
            positive: dict[str, Any] = {"min_value": 0.2, "max_value": 2.0, "requires_grad": False}
            kwargs["weight"] = draw(st.none() | tensors(shape[-1:], **positive))
            if name.endswith("logits"):
                kwargs["pos_weight"] = draw(st.none() | tensors(shape[-1:], **positive))
        return Sample((x, t), kwargs)


_regression("mse_loss")


@sample("l1_loss")
def _l1_loss(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1))
    t = draw(tensors(shape, min_value=0.0, max_value=1.0))
    d = draw(tensors(shape, min_magnitude=0.1))  # away from the kink at input == target
    x = Tensor(t._data + d._data, requires_grad=True)
    return Sample((x, t), {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))})


@sample("smooth_l1_loss")
def _smooth_l1_loss(draw: Any) -> Sample:
    shape = draw(shapes(min_dims=1))
    beta = draw(st.sampled_from([0.5, 1.0, 2.0]))
    t = draw(tensors(shape, min_value=0.0, max_value=1.0))
    # |d| well inside or well outside beta: the second derivative jumps at |d| == beta
    mags = draw(tensors(shape, min_value=0.05, max_value=3.0, requires_grad=False))._data
    mags = np.where(np.abs(mags - beta) < 0.1, mags + 0.3, mags)
    signs = np.where(draw(tensors(shape, requires_grad=False))._data < 0, -1.0, 1.0)
    x = Tensor(t._data + signs * mags, requires_grad=True)
    return Sample((x, t), {"reduction": draw(st.sampled_from(["mean", "sum", "none"])), "beta": beta})
_regression("binary_cross_entropy", min_value=0.05, max_value=0.95)
_regression("binary_cross_entropy_with_logits")


@sample("batch_norm")
def _batch_norm(draw: Any) -> Sample:
    n, c = draw(st.integers(2, 4)), draw(st.integers(1, 3))
    shape = (n, c) + tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    x = draw(tensors(shape))
    # a channel of nearly equal values makes 1/sigma huge and the finite differences meaningless
    assume(float(x._data.reshape(n, c, -1).transpose(1, 0, 2).reshape(c, -1).std(axis=1).min()) > 0.3)
    training = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    stats = (rng.normal(size=c), rng.uniform(0.5, 2.0, size=c))
    weight = draw(st.none() | tensors((c,), min_value=0.5, max_value=2.0))
    bias = draw(st.none() | tensors((c,)))
    return Sample((x, stats[0], stats[1], weight, bias), {"training": training,
                                                          "eps": draw(st.sampled_from([1e-5, 0.1]))})
