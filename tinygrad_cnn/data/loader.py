"""The DataLoader: batching, seeded shuffling and collation, as ``torch.utils.data.DataLoader``."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

import numpy as np

from ..seeding import get_rng
from ..tensor import Tensor
from .dataset import Dataset


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
        return Tensor(np.stack([t._data for t in items]))
    if isinstance(first, (np.ndarray, np.generic)):
        return Tensor(np.stack([np.asarray(x) for x in items]))
    if isinstance(first, (bool, int, float)):
        return Tensor(_numbers(items))
    raise TypeError(f"default_collate: cannot batch items of type {type(first).__name__}; pass collate_fn=")


def _numbers(items: list) -> np.ndarray:
    """Python numbers as PyTorch batches them: bools to bool, ints to int64 (float32 when a float is
    among them, as torch.tensor), floats to float64."""
    first = items[0]
    if isinstance(first, bool):
        return np.array(items, dtype=np.bool_)
    if isinstance(first, int):
        return np.array(items, dtype=np.int64 if all(isinstance(x, int) for x in items) else np.float32)
    return np.array(items, dtype=np.float64)


class DataLoader:
    """Iterate over a dataset in batches, collated by :func:`default_collate` (or ``collate_fn``).

    Applies nothing to the data that the dataset does not ask for (normalisation is the dataset's
    ``transform``). A dataset with a ``get_batch(indices)`` method (MNIST, TensorDataset) is read
    a batch at a time. Shuffling draws from ``manual_seed``'s generator, or from a generator of its
    own seeded by ``seed``: either way runs repeat exactly.

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
        # with a seed, a generator of its own; else manual_seed's global one, so that seeding repeats runs
        self.rng = np.random.default_rng(seed) if seed is not None else None

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
        order = (self.rng or get_rng()).permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])


class Subset(Dataset):
    """The items of ``dataset`` at ``indices`` (any sequence: a list, a range, an array), as
    ``torch.utils.data.Subset``; batches are read through the dataset's ``get_batch`` when it has one.

    >>> from tinygrad_cnn.data import TensorDataset
    >>> s = Subset(TensorDataset(Tensor(np.arange(10.0))), range(2, 5)); len(s), s[0][0].item()
    (3, 2.0)
    """

    def __init__(self, dataset: Any, indices: Sequence[int]):
        if isinstance(indices, (int, np.integer)):
            raise TypeError(f"Subset: indices must be a sequence of indices, got the int {indices} "
                            f"(for the first n items pass range(n))")
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, list):
            return [self.dataset[self.indices[j]] for j in i]
        return self.dataset[self.indices[i]]

    def get_batch(self, idx: np.ndarray) -> Any:
        base = np.asarray(self.indices)[idx]
        if hasattr(self.dataset, "get_batch"):
            return self.dataset.get_batch(base)
        return default_collate([self.dataset[int(k)] for k in base])


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random Subsets of the given lengths (or fractions
    summing to 1, the remainder dealt round-robin), as ``torch.utils.data.random_split``; the
    permutation comes from ``manual_seed``'s generator, or ``generator`` (a numpy Generator).

    >>> [len(s) for s in random_split(range(10), [0.7, 0.3])]
    [7, 3]
    """
    n = len(dataset)
    if lengths and all(0 <= x <= 1 for x in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        counts = [int(np.floor(n * f)) for f in lengths]
        for k in range(n - sum(counts)):
            counts[k % len(counts)] += 1
    else:
        counts = [int(x) for x in lengths]
        if any(c != x or c < 0 for c, x in zip(counts, lengths)):
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions summing to 1, "
                             f"got {list(lengths)}")
    if sum(counts) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(counts)}) does not equal the length of the "
                         f"dataset ({n})")
    order = (generator if generator is not None else get_rng()).permutation(n).tolist()
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, order[start:start + c]))
        start += c
    return out


def image_batch(images: np.ndarray, labels: np.ndarray, indices: np.ndarray, transform: Any) -> list:
    """``[images, labels]`` at ``indices`` as Tensors, the images through ``transform`` (its
    ``batch`` method when it has one, else image by image)."""
    x = images[indices]
    if transform is not None:
        if hasattr(transform, "batch"):
            x = transform.batch(x)
        else:  # image by image; a transform may give Tensors, as torchvision's do
            x = np.stack([np.asarray(im._data if isinstance(im, Tensor) else im) for im in map(transform, x)])
    return [Tensor(x), Tensor(np.asarray(labels[indices], dtype=np.int64))]
