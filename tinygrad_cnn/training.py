"""Training and evaluation behind ``tinygrad-cnn train`` / ``evaluate`` (usable from code too):
the config and its checks, the epoch loop, schedules, checkpoints and resuming."""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from . import nn, optim
from .data import MNIST, DataLoader, FashionMNIST, Subset
from .nn import functional as F
from .serialization import LoadError, StateDictError, load, save, sweep_temporaries
from .modes import no_grad
from .seeding import get_rng, manual_seed

DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST}
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "rmsprop": optim.RMSprop}


@dataclass
class TrainConfig:
    """Everything a run depends on; stored in the checkpoint so ``--resume`` and ``evaluate`` rebuild it."""

    epochs: int = 3
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float = 2e-3
    schedule: str = "cosine"
    pool: str = "max"
    activation: str = "relu"
    dataset: str = "mnist"
    data_dir: str | None = None
    out: str = "runs/lenet5"
    seed: int = 0
    limit_train: int | None = None
    limit_test: int | None = None

    def validate(self) -> None:
        """Raise ValueError (one line, naming the option) for any value out of type or range."""
        checks: tuple[tuple[str, Any, int], ...] = (
            ("--epochs", self.epochs, 1), ("--batch-size", self.batch_size, 1), ("--seed", self.seed, 0),
            ("--limit-train", self.limit_train, 1), ("--limit-test", self.limit_test, 1))
        for arg, value, low in checks:
            if value is not None or not arg.startswith("--limit"):
                _check_int(arg, value, low)
        lr = self.lr
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"--lr must be a finite number > 0, got {self.lr!r}")
        choices_of: tuple[tuple[str, Any, Any], ...] = (
            ("--optimizer", self.optimizer, OPTIMIZERS), ("--dataset", self.dataset, DATASETS),
            ("--schedule", self.schedule, ("cosine", "step", "none")), ("--pool", self.pool, ("max", "avg")),
            ("activation", self.activation, ("relu", "tanh", "sigmoid")))
        for arg, value, choices in choices_of:
            if not isinstance(value, str) or value not in choices:
                raise ValueError(f"{arg} must be one of {', '.join(choices)}; got {value!r}")
        paths: tuple[tuple[str, Any], ...] = (("--data-dir", self.data_dir), ("--out", self.out))
        for arg, value in paths:
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{arg} must be a path, got {value!r}")


def _check_int(arg: str, value: Any, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{arg} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{arg} must be at least {low}, got {value}")


def load_data(cfg: TrainConfig, train: bool) -> Any:
    """The config's dataset split, normalised by its own statistics and cut to
    ``--limit-train``/``--limit-test`` when given."""
    cls = DATASETS[cfg.dataset]
    ds = cls(cfg.data_dir, train=train, transform=cls.normalization())
    limit = cfg.limit_train if train else cfg.limit_test
    return Subset(ds, range(min(limit, len(ds)))) if limit else ds


def build(cfg: TrainConfig, steps_per_epoch: int) -> tuple[nn.Module, optim.Optimizer, Any]:
    """Model, optimizer and lr schedule for a config: 'cosine' anneals to 0 over every batch of the
    run (stepped per batch), 'step' divides by 10 at half the epochs (stepped per epoch)."""
    model = nn.LeNet5(pool=cfg.pool, activation=cfg.activation)
    opt = OPTIMIZERS[cfg.optimizer](model.parameters(), lr=cfg.lr)
    sched: Any
    if cfg.schedule == "cosine":
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs * steps_per_epoch)
    elif cfg.schedule == "step":
        sched = optim.lr_scheduler.StepLR(opt, step_size=max(cfg.epochs // 2, 1), gamma=0.1)
    else:
        sched = None
    return model, opt, sched


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy (a fraction) of ``model`` over ``loader``, in eval mode."""
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, 0
    with no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits._data.argmax(1) == y._data).sum())
            n += len(y._data)
    model.train(was_training)
    return total_loss / max(n, 1), correct / max(n, 1)


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss; the run stopped before saving anything from it."""


def train_epoch(model: nn.Module, opt: optim.Optimizer, loader: DataLoader,
                on_step: Callable[[int, float, float, float], None] | None = None,
                batch_schedule: Any = None, epoch: int = 1,
                after_backward: Callable[[int], None] | None = None) -> tuple[float, float]:
    """One pass over ``loader``; ``on_step(images, loss, accuracy, seconds)`` after each batch, and
    ``batch_schedule.step()`` too when given; ``after_backward(batch)`` between backward and the
    optimizer step (gradients in place). Returns mean loss and accuracy over the epoch.
    A non-finite loss raises NonFiniteLossError (naming ``epoch`` and the batch) before the step."""
    model.train()
    total_loss, correct, n = 0.0, 0, 0
    start = time.perf_counter()
    for batch, (x, y) in enumerate(loader, 1):
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        value = loss.item()
        if not math.isfinite(value):
            raise NonFiniteLossError(f"training loss is {value} at epoch {epoch}, batch {batch}: stopped without "
                                     "saving it (lower --lr?)")
        opt.zero_grad()
        loss.backward()
        if after_backward is not None:
            after_backward(batch)
        opt.step()
        if batch_schedule is not None:
            batch_schedule.step()
        b = len(y._data)
        total_loss += value * b
        correct += int((logits._data.argmax(1) == y._data).sum())
        n += b
        if on_step is not None:
            on_step(b, total_loss / n, correct / n, time.perf_counter() - start)
    return total_loss / max(n, 1), correct / max(n, 1)


def save_checkpoint(path: Path, model: nn.Module, opt: optim.Optimizer, sched: Any, cfg: TrainConfig,
                    epoch: int, metrics: list) -> None:
    """Everything ``--resume`` needs: model, optimizer, schedule, config, metrics so far and the RNG."""
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
             "config": json.dumps(asdict(cfg)), "metrics": strict_json(metrics),
             "rng": json.dumps(rng_state())}
    if sched is not None:
        state["scheduler"] = {k: np.asarray(v) for k, v in sched.state_dict().items()}
    save(state, path)


def strict_json(obj: Any, **kwargs: Any) -> str:
    """JSON with NaN and infinities as null (JSON has no such numbers; ``json.dumps`` would write them)."""
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(obj), allow_nan=False, **kwargs)


def rng_state() -> dict:
    """The state of the global generator (init, dropout), saved in checkpoints."""
    return dict(get_rng().bit_generator.state)


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned, so a resumed run draws what an unbroken one would."""
    get_rng().bit_generator.state = state


_CHECKPOINT_KEYS = ("model", "optimizer", "epoch", "config", "metrics", "rng")


def load_checkpoint(path: str | os.PathLike) -> tuple[dict, TrainConfig]:
    """The saved state of a ``train`` checkpoint and the config it was trained with; LoadError
    (one line naming the file) for anything that is not one."""
    state = load(path)
    missing = [k for k in _CHECKPOINT_KEYS if k not in state]
    if missing and state and all(isinstance(k, str) and "." in k for k in state):
        raise LoadError(f"{path} holds a state_dict ({next(iter(state))}, ...), not a training checkpoint of "
                        "tinygrad-cnn train: evaluate it in Python (model = LeNet5(); "
                        "model.load_state_dict(tinygrad_cnn.load(path)); then run the test set through model)")
    if missing:
        raise LoadError(f"{path} is not a tinygrad-cnn training checkpoint (missing {', '.join(missing)})")
    try:
        raw = json.loads(str(state["config"]))
        if isinstance(raw, dict) and raw.get("extras") == {}:  # older checkpoints carry an empty, unused field
            del raw["extras"]
        known = {f.name for f in fields(TrainConfig)}
        if not isinstance(raw, dict) or set(raw) - known:
            raise ValueError(f"unknown config keys {sorted(set(raw) - known) if isinstance(raw, dict) else raw}")
        cfg = TrainConfig(**raw)
        cfg.validate()
        json.loads(str(state["metrics"]))
        json.loads(str(state["rng"]))
        int(state["epoch"])
    except (ValueError, TypeError) as e:
        raise LoadError(f"{path}: damaged training checkpoint ({e})") from None
    return state, cfg


def load_model(path: str | os.PathLike) -> tuple[nn.Module, TrainConfig]:
    """The trained LeNet-5 stored in a ``train`` checkpoint, and its config."""
    state, cfg = load_checkpoint(path)
    model = nn.LeNet5(pool=cfg.pool, activation=cfg.activation)
    _load_into(path, "model", model, state)
    return model, cfg


def _load_into(path: Any, key: str, obj: Any, state: dict) -> None:
    try:
        obj.load_state_dict(state[key])
    except (StateDictError, KeyError, TypeError, AttributeError) as e:
        raise LoadError(f"{path}: its {key} state does not fit ({e})") from None


def epoch_loader(dataset: Any, cfg: TrainConfig, epoch: int) -> DataLoader:
    """The shuffled training batches of one epoch, seeded by (seed, epoch): a resumed run sees the
    same batches as an unbroken one."""
    return DataLoader(dataset, cfg.batch_size, shuffle=True, seed=cfg.seed * 1000 + epoch)


# ----------------------------------------------------------------------------- a whole run
def _remove_empty(folder: Path, top: Path | None) -> None:
    """Remove ``folder`` and its parents up to ``top`` (the first one this run created), while empty."""
    if top is None:
        return
    for d in [folder, *folder.parents]:
        if not d.is_dir() or any(d.iterdir()):
            return
        d.rmdir()
        if d == top:
            return


def check_writable(folder: Path) -> None:
    """Create ``folder`` and write and remove a probe file in it, so a read-only ``--out`` fails
    before any work rather than at the first checkpoint."""
    probe = folder / f".probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise ValueError(f"--out {folder} is not a writable folder ({e.strerror or e})") from None


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """Inside, SIGTERM raises SystemExit(143) instead of killing the process outright, so that an
    interrupted save removes its temporary file (as SIGINT's KeyboardInterrupt does)."""
    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: signals stay as they are
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def resume_config(path: str | os.PathLike, epochs: int | None = None, out: str | None = None,
                  data_dir: str | None = None) -> tuple[dict, TrainConfig]:
    """A checkpoint's state and config for ``--resume``: the run continues in ``out`` if given,
    else in the folder the checkpoint sits in (never the folder recorded inside it)."""
    state, cfg = load_checkpoint(path)
    cfg.out = out if out is not None else str(Path(path).resolve().parent)
    if epochs is not None:
        cfg.epochs = epochs
    if data_dir is not None:
        cfg.data_dir = data_dir
    return state, cfg


def _restore(path: Any, state: dict, model: nn.Module, opt: optim.Optimizer, sched: Any) -> tuple[int, list]:
    """Load a checkpoint's model, optimizer, schedule and RNG; returns (next epoch, metrics so far)."""
    _load_into(path, "model", model, state)
    _load_into(path, "optimizer", opt, state)
    if sched is not None and "scheduler" in state:
        schedule_length = getattr(sched, "T_max", None)
        _load_into(path, "scheduler", sched, state)
        if schedule_length is not None:  # a resumed run may have been given more epochs
            sched.T_max = schedule_length
    set_rng_state(json.loads(str(state["rng"])))
    return int(state["epoch"]) + 1, json.loads(str(state["metrics"]))


def run(cfg: TrainConfig, resume: tuple[str, dict] | None = None, progress: bool = True,
        on_step: Callable[[int, int], None] | None = None, log: Callable[[str], None] = print) -> Path:
    """Train (or, with ``resume=(path, state)``, continue) a run: checks every option and that
    ``cfg.out`` is writable before any work, sweeps temporaries that killed saves left there, then
    trains epoch by epoch, saving ``model.npz`` and ``metrics.json`` after each, and writes
    ``curves.png``, ``grad_flow.png`` (per-layer gradient norms over this run's steps) and
    ``graph.svg`` at the end. ``on_step(epoch, batch)`` runs after every batch.
    Returns the output folder."""
    started = time.time()
    cfg.validate()
    out = Path(cfg.out)
    if resume is not None and int(resume[1]["epoch"]) >= cfg.epochs:
        log(f"nothing to do: {resume[0]} has finished its {cfg.epochs} epochs; pass --epochs N (more than "
            f"{cfg.epochs}) to train further")
        return out
    made = next((d for d in reversed([out, *out.parents]) if not d.exists()), None)  # the first folder to create
    check_writable(out)
    swept = sweep_temporaries(out, older_than=started)
    if swept:
        log(f"removed {len(swept)} temporary file(s) left by interrupted saves in {out}")
    try:
        return _train(cfg, out, resume, progress, on_step, log)
    except BaseException:
        _remove_empty(out, made)  # a run that fails before its first checkpoint leaves no empty --out behind
        raise


def _train(cfg: TrainConfig, out: Path, resume: tuple[str, dict] | None, progress: bool,
           on_step: Callable[[int, int], None] | None, log: Callable[[str], None]) -> Path:
    """:func:`run`'s work once ``out`` is ready: data, model, the epochs and the pictures."""
    manual_seed(cfg.seed)
    train_ds, test_ds = load_data(cfg, True), load_data(cfg, False)
    model, opt, sched = build(cfg, len(epoch_loader(train_ds, cfg, 1)))
    start_epoch, metrics = (1, []) if resume is None else _restore(resume[0], resume[1], model, opt, sched)
    if resume is not None:
        log(f"resuming {resume[0]} at epoch {start_epoch} of {cfg.epochs} -> {out}")
    test_loader = DataLoader(test_ds, 1000)
    log(f"training LeNet-5 on {cfg.dataset} ({len(train_ds)} train / {len(test_ds)} test images), "
        f"{cfg.optimizer} lr {cfg.lr}, batch {cfg.batch_size}, {cfg.epochs} epochs -> {out}")
    from .viz.flow import GradFlow

    flow = GradFlow(model)
    with terminate_as_exit():
        for epoch in range(start_epoch, cfg.epochs + 1):
            metrics.append(_run_epoch(cfg, epoch, model, opt, sched, train_ds, test_loader, progress, on_step,
                                      flow))
            m = metrics[-1]
            log(f"epoch {epoch}/{cfg.epochs}: train loss {m['train_loss']:.4f} acc {m['train_accuracy']:.2%} | "
                f"test loss {m['test_loss']:.4f} acc {m['test_accuracy']:.2%} | {m['seconds']:.1f}s "
                f"({m['images_per_second']:,.0f} img/s)")
            save_checkpoint(out / "model.npz", model, opt, sched, cfg, epoch, metrics)
            write_metrics(out / "metrics.json", cfg, metrics)
    from .plots import write_curves, write_grad_flow, write_graph

    for line in (write_curves(out / "curves.png", metrics), write_grad_flow(out / "grad_flow.png", flow),
                 write_graph(out / "graph.svg", model)):
        log(line)
    log(f"wrote {out / 'model.npz'}, {out / 'metrics.json'}")
    return out


def _run_epoch(cfg: TrainConfig, epoch: int, model: nn.Module, opt: optim.Optimizer, sched: Any, train_ds: Any,
               test_loader: DataLoader, progress: bool, on_step: Callable[[int, int], None] | None,
               flow: Any = None) -> dict:
    """One epoch and its evaluation; the cosine schedule steps per batch, the others per epoch."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(train_ds), desc=f"epoch {epoch}/{cfg.epochs}", unit="img", leave=False,
                   dynamic_ncols=True)
    batches = [0]

    def step(b: int, loss: float, acc: float, secs: float) -> None:
        batches[0] += 1
        if bar is not None:
            bar.update(b)
            bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.4f}", refresh=False)
        if on_step is not None:
            on_step(epoch, batches[0])

    lr = opt.param_groups[0]["lr"]  # at the start of the epoch
    t0 = time.perf_counter()
    try:
        loader = epoch_loader(train_ds, cfg, epoch)
        per_epoch = len(loader)
        record = None if flow is None else (lambda b: flow.record((epoch - 1) * per_epoch + b))
        train_loss, train_acc = train_epoch(model, opt, loader, step, sched if cfg.schedule == "cosine" else None,
                                            epoch, record)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    test_loss, test_acc = evaluate(model, test_loader)
    if sched is not None and cfg.schedule != "cosine":
        sched.step()
    return {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc, "test_loss": test_loss,
            "test_accuracy": test_acc, "seconds": round(seconds, 3), "lr": lr,
            "images_per_second": round(len(train_ds) / seconds, 1)}


def write_metrics(path: Path, cfg: TrainConfig, metrics: list) -> None:
    """``metrics.json``: the config and one record per epoch, strict JSON (null, never NaN)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(strict_json({"config": asdict(cfg), "epochs": metrics}, indent=2))
    os.replace(tmp, path)
