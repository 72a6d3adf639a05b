"""Training never loses work: kills and signals during saves, exact resume, non-finite losses,
damaged checkpoints, state-dict checks, and data folders that do not exist."""
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn import nn, optim
from tinygrad_cnn import training as T
from tinygrad_cnn.data import MNIST, DatasetError
from tinygrad_cnn.serialization import LoadError, StateDictError

DATA = os.environ.get("TINYGRAD_CNN_DATA")
needs_mnist = pytest.mark.skipif(not DATA or not (Path(DATA) / "mnist").is_dir(),
                                 reason="real MNIST not found: set TINYGRAD_CNN_DATA to a folder holding mnist/")

_SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import tinygrad_cnn as tc
    from tinygrad_cnn.training import terminate_as_exit
    path = sys.argv[1]
    big = np.zeros(4_000_000, np.float32)  # 16 MB: a save takes long enough to be hit mid-write
    print("ready", flush=True)
    with terminate_as_exit():
        i = 0
        while True:
            i += 1
            big[0] = i
            tc.save({"step": i, "w": big}, path)
""")


def _start_saver(path: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def _wait_for(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.01)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_saves_leaves_no_temporary(tmp_path, sig):
    path = tmp_path / "model.npz"
    p = _start_saver(path)
    _wait_for(path)  # a first save is complete; the next one is under way
    time.sleep(0.1)
    p.send_signal(sig)
    p.wait(timeout=30)
    assert p.returncode != 0
    assert [f.name for f in tmp_path.iterdir()] == ["model.npz"]
    assert int(tc.load(path)["step"]) >= 1


def test_kill_9_at_random_moments_always_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "model.npz"
    rng = random.Random(0)
    last = 0
    for _ in range(20):
        p = _start_saver(path)
        time.sleep(rng.uniform(0.05, 0.5))
        p.kill()
        p.wait()
        if path.exists():
            state = tc.load(path)  # never half a checkpoint
            assert int(state["step"]) >= 1 and state["w"][0] == state["step"]
            last += 1
    assert last > 0
    stale = list(tmp_path.glob(".tmp-*.npz"))
    assert tc.serialization.sweep_temporaries(tmp_path) == stale or sorted(stale) == sorted(
        tc.serialization.sweep_temporaries(tmp_path))
    assert [f.name for f in tmp_path.iterdir()] == ["model.npz"]


# ---- the run itself (real data)

def _cfg(out, **kw):
    args = dict(epochs=2, batch_size=32, lr=2e-3, schedule="cosine", data_dir=DATA, out=str(out), seed=1,
                limit_train=192, limit_test=64)
    args.update(kw)
    return T.TrainConfig(**args)


def _quiet(*_):
    pass


@needs_mnist
@pytest.mark.parametrize("schedule", ["cosine", "step"])
def test_resume_after_a_mid_epoch_interruption_is_bit_identical(tmp_path, schedule):
    T.run(_cfg(tmp_path / "straight", schedule=schedule), progress=False, log=_quiet)

    def interrupt(epoch, batch):
        if epoch == 2 and batch == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        T.run(_cfg(tmp_path / "broken", schedule=schedule), progress=False, on_step=interrupt, log=_quiet)
    ckpt = tmp_path / "broken" / "model.npz"
    assert int(tc.load(ckpt)["epoch"]) == 1
    state, cfg = T.resume_config(ckpt)
    T.run(cfg, (str(ckpt), state), progress=False, log=_quiet)
    a, b = tc.load(tmp_path / "straight" / "model.npz"), tc.load(ckpt)
    for k in a["model"]:
        assert np.array_equal(a["model"][k], b["model"][k]), k
    for i in a["optimizer"]["state"]:
        for k, v in a["optimizer"]["state"][i].items():
            assert np.array_equal(v, b["optimizer"]["state"][i][k]), (i, k)
    ma = json.loads((tmp_path / "straight" / "metrics.json").read_text())["epochs"]
    mb = json.loads((tmp_path / "broken" / "metrics.json").read_text())["epochs"]
    assert [m["train_loss"] for m in ma] == [m["train_loss"] for m in mb]


@needs_mnist
def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "run"
    models = []
    real_build = T.build

    def build(cfg, steps):
        made = real_build(cfg, steps)
        models.append(made[0])
        return made

    def poison(epoch, batch):
        if epoch == 2 and batch == 2:
            with tc.no_grad():
                models[0].fc1.weight.fill_(float("nan"))

    T.build = build
    try:
        with pytest.raises(T.NonFiniteLossError, match="at epoch 2, batch 3"):
            T.run(_cfg(out, epochs=3), progress=False, on_step=poison, log=_quiet)
    finally:
        T.build = real_build
    state = tc.load(out / "model.npz")
    assert int(state["epoch"]) == 1 and all(np.isfinite(v).all() for v in state["model"].values())
    metrics = json.loads((out / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert len(metrics["epochs"]) == 1


def test_metrics_json_is_strict():
    text = T.strict_json({"a": [float("nan"), 1.0, float("inf")], "b": float("-inf")})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {"a": [None, 1.0, None], "b": None}


def test_options_are_checked_before_any_work(tmp_path):
    for kw, message in [(dict(lr=float("inf")), "--lr must be a finite number"),
                        (dict(lr=float("nan")), "--lr must be a finite number"),
                        (dict(pool=["max"]), "--pool must be one of max, avg; got \\['max'\\]"),
                        (dict(epochs=1.5), "--epochs must be an integer"),
                        (dict(batch_size=0), "--batch-size must be at least 1")]:
        with pytest.raises(ValueError, match=message):
            T.run(_cfg(tmp_path / "x", data_dir=str(tmp_path / "no-data"), **kw), progress=False, log=_quiet)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="is not a writable folder"):
        T.run(_cfg(blocker, data_dir=str(tmp_path / "no-data")), progress=False, log=_quiet)
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_out_fails_before_training(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="is not a writable folder"):
            T.run(_cfg(ro, data_dir=str(tmp_path / "no-data")), progress=False, log=_quiet)
    finally:
        ro.chmod(0o755)


# ---- checkpoints that are not what they claim

def _checkpoint(tmp_path):
    model = nn.LeNet5()
    opt = optim.Adam(model.parameters())
    cfg = T.TrainConfig(out=str(tmp_path))
    T.save_checkpoint(tmp_path / "model.npz", model, opt, None, cfg, 1, [])
    return tmp_path / "model.npz"


def test_crafted_checkpoints_are_load_errors(tmp_path):
    path = _checkpoint(tmp_path)
    state = tc.load(path)
    for name, change in [("no-model", lambda s: s.pop("model")),
                         ("bad-config", lambda s: s.__setitem__("config", "{not json")),
                         ("list-pool", lambda s: s.__setitem__("config", json.dumps({"pool": ["max"]}))),
                         ("extra-key", lambda s: s.__setitem__("config", json.dumps({"colour": 1}))),
                         ("shapes", lambda s: s["model"].__setitem__("fc1.weight", np.zeros((3, 3), np.float32)))]:
        broken = {k: (dict(v) if isinstance(v, dict) else v) for k, v in state.items()}
        change(broken)
        tc.save(broken, tmp_path / f"{name}.npz")
        with pytest.raises(LoadError) as e:
            T.load_model(tmp_path / f"{name}.npz")
        assert str(tmp_path / f"{name}.npz") in str(e.value) and "\n" not in str(e.value)


def test_optimizer_and_scheduler_states_are_checked_at_load():
    p = tc.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p])
    p.grad = tc.tensor([0.1, 0.1])
    opt.step()
    state = opt.state_dict()
    state["state"][0]["exp_avg"] = np.zeros(3, np.float32)
    with pytest.raises(StateDictError, match="has shape \\(3,\\), the parameter \\(2,\\)"):
        optim.Adam([p]).load_state_dict(state)
    with pytest.raises(StateDictError, match="'state' and 'param_groups'"):
        optim.Adam([p]).load_state_dict({"state": {}})
    sched = optim.lr_scheduler.CosineAnnealingLR(optim.SGD([p], lr=0.1), T_max=5)
    with pytest.raises(StateDictError, match="missing keys"):
        sched.load_state_dict({"last_epoch": 1})


def test_scheduler_state_comes_back_as_python_numbers(tmp_path):
    p = tc.tensor([1.0], requires_grad=True)
    opt = optim.Adam([p], lr=2e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    sched.step()
    tc.save({"s": {k: np.asarray(v) for k, v in sched.state_dict().items()}}, tmp_path / "s.npz")
    other_opt = optim.Adam([p], lr=2e-3)
    other = optim.lr_scheduler.CosineAnnealingLR(other_opt, T_max=10)
    other_opt.load_state_dict(opt.state_dict())  # the schedule continues from the optimizer's lr, as PyTorch's
    other.load_state_dict(tc.load(tmp_path / "s.npz")["s"])
    assert type(other.base_lrs[0]) is float and type(other.last_epoch) is int
    other.step()
    sched.step()
    assert other.get_last_lr() == sched.get_last_lr() and type(other.get_last_lr()[0]) is float


# ---- data folders

def test_missing_data_dir_is_not_created(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    root = tmp_path / "typo" / "data"
    with pytest.raises(DatasetError, match="could not be downloaded"):
        MNIST(root)
    assert not (tmp_path / "typo").exists()
