"""The optimizers' arithmetic on flat arrays, in place (no temporaries the size of the model)."""
from __future__ import annotations

import math

import numpy as np


def adam_step(m: np.ndarray, v: np.ndarray, grad: np.ndarray, tmp: np.ndarray, t: int, group: dict,
               v_max: np.ndarray | None = None) -> np.ndarray:
    """Adam's arithmetic, shared by the per-parameter and the whole-group paths (so both give the
    same bits): update the moments ``m``, ``v`` (and AMSGrad's ``v_max``) in place with ``grad``,
    and return the step to subtract from the parameter, computed into ``tmp``. Shape: all alike.

    >>> m, v = np.zeros(1), np.zeros(1)
    >>> adam_step(m, v, np.ones(1), np.empty(1), 1, {"lr": 0.1, "betas": (0.9, 0.999), "eps": 0.0}).tolist()
    [0.1]
    """
    lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
    m *= b1
    np.multiply(grad, 1.0 - b1, out=tmp)
    m += tmp
    v *= b2
    np.multiply(grad, grad, out=tmp)
    tmp *= 1.0 - b2
    v += tmp
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)
        v = v_max
    step = np.sqrt(v, out=tmp)
    step /= math.sqrt(1.0 - b2 ** t)
    step += eps
    np.divide(m, step, out=step)
    step *= lr / (1.0 - b1 ** t)
    return step
