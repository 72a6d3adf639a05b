"""What each backward closure reads is what its op declared (``make_op(..., saved=...)``), for every
node that every registered op records: a read input that is not declared would escape the in-place
version check (a silently wrong gradient); a declared input that is never read would make the check
refuse an in-place change that PyTorch allows.

A closure "reads" an input when its gradients change as that input's values are replaced (by NaN,
or flipped for booleans) while the closure runs, or when it holds an array that shares the input's
memory. Inputs that PyTorch saves although the closure reads only a copy made in forward (the
convolutions' windows) are declared on purpose and listed in ``SAVED_AS_PYTORCH``.
"""
import functools
import types
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tinygrad_cnn import Tensor
from tinygrad_cnn.modes import _grad_mode
from tinygrad_cnn.ops.registry import REGISTRY
from tinygrad_cnn.testing import OPS

# (node, input index): declared as PyTorch saves it, though the closure reads a copy made in forward
# (the convolutions' windows, batch norm's normalised input) or reads it only at some values (the
# exponent of a ** b where a = 0)
SAVED_AS_PYTORCH = {("conv2d", 0), ("conv2d", 1), ("conv_transpose2d", 0), ("conv_transpose2d", 1),
                    ("conv2d_weight", 0), ("conv2d_weight", 1), ("batch_norm", 0), ("pow", 1)}


def _held_arrays(fn) -> list:
    """Every Tensor and ndarray a closure holds, through nested closures, partials and containers."""
    found, seen = [], set()

    def walk(v, depth):
        if id(v) in seen or depth > 5:
            return
        seen.add(id(v))
        if isinstance(v, (Tensor, np.ndarray)):
            found.append(v)
        elif isinstance(v, (list, tuple, set, frozenset)):
            for e in v:
                walk(e, depth + 1)
        elif isinstance(v, dict):
            for e in v.values():
                walk(e, depth + 1)
        elif isinstance(v, functools.partial):
            walk((v.func, v.args, v.keywords), depth + 1)
        elif isinstance(v, types.FunctionType):
            for cell in v.__closure__ or ():
                try:
                    walk(cell.cell_contents, depth + 1)
                except ValueError:  # an empty cell
                    pass

    walk(fn, 0)
    return found


def _poison(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        return np.full(a.shape, np.nan, a.dtype)
    if a.dtype.kind == "b":
        return ~a
    return np.full(a.shape, np.iinfo(a.dtype).max // 2, a.dtype)


def _run(node, out, g):
    with _grad_mode(False), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = node.backward(g, out) if node.needs_output else node.backward(g)
        except Exception as e:  # a poisoned index may raise: that is a read too
            return type(e).__name__
    res = res if isinstance(res, (tuple, list)) else (res,)
    return [None if r is None else np.asarray(r._data, dtype=np.float64) for r in res]


def _same(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b

    def equal(x, y):
        if x is None or y is None:
            return x is y
        return x.shape == y.shape and np.array_equal(x, y, equal_nan=True)

    return all(equal(x, y) for x, y in zip(a, b))


def reads(node, out, g) -> set:
    """Indices of the node's inputs that its closure reads."""
    base, held, found = _run(node, out, g), _held_arrays(node.backward), set()
    for i, p in enumerate(node.parents):
        if any(h is not p and (h._data if isinstance(h, Tensor) else h).size and p._data.size
               and np.shares_memory(h._data if isinstance(h, Tensor) else h, p._data) for h in held):
            found.add(i)
        original = p._data
        p._data = _poison(original)
        try:
            if not _same(base, _run(node, out, g)):
                found.add(i)
        finally:
            p._data = original
    return found


def mismatches(outputs) -> list:
    """(node, undeclared reads, declared but unread) for each node of the graph behind ``outputs``."""
    found, seen = [], set()
    stack = [o for o in outputs if isinstance(o, Tensor)]
    while stack:
        t = stack.pop()
        node = t.grad_fn
        if node is None or id(node) in seen or node.backward is None:
            continue
        seen.add(id(node))
        stack.extend(node.parents)
        g = Tensor(np.random.default_rng(0).standard_normal(t.shape).astype(t.dtype))
        read = reads(node, t, g)
        declared = {i for i, p in enumerate(node.parents) if any(s is p for s, _ in node.saved)}
        under = sorted(read - declared)
        over = sorted(i for i in declared - read if (node.name, i) not in SAVED_AS_PYTORCH)
        if under or over:
            found.append((node.name, under, over))
    return found


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_closure_reads_what_its_op_declared(name):
    info = OPS[name]

    @settings(max_examples=4, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(info.strategy())
    def check(sample):
        fn, inputs = info.bind(sample)
        # all inputs requiring grad, then each one constant in turn: declarations may depend on it
        for k in range(-1, len(inputs) if len(inputs) > 1 else 0):
            args = [x.detach() if i == k else x for i, x in enumerate(inputs)]
            out = fn(*args)
            outs = list(out) if isinstance(out, (tuple, list)) else [getattr(out, "values", out)]
            found = mismatches(outs)
            assert not found, f"input {k} constant: (node, read but not declared, declared but not read): {found}"

    check()


def test_the_check_sees_an_undeclared_read():
    from tinygrad_cnn.graph import make_op

    x = Tensor([1.0, -2.0], requires_grad=True)
    y = make_op("square", x._data ** 2, (x,), lambda g: (g * 2 * x,), saved=())  # x read, not declared
    assert mismatches([y]) == [("square", [0], [])]
    z = make_op("double", x._data * 2, (x,), lambda g: (g * 2,), saved=(x,))  # declared, never read
    assert mismatches([z]) == [("double", [], [0])]
