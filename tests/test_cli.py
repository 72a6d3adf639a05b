"""The command line, run in subprocesses as a user would."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DATA = os.environ.get("TINYGRAD_CNN_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not (Path(DATA) / "mnist").is_dir(),
                                 reason="real MNIST not found: set TINYGRAD_CNN_DATA to a folder holding mnist/")


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "tinygrad_cnn", *args], capture_output=True, text=True,
                          timeout=timeout)


@needs_mnist
def test_train_small_subset_writes_everything_then_evaluate_and_resume(tmp_path):
    out = tmp_path / "run"
    r = run("train", "--epochs", "1", "--limit-train", "2000", "--limit-test", "500", "--out", str(out),
            "--no-progress", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1" in r.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    (epoch,) = metrics["epochs"]
    assert epoch["epoch"] == 1 and 0.5 < epoch["test_accuracy"] <= 1.0 and 0 < epoch["train_loss"] < 2.5
    assert set(epoch) >= {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"}
    assert (out / "model.npz").exists() and (out / "curves.png").exists() and (out / "grad_flow.png").exists()
    assert (out / "graph.svg").exists() or (out / "graph.dot").exists()
    r = run("evaluate", str(out / "model.npz"))
    assert r.returncode == 0 and "accuracy" in r.stdout, r.stderr
    r = run("train", "--resume", str(out / "model.npz"), "--epochs", "2", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout and "epoch 2/2" in r.stdout
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 2


@needs_mnist
def test_seeded_runs_are_reproducible(tmp_path):
    results = []
    for name in ("a", "b"):
        r = run("train", "--epochs", "1", "--limit-train", "640", "--limit-test", "200", "--out",
                str(tmp_path / name), "--no-progress", "--seed", "5")
        assert r.returncode == 0, r.stderr
        m = json.loads((tmp_path / name / "metrics.json").read_text())["epochs"][0]
        results.append((m["train_loss"], m["test_accuracy"]))
    assert results[0] == results[1]


@pytest.mark.parametrize("args, message", [
    (["train", "--epochs", "0"], "--epochs must be at least 1"),
    (["train", "--optimizer", "lbfgs"], "--optimizer must be one of"),
    (["train", "--epochs", "two"], "invalid int value"),
    (["evaluate", "missing.npz"], "load: missing.npz does not exist"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_give_one_line_not_a_traceback(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_train_without_data_says_where_to_put_it(tmp_path):
    env = dict(os.environ, TINYGRAD_CNN_DATA=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--no-progress"], capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert str(tmp_path / "mnist") in r.stderr


def test_graph_command(tmp_path):
    r = run("graph", "--out", str(tmp_path / "lenet.dot"))
    assert r.returncode == 0, r.stderr
    assert "conv2d 5x5 s1 p2" in (tmp_path / "lenet.dot").read_text()
    if shutil.which("dot"):
        r = run("graph", "--out", str(tmp_path / "lenet.svg"))
        assert r.returncode == 0 and (tmp_path / "lenet.svg").read_text().lstrip().startswith("<?xml")


def test_gradcheck_command_prints_a_table():
    r = run("gradcheck", "--op", "conv2d", "--op", "relu", "--examples", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "conv2d" in r.stdout and "relu" in r.stdout and "2 ops ok, 0 failed" in r.stdout
    assert "| `relu` | 2 | 2 |" in r.stdout
    r = run("gradcheck", "--all", "--op", "max_pool2d", "--examples", "2")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| op | gradient | second order | third order | JVP |" in r.stdout
    assert "| `max_pool2d` | 2 | 2 | 2 | 2 |" in r.stdout
    r = run("gradcheck", "--op", "nope")
    assert r.returncode == 2 and "unknown op 'nope'" in r.stderr


def test_console_script_is_installed():
    exe = shutil.which("tinygrad-cnn")
    if exe is None:
        pytest.skip("package not installed with pip (no console script on PATH)")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "train" in r.stdout


@needs_mnist
def test_resumed_run_equals_unbroken_run(tmp_path):
    common = ["--limit-train", "640", "--limit-test", "200", "--no-progress", "--seed", "2", "--schedule", "none"]
    r = run("train", "--epochs", "2", "--out", str(tmp_path / "whole"), *common)
    assert r.returncode == 0, r.stderr
    r = run("train", "--epochs", "1", "--out", str(tmp_path / "split"), *common)
    assert r.returncode == 0, r.stderr
    r = run("train", "--resume", str(tmp_path / "split" / "model.npz"), "--epochs", "2", "--no-progress")
    assert r.returncode == 0, r.stderr
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())["epochs"]
    split = json.loads((tmp_path / "split" / "metrics.json").read_text())["epochs"]
    for a, b in zip(whole, split):
        assert (a["train_loss"], a["test_accuracy"]) == (b["train_loss"], b["test_accuracy"])


SMALL = ("--limit-train", "256", "--limit-test", "64", "--no-progress", "--batch-size", "64")


@needs_mnist
def test_resume_continues_in_the_checkpoints_own_folder(tmp_path):
    original, copy = tmp_path / "original", tmp_path / "copy"
    assert run("train", "--epochs", "1", "--out", str(original), *SMALL).returncode == 0
    before = {p.name: p.read_bytes() for p in original.iterdir()}
    copy.mkdir()
    shutil.copy(original / "model.npz", copy / "model.npz")
    r = run("train", "--resume", str(copy / "model.npz"), "--epochs", "2", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert {p.name: p.read_bytes() for p in original.iterdir()} == before  # the original run is untouched
    assert len(json.loads((copy / "metrics.json").read_text())["epochs"]) == 2
    assert f"-> {copy}" in r.stdout


@needs_mnist
def test_nan_loss_exits_non_zero_with_one_line_and_no_checkpoint(tmp_path):
    out = tmp_path / "run"
    r = run("train", "--epochs", "1", "--out", str(out), "--lr", "1e30", "--optimizer", "sgd", *SMALL)
    assert r.returncode == 3
    assert r.stderr.strip().count("\n") == 0 and "training loss is nan at epoch 1, batch" in r.stderr
    assert not (out / "model.npz").exists()


@needs_mnist
def test_train_sweeps_stale_temporaries(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    stale = out / ".tmp-killed.npz"
    stale.write_bytes(b"half a checkpoint")
    os.utime(stale, (1, 1))
    r = run("train", "--epochs", "1", "--out", str(out), *SMALL)
    assert r.returncode == 0 and not stale.exists() and "removed 1 temporary file" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["train", "--lr", "inf"], "--lr must be a finite number > 0, got inf"),
    (["train", "--lr", "nan"], "--lr must be a finite number > 0, got nan"),
    (["train", "--limit-train", "-3"], "--limit-train must be at least 1"),
])
def test_bad_options_exit_2_before_any_work(args, message, tmp_path):
    r = run(*args, "--out", str(tmp_path / "never"), "--data-dir", str(tmp_path / "no-data"))
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "never").exists() and not (tmp_path / "no-data").exists()


def test_out_that_cannot_be_written_fails_at_once(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run("train", "--out", str(blocker), "--data-dir", str(tmp_path / "no-data"))
    assert r.returncode == 2 and "is not a writable folder" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("content", [b"", b"hello, I am text\n", b"PK\x03\x04broken", b"\x93NUMPY\x01\x00"])
def test_damaged_checkpoints_give_one_line(tmp_path, content):
    ckpt = tmp_path / "model.npz"
    ckpt.write_bytes(content)
    for args in (["evaluate", str(ckpt)], ["train", "--resume", str(ckpt)]):
        r = run(*args)
        assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
        assert str(ckpt) in r.stderr


def test_directory_and_foreign_files_are_named(tmp_path):
    r = run("evaluate", str(tmp_path))
    assert r.returncode == 2 and "is a directory" in r.stderr
    import numpy as np
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    r = run("evaluate", str(tmp_path / "other.npz"))
    assert r.returncode == 2 and "is not a tinygrad-cnn training checkpoint" in r.stderr


LAYERS = '''
import numpy as np

def relu(x):
    return np.maximum(x, 0)

def relu_grad(dout, x):
    return dout * (x > 0)

def relu_grad_wrong(dout, x, unused=0):
    return dout * (x >= 0)

def broken(:
'''


def test_check_command_ok_failing_and_bad_input(tmp_path):
    (tmp_path / "layers.py").write_text(LAYERS.replace("def broken(:\n", ""))
    (tmp_path / "broken.py").write_text(LAYERS)
    layers = str(tmp_path / "layers.py")
    r = run("check", f"{layers}:relu", "--like", "relu", "--backward", "relu_grad", "--max-examples", "20")
    assert r.returncode == 0 and "check_layer('relu'): OK, out dx match the reference" in r.stdout, r.stderr
    r = run("check", f"{layers}:relu_grad_wrong", "--like", "relu", "--backward-only", "--max-examples", "30",
            "--extra", "unused=1")
    assert r.returncode == 1 and "fails only where x is exactly 0" in r.stdout, r.stdout + r.stderr
    example = Path(__file__).resolve().parents[1] / "examples" / "check_my_conv.py"
    r = run("check", f"{example}:max_pool_forward", "--like", "max_pool2d", "--backward", "max_pool_backward",
            "--backward-takes", "cache", "--hparam", "kernel_size=size", "--hparam", "stride=stride", "--domain",
            "square=true", "--domain", "stride=1..2", "--max-examples", "20")
    assert r.returncode == 0 and "OK, out dx match" in r.stdout, r.stdout + r.stderr
    for args, message in [((f"{layers}:nope", "--like", "relu"), "has no function 'nope'"),
                          ((f"{tmp_path / 'broken.py'}:relu", "--like", "relu"), "cannot load"),
                          ((f"{layers}:relu", "--like", "relu", "--domain", "stride"), "--domain takes KEY=VALUES"),
                          ((f"{layers}:relu", "--like", "conv9d"), "like must be one of")]:
        r = run("check", *args)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
