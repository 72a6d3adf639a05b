"""Datasets (MNIST, Fashion-MNIST) and the DataLoader."""
from .idx import DatasetError, read_idx
from .loader import MNIST_MEAN, MNIST_STD, DataLoader, Subset, normalize
from .mnist import MNIST, FashionMNIST, default_root

__all__ = ["MNIST", "FashionMNIST", "DataLoader", "Subset", "normalize", "DatasetError", "read_idx", "default_root",
           "MNIST_MEAN", "MNIST_STD"]
