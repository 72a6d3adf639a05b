"""Thread-local modes: whether ops record the graph (``no_grad``, ``enable_grad``), anomaly
detection, and the stack of modules being called (which graph pictures group ops by)."""
from __future__ import annotations

import threading
from typing import Any, Callable

import numpy as np


class _Modes(threading.local):
    grad_enabled = True
    anomaly = False
    composite: tuple | None = None  # (name, instance) of the op made of ops now running, for pictures

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
        enabled = self.enabled

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _grad_mode(enabled):  # a fresh context per call: calls may nest or recurse
                return fn(*args, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
        return wrapper


class no_grad(_GradMode):
    """Ops inside build no graph: a context manager and a decorator.

    >>> from tinygrad_cnn import Tensor
    >>> x = Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_GradMode):
    """Turns graph recording back on inside a ``no_grad`` block; also a decorator.

    >>> from tinygrad_cnn import Tensor
    >>> x = Tensor([1.0], requires_grad=True)
    >>> with no_grad(), enable_grad():
    ...     (x * 2).requires_grad
    True
    """

    enabled = True


class _grad_mode(_GradMode):
    def __init__(self, enabled: bool):
        self.enabled = enabled


class set_grad_enabled(_GradMode):
    """Set graph recording on or off, as ``torch.set_grad_enabled``: at once when called, and back
    to the previous mode at the end of a ``with`` block.

    >>> from tinygrad_cnn import Tensor
    >>> with set_grad_enabled(False):
    ...     (Tensor([1.0], requires_grad=True) * 2).requires_grad
    False
    """

    def __init__(self, mode: bool):
        self.enabled = bool(mode)
        self._prev = _modes.grad_enabled
        _modes.grad_enabled = self.enabled

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        _modes.grad_enabled = self._prev

    def __call__(self, fn: Callable) -> Callable:
        """As a decorator: the mode is undone at once and set only while ``fn`` runs (PyTorch's rule)."""
        _modes.grad_enabled = self._prev
        return super().__call__(fn)


def _user_site() -> str:
    """The innermost stack frame outside this package: where the user created the op."""
    import sys
    import os

    pkg = os.path.dirname(os.path.abspath(__file__))
    frame: Any = sys._getframe(1)
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
