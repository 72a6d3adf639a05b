"""torchvision-style image transforms: ``Compose``, ``ToTensor``, ``Normalize``, ``Lambda``.

Each maps one image; ``Compose`` of the first three also maps a whole batch at once (``batch``),
which the DataLoader uses for MNIST so that an epoch is not a Python loop over images.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..tensor import Tensor


class ToTensor:
    """uint8 pixels (H, W) or (H, W, C) to a float32 Tensor (C, H, W) scaled to [0, 1], as
    torchvision's.

    >>> ToTensor()(np.full((2, 2), 255, np.uint8)).shape
    (1, 2, 2)
    """

    def batch(self, images: np.ndarray) -> np.ndarray:
        x = images.astype(np.float32)
        if images.dtype == np.uint8:
            x *= np.float32(1 / 255)
        return x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)

    def __call__(self, image: Any) -> Tensor:
        return Tensor(self.batch(np.asarray(image)[None])[0])

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a (C, H, W) tensor, as torchvision's.

    >>> Normalize((0.5,), (0.5,))(Tensor(np.ones((1, 1, 1), np.float32))).item()
    1.0
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        if (self.std <= 0).any():
            raise ValueError(f"Normalize: std must be positive, got {tuple(std)}")

    def batch(self, x: np.ndarray) -> np.ndarray:
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return (x - self.mean.reshape(shape)) / self.std.reshape(shape)

    def __call__(self, t: Any) -> Tensor:
        x = t._data if isinstance(t, Tensor) else np.asarray(t, np.float32)
        return Tensor(self.batch(x[None])[0].astype(x.dtype, copy=False))

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class Lambda:
    """Any function of one image, as ``torchvision.transforms.Lambda``; in a ``Compose`` it has no
    batch form, so the dataset applies the transforms image by image.

    >>> Compose([ToTensor(), Lambda(lambda t: t * 2)])(np.full((1, 1), 255, np.uint8)).tolist()
    [[[2.0]]]
    """

    def __init__(self, fn: Callable[[Any], Any]):
        self.fn = fn

    def __call__(self, x: Any) -> Any:
        return self.fn(x)


class Compose:
    """Transforms applied in order; ``batch`` too when each of them has a batch form.

    >>> t = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
    >>> t(np.zeros((28, 28), np.uint8)).shape, t.batch(np.zeros((5, 28, 28), np.uint8)).shape
    ((1, 28, 28), (5, 1, 28, 28))
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]):
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __getattr__(self, name: str) -> Any:
        if name == "batch" and all(hasattr(t, "batch") for t in self.transforms):
            def batch(images: np.ndarray) -> np.ndarray:
                for t in self.transforms:
                    images = t.batch(images)  # type: ignore[attr-defined]
                return images
            return batch
        raise AttributeError(name)

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(map(repr, self.transforms)) + ")"
