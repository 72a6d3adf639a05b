"""Sizes and argument checks shared by the windowed ops (convolutions and pools).

A :class:`ConvGeometry` describes a *forward* convolution: a transposed convolution is checked
with PyTorch's rules (:func:`transpose_geometry`) and then described by the convolution it is the
adjoint of, so that every conv kernel works from one set of sizes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


from ..tensor import Tensor
from .args import pair, positive_int


@dataclass(frozen=True)
class WindowGeometry:
    """Sizes shared by convolutions and pools: input and output (H, W), kernel, stride, 4-sided
    padding (top, bottom, left, right) and dilation."""

    in_hw: tuple[int, int]
    out_hw: tuple[int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]
    dilation: tuple[int, int]


@dataclass(frozen=True)
class ConvGeometry(WindowGeometry):
    """The forward convolution's sizes. Bottom/right ``pads`` may be negative for a transposed
    convolution whose output_padding exceeds its padding (rows past the last window are then
    simply not read)."""

    groups: int

    def meta(self) -> dict:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        text = f"{kh}x{kw} s{sh if sh == sw else f'{sh},{sw}'} p{_pads_text(self.pads)}"
        if (dh, dw) != (1, 1):
            text += f" d{dh if dh == dw else f'{dh},{dw}'}"
        if self.groups != 1:
            text += f" g{self.groups}"
        return {"args": text}

    @property
    def padded_hw(self) -> tuple[int, int]:
        """Size of the zero-padded input canvas that every window and the input both fit in."""
        (h, w), (ho, wo) = self.in_hw, self.out_hw
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        pt, pb, pl, pr = self.pads
        need_h, need_w = (ho - 1) * sh + dh * (kh - 1) + 1, (wo - 1) * sw + dw * (kw - 1) + 1
        return max(pt + h + max(pb, 0), need_h), max(pl + w + max(pr, 0), need_w)


def _pads_text(pads: tuple) -> str:
    pt, pb, pl, pr = pads
    if pt == pb == pl == pr:
        return str(pt)
    return f"{pt},{pb},{pl},{pr}"


def check_4d(op: str, name: str, shape: tuple) -> None:
    """A ValueError naming ``op`` and ``name`` unless ``shape`` is 4-D."""
    if len(shape) != 4:
        raise ValueError(f"{op}: {name} must be 4-D, got shape {shape}")


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
        raise ValueError(f"{op}: input has {c} channels (shape {x_shape}) but weight of shape {w_shape} "
                         f"with groups={groups} expects {cg * groups}")
    if f % groups:
        raise ValueError(f"{op}: groups={groups} must divide the weight's {f} output channels (shape {w_shape})")
    if kh < 1 or kw < 1:
        raise ValueError(f"{op}: weight kernel must be at least 1x1, got shape {w_shape}")
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
            raise ValueError(f"{op}: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    else:
        ph, pw = pair(padding, op, "padding", 0)
        pads = (ph, ph, pw, pw)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    if eh > hp or ew > wp:
        raise ValueError(f"{op}: kernel of (dilated) size ({eh}, {ew}) is larger than the padded input "
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
        raise ValueError(f"{op}: input has {c_in} channels (shape {x_shape}) but weight of shape {w_shape} "
                         f"expects {w_shape[0]} (weight is (in_channels, out_channels/groups, kH, kW))")
    if c_in % groups:
        raise ValueError(f"{op}: groups={groups} must divide the input's {c_in} channels")
    kh, kw = w_shape[2:]
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a pair of ints, got {padding!r}")
    sh, sw = pair(stride, op, "stride", 1)
    dh, dw = pair(dilation, op, "dilation", 1)
    ph, pw = pair(padding, op, "padding", 0)
    oph, opw = pair(output_padding, op, "output_padding", 0)
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise ValueError(f"{op}: output_padding {output_padding!r} must be smaller than stride or dilation "
                         f"(stride {(sh, sw)}, dilation {(dh, dw)})")
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: output size ({ho}, {wo}) is too small; input shape {x_shape}, weight shape "
                         f"{w_shape}, stride {(sh, sw)}, padding {(ph, pw)}")
    return ConvGeometry((ho, wo), (h, w), (kh, kw), (sh, sw), (ph, ph - oph, pw, pw - opw), (dh, dw), int(groups))


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
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape {x.shape}")
    return x, False
