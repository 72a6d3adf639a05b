"""Between the reference's layouts (NCHW images, OIHW weights, (F,) biases) and the user's.

An image layout is any order of the letters N, C, H, W ("NHWC", "CHWN" for batch-last); a weight
layout any order of O, I, H, W ("HWIO" is (kh, kw, Cin, Cout)), or "OI"/"IO" for linear weights; a
bias is a vector ``(F,)`` or shaped to broadcast against the output ("broadcast": (1, 1, 1, F) in NHWC).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .domain import LayerCheckError


def _perm(layout: str, canonical: str, what: str) -> tuple[int, ...]:
    if sorted(layout) != sorted(canonical):
        raise LayerCheckError(f"check_layer: {what} must order the letters {canonical} (e.g. {canonical!r}), "
                              f"got {layout!r}")
    return tuple(canonical.index(c) for c in layout)


@dataclass(frozen=True)
class Layouts:
    """How arrays of each role look on the user's side.

    >>> lay = Layouts.make("NHWC", "HWIO", "broadcast")
    >>> lay.to_user("image", np.zeros((2, 3, 4, 5))).shape, lay.to_user("bias", np.zeros(3)).shape
    ((2, 4, 5, 3), (1, 1, 1, 3))
    """

    image: str
    weight: str
    bias: str

    @staticmethod
    def make(image: str, weight: str, bias: str) -> Layouts:
        _perm(image, "NCHW", "layout")
        if weight not in ("OI", "IO"):
            _perm(weight, "OIHW", "weight_layout")
        if bias not in ("vector", "broadcast"):
            raise LayerCheckError(f"check_layer: bias_layout must be 'vector' or 'broadcast', got {bias!r}")
        return Layouts(image, weight, bias)

    def _order(self, role: str) -> tuple[int, ...] | None:
        if role == "image":
            return _perm(self.image, "NCHW", "layout")
        if role == "weight":
            return (1, 0) if self.weight == "IO" else None if self.weight == "OI" else _perm(self.weight, "OIHW", "")
        return None

    def to_user(self, role: str, a: np.ndarray) -> np.ndarray:
        """The reference-layout array ``a`` as the user's code receives it (a fresh C-contiguous array)."""
        order = self._order(role)
        if order is not None and a.ndim == len(order):
            a = a.transpose(order)
        elif role == "bias" and self.bias == "broadcast":
            shape = [1] * len(self.image)
            shape[self.image.index("C")] = a.shape[0]
            a = a.reshape(shape)
        return np.ascontiguousarray(a)

    def from_user(self, role: str, a: np.ndarray) -> np.ndarray:
        """The user's array back in the reference layout (the inverse of ``to_user``)."""
        order = self._order(role)
        if order is not None and a.ndim == len(order):
            return a.transpose(np.argsort(order))
        if role == "bias" and self.bias == "broadcast":
            return a.reshape(-1)
        return a

    def axis(self, role: str, letter: str) -> int:
        """Where the reference axis ``letter`` sits in the user's array of that role."""
        return (self.image if role == "image" else self.weight).index(letter)
