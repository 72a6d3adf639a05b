"""A learner's convolution and max pooling, written as the nested loops one first writes, checked
against tinygrad_cnn with ``check_layer``. Each classic mistake can be switched on; check_layer finds
it at a small configuration and says why.

    python examples/check_my_conv.py                   # the correct layers, then every mistake
    python examples/check_my_conv.py --mistake stride  # one mistake
"""
import argparse
import sys
from functools import partial

import numpy as np

from tinygrad_cnn.testing import check_layer

MISTAKES = {
    "stride": "conv backward ignores the stride",
    "pad0": "conv backward cuts the padding off with dxp[:, :, pad:-pad, pad:-pad]",
    "bias_in_window": "conv forward adds the bias inside the window sum",
    "dilation": "conv forward ignores the dilation",
    "dw_aliases_w": "conv backward accumulates dw in the weights' own array",
    "mask_from_dx": "max-pool backward takes its mask from dx instead of x",
    "ties": "max-pool backward sends the gradient to every tied maximum",
    "overwrite": "max-pool backward overwrites where windows overlap instead of adding",
}


def conv_forward(x, w, b, stride=1, pad=0, dilation=1, mistake=None):
    """x (N, C, H, W), w (F, C, kh, kw), b (F,) or None -> (N, F, Ho, Wo)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    d = 1 if mistake == "dilation" else dilation
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    wo = (wd + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, f, ho, wo))
    for i in range(n):
        for o in range(f):
            bias = 0.0 if b is None else b[o]
            for y in range(ho):
                for z in range(wo):
                    y0, z0 = y * stride, z * stride
                    window = xp[i, :, y0:y0 + d * (kh - 1) + 1:d, z0:z0 + d * (kw - 1) + 1:d]
                    if mistake == "bias_in_window":
                        out[i, o, y, z] = (window * w[o] + bias).sum()
                    else:
                        out[i, o, y, z] = (window * w[o]).sum() + bias
    return out


def conv_backward(dout, x, w, b, stride=1, pad=0, dilation=1, mistake=None):
    """dout (N, F, Ho, Wo) and the forward's inputs -> dx, dw, db (None without a bias)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    d = dilation
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    if mistake == "dw_aliases_w":
        dw = w
        dw[...] = 0
    else:
        dw = np.zeros_like(w)
    s = 1 if mistake == "stride" else stride
    for i in range(n):
        for o in range(f):
            for y in range(dout.shape[2]):
                for z in range(dout.shape[3]):
                    rows = slice(y * s, y * s + d * (kh - 1) + 1, d)
                    cols = slice(z * s, z * s + d * (kw - 1) + 1, d)
                    dw[o] += xp[i, :, rows, cols] * dout[i, o, y, z]
                    dxp[i, :, rows, cols] += w[o] * dout[i, o, y, z]
    db = None if b is None else dout.sum(axis=(0, 2, 3))
    dx = dxp[:, :, pad:-pad, pad:-pad] if mistake == "pad0" else dxp[:, :, pad:pad + h, pad:pad + wd]
    return dx, dw, db


def max_pool_forward(x, size, stride):
    """x (N, C, H, W) -> (out (N, C, Ho, Wo), cache)."""
    n, c, h, w = x.shape
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.zeros((n, c, ho, wo))
    for y in range(ho):
        for z in range(wo):
            out[:, :, y, z] = x[:, :, y * stride:y * stride + size, z * stride:z * stride + size].max(axis=(2, 3))
    return out, (x, size, stride)


def max_pool_backward(dout, cache, mistake=None):
    """dout (N, C, Ho, Wo), the forward's cache -> dx (N, C, H, W)."""
    x, size, s = cache
    dx = np.zeros_like(x)
    for i in range(x.shape[0]):
        for k in range(x.shape[1]):
            for y in range(dout.shape[2]):
                for z in range(dout.shape[3]):
                    rows, cols = slice(y * s, y * s + size), slice(z * s, z * s + size)
                    window = (dx if mistake == "mask_from_dx" else x)[i, k, rows, cols]
                    if mistake in ("ties", "mask_from_dx"):
                        mask = window == window.max()
                    else:  # the first maximum, as PyTorch
                        mask = np.zeros(window.shape)
                        mask[np.unravel_index(np.argmax(window), window.shape)] = 1
                    if mistake == "overwrite":
                        dx[i, k, rows, cols] = mask * dout[i, k, y, z]
                    else:
                        dx[i, k, rows, cols] += mask * dout[i, k, y, z]
    return dx


CONV = dict(hparams={"stride": "stride", "padding": "pad", "dilation": "dilation"},
            domain={"square": True, "stride": [1, 2], "padding": [0, 1, 2], "dilation": [1, 2]})
POOL = dict(backward_takes="cache", hparams={"kernel_size": "size", "stride": "stride"}, domain={"square": True})


def check(mistake=None):
    """check_layer's report for the layer that ``mistake`` lives in (both layers when None)."""
    if mistake is None or not mistake.startswith(("mask", "ties", "overwrite")):
        conv = check_layer("conv2d", partial(conv_forward, mistake=mistake), partial(conv_backward, mistake=mistake),
                           **CONV)
        if mistake is not None:
            return [conv]
    pool = check_layer("max_pool2d", max_pool_forward, partial(max_pool_backward, mistake=mistake), **POOL)
    return [pool] if mistake is not None else [conv, pool]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mistake", choices=sorted(MISTAKES), default=None, help="switch one mistake on")
    args = p.parse_args(argv)
    caught = True
    for mistake in [args.mistake] if args.mistake else [None] + list(MISTAKES):
        print(f"== {MISTAKES[mistake] if mistake else 'the correct layers'} ==")
        for report in check(mistake):
            print(report, end="\n\n")
            caught &= report.ok == (mistake is None)
    return 0 if caught else 1


if __name__ == "__main__":
    sys.exit(main())
