"""``torch.utils.data``'s names: ``from tinygrad_cnn.utils.data import DataLoader, Dataset, TensorDataset``."""
from ..data import DataLoader, Dataset, Subset, TensorDataset, default_collate

__all__ = ["DataLoader", "Dataset", "TensorDataset", "Subset", "default_collate"]
