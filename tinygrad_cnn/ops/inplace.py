"""In-place ops (``add_``, ``mul_``, ``+=``, ``zero_``, ...), with PyTorch's rules.

An in-place op writes into the tensor's own array and keeps the Tensor object (a Parameter stays
the same Parameter), then bumps the tensor's version so that backward can refuse values that
changed after an op saved them. While the graph is recorded:
- a leaf that requires grad may not be changed (wrap parameter updates in ``no_grad``);
- otherwise the tensor's history is rebased onto the op: the out-of-place op is recorded on an
  alias of the old tensor and the tensor takes over its node, as PyTorch does;
- where that cannot give the right gradient (the tensor is a view, or an input of an op already
  recorded, which would then see the new history), a RuntimeError says so.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..modes import _grad_mode, is_grad_enabled
from ..seeding import get_rng
from ..tensor import Tensor, lift
from .elementwise import _category, add, clip, div, mul, power, result_type, sub, where
from .indexing import TorchIndex, index_put
from .integer import floor_divide, remainder
from ..errors import OpError, ShapeError


def _alias(t: Tensor, copy: bool) -> Tensor:
    """A new Tensor object holding ``t``'s current value and history: its memory and version when
    ``copy`` is False, else a snapshot (for closures that read the old value)."""
    old = Tensor.__new__(Tensor)
    old._init_slots(t._data.copy() if copy else t._data, t.requires_grad, t.name)
    old.grad_fn = t.grad_fn
    if copy:  # a snapshot has memory of its own but the version of the value it copies
        old._version_counter[0] = t._version_counter[0]
    else:
        old._version_counter, old._is_view = t._version_counter, True
    return old


def _write(t: Tensor, op: str, values: np.ndarray | Callable[[np.ndarray], Any]) -> None:
    """Store ``values`` into ``t._data`` (or run ``values(t._data)``, which writes it) and bump the version."""
    try:
        if callable(values):
            values(t._data)
        else:
            np.copyto(t._data, values, casting="same_kind")
    except TypeError as e:  # numpy's casting errors are TypeErrors; PyTorch raises RuntimeError
        if "cast" not in str(e):
            raise
        raise RuntimeError(f"{op}: result type can't be cast to the tensor's dtype {t.dtype} ({e})") from None
    except ValueError as e:
        if not t._data.flags.writeable:
            raise RuntimeError(f"{op}: the tensor's memory is read-only (an expanded view?): "
                               "clone() it before changing it in place") from None
        raise OpError(f"{op}: {e}") from None
    t._version_counter[0] += 1


def _inplace(t: Tensor, op: str, other: Any, kernel: Callable[[np.ndarray], Any],
             record: Callable[[Tensor], Tensor], reads_old: bool = False) -> Tensor:
    """Apply an in-place op: ``kernel(t._data)`` writes the result when no graph is recorded;
    ``record(old)`` builds the result out of place (with its node) when one is. ``reads_old``:
    the op's backward reads the old value (then it is snapshotted)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    other_grad = isinstance(other, Tensor) and other.requires_grad
    if not (is_grad_enabled() and (t.requires_grad or other_grad)):
        _write(t, op, kernel)
        return t
    if t.grad_fn is None and t.requires_grad:
        raise RuntimeError(f"{op}: a leaf Tensor that requires grad is being used in an in-place operation; "
                           "change it under no_grad() (as an optimizer does), or use the out-of-place op")
    if t._is_view:
        raise RuntimeError(f"{op}: in-place change of a view (it shares memory with another tensor) while "
                           "recording the graph is not supported; clone() it first or use the out-of-place op")
    if t._in_graph:
        raise RuntimeError(f"{op}: the tensor was already used by another op in the graph, whose gradient the "
                           "change would alter; use the out-of-place op (x = x + y) instead")
    result = record(_alias(t, copy=reads_old and other_grad))
    _write(t, op, result._data)
    t.grad_fn, t.requires_grad = result.grad_fn, result.requires_grad
    return t


def _scaled(other: Any, alpha: float) -> Any:
    return other if alpha == 1 else mul(other, alpha) if isinstance(other, Tensor) else other * alpha


def _operand(other: Any) -> Any:
    return other._data if isinstance(other, Tensor) else other


def _check_cast(op: str, t: Tensor, result: np.dtype) -> None:
    """PyTorch's rule for writing a result into ``t``: no float into an integer tensor, no number
    into a bool one (narrower dtypes of the same kind are fine: ``uint8 &= int32``)."""
    if _category(result) > _category(t.dtype):
        raise RuntimeError(f"{op}: result type {result} can't be cast to the desired output type {t.dtype}")


def _numeric(other: Any) -> bool:
    """A number or an int/float array or Tensor (no bool): with a float tensor its result is float,
    so numpy's ufunc writing in place computes what the out-of-place op would, without a copy."""
    if isinstance(other, (bool, np.bool_)):
        return False
    if isinstance(other, (int, float, np.integer, np.floating)):
        return True
    return isinstance(other, (Tensor, np.ndarray)) and other.dtype.kind in "fiu"


def _arithmetic(t: Tensor, op: str, other: Any, graph_op: Any, reads_old: bool, ufunc: Any) -> Tensor:
    """``t = graph_op(t, other)`` in place. A float tensor with a numeric operand: ``ufunc`` writes
    into its memory (the hot path: dropout, gradient clipping). Otherwise the out-of-place op's
    result (so its dtype rules and errors are the in-place form's too) is written after PyTorch's
    casting check. In a graph, the out-of-place op is recorded."""
    def kernel(d: np.ndarray) -> None:
        if d.dtype.kind == "f" and _numeric(other):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf/NaN silently, as out of place
                ufunc(d, _operand(other), out=d, casting="same_kind")
            return
        with _grad_mode(False):
            res = graph_op(Tensor(d), other)
        _check_cast(op, t, res.dtype)
        if np.broadcast_shapes(res.shape, d.shape) != d.shape:
            raise ShapeError(f"{op}: a result of shape {res.shape} does not fit the tensor's shape {d.shape}")
        np.copyto(d, res._data, casting="unsafe")

    return _inplace(t, op, other, kernel, lambda old: graph_op(old, other), reads_old)


def add_(t: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """``t += alpha * other`` in place. Shape: ``t``'s (``other`` broadcasts to it).

    >>> a = Tensor([1.0, 2.0]); add_(a, 1).tolist()
    [2.0, 3.0]
    """
    return _arithmetic(t, "add_", _scaled(other, alpha), add, False, np.add)


def sub_(t: Tensor, other: Any, alpha: float = 1) -> Tensor:
    """``t -= alpha * other`` in place. Shape: ``t``'s.

    >>> a = Tensor([1.0, 2.0]); sub_(a, 1).tolist()
    [0.0, 1.0]
    """
    return _arithmetic(t, "sub_", _scaled(other, alpha), sub, False, np.subtract)


def mul_(t: Tensor, other: Any) -> Tensor:
    """``t *= other`` in place. Shape: ``t``'s.

    >>> a = Tensor([1.0, 2.0]); mul_(a, 3).tolist()
    [3.0, 6.0]
    """
    return _arithmetic(t, "mul_", other, mul, True, np.multiply)


def div_(t: Tensor, other: Any) -> Tensor:
    """``t /= other`` in place. Shape: ``t``'s.

    >>> a = Tensor([1.0, 2.0]); div_(a, 2).tolist()
    [0.5, 1.0]
    """
    return _arithmetic(t, "div_", other, div, True, np.divide)


def pow_(t: Tensor, other: Any) -> Tensor:
    """``t **= other`` in place. Shape: ``t``'s.

    >>> a = Tensor([2.0, 3.0]); pow_(a, 2).tolist()
    [4.0, 9.0]
    """
    return _arithmetic(t, "pow_", other, power, True, np.power)


def floor_divide_(t: Tensor, other: Any) -> Tensor:
    """``t //= other`` in place (no gradient, as PyTorch's). Shape: ``t``'s.

    >>> a = Tensor([7.0, -7.0]); floor_divide_(a, 2).tolist()
    [3.0, -4.0]
    """
    return _arithmetic(t, "floor_divide_", other, floor_divide, False, np.floor_divide)


def remainder_(t: Tensor, other: Any) -> Tensor:
    """``t %= other`` in place. Shape: ``t``'s.

    >>> a = Tensor([5.0, -5.0]); remainder_(a, 3).tolist()
    [2.0, 1.0]
    """
    return _arithmetic(t, "remainder_", other, remainder, True, np.mod)



def bitwise_(t: Tensor, other: Any, op: str, ufunc: Any) -> Tensor:
    """``t &= other`` (or ``|=``, ``^=``: ``ufunc``) in place, for integer and bool tensors. Shape: ``t``'s.

    >>> a = Tensor(np.array([6, 5])); bitwise_(a, 3, "bitwise_and_", np.bitwise_and).tolist()
    [2, 1]
    """
    if t.dtype.kind not in "iub" or (isinstance(other, Tensor) and other.dtype.kind not in "iub"):
        raise TypeError(f"{op}: defined for integer and bool tensors only, got dtype {t.dtype}")
    o = lift(other, t)  # a number takes t's dtype, wrapping into a narrow one (uint8 &= -1), as PyTorch
    _check_cast(op, t, result_type(t, o))
    return _inplace(t, op, other, lambda d: ufunc(d, o._data, out=d, casting="unsafe"), lambda old: old)


def clamp_(t: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Clamp into ``[min, max]`` in place. Shape: ``t``'s.

    >>> a = Tensor([-1.0, 2.0]); clamp_(a, 0, 1).tolist()
    [0.0, 1.0]
    """
    if min is None and max is None:
        raise OpError("clamp_: at least one of min and max must be given")
    return _inplace(t, "clamp_", None, lambda d: np.clip(d, min, max, out=d), lambda old: clip(old, min, max))


def _set(t: Tensor, op: str, value: Any) -> Tensor:
    """Overwrite ``t`` with ``value`` (broadcast); in a graph, the gradient flows to ``value`` only."""
    v = _operand(value)
    try:
        np.broadcast_to(v, t.shape)
    except ValueError:
        raise ShapeError(f"{op}: a value of shape {np.shape(v)} cannot be broadcast to the tensor's shape "
                         f"{t.shape}") from None

    def kernel(d: np.ndarray) -> None:
        np.copyto(d, v, casting="unsafe")

    def record(old: Tensor) -> Tensor:
        src = value if isinstance(value, Tensor) else Tensor(np.asarray(v, dtype=t.dtype))
        return where(np.zeros(t.shape, bool), old, src.astype(t.dtype))

    return _inplace(t, op, value, kernel, record)


def zero_(t: Tensor) -> Tensor:
    """Set every element to 0 in place. Shape: ``t``'s.

    >>> zero_(Tensor([1.0, 2.0])).tolist()
    [0.0, 0.0]
    """
    return _set(t, "zero_", 0)


def fill_(t: Tensor, value: Any) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d Tensor) in place. Shape: ``t``'s.

    >>> fill_(Tensor([1.0, 2.0]), 7).tolist()
    [7.0, 7.0]
    """
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill_: only supports a 0-dimension value tensor, got shape {value.shape}")
    return _set(t, "fill_", value)


def copy_(t: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast, converted to ``t``'s dtype) into ``t``. Shape: ``t``'s.

    >>> copy_(Tensor([1.0, 2.0]), Tensor([5.0])).tolist()
    [5.0, 5.0]
    """
    return _set(t, "copy_", src)


def _random(t: Tensor, op: str, sample: Callable[[np.random.Generator], np.ndarray]) -> Tensor:
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {t.dtype}")
    return _set(t, op, sample(get_rng()).astype(t.dtype))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of N(mean, std²) from the generator ``manual_seed`` seeds. Shape: ``t``'s.

    >>> normal_(Tensor(np.zeros(3, np.float32))).shape
    (3,)
    """
    if std < 0:
        raise OpError(f"normal_: std must be >= 0, got {std}")
    return _random(t, "normal_", lambda rng: rng.normal(mean, std, t.shape))


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, **bounds: float) -> Tensor:
    """Fill with samples of U(a, b) (PyTorch's ``from=``/``to=`` also accepted). Shape: ``t``'s.

    >>> float(uniform_(Tensor(np.zeros(3, np.float32)), 2, 3).min()) >= 2
    True
    """
    unknown = set(bounds) - {"from", "to"}
    if unknown:
        raise TypeError(f"uniform_: unexpected argument {sorted(unknown)[0]!r}")
    a, b = bounds.get("from", a), bounds.get("to", b)
    if a > b:
        raise OpError(f"uniform_: expected a <= b, got a={a}, b={b}")
    return _random(t, "uniform_", lambda rng: rng.uniform(a, b, t.shape))


def setitem_(t: Tensor, idx: Any, value: Any) -> Tensor:
    """``t[idx] = value`` in place, with PyTorch's indexing rules (value broadcast and converted to
    ``t``'s dtype). Shape: ``t``'s.

    >>> a = Tensor([1.0, 2.0, 3.0]); a[1:] = 0; a.tolist()
    [1.0, 0.0, 0.0]
    """
    # a number through one uint8 mask (whatever basic indices stand beside it) is PyTorch's masked_fill
    arrays = [p for p in (idx if isinstance(idx, tuple) else (idx,)) if isinstance(p, (Tensor, list, np.ndarray))]
    if not isinstance(value, Tensor) and len(arrays) == 1 and isinstance(arrays[0], Tensor) and \
            arrays[0].dtype == np.uint8:
        raise RuntimeError("setitem: writing a number through a uint8 mask is not supported (as in PyTorch); "
                           "use a bool mask")
    index = TorchIndex(idx, t.ndim)
    v = _operand(value)
    if isinstance(value, Tensor) and _category(value.dtype) > _category(t.dtype):
        raise RuntimeError(f"setitem: a {value.dtype} value can't be written into a {t.dtype} tensor")

    def kernel(d: np.ndarray) -> None:
        target, i = index.view_of(d)
        try:
            target[i] = v
        except ValueError as e:
            raise ShapeError(f"setitem: {e}") from None

    return _inplace(t, "setitem", value, kernel, lambda old: index_put(old, index, value))


def masked_fill_(t: Tensor, mask: Any, value: Any) -> Tensor:
    """Set the elements where ``mask`` is True to ``value``, in place. Shape: ``t``'s (mask broadcasts).

    >>> masked_fill_(Tensor([1.0, 2.0]), np.array([True, False]), 0.0).tolist()
    [0.0, 2.0]
    """
    m = np.broadcast_to(_operand(mask), t.shape)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill_: mask must be a bool tensor, got dtype {m.dtype}")
    v = _operand(value)
    return _inplace(t, "masked_fill_", value, lambda d: np.copyto(d, v, casting="unsafe", where=m),
                    lambda old: where(m, value if isinstance(value, Tensor) else Tensor(np.asarray(v, t.dtype)), old))
