"""The sizes a windowed kernel works from: plain frozen dataclasses, built and checked by
``ops/geometry.py``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator


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


def _pads_text(pads: tuple) -> str:
    pt, pb, pl, pr = pads
    if pt == pb == pl == pr:
        return str(pt)
    return f"{pt},{pb},{pl},{pr}"


@dataclass(frozen=True)
class ConvGeometry(WindowGeometry):
    """The forward convolution's sizes; a transposed convolution is described by the convolution
    it is the adjoint of. Bottom/right ``pads`` may be negative for a transposed convolution whose
    output_padding exceeds its padding (rows past the last window are then simply not read)."""

    groups: int

    def meta(self) -> dict:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        text = f"{kh}x{kw} s{sh if sh == sw else f'{sh},{sw}'} p{_pads_text(self.pads)}"
        if (dh, dw) != (1, 1):
            text += f" d{dh if dh == dw else f'{dh},{dw}'}"
        if self.groups != 1:
            text += f" g{self.groups}"
        return {"args": text, "geo": self}  # the text for pictures, the sizes for exporters

    @property
    def padded_hw(self) -> tuple[int, int]:
        """Size of the zero-padded input canvas that every window and the input both fit in."""
        (h, w), (ho, wo) = self.in_hw, self.out_hw
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        pt, pb, pl, pr = self.pads
        need_h, need_w = (ho - 1) * sh + dh * (kh - 1) + 1, (wo - 1) * sw + dw * (kw - 1) + 1
        return max(pt + h + max(pb, 0), need_h), max(pl + w + max(pr, 0), need_w)


@dataclass(frozen=True)
class PoolGeometry(WindowGeometry):
    """Pooling windows. Bottom/right ``pads`` include the extra rows and columns that ceil_mode
    windows hang over (never read for max, zeros for avg)."""

    padding: tuple[int, int]  # the user's symmetric padding

    @property
    def padded_hw(self) -> tuple[int, int]:
        pt, pb, pl, pr = self.pads
        return self.in_hw[0] + pt + pb, self.in_hw[1] + pl + pr

    @property
    def tiles(self) -> bool:
        """Whether the windows cover the padded input exactly once (no gaps, no overlap)."""
        return self.tiles_axis(0) and self.tiles_axis(1)

    def tiles_axis(self, axis: int) -> bool:
        k, s, d, out = self.kernel[axis], self.stride[axis], self.dilation[axis], self.out_hw[axis]
        return (k == 1 or d == 1) and s == k and out * k == self.padded_hw[axis]

    @property
    def overlapping(self) -> bool:
        """Whether an input element can fall in more than one window."""
        return any(s < d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def meta(self) -> dict:
        (kh, kw), (sh, sw), (ph, pw) = self.kernel, self.stride, self.padding
        return {"args": f"{kh}x{kw} s{sh if sh == sw else f'{sh},{sw}'} p{ph if ph == pw else f'{ph},{pw}'}",
                "geo": self}

    def offsets(self) -> Iterator[tuple[slice, slice]]:
        """(row slice, column slice) into the padded input for each kernel offset, row-major."""
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.kernel, self.stride, self.dilation, self.out_hw
        for i in range(kh):
            for j in range(kw):
                yield (slice(i * dh, i * dh + sh * (ho - 1) + 1, sh), slice(j * dw, j * dw + sw * (wo - 1) + 1, sw))
