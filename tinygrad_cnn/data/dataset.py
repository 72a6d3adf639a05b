"""``Dataset`` and ``TensorDataset`` as ``torch.utils.data``'s, and the MNIST normalisation transform."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class Dataset:
    """Base class of a map-style dataset: define ``__getitem__(i)`` and ``__len__()``.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 3
    ...     def __getitem__(self, i): return i * i
    >>> [Squares()[i] for i in range(3)]
    [0, 1, 4]
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Items are the ``index``-th rows of tensors that share their first dimension.
    Shape: tensors (N, ...) -> items of (...) each.

    >>> ds = TensorDataset(Tensor(np.zeros((4, 2))), Tensor(np.arange(4)))
    >>> len(ds), ds[1][1].item()
    (4, 1)
    """

    def __init__(self, *tensors: Any):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        arrays = []
        for i, t in enumerate(tensors):
            if not isinstance(t, (Tensor, np.ndarray)):
                raise TypeError(f"TensorDataset: tensors[{i}] must be a Tensor, got {type(t).__name__}")
            arrays.append(t._data if isinstance(t, Tensor) else t)
            if arrays[-1].ndim == 0 or len(arrays[-1]) != len(arrays[0]):
                raise ValueError(f"TensorDataset: size mismatch between tensors: tensors[{i}] has shape "
                                 f"{arrays[-1].shape}, tensors[0] {arrays[0].shape}")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        self._arrays = arrays

    def __getitem__(self, index: int) -> tuple:
        return tuple(Tensor(a[index]) for a in self._arrays)

    def __len__(self) -> int:
        return len(self._arrays[0])

    def get_batch(self, indices: np.ndarray) -> list:
        """The items at ``indices`` already stacked (what the DataLoader would collate)."""
        return [Tensor(a[indices]) for a in self._arrays]


class Normalize:
    """MNIST-style image transform: uint8 pixels scaled to [0, 1], then ``(x - mean) / std``, as
    float32 with a channel axis. One image (H, W) -> (1, H, W); :meth:`batch`: (B, H, W) -> (B, 1, H, W).

    >>> Normalize(0.0, 1.0)(np.full((3, 3), 255, np.uint8)).shape
    (1, 3, 3)
    """

    def __init__(self, mean: float = MNIST_MEAN, std: float = MNIST_STD):
        if not std > 0:
            raise ValueError(f"Normalize: std must be > 0, got {std}")
        self.mean, self.std = mean, std
        self._scale, self._shift = np.float32(1.0 / (255.0 * std)), np.float32(mean / std)

    def batch(self, images: np.ndarray) -> np.ndarray:
        x = images.astype(np.float32) * self._scale - self._shift
        return x[:, None] if x.ndim == 3 else x

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.batch(np.asarray(image)[None])[0]

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


def normalize(mean: float = MNIST_MEAN, std: float = MNIST_STD) -> Normalize:
    """The :class:`Normalize` transform (default: MNIST's statistics).

    >>> normalize(0.5, 0.25).batch(np.array([[[0, 255]]], np.uint8)).tolist()
    [[[[-2.0, 2.0]]]]
    """
    return Normalize(mean, std)
