"""Datasets (MNIST, Fashion-MNIST, TensorDataset) and the DataLoader, as ``torch.utils.data``'s."""
from . import transforms
from .dataset import MNIST_MEAN, MNIST_STD, Dataset, Normalize, TensorDataset, normalize
from .idx import DatasetError, read_idx
from .loader import DataLoader, Subset, default_collate, random_split
from .mnist import MNIST, FashionMNIST, default_root

__all__ = ["MNIST", "FashionMNIST", "Dataset", "TensorDataset", "DataLoader", "Subset", "random_split",
           "default_collate", "Normalize", "normalize", "DatasetError", "read_idx", "default_root", "MNIST_MEAN",
           "MNIST_STD", "transforms"]
