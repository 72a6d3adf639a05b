"""Time one training step (forward, backward, SGD with momentum) of several CNNs, tinygrad_cnn
against PyTorch CPU in the same run (interleaved), float32, 2 threads: LeNet-5 at batch 64 and
256, a VGG-style BatchNorm net on 3x32x32 at batch 64 and 128, a small ResNet at batch 64, a
MobileNet-style net (depthwise + pointwise + BN) at batch 64. Ours runs twice: with the compiled
twins (numba, when installed) and with the numpy kernels only. Also prints each step's GFLOP/s as
a fraction of numpy's float32 GEMM peak measured in the same run, and a plain user loop (LeNet-5,
a fresh process, no tuning call) against the same loop tuned.

    python benchmarks/bench_models.py [--reps 60] [--only NAME] [--no-plain]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, limit_threads, optional_torch, table  # noqa: E402

THREADS = limit_threads()  # 2 unless the environment says otherwise
import numpy as np  # noqa: E402

import tinygrad_cnn as tc  # noqa: E402


# ---- the models, written once against a torch-like module ``lib`` (torch or tinygrad_cnn)
def lenet(lib: Any) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def vgg_bn(lib: Any) -> Any:
    nn = lib.nn

    def block(c_in: int, c_out: int) -> list:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*block(3, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64), *block(64, 64),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 8 * 8, 10))


def resnet(lib: Any) -> Any:
    nn = lib.nn

    class Basic(nn.Module):
        def __init__(self, c_in: int, c_out: int, stride: int):
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c_out)
            self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c_out)
            self.down = None if stride == 1 and c_in == c_out else nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

        def forward(self, x: Any) -> Any:
            out = self.bn1(self.conv1(x)).relu()
            out = self.bn2(self.conv2(out))
            return (out + (x if self.down is None else self.down(x))).relu()

    return nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         Basic(16, 16, 1), Basic(16, 16, 1), Basic(16, 32, 2), Basic(32, 32, 1), Basic(32, 64, 2),
                         Basic(64, 64, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def mobilenet(lib: Any) -> Any:
    nn = lib.nn

    def separable(c_in: int, c_out: int, stride: int) -> list:
        return [nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False), nn.BatchNorm2d(c_in), nn.ReLU(),
                nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                         *separable(32, 64, 1), *separable(64, 128, 2), *separable(128, 128, 1),
                         *separable(128, 256, 2), *separable(256, 256, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(256, 10))


MODELS: dict[str, tuple[Callable, tuple, tuple]] = {  # name: (builder, input shape (C, H, W), batches)
    "LeNet-5": (lenet, (1, 28, 28), (64, 256)),
    "VGG-style BN": (vgg_bn, (3, 32, 32), (64, 128)),
    "ResNet (3 stages x 2 blocks)": (resnet, (3, 32, 32), (64,)),
    "MobileNet-style (5 separable blocks)": (mobilenet, (3, 32, 32), (64,)),
}


def step_of(lib: Any, builder: Callable, shape: tuple, batch: int, state: dict | None) -> tuple[Callable, Any]:
    """A training step of ``builder``'s model in ``lib`` on one fixed batch; weights from ``state``
    (a dict of numpy arrays) so that both libraries train the same network."""
    lib.manual_seed(0)
    model = builder(lib)
    if state is not None:  # PyTorch's own buffers (BatchNorm's num_batches_tracked) keep their values
        model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in state.items()}, strict=False)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((batch,) + shape).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, 10, batch))
    loss_fn = lib.nn.CrossEntropyLoss()

    def step() -> None:
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step, model


def numpy_only(step: Callable) -> Callable:
    """``step`` with the numpy kernels only (no compiled twins)."""
    def run() -> None:
        with tc.use_kernels("numpy"):
            step()
    return run


def forward_macs(model: Any, shape: tuple, batch: int) -> int:
    """Multiply-adds of one forward pass through the model's convs and linear layers (ours)."""
    macs = [0]

    def hook(m: Any, inputs: tuple, out: Any) -> None:
        if isinstance(m, tc.nn.Conv2d):
            kh, kw = m.kernel_size
            macs[0] += out.numel() * (m.in_channels // m.groups) * kh * kw
        elif isinstance(m, tc.nn.Linear):
            macs[0] += out.numel() * m.in_features
    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with tc.no_grad():
        model(tc.zeros((batch,) + shape))
    for h in handles:
        h.remove()
    return macs[0]


def gemm_peak() -> float:
    """numpy's float32 GEMM rate (GFLOP/s), the best of 10 products of 1024x1024 matrices."""
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    best = np.inf
    for _ in range(10):
        t = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t)
    return 2 * 1024 ** 3 / best / 1e9


PLAIN_LOOP = """
import sys, time
import numpy as np
{tune}
import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
import tinygrad_cnn.nn.functional as F
tc.manual_seed(0)
model = nn.LeNet5()
opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
rng = np.random.default_rng(0)
x = tc.Tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
y = tc.Tensor(rng.integers(0, 10, 64))
times = []
for i in range({steps}):
    t = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - t)
print(np.median(times[20:]))
"""


def plain_loop(mode: str, steps: int) -> float:
    """ms/step of a user's own LeNet-5 loop in a fresh process: ``plain`` (nothing but the import),
    ``tuned`` (an explicit tune_malloc() call first) or ``opted-out`` (TINYGRAD_CNN_TUNE_MALLOC=0)."""
    tune = "from tinygrad_cnn.utils import tune_malloc; tune_malloc()" if mode == "tuned" else ""
    env = dict(os.environ, TINYGRAD_CNN_TUNE_MALLOC="0" if mode == "opted-out" else "1")
    r = subprocess.run([sys.executable, "-c", PLAIN_LOOP.format(tune=tune, steps=steps)], capture_output=True,
                       text=True, timeout=600, check=True, env=env)
    return float(r.stdout.strip()) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=60)
    ap.add_argument("--only", default=None, help="run only the models whose name contains this")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain-user-loop row")
    args = ap.parse_args()
    torch = optional_torch(THREADS)
    fast = "numba" in tc.kernels_in_use().values()  # the compiled twins run: time ours without them too
    peak = gemm_peak()
    rows = []
    for name, (builder, shape, batches) in MODELS.items():
        if args.only and args.only.lower() not in name.lower():
            continue
        for batch in batches:
            step, model = step_of(tc, builder, shape, batch, None)
            flops = 6 * forward_macs(model, shape, batch)  # forward 2*MACs, backward twice that
            fns = {"ours": step}
            if fast:
                fns["numpy"] = numpy_only(step_of(tc, builder, shape, batch, None)[0])
            if torch is not None:
                state = {k: np.asarray(v) for k, v in model.state_dict().items()}
                fns["torch"] = step_of(torch, builder, shape, batch, state)[0]
            blocks = max(4, min(20, args.reps // 3))
            times = interleaved(fns, reps=args.reps, blocks=blocks)
            ours = times["ours"]
            row = [name, str(batch), f"{ours * 1e3:.1f}"] + ([f"{times['numpy'] * 1e3:.1f}"] if fast else [])
            if torch is not None:
                row += [f"{times['torch'] * 1e3:.1f}", f"**{times.ratio('ours', 'torch'):.2f}**"]
                row += [f"{times.ratio('numpy', 'torch'):.2f}"] if fast else []
            row += [f"{flops / 1e9:.2f}", f"{flops / ours / 1e9 / peak:.0%}"]
            if torch is not None:
                row.append(f"{flops / times['torch'] / 1e9 / peak:.0%}")
            rows.append(row)
            print(" | ".join(row), file=sys.stderr, flush=True)
    header = ["model", "batch", "tinygrad_cnn ms/step"] + (["numpy kernels only ms/step"] if fast else [])
    header += (["PyTorch ms/step", "ours / PyTorch"] + (["numpy only / PyTorch"] if fast else [])) if torch else []
    header += ["GFLOP/step", "ours: share of GEMM peak"] + (["PyTorch: share of GEMM peak"] if torch else [])
    print(table(header, rows))
    print(f"\nkernels: {'numba twins where they cover the layout, else numpy' if fast else 'numpy only'}")
    print(f"\nnumpy float32 GEMM peak in this run: {peak:.0f} GFLOP/s ({THREADS} threads); a step's FLOPs are "
          "6x the multiply-adds of its convs and linear layers")
    if not args.no_plain:
        ms = {mode: float(np.median([plain_loop(mode, 300) for _ in range(3)]))
              for mode in ("plain", "tuned", "opted-out")}
        print(f"\nLeNet-5 batch 64, a user's own loop in a fresh process (medians of 3 processes): "
              f"{ms['plain']:.2f} ms/step with nothing but the import, {ms['tuned']:.2f} ms/step with an explicit "
              f"tune_malloc() ({ms['plain'] / ms['tuned']:.2f}x), {ms['opted-out']:.2f} ms/step with "
              f"TINYGRAD_CNN_TUNE_MALLOC=0 ({ms['opted-out'] / ms['tuned']:.2f}x)")


if __name__ == "__main__":
    main()
