"""The pictures a training run writes: loss/accuracy curves (matplotlib) and LeNet-5's graph (Graphviz)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _skipped(path: Path) -> str:
    return f"note: matplotlib is not installed; skipped {path.name} (pip install tinygrad_cnn[plot])"


def _save(plt: Any, fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"wrote {path}"


def write_curves(path: Path, metrics: list) -> str:
    """Loss and accuracy per epoch, train and test, as a PNG; returns the line to report."""
    plt = _pyplot()
    if plt is None:
        return _skipped(path)
    from matplotlib.ticker import MaxNLocator
    epochs = [m["epoch"] for m in metrics]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(epochs, [m["train_loss"] for m in metrics], "o-", label="train")
    a1.plot(epochs, [m["test_loss"] for m in metrics], "s-", label="test")
    a1.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    a2.plot(epochs, [m["train_accuracy"] for m in metrics], "o-", label="train")
    a2.plot(epochs, [m["test_accuracy"] for m in metrics], "s-", label="test")
    a2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for a in (a1, a2):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.legend()
        a.grid(alpha=0.3)
    return _save(plt, fig, path)


def write_grad_flow(path: Path, flow: Any) -> str:
    """Per-layer gradient norms over the run's steps (log scale), as a PNG; returns the line to report."""
    plt = _pyplot()
    if plt is None:
        return _skipped(path)
    if not flow.steps:
        return f"note: no training step ran; skipped {path.name}"
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for layer, norms in flow.norms.items():
        ax.plot(flow.steps, norms, label=layer, lw=1)
    ax.set_yscale("log")
    ax.set(xlabel="training step", ylabel="gradient norm (log scale)", title="gradient flow per layer")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return _save(plt, fig, path)


def lenet_graph(model: Any, batch: int) -> Any:
    """LeNet-5's training graph on random images: forward through the cross-entropy loss."""
    from .nn import functional as F
    from .tensor import Tensor

    x = Tensor(np.random.default_rng(0).standard_normal((batch, 1, 28, 28)).astype(np.float32), name="images")
    y = Tensor(np.arange(batch) % 10, name="labels")
    loss = F.cross_entropy(model(x), y)
    loss.name = "loss"
    return loss


def write_graph(path: Path, model: Any) -> str:
    """The model's training graph as SVG (DOT source when Graphviz's ``dot`` is missing)."""
    from . import viz

    loss = lenet_graph(model, 2)
    if not viz.dot_available():
        path.with_suffix(".dot").write_text(viz.to_dot(loss, params=model, clusters=True))
        return f"note: the Graphviz 'dot' program is missing; wrote {path.with_suffix('.dot')} instead of {path.name}"
    viz.draw_graph(loss, params=model, clusters=True).render(outfile=str(path), cleanup=True)
    return f"wrote {path}"


def write_lenet_graph(out: Path, batch: int, backward: bool = False) -> str:
    """LeNet-5's training graph (or, with ``backward``, its backward graph) to ``out``; the format
    follows the suffix (.svg, .png, .pdf; .dot is DOT source and needs no Graphviz)."""
    from . import viz
    from .nn import LeNet5

    model = LeNet5()
    loss = lenet_graph(model, batch)
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = out.suffix.lstrip(".").lower() or "svg"
    graph = viz.draw_graph(loss, params=model, clusters=not backward, backward=backward)
    if fmt == "dot":
        out.write_text(graph.source)
    else:
        graph.render(outfile=str(out), format=fmt, cleanup=True)
    return f"wrote {out}"


def write_backward_steps(path: Path, batch: int) -> str:
    """The step-by-step backward page of LeNet-5's training loss (``viz.trace_backward``)."""
    from . import viz
    from .nn import LeNet5

    model = LeNet5()
    loss = lenet_graph(model, batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    trace = viz.trace_backward(loss, params=model, title=f"LeNet-5 backward, batch {batch}")
    trace.to_html(path)
    return f"wrote {path} ({len(trace)} steps)"
