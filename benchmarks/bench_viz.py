"""Time DOT generation for large graphs (10,000 nodes and more); no Graphviz program needed.

    python benchmarks/bench_viz.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402

import numpy as np  # noqa: E402

from tinygrad_cnn import Tensor, viz  # noqa: E402


def chain(n_ops: int) -> Tensor:
    x = Tensor(np.ones(4, np.float32), requires_grad=True, name="x")
    y = x
    for i in range(n_ops):
        y = (y * 1.0001).tanh() if i % 2 else y + x
    return y.sum()


def main() -> None:
    rows = []
    for n in (2_500, 5_000, 10_000):
        root = chain(n)
        nodes = len(viz.graph_tensors(root))
        t = time.perf_counter()
        dot = viz.to_dot(root)
        secs = time.perf_counter() - t
        rows.append([f"{nodes:,}", f"{dot.count('->'):,}", f"{secs:.2f}", f"{len(dot) / 1e6:.1f}"])
    print(table(["nodes", "edges", "to_dot seconds", "DOT MB"], rows))


if __name__ == "__main__":
    main()
