"""Which kernel runs: the numpy kernel, or its compiled twin in ``kernels/fast/`` (numba).

A numpy kernel marked ``@has_twin`` hands its call to the twin of the same name in
``kernels/fast/<its module>.py`` when numba is importable, unless ``TINYGRAD_CNN_KERNELS=numpy``.
A twin returns ``NotImplemented`` for what it does not cover (a memory layout, a dtype, a
geometry), and the numpy kernel runs, as it does for arrays under ``MIN_SIZE`` elements. numba
itself is imported at the first call of a twin, never by ``import tinygrad_cnn``. The numpy
kernels stay the reference: the suite runs every twin against them.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
from typing import Any, Callable, Iterator

MODES = ("numpy", "numba")
ENV = "TINYGRAD_CNN_KERNELS"
# below this many elements (in a kernel's first array) numpy's per-call cost is lower than numba's
MIN_SIZE = 4096
_TWINNED: dict[str, Callable] = {}  # "module.function" -> the numpy kernel
_twins: dict[str, Any] = {}  # "module.function" -> the compiled twin, once imported
_mode: str | None = None  # 'numpy' or 'numba'; None until the first kernel call reads the environment


def _current() -> str:
    """The mode now; on first use, the one the environment asks for: ``$TINYGRAD_CNN_KERNELS``,
    else numba when importable (read when a kernel first runs, so that the CLI can report a bad
    value in one line)."""
    global _mode
    if _mode is None:
        asked = os.environ.get(ENV, "").strip().lower()
        if asked not in ("", "auto") + MODES:
            raise ValueError(f"{ENV} must be 'numpy', 'numba' or 'auto', got {asked!r}")
        if asked == "numba" and importlib.util.find_spec("numba") is None:
            raise RuntimeError(f'{ENV}=numba, but numba is not installed: pip install "tinygrad_cnn[fast]"')
        _mode = asked if asked in MODES else "numba" if importlib.util.find_spec("numba") is not None else "numpy"
    return _mode


def has_twin(fn: Callable) -> Callable:
    """Mark a numpy kernel as having a compiled twin of the same name; the numpy function stays
    reachable as ``.numpy``. Shape: unchanged (the kernel's own)."""
    key = f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
    _TWINNED[key] = fn

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        if (_mode or _current()) == "numba" and args[0].size >= MIN_SIZE:
            out = _twin(key)(*args, **kwargs)
            if out is not NotImplemented:
                return out
        return fn(*args, **kwargs)

    run.numpy = fn  # type: ignore[attr-defined]
    run.twin = lambda: _twin(key)  # type: ignore[attr-defined]
    return run


def _twin(key: str) -> Any:
    """The compiled twin of the kernel ``key``, importing its module (and numba) on first use."""
    twin = _twins.get(key)
    if twin is None:
        module, name = key.split(".")
        twin = _twins[key] = getattr(importlib.import_module(f"{__package__}.fast.{module}"), name)
    return twin


def kernels_in_use() -> dict[str, str]:
    """For each kernel that has a compiled twin, which one runs now: 'numba' or 'numpy' (a twin
    still hands layouts it does not cover to numpy). Shape: -> {kernel: mode}.

    >>> sorted(kernels_in_use())[:2]
    ['activation.relu_with_mask', 'conv.conv_forward']
    """
    mode = _current()
    return {key: mode for key in sorted(_TWINNED)}


@contextlib.contextmanager
def use_kernels(mode: str, min_size: int | None = None) -> Iterator[None]:
    """Run the numpy kernels (``'numpy'``) or their twins (``'numba'``) inside the block; with
    ``min_size`` the twins also take arrays from that size up (0: every size, for the tests).

    >>> with use_kernels("numpy"):
    ...     set(kernels_in_use().values())
    {'numpy'}
    """
    global _mode, MIN_SIZE
    if mode not in MODES:
        raise ValueError(f"use_kernels: mode must be one of {MODES}, got {mode!r}")
    if mode == "numba" and importlib.util.find_spec("numba") is None:
        raise ImportError('use_kernels: numba is not installed: pip install "tinygrad_cnn[fast]"')
    old_mode, old_min = _current(), MIN_SIZE
    _mode, MIN_SIZE = mode, MIN_SIZE if min_size is None else min_size
    try:
        yield
    finally:
        _mode, MIN_SIZE = old_mode, old_min
