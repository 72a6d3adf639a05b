"""Neural-network building blocks: ``functional`` and (PyTorch-style) modules."""
from . import functional

__all__ = ["functional"]
