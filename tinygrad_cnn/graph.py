"""The recorded graph: ``make_op`` wraps each op's numpy result in a Tensor and, when an input
requires grad, gives it a :class:`Node` holding the op's inputs and its backward closure.

An edge of the graph is a parent Tensor of a Node; a node never holds its own output, so a graph
has no reference cycles and is freed the moment its last tensor is. An op whose backward needs
its output gets it from the engine as the closure's second argument.
"""
from __future__ import annotations

import functools
import itertools
from typing import Any, Callable

import numpy as np

from .modes import _check_finite, _modes, _user_site
from .tensor import Tensor


class Node:
    """One recorded op: its name, its input Tensors (``parents``) and the closure that maps the
    output's gradient to one gradient per input (``backward``).

    ``saved`` pairs each tensor the closure reads with its version when recorded. With
    ``needs_output`` the closure is called as ``backward(g, output)``, and ``out_version`` is the
    output's version when recorded. ``meta`` holds the op's arguments for pictures (or a function
    that makes them, called only when a picture asks); ``site`` is the user's line that created it
    (under ``detect_anomaly``); ``module`` is the innermost ``nn.Module`` that made it.

    >>> from tinygrad_cnn import Tensor
    >>> y = Tensor([2.0], requires_grad=True) * 3
    >>> y.grad_fn.name, len(y.grad_fn.parents), y.grad_fn.needs_output
    ('mul', 2, False)
    """

    __slots__ = ("name", "parents", "backward", "_meta", "site", "module", "saved", "needs_output", "out_version",
                 "composite", "__weakref__")

    def __init__(self, name: str, parents: tuple, backward: Callable, saved: tuple, needs_output: bool = False,
                 out_version: int = 0, meta: dict | Callable[[], dict] | None = None, site: str | None = None,
                 module: Any = None, composite: tuple | None = None):
        self.name = name
        self.parents = parents
        self.backward: Callable | None = backward
        self.saved = saved
        self.needs_output = needs_output
        self.out_version = out_version
        self._meta = meta
        self.site = site
        self.module = module
        self.composite = composite  # (name, instance) when an op made of ops recorded it: one box in pictures

    @property
    def meta(self) -> dict | None:
        if callable(self._meta):
            self._meta = self._meta()
        return self._meta

    def release(self) -> None:
        """Drop the closure and with it every value it saved."""
        self.backward = None
        self.saved = ()

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"

    @property
    def next_functions(self) -> tuple:
        """One ``(node, 0)`` per input, as PyTorch's: the input's grad_fn, an AccumulateGrad for a
        leaf that requires grad, None for a constant."""
        return tuple((p.grad_fn if p.grad_fn is not None else AccumulateGrad(p) if p.requires_grad else None, 0)
                     for p in self.parents)


class AccumulateGrad:
    """Where a leaf's gradient lands (PyTorch's name), as listed in ``next_functions``."""

    def __init__(self, variable: Any):
        self.variable = variable

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def _record(out: Tensor, name: str, parents: tuple, backward: Callable, meta: Any, saved: tuple,
            needs_output: bool) -> None:
    """Give ``out`` the node of the op that made it; mark the parents as used by the graph."""
    for p in parents:
        p._in_graph = True
    stack = _modes.module_stack
    out.requires_grad = True
    # the fields in Node's order, positionally: keywords would cost a quarter of a small op's time;
    # a view's version counter is its base's, so out_version need not be 0
    out.grad_fn = Node(name, parents, backward, tuple([(t, t._version_counter[0]) for t in saved]), needs_output,
                       out._version_counter[0], meta, _user_site() if _modes.anomaly else None,
                       stack[-1] if stack else None, _modes.composite)


def make_op(name: str, data: np.ndarray, parents: tuple, backward: Callable,
            meta: dict | Callable[[], dict] | None = None, *, saved: tuple, needs_output: bool = False) -> Tensor:
    """Wrap an op's numpy result; record a graph node when a parent requires grad.
    Shape: the result's, unchanged.

    ``backward(grad_output)`` returns one gradient (Tensor or None) per parent, made of Tensor ops;
    with ``needs_output`` it is called as ``backward(grad_output, output)``. ``saved`` lists the
    tensors whose data the closure reads (required: ``tests/test_saved_declarations.py`` checks it
    against what every closure reads); backward checks that none of them changed in place since.

    >>> x = Tensor([3.0], requires_grad=True)
    >>> y = make_op("square", x.numpy() ** 2, (x,), lambda g: (g * 2 * x,), saved=(x,))
    >>> y.backward(); x.grad.tolist()
    [6.0]
    """
    out = Tensor.__new__(Tensor)
    out._init_slots(data, False, None)
    if data.base is not None:  # a view of an input shares its memory, so also its version
        for p in parents:
            if np.may_share_memory(data, p._data):
                out._version_counter, out._is_view = p._version_counter, True
                break
    modes = _modes
    if modes.grad_enabled:
        for p in parents:
            if p.requires_grad:
                _record(out, name, parents, backward, meta, saved, needs_output)
                break
    if modes.anomaly:
        _check_finite(data, "forward", name, out.grad_fn.site if out.grad_fn else None)
    return out


_instances = itertools.count()


def composite(name: str) -> Callable:
    """Decorator for an op made of other ops (a loss, say): the nodes it records are marked as one
    ``name``, so that pictures draw them as one box (``draw_graph(expand=True)`` opens it). The
    outermost such op names the box.

    >>> from tinygrad_cnn import Tensor
    >>> @composite("square_sum")
    ... def square_sum(x):
    ...     return (x * x).sum()
    >>> y = square_sum(Tensor([1.0, 2.0], requires_grad=True))
    >>> y.grad_fn.name, y.grad_fn.composite[0], y.grad_fn.parents[0].grad_fn.composite == y.grad_fn.composite
    ('sum', 'square_sum', True)
    """
    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            if _modes.composite is not None:
                return fn(*args, **kwargs)
            _modes.composite = (name, next(_instances))
            try:
                return fn(*args, **kwargs)
            finally:
                _modes.composite = None
        return op
    return deco
