"""Shared pieces of the differential generators: PyTorch as an optional oracle, how many programs a
generator draws under each hypothesis profile, and conversion of results to comparable values."""
import os

import numpy as np
from hypothesis import settings

import tinygrad_cnn as tc

try:
    import torch
except ImportError:  # PyTorch is an optional oracle: the torch-free twins still guard each rule
    torch = None

# programs per generator: the bar is 2,000 under `thorough`; `ci` keeps the suite's time
_EXAMPLES = {"dev": 60, "ci": 250, "thorough": 2000}
PROGRAMS = settings(max_examples=_EXAMPLES.get(os.environ.get("HYPOTHESIS_PROFILE", "dev"), 60))


class Raised:
    """What a program gave when it raised: compared only as 'it raised'."""

    def __init__(self, error: BaseException):
        self.error = error

    def __repr__(self) -> str:
        return f"Raised({type(self.error).__name__}: {self.error})"


def run(fn, *args):
    """``fn(*args)``, or a :class:`Raised` holding what it raised."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001  (any error counts as 'raised' for both libraries)
        return Raised(e)


def dtype_name(t) -> str:
    """'float32', 'int64', 'bool', ... for a tinygrad_cnn or a torch tensor."""
    if isinstance(t, tc.Tensor):
        return str(t.dtype)
    return str(t.dtype).replace("torch.", "")


def values(t) -> np.ndarray:
    if isinstance(t, tc.Tensor):
        return t.numpy()
    return t.detach().numpy()


def assert_same(ours, theirs, program: str, rtol: float = 1e-5) -> None:
    """Both raised, or both gave tensors of one dtype, shape and values (NaN equal to NaN)."""
    if isinstance(ours, Raised) or isinstance(theirs, Raised):
        assert isinstance(ours, Raised) and isinstance(theirs, Raised), \
            f"{program}: tinygrad_cnn gave {ours!r}, PyTorch gave {theirs!r}"
        return
    assert dtype_name(ours) == dtype_name(theirs), \
        f"{program}: dtype {dtype_name(ours)}, PyTorch {dtype_name(theirs)}"
    a, b = values(ours), values(theirs)
    assert a.shape == b.shape, f"{program}: shape {a.shape}, PyTorch {b.shape}"
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6, equal_nan=True, err_msg=program)
    else:
        np.testing.assert_array_equal(a, b, err_msg=program)
