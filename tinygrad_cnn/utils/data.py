"""``torch.utils.data``'s names: ``from tinygrad_cnn.utils.data import DataLoader, Dataset, TensorDataset``."""
from ..data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split

__all__ = ["DataLoader", "Dataset", "TensorDataset", "Subset", "random_split", "default_collate"]
