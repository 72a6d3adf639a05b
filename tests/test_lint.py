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


def test_no_function_in_the_package_is_over_60_lines():
    """Complexity is ruff's C901 (at most 15, pyproject.toml); length is checked here."""
    import ast

    root = Path(__file__).resolve().parents[1] / "tinygrad_cnn"
    long = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} "
                            f"({node.end_lineno - node.lineno + 1} lines)")
    assert not long, "functions over 60 lines: " + ", ".join(long)
