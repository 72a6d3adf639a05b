"""Per-op overhead on tiny tensors, where Python, not numpy, is the cost: what micrograd-style use
and every hypothesis example pay. Ours against PyTorch in the same run (interleaved blocks).

    python benchmarks/bench_overhead.py [--reps 2000]

Cases: a 3x3 add; a 4-op forward and backward on 3x3 tensors; one SGD step of a 2-16-16-1 MLP
on a batch of 8; one gradcheck of a small conv2d (float64, 1x2x4x4 input, 2x2x3x3 weight).
"""
from __future__ import annotations

import argparse
import platform

from common import interleaved, limit_threads, optional_torch, table

limit_threads()

import numpy as np  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402
from tinygrad_cnn import nn  # noqa: E402
from tinygrad_cnn.testing import gradcheck  # noqa: E402


def _ours() -> dict:
    rng = np.random.default_rng(0)
    a, b = tc.tensor(rng.random((3, 3), np.float32)), tc.tensor(rng.random((3, 3), np.float32))
    x = tc.tensor(rng.random((3, 3), np.float32), requires_grad=True)
    y = tc.tensor(rng.random((3, 3), np.float32), requires_grad=True)

    def four_ops() -> None:
        ((x * y + x).exp().sum()).backward()

    tc.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
    opt = tc.optim.SGD(mlp.parameters(), lr=0.01)
    xb, yb = tc.tensor(rng.random((8, 2), np.float32)), tc.tensor(rng.random((8, 1), np.float32))

    def mlp_step() -> None:
        opt.zero_grad()
        nn.functional.mse_loss(mlp(xb), yb).backward()
        opt.step()

    ci = tc.tensor(rng.standard_normal((1, 2, 4, 4)), dtype="float64", requires_grad=True)
    cw = tc.tensor(rng.standard_normal((2, 2, 3, 3)), dtype="float64", requires_grad=True)

    def conv_gradcheck() -> None:
        gradcheck(lambda i, w: nn.functional.conv2d(i, w, padding=1), (ci, cw))

    return {"3x3 add": lambda: a + b, "4-op forward+backward": four_ops, "MLP 2-16-16-1 SGD step": mlp_step,
            "gradcheck of a small conv2d": conv_gradcheck}


def _theirs(torch) -> dict:
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(3, 3, generator=g), torch.rand(3, 3, generator=g)
    x = torch.rand(3, 3, generator=g, requires_grad=True)
    y = torch.rand(3, 3, generator=g, requires_grad=True)

    def four_ops() -> None:
        ((x * y + x).exp().sum()).backward()

    tnn = torch.nn
    mlp = tnn.Sequential(tnn.Linear(2, 16), tnn.ReLU(), tnn.Linear(16, 16), tnn.ReLU(), tnn.Linear(16, 1))
    opt = torch.optim.SGD(mlp.parameters(), lr=0.01)
    xb, yb = torch.rand(8, 2, generator=g), torch.rand(8, 1, generator=g)

    def mlp_step() -> None:
        opt.zero_grad()
        tnn.functional.mse_loss(mlp(xb), yb).backward()
        opt.step()

    ci = torch.randn(1, 2, 4, 4, dtype=torch.float64, generator=g, requires_grad=True)
    cw = torch.randn(2, 2, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)

    def conv_gradcheck() -> None:
        torch.autograd.gradcheck(lambda i, w: tnn.functional.conv2d(i, w, padding=1), (ci, cw))

    return {"3x3 add": lambda: a + b, "4-op forward+backward": four_ops, "MLP 2-16-16-1 SGD step": mlp_step,
            "gradcheck of a small conv2d": conv_gradcheck}


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def _unit(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=2000, help="calls per contender and case (default 2000)")
    args = p.parse_args()
    torch = optional_torch()
    ours = _ours()
    theirs = _theirs(torch) if torch is not None else {}
    rows = []
    for case, fn in ours.items():
        reps = args.reps if "gradcheck" not in case else max(20, args.reps // 100)
        fns = {"ours": fn} | ({"torch": theirs[case]} if theirs else {})
        t = interleaved(fns, reps=reps, blocks=10)
        ratio = f"{t.ratio('ours', 'torch'):.2f}" if theirs else "-"
        rows.append([case, _unit(t["ours"]), _unit(t["torch"]) if theirs else "-", ratio])
    print(f"{_cpu()}, numpy {np.__version__}"
          + (f", PyTorch {torch.__version__}" if torch is not None else ""))
    print(table(["case", "tinygrad_cnn", "PyTorch", "ours / PyTorch"], rows))


if __name__ == "__main__":
    main()
