"""What a newcomer meets on the command line: resuming, help, one-line refusals, no litter."""
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import training as T

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "tinygrad_cnn", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env=env)


def one_line_error(r, message):
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def checkpoint(folder: Path, epochs: int = 1, done: int = 1) -> Path:
    """A training checkpoint made without data: a fresh LeNet-5 saved as if after ``done`` epochs."""
    cfg = T.TrainConfig(epochs=epochs, out=str(folder), optimizer="adam")
    model, opt, sched = T.build(cfg, 10)
    metrics = [{"epoch": e, "train_loss": 1.0, "train_accuracy": 0.5, "test_loss": 1.0, "test_accuracy": 0.5,
                "seconds": 1.0, "images_per_second": 1.0} for e in range(1, done + 1)]
    folder.mkdir(parents=True, exist_ok=True)
    T.save_checkpoint(folder / "model.npz", model, opt, sched, cfg, done, metrics)
    return folder / "model.npz"


def test_resume_refuses_options_that_conflict_with_the_checkpoint(tmp_path):
    ckpt = checkpoint(tmp_path / "run", epochs=2, done=1)
    one_line_error(run("train", "--resume", str(ckpt), "--optimizer", "sgd"),
                   "--optimizer sgd conflicts with the checkpoint's adam")
    one_line_error(run("train", "--resume", str(ckpt), "--lr", "0.5"), "--lr 0.5 conflicts")


def test_resuming_a_finished_run_has_nothing_to_do_and_writes_nothing(tmp_path):
    ckpt = checkpoint(tmp_path / "run", epochs=1, done=1)
    before = {p.name: p.stat().st_mtime_ns for p in ckpt.parent.iterdir()}
    r = run("train", "--resume", str(ckpt), "--optimizer", "adam", "--no-progress")  # the same option is fine
    assert r.returncode == 0 and "nothing to do" in r.stdout and "--epochs" in r.stdout, r.stdout + r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in ckpt.parent.iterdir()} == before


def test_help_shows_defaults_and_choices_and_version_exists():
    r = run("train", "--help")
    assert r.returncode == 0
    for shown in ("{adam,adamw,sgd,rmsprop}", "(default adam)", "{cosine,step,none}", "(default 64)",
                  "(default 2e-3)", "{mnist,fashion-mnist}"):
        assert shown in r.stdout, shown
    assert "(default 5)" in run("gradcheck", "--help").stdout and "(default 2)" in run("graph", "--help").stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"tinygrad-cnn {tc.__version__}"


@pytest.mark.parametrize("args, message", [
    (["gradcheck", "--examples", "0"], "--examples must be at least 1, got 0"),
    (["graph", "--out", "x.txt"], "--out must end in .svg, .png, .pdf or .dot, got x.txt"),
    (["graph", "--backward-steps", "x.svg"], "give a .html name, got x.svg"),
])
def test_bad_outputs_and_counts_fail_with_one_line(args, message, tmp_path):
    one_line_error(run(*args, cwd=tmp_path), message)
    assert not list(tmp_path.iterdir())


def test_a_run_that_fails_on_its_data_leaves_no_empty_out(tmp_path):
    env = dict(os.environ, TINYGRAD_CNN_DATA=str(tmp_path / "no-data"))
    r = run("train", "--no-progress", "--out", str(tmp_path / "new" / "run"), env=env)
    assert r.returncode == 2 and "mnist" in r.stderr
    assert not (tmp_path / "new").exists()
    r = run("train", "--no-progress", cwd=tmp_path, env=env)  # the default --out, runs/lenet5
    assert r.returncode == 2 and not (tmp_path / "runs").exists()


def test_a_run_that_fails_at_its_first_step_leaves_no_empty_out(tmp_path):
    """The same once the data has loaded: here the first kernel call finds a bad TINYGRAD_CNN_KERNELS."""
    data = os.environ.get("TINYGRAD_CNN_DATA")
    if not data or not (Path(data) / "mnist").is_dir():
        pytest.skip("needs the MNIST files in $TINYGRAD_CNN_DATA/mnist")
    env = dict(os.environ, TINYGRAD_CNN_KERNELS="fast")
    r = run("train", "--no-progress", "--limit-train", "64", "--limit-test", "64",
            "--out", str(tmp_path / "new" / "run"), env=env)
    one_line_error(r, "TINYGRAD_CNN_KERNELS must be 'numpy', 'numba' or 'auto', got 'fast'")
    assert not (tmp_path / "new").exists()


def test_evaluate_on_a_bare_state_dict_says_how_to_evaluate_it(tmp_path):
    tc.save(tc.nn.LeNet5().state_dict(), tmp_path / "weights.npz")
    one_line_error(run("evaluate", str(tmp_path / "weights.npz")), "holds a state_dict (")
    assert "model.load_state_dict(tinygrad_cnn.load(path))" in run("evaluate", str(tmp_path / "weights.npz")).stderr


def test_the_cli_and_the_suite_leave_no_hypothesis_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}  # as a user runs it
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    work = tmp_path / "work"
    work.mkdir()
    assert run("gradcheck", "--op", "relu", "--examples", "2", cwd=work, env=env).returncode == 0
    layers = work / "layers.py"
    layers.write_text("import numpy as np\n\ndef relu(x):\n    return np.maximum(x, 0)\n")
    assert run("check", f"{layers}:relu", "--like", "relu", "--max-examples", "5", cwd=work, env=env).returncode == 0
    assert sorted(p.name for p in work.iterdir()) == ["layers.py"]
    from hypothesis import settings

    assert settings.default.database is None  # tests/conftest.py's profiles


def test_printed_tensors_align_their_rows_as_torch():
    assert repr(tc.tensor([[1.5, -20.25], [100.0, 2.0]])) == ("tensor([[  1.5 , -20.25],\n"
                                                             "        [100.  ,   2.  ]])")
    assert repr(tc.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"  # int64: no dtype, as torch
    assert repr(tc.tensor([1, 2], dtype="int32")) == "tensor([1, 2], dtype=int32)"


def test_the_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
