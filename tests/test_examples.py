"""The examples run as a user would run them (the long training example is left to the CLI tests)."""
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_custom_op_example_passes_its_checks():
    r = subprocess.run([sys.executable, str(EXAMPLES / "custom_op.py")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "passes gradcheck and gradgradcheck" in r.stdout


def test_visualize_graph_example(tmp_path):
    r = subprocess.run([sys.executable, str(EXAMPLES / "visualize_graph.py")], capture_output=True, text=True,
                       timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    if shutil.which("dot"):
        assert (tmp_path / "small_model.svg").exists() and (tmp_path / "small_model.png").exists()
    else:
        assert "digraph" in r.stdout


def test_pytorch_mnist_example_runs_a_dry_run(tmp_path):
    """pytorch/examples' MNIST structure, imports aside: one training batch and the full test pass."""
    import os

    import pytest

    data = os.environ.get("TINYGRAD_CNN_DATA")
    if not data or not (Path(data) / "mnist").is_dir():
        pytest.skip("real MNIST not found: set TINYGRAD_CNN_DATA to a folder holding mnist/")
    r = subprocess.run([sys.executable, str(EXAMPLES / "pytorch_mnist.py"), "--epochs", "1", "--dry-run",
                        "--save-model"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Train Epoch: 1 [0/60000 (0%)]" in r.stdout and "Test set: Average loss:" in r.stdout
    assert "/10000" in r.stdout and (tmp_path / "mnist_cnn.pt").exists()


def test_higher_order_example(tmp_path):
    """Power iteration on hvp agrees with the full Hessian; the penalty step and the picture run."""
    import re

    r = subprocess.run([sys.executable, str(EXAMPLES / "higher_order.py"), "--batch", "8", "--iters", "30",
                        "--steps", "1", "--out-dir", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    power = float(re.search(r"power iterations on hvp: (\S+)", r.stdout).group(1))
    full = float(re.search(r"eigenvalue of largest magnitude: (\S+)", r.stdout).group(1))
    assert abs(power - full) <= 1e-3 * abs(full), r.stdout
    assert "2. gradient-penalty step 1: critic loss" in r.stdout
    assert "3. Jacobian of a 3x3 conv" in r.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (tmp_path / "conv_jacobian.png").stat().st_size > 1000


def test_check_my_conv_example_catches_every_mistake():
    r = subprocess.run([sys.executable, str(EXAMPLES / "check_my_conv.py")], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert out.count("OK, ") == 2 and out.count("FAILED") == 8
    for phrase in ("passes at stride 1, fails at stride 2", "[pad:-pad] is empty", "bias is added once per window",
                   "passes at dilation 1, fails at dilation 2", "dw aliases the input w",
                   "not their window's maximum", "tied maxima", "windows overlap"):
        assert phrase in out, phrase
    r = subprocess.run([sys.executable, str(EXAMPLES / "check_my_conv.py"), "--mistake", "stride"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.count("FAILED") == 1
