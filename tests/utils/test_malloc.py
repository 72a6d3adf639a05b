"""The allocator setting applied at import, and its opt-out."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tinygrad_cnn import utils

PROBE = ("import tinygrad_cnn.utils as u, unittest.mock as m\n"
         "with m.patch.object(u, 'tune_malloc', return_value=True) as t:\n"
         "    print(u.tune_malloc_at_import(), t.call_count)\n")


@pytest.mark.parametrize("value, applied", [("1", "True 1"), ("0", "False 0"), ("off", "False 0")])
def test_opt_out_by_environment(value: str, applied: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYGRAD_CNN_TUNE_MALLOC", value)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert out.stdout.split() == applied.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt exists on Linux only")
def test_tune_malloc_applies_on_glibc() -> None:
    assert utils.tune_malloc() is True
