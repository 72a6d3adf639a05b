"""IDX parsing on files the test writes (good, truncated, corrupt, wrong magic), checksums, the
no-network message, the DataLoader, and the real MNIST when it is present."""
import gzip
import os
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor
from tinygrad_cnn.data import (MNIST, DataLoader, Dataset, DatasetError, FashionMNIST, TensorDataset, normalize,
                               read_idx)
from tinygrad_cnn.data.mnist import FILES

DATA = os.environ.get("TINYGRAD_CNN_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not (Path(DATA) / "mnist" / FILES["test_images"]).exists(),
                                 reason="real MNIST not found: set TINYGRAD_CNN_DATA to a folder holding mnist/")


def write_idx(path, array, magic=None, compress=True, cut=0):
    array = np.asarray(array, dtype=np.uint8)
    magic = magic if magic is not None else (2051 if array.ndim == 3 else 2049)
    raw = magic.to_bytes(4, "big")[:3] + bytes([array.ndim]) if magic in (2049, 2051) else magic.to_bytes(4, "big")
    raw += b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()
    raw = raw[:len(raw) - cut] if cut else raw
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def make_split(folder, n=10, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        write_idx(folder / FILES[f"{split}_images"], rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / FILES[f"{split}_labels"], rng.integers(0, 10, n))


def test_read_idx_round_trip(tmp_path):
    imgs = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    assert np.array_equal(read_idx(write_idx(tmp_path / "a.gz", imgs), 2051), imgs)
    assert read_idx(write_idx(tmp_path / "b", [1, 2, 3], compress=False), 2049).tolist() == [1, 2, 3]


def test_truncated_file_names_file_and_problem(tmp_path):
    p = write_idx(tmp_path / "imgs.gz", np.zeros((2, 3, 3)), cut=5)
    with pytest.raises(DatasetError, match=r"imgs.gz: truncated or oversized data: header says \(2, 3, 3\) = 18 bytes"):
        read_idx(p, 2051)


def test_corrupt_gzip(tmp_path):
    p = tmp_path / "bad.gz"
    good = gzip.compress(b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"abc")
    p.write_bytes(good[:-6])
    with pytest.raises(DatasetError, match="bad.gz: corrupt or truncated gzip data"):
        read_idx(p, 2049)


def test_wrong_magic(tmp_path):
    p = write_idx(tmp_path / "labels.gz", [1, 2])
    with pytest.raises(DatasetError, match="labels.gz: wrong magic number 2049 \\(expected 2051 for an IDX images"):
        read_idx(p, 2051)


def test_mnist_reads_written_files_without_checksum(tmp_path):
    make_split(tmp_path / "mnist", n=12)
    ds = MNIST(tmp_path, train=True, download=False, verify=False)
    assert ds.images.shape == (12, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int64 and len(ds) == 12
    image, label = ds[3]
    assert image.shape == (28, 28) and isinstance(label, int)


def test_checksum_mismatch_is_reported(tmp_path):
    make_split(tmp_path / "fashion-mnist")
    with pytest.raises(DatasetError, match="checksum mismatch"):
        FashionMNIST(tmp_path, download=False)


def test_missing_files_without_network_say_where_to_put_them(tmp_path):
    with pytest.raises(DatasetError) as e:
        MNIST(tmp_path, download=False)
    msg = str(e.value)
    assert str(tmp_path / "mnist") in msg and "TINYGRAD_CNN_DATA" in msg and "train-images-idx3-ubyte.gz" in msg
    assert "\n" not in msg


def test_root_defaults_to_environment(tmp_path, monkeypatch):
    make_split(tmp_path / "mnist", n=4)
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(tmp_path))
    assert len(MNIST(train=False, download=False, verify=False)) == 4


class Toy:
    """A dataset of the MNIST kind: uint8 images and int labels, with an optional transform."""

    def __init__(self, n, transform=None):
        self.images = np.arange(n * 4, dtype=np.uint8).reshape(n, 2, 2)
        self.labels = np.arange(n)
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        image = self.images[i]
        return (self.transform(image) if self.transform else image), int(self.labels[i])


def test_dataloader_batches_and_drop_last():
    batches = list(DataLoader(Toy(10), batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert batches[0][0].shape == (4, 2, 2) and batches[0][0].dtype == np.uint8  # nothing applied
    assert batches[0][1].dtype == np.int64
    assert len(DataLoader(Toy(10), batch_size=4, drop_last=True)) == 2
    assert [len(y) for _, y in DataLoader(Toy(10), batch_size=4, drop_last=True)] == [4, 4]


def test_dataloader_shuffles_with_seed():
    order = lambda seed: np.concatenate([y.numpy() for _, y in DataLoader(Toy(20), 6, shuffle=True, seed=seed)])  # noqa: E731
    a, b, c = order(1), order(1), order(2)
    assert sorted(a.tolist()) == list(range(20))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert DataLoader(Toy(3), 2).__iter__().__next__()[1].tolist() == [0, 1]  # no shuffle keeps order


def test_normalize_transform():
    t = normalize(0.5, 0.25)
    np.testing.assert_allclose(t.batch(np.array([[[0, 255]]], np.uint8)), [[[[-2.0, 2.0]]]], rtol=1e-6)
    np.testing.assert_allclose(t(np.array([[0, 255]], np.uint8)), [[[-2.0, 2.0]]], rtol=1e-6)  # one image
    x, _ = next(iter(DataLoader(Toy(2, transform=t), 2)))
    assert x.shape == (2, 1, 2, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x.numpy().ravel()[:2], (np.arange(2) / 255 - 0.5) / 0.25, rtol=1e-6)
    assert FashionMNIST.normalization().mean == 0.2860 and MNIST.normalization().std == 0.3081


def test_dataloader_leaves_a_users_own_data_alone():
    """A float feature dataset is neither rescaled nor given a channel axis (2-D stays 2-D)."""
    feats = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    ds = TensorDataset(Tensor(feats), tc.tensor(np.arange(10)))
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x.numpy(), feats[:4])

    class Plain(Dataset):  # item by item, through default_collate
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return feats[i], float(i), i

    x, f, i = next(iter(DataLoader(Plain(), batch_size=5)))
    np.testing.assert_array_equal(x.numpy(), feats[:5])
    assert f.dtype == np.float64 and i.dtype == np.int64 and i.tolist() == [0, 1, 2, 3, 4]  # as torch's collate
    three_d = TensorDataset(Tensor(np.zeros((4, 5, 6), np.float32)))
    assert next(iter(DataLoader(three_d, 2)))[0].shape == (2, 5, 6)  # no channel axis added


def test_utils_data_names():
    from tinygrad_cnn.utils.data import DataLoader as D, Dataset as DS, TensorDataset as TD
    assert D is DataLoader and DS is Dataset and TD is TensorDataset


def test_dataloader_bad_arguments():
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int, got 0"):
        DataLoader(Toy(2), batch_size=0)
    with pytest.raises(ValueError, match="TensorDataset: size mismatch"):
        TensorDataset(Tensor(np.zeros(3)), Tensor(np.zeros(4)))


@needs_mnist
def test_real_mnist_is_checked_and_parsed():
    test = MNIST(DATA, train=False)
    assert test.images.shape == (10000, 28, 28) and test.labels[:5].tolist() == [7, 2, 1, 0, 4]
    train = MNIST(DATA, train=True)
    assert len(train) == 60000 and np.bincount(train.labels).min() > 5000


@needs_mnist
def test_real_fashion_mnist():
    if not (Path(DATA) / "fashion-mnist" / FILES["test_labels"]).exists():
        pytest.skip("Fashion-MNIST not present under TINYGRAD_CNN_DATA")
    ds = FashionMNIST(DATA, train=False)
    assert len(ds) == 10000 and ds.classes[9] == "Ankle boot"


def test_torchvision_style_transforms():
    from tinygrad_cnn.data import transforms

    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    one = t(np.array([[0, 255]], np.uint8))
    assert isinstance(one, Tensor) and one.shape == (1, 1, 2) and one.dtype == np.float32
    np.testing.assert_allclose(one.numpy(), [[[-2.0, 2.0]]], rtol=1e-6)
    toy = Toy(5, transform=t)
    x, y = next(iter(DataLoader(toy, 5)))  # item by item through default_collate
    np.testing.assert_allclose(x.numpy(), t.batch(toy.images), rtol=1e-6)
    assert x.shape == (5, 1, 2, 2) and y.tolist() == [0, 1, 2, 3, 4]
    rgb = transforms.ToTensor()(np.zeros((4, 3, 3), np.uint8))
    assert rgb.shape == (3, 4, 3)  # (H, W, C) -> (C, H, W)
