"""Time one LeNet-5 training step (forward, backward, Adam) at batch 64 and 256, float32, 2 threads,
against PyTorch CPU's same step in the same run (when torch is installed); then time a full epoch
of 60,000 images and the peak resident memory of a training run.

    python benchmarks/bench_lenet.py [--reps 200] [--no-epoch]
"""
from __future__ import annotations

import argparse

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, limit_threads, optional_torch, table  # noqa: E402

THREADS = limit_threads()  # 2 unless the environment says otherwise
import numpy as np  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402
from tinygrad_cnn import nn, optim  # noqa: E402
from tinygrad_cnn.nn import functional as F  # noqa: E402


def ours_step(batch: int):
    tc.manual_seed(0)
    model = nn.LeNet5()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = tc.Tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = tc.Tensor(rng.integers(0, 10, batch))

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, model


def torch_step(torch, batch: int, model_np):
    tnn = torch.nn
    model = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5),
                           tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(),
                           tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 10, batch))
    loss_fn = tnn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def epoch_and_memory(data_dir: str | None) -> tuple[str, str]:
    """Run one real epoch in a fresh process (so that its peak RSS is the training run's own)."""
    code = (
        "import time, sys\n"
        "import tinygrad_cnn as tc\n"
        "from tinygrad_cnn import nn, optim\n"
        "from tinygrad_cnn.data import MNIST, DataLoader\n"
        "from tinygrad_cnn.nn import functional as F\n"
        "root = sys.argv[1] if len(sys.argv) > 1 else None\n"
        "train = MNIST(root, transform=MNIST.normalization())\n"
        "tc.manual_seed(0); model = nn.LeNet5(); opt = optim.Adam(model.parameters(), lr=1e-3)\n"
        "t = time.perf_counter()\n"
        "for x, y in DataLoader(train, 64, shuffle=True, seed=0):\n"
        "    loss = F.cross_entropy(model(x), y); opt.zero_grad(); loss.backward(); opt.step()\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent (this benchmark, with PyTorch loaded)
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(time.perf_counter() - t, int(hwm) / 1024)\n")
    args = [sys.executable, "-c", code] + ([data_dir] if data_dir else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        return "n/a", r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"
    secs, mb = r.stdout.split()
    return f"{float(secs):.1f} s", f"{float(mb):.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--no-epoch", action="store_true", help="skip the full-epoch and memory measurement")
    ap.add_argument("--data-dir", default=None, help="MNIST root (default $TINYGRAD_CNN_DATA)")
    args = ap.parse_args()
    torch = optional_torch(THREADS)
    rows = []
    for batch in (64, 256):
        step, model = ours_step(batch)
        fns = {"ours": step}
        if torch is not None:
            torch.manual_seed(0)
            fns["torch"] = torch_step(torch, batch, model)
        times = interleaved(fns, reps=args.reps)
        row = [str(batch), f"{times['ours'] * 1e3:.2f}"]
        if torch is not None:
            row += [f"{times['torch'] * 1e3:.2f}", f"{times.ratio('ours', 'torch'):.2f}"]
        rows.append(row)
    header = ["batch", "tinygrad_cnn ms/step"] + (["PyTorch ms/step", "ours / PyTorch"] if torch else [])
    print(table(header, rows))
    if torch is None:
        print("\n(PyTorch not installed: `pip install torch==2.13.0` adds the comparison columns)")
    if not args.no_epoch:
        secs, mem = epoch_and_memory(args.data_dir)
        print(f"\nfull epoch (60,000 images, batch 64, shuffled, with data loading): {secs}; "
              f"peak resident memory of that training process: {mem}")


if __name__ == "__main__":
    main()
