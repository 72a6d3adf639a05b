"""Gradient flow: per-layer gradient sizes, now (``plot_grad_flow``) and over a training run
(``GradFlow``, whose history ``plots.write_grad_flow`` draws)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["plot_grad_flow", "GradFlow", "layer_grad_norms"]


def _named_grads(named_parameters: Iterable[tuple[str, Tensor]], who: str) -> list[tuple[str, np.ndarray]]:
    out = []
    for item in named_parameters:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor)):
            raise TypeError(f"{who}: expected (name, Tensor) pairs such as model.named_parameters(), got {item!r}")
        name, p = item
        if p.requires_grad and p.grad is not None:
            out.append((str(name), np.asarray(p.grad._data, dtype=np.float64)))
    return out


def plot_grad_flow(named_parameters: Iterable[tuple[str, Tensor]], ax: Any = None) -> Any:
    """Bars of each parameter's mean and max absolute gradient (log scale), in the order given:
    vanishing gradients show as bars that shrink towards the input layers. Call after
    ``backward()``; returns the matplotlib Axes.

    >>> import tinygrad_cnn as tc
    >>> model = tc.nn.Linear(3, 2)
    >>> model(tc.ones(1, 3)).sum().backward()
    >>> ax = plot_grad_flow(model.named_parameters())
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['weight', 'bias']
    """
    import matplotlib.pyplot as plt

    grads = _named_grads(named_parameters, "plot_grad_flow")
    if not grads:
        raise ValueError("plot_grad_flow: no parameter has a gradient yet; call backward() first")
    names = [n for n, _ in grads]
    tiny = np.finfo(np.float64).tiny  # a zero gradient still shows on a log axis
    means = [max(float(np.abs(g).mean()), tiny) for _, g in grads]
    maxes = [max(float(np.abs(g).max()), tiny) for _, g in grads]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(names) + 2), 3.6))
    x = np.arange(len(names))
    ax.bar(x, maxes, color="#90caf9", label="max |grad|")
    ax.bar(x, means, width=0.5, color="#1565c0", label="mean |grad|")
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    ax.set(ylabel="gradient (log scale)", title="gradient flow")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return ax


def layer_grad_norms(named_parameters: Iterable[tuple[str, Tensor]]) -> dict[str, float]:
    """The gradient norm of each layer (parameters grouped by module: ``conv1.weight`` and
    ``conv1.bias`` make ``conv1``), in the order given.

    >>> import tinygrad_cnn as tc
    >>> model = tc.nn.Sequential(tc.nn.Linear(2, 2))
    >>> model(tc.ones(1, 2)).sum().backward()
    >>> list(layer_grad_norms(model.named_parameters()))
    ['0']
    """
    sums: dict[str, float] = {}
    for name, g in _named_grads(named_parameters, "layer_grad_norms"):
        layer = name.rsplit(".", 1)[0] if "." in name else name
        sums[layer] = sums.get(layer, 0.0) + float(np.dot(g.ravel(), g.ravel()))
    return {k: float(np.sqrt(v)) for k, v in sums.items()}


class GradFlow:
    """Per-layer gradient norms recorded over training: ``record(step)`` after each backward."""

    def __init__(self, model: Any):
        self.model = model
        self.steps: list[int] = []
        self.norms: dict[str, list[float]] = {}

    def record(self, step: int) -> None:
        norms = layer_grad_norms(self.model.named_parameters())
        for layer in list(self.norms) + [k for k in norms if k not in self.norms]:  # no gradient this step: NaN
            self.norms.setdefault(layer, [float("nan")] * len(self.steps)).append(norms.get(layer, float("nan")))
        self.steps.append(step)
