"""The compiled twins of the memory-bound numpy kernels: loops over the memory, compiled by numba.

Each module mirrors a numpy kernel module (``norm``, ``activation``, ``pool``, ``conv``) and each
twin keeps its numpy kernel's contract, or returns ``NotImplemented`` so that the numpy kernel
runs (``select.has_twin``). Twins run on the calling thread: numba's own thread pool beside
OpenBLAS's would fight it for the cores. They are compiled once per environment (``cache=True``)
and loaded from numba's cache by later processes.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable

import numba
import numpy as np

from ..layout import batch_innermost

# reassociation lets the reductions vectorize; no 'nnan'/'ninf', so NaN and inf keep numpy's meaning
REDUCE_MATH = {"reassoc", "contract"}
_compile_seconds = 0.0
_told = False


def jit(fastmath: Any = False) -> Callable:
    """numba's ``njit`` with the project's settings: cached, single-threaded; the first calls that
    compile are timed, and once compiling has taken over a second one line says so."""
    def decorate(fn: Callable) -> Callable:
        compiled = numba.njit(cache=True, nogil=True, fastmath=fastmath, error_model="numpy")(fn)

        def call(*args: Any) -> Any:
            known = len(compiled.overloads)  # a plain dict: the signatures property costs 20 us a call
            start = time.perf_counter()
            out = compiled(*args)
            if len(compiled.overloads) != known:  # compiled or loaded from the cache just now
                _count(time.perf_counter() - start)
            return out

        call.compiled = compiled  # type: ignore[attr-defined]
        return call
    return decorate


def _count(seconds: float) -> None:
    global _compile_seconds, _told
    _compile_seconds += seconds
    if _compile_seconds > 1.0 and not _told:
        _told = True
        print("tinygrad_cnn: compiling the numba kernels (once per environment; later runs load them from the "
              "cache)", file=sys.stderr)


def floats(*arrays: Any) -> bool:
    """Whether the arrays share one float32/float64 dtype (``select`` has checked their size)."""
    dtype = arrays[0].dtype
    return dtype.kind == "f" and dtype.itemsize >= 4 and all(a.dtype == dtype for a in arrays)


def block(a: Any) -> tuple[Any, bool] | None:
    """``a`` (N, C, H, W) as the C-contiguous memory block its loops run on, (C, H, W, N) or
    (H, C, W, N), and whether rows come first; an NCHW ``a`` is moved batch-innermost first when
    its batch is at least twice its width (``layout.batch_innermost``); None when it lies otherwise."""
    a = batch_innermost(a)
    for order, rows_first in (((1, 2, 3, 0), False), ((2, 1, 3, 0), True)):
        moved = a.transpose(order)
        if moved.flags.c_contiguous:
            return moved, rows_first
    return None


def rows_outer(n: int, c: int, h: int, w: int, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """A zeroed image in rows-outermost memory: the (N, C, H, W) view and its (H, C, W, N) block."""
    mem = np.zeros((h, c, w, n), dtype)
    return mem.transpose(3, 1, 0, 2), mem


def window_sizes(geo: Any) -> tuple:
    """A conv's or pool's geometry as the loops' int arguments: kernel, stride, dilation, top and
    left padding, input and output sides."""
    return geo.kernel + geo.stride + geo.dilation + (geo.pads[0], geo.pads[2]) + geo.in_hw + geo.out_hw
