"""Learning-rate schedules, stepped once per epoch, as ``torch.optim.lr_scheduler``."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..serialization import StateDictError
from .optimizer import Optimizer
from ..errors import missing_attribute


class LRScheduler:
    """Sets each group's ``lr`` once per ``step()``. As PyTorch's, the schedules that can be chained
    (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR) compute the next lr from the group's
    current one, so two schedulers on one optimizer, or an lr set by hand between steps, compose
    as they do in PyTorch; the others set it from the initial lr."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for i, g in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                g.setdefault("initial_lr", g["lr"])
            elif "initial_lr" not in g:
                raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in param_groups[{i}] "
                               "when resuming an optimizer (as in PyTorch)")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The closed form: the lr at ``epoch`` of a group that started at ``base_lr``."""
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The lrs of the step now being taken (``last_epoch`` already advanced)."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs this scheduler set last (an lr changed by hand since is not reported, as in PyTorch)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned, as Python numbers (numpy scalars would change
        the arithmetic of the updates after a resume); keys and lengths are checked here."""
        own = self.state_dict()
        state = {**{k: own[k] for k in ("_step_count", "_last_lr") if k not in state}, **state}  # older checkpoints
        if set(state) != set(own):
            raise StateDictError(f"{type(self).__name__}.load_state_dict: missing keys "
                                 f"{sorted(set(own) - set(state))}, unexpected keys {sorted(set(state) - set(own))}")
        for k, v in state.items():
            v = v.tolist() if isinstance(v, (np.ndarray, np.generic)) else v
            if isinstance(own[k], list) and (not isinstance(v, list) or len(v) != len(own[k])):
                raise StateDictError(f"{type(self).__name__}.load_state_dict: {k} should hold {len(own[k])} values "
                                     f"(one per parameter group), got {v!r}")
            setattr(self, k, v)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    >>> from tinygrad_cnn import Tensor
    >>> from tinygrad_cnn.optim import SGD
    >>> opt = SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    >>> s = StepLR(opt, step_size=2, gamma=0.5)
    >>> [(s.step(), s.get_last_lr()[0])[1] for _ in range(4)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)

    def get_lr(self) -> list[float]:
        e = self.last_epoch
        decay = self.gamma if e and e % self.step_size == 0 else 1.0
        return [g["lr"] * decay if decay != 1.0 else g["lr"] for g in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Anneal from the initial lr to ``eta_min`` along half a cosine over ``T_max`` epochs.

    >>> from tinygrad_cnn import Tensor
    >>> from tinygrad_cnn.optim import SGD
    >>> opt = SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    >>> s = CosineAnnealingLR(opt, T_max=2)
    >>> s.step(); round(s.get_last_lr()[0], 6)
    0.5
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):  # noqa: N803
        if not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2

    def get_lr(self) -> list[float]:
        """PyTorch's recursive form: the ratio of consecutive cosine values applied to the current lr."""
        e, T, eta = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if e == 0:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and e > 0:
            return [self.lr_at(base, e) for base in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (base - eta) * (1 - math.cos(math.pi / T)) / 2 for g, base in zip(groups, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (g["lr"] - eta) + eta for g in groups]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each of the ``milestones`` epochs.

    >>> from tinygrad_cnn import Tensor
    >>> from tinygrad_cnn.optim import SGD
    >>> s = MultiStepLR(SGD([Tensor([1.0], requires_grad=True)], lr=1.0), milestones=[1, 3], gamma=0.5)
    >>> [(s.step(), s.get_last_lr()[0])[1] for _ in range(4)]
    [0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: list, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** sum(1 for m in self.milestones if m <= epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)  # a milestone listed twice decays twice, as in PyTorch
        return [g["lr"] * self.gamma ** hits if hits else g["lr"] for g in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    >>> from tinygrad_cnn import Tensor
    >>> from tinygrad_cnn.optim import SGD
    >>> s = ExponentialLR(SGD([Tensor([1.0], requires_grad=True)], lr=1.0), gamma=0.5)
    >>> s.step(); s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** epoch

    def get_lr(self) -> list[float]:
        return [g["lr"] * self.gamma if self.last_epoch else g["lr"] for g in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """The initial learning rate times ``lr_lambda(epoch)`` (one function, or one per group).

    >>> from tinygrad_cnn import Tensor
    >>> from tinygrad_cnn.optim import SGD
    >>> s = LambdaLR(SGD([Tensor([1.0], requires_grad=True)], lr=2.0), lambda e: 1 / (e + 1))
    >>> s.step(); s.get_last_lr()
    [1.0]
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1):
        groups = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise ValueError(f"LambdaLR: got {len(lambdas)} lr_lambdas for {groups} parameter groups")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.lr_lambdas[0](epoch)

    def state_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k not in ("optimizer", "lr_lambdas")}


class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` when ``step(metric)`` has not improved for more than
    ``patience`` epochs, as ``torch.optim.lr_scheduler.ReduceLROnPlateau``.

    >>> from tinygrad_cnn import Tensor
    >>> from tinygrad_cnn.optim import SGD
    >>> opt = SGD([Tensor([1.0], requires_grad=True)], lr=1.0)
    >>> s = ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for loss in [1.0, 1.0, 1.0, 1.0]: s.step(loss)
    >>> s.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: Any = 0.0,
                 eps: float = 1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs', "
                             f"got {mode!r} and {threshold_mode!r}")
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        self.optimizer = optimizer
        groups = len(optimizer.param_groups)
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        self.mode, self.factor, self.patience, self.threshold = mode, factor, patience, threshold
        self.threshold_mode, self.cooldown, self.eps = threshold_mode, cooldown, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0

    def _better(self, current: float) -> bool:
        if self.mode == "min":
            edge = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return current < edge
        edge = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return current > edge

    def step(self, metrics: Any) -> None:
        current = float(metrics)
        self.last_epoch += 1
        if self._better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for g, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new = max(g["lr"] * self.factor, min_lr)
                if g["lr"] - new > self.eps:
                    g["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict) -> None:
        own = self.state_dict()
        if set(state) != set(own):
            raise StateDictError(f"ReduceLROnPlateau.load_state_dict: missing keys {sorted(set(own) - set(state))}, "
                                 f"unexpected keys {sorted(set(state) - set(own))}")
        for k, v in state.items():
            setattr(self, k, v.tolist() if isinstance(v, (np.ndarray, np.generic)) else v)


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped once per batch: warm up from ``max_lr / div_factor`` to ``max_lr``
    over ``pct_start`` of the steps, then anneal to ``initial_lr / final_div_factor``, cycling
    momentum (or Adam's beta1) the other way, as ``torch.optim.lr_scheduler.OneCycleLR``.

    >>> from tinygrad_cnn import Tensor
    >>> from tinygrad_cnn.optim import SGD
    >>> opt = SGD([Tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    >>> s = OneCycleLR(opt, max_lr=1.0, total_steps=5, pct_start=0.4, anneal_strategy="linear", div_factor=10.0)
    >>> [round(s.get_last_lr()[0], 4)] + [(s.step(), round(s.get_last_lr()[0], 4))[1] for _ in range(4)]
    [0.1, 1.0, 0.6667, 0.3334, 0.0]
    """

    def __init__(self, optimizer: Optimizer, max_lr: Any, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: Any = 0.85, max_momentum: Any = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        total_steps = _one_cycle_steps(total_steps, epochs, steps_per_epoch)
        if not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.total_steps, self.anneal_strategy, self.cycle_momentum = total_steps, anneal_strategy, cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
        if cycle_momentum and not self.use_beta1 and "momentum" not in optimizer.defaults:
            raise ValueError("OneCycleLR: cycle_momentum=True, but the optimizer has neither momentum nor betas")
        steps = float(pct_start * total_steps)
        phases = [(steps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                  (2 * steps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                  (total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        self.phases = phases if three_phase else [
            phases[0], (total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        values = _per_group(len(optimizer.param_groups), max_lr=max_lr, base_momentum=base_momentum,
                            max_momentum=max_momentum)
        for i, g in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                g["initial_lr"] = values["max_lr"][i] / div_factor
                g["max_lr"] = values["max_lr"][i]
                g["min_lr"] = g["initial_lr"] / final_div_factor
            if cycle_momentum:
                if last_epoch == -1:
                    self._set_momentum(g, values["max_momentum"][i])
                g["max_momentum"], g["base_momentum"] = values["max_momentum"][i], values["base_momentum"][i]
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def step(self) -> None:
        self.last_epoch += 1
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {t} times; the specified number of total steps is "
                             f"{self.total_steps}")
        for g in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr0, lr1, m0, m1) in enumerate(self.phases):
                if t <= end or i == len(self.phases) - 1:
                    pct = (t - start) / (end - start)
                    g["lr"] = self._anneal(g[lr0], g[lr1], pct)
                    if self.cycle_momentum:
                        self._set_momentum(g, self._anneal(g[m0], g[m1], pct))
                    break
                start = end
        self._step_count += 1
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError("OneCycleLR sets each group's lr in step()")

    def state_dict(self) -> dict:
        state = super().state_dict()
        state["phases"] = [list(p) for p in self.phases]
        return state


__getattr__ = missing_attribute("tinygrad_cnn.optim.lr_scheduler", "torch.optim.lr_scheduler")


def _one_cycle_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    """OneCycleLR's length: ``total_steps``, or ``epochs * steps_per_epoch``."""
    if total_steps is None:
        if not (isinstance(epochs, int) and epochs > 0 and isinstance(steps_per_epoch, int) and steps_per_epoch > 0):
            raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch as positive ints, "
                             f"got total_steps=None, epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}")
        total_steps = epochs * steps_per_epoch
    if not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"OneCycleLR: total_steps must be a positive int, got {total_steps!r}")
    return total_steps


def _per_group(n: int, **given: Any) -> dict:
    """Each value as a list of one per parameter group (a single value repeats)."""
    out = {name: list(v) if isinstance(v, (list, tuple)) else [v] * n for name, v in given.items()}
    for name, values in out.items():
        if len(values) != n:
            raise ValueError(f"OneCycleLR: got {len(values)} values of {name} for {n} parameter groups")
    return out
