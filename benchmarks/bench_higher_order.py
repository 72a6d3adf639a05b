"""Time a Hessian-vector product of LeNet-5's loss with respect to all its parameters (batch 64,
float32, 2 threads) against one training step (forward, backward, SGD) of the same model, and
the same for PyTorch's ``torch.autograd.functional.hvp`` when installed.

    python benchmarks/bench_higher_order.py [--reps 40]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, limit_threads, optional_torch, table  # noqa: E402

THREADS = limit_threads()
import numpy as np  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402


def lenet_loss(lib: Any, x: Any, y: Any) -> Any:
    """LeNet-5's cross-entropy as a function of its ten parameter tensors, in either library."""
    F = lib.nn.functional

    def loss(w1: Any, b1: Any, w2: Any, b2: Any, l1: Any, c1: Any, l2: Any, c2: Any, l3: Any, c3: Any) -> Any:
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2)), 2).flatten(1)
        h = F.linear(F.relu(F.linear(F.relu(F.linear(h, l1, c1)), l2, c2)), l3, c3)
        return F.cross_entropy(h, y)
    return loss


def contenders(lib: Any, params: list[np.ndarray], x_np: np.ndarray, y_np: np.ndarray) -> dict:
    from_np = lib.from_numpy
    x, y = from_np(x_np), from_np(y_np)
    loss = lenet_loss(lib, x, y)
    ps = tuple(from_np(p.copy()).requires_grad_(True) for p in params)
    vs = tuple(from_np(np.random.default_rng(1).standard_normal(p.shape).astype(np.float32)) for p in params)
    opt = lib.optim.SGD(ps, lr=0.01)
    hvp = tc.autograd.functional.hvp if lib is tc else lib.autograd.functional.hvp

    def step() -> None:
        opt.zero_grad()
        loss(*ps).backward()
        opt.step()

    def product() -> None:
        hvp(loss, tuple(p.detach() for p in ps), vs)

    return {"step": step, "hvp": product}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args()
    torch = optional_torch(THREADS)
    tc.manual_seed(0)
    params = [np.asarray(p.numpy()) for p in tc.nn.LeNet5().parameters()]
    rng = np.random.default_rng(0)
    x_np, y_np = rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    fns = {f"ours {k}": f for k, f in contenders(tc, params, x_np, y_np).items()}
    if torch is not None:
        fns.update({f"torch {k}": f for k, f in contenders(torch, params, x_np, y_np).items()})
    t = interleaved(fns, reps=args.reps, blocks=max(4, args.reps // 4))
    rows = [["tinygrad_cnn", f"{t['ours step'] * 1e3:.2f}", f"{t['ours hvp'] * 1e3:.2f}",
             f"**{t.ratio('ours hvp', 'ours step'):.2f}**"]]
    if torch is not None:
        rows.append(["PyTorch", f"{t['torch step'] * 1e3:.2f}", f"{t['torch hvp'] * 1e3:.2f}",
                     f"{t.ratio('torch hvp', 'torch step'):.2f}"])
    print(table(["library", "train step ms", "hvp ms (all 61,706 parameters)", "hvp / step"], rows))
    if torch is not None:
        print(f"\nours / PyTorch: hvp {t.ratio('ours hvp', 'torch hvp'):.2f}, "
              f"step {t.ratio('ours step', 'torch step'):.2f}")


if __name__ == "__main__":
    main()
