"""MNIST and Fashion-MNIST from the four standard IDX gzip files, checked and (if missing) downloaded."""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .dataset import Normalize
from .idx import IMAGES_MAGIC, LABELS_MAGIC, DatasetError, read_idx
from .loader import image_batch

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def default_root() -> Path:
    """``$TINYGRAD_CNN_DATA`` if set, else ``~/.cache/tinygrad_cnn``."""
    env = os.environ.get("TINYGRAD_CNN_DATA")
    return Path(env) if env else Path.home() / ".cache" / "tinygrad_cnn"


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(urls: list[str], dest: Path, md5: str) -> str | None:
    """Fetch to a temporary file, check the checksum, rename into place. Returns the last error; on
    failure, the folders made for the download are removed again (a mistyped root is not created)."""
    made = [p for p in [dest.parent, *dest.parent.parents] if not p.exists()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    error = _fetch(urls, dest, md5)
    if error is not None:
        for folder in made:  # deepest first
            try:
                folder.rmdir()
            except OSError:
                break
    return error


def _fetch(urls: list[str], dest: Path, md5: str) -> str | None:
    """Try each mirror in turn: None once one gave the file, else the last error."""
    error = None
    for base in urls:
        url = base + dest.name
        fd, tmp = tempfile.mkstemp(prefix=".dl-", dir=dest.parent)
        try:
            with urllib.request.urlopen(url, timeout=30) as r, os.fdopen(fd, "wb") as f:
                while chunk := r.read(1 << 20):
                    f.write(chunk)
            if _md5(Path(tmp)) != md5:
                error = f"{url}: checksum mismatch"
                continue
            os.replace(tmp, dest)
            return None
        except (urllib.error.URLError, OSError, ValueError) as e:
            error = f"{url}: {getattr(e, 'reason', e)}"
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return error


class MNIST:
    """The MNIST digits: ``images`` uint8 (N, 28, 28), ``labels`` int64 (N,); indexing gives
    ``(transform(image), label)``, the raw uint8 image when ``transform`` is None (torchvision's
    rule: normalisation belongs to the dataset; ``MNIST.normalization()`` is the usual one).
    Files are read from ``<root>/mnist/`` and checked against their MD5 sums.
    Shape: 60,000 training or 10,000 test images.
    """

    folder = "mnist"
    mean, std = 0.1307, 0.3081  # of the training images scaled to [0, 1]
    md5 = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    classes = [str(i) for i in range(10)]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable[[np.ndarray], Any] | None = None, download: bool = True, verify: bool = True):
        if transform is not None and not callable(transform):
            raise TypeError(f"{type(self).__name__}: transform must be callable, got {type(transform).__name__}")
        self.root = Path(root) if root is not None else default_root()
        self.train = train
        self.transform = transform
        split = "train" if train else "test"
        paths = {kind: self._ensure(FILES[f"{split}_{kind}"], download, verify) for kind in ("images", "labels")}
        self.images = read_idx(paths["images"], IMAGES_MAGIC)
        self.labels = read_idx(paths["labels"], LABELS_MAGIC).astype(np.int64)
        if self.images.ndim != 3 or len(self.images) != len(self.labels):
            raise DatasetError(f"{type(self).__name__}: {paths['images'].name} holds {self.images.shape} images but "
                               f"{paths['labels'].name} holds {len(self.labels)} labels")
        if self.labels.size and self.labels.max() >= len(self.classes):
            raise DatasetError(f"{paths['labels'].name}: label {self.labels.max()} out of range")

    def _ensure(self, name: str, download: bool, verify: bool) -> Path:
        path = self.root / self.folder / name
        if not path.exists():
            error = _download(self.mirrors, path, self.md5[name]) if download else "download=False"
            if error is not None:
                raise DatasetError(
                    f"{type(self).__name__}: {name} not found in {path.parent} and could not be downloaded "
                    f"({error}). Put the four IDX files ({', '.join(self.md5)}) in {path.parent}, or set "
                    f"TINYGRAD_CNN_DATA to a folder holding {self.folder}/.")
        if verify and _md5(path) != self.md5[name]:
            raise DatasetError(f"{name}: checksum mismatch in {path} (corrupt or not the official file); "
                               "delete it to download it again")
        return path

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        image = self.images[i]
        return (self.transform(image) if self.transform is not None else image), int(self.labels[i])

    def get_batch(self, indices: np.ndarray) -> list:
        """``[images, labels]`` at ``indices``, transformed a batch at a time (what the DataLoader reads)."""
        return image_batch(self.images, self.labels, indices, self.transform)

    @classmethod
    def normalization(cls) -> Normalize:
        """The transform to float32 (1, 28, 28) standardised by this dataset's mean and std."""
        return Normalize(cls.mean, cls.std)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(split={'train' if self.train else 'test'}, n={len(self)}, root={self.root})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST, same format and shapes as :class:`MNIST`, from ``<root>/fashion-mnist/``."""

    folder = "fashion-mnist"
    mean, std = 0.2860, 0.3530
    md5 = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
