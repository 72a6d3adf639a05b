"""Hypothesis strategies for valid conv2d / conv_transpose2d / pooling argument sets."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..ops.geometry import pool_geometry
from ..tensor import Tensor
from .tensor_strategies import distinct_tensors


@dataclass
class Conv2dArgs:
    """A valid ``conv2d`` call: ``F.conv2d(a.input, a.weight, a.bias, **a.kwargs())``."""

    input: Tensor
    weight: Tensor
    bias: Tensor | None
    stride: Any
    padding: Any
    dilation: Any
    groups: int

    def kwargs(self) -> dict:
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation, "groups": self.groups}


@dataclass
class ConvTranspose2dArgs:
    """A valid ``conv_transpose2d`` call."""

    input: Tensor
    weight: Tensor
    bias: Tensor | None
    stride: Any
    padding: Any
    output_padding: Any
    groups: int
    dilation: Any

    def kwargs(self) -> dict:
        return {"stride": self.stride, "padding": self.padding, "output_padding": self.output_padding,
                "groups": self.groups, "dilation": self.dilation}


@dataclass
class Pool2dArgs:
    """A valid ``max_pool2d`` (kind 'max') or ``avg_pool2d`` (kind 'avg') call."""

    kind: str
    input: Tensor
    kernel_size: Any
    stride: Any
    padding: Any
    ceil_mode: bool
    dilation: Any = 1
    count_include_pad: bool = True
    divisor_override: int | None = None

    def kwargs(self) -> dict:
        kw = {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
              "ceil_mode": self.ceil_mode}
        if self.kind == "max":
            kw["dilation"] = self.dilation
        else:
            kw.update(count_include_pad=self.count_include_pad, divisor_override=self.divisor_override)
        return kw


def _maybe_pair(draw: Any, a: int, b: int) -> Any:
    """Draw an int, or a pair when the two sides differ (both spellings get exercised)."""
    return a if a == b and draw(st.booleans()) else (a, b)


def _array(draw: Any, shape: tuple, dtype: Any, requires_grad: bool, low: float = -1.0, high: float = 1.0) -> Tensor:
    from hypothesis.extra import numpy as hnp

    arr = draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=64)))
    return Tensor(arr.astype(dtype), requires_grad=requires_grad)


@st.composite
def conv2d_args(draw: Any, dtype: Any = np.float64, max_batch: int = 3, max_side: int = 6,
                padding_strings: bool = True, with_bias: bool | None = None,
                requires_grad: bool = True) -> Conv2dArgs:
    """Valid conv2d arguments: strides, int/pair/'valid'/'same' padding, dilation, groups
    (depthwise too), rectangular kernels and inputs, batch 0..max_batch (empty, as PyTorch allows), optional bias."""
    groups = draw(st.integers(1, 3))
    depthwise = draw(st.booleans())
    cg = 1 if depthwise else draw(st.integers(1, 2))
    fg = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pmode = draw(st.sampled_from(["int", "int", "valid", "same"] if padding_strings else ["int"]))
    if pmode == "int":
        ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
        padding = _maybe_pair(draw, ph, pw)
    else:
        ph = pw = 0
        padding = pmode
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = draw(st.integers(max(1, eh - 2 * ph), max(1, eh - 2 * ph) + max_side - 2))
    w = draw(st.integers(max(1, ew - 2 * pw), max(1, ew - 2 * pw) + max_side - 2))
    n = draw(st.integers(0, max_batch))
    x = _array(draw, (n, cg * groups, h, w), dtype, requires_grad)
    weight = _array(draw, (fg * groups, cg, kh, kw), dtype, requires_grad)
    use_bias = draw(st.booleans()) if with_bias is None else with_bias
    bias = _array(draw, (fg * groups,), dtype, requires_grad) if use_bias else None
    return Conv2dArgs(x, weight, bias, _maybe_pair(draw, sh, sw), padding, _maybe_pair(draw, dh, dw), groups)


@st.composite
def conv_transpose2d_args(draw: Any, dtype: Any = np.float64, max_batch: int = 3, max_side: int = 4,
                          with_bias: bool | None = None, requires_grad: bool = True) -> ConvTranspose2dArgs:
    """Valid conv_transpose2d arguments, output_padding < max(stride, dilation) included."""
    groups = draw(st.integers(1, 2))
    cin_g, cout_g = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    oph, opw = draw(st.integers(0, max(sh, dh) - 1)), draw(st.integers(0, max(sw, dw) - 1))
    # output size (h-1)*s - 2p + d(k-1) + op + 1 must be >= 1
    min_h = max(1, -(-(2 * ph - dh * (kh - 1) - oph) // sh) + 1)
    min_w = max(1, -(-(2 * pw - dw * (kw - 1) - opw) // sw) + 1)
    h, w = draw(st.integers(min_h, min_h + max_side - 1)), draw(st.integers(min_w, min_w + max_side - 1))
    n = draw(st.integers(0, max_batch))
    x = _array(draw, (n, cin_g * groups, h, w), dtype, requires_grad)
    weight = _array(draw, (cin_g * groups, cout_g, kh, kw), dtype, requires_grad)
    use_bias = draw(st.booleans()) if with_bias is None else with_bias
    bias = _array(draw, (cout_g * groups,), dtype, requires_grad) if use_bias else None
    return ConvTranspose2dArgs(x, weight, bias, _maybe_pair(draw, sh, sw), _maybe_pair(draw, ph, pw),
                               _maybe_pair(draw, oph, opw), groups, _maybe_pair(draw, dh, dw))


def _windows_reach_input(geo: Any) -> bool:
    """Whether every pooling window of ``geo`` (a PoolGeometry) covers at least one input element."""
    for n, k, s, p, d, out in zip(geo.in_hw, geo.kernel, geo.stride, geo.padding, geo.dilation, geo.out_hw):
        if not all(any(0 <= t * s - p + d * i < n for i in range(k)) for t in range(out)):
            return False
    return True


@st.composite
def pool2d_args(draw: Any, kind: str = "max", dtype: Any = np.float64, max_batch: int = 3, max_side: int = 6,
                requires_grad: bool = True) -> Pool2dArgs:
    """Valid pooling arguments: rectangular kernels, default or explicit stride (overlapping windows
    too), padding up to half the kernel, dilation (max), ceil_mode, count_include_pad and
    divisor_override (avg). Max-pool inputs hold distinct values, so no window has a tie, and no
    max-pool window lies wholly in the padding (its -inf output has no finite difference)."""

    if kind not in ("max", "avg"):
        raise ValueError(f"pool2d_args: kind must be 'max' or 'avg', got {kind!r}")
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    dh, dw = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if kind == "max" else (1, 1)
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = draw(st.integers(max(1, eh - 2 * ph), max(1, eh - 2 * ph) + max_side - 1))
    w = draw(st.integers(max(1, ew - 2 * pw), max(1, ew - 2 * pw) + max_side - 1))
    shape = (draw(st.integers(0, max_batch)), draw(st.integers(1, 2)), h, w)
    if kind == "max":
        x = draw(distinct_tensors(shape, dtype=dtype, requires_grad=requires_grad))
    else:
        x = _array(draw, shape, dtype, requires_grad)
    args = Pool2dArgs(kind, x, _maybe_pair(draw, kh, kw), stride, _maybe_pair(draw, ph, pw), draw(st.booleans()))
    if kind == "max":
        args.dilation = _maybe_pair(draw, dh, dw)
        # a dilated window can fall wholly in the padding: its output is -inf (as PyTorch's), which
        # finite differences cannot check (inf - inf); such windows have their own hand-made test
        assume(_windows_reach_input(pool_geometry("max_pool2d", shape, (kh, kw), stride, (ph, pw), (dh, dw),
                                                  args.ceil_mode)))
    else:
        args.count_include_pad = draw(st.booleans())
        args.divisor_override = draw(st.one_of(st.none(), st.integers(1, 5)))
    return args
