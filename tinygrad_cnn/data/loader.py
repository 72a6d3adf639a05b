"""The DataLoader: batching, seeded shuffling and collation, as ``torch.utils.data.DataLoader``."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ..tensor import Tensor


def default_collate(items: list) -> Any:
    """Stack a list of items into a batch, as PyTorch's: tuples field by field, Tensors and
    ndarrays stacked (dtype kept), Python ints to int64, floats to float64, bools to bool.
    Shape: B items of (...) -> (B, ...).

    >>> [t.shape for t in default_collate([(np.zeros(3), 1), (np.ones(3), 2)])]
    [(2, 3), (2,)]
    """
    first = items[0]
    if isinstance(first, (tuple, list)):
        return [default_collate([item[i] for item in items]) for i in range(len(first))]
    if isinstance(first, dict):
        return {k: default_collate([item[k] for item in items]) for k in first}
    if isinstance(first, Tensor):
        return Tensor(np.stack([t.data for t in items]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor(np.stack([np.asarray(x) for x in items]))
    if isinstance(first, bool):
        return Tensor(np.array(items, dtype=np.bool_))
    if isinstance(first, int):
        return Tensor(np.array(items, dtype=np.int64))
    if isinstance(first, float):
        return Tensor(np.array(items, dtype=np.float64))
    raise TypeError(f"default_collate: cannot batch items of type {type(first).__name__}; pass collate_fn=")


class DataLoader:
    """Iterate over a dataset in batches, collated by :func:`default_collate` (or ``collate_fn``).

    Applies nothing to the data that the dataset does not ask for (normalisation is the dataset's
    ``transform``). A dataset with a ``get_batch(indices)`` method (MNIST, TensorDataset) is read
    a batch at a time. Shuffling uses its own generator seeded by ``seed``, so runs repeat exactly.

    >>> from tinygrad_cnn.data import TensorDataset
    >>> ds = TensorDataset(Tensor(np.zeros((5, 3), np.float32)), Tensor(np.arange(5)))
    >>> [x.shape for x, _ in DataLoader(ds, batch_size=2)]
    [(2, 3), (2, 3), (1, 3)]
    """

    def __init__(self, dataset: Any, batch_size: int = 64, shuffle: bool = False, drop_last: bool = False,
                 seed: int | None = None, collate_fn: Callable[[list], Any] | None = None, **unsupported: Any):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must have a length, got {type(dataset).__name__}")
        for name in unsupported:
            # loading in worker processes / pinned memory changes nothing about the batches here
            if name not in ("num_workers", "pin_memory", "persistent_workers", "prefetch_factor", "timeout"):
                raise TypeError(f"DataLoader: unexpected argument {name!r}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.collate_fn = collate_fn
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batch(self, idx: np.ndarray) -> Any:
        ds = self.dataset
        if self.collate_fn is None and hasattr(ds, "get_batch"):
            return ds.get_batch(idx)
        items = [ds[int(i)] for i in idx]
        return (self.collate_fn or default_collate)(items)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])


class Subset:
    """The first ``n`` items of a dataset with ``images``/``labels`` (for quick runs and tests);
    it keeps the dataset's ``transform``."""

    def __init__(self, dataset: Any, n: int):
        self.images, self.labels = dataset.images[:n], dataset.labels[:n]
        self.classes = getattr(dataset, "classes", None)
        self.transform = getattr(dataset, "transform", None)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        image = self.images[i]
        return (self.transform(image) if self.transform is not None else image), int(self.labels[i])

    def get_batch(self, indices: np.ndarray) -> list:
        return image_batch(self.images, self.labels, indices, self.transform)


def image_batch(images: np.ndarray, labels: np.ndarray, indices: np.ndarray, transform: Any) -> list:
    """``[images, labels]`` at ``indices`` as Tensors, the images through ``transform`` (its
    ``batch`` method when it has one, else image by image)."""
    x = images[indices]
    if transform is not None:
        if hasattr(transform, "batch"):
            x = transform.batch(x)
        else:  # image by image; a transform may give Tensors, as torchvision's do
            x = np.stack([np.asarray(im.data if isinstance(im, Tensor) else im) for im in map(transform, x)])
    return [Tensor(x), Tensor(np.asarray(labels[indices], dtype=np.int64))]
