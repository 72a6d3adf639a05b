"""The Tensor, its graph nodes and the backward engine.

A Tensor wraps a numpy array. Every op builds its result with :func:`make_op`, handing over the
numpy result, the input Tensors and a backward closure. The closure receives the output's gradient
(a Tensor) and returns one gradient per input, computed with Tensor ops, so that the same closure
gives first-order gradients (run under ``no_grad``) and higher-order ones (``create_graph=True``).
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import numpy as np

float16, float32, float64 = np.float16, np.float32, np.float64
int32, int64, bool_ = np.int32, np.int64, np.bool_


# ----------------------------------------------------------------------------- global modes
class _Modes(threading.local):
    grad_enabled = True
    anomaly = False

    def __init__(self) -> None:
        # Modules being called, innermost last: each new node records the innermost (graph pictures)
        self.module_stack: list = []


_modes = _Modes()


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph."""
    return _modes.grad_enabled


class _GradMode:
    """Context manager and decorator that sets whether ops record the graph."""

    enabled = True

    def __enter__(self) -> None:
        self._prev = _modes.grad_enabled
        _modes.grad_enabled = self.enabled

    def __exit__(self, *exc: Any) -> None:
        _modes.grad_enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        mode = type(self)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


class no_grad(_GradMode):
    """Ops inside build no graph: a context manager and a decorator.

    >>> x = Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_GradMode):
    """Turns graph recording back on inside a ``no_grad`` block; also a decorator.

    >>> x = Tensor([1.0], requires_grad=True)
    >>> with no_grad(), enable_grad():
    ...     (x * 2).requires_grad
    True
    """

    enabled = True


class _set_grad_enabled(_GradMode):
    def __init__(self, enabled: bool):
        self.enabled = enabled


# ----------------------------------------------------------------------------- graph nodes
class Node:
    """One recorded op: its name, its input Tensors and the closure that maps the output's
    gradient to one gradient per input. ``meta`` holds the op's arguments (for pictures; an op may
    pass a function that makes them, called only when a picture asks);
    ``site`` is the user's line that created it (recorded under ``detect_anomaly``); ``module`` the
    innermost ``nn.Module`` whose forward made it."""

    __slots__ = ("name", "parents", "backward", "_meta", "site", "module", "__weakref__")

    def __init__(self, name: str, parents: tuple, backward: Callable, meta: dict | Callable[[], dict] | None,
                 site: str | None, module: Any = None):
        self.name = name
        self.parents = parents
        self.backward = backward
        self._meta = meta
        self.site = site
        self.module = module

    @property
    def meta(self) -> dict | None:
        if callable(self._meta):
            self._meta = self._meta()
        return self._meta

    def release(self) -> None:
        """Drop the closure and with it every value it saved."""
        self.backward = None

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


def _user_site() -> str:
    """The innermost stack frame outside this package: where the user created the op."""
    import sys
    import os

    pkg = os.path.dirname(os.path.abspath(__file__))
    frame = sys._getframe(1)
    while frame is not None:
        fname = os.path.abspath(frame.f_code.co_filename)
        if not fname.startswith(pkg + os.sep):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


class AnomalyError(RuntimeError):
    """Raised under ``detect_anomaly`` when an op produces NaN or inf."""


def _check_finite(data: np.ndarray, what: str, node_name: str, site: str | None) -> None:
    if data.dtype.kind in "fc" and not np.isfinite(data).all():
        bad = "nan" if np.isnan(data).any() else "inf"
        raise AnomalyError(f"detect_anomaly: {what} of op '{node_name}' produced {bad} "
                           f"(op created at {site or _user_site()})")


# ----------------------------------------------------------------------------- dtype helpers
def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        arr = data
    else:
        arr = np.array(data)
        if dtype is None:
            kind = arr.dtype.kind
            if kind == "f":
                arr = arr.astype(np.float32)
            elif kind in "iu":
                arr = arr.astype(np.int64)
            elif kind not in "b":
                raise TypeError(f"Tensor: data must be numeric, got {type(data).__name__} "
                                f"of dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


def _is_float(arr: np.ndarray) -> bool:
    return arr.dtype.kind == "f"


# ----------------------------------------------------------------------------- Tensor
class Tensor:
    """An n-dimensional array that records the ops applied to it for automatic differentiation.

    Shape: any. Python floats and lists become float32, ndarrays keep their dtype.

    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [[2.0, 4.0], [6.0, 8.0]]
    """

    __slots__ = ("data", "requires_grad", "grad", "grad_fn", "name", "_hooks", "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # numpy scalars on the left defer to our reflected operators

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None):
        arr = _to_array(data, dtype)
        if requires_grad and not _is_float(arr):
            raise TypeError(f"Tensor: only floating-point tensors can require grad, got dtype {arr.dtype}")
        self.data = arr
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self.grad_fn: Node | None = None
        self.name = name
        self._hooks: list | None = None
        self._retains_grad = False

    # ---- attributes
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        """Number of elements (numpy's meaning; ``.shape`` gives the dimensions)."""
        return self.data.size

    def numel(self) -> int:
        return self.data.size

    def dim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    # ---- conversion
    def numpy(self) -> np.ndarray:
        return self.data

    def item(self) -> Any:
        if self.data.size != 1:
            raise ValueError(f"Tensor.item: only one-element tensors convert to a Python scalar, "
                             f"got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A new leaf sharing the data, cut off from the graph."""
        return Tensor(self.data)

    def astype(self, dtype: Any) -> Tensor:
        return _sh.astype(self, dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not _is_float(self.data):
            raise TypeError(f"Tensor.requires_grad_: only floating-point tensors can require grad, got {self.dtype}")
        if not self.is_leaf:
            raise RuntimeError("Tensor.requires_grad_: can only change requires_grad of leaf tensors")
        self.requires_grad = requires_grad
        return self

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", precision=4, threshold=50)
        extra = ""
        if self.grad_fn is not None:
            extra = f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.data.dtype != np.float32:
            extra = f", dtype={self.data.dtype}" + extra
        return f"tensor({body}{extra})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Tensor.__bool__: truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    # ---- autograd
    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward: tensor does not require grad and has no grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for scalar outputs, "
                                   f"got shape {self.shape}; pass gradient=")
            gradient = Tensor(np.ones_like(self.data))
        else:
            gradient = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient, dtype=self.dtype))
            if gradient.shape != self.shape:
                raise ValueError(f"backward: gradient shape {gradient.shape} does not match tensor shape {self.shape}")
        run_backward([self], [gradient], None, retain_graph, create_graph)

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> "_HookHandle":
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return _HookHandle(self._hooks, fn)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: tensor does not require grad")
        self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad and self.grad_fn is not None

    # ---- operators (the ops live in tinygrad_cnn/ops; these are thin forwards)
    def __add__(self, o): return _ew.add(self, o)
    def __radd__(self, o): return _ew.add(o, self)
    def __sub__(self, o): return _ew.sub(self, o)
    def __rsub__(self, o): return _ew.sub(o, self)
    def __mul__(self, o): return _ew.mul(self, o)
    def __rmul__(self, o): return _ew.mul(o, self)
    def __truediv__(self, o): return _ew.div(self, o)
    def __rtruediv__(self, o): return _ew.div(o, self)
    def __pow__(self, o): return _ew.pow(self, o)
    def __rpow__(self, o): return _ew.pow(o, self)
    def __neg__(self): return _ew.neg(self)
    def __matmul__(self, o): return _mm.matmul(self, o)
    def __rmatmul__(self, o): return _mm.matmul(o, self)
    def __getitem__(self, idx): return _sh.getitem(self, idx)

    def _compare(self, o: Any, fn: Callable) -> Tensor:
        return Tensor(fn(self.data, o.data if isinstance(o, Tensor) else o))

    def __lt__(self, o): return self._compare(o, np.less)
    def __le__(self, o): return self._compare(o, np.less_equal)
    def __gt__(self, o): return self._compare(o, np.greater)
    def __ge__(self, o): return self._compare(o, np.greater_equal)
    def __eq__(self, o): return self._compare(o, np.equal)  # type: ignore[override]
    def __ne__(self, o): return self._compare(o, np.not_equal)  # type: ignore[override]
    def __invert__(self): return Tensor(np.invert(self.data))
    def __and__(self, o): return self._compare(o, np.logical_and)
    def __or__(self, o): return self._compare(o, np.logical_or)
    def all(self) -> Tensor: return Tensor(np.all(self.data))
    def any(self) -> Tensor: return Tensor(np.any(self.data))

    # ---- methods
    def exp(self): return _ew.exp(self)
    def log(self): return _ew.log(self)
    def sqrt(self): return _ew.sqrt(self)
    def abs(self): return _ew.abs(self)
    def relu(self): return _act.relu(self)
    def sigmoid(self): return _act.sigmoid(self)
    def tanh(self): return _act.tanh(self)
    def clip(self, min=None, max=None): return _ew.clip(self, min, max)  # noqa: A002
    clamp = clip
    def sum(self, dim=None, keepdim=False): return _red.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return _red.mean(self, dim, keepdim)
    def var(self, dim=None, keepdim=False, correction=1): return _red.var(self, dim, keepdim, correction)
    def max(self, dim=None, keepdim=False): return _red.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return _red.min(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return _red.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return _red.argmin(self, dim, keepdim)
    def softmax(self, dim=-1): return _act.softmax(self, dim)
    def log_softmax(self, dim=-1): return _act.log_softmax(self, dim)
    def reshape(self, *shape): return _sh.reshape(self, *shape)
    view = reshape
    def transpose(self, dim0=-2, dim1=-1): return _sh.transpose(self, dim0, dim1)
    def permute(self, *dims): return _sh.permute(self, *dims)
    def flatten(self, start_dim=0, end_dim=-1): return _sh.flatten(self, start_dim, end_dim)
    def unsqueeze(self, dim): return _sh.unsqueeze(self, dim)
    def squeeze(self, dim=None): return _sh.squeeze(self, dim)
    def expand(self, *shape): return _sh.expand(self, *shape)
    def pad(self, pad, value=0.0): return _sh.pad(self, pad, value)
    def matmul(self, o): return _mm.matmul(self, o)


class _HookHandle:
    def __init__(self, hooks: list, fn: Callable):
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """Build a Tensor, as ``torch.tensor``.

    >>> tensor([1.0, 2.0]).dtype
    dtype('float32')
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` as a Tensor; Python and numpy scalars take ``like``'s float dtype (no promotion)."""
    if isinstance(x, Tensor):
        return x
    if like is not None and _is_float(like.data) and np.ndim(x) == 0:
        return Tensor(np.asarray(x, dtype=like.data.dtype))
    if isinstance(x, np.ndarray):
        return Tensor(x)
    return Tensor(x)


def make_op(name: str, data: np.ndarray, parents: tuple, backward: Callable,
            meta: dict | Callable[[], dict] | None = None) -> Tensor:
    """Wrap an op's numpy result; record a graph node when a parent requires grad.

    ``backward(grad_output)`` returns one gradient (Tensor or None) per parent, made of Tensor ops.
    """
    out = Tensor.__new__(Tensor)
    out.data = data
    out.grad = None
    out.name = None
    out._hooks = None
    out._retains_grad = False
    modes = _modes
    if modes.grad_enabled and any(p.requires_grad for p in parents):
        out.requires_grad = True
        stack = modes.module_stack
        out.grad_fn = Node(name, parents, backward, meta, _user_site() if modes.anomaly else None,
                           stack[-1] if stack else None)
    else:
        out.requires_grad = False
        out.grad_fn = None
    if modes.anomaly:
        _check_finite(data, "forward", name, out.grad_fn.site if out.grad_fn else None)
    return out


# ----------------------------------------------------------------------------- backward engine
def _topo_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Tensors reachable from ``roots`` through grad-requiring edges, inputs before outputs.

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
                if p.requires_grad and id(p) not in seen:
                    stack.append((p, False))
    return order


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
        g = _red.sum(g, tuple(axes), keepdim=True)
    return _sh.reshape(g, shape) if g.shape != shape else g


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Tensor], inputs: Sequence[Tensor] | None,
                 retain_graph: bool | None, create_graph: bool, allow_unused: bool = True) -> list | None:
    """The engine. With ``inputs`` None, accumulate into leaves' ``.grad``; else return their gradients."""
    if retain_graph is None:
        retain_graph = create_graph
    order = _topo_order(roots)
    wanted: dict[int, int] | None = None
    results: list | None = None
    needed: set[int] | None = None
    if inputs is not None:
        wanted = {}
        for i, t in enumerate(inputs):
            wanted.setdefault(id(t), i)
        results = [None] * len(inputs)
        # only walk the part of the graph that leads to a wanted tensor
        needed = set()
        for t in order:
            if id(t) in wanted or (t.grad_fn is not None and any(id(p) in needed for p in t.grad_fn.parents)):
                needed.add(id(t))
    grads: dict[int, Tensor] = {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = grads[id(r)] + g if id(r) in grads else g
    anomaly = _modes.anomaly
    with _set_grad_enabled(create_graph):
        for t in reversed(order):
            if needed is not None and id(t) not in needed:
                continue
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if t._hooks:
                for hook in t._hooks:
                    new = hook(g)
                    if new is not None:
                        g = new
            if wanted is not None:
                if id(t) in wanted:
                    results[wanted[id(t)]] = g  # type: ignore[index]
            elif t.grad_fn is None or t._retains_grad:
                if create_graph:
                    t.grad = g if t.grad is None else t.grad + g
                else:  # no graph to record: plain numpy, without an op's bookkeeping
                    t.grad = g.detach() if t.grad is None else Tensor(t.grad.data + g.data)
            node = t.grad_fn
            if node is None:
                continue
            if node.backward is None:
                raise RuntimeError(f"backward: trying to backward through the graph a second time (op '{node.name}'): "
                                   "its saved values were freed; pass retain_graph=True to the first backward")
            if anomaly:
                # the closure's own ops are not reported as forward ops: its results are checked
                # below, under the name of the op whose backward this is
                _modes.anomaly = False
                try:
                    pgrads = node.backward(g)
                finally:
                    _modes.anomaly = True
            else:
                pgrads = node.backward(g)
            if not retain_graph:
                node.release()
            for p, pg in zip(node.parents, pgrads):
                if pg is None or not p.requires_grad:
                    continue
                if needed is not None and id(p) not in needed:
                    continue
                if pg.shape != p.shape:
                    try:
                        pg = sum_to_shape(pg, p.shape)
                    except RuntimeError:
                        raise RuntimeError(f"backward of op '{node.name}' returned a gradient of shape {pg.shape} "
                                           f"for an input of shape {p.shape}") from None
                if pg.data.dtype != p.data.dtype:
                    pg = _sh.astype(pg, p.data.dtype)
                if anomaly:
                    _check_finite(pg.data, "backward", node.name, node.site)
                prev = grads.get(id(p))
                grads[id(p)] = pg if prev is None else prev + pg
    if results is not None and not allow_unused:
        for i, r in enumerate(results):
            if r is None:
                raise RuntimeError(f"grad: input {i} was not used in the graph; pass allow_unused=True")
    return results


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
    roots, root_grads = [], []
    for i, (o, go) in enumerate(zip(outs, grad_outputs)):
        if not o.requires_grad:
            raise RuntimeError(f"grad: outputs[{i}] does not require grad and has no grad_fn")
        if go is None:
            if o.data.size != 1:
                raise RuntimeError(f"grad: grad can be implicitly created only for scalar outputs, got shape {o.shape}")
            go = Tensor(np.ones_like(o.data))
        go = go if isinstance(go, Tensor) else Tensor(np.asarray(go, dtype=o.dtype))
        if go.shape != o.shape:
            raise ValueError(f"grad: grad_outputs[{i}] has shape {go.shape}, expected {o.shape}")
        roots.append(o)
        root_grads.append(go)
    res = run_backward(roots, root_grads, ins, retain_graph, create_graph, allow_unused)
    if not create_graph:
        res = [r.detach() if r is not None else None for r in res]
    return tuple(res)


# the op modules import Tensor from here, so they are imported last
from .ops import activation as _act  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import matmul as _mm  # noqa: E402
from .ops import reduce as _red  # noqa: E402
from .ops import shape as _sh  # noqa: E402
