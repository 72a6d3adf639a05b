"""Batching, seeded shuffling and normalisation of an image dataset."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ..tensor import Tensor

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def normalize(mean: float = MNIST_MEAN, std: float = MNIST_STD) -> Callable[[np.ndarray], np.ndarray]:
    """A batch transform: uint8 images (B, H, W) -> float32 (B, 1, H, W) scaled to [0, 1], then
    ``(x - mean) / std``.

    >>> normalize(0.0, 1.0)(np.full((2, 3, 3), 255, np.uint8)).shape
    (2, 1, 3, 3)
    """
    scale, shift = np.float32(1.0 / (255.0 * std)), np.float32(mean / std)

    def transform(images: np.ndarray) -> np.ndarray:
        x = images.astype(np.float32) * scale - shift
        return x[:, None] if x.ndim == 3 else x

    return transform


class DataLoader:
    """Iterate over a dataset in batches of Tensors ``(images, labels)``.

    A dataset with ``images`` and ``labels`` arrays is sliced directly (fast); any other dataset is
    indexed item by item. ``transform`` maps a numpy batch of images (default: :func:`normalize`
    with the dataset's ``mean``/``std`` attributes when it has them, else MNIST's).
    Shuffling uses its own generator seeded by ``seed``, so runs repeat exactly.

    >>> class Toy:
    ...     images = np.zeros((5, 2, 2), np.uint8); labels = np.arange(5)
    ...     def __len__(self): return 5
    >>> [x.shape for x, _ in DataLoader(Toy(), batch_size=2)]
    [(2, 1, 2, 2), (2, 1, 2, 2), (1, 1, 2, 2)]
    """

    def __init__(self, dataset: Any, batch_size: int = 64, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, transform: Callable[[np.ndarray], np.ndarray] | None = None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must have a length, got {type(dataset).__name__}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        if transform is None:
            transform = normalize(getattr(dataset, "mean", MNIST_MEAN), getattr(dataset, "std", MNIST_STD))
        self.transform = transform
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ds = self.dataset
        if hasattr(ds, "images") and hasattr(ds, "labels"):
            return ds.images[idx], np.asarray(ds.labels)[idx]
        items = [ds[int(i)] for i in idx]
        return np.stack([np.asarray(x) for x, _ in items]), np.array([y for _, y in items], dtype=np.int64)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            images, labels = self._batch(order[start:start + self.batch_size])
            yield Tensor(self.transform(images)), Tensor(labels.astype(np.int64))


class Subset:
    """The first ``n`` items of a dataset with ``images``/``labels`` (for quick runs and tests)."""

    def __init__(self, dataset: Any, n: int):
        self.images, self.labels = dataset.images[:n], dataset.labels[:n]
        self.classes = getattr(dataset, "classes", None)
        self.mean, self.std = getattr(dataset, "mean", MNIST_MEAN), getattr(dataset, "std", MNIST_STD)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return self.images[i], int(self.labels[i])
