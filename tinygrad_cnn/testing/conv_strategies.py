"""Hypothesis strategies for valid conv2d / conv_transpose2d / pooling argument sets."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

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


def _maybe_pair(draw: Any, a: int, b: int, int_args: bool = False) -> Any:
    """Draw an int, or a pair when the two sides differ (both spellings get exercised); always an int
    with ``int_args``."""
    if int_args:
        return a
    return a if a == b and draw(st.booleans()) else (a, b)


def _array(draw: Any, shape: tuple, dtype: Any, requires_grad: bool, low: float = -1.0, high: float = 1.0) -> Tensor:
    from hypothesis.extra import numpy as hnp

    arr = draw(hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=64)))
    return Tensor(arr.astype(dtype), requires_grad=requires_grad)


def _choice(draw: Any, spec: Any, default: tuple, what: str, low: int | None = None) -> Any:
    """Draw one value of a narrowable argument: ``spec`` None (the ``default`` (low, high) range), a
    value, a list of values or an inclusive (low, high) range; only values >= ``low`` (a bound set
    by earlier draws, never a filter that rejects examples)."""
    if spec is None:
        spec = default
    if isinstance(spec, tuple) and len(spec) == 2:
        lo, hi = spec
        lo = lo if low is None else max(lo, low)
        if lo > hi:
            raise ValueError(f"strategies: {what} range {spec} holds no value >= {low}")
        return draw(st.integers(lo, hi))
    values = list(spec) if isinstance(spec, (list, range)) else [spec]
    allowed = [v for v in values if low is None or isinstance(v, str) or v >= low]
    if not allowed:
        raise ValueError(f"strategies: no {what} in {values} is >= {low}")
    return allowed[0] if len(allowed) == 1 else draw(st.sampled_from(allowed))


def _hw(draw: Any, spec: Any, default: tuple, what: str, square: bool, low: int | None = None) -> tuple:
    """An (h, w) pair of one narrowable argument: equal sides when ``square``."""
    a = _choice(draw, spec, default, what, low)
    return (a, a) if square or isinstance(a, str) else (a, _choice(draw, spec, default, what, low))


@st.composite
def conv2d_args(draw: Any, dtype: Any = np.float64, max_batch: int = 3, max_side: int = 6,
                padding_strings: bool = True, with_bias: bool | None = None, requires_grad: bool = True, *,
                stride: Any = None, padding: Any = None, dilation: Any = None, groups: Any = None,
                kernel_size: Any = None, min_batch: int = 0, sides: Any = None, square: bool = False,
                int_args: bool = False) -> Conv2dArgs:
    """Valid conv2d arguments: strides, int/pair/'valid'/'same' padding, dilation, groups
    (depthwise too), rectangular kernels and inputs, batch min_batch..max_batch (0 = empty, as PyTorch
    allows), optional bias. Each hyper-parameter narrows to a value, a list or a (low, high) range;
    ``square`` makes kernel and hyper-parameters equal per side, ``int_args`` passes them as ints,
    ``sides`` fixes (H, W) (or an int for square inputs).

    >>> from hypothesis import given
    >>> @given(conv2d_args(stride=1, groups=1, dilation=1, square=True, int_args=True, sides=(5, 5), min_batch=1))
    ... def test(a):
    ...     assert a.stride == 1 and a.input.shape[2:] == (5, 5) and a.input.shape[0] >= 1
    >>> test()
    """
    square = square or int_args
    g = _choice(draw, groups, (1, 3), "groups")
    depthwise = draw(st.booleans())
    cg = 1 if depthwise else draw(st.integers(1, 2))
    fg = draw(st.integers(1, 2))
    fixed = (sides, sides) if isinstance(sides, int) else sides
    pad_default = (0, 2)
    pspec = padding
    if pspec is None and padding_strings:
        mode = draw(st.sampled_from(["int", "int", "valid", "same"]))
        pspec = pad_default if mode == "int" else mode
    ph, pw = _hw(draw, pspec, pad_default, "padding", square)
    sh, sw = (1, 1) if ph == "same" else _hw(draw, stride, (1, 3), "stride", square)  # 'same' needs stride 1
    dh, dw = _hw(draw, dilation, (1, 2), "dilation", square)
    numeric = (0, 0) if isinstance(ph, str) else (ph, pw)
    kh, kw = _kernel(draw, kernel_size, fixed, numeric, (dh, dw), square)
    lows = (max(1, dh * (kh - 1) + 1 - 2 * numeric[0]), max(1, dw * (kw - 1) + 1 - 2 * numeric[1]))
    h, w = _input_sides(draw, fixed, lows, max_side - 2, square)
    n = draw(st.integers(min_batch, max(min_batch, max_batch)))
    x = _array(draw, (n, cg * g, h, w), dtype, requires_grad)
    weight = _array(draw, (fg * g, cg, kh, kw), dtype, requires_grad)
    use_bias = draw(st.booleans()) if with_bias is None else with_bias
    bias = _array(draw, (fg * g,), dtype, requires_grad) if use_bias else None
    pad_arg = ph if isinstance(ph, str) else _maybe_pair(draw, ph, pw, int_args)
    return Conv2dArgs(x, weight, bias, _maybe_pair(draw, sh, sw, int_args), pad_arg,
                      _maybe_pair(draw, dh, dw, int_args), g)


def _kernel(draw: Any, spec: Any, fixed: Any, pads: tuple, dilation: tuple, square: bool) -> tuple[int, int]:
    """(kh, kw) from ``spec``; a fixed input size bounds it (the window must fit the padded input)."""
    caps = [None, None] if fixed is None else [(n + 2 * p - 1) // d + 1 for n, p, d in zip(fixed, pads, dilation)]
    kh = _choice(draw, spec if caps[0] is None else _capped(spec, (1, 3), caps[0]), (1, 3), "kernel_size")
    kw = kh if square else _choice(draw, spec if caps[1] is None else _capped(spec, (1, 3), caps[1]), (1, 3),
                                   "kernel_size")
    return kh, kw


def _input_sides(draw: Any, fixed: Any, lows: tuple, extra: int, square: bool) -> tuple[int, int]:
    """The fixed (H, W), or each side from its smallest legal value to ``extra`` above it."""
    if fixed is not None:
        return tuple(fixed)
    h = draw(st.integers(lows[0], lows[0] + extra))
    return h, (h if square and lows[0] == lows[1] else draw(st.integers(lows[1], lows[1] + extra)))


def _capped(spec: Any, default: tuple, high: int) -> Any:
    """A kernel-size spec limited to ``high`` (a fixed input size bounds the kernel)."""
    spec = default if spec is None else spec
    if isinstance(spec, tuple) and len(spec) == 2:
        return (spec[0], min(spec[1], high))
    values = list(spec) if isinstance(spec, (list, range)) else [spec]
    return [v for v in values if v <= high] or values[:1]


@st.composite
def conv_transpose2d_args(draw: Any, dtype: Any = np.float64, max_batch: int = 3, max_side: int = 4,
                          with_bias: bool | None = None, requires_grad: bool = True, *, stride: Any = None,
                          padding: Any = None, dilation: Any = None, groups: Any = None, kernel_size: Any = None,
                          min_batch: int = 0, square: bool = False, int_args: bool = False) -> ConvTranspose2dArgs:
    """Valid conv_transpose2d arguments, output_padding < max(stride, dilation) included. Each
    hyper-parameter narrows to a value, a list or a (low, high) range, as in conv2d_args.

    >>> from hypothesis import given
    >>> @given(conv_transpose2d_args(stride=2, padding=0, dilation=1, groups=1, int_args=True, min_batch=1))
    ... def test(a):
    ...     assert (a.stride, a.padding, a.dilation, a.groups) == (2, 0, 1, 1) and a.input.shape[0] >= 1
    >>> test()
    """
    square = square or int_args
    g = _choice(draw, groups, (1, 2), "groups")
    cin_g, cout_g = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = _hw(draw, kernel_size, (1, 3), "kernel_size", square)
    sh, sw = _hw(draw, stride, (1, 3), "stride", square)
    dh, dw = _hw(draw, dilation, (1, 2), "dilation", square)
    ph, pw = _hw(draw, padding, (0, 2), "padding", square)
    oph = draw(st.integers(0, max(sh, dh) - 1))
    opw = oph if square else draw(st.integers(0, max(sw, dw) - 1))
    # output size (h-1)*s - 2p + d(k-1) + op + 1 must be >= 1
    min_h = max(1, -(-(2 * ph - dh * (kh - 1) - oph) // sh) + 1)
    min_w = max(1, -(-(2 * pw - dw * (kw - 1) - opw) // sw) + 1)
    h, w = _input_sides(draw, None, (min_h, min_w), max_side - 1, square)
    n = draw(st.integers(min_batch, max(min_batch, max_batch)))
    x = _array(draw, (n, cin_g * g, h, w), dtype, requires_grad)
    weight = _array(draw, (cin_g * g, cout_g, kh, kw), dtype, requires_grad)
    use_bias = draw(st.booleans()) if with_bias is None else with_bias
    bias = _array(draw, (cout_g * g,), dtype, requires_grad) if use_bias else None
    return ConvTranspose2dArgs(x, weight, bias, _maybe_pair(draw, sh, sw, int_args),
                               _maybe_pair(draw, ph, pw, int_args), _maybe_pair(draw, oph, opw, int_args), g,
                               _maybe_pair(draw, dh, dw, int_args))


@st.composite
def pool2d_args(draw: Any, kind: str = "max", dtype: Any = np.float64, max_batch: int = 3, max_side: int = 6,
                requires_grad: bool = True, *, kernel_size: Any = None, stride: Any = None, padding: Any = None,
                dilation: Any = None, ceil_mode: bool | None = None, min_batch: int = 0, channels: Any = None,
                sides: Any = None, square: bool = False, int_args: bool = False) -> Pool2dArgs:
    """Valid pooling arguments: rectangular kernels, default or explicit stride (overlapping windows
    too), padding up to half the kernel, dilation (max), ceil_mode, count_include_pad and
    divisor_override (avg). Each argument narrows to a value, a list or a (low, high) range (as
    conv2d_args). Max-pool inputs hold distinct values, so no window has a tie; no max-pool window
    lies wholly in the padding (its -inf output has no finite difference): a dilated, padded window
    gets an input side of at least the dilation, which keeps one of its taps inside.

    >>> from hypothesis import given
    >>> @given(pool2d_args(kernel_size=2, stride=2, padding=0, square=True, int_args=True, min_batch=1))
    ... def test(a):
    ...     assert (a.kernel_size, a.stride, a.padding) == (2, 2, 0)
    >>> test()
    """
    if kind not in ("max", "avg"):
        raise ValueError(f"pool2d_args: kind must be 'max' or 'avg', got {kind!r}")
    square = square or int_args
    kh, kw = _hw(draw, kernel_size, (1, 3), "kernel_size", square)
    if stride is None and not int_args and draw(st.booleans()):
        strides: Any = None  # PyTorch's default: the kernel size
    else:
        sh, sw = _hw(draw, stride, (1, 3), "stride", square)
        strides = _maybe_pair(draw, sh, sw, int_args)
    ph = _choice(draw, _capped(padding, (0, kh // 2), kh // 2), (0, kh // 2), "padding")
    pw = ph if square else _choice(draw, _capped(padding, (0, kw // 2), kw // 2), (0, kw // 2), "padding")
    dh, dw = _hw(draw, dilation, (1, 2), "dilation", square) if kind == "max" else (1, 1)
    fixed = (sides, sides) if isinstance(sides, int) else sides
    lows = tuple(max(1, d * (k - 1) + 1 - 2 * p, d if p and d > 1 else 1) for k, p, d in ((kh, ph, dh), (kw, pw, dw)))
    h, w = _input_sides(draw, fixed, lows, max_side - 1, square)
    shape = (draw(st.integers(min_batch, max(min_batch, max_batch))), _choice(draw, channels, (1, 2), "channels"), h, w)
    if kind == "max":
        x = draw(distinct_tensors(shape, dtype=dtype, requires_grad=requires_grad))
    else:
        x = _array(draw, shape, dtype, requires_grad)
    mode = draw(st.booleans()) if ceil_mode is None else ceil_mode
    args = Pool2dArgs(kind, x, _maybe_pair(draw, kh, kw, int_args), strides, _maybe_pair(draw, ph, pw, int_args), mode)
    if kind == "max":
        args.dilation = _maybe_pair(draw, dh, dw, int_args)
    else:
        args.count_include_pad = draw(st.booleans())
        args.divisor_override = draw(st.one_of(st.none(), st.integers(1, 5)))
    return args
