"""Time DOT generation for large graphs (10,000 nodes and more; no Graphviz program needed), and
``trace_backward`` on LeNet-5 at batch 64 against a plain backward (medians of 30 each), plus
the page's rendering.

    python benchmarks/bench_viz.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402

import numpy as np  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402
import tinygrad_cnn.nn.functional as F  # noqa: E402
from tinygrad_cnn import Tensor, nn, viz  # noqa: E402


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
    trace_vs_plain()


def trace_vs_plain() -> None:
    tc.manual_seed(0)
    model = nn.LeNet5()
    x, y = tc.randn(64, 1, 28, 28), Tensor(np.random.default_rng(0).integers(0, 10, 64))

    def timed(run) -> float:
        loss = F.cross_entropy(model(x), y)
        t = time.perf_counter()
        run(loss)
        return time.perf_counter() - t
    plain = lambda loss: loss.backward()  # noqa: E731
    traced = lambda loss: viz.trace_backward(loss, params=model)  # noqa: E731
    for _ in range(3):
        timed(plain), timed(traced)
    p, q = [], []
    for _ in range(30):  # alternating, so that both see the same machine
        p.append(timed(plain))
        q.append(timed(traced))
    mp, mq = float(np.median(p)), float(np.median(q))
    rows = [["backward()", f"{mp * 1e3:.2f}", "1.00"], ["trace_backward()", f"{mq * 1e3:.2f}", f"**{mq / mp:.2f}**"]]
    if viz.dot_available():
        trace = viz.trace_backward(F.cross_entropy(model(x), y), params=model)
        t = time.perf_counter()
        trace.to_html()
        rows.append(["to_html() (dot layout + page)", f"{(time.perf_counter() - t) * 1e3:.1f}", ""])
    print("\nLeNet-5, batch 64:\n")
    print(table(["call", "ms (median of 30)", "vs backward()"], rows))


if __name__ == "__main__":
    main()
