"""Timing helpers shared by the benchmarks: interleaved repetitions, median of many, so that a
noisy shared machine affects every contender alike."""
from __future__ import annotations

import os
import time
from typing import Callable

import numpy as np


def limit_threads(n: int | None = None) -> int:
    """Pin BLAS (and, through :func:`optional_torch`, PyTorch) to ``n`` threads; with ``n`` None,
    to 2 unless the environment already says otherwise. Call before importing numpy. Returns
    the thread count in force."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if n is None:
            os.environ.setdefault(var, "2")
        else:
            os.environ[var] = str(n)
    return int(os.environ["OPENBLAS_NUM_THREADS"])


def optional_torch(threads: int = 2):
    """PyTorch when installed (an optional oracle and yardstick), else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


class Timings(dict):
    """Median seconds per call of each contender (a dict), plus ``blocks``: each contender's
    median per block, blocks of all contenders taken back to back."""

    blocks: dict[str, list[float]]

    def ratio(self, a: str, b: str) -> float:
        """Median over blocks of a's time / b's time in the same round: each ratio compares two
        runs made moments apart, so machine-wide slow spells (here +-30% over minutes) cancel."""
        return float(np.median(np.array(self.blocks[a]) / np.array(self.blocks[b])))


def interleaved(fns: dict[str, Callable[[], object]], reps: int = 200, warmup: int = 2, blocks: int = 20
                ) -> Timings:
    """Time each function in ``blocks`` rounds; in each round every contender runs a block of
    ``reps / blocks`` calls (after ``warmup`` untimed calls: its caches warm, as in a training
    loop), the order of contenders alternating between rounds. Returns :class:`Timings`."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    per_block_medians: dict[str, list[float]] = {k: [] for k in fns}
    per_block = max(1, reps // blocks)
    names = list(fns)
    for r in range(blocks):
        for k in (names if r % 2 == 0 else names[::-1]):
            f = fns[k]
            time.sleep(0.2)  # let the previous contender's worker threads (OpenMP spins) go idle
            for _ in range(warmup):
                f()
            block = []
            for _ in range(per_block):
                t = time.perf_counter()
                f()
                block.append(time.perf_counter() - t)
            times[k] += block
            per_block_medians[k].append(float(np.median(block)))
    out = Timings({k: float(np.median(v)) for k, v in times.items()})
    out.blocks = per_block_medians
    return out


def table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-style markdown table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])
