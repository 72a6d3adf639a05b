"""Pictures of computation graphs with Graphviz: what ``backward()`` walks through.

One node per op (name, key arguments such as ``5x5 s1 p2``, output shape and dtype) and one per
leaf (parameter name, shape, whether it requires grad); edges follow the data. Optional: gradient
shape and norm per node (vanishing ones orange, non-finite ones red), value statistics, and one
labelled cluster per named sub-module. Tensors holding NaN/inf are always red.
"""
from __future__ import annotations

from typing import Any

import graphviz
import numpy as np

from .base import (RANKDIRS, DotNotFoundError, Graph, _param_names, _roots, _shape, _short, dot_available,  # noqa: F401
                   graph_tensors, node_ids, require_dot, retain_grads)
from .backward import backward_graph

__all__ = ["to_dot", "draw_graph", "dot_available", "retain_grads", "graph_tensors", "node_ids", "require_dot",
           "DotNotFoundError"]

VANISHING = 1e-8

_STYLE = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#fff7d6"},
    "param": {"shape": "box", "style": "filled", "fillcolor": "#d6e9ff"},
    "input": {"shape": "box", "style": "filled", "fillcolor": "#eeeeee"},
    "root": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#d8f5d0"},
}
_BAD = "#ff8a80"       # NaN/inf in values or gradient
_VANISHED = "#ffcc80"  # gradient norm below VANISHING


def _finite(data: np.ndarray) -> bool:
    return data.dtype.kind not in "fc" or bool(np.isfinite(data).all())


def _stats(data: np.ndarray) -> str:
    if data.size == 0 or data.dtype.kind not in "fiub":
        return ""
    d = data.astype(np.float64, copy=False)
    return f"min {np.nanmin(d):.3g} max {np.nanmax(d):.3g} mean {np.nanmean(d):.3g}"


def draw_graph(root: Any, params: Any = None, show_grad: bool = False, show_values: bool = False,
               rankdir: str = "TB", clusters: bool = False, backward: bool = False,
               depth: int | None = None, expand: bool = False) -> graphviz.Digraph:
    """The graph that produced ``root`` as a ``graphviz.Digraph`` (shows inline in Jupyter; render
    with ``.render(format='svg')``, which needs the ``dot`` program).

    ``params``: a Module or a dict name -> Tensor, to name the leaves. ``show_grad``: add each
    gradient's shape and norm (after backward; call :func:`retain_grads` first to see op outputs').
    ``show_values``: add min/max/mean of every tensor. ``clusters``: one box per named sub-module
    of ``params``. ``backward``: draw instead the backward closures ``root.backward()`` runs
    (one per op, "AccumulateGrad" per leaf; for a gradient made with ``create_graph=True`` this
    is the double backward). ``depth`` (with a Module as ``params``): each sub-module that deep
    (1: the top-level ones) collapses into one box with its name, type and input/output shapes,
    and consecutive identical blocks fold into one box marked "×N". An op made of other ops
    (cross_entropy and the other losses) is one box with its name; ``expand=True`` draws its ops.

    >>> from tinygrad_cnn import Tensor
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> g = draw_graph((w * w).sum(), params={"w": w})
    >>> sorted(line.split()[0] for line in g.body if "label" in line)
    ['t0', 't1', 't2']
    """
    roots = _roots(root)
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    names, module_names = _param_names(params)
    if backward:
        return backward_graph(roots, names, rankdir)
    tensors = graph_tensors(roots)
    collapsed, boxes = boxes_of(tensors, roots, names, module_names, params, depth, expand)
    look = _Look(names, module_names if clusters else {}, {id(r) for r in roots}, show_grad, show_values)
    ids = node_ids(tensors)
    box_ids = {id(b): f"m{i}" for i, b in enumerate(boxes)}
    groups: dict[str, list[tuple[str, dict]]] = {}
    for b in boxes:
        parent = b.names[0].rsplit(".", 1)[0] if look.module_names and "." in b.names[0] else ""
        groups.setdefault(parent, []).append((box_ids[id(b)], {"label": b.label(), "id": box_ids[id(b)],
                                                               "shape": "box3d", "style": "filled",
                                                               "fillcolor": "#e8eaf6"}))
    for t in tensors:
        if id(t) not in collapsed:
            groups.setdefault(look.group(t), []).append((ids[id(t)], look.attrs(t, ids[id(t)])))
    dot = Graph("graph", graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "11"},
                node_attr={"fontname": "Helvetica", "fontsize": "10"}, edge_attr={"color": "#555555"})
    _add_nodes(dot, groups)
    _add_edges(dot, tensors, lambda t: box_ids[id(collapsed[id(t)])] if id(t) in collapsed else ids[id(t)])
    return dot


def boxes_of(tensors: list, roots: list, names: dict, module_names: dict, params: Any, depth: int | None,
             expand: bool) -> tuple[dict, list]:
    """Which tensors fold into which box (id(tensor) -> box), and the boxes: sub-modules at
    ``depth``, then each call of an op made of ops unless ``expand``."""
    collapsed, boxes = _collapse(tensors, roots, names, module_names, params, depth)
    if not expand:
        from .collapse import composite_groups

        boxes = boxes + composite_groups(tensors, roots, names, collapsed)
    return collapsed, boxes


def box_node_ids(roots: list, params: Any, tensors: list) -> dict[int, str]:
    """The DOT node id of each of ``tensors`` (:func:`graph_tensors` of ``roots``) in
    :func:`draw_graph`'s default picture (its box's id when it is drawn inside one), for pages
    that highlight tensors in it."""
    names, module_names = _param_names(params)
    collapsed, boxes = boxes_of(tensors, roots, names, module_names, params, None, False)
    box_ids = {id(b): f"m{i}" for i, b in enumerate(boxes)}
    ids = node_ids(tensors)
    return {k: box_ids[id(collapsed[k])] if k in collapsed else v for k, v in ids.items()}


def _collapse(tensors: list, roots: list, names: dict, module_names: dict, params: Any,
              depth: int | None) -> tuple[dict, list]:
    """With ``depth``: which tensors fold into which sub-module's box, and the boxes."""
    if depth is None:
        return {}, []
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"draw_graph: depth must be a positive int, got {depth!r}")
    if not module_names:
        raise ValueError("draw_graph: depth needs params to be the Module whose sub-modules collapse")
    from .collapse import module_groups, module_types

    return module_groups(tensors, roots, names, module_names, module_types(params), depth)


class _Look:
    """How one tensor is drawn: its label lines, colours and cluster."""

    def __init__(self, names: dict, module_names: dict, root_ids: set, show_grad: bool, show_values: bool):
        self.names, self.module_names, self.root_ids = names, module_names, root_ids
        self.show_grad, self.show_values = show_grad, show_values

    def _head(self, t: Any) -> tuple[str, list[str]]:
        """The box's kind and first lines: the op with its arguments, or the leaf's name."""
        node = t.grad_fn
        if node is not None:
            head = node.name + (f" {node.meta['args']}" if node.meta and "args" in node.meta else "")
            return ("root" if id(t) in self.root_ids else "op"), [head] + ([graphviz.escape(_short(t.name))]
                                                                         if t.name else [])
        name = self.names.get(id(t)) or t.name
        kind = "root" if id(t) in self.root_ids else "param" if id(t) in self.names or t.requires_grad else "input"
        return kind, [graphviz.escape(_short(name)) if name else ("constant" if t.numel() == 1 else "input")]

    def attrs(self, t: Any, nid: str) -> dict:
        kind, lines = self._head(t)
        lines.append(f"{_shape(t.shape)} {t.dtype}")
        if t.grad_fn is None and t.requires_grad:
            lines.append("requires_grad")
        attrs = dict(_STYLE[kind])
        stats = _stats(t._data) if self.show_values else ""
        if stats:
            lines.append(stats)
        if not _finite(t._data):
            lines.append("NaN/inf!")
            attrs["fillcolor"] = _BAD
        if self.show_grad and t.grad is not None:
            lines.append(self._grad_line(t.grad._data, attrs))
        attrs.update(label="\\n".join(lines), tooltip=f"{t.grad_fn.name if t.grad_fn else 'leaf'} {_shape(t.shape)}",
                     id=nid)
        return attrs

    @staticmethod
    def _grad_line(gd: np.ndarray, attrs: dict) -> str:
        """'grad (shape) norm x', colouring the box when the norm is not finite or vanishes."""
        norm = float(np.linalg.norm(gd.astype(np.float64, copy=False).ravel())) if gd.size else 0.0
        if not np.isfinite(norm):
            attrs["fillcolor"] = _BAD
        elif norm < VANISHING:
            attrs["fillcolor"] = _VANISHED
        return f"grad {_shape(gd.shape)} norm {norm:.3g}"

    def group(self, t: Any) -> str:
        """The cluster (a sub-module's name) of the tensor's box; '' outside every cluster."""
        if not self.module_names:
            return ""
        node = t.grad_fn
        if node is not None and node.module is not None:
            return self.module_names.get(id(node.module), "")
        name = self.names.get(id(t), "")
        return name.rsplit(".", 1)[0] if "." in name else ""


def _add_nodes(dot: Any, groups: dict) -> None:
    for group, members in groups.items():
        if not group:
            for nid, attrs in members:
                dot.node(nid, **attrs)
            continue
        with dot.subgraph(name=f"cluster_{graphviz.escape(group)}") as sub:
            sub.attr(label=graphviz.escape(group), style="rounded,dashed", color="#8888aa", fontsize="10")
            for nid, attrs in members:
                sub.node(nid, **attrs)


def _add_edges(dot: Any, tensors: list, rep: Any) -> None:
    """One edge per input of each op (once, and none inside a collapsed box)."""
    edges: set[tuple[str, str]] = set()
    for t in tensors:
        for p in t.grad_fn.parents if t.grad_fn is not None else ():
            edge = (rep(p), rep(t))
            if edge[0] != edge[1] and edge not in edges:
                edges.add(edge)
                dot.edge(*edge)


def to_dot(root: Any, params: Any = None, show_grad: bool = False, show_values: bool = False,
           rankdir: str = "TB", clusters: bool = False, backward: bool = False, depth: int | None = None,
           expand: bool = False) -> str:
    """DOT source of :func:`draw_graph`'s picture; needs no Graphviz program.

    >>> from tinygrad_cnn import Tensor
    >>> x = Tensor([1.0], requires_grad=True)
    >>> to_dot(x.exp()).count("->")
    1
    """
    return draw_graph(root, params, show_grad, show_values, rankdir, clusters, backward, depth, expand).source

