"""Layers as learners write them, in several styles (NCHW loops with keywords, cache-and-dict in the
style of the Stanford course, NHWC with dict hyper-parameters in the style of the Coursera course,
im2col), each correct and with one classic mistake switched on by ``bug`` (``mistake`` in the example's)."""
import importlib.util
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# --- NCHW loops with keywords: the example's learner (examples/check_my_conv.py) ----------------------

_spec = importlib.util.spec_from_file_location("check_my_conv", Path(__file__).parents[2] / "examples" /
                                               "check_my_conv.py")
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)
conv_forward, conv_backward = example.conv_forward, example.conv_backward


def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dout, x, bug=None):
    if bug == "modifies_dout":
        dout[x <= 0] = 0
        return dout
    if bug == "at_zero":
        return dout * (x >= 0)
    return dout * (x > 0)


# --- Stanford style: NCHW, dict hyper-parameters, (out, cache) and backward(dout, cache) -----------


def conv_forward_naive(x, w, b, conv_param):
    out = conv_forward(x, w, b, conv_param["stride"], conv_param["pad"])
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache, bug=None):
    x, w, b, conv_param = cache
    dx, dw, db = conv_backward(dout, x, w, b, conv_param["stride"], conv_param["pad"])
    if bug == "db_axes":
        db = dout.sum(axis=(1, 2, 3))
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    assert pool_param["pool_height"] == pool_param["pool_width"]  # the domain is square
    return example.max_pool_forward(x, pool_param["pool_height"], pool_param["stride"])


def avg_pool_forward(x, k, stride):  # vectorised: the windows as a view
    return sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride].mean(axis=(4, 5))


def avg_pool_backward(dout, x, k, stride, bug=None):
    dx = np.zeros_like(x)
    scale = 1.0 if bug == "not_divided" else 1.0 / (k * k)
    for y in range(dout.shape[2]):
        for z in range(dout.shape[3]):
            dx[:, :, y * stride:y * stride + k, z * stride:z * stride + k] += dout[:, :, y:y + 1, z:z + 1] * scale
    return dx


# --- Coursera style: NHWC, W (f, f, C_prev, C), b (1, 1, 1, C), hparameters dict ------------------


def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=(0, 0))


def conv_forward_nhwc(A_prev, W, b, hparameters, bug=None):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev - f + 2 * pad) // stride + 1
    n_W = (n_W_prev - f + 2 * pad) // stride + 1
    Z = np.zeros((m, 28, 28, n_C) if bug == "hard_coded" else (m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                v0 = h * stride if bug != "stride_forward" else h
                h0 = w * stride if bug != "stride_forward" else w
                a_slice = A_prev_pad[i, v0:v0 + f, h0:h0 + f, :]
                for c in range(n_C):
                    Z[i, h, w, c] = np.sum(a_slice * W[:, :, :, c]) + float(b[0, 0, 0, c])
    return Z, (A_prev, W, b, hparameters)


def conv_backward_nhwc(dZ, cache, bug=None):
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f = W.shape[0]
    _, n_H, n_W, n_C = dZ.shape
    dA_prev_pad = zero_pad(np.zeros(A_prev.shape), pad)
    A_prev_pad = zero_pad(A_prev, pad)
    dW, db = np.zeros(W.shape), np.zeros(b.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    v0, h0 = h * stride, w * stride
                    dA_prev_pad[i, v0:v0 + f, h0:h0 + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += A_prev_pad[i, v0:v0 + f, h0:h0 + f, :] * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    if bug == "wrong_side":
        dA_prev = dA_prev_pad[:, :n_H_prev, :n_W_prev, :]
    else:
        dA_prev = dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db


# --- im2col, vectorised (NCHW, stride and pad as keywords) ------------------------------------------


def _im2col(x, kh, kw, stride, pad, order):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    cols = np.empty((n, ho, wo, c, kh, kw))
    for a in range(kh):
        for bb in range(kw):
            win = xp[:, :, a:a + stride * ho:stride, bb:bb + stride * wo:stride]
            cols[:, :, :, :, a, bb] = win.transpose(0, 2, 3, 1)
    if order == "khkwc":  # columns ordered (kh, kw, C) while the weights are flattened as (C, kh, kw)
        cols = cols.transpose(0, 1, 2, 4, 5, 3)
    return cols.reshape(n * ho * wo, c * kh * kw), (n, ho, wo)


def conv_forward_im2col(x, w, b, stride=1, pad=0):
    f, c, kh, kw = w.shape
    cols, (n, ho, wo) = _im2col(x, kh, kw, stride, pad, "ckhkw")
    out = cols @ w.reshape(f, -1).T + (0 if b is None else b)
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)


def conv_backward_im2col(dout, x, w, b, stride=1, pad=0, bug=None):
    f, c, kh, kw = w.shape
    cols, (n, ho, wo) = _im2col(x, kh, kw, stride, pad, "khkwc" if bug == "column_order" else "ckhkw")
    g = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (g.T @ cols).reshape(w.shape)
    dcols = (g @ w.reshape(f, -1)).reshape(n, ho, wo, c, kh, kw)
    dxp = np.zeros((n, c, x.shape[2] + 2 * pad, x.shape[3] + 2 * pad))
    for a in range(kh):
        for bb in range(kw):
            part = dcols[:, :, :, :, a, bb].transpose(0, 3, 1, 2)
            dxp[:, :, a:a + stride * ho:stride, bb:bb + stride * wo:stride] += part
    db = None if b is None else g.sum(axis=0)
    return dxp[:, :, pad:pad + x.shape[2], pad:pad + x.shape[3]], dw, db


# --- (batch, features) layers --------------------------------------------------------------------


def affine_forward(x, w, b):  # w is (in, out): weight_layout "IO"
    return x @ w + (0 if b is None else b)


def affine_backward(dout, x, w, b, bug=None):
    db = None if b is None else dout.sum(axis=1 if bug == "db_axes" else 0)
    return dout @ w.T, x.T @ dout, db


def softmax_forward(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(dout, x, bug=None):
    s = softmax_forward(x)
    if bug == "diagonal":
        return dout * s * (1 - s)
    return s * (dout - (dout * s).sum(axis=-1, keepdims=True))


def cross_entropy_forward(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


def cross_entropy_backward(dout, logits, y, bug=None):
    p = softmax_forward(logits)
    p[np.arange(len(y)), y] -= 1
    return p * dout if bug == "no_mean" else p * dout / len(y)


def mse_forward(pred, y):
    return ((pred - y) ** 2).mean()


def mse_backward(dout, pred, y, bug=None):
    return dout * (1 if bug == "no_two" else 2) * (pred - y) / pred.size


def batchnorm_forward(x, gamma, beta, eps=1e-5, bug=None):
    mu, var = x.mean(axis=0), x.var(axis=0)
    if bug == "in_place":  # centres the caller's array
        x -= mu
        xhat = x / np.sqrt(var + eps)
    else:
        xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, var, eps)


def batchnorm_backward(dout, cache, bug=None):
    xhat, gamma, var, eps = cache
    n = dout.shape[0]
    dgamma, dbeta = (dout * xhat).sum(axis=0), dout.sum(axis=0)
    if bug == "no_stats":
        return dout * gamma / np.sqrt(var + eps), dgamma, dbeta
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * np.sqrt(var + eps))
    return dx, dgamma, dbeta
