"""``trace_backward``: run backward and record what the engine does, step by step.

Each step is one tensor the engine visits, in its order: an op node (its backward closure runs)
or a leaf (its gradient lands in ``.grad``, PyTorch's "AccumulateGrad"). A step holds the
incoming gradient's shape, norm, min and max, and one record per gradient handed to an input;
where a tensor is used more than once, each record says which contribution it is and the norm
of the running sum, so that accumulation at fan-out nodes can be followed.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from ..engine import root_gradient, run_backward
from ..tensor import Tensor
from .base import _param_names, _roots, _shape, graph_tensors
from .graph import box_node_ids, draw_graph
from .heat import heatmap
from .page import render_page
from .rules import rule_of

__all__ = ["trace_backward", "BackwardTrace"]


def caption(t: Tensor, labels: dict[int, str]) -> str:
    """A tensor as the picture labels its box: the op with its arguments, or the leaf's name, and the shape."""
    node = t.grad_fn
    if node is None:
        head = labels.get(id(t)) or ("constant" if t.numel() == 1 else "input")
    else:
        head = node.name + (f" {node.meta['args']}" if node.meta and "args" in node.meta else "")
    return f"{head} {_shape(t.shape)}"


def _stats(a: np.ndarray) -> dict:
    """Shape, norm, min and max of a gradient, as numbers and as the text the page shows, and its heatmap."""
    if a.size == 0:
        return {"shape": list(a.shape), "norm": 0.0, "min": 0.0, "max": 0.0, "text": f"{tuple(a.shape)} empty",
                "heat": None}
    # flatten in memory order: a conv's gradient lies batch-innermost, and a.reshape(-1) would copy it
    by_memory = a.transpose(sorted(range(a.ndim), key=lambda ax: -a.strides[ax]))
    flat = by_memory.reshape(-1) if by_memory.flags.c_contiguous else a.reshape(-1)
    norm = float(np.sqrt(np.dot(flat, flat))) if a.dtype.kind == "f" else float(np.linalg.norm(flat))
    lo, hi = float(a.min()), float(a.max())
    return {"shape": list(a.shape), "norm": norm, "min": lo, "max": hi,
            "text": f"{tuple(a.shape)} norm {norm:.4g}, min {lo:.4g}, max {hi:.4g}", "heat": heatmap(a)}


class _Recorder:
    """The engine's observer: one record per visit, one per gradient handed on."""

    def __init__(self, ids: dict[int, str], labels: dict[int, str], expected: dict[int, int]):
        self.ids, self.labels, self.expected = ids, labels, expected
        self.steps: list[dict] = []
        self.received: dict[int, int] = {}

    def visit(self, t: Tensor, g: Tensor) -> None:
        node = t.grad_fn
        op = node.name if node is not None else "AccumulateGrad"
        label = self.labels.get(id(t), "")
        step = {"step": len(self.steps), "node": self.ids.get(id(t), ""), "op": op, "label": label,
                "caption": caption(t, self.labels), "kind": "op" if node is not None else "leaf",
                "grad": _stats(g._data), "contributions": self.received.get(id(t), 0), "handed": []}
        if node is not None:
            step["rule"] = rule_of(node.name)
            step["call"] = f"{node.name}({', '.join(caption(p, self.labels) for p in node.parents)})"
        self.steps.append(step)

    def hand(self, p: Tensor, i: int, pg: Tensor, running: Tensor) -> None:
        k = self.received[id(p)] = self.received.get(id(p), 0) + 1
        record = {"input": i, "to": self.ids.get(id(p), ""), "label": self.labels.get(id(p), ""),
                  "caption": caption(p, self.labels), "grad": _stats(pg._data), "contribution": k,
                  "of": self.expected.get(id(p), k)}
        if k > 1:
            s = _stats(running._data)
            record["running"] = {"norm": s["norm"], "text": f"running sum's norm {s['norm']:.4g}"}
        self.steps[-1]["handed"].append(record)


class BackwardTrace:
    """What :func:`trace_backward` recorded: ``steps`` (plain dicts, in the engine's order), and
    the graph they walked, drawn on demand (``dot``: DOT source whose node ids the steps name in
    ``step["node"]``)."""

    def __init__(self, steps: list[dict], root: Tensor, params: Any, title: str):
        self.steps, self.title = steps, title
        self._root, self._params = root, params  # the graph's structure outlives backward
        self._dot: str | None = None

    @property
    def dot(self) -> str:
        if self._dot is None:
            graph = draw_graph(self._root, self._params, clusters=self._params is not None)
            graph.edge_attr["dir"] = "back"  # the forward layout, arrows the way the gradients flow
            self._dot = graph.source
        return self._dot

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"BackwardTrace({len(self.steps)} steps)"

    def to_html(self, path: str | Path | None = None) -> str:
        """One self-contained page (the graph as inline SVG, plain JavaScript, no network) that
        steps through backward: a slider and Prev/Next, the current node highlighted, nodes done
        marked, the step's numbers in a side panel, accumulation at fan-out nodes shown; open
        it at ``#step=K`` (K counts from 0) to start at step K. Needs Graphviz's ``dot``.
        With ``path``, writes the page there and returns the path (a REPL shows a name, not
        the page); without, returns the page's HTML."""
        page = render_page(self.title, self.dot, self.steps)
        if path is None:
            return page
        Path(path).write_text(page, encoding="utf-8")
        return str(path)

    def _repr_html_(self) -> str:
        # in an iframe, so that the page's script runs in Jupyter without touching the notebook
        return (f'<iframe srcdoc="{html.escape(self.to_html(), quote=True)}" style="width:100%;height:720px;'
                'border:1px solid #ddd"></iframe>')


def trace_backward(root: Tensor, params: Any = None, gradient: Any = None, retain_graph: bool = False,
                   title: str = "backward, step by step") -> BackwardTrace:
    """Run ``root.backward(gradient)`` (accumulating into ``.grad`` as usual) and record each step
    of the engine. ``params``: a Module or a dict name -> Tensor, to name the leaves and draw
    module clusters.

    >>> from tinygrad_cnn import Tensor
    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> trace = trace_backward((x * x).sum())
    >>> [s["op"] for s in trace.steps], trace.steps[1]["handed"][1]["contribution"]
    (['sum', 'mul', 'AccumulateGrad'], 2)
    """
    roots = _roots(root)
    if len(roots) != 1:
        raise ValueError("trace_backward: root must be one Tensor")
    g = root_gradient(root, gradient, "trace_backward")
    tensors = graph_tensors(roots)
    ids = box_node_ids(roots, params, tensors)  # a step inside a composite op's box highlights the box
    names, _ = _param_names(params)
    labels = {id(t): names.get(id(t)) or t.name or "" for t in tensors}
    expected: dict[int, int] = {}
    for t in tensors:
        if t.grad_fn is not None:
            for p in t.grad_fn.parents:
                if p.requires_grad:
                    expected[id(p)] = expected.get(id(p), 0) + 1
    recorder = _Recorder(ids, labels, expected)
    run_backward([root], [g], None, retain_graph, False, observer=recorder)
    return BackwardTrace(recorder.steps, root, params, title)
