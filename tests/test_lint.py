"""The code base stays `ruff check` and `mypy` clean (each skipped when not installed)."""
import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_check_is_clean():
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(["ruff", "check", "--output-format", "concise", str(root)], capture_output=True,
                            text=True, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy not installed")
def test_mypy_is_clean():
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(["mypy", "--no-error-summary"], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
