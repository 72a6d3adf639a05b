"""2-D convolution and its transpose, as three primitives that close under differentiation (the
table below); the numpy kernels they call are in ``kernels/conv.py``.

- ``conv2d``            y = conv(x, w)            backward: x <- conv_transpose(g, w), w <- conv2d_weight(x, g)
- ``conv_transpose``    x = conv_transpose(y, w)  backward: y <- conv(g, w),           w <- conv2d_weight(g, y)
- ``conv2d_weight``     w = conv2d_weight(x, y)   backward: x <- conv_transpose(y, g), y <- conv(x, g)

and ``conv_bias_grad`` (the per-channel sum of the output gradient; its backward broadcasts back).
All share a :class:`ConvGeometry` that describes the *forward* convolution; a transposed
convolution is the adjoint of the convolution with the same geometry. Each backward is written
once, in these ops: the first-order fast paths are inside their kernels.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import make_op
from ..tensor import Tensor
from .args import pair
from .geometry import ConvGeometry, batched_input, check_4d, conv_geometry, transpose_geometry
from .kernels import conv as kernels
from .registry import register
from ..errors import OpError, ShapeError


def conv2d_op(x: Tensor, w: Tensor, b: Tensor | None, geo: ConvGeometry) -> Tensor:
    """The convolution primitive on validated arguments. Shape: (N, C, H, W) -> (N, F, H', W')."""
    out, windows = kernels.conv_forward(x._data, w._data, geo, None if b is None else b._data)
    kept = windows if w.requires_grad else None  # the weight gradient reads the same windows

    def backward(g: Tensor) -> tuple:
        with kernels.shared_layouts():  # the three read g in one layout, made once
            gx = conv_transpose_op(g, w, None, geo) if x.requires_grad else None
            gw = conv2d_weight_op(x, g, geo, kept) if w.requires_grad else None
            gb = conv_bias_grad(g, geo) if b is not None and b.requires_grad else None
        return gx, gw, gb

    parents = (x, w) if b is None else (x, w, b)
    # x and w as PyTorch saves them (the closure reads the windows made in forward); the bias never
    return make_op("conv2d", out, parents, backward, geo.meta, saved=(x, w))


def conv_transpose_op(y: Tensor, w: Tensor, b: Tensor | None, geo: ConvGeometry) -> Tensor:
    """The adjoint of :func:`conv2d_op` in its input. Shape: (N, F, H', W') -> (N, C, H, W)."""
    out = kernels.conv_transpose(y._data, w._data, geo)
    if b is not None:
        out += b._data.reshape(1, -1, 1, 1)

    def backward(g: Tensor) -> tuple:
        gy = conv2d_op(g, w, None, geo) if y.requires_grad else None
        gw = conv2d_weight_op(g, y, geo) if w.requires_grad else None
        gb = conv_bias_grad(g) if b is not None and b.requires_grad else None
        return gy, gw, gb

    parents = (y, w) if b is None else (y, w, b)
    return make_op("conv_transpose2d", out, parents, backward, geo.meta, saved=(y, w))


def conv2d_weight_op(x: Tensor, y: Tensor, geo: ConvGeometry, windows: np.ndarray | None = None) -> Tensor:
    """The correlation of input and output gradient: conv2d's weight gradient. Shape -> (F, C/G, kh, kw).
    ``windows`` optionally holds x's windows, as the forward made them."""
    def backward(g: Tensor) -> tuple:
        gx = conv_transpose_op(y, g, None, geo) if x.requires_grad else None
        gy = conv2d_op(x, g, None, geo) if y.requires_grad else None
        return gx, gy

    return make_op("conv2d_weight", kernels.conv_weight(x._data, y._data, geo, windows), (x, y), backward,
                   geo.meta, saved=(x, y))


@register
def conv_bias_grad(g: Tensor, geo: ConvGeometry | None = None) -> Tensor:
    """The sum of ``g`` over batch and space per channel: a conv's bias gradient; ``geo``, the
    conv's, lets the kernel read ``g`` in the layout its GEMMs use. Shape: (N, F, H', W') -> (F,).

    >>> conv_bias_grad(Tensor(np.ones((2, 3, 4, 4)))).tolist()
    [32.0, 32.0, 32.0]
    """
    if g.ndim != 4:
        raise ShapeError(f"conv_bias_grad: expected a 4-D (N, F, H, W) gradient, got shape {g.shape}")
    if geo is None:  # a 1x1 convolution's geometry: its output side is g's
        geo = ConvGeometry(g.shape[2:], g.shape[2:], (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1)
    shape = g.shape
    return make_op("conv_bias_grad", kernels.bias_grad(g._data, geo), (g,),
                   lambda gg: (gg.reshape(1, -1, 1, 1).expand(*shape),), saved=())


@register
def conv2d_weight(input: Tensor, grad_output: Tensor, kernel_size: Any, stride: Any = 1,
                  pads: Any = (0, 0, 0, 0), dilation: Any = 1, groups: int = 1) -> Tensor:
    """The gradient of ``conv2d`` with respect to its weight (as ``torch.nn.grad.conv2d_weight``);
    ``pads`` is (top, bottom, left, right). Shape: (N, C, H, W), (N, F, H', W') -> (F, C/groups, kh, kw).

    >>> x, g = Tensor(np.ones((1, 1, 3, 3))), Tensor(np.ones((1, 1, 2, 2)))
    >>> conv2d_weight(x, g, (2, 2)).shape
    (1, 1, 2, 2)
    """
    op = "conv2d_weight"
    kh, kw = pair(kernel_size, op, "kernel_size", 1)
    check_4d(op, "input", input.shape)
    check_4d(op, "grad_output", grad_output.shape)
    if len(pads) != 4 or any(p < 0 for p in pads):
        raise OpError(f"{op}: pads must be 4 non-negative ints (top, bottom, left, right), got {pads!r}")
    pads4 = (int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3]))
    geo = conv_geometry(op, (input.shape[0], input.shape[1], input.shape[2] + pads4[0] + pads4[1],
                             input.shape[3] + pads4[2] + pads4[3]),
                        (grad_output.shape[1], input.shape[1] // groups, kh, kw), stride, 0, dilation, groups)
    geo = ConvGeometry(input.shape[2:], geo.out_hw, (kh, kw), geo.stride, pads4, geo.dilation, geo.groups)
    if grad_output.shape != (input.shape[0], grad_output.shape[1]) + geo.out_hw:
        raise ShapeError(f"{op}: grad_output shape {grad_output.shape} does not match the convolution's output "
                         f"{(input.shape[0], grad_output.shape[1]) + geo.out_hw}")
    return conv2d_weight_op(input, grad_output, geo)


def _check_params(op: str, x: Tensor, weight: Any, bias: Any, n_out: int) -> None:
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, got {type(weight).__name__}")
    if bias is not None:
        if not isinstance(bias, Tensor):
            raise TypeError(f"{op}: bias must be a Tensor or None, got {type(bias).__name__}")
        if bias.shape != (n_out,):
            raise ShapeError(f"{op}: bias must have shape ({n_out},), got {bias.shape}")
    if x.dtype.kind != "f" or weight.dtype.kind != "f":
        raise TypeError(f"{op}: input and weight must be floating point, got {x.dtype} and {weight.dtype}")


@register
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``; ``padding`` may be an int, a pair,
    'valid' or 'same' ('same' at stride > 1 follows TensorFlow: output = ceil(input / stride), the
    odd extra row/column of padding at the bottom/right).
    Shape: (N, C, H, W) * (F, C/groups, kh, kw) -> (N, F, H', W').

    >>> conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((2, 1, 3, 3))), padding=1).shape
    (1, 2, 4, 4)
    """
    x, unbatched = batched_input("conv2d", input)
    _check_params("conv2d", x, weight, bias, weight.shape[0] if weight.ndim else 0)
    geo = conv_geometry("conv2d", x.shape, weight.shape, stride, padding, dilation, groups)
    out = conv2d_op(x, weight, bias, geo)
    return out.reshape(out.shape[1:]) if unbatched else out


@register
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """Transposed convolution (the gradient of conv2d with respect to its input), as PyTorch's.
    Shape: (N, C_in, H, W) * (C_in, C_out/groups, kh, kw) -> (N, C_out, H', W') with
    H' = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.

    >>> conv_transpose2d(Tensor(np.ones((1, 2, 3, 3))), Tensor(np.ones((2, 1, 2, 2))), stride=2).shape
    (1, 1, 6, 6)
    """
    x, unbatched = batched_input("conv_transpose2d", input)
    n_out = weight.shape[1] * groups if weight.ndim == 4 and isinstance(groups, int) else 0
    _check_params("conv_transpose2d", x, weight, bias, n_out)
    geo = transpose_geometry("conv_transpose2d", x.shape, weight.shape, stride, padding, output_padding, groups,
                             dilation)
    out = conv_transpose_op(x, weight, bias, geo)
    return out.reshape(out.shape[1:]) if unbatched else out
