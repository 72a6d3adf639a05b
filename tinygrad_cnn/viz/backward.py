"""The backward graph: the closures ``root.backward()`` runs, one box per op's backward and one
"AccumulateGrad" box per leaf that receives a gradient, edges in the direction gradients flow
(PyTorch's ``grad_fn`` / ``next_functions`` graph, as torchviz draws it)."""
from __future__ import annotations

import graphviz

from ..tensor import Tensor
from .base import Graph, _shape, _short, graph_tensors, node_ids

__all__ = ["backward_graph"]

_STYLE = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffe0b2"},
    "leaf": {"shape": "box", "style": "filled", "fillcolor": "#d6e9ff"},
    "root": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ffcc80"},
}


def backward_graph(roots: list[Tensor], names: dict[int, str], rankdir: str) -> Graph:
    """The backward graph of ``roots`` (every tensor that requires grad in their graph)."""
    tensors = [t for t in graph_tensors(roots) if t.requires_grad]
    ids = node_ids(tensors)
    root_ids = {id(r) for r in roots}
    dot = Graph("backward", graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"},
                node_attr={"fontname": "Helvetica", "fontsize": "10"}, edge_attr={"color": "#8d6e63"})
    for t in tensors:
        node = t.grad_fn
        if node is None:
            name = names.get(id(t)) or t.name
            lines = ["AccumulateGrad"] + ([graphviz.escape(_short(name))] if name else []) + [
                f"into .grad {_shape(t.shape)}"]
            kind = "leaf"
        else:
            lines = [f"{node.name}Backward", f"grad {_shape(t.shape)} {t.dtype}"]
            kind = "root" if id(t) in root_ids else "op"
        dot.node(ids[id(t)], label="\\n".join(lines), id=f"b{ids[id(t)]}", **_STYLE[kind])
    for t in tensors:
        if t.grad_fn is not None:
            for p in t.grad_fn.parents:
                if p.requires_grad:
                    dot.edge(ids[id(t)], ids[id(p)])
    return dot

