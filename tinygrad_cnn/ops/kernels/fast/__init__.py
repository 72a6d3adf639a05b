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
            known = len(compiled.signatures)
            start = time.perf_counter()
            out = compiled(*args)
            if len(compiled.signatures) != known:  # compiled or loaded from the cache just now
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
