"""The backward engine: the order in which backward visits the recorded graph (``graph.py``), and
the steps of each visit (hooks, delivering a gradient, checking saved values, calling the op's
closure, adding the gradients it returns into its inputs'). ``run_backward`` is the loop.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .graph import Node
from .modes import _check_finite, _modes, _grad_mode
from .tensor import Tensor
from .errors import ShapeError


def _topo_order(roots: Sequence[Tensor], grad_edges_only: bool = True) -> list[Tensor]:
    """Tensors reachable from ``roots`` through grad-requiring edges (every edge with
    ``grad_edges_only=False``), inputs before outputs.

    Iterative depth-first search: a chain of any length needs no recursion."""
    order: list[Tensor] = []
    seen: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(r, False) for r in roots]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        node = t.grad_fn
        if node is not None:
            for p in node.parents:
                if (p.requires_grad or not grad_edges_only) and id(p) not in seen:
                    stack.append((p, False))
    return order


def _needed(order: list[Tensor], wanted: dict[int, int]) -> set[int]:
    """The tensors of ``order`` from which a wanted tensor can be reached (only they need a visit)."""
    needed: set[int] = set()
    for t in order:
        if id(t) in wanted or (t.grad_fn is not None and any(id(p) in needed for p in t.grad_fn.parents)):
            needed.add(id(t))
    return needed


def sum_to_shape(g: Tensor, shape: tuple) -> Tensor:
    """Undo broadcasting: sum ``g`` down to ``shape`` (differentiably)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"cannot reduce gradient of shape {g.shape} to shape {shape}")
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and g.shape[lead + i] != 1:
            axes.append(lead + i)
        elif g.shape[lead + i] != n:
            raise RuntimeError(f"cannot reduce gradient of shape {g.shape} to shape {shape}")
    if axes:
        g = _red.reduce_sum(g, tuple(axes), keepdim=True)
    return _sh.reshape(g, shape) if g.shape != shape else g


def _memory_of(a: np.ndarray) -> int:
    """The identity of the array that owns ``a``'s memory (``a`` itself unless it is a view)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return id(a)


class _OwnedGradients:
    """Hands out gradients that own their memory: a gradient whose memory was already given to
    another tensor, is the user's ``gradient=`` array, or is read-only, is copied first (a fresh
    array, or a view of one, goes as it is)."""

    def __init__(self, root_grads: Sequence[Tensor]):
        self.given: set[int] = {_memory_of(g._data) for g in root_grads}

    def own(self, g: Tensor, create_graph: bool) -> Tensor:
        # read-only (a broadcast view): the user may still write into .grad (p.grad.zero_())
        shared = _memory_of(g._data) in self.given or not g._data.flags.writeable
        if create_graph:
            g = _sh.clone(g) if shared else g
        else:
            g = Tensor(g._data.copy() if shared else g._data)
        self.given.add(_memory_of(g._data))
        return g


def _run_hooks(t: Tensor, g: Tensor) -> Tensor:
    for hook in t._hooks or ():
        new = hook(g)
        if new is not None:
            g = new
    return g


def _accumulate(t: Tensor, g: Tensor, owner: _OwnedGradients, create_graph: bool) -> None:
    """Add ``g`` into ``t.grad`` (a leaf, or a tensor that retains its gradient)."""
    old = t.grad
    if old is None:
        t.grad = owner.own(g, create_graph)
    elif create_graph or old.requires_grad or not _addable_in_place(old._data, g._data):
        t.grad = old + g if create_graph else Tensor(old._data + g._data)
    else:  # PyTorch adds into the same tensor, so a reference kept to .grad sees the sum
        np.add(old._data, g._data, out=old._data)
        old._version_counter[0] += 1


def _addable_in_place(grad: np.ndarray, g: np.ndarray) -> bool:
    return grad.flags.writeable and grad.shape == g.shape and grad.dtype == g.dtype


def zero_grad_of(p: Tensor, set_to_none: bool) -> None:
    """``p.grad = None``, or zero it in place (the same tensor, as PyTorch: references to it stay live)."""
    if set_to_none or p.grad is None:
        p.grad = None
    elif p.grad.grad_fn is not None or not p.grad._data.flags.writeable:  # a graph's result: detach, as PyTorch
        p.grad = Tensor(np.zeros_like(p.grad._data))
    else:
        p.grad._data[...] = 0
        p.grad._version_counter[0] += 1


def _check_saved(node: Node, out: Tensor) -> None:
    """Raise when a value the closure reads was modified in place after the op recorded it."""
    if node.backward is None:
        raise RuntimeError(f"backward: trying to backward through the graph a second time (op '{node.name}'): "
                           "its saved values were freed; pass retain_graph=True to the first backward")
    found = [(t, v) for t, v in node.saved if t._version_counter[0] != v]
    if node.needs_output and out._version_counter[0] != node.out_version:
        found.append((out, node.out_version))
    if found:
        t, v = found[0]
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"op '{node.name}' saved a {t.dtype} tensor of shape {t.shape} at version {v}; it is now at version "
            f"{t._version}. Use the out-of-place op (x = x + y) or clone() the tensor before changing it")


def _call_backward(node: Node, out: Tensor, g: Tensor, anomaly: bool) -> Any:
    closure = node.backward
    assert closure is not None
    if not anomaly:
        return closure(g, out) if node.needs_output else closure(g)
    # the closure's own ops are not reported as forward ops: its results are checked by
    # _propagate, under the name of the op whose backward this is
    _modes.anomaly = False
    try:
        return closure(g, out) if node.needs_output else closure(g)
    finally:
        _modes.anomaly = True


def _propagate(node: Node, pgrads: Any, grads: dict[int, Tensor], needed: set[int] | None, anomaly: bool,
               observer: Any = None) -> None:
    """Add each input's gradient, reduced to its shape and cast to its dtype, into ``grads``."""
    for i, (p, pg) in enumerate(zip(node.parents, pgrads)):
        if pg is None or not p.requires_grad or (needed is not None and id(p) not in needed):
            continue
        if pg.shape != p.shape:
            try:
                pg = sum_to_shape(pg, p.shape)
            except RuntimeError:
                raise RuntimeError(f"backward of op '{node.name}' returned a gradient of shape {pg.shape} "
                                   f"for an input of shape {p.shape}") from None
        if pg._data.dtype != p._data.dtype:
            pg = _sh.astype(pg, p._data.dtype)
        if anomaly:
            _check_finite(pg._data, "backward", node.name, node.site)
        prev = grads.get(id(p))
        grads[id(p)] = pg if prev is None else prev + pg
        if observer is not None:
            observer.hand(p, i, pg, grads[id(p)])


def root_gradient(t: Tensor, gradient: Any, who: str, what: str = "gradient") -> Tensor:
    """The gradient that backward starts from at ``t``: ones for a one-element ``t`` when
    ``gradient`` is None, else ``gradient`` as a Tensor of ``t``'s shape (or a clear error)."""
    if not t.requires_grad:
        raise RuntimeError(f"{who}: tensor does not require grad and has no grad_fn")
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError(f"{who}: grad can be implicitly created only for scalar outputs, got shape {t.shape}; "
                               f"pass {what}=")
        return Tensor(np.ones_like(t._data))
    g = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient, dtype=t.dtype))
    if g.shape != t.shape:
        raise ShapeError(f"{who}: {what} shape {g.shape} does not match tensor shape {t.shape}")
    return g


class _Sink:
    """Where gradients land: leaves' (and retaining tensors') ``.grad`` for ``backward()``, or the
    results of ``grad(outputs, inputs)``, which also prunes the walk to what reaches the inputs."""

    def __init__(self, inputs: Sequence[Tensor] | None, order: list[Tensor], root_grads: Sequence[Tensor],
                 create_graph: bool):
        self.owner, self.create_graph = _OwnedGradients(root_grads), create_graph
        self.wanted = None if inputs is None else {id(t): i for i, t in reversed(list(enumerate(inputs)))}
        self.needed = None if self.wanted is None else _needed(order, self.wanted)
        self.results: list = [None] * (len(inputs) if inputs is not None else 0)

    def needs(self, t: Tensor) -> bool:
        return self.needed is None or id(t) in self.needed

    def deliver(self, t: Tensor, g: Tensor) -> None:
        if self.wanted is None:
            if t.grad_fn is None or t._retains_grad:
                _accumulate(t, g, self.owner, self.create_graph)
        elif id(t) in self.wanted:
            self.results[self.wanted[id(t)]] = self.owner.own(g, self.create_graph)

    def finish(self, allow_unused: bool) -> list | None:
        if self.wanted is None:
            return None
        for i, r in enumerate(self.results):
            if r is None and not allow_unused:
                raise RuntimeError(f"grad: input {i} was not used in the graph; pass allow_unused=True")
        return self.results


def _backward_step(node: Node, out: Tensor, g: Tensor, grads: dict[int, Tensor], sink: _Sink, retain_graph: bool,
                   anomaly: bool, observer: Any) -> None:
    """One op: check what its closure reads, call it, free it, and add the gradients it returns."""
    _check_saved(node, out)
    pgrads = _call_backward(node, out, g, anomaly)
    if not retain_graph:
        node.release()
    _propagate(node, pgrads, grads, sink.needed, anomaly, observer)


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Tensor], inputs: Sequence[Tensor] | None,
                 retain_graph: bool | None, create_graph: bool, allow_unused: bool = True,
                 observer: Any = None) -> list | None:
    """The engine: visit the tensors from the roots back, in reverse topological order, so that a
    tensor's gradient is complete before its op runs. At each: run its hooks, deliver its gradient
    (``_Sink``), then call its op's closure and add the returned gradients into its inputs'
    (``_backward_step``). With ``inputs`` None the gradients land in ``.grad``; else they are
    returned. An ``observer`` (``viz.trace_backward``'s recorder) is told of each tensor visited
    (``visit(t, g)``) and of each gradient handed to an input (``hand(p, i, pg, running)``)."""
    order = _topo_order(roots)
    sink = _Sink(inputs, order, root_grads, create_graph)
    grads: dict[int, Tensor] = {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = grads[id(r)] + g if id(r) in grads else g
    keep = create_graph if retain_graph is None else retain_graph
    anomaly = _modes.anomaly
    with _grad_mode(create_graph):
        for t in reversed(order):
            if id(t) not in grads or not sink.needs(t):
                continue
            g = _run_hooks(t, grads.pop(id(t)))
            if observer is not None:
                observer.visit(t, g)
            sink.deliver(t, g)
            if t.grad_fn is not None:
                _backward_step(t.grad_fn, t, g, grads, sink, keep, anomaly, observer)
    return sink.finish(allow_unused)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor], grad_outputs: Any = None,
         retain_graph: bool | None = None, create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, as a tuple, without touching ``.grad``.

    >>> x = Tensor(2.0, requires_grad=True)
    >>> (g,) = grad(x ** 3, x, create_graph=True)
    >>> grad(g, x)[0].item()  # d2/dx2 x^3 = 6x
    12.0
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(ins):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"grad: inputs[{i}] does not require grad")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outs)} outputs")
    root_grads = [root_gradient(o, go, f"grad: outputs[{i}]", f"grad_outputs[{i}]")
                  for i, (o, go) in enumerate(zip(outs, grad_outputs))]
    res = run_backward(outs, root_grads, ins, retain_graph, create_graph, allow_unused)
    assert res is not None
    if not create_graph:
        res = [r.detach() if r is not None else None for r in res]
    return tuple(res)


from .ops import reduce as _red  # noqa: E402  (the ops import this module's Tensor module first)
from .ops import shape as _sh  # noqa: E402
