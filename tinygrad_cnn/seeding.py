"""The global random generator behind ``randn``, ``rand``, in-place fills, init and dropout."""
from __future__ import annotations

import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind ``randn``, ``rand``, parameter init and dropout.

    >>> manual_seed(0); a = get_rng().random(); manual_seed(0); a == get_rng().random()
    True
    """
    global _rng
    _rng = np.random.default_rng(seed)


def get_rng() -> np.random.Generator:
    """The generator that ``manual_seed`` seeds (used by init, dropout and the DataLoader)."""
    return _rng
