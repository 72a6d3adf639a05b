"""Training and evaluation loops behind ``tinygrad-cnn train`` / ``evaluate`` (usable from code too)."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import nn, optim
from .data import MNIST, DataLoader, FashionMNIST, Subset
from .nn import functional as F
from .serialization import load, save
from .tensor import no_grad

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
    extras: dict = field(default_factory=dict)

    def validate(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"--lr must be positive, got {self.lr}")
        for arg, value, choices in (("--optimizer", self.optimizer, OPTIMIZERS), ("--dataset", self.dataset, DATASETS),
                                    ("--schedule", self.schedule, ("cosine", "step", "none")),
                                    ("--pool", self.pool, ("max", "avg"))):
            if value not in choices:
                raise ValueError(f"{arg} must be one of {', '.join(choices)}; got {value!r}")
        for arg, value in (("--limit-train", self.limit_train), ("--limit-test", self.limit_test)):
            if value is not None and value < 1:
                raise ValueError(f"{arg} must be at least 1, got {value}")


def load_data(cfg: TrainConfig, train: bool) -> Any:
    """The config's dataset split, normalised by its own statistics and cut to
    ``--limit-train``/``--limit-test`` when given."""
    cls = DATASETS[cfg.dataset]
    ds = cls(cfg.data_dir, train=train, transform=cls.normalization())
    limit = cfg.limit_train if train else cfg.limit_test
    return Subset(ds, limit) if limit else ds


def build(cfg: TrainConfig, steps_per_epoch: int) -> tuple[nn.Module, optim.Optimizer, Any]:
    """Model, optimizer and lr schedule for a config: 'cosine' anneals to 0 over every batch of the
    run (stepped per batch), 'step' divides by 10 at half the epochs (stepped per epoch)."""
    model = nn.LeNet5(pool=cfg.pool, activation=cfg.activation)
    opt = OPTIMIZERS[cfg.optimizer](model.parameters(), lr=cfg.lr)
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
            correct += int((logits.data.argmax(1) == y.data).sum())
            n += len(y.data)
    model.train(was_training)
    return total_loss / max(n, 1), correct / max(n, 1)


def train_epoch(model: nn.Module, opt: optim.Optimizer, loader: DataLoader,
                on_step: Callable[[int, float, float, float], None] | None = None,
                batch_schedule: Any = None) -> tuple[float, float]:
    """One pass over ``loader``; ``on_step(images, loss, accuracy, seconds)`` after each batch, and
    ``batch_schedule.step()`` too when given. Returns mean loss and accuracy over the epoch."""
    model.train()
    total_loss, correct, n = 0.0, 0, 0
    start = time.perf_counter()
    for x, y in loader:
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if batch_schedule is not None:
            batch_schedule.step()
        b = len(y.data)
        total_loss += loss.item() * b
        correct += int((logits.data.argmax(1) == y.data).sum())
        n += b
        if on_step is not None:
            on_step(b, total_loss / n, correct / n, time.perf_counter() - start)
    return total_loss / max(n, 1), correct / max(n, 1)


def save_checkpoint(path: Path, model: nn.Module, opt: optim.Optimizer, sched: Any, cfg: TrainConfig,
                    epoch: int, metrics: list) -> None:
    """Everything ``--resume`` needs: model, optimizer, schedule, config, metrics so far and the RNG."""
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
             "config": json.dumps(asdict(cfg)), "metrics": json.dumps(metrics),
             "rng": json.dumps(rng_state())}
    if sched is not None:
        state["scheduler"] = {k: np.asarray(v) for k, v in sched.state_dict().items()}
    save(state, path)


def rng_state() -> dict:
    """The state of the global generator (init, dropout), saved in checkpoints."""
    from . import factories

    return factories.get_rng().bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned, so a resumed run draws what an unbroken one would."""
    from . import factories

    factories.get_rng().bit_generator.state = state


def load_checkpoint(path: str | os.PathLike) -> tuple[dict, TrainConfig]:
    """The saved state of a ``train`` checkpoint and the config it was trained with."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    state = load(path)
    if "model" not in state or "config" not in state:
        raise ValueError(f"{path} is not a tinygrad-cnn training checkpoint (no model/config inside)")
    cfg = TrainConfig(**json.loads(str(state["config"])))
    return state, cfg


def load_model(path: str | os.PathLike) -> tuple[nn.Module, TrainConfig]:
    """The trained LeNet-5 stored in a ``train`` checkpoint, and its config."""
    state, cfg = load_checkpoint(path)
    model = nn.LeNet5(pool=cfg.pool, activation=cfg.activation)
    model.load_state_dict(state["model"])
    return model, cfg


def epoch_loader(dataset: Any, cfg: TrainConfig, epoch: int) -> DataLoader:
    """The shuffled training batches of one epoch, seeded by (seed, epoch): a resumed run sees the
    same batches as an unbroken one."""
    return DataLoader(dataset, cfg.batch_size, shuffle=True, seed=cfg.seed * 1000 + epoch)
