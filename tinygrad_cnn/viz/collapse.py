"""Collapsing module clusters below a depth: each sub-module at that depth becomes one box
(name, type, input and output shapes); consecutive repeated blocks fold into one box with "×N"."""
from __future__ import annotations

from typing import Any

import graphviz

from ..engine import _topo_order
from ..tensor import Tensor

__all__ = ["module_groups", "composite_groups", "Group"]


class Group:
    """One collapsed module: its dotted name(s), type, outside inputs and outputs."""

    def __init__(self, name: str, type_name: str):
        self.names, self.type_name = [name], type_name
        self.members: list[Tensor] = []
        self.inputs: list[Tensor] = []
        self.outputs: list[Tensor] = []
        self.signature: tuple = ()  # one block's (input shapes, output shapes), kept when blocks fold

    @property
    def count(self) -> int:
        return len(self.names)

    def label(self) -> str:
        name = self.names[0] if self.count == 1 else f"{self.names[0]} … {self.names[-1]}"
        shapes = lambda ts: ", ".join("(" + ", ".join(map(str, t.shape)) + ")" for t in ts) or "-"  # noqa: E731
        head = (f"{name}: {self.type_name}" if self.type_name else name) + (f" ×{self.count}" if self.count > 1 else "")
        return "\\n".join([graphviz.escape(head), f"{shapes(self.inputs)} → {shapes(self.outputs)}"])


def _path(t: Tensor, names: dict[int, str], module_names: dict[int, str]) -> str:
    """The dotted name of the module that made ``t`` (op outputs) or holds it (parameters)."""
    if t.grad_fn is not None and t.grad_fn.module is not None:
        return module_names.get(id(t.grad_fn.module), "")
    name = names.get(id(t), "")
    return name.rsplit(".", 1)[0] if "." in name else ""


def module_groups(tensors: list[Tensor], roots: list[Tensor], names: dict[int, str], module_names: dict[int, str],
                  module_types: dict[str, str], depth: int) -> tuple[dict[int, Group], list[Group]]:
    """Which tensors collapse into which module box at ``depth`` (1: the top-level sub-modules),
    after folding chains of identical consecutive blocks. Returns id(tensor) -> Group, and the
    groups in order from inputs to outputs."""
    by_name, of = _assign(roots, names, module_names, module_types, depth)
    consumers = _consumers(tensors)
    _adopt_constants(tensors, names, of, consumers, by_name.values())
    root_ids = {id(r) for r in roots}
    for group in by_name.values():
        _connect(group, of, consumers, names, root_ids)
    return of, _fold(list(by_name.values()), of, consumers)


def _assign(roots: list[Tensor], names: dict[int, str], module_names: dict[int, str], module_types: dict[str, str],
            depth: int) -> tuple[dict[str, Group], dict[int, Group]]:
    """Each tensor made or held by a module at least ``depth`` deep, into its ancestor's group at that depth."""
    by_name: dict[str, Group] = {}
    of: dict[int, Group] = {}
    for t in _topo_order(roots, grad_edges_only=False):  # inputs first
        parts = _path(t, names, module_names).split(".")
        if parts == [""] or len(parts) < depth:
            continue
        key = ".".join(parts[:depth])
        if key not in by_name:
            by_name[key] = Group(key, module_types.get(key, "Module"))
        by_name[key].members.append(t)
        of[id(t)] = by_name[key]
    return by_name, of


def _consumers(tensors: list[Tensor]) -> dict[int, set[int]]:
    """id(tensor) -> ids of the tensors whose ops take it as an input."""
    consumers: dict[int, set[int]] = {}
    for t in tensors:
        for p in t.grad_fn.parents if t.grad_fn is not None else ():
            consumers.setdefault(id(p), set()).add(id(t))
    return consumers


def _adopt_constants(tensors: list[Tensor], names: dict[int, str], of: dict[int, Group],
                     consumers: dict[int, set[int]], groups: Any, named: bool = False) -> None:
    """A constant used only inside one of ``groups`` belongs to it: a scalar, or with ``named`` also
    a constant an op named (cross_entropy's target weights)."""
    owners = {id(g) for g in groups}
    for t in tensors:
        users = consumers.get(id(t), set())
        if t.grad_fn is not None or t.requires_grad or id(t) in names or not users:
            continue
        if t.numel() != 1 and not (named and t.name):
            continue
        owner = of.get(next(iter(users)))
        if owner is not None and id(owner) in owners and len({id(of.get(c)) for c in users}) == 1:
            owner.members.append(t)
            of[id(t)] = owner


def _connect(group: Group, of: dict[int, Group], consumers: dict[int, set[int]], names: dict[int, str],
             root_ids: set[int]) -> None:
    """The group's inputs (tensors from outside it, parameters aside) and outputs (used outside it)."""
    seen: set[int] = set()
    for t in group.members:
        for p in (t.grad_fn.parents if t.grad_fn is not None else ()):
            if of.get(id(p)) is not group and id(p) not in seen and not (p.grad_fn is None and id(p) in names):
                seen.add(id(p))
                group.inputs.append(p)
        if id(t) in root_ids or any(of.get(c) is not group for c in consumers.get(id(t), ())):
            group.outputs.append(t)
    group.signature = (tuple(t.shape for t in group.inputs), tuple(t.shape for t in group.outputs))


def _fold(groups: list[Group], of: dict[int, Group], consumers: dict[int, set[int]]) -> list[Group]:
    """Merge B into A when B is A's only consumer, takes only A's output, and both are siblings
    of one type with the same input and output shapes (a stack of identical blocks)."""
    kept: list[Group] = []
    for g in groups:
        prev = kept[-1] if kept else None
        if prev is not None and _repeats(prev, g, of, consumers):
            prev.names += g.names
            prev.members += g.members
            prev.outputs = g.outputs
            for t in g.members:
                of[id(t)] = prev
        else:
            kept.append(g)
    return kept


def _repeats(a: Group, b: Group, of: dict[int, Group], consumers: dict[int, set[int]]) -> bool:
    parent = lambda name: name.rsplit(".", 1)[0] if "." in name else ""  # noqa: E731
    if a.type_name != b.type_name or a.signature != b.signature or parent(a.names[-1]) != parent(b.names[0]):
        return False
    if len(a.outputs) != 1 or len(b.inputs) != 1 or b.inputs[0] is not a.outputs[0]:
        return False
    return all(of.get(c) is b for c in consumers.get(id(a.outputs[0]), ()))


def module_types(params: Any) -> dict[str, str]:
    """Dotted module name -> its class name."""
    if params is None or not hasattr(params, "named_modules"):
        return {}
    return {n: type(m).__name__ for n, m in params.named_modules() if n}


def composite_groups(tensors: list[Tensor], roots: list[Tensor], names: dict[int, str],
                     of: dict[int, Group]) -> list[Group]:
    """One box per call of an op made of ops (``graph.composite``: cross_entropy, mse_loss, ...),
    for the tensors not already in a box; a constant used only inside one (cross_entropy's
    target weights, a mean's scale) goes in with it. Adds to ``of``; returns the new groups."""
    by_call: dict[tuple, Group] = {}
    for t in tensors:
        call = t.grad_fn.composite if t.grad_fn is not None else None
        if call is not None and id(t) not in of:
            group = by_call.get(call)
            if group is None:
                group = by_call[call] = Group(call[0], "")
            group.members.append(t)
            of[id(t)] = group
    consumers = _consumers(tensors)
    _adopt_constants(tensors, names, of, consumers, by_call.values(), named=True)
    root_ids = {id(r) for r in roots}
    for group in by_call.values():
        _connect(group, of, consumers, names, root_ids)
    return list(by_call.values())
