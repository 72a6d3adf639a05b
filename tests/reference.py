"""Plain-loop numpy references (the textbook nested loops), written for the tests only."""
import numpy as np


def conv2d_ref(x, w, b, stride, pads, dilation, groups):
    """pads = (top, bottom, left, right)."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    pt, pb, pl, pr = pads
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr), dtype=np.float64)
    xp[:, :, pt:pt + h, pl:pl + wd] = x
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


def conv_transpose2d_ref(x, w, b, stride, padding, output_padding, groups, dilation):
    n, cin, h, wd = x.shape
    _, cout_g, kh, kw = w.shape
    sh, sw = stride
    ph, pw = padding
    oph, opw = output_padding
    dh, dw = dilation
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


def _pool_out(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool2d_ref(x, kernel, stride, padding, dilation, ceil_mode):
    """Returns (values, flat indices per plane)."""
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
                            if 0 <= r < h and 0 <= q < w and x[i, j, r, q] > best:
                                best, where = x[i, j, r, q], r * w + q
                    out[i, j, y, z], idx[i, j, y, z] = best, where
    return out, idx


def avg_pool2d_ref(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    ho, wo = _pool_out(h, kh, sh, ph, 1, ceil_mode), _pool_out(w, kw, sw, pw, 1, ceil_mode)
    out = np.zeros((n, c, ho, wo))
    for i in range(n):
        for j in range(c):
            for y in range(ho):
                for z in range(wo):
                    r0, q0 = y * sh - ph, z * sw - pw
                    r1, q1 = min(r0 + kh, h + ph), min(q0 + kw, w + pw)
                    pool_size = (r1 - r0) * (q1 - q0)
                    r0c, q0c, r1c, q1c = max(r0, 0), max(q0, 0), min(r1, h), min(q1, w)
                    total = 0.0
                    for r in range(r0c, r1c):
                        for q in range(q0c, q1c):
                            total += x[i, j, r, q]
                    if divisor_override:
                        div = divisor_override
                    elif count_include_pad:
                        div = pool_size
                    else:
                        div = (r1c - r0c) * (q1c - q0c)
                    out[i, j, y, z] = total / div
    return out


def conv2d_weight_ref(x, g, kernel, stride, pads, dilation, groups):
    """The weight gradient of conv2d: gw[f, c, a, b] = sum over n, y, z of g[n, f, y, z] * xpad[...]."""
    n, c, h, wd = x.shape
    f, ho, wo = g.shape[1], g.shape[2], g.shape[3]
    (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = kernel, stride, dilation, pads
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
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
