"""Small heatmaps of gradients for the backward page: a few rows and columns of signed levels,
cheap to embed as JSON and to draw in a canvas."""
from __future__ import annotations

import numpy as np

__all__ = ["heatmap"]

_LEVELS = 9   # levels -9 .. 9: white at 0, blue below, red above
_SIDE = 24    # at most this many cells a side per tile
_TILES = 8    # at most this many tiles (channels, or filters)


def _shrink(a: np.ndarray, side: int) -> np.ndarray:
    """Block means down to at most ``side`` x ``side``."""
    rows, cols = a.shape
    r, c = -(-rows // side), -(-cols // side)
    pad = np.zeros((-(-rows // r) * r, -(-cols // c) * c))
    pad[:rows, :cols] = a
    return pad.reshape(pad.shape[0] // r, r, pad.shape[1] // c, c).mean(axis=(1, 3))


def _tiles(a: np.ndarray) -> list[np.ndarray]:
    """The 2-D pictures of a gradient: one per channel of the first image (N, C, H, W), one per
    filter summed over its input channels (a weight of shape F, C, kh, kw), else the array as rows."""
    if a.ndim == 4:
        return list(a.sum(axis=1)[:_TILES]) if a.shape[2] * a.shape[3] <= 49 else list(a[0, :_TILES])
    if a.ndim == 3:
        return list(a[:_TILES])
    if a.ndim == 2:
        return [a]
    return [a.reshape(1, -1)] if a.ndim == 1 else []


def heatmap(a: np.ndarray) -> dict | None:
    """``{"tiles": [[rows of levels], ...], "scale": max |value|}`` for the page, or None for a
    scalar or an empty or non-float gradient.

    >>> heatmap(np.array([[1.0, -1.0], [0.0, 0.5]]))["tiles"]
    [[[9, -9], [0, 4]]]
    """
    if a.dtype.kind != "f" or a.size <= 1:
        return None
    tiles = [_shrink(np.asarray(t, dtype=np.float64), _SIDE) for t in _tiles(a)]
    scale = max(float(np.abs(t).max()) for t in tiles) if tiles else 0.0
    if not tiles or not np.isfinite(scale):
        return None
    levels = [np.rint(t / scale * _LEVELS).astype(int).tolist() if scale else np.zeros(t.shape, int).tolist()
              for t in tiles]
    return {"tiles": levels, "scale": scale}
