"""Process-level speed settings; ``utils.data`` holds the data-loading names."""
from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(threshold_bytes: int = 1 << 30) -> bool:
    """Keep large numpy temporaries inside glibc's heap instead of mmap-ing and unmapping them on
    every training step (which re-faults their pages each time). Affects the whole process:
    ``import tinygrad_cnn`` applies it unless the environment sets ``TINYGRAD_CNN_TUNE_MALLOC=0``.
    Returns whether it applied (glibc on Linux only).

    >>> isinstance(tune_malloc(), bool)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, min(threshold_bytes, 1 << 30))  # mallopt's value is a C int
        ok2 = libc.mallopt(_M_TRIM_THRESHOLD, threshold_bytes)
        return bool(ok and ok2)
    except (OSError, AttributeError):
        return False


def tune_malloc_at_import() -> bool:
    """What ``import tinygrad_cnn`` calls: :func:`tune_malloc`, unless ``TINYGRAD_CNN_TUNE_MALLOC=0``.

    >>> isinstance(tune_malloc_at_import(), bool)
    True
    """
    if os.environ.get("TINYGRAD_CNN_TUNE_MALLOC", "1").strip() in ("0", "false", "no", "off"):
        return False
    return tune_malloc()


from . import data  # noqa: E402,F401  (torch.utils.data's names, as tinygrad_cnn.utils.data)
