"""Forward+backward time of the CNN primitives at LeNet-5 shapes (float32, 2 threads):
tinygrad_cnn against a plain-loop numpy reference and, when installed, PyTorch CPU; with
``--sweep``, convolutions and pooling across the shapes common CNNs use, against PyTorch only.

    python benchmarks/bench_ops.py [--reps 200] [--threads 2] [--sweep]

The loop reference (the textbook nested loops over batch, channel and output pixel) is far too
slow for batch 64, so it is timed on a batch of 2 and scaled to 64 (its cost is linear in batch).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interleaved, limit_threads, optional_torch, table  # noqa: E402


def _parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS and PyTorch threads for both contenders (default 2, as the targets assume)")
    ap.add_argument("--sweep", action="store_true", help="the shape sweep instead of the LeNet-5 table")
    return ap.parse_args()


ARGS = _parse_args()  # before numpy's import: OpenBLAS reads its thread count when loaded
THREADS = limit_threads(ARGS.threads)
import numpy as np  # noqa: E402

import tinygrad_cnn.nn.functional as F  # noqa: E402
from tinygrad_cnn import Tensor  # noqa: E402


# ------------------------------------------------------------------ plain-loop references (fwd + bwd)
def loop_conv(x, w, pad, g):
    n, c, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = xp.shape[2] - k + 1, xp.shape[3] - k + 1
    out = np.zeros((n, f, ho, wo), x.dtype)
    for i in range(n):
        for o in range(f):
            for y in range(ho):
                for z in range(wo):
                    out[i, o, y, z] = np.sum(xp[i, :, y:y + k, z:z + k] * w[o])
    gx, gw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(n):
        for o in range(f):
            for y in range(ho):
                for z in range(wo):
                    gx[i, :, y:y + k, z:z + k] += g[i, o, y, z] * w[o]
                    gw[o] += g[i, o, y, z] * xp[i, :, y:y + k, z:z + k]
    return out, gx, gw, g.sum((0, 2, 3))


def loop_pool(x, k, g, kind):
    n, c, h, w = x.shape
    ho, wo = h // k, w // k
    out = np.zeros((n, c, ho, wo), x.dtype)
    gx = np.zeros_like(x)
    for i in range(n):
        for j in range(c):
            for y in range(ho):
                for z in range(wo):
                    win = x[i, j, y * k:(y + 1) * k, z * k:(z + 1) * k]
                    if kind == "max":
                        a = np.argmax(win)
                        out[i, j, y, z] = win.flat[a]
                        gx[i, j, y * k + a // k, z * k + a % k] += g[i, j, y, z]
                    else:
                        out[i, j, y, z] = win.mean()
                        gx[i, j, y * k:(y + 1) * k, z * k:(z + 1) * k] += g[i, j, y, z] / (k * k)
    return out, gx


# (batch, in channels, side, out channels, kernel, stride, groups): 1x1/3x3/5x5/7x7, stride 1 and 2,
# 3 to 256 channels, sides 7 to 64, batch 1 to 256, grouped and depthwise
SWEEP_CONVS = [
    (64, 3, 32, 32, 3, 1, 1), (64, 16, 32, 16, 3, 1, 1), (64, 32, 32, 32, 3, 1, 1), (64, 64, 16, 64, 3, 1, 1),
    (64, 128, 8, 128, 3, 1, 1), (64, 256, 7, 256, 3, 1, 1), (1, 64, 32, 64, 3, 1, 1), (256, 16, 16, 32, 3, 1, 1),
    (64, 32, 32, 64, 3, 2, 1), (64, 64, 16, 128, 1, 1, 1), (64, 64, 16, 128, 1, 2, 1), (64, 256, 7, 64, 1, 1, 1),
    (64, 16, 32, 32, 5, 1, 1), (16, 3, 64, 32, 7, 2, 1), (64, 64, 16, 64, 3, 1, 4), (64, 64, 16, 64, 3, 1, 64),
]
# (label, function name, input shape, positional arguments)
SWEEP_POOLS = [
    ("max_pool2d 3x3 s2 p1, 64x64x32x32", "max_pool2d", (64, 64, 32, 32), (3, 2, 1)),
    ("max_pool2d 2x2, 64x128x16x16", "max_pool2d", (64, 128, 16, 16), (2,)),
    ("avg_pool2d 2x2, 64x128x16x16", "avg_pool2d", (64, 128, 16, 16), (2,)),
    ("avg_pool2d 3x3 s1 p1, 64x32x32x32", "avg_pool2d", (64, 32, 32, 32), (3, 1, 1)),
    ("adaptive_avg_pool2d to 1x1, 64x256x7x7", "adaptive_avg_pool2d", (64, 256, 7, 7), (1,)),
    ("adaptive_avg_pool2d to 1x1, 64x64x16x16", "adaptive_avg_pool2d", (64, 64, 16, 16), (1,)),
]


def sweep(torch, reps: int) -> None:
    """Forward + backward (input, weight and bias gradients) of each sweep shape, ours vs PyTorch."""
    rng = np.random.default_rng(0)
    rows = []
    cases = [(f"conv2d {k}x{k} s{s}{f' g{g}' if g > 1 else ''} {c}->{f}, {n}x{c}x{hw}x{hw}", "conv",
              (n, c, hw, hw), (f, c // g, k, k), (s, k // 2, g)) for n, c, hw, f, k, s, g in SWEEP_CONVS]
    cases += [(label, name, xs, None, args) for label, name, xs, args in SWEEP_POOLS]
    for label, kind, xs, ws, args in cases:
        x_np = rng.standard_normal(xs).astype(np.float32)
        fns: dict = {}
        # "ours" gets NCHW arrays as PyTorch does; "ours, net" the (H, C, W, N) memory that a conv's
        # output and the gradients coming back to it have inside a network
        for name, layout in (("ours", lambda a: a), ("ours, net", rows_outermost)):
            x = Tensor(layout(x_np), requires_grad=True)
            if kind == "conv":
                w_np = np.random.default_rng(1).standard_normal(ws).astype(np.float32) * 0.1
                w, b = Tensor(w_np, requires_grad=True), Tensor(np.zeros(ws[0], np.float32), requires_grad=True)
                out_shape = F.conv2d(x, w, b, args[0], args[1], 1, args[2]).shape
                g = Tensor(layout(np.ones(out_shape, np.float32)))
                fns[name] = lambda x=x, w=w, b=b, a=args, g=g: F.conv2d(x, w, b, a[0], a[1], 1, a[2]).backward(g)
                flops = 6 * g.numel() * ws[1] * ws[2] * ws[3]
            else:
                fn = getattr(F, kind)
                g = Tensor(layout(np.ones(fn(x, *args).shape, np.float32)))
                fns[name] = lambda x=x, fn=fn, a=args, g=g: fn(x, *a).backward(g)
                flops = 0
        if torch is not None:
            tx, tg = torch.tensor(x_np, requires_grad=True), torch.tensor(np.ascontiguousarray(g.numpy()))
            if kind == "conv":
                tw, tb = torch.tensor(w_np, requires_grad=True), torch.zeros(ws[0], requires_grad=True)
                fns["torch"] = lambda tx=tx, tw=tw, tb=tb, a=args, tg=tg: torch.nn.functional.conv2d(
                    tx, tw, tb, a[0], a[1], 1, a[2]).backward(tg)
            else:
                tfn = getattr(torch.nn.functional, kind)
                fns["torch"] = lambda tx=tx, tfn=tfn, a=args, tg=tg: tfn(tx, *a).backward(tg)
        times = interleaved(fns, reps=reps, blocks=max(4, min(20, reps // 3)))
        row = [label, f"{times['ours'] * 1e3:.2f}", f"{times['ours, net'] * 1e3:.2f}"]
        if torch is not None:
            row += [f"{times['torch'] * 1e3:.2f}", f"**{times.ratio('ours', 'torch'):.2f}**",
                    f"**{times.ratio('ours, net', 'torch'):.2f}**"]
        row.append(f"{flops / times['ours, net'] / 1e9:.0f}" if flops else "")
        rows.append(row)
        print(" | ".join(row), file=sys.stderr, flush=True)
    header = ["forward+backward", "tinygrad_cnn ms (NCHW)", "tinygrad_cnn ms (network layout)"]
    header += ["PyTorch ms", "ours / PyTorch (NCHW)", "ours / PyTorch (network layout)"] if torch else []
    print(table(header + ["ours GFLOP/s (network layout)"], rows))
    print(f"\n({THREADS} BLAS/PyTorch thread{'s' if THREADS != 1 else ''}, float32; gradients accumulate "
          "over the calls in all contenders; network layout: input and incoming gradient as (N, C, H, W) "
          "views of (H, C, W, N) memory, the layout a conv's output has)")


def rows_outermost(a: np.ndarray) -> np.ndarray:
    """``a`` (N, C, H, W) with the same values, as a view of (H, C, W, N) memory. Shape: unchanged."""
    return np.ascontiguousarray(a.transpose(2, 1, 3, 0)).transpose(3, 1, 0, 2)


def main() -> None:
    args = ARGS
    torch = optional_torch(THREADS)
    if args.sweep:
        sweep(torch, min(args.reps, 30))
        return
    rng = np.random.default_rng(0)
    cases = [
        ("conv2d 1->6 5x5 p2, 64x1x28x28 (input needs no grad, as in LeNet)", "conv0", (64, 1, 28, 28),
         (6, 1, 5, 5), 2),
        ("conv2d 1->6 5x5 p2, 64x1x28x28", "conv", (64, 1, 28, 28), (6, 1, 5, 5), 2),
        ("conv2d 6->16 5x5, 64x6x14x14", "conv", (64, 6, 14, 14), (16, 6, 5, 5), 0),
        ("max_pool2d 2x2, 64x6x28x28", "max", (64, 6, 28, 28), None, 2),
        ("avg_pool2d 2x2, 64x6x28x28", "avg", (64, 6, 28, 28), None, 2),
        ("max_pool2d 2x2, 64x16x10x10", "max", (64, 16, 10, 10), None, 2),
        ("avg_pool2d 2x2, 64x16x10x10", "avg", (64, 16, 10, 10), None, 2),
    ]
    rows = []
    for label, kind, xs, ws, arg in cases:
        x_np = rng.standard_normal(xs).astype(np.float32)
        x = Tensor(x_np, requires_grad=kind != "conv0")
        fns = {}
        if kind.startswith("conv"):
            w_np = rng.standard_normal(ws).astype(np.float32) * 0.1
            w, b = Tensor(w_np, requires_grad=True), Tensor(np.zeros(ws[0], np.float32), requires_grad=True)
            out_shape = F.conv2d(x, w, b, padding=arg).shape

            def ours(x=x, w=w, b=b, arg=arg):
                F.conv2d(x, w, b, padding=arg).backward(g_ours)
        else:
            fn = F.max_pool2d if kind == "max" else F.avg_pool2d
            out_shape = fn(x, arg).shape

            def ours(x=x, fn=fn, arg=arg):
                fn(x, arg).backward(g_ours)
        g_np = np.ones(out_shape, np.float32)
        g_ours = Tensor(g_np)
        fns["ours"] = ours
        if torch is not None:
            tx = torch.tensor(x_np, requires_grad=kind != "conv0")
            tg = torch.tensor(g_np)
            if kind.startswith("conv"):
                tw, tb = torch.tensor(w_np, requires_grad=True), torch.zeros(ws[0], requires_grad=True)
                fns["torch"] = lambda tx=tx, tw=tw, tb=tb, arg=arg, tg=tg: torch.nn.functional.conv2d(
                    tx, tw, tb, padding=arg).backward(tg)
            else:
                tfn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
                fns["torch"] = lambda tx=tx, tfn=tfn, arg=arg, tg=tg: tfn(tx, arg).backward(tg)
        times = interleaved(fns, reps=args.reps)
        t0 = time.perf_counter()
        if kind.startswith("conv"):
            loop_conv(x_np[:2], w_np, arg, g_np[:2])
        else:
            loop_pool(x_np[:2], arg, g_np[:2], kind)
        loop = (time.perf_counter() - t0) * xs[0] / 2
        row = [label, f"{times['ours'] * 1e3:.2f}", f"{loop * 1e3:.0f}", f"{loop / times['ours']:.0f}x"]
        if torch is not None:
            row += [f"{times['torch'] * 1e3:.2f}", f"{times.ratio('ours', 'torch'):.2f}"]
        rows.append(row)
    header = ["forward+backward", "tinygrad_cnn ms", "loop ref ms (scaled)", "speed-up vs loops"]
    if torch is not None:
        header += ["PyTorch ms", "ours / PyTorch"]
    print(table(header, rows))
    print(f"\n({THREADS} BLAS/PyTorch thread{'s' if THREADS != 1 else ''}, float32)")
    if torch is None:
        print("\n(PyTorch not installed: `pip install torch==2.13.0` adds the comparison columns)")


if __name__ == "__main__":
    main()
