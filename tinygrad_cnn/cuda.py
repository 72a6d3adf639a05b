"""``torch.cuda``'s questions, answered for a CPU-only library: no CUDA device is ever available."""
from __future__ import annotations


def is_available() -> bool:
    """Always False: tinygrad_cnn computes with numpy on the CPU.

    >>> is_available()
    False
    """
    return False


def device_count() -> int:
    """Always 0.

    >>> device_count()
    0
    """
    return 0
