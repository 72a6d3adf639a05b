"""The op families: each op's forward and backward side by side, registered in ``REGISTRY``."""
from .registry import REGISTRY, register

__all__ = ["REGISTRY", "register"]
