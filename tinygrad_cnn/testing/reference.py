"""The textbook nested loops of convolution and pooling, forward and backward, in plain numpy.

They are slow and obvious: read them next to your own layer, or use them as the oracle of your
tests. The suite checks every one against the fast ops (``tests/ops``). Arguments are explicit
pairs: ``pads = (top, bottom, left, right)``, ``stride``, ``dilation``, ``kernel`` as (h, w).
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _padded(x: np.ndarray, pads: tuple) -> np.ndarray:
    pt, pb, pl, pr = pads
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + pt + pb, w + pl + pr), dtype=np.float64)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    return xp


def conv2d_ref(x: np.ndarray, w: np.ndarray, b: Any, stride: tuple, pads: tuple, dilation: tuple,
               groups: int) -> np.ndarray:
    """Cross-correlation, one output element at a time; the bias added once per output element.
    Shape: x (N, C, H, W), w (F, C/groups, kh, kw), b (F,) or None -> (N, F, Ho, Wo).

    >>> conv2d_ref(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), None, (1, 1), (0, 0, 0, 0), (1, 1), 1).tolist()
    [[[[4.0, 4.0], [4.0, 4.0]]]]
    """
    n = x.shape[0]
    f, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = stride, dilation
    xp = _padded(x, pads)
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, f, ho, wo))
    fg = f // groups
    for i in range(n):
        for o in range(f):
            g = o // fg
            for y in range(ho):
                for z in range(wo):
                    acc = 0.0
                    for ci in range(cg):
                        for a in range(kh):
                            for bb in range(kw):
                                acc += xp[i, g * cg + ci, y * sh + a * dh, z * sw + bb * dw] * w[o, ci, a, bb]
                    out[i, o, y, z] = acc + (b[o] if b is not None else 0.0)
    return out


def conv2d_weight_ref(x: np.ndarray, g: np.ndarray, kernel: tuple, stride: tuple, pads: tuple, dilation: tuple,
                      groups: int) -> np.ndarray:
    """conv2d's weight gradient: dw[f, c, a, b] = sum over n, y, z of g[n, f, y, z] * xpad[n, c, y*s + a*d, ...].
    Shape: x (N, C, H, W), g (N, F, Ho, Wo) -> (F, C/groups, kh, kw).

    >>> conv2d_weight_ref(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), (2, 2), (1, 1), (0, 0, 0, 0), (1, 1), 1)[0, 0]
    array([[4., 4.],
           [4., 4.]])
    """
    n, c = x.shape[:2]
    f, ho, wo = g.shape[1], g.shape[2], g.shape[3]
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    xp = _padded(x, pads)
    cg, fg = c // groups, f // groups
    out = np.zeros((f, cg, kh, kw))
    for o in range(f):
        grp = o // fg
        for ci in range(cg):
            for a in range(kh):
                for bb in range(kw):
                    acc = 0.0
                    for i in range(n):
                        for y in range(ho):
                            for z in range(wo):
                                acc += g[i, o, y, z] * xp[i, grp * cg + ci, y * sh + a * dh, z * sw + bb * dw]
                    out[o, ci, a, bb] = acc
    return out


def conv2d_input_ref(g: np.ndarray, w: np.ndarray, x_shape: tuple, stride: tuple, pads: tuple, dilation: tuple,
                     groups: int) -> np.ndarray:
    """conv2d's input gradient: every output element hands g * w back to the inputs its window
    read (padding dropped), overlapping windows adding up. Shape: g (N, F, Ho, Wo) -> ``x_shape``.

    >>> conv2d_input_ref(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), (1, 1, 3, 3), (1, 1), (0, 0, 0, 0),
    ...                  (1, 1), 1)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    n, c, h, wd = x_shape
    f, cg, kh, kw = w.shape
    (sh, sw), (dh, dw), (pt, _, pl, _) = stride, dilation, pads
    fg = f // groups
    dx = np.zeros(x_shape)
    for i in range(n):
        for o in range(f):
            grp = o // fg
            for y in range(g.shape[2]):
                for z in range(g.shape[3]):
                    for ci in range(cg):
                        for a in range(kh):
                            for bb in range(kw):
                                r, q = y * sh + a * dh - pt, z * sw + bb * dw - pl
                                if 0 <= r < h and 0 <= q < wd:
                                    dx[i, grp * cg + ci, r, q] += g[i, o, y, z] * w[o, ci, a, bb]
    return dx


def conv_transpose2d_ref(x: np.ndarray, w: np.ndarray, b: Any, stride: tuple, padding: tuple,
                         output_padding: tuple, groups: int, dilation: tuple) -> np.ndarray:
    """Transposed convolution: every input element scatters x * w into the output.
    Shape: x (N, Cin, H, W), w (Cin, Cout/groups, kh, kw) -> (N, Cout, Ho, Wo).

    >>> conv_transpose2d_ref(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), None, (1, 1), (0, 0), (0, 0), 1,
    ...                      (1, 1))[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    n, cin, h, wd = x.shape
    _, cout_g, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    out = np.zeros((n, cout_g * groups, ho, wo))
    cin_g = cin // groups
    for i in range(n):
        for ci in range(cin):
            g = ci // cin_g
            for y in range(h):
                for z in range(wd):
                    for co in range(cout_g):
                        for a in range(kh):
                            for bb in range(kw):
                                oy, oz = y * sh - ph + a * dh, z * sw - pw + bb * dw
                                if 0 <= oy < ho and 0 <= oz < wo:
                                    out[i, g * cout_g + co, oy, oz] += x[i, ci, y, z] * w[ci, co, a, bb]
    if b is not None:
        out += np.asarray(b).reshape(1, -1, 1, 1)
    return out


def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:  # the last window must start inside the input or its left padding
        out -= 1
    return out


def max_pool2d_ref(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                   ceil_mode: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum and the flat index (row * W + column) of its first maximal element.
    Shape: x (N, C, H, W) -> two (N, C, Ho, Wo) arrays.

    >>> v, i = max_pool2d_ref(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1), False)
    >>> v[0, 0].tolist(), i[0, 0].tolist()
    ([[5.0, 7.0], [13.0, 15.0]], [[5, 7], [13, 15]])
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    ho, wo = _pool_out(h, kh, sh, ph, dh, ceil_mode), _pool_out(w, kw, sw, pw, dw, ceil_mode)
    out = np.zeros((n, c, ho, wo))
    idx = np.zeros((n, c, ho, wo), dtype=np.int64)
    for i in range(n):
        for j in range(c):
            for y in range(ho):
                for z in range(wo):
                    best, where = -np.inf, -1
                    for a in range(kh):
                        for bb in range(kw):
                            r, q = y * sh - ph + a * dh, z * sw - pw + bb * dw
                            if 0 <= r < h and 0 <= q < w and x[i, j, r, q] > best:  # strict: a tie keeps the first
                                best, where = x[i, j, r, q], r * w + q
                    out[i, j, y, z], idx[i, j, y, z] = best, where
    return out, idx


def max_pool2d_backward_ref(g: np.ndarray, indices: np.ndarray, x_shape: tuple) -> np.ndarray:
    """max pooling's input gradient: each window's gradient goes to its (first) maximum, and
    overlapping windows add up. Shape: g and indices (N, C, Ho, Wo) -> ``x_shape``.

    >>> max_pool2d_backward_ref(np.ones((1, 1, 1, 1)), np.array([[[[3]]]]), (1, 1, 2, 2))[0, 0].tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    dx = np.zeros(x_shape)
    n, c, _, w = x_shape
    for i in range(n):
        for j in range(c):
            for y in range(g.shape[2]):
                for z in range(g.shape[3]):
                    flat = indices[i, j, y, z]
                    if flat >= 0:  # a window wholly in padding has no element to send its gradient to
                        dx[i, j, flat // w, flat % w] += g[i, j, y, z]
    return dx


def _avg_windows(shape: tuple, kernel: tuple, stride: tuple, padding: tuple, ceil_mode: bool,
                 count_include_pad: bool, divisor_override: Any) -> tuple[int, int, list]:
    """The output's (Ho, Wo), and (i, j, y, z, rows, columns, divisor) of every averaging window,
    clipped to the input."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    ho, wo = _pool_out(h, kh, sh, ph, 1, ceil_mode), _pool_out(w, kw, sw, pw, 1, ceil_mode)
    windows = []
    for y in range(ho):
        for z in range(wo):
            r0, q0 = y * sh - ph, z * sw - pw
            r1, q1 = min(r0 + kh, h + ph), min(q0 + kw, w + pw)  # a window may reach into the padding, not past it
            rows, cols = range(max(r0, 0), min(r1, h)), range(max(q0, 0), min(q1, w))
            div = divisor_override or ((r1 - r0) * (q1 - q0) if count_include_pad else len(rows) * len(cols))
            windows += [(i, j, y, z, rows, cols, div) for i in range(n) for j in range(c)]
    return ho, wo, windows


def avg_pool2d_ref(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, ceil_mode: bool,
                   count_include_pad: bool, divisor_override: Any) -> np.ndarray:
    """Each window's sum divided by its size (with or without the padding it covers, or by
    ``divisor_override``). Shape: x (N, C, H, W) -> (N, C, Ho, Wo).

    >>> avg_pool2d_ref(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2), (0, 0), False, True, None)[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    ho, wo, windows = _avg_windows(x.shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    out = np.zeros(x.shape[:2] + (ho, wo))
    for i, j, y, z, rows, cols, div in windows:
        out[i, j, y, z] = sum(x[i, j, r, q] for r in rows for q in cols) / div
    return out


def avg_pool2d_backward_ref(g: np.ndarray, x_shape: tuple, kernel: tuple, stride: tuple, padding: tuple,
                            ceil_mode: bool, count_include_pad: bool, divisor_override: Any) -> np.ndarray:
    """Average pooling's input gradient: each window's gradient divided by the same divisor and
    handed to every input element it covers. Shape: g (N, C, Ho, Wo) -> ``x_shape``.

    >>> avg_pool2d_backward_ref(np.ones((1, 1, 1, 1)), (1, 1, 2, 2), (2, 2), (2, 2), (0, 0), False, True,
    ...                         None)[0, 0].tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    """
    dx = np.zeros(x_shape)
    _, _, windows = _avg_windows(x_shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    for i, j, y, z, rows, cols, div in windows:
        for r in rows:
            for q in cols:
                dx[i, j, r, q] += g[i, j, y, z] / div
    return dx
