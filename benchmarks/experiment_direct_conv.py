"""The time-boxed direct-convolution experiment: a numba loop for a 3x3 convolution (stride 1,
padding 1) over batch-innermost memory, blocked over 8 output channels, against the GEMM kernel
(``kernels/conv.conv_forward``) on the VGG-style and ResNet shapes, forward only (it lost there,
so the gradients were not written). Needs numba.

    python benchmarks/experiment_direct_conv.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import limit_threads  # noqa: E402

limit_threads()
import numba  # noqa: E402
import numpy as np  # noqa: E402

from tinygrad_cnn.ops.geometry import conv_geometry  # noqa: E402
from tinygrad_cnn.ops.kernels import conv  # noqa: E402


@numba.njit(nogil=True, fastmath={"reassoc", "contract"})
def direct(x: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    """x (H, C, W, N), w (F, C, 3, 3) -> out (H, F, W, N); F a multiple of 8."""
    h, c, wd, n = x.shape
    acc = np.empty((8, n), x.dtype)
    for oh in range(h):
        for f0 in range(0, w.shape[0], 8):
            for ow in range(wd):
                acc[:] = 0
                for i in range(3):
                    ih = oh + i - 1
                    for j in range(3):
                        iw = ow + j - 1
                        if 0 <= ih < h and 0 <= iw < wd:
                            for ci in range(c):
                                for fi in range(8):
                                    k = w[f0 + fi, ci, i, j]
                                    for q in range(n):
                                        acc[fi, q] += k * x[ih, ci, iw, q]
                for fi in range(8):
                    out[oh, f0 + fi, ow] = acc[fi]


def median_ms(fn, *args) -> float:
    fn(*args)
    times = []
    for _ in range(10):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def main() -> None:
    rng = np.random.default_rng(0)
    print("| conv | GEMM kernel ms | direct loop ms |\n|---|---|---|")
    for c, hw in ((16, 32), (32, 32), (32, 16), (64, 16), (64, 8)):
        x = rng.standard_normal((64, c, hw, hw)).astype(np.float32)
        rows = np.ascontiguousarray(x.transpose(2, 1, 3, 0))
        w = rng.standard_normal((c, c, 3, 3)).astype(np.float32)
        out = np.empty((hw, c, hw, 64), np.float32)
        geo = conv_geometry("conv2d", x.shape, w.shape, 1, 1, 1, 1)
        view = rows.transpose(3, 1, 0, 2)
        direct(rows, w, out)
        assert np.allclose(out.transpose(3, 1, 0, 2), conv.conv_forward.numpy(view, w, geo)[0], atol=1e-3)
        print(f"| {c}->{c} 3x3 on {hw}x{hw}, batch 64 | {median_ms(conv.conv_forward.numpy, view, w, geo):.2f} | "
              f"{median_ms(direct, rows, w, out):.2f} |")


if __name__ == "__main__":
    main()
