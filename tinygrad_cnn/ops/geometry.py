"""Argument checks of the windowed ops (convolutions and pools), which build the geometry
(``kernels/geometry.py``) their kernels work from.

A :class:`ConvGeometry` describes a *forward* convolution: a transposed convolution is checked
with PyTorch's rules (:func:`transpose_geometry`) and then described by the convolution it is the
adjoint of, so that every conv kernel works from one set of sizes.
"""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .args import pair, positive_int
from .kernels.geometry import ConvGeometry, PoolGeometry, WindowGeometry
from ..errors import OpError, ShapeError

__all__ = ["ConvGeometry", "PoolGeometry", "WindowGeometry", "conv_geometry", "transpose_geometry", "pool_geometry",
           "check_4d", "batched_input"]


def check_4d(op: str, name: str, shape: tuple) -> None:
    """A ValueError naming ``op`` and ``name`` unless ``shape`` is 4-D."""
    if len(shape) != 4:
        raise ShapeError(f"{op}: {name} must be 4-D, got shape {shape}")


def _check_conv_args(op: str, x_shape: tuple, w_shape: tuple, groups: Any) -> None:
    """The checks conv2d and conv_transpose2d share: 4-D input and weight, a positive int groups."""
    check_4d(op, "input", x_shape)
    check_4d(op, "weight", w_shape)
    positive_int(groups, op, "groups")


def conv_geometry(op: str, x_shape: tuple, w_shape: tuple, stride: Any, padding: Any, dilation: Any,
                  groups: int) -> ConvGeometry:
    """Validate conv2d arguments (PyTorch's rules, plus TensorFlow's 'same' at stride > 1).
    Shape: (N, C, H, W) * (F, C/groups, kh, kw) -> the geometry of an (N, F, H', W') output.

    >>> conv_geometry("conv2d", (1, 3, 7, 7), (4, 3, 3, 3), 2, "same", 1, 1).out_hw
    (4, 4)
    """
    _check_conv_args(op, x_shape, w_shape, groups)
    n, c, h, w = x_shape
    f, cg, kh, kw = w_shape
    if c != cg * groups:
        raise ShapeError(f"{op}: input has {c} channels (shape {x_shape}) but weight of shape {w_shape} "
                         f"with groups={groups} expects {cg * groups}")
    if f % groups:
        raise ShapeError(f"{op}: groups={groups} must divide the weight's {f} output channels (shape {w_shape})")
    if kh < 1 or kw < 1:
        raise ShapeError(f"{op}: weight kernel must be at least 1x1, got shape {w_shape}")
    sh, sw = pair(stride, op, "stride", 1)
    dh, dw = pair(dilation, op, "dilation", 1)
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            # stride 1: PyTorch's split (extra at the end); stride > 1: TensorFlow's rule, out = ceil(in / stride)
            th = max((-(-h // sh) - 1) * sh + eh - h, 0)
            tw = max((-(-w // sw) - 1) * sw + ew - w, 0)
            pads = (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        else:
            raise OpError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    else:
        ph, pw = pair(padding, op, "padding", 0)
        pads = (ph, ph, pw, pw)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    if eh > hp or ew > wp:
        raise ShapeError(f"{op}: kernel of (dilated) size ({eh}, {ew}) is larger than the padded input "
                         f"({hp}, {wp}); input shape {x_shape}, weight shape {w_shape}")
    out_hw = ((hp - eh) // sh + 1, (wp - ew) // sw + 1)
    return ConvGeometry((h, w), out_hw, (kh, kw), (sh, sw), pads, (dh, dw), int(groups))


def transpose_geometry(op: str, x_shape: tuple, w_shape: tuple, stride: Any, padding: Any, output_padding: Any,
                       groups: int, dilation: Any) -> ConvGeometry:
    """Validate conv_transpose2d arguments; return the geometry of the convolution it is the adjoint of.
    Shape: (N, C_in, H, W) * (C_in, C_out/groups, kh, kw) -> geometry with in_hw = the (H', W') output.

    >>> transpose_geometry("conv_transpose2d", (1, 2, 3, 3), (2, 1, 2, 2), 2, 0, 0, 1, 1).in_hw
    (6, 6)
    """
    _check_conv_args(op, x_shape, w_shape, groups)
    n, c_in, h, w = x_shape
    if w_shape[0] != c_in:
        raise ShapeError(f"{op}: input has {c_in} channels (shape {x_shape}) but weight of shape {w_shape} "
                         f"expects {w_shape[0]} (weight is (in_channels, out_channels/groups, kH, kW))")
    if c_in % groups:
        raise ShapeError(f"{op}: groups={groups} must divide the input's {c_in} channels")
    kh, kw = w_shape[2:]
    if isinstance(padding, str):
        raise OpError(f"{op}: padding must be an int or a pair of ints, got {padding!r}")
    sh, sw = pair(stride, op, "stride", 1)
    dh, dw = pair(dilation, op, "dilation", 1)
    ph, pw = pair(padding, op, "padding", 0)
    oph, opw = pair(output_padding, op, "output_padding", 0)
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise OpError(f"{op}: output_padding {output_padding!r} must be smaller than stride or dilation "
                         f"(stride {(sh, sw)}, dilation {(dh, dw)})")
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise ShapeError(f"{op}: output size ({ho}, {wo}) is too small; input shape {x_shape}, weight shape "
                         f"{w_shape}, stride {(sh, sw)}, padding {(ph, pw)}")
    return ConvGeometry((ho, wo), (h, w), (kh, kw), (sh, sw), (ph, ph - oph, pw, pw - opw), (dh, dw), int(groups))


def _out_size(op: str, size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # PyTorch: the last window must start inside the input or its left padding
    return out


def pool_geometry(op: str, x_shape: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
                  ceil_mode: bool) -> PoolGeometry:
    """Validate pooling arguments with PyTorch's rules."""
    kh, kw = pair(kernel_size, op, "kernel_size", 1)
    sh, sw = pair(kernel_size if stride is None or stride == () else stride, op, "stride", 1)
    ph, pw = pair(padding, op, "padding", 0)
    dh, dw = pair(dilation, op, "dilation", 1)
    if ph > kh // 2 or pw > kw // 2:
        raise OpError(f"{op}: padding {padding!r} must be at most half the kernel size {(kh, kw)}")
    h, w = x_shape[2:]
    ho = _out_size(op, h, kh, sh, ph, dh, ceil_mode)
    wo = _out_size(op, w, kw, sw, pw, dw, ceil_mode)
    if ho < 1 or wo < 1:
        raise ShapeError(f"{op}: output size ({ho}, {wo}) is too small: kernel {(kh, kw)} (dilation {(dh, dw)}) "
                         f"does not fit the padded input; input shape {x_shape}")
    pb = max((ho - 1) * sh + dh * (kh - 1) + 1 - h - ph, 0)
    pr = max((wo - 1) * sw + dw * (kw - 1) + 1 - w - pw, 0)
    return PoolGeometry((h, w), (ho, wo), (kh, kw), (sh, sw), (ph, pb, pw, pr), (dh, dw), (ph, pw))


def batched_input(op: str, x: Any) -> tuple[Tensor, bool]:
    """Accept (N, C, H, W) or unbatched (C, H, W) input, as PyTorch: the 4-D input and whether
    it was unbatched. Shape: (C, H, W) -> (1, C, H, W).

    >>> batched_input("conv2d", Tensor([[[0.0, 1.0]]]))[0].shape
    (1, 1, 1, 2)
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), True
    if x.ndim != 4:
        raise ShapeError(f"{op}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape {x.shape}")
    return x, False
