"""Timing helpers shared by the benchmarks: interleaved repetitions, median of many, so that a
noisy shared machine affects every contender alike."""
from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np


def limit_threads(n: int = 2) -> None:
    """Pin BLAS and PyTorch to ``n`` threads (call before importing numpy-heavy work)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))


def fast_malloc() -> None:
    """Apply tinygrad_cnn's malloc tuning, as the training command does."""
    from tinygrad_cnn.utils import tune_malloc

    tune_malloc()


def optional_torch(threads: int = 2):
    """PyTorch when installed (an optional oracle and yardstick), else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def interleaved(fns: dict[str, Callable[[], object]], reps: int = 30, warmup: int = 3, blocks: int = 5
                ) -> dict[str, float]:
    """Median seconds per call of each function. The contenders take turns in ``blocks`` blocks of
    ``reps / blocks`` calls each (after ``warmup`` calls per block): every contender sees the same
    machine noise, yet runs with its own caches warm, as it would in a training loop."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    per_block = max(1, reps // blocks)
    for _ in range(blocks):
        for k, f in fns.items():
            time.sleep(0.2)  # let the previous contender's worker threads (OpenMP spins) go idle
            for _ in range(warmup):
                f()
            for _ in range(per_block):
                t = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


def table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-style markdown table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])
