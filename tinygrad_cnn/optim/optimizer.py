"""The optimizer base class: parameter groups, state, ``zero_grad`` and state dicts."""
from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Iterable

import numpy as np

from ..serialization import StateDictError
from ..engine import zero_grad_of
from ..tensor import Tensor


class Optimizer:
    """Holds parameter groups (each a dict of ``params`` and hyper-parameters) and per-parameter
    state; subclasses define ``_update(p, grad, state, group)``, applied in place under no graph."""

    def __init__(self, params: Iterable[Any], defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or dicts, got a Tensor "
                            "(wrap it in a list: [w])")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.defaults = defaults
        self.param_groups: list[dict] = []
        for g in groups:
            group = {**defaults, **g, "params": list(g["params"])}
            for i, p in enumerate(group["params"]):
                if not isinstance(p, Tensor):
                    raise TypeError(f"{type(self).__name__}: params[{i}] must be a Tensor, got {type(p).__name__}")
                if not p.is_leaf:  # one that does not require grad is kept and skipped at step (no .grad)
                    raise ValueError(f"{type(self).__name__}: params[{i}] (shape {p.shape}) is not a leaf: "
                                     "can't optimize a non-leaf Tensor")
            self.param_groups.append(group)
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)  # keyed by the parameter, as PyTorch

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own hyper-parameters, the defaults for the rest), as
        PyTorch's, e.g. to train layers unfrozen later."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError("add_param_group: expected a dict with a 'params' entry")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        known = {id(p) for p in self._all_params()}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise ValueError(f"add_param_group: params[{i}] must be a leaf Tensor")
            if id(p) in known:
                raise ValueError(f"add_param_group: params[{i}] is already in another parameter group")
        self.param_groups.append({**self.defaults, **param_group, "params": params})

    def _check(self, name: str, value: float, low: float = 0.0) -> None:
        if not isinstance(value, (int, float)) or value < low:
            raise ValueError(f"{type(self).__name__}: {name} must be a number >= {low}, got {value!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                zero_grad_of(p, set_to_none)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place; each update bumps the parameter's
        version, so a backward through a graph recorded before the step raises instead of using
        the new values."""
        for group in self.param_groups:
            self._step_group(group)
            for p in group["params"]:
                if p.grad is not None:
                    p._version_counter[0] += 1

    def _step_group(self, group: dict) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            self._update(p, self._grad_of(p), self.state[p], group)

    @staticmethod
    def _grad_of(p: Tensor) -> np.ndarray:
        assert p.grad is not None
        grad = p.grad._data
        return grad.astype(p._data.dtype) if grad.dtype != p._data.dtype else grad

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def _all_params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict:
        """``{"state": {index: {name: array}}, "param_groups": [{hyper-parameters, "params": [index]}]}``."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {index[id(k)]: {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in s.items()}
                 for k, s in self.state.items() if id(k) in index and s}
        groups = []
        for g in self.param_groups:
            hyper = {k: v for k, v in g.items() if k != "params"}
            groups.append({**hyper, "params": [index[id(p)] for p in g["params"]]})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned; keys, group sizes and every state array's shape
        are checked here (StateDictError), so a wrong state never reaches ``step()``."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise StateDictError(f"{name}: expected a dict with 'state' and 'param_groups', got "
                                 f"{sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__}")
        groups = state_dict["param_groups"]
        self._check_groups(groups, name)
        params = self._all_params()
        restored_state: defaultdict[Tensor, dict] = defaultdict(dict)
        for i, s in state_dict.get("state", {}).items():
            if not 0 <= int(i) < len(params):
                raise StateDictError(f"{name}: state for parameter {i}, but there are only {len(params)}")
            restored_state[params[int(i)]] = _restored(s, params[int(i)], f"{name}: state", i)
        for mine, theirs in zip(self.param_groups, groups):
            for k, v in theirs.items():
                if k != "params":  # arrays here come from a saved file: back to numbers and tuples
                    if isinstance(v, np.ndarray):
                        v = v.item() if v.ndim == 0 else tuple(v.tolist())
                    mine[k] = v
        self.state = restored_state

    def _check_groups(self, groups: list, name: str) -> None:
        """The saved groups match this optimizer's: as many, as large, with no unknown hyper-parameter."""
        if len(groups) != len(self.param_groups):
            raise StateDictError(f"{name}: got {len(groups)} parameter groups, expected {len(self.param_groups)}")
        for mine, theirs in zip(self.param_groups, groups):
            if not isinstance(theirs, dict) or "params" not in theirs:
                raise StateDictError(f"{name}: a parameter group has no 'params'")
            if len(mine["params"]) != len(theirs["params"]):
                raise StateDictError(f"{name}: a group has {len(theirs['params'])} parameters, "
                                     f"expected {len(mine['params'])}")
            unknown = set(theirs) - set(mine) - {"params", "initial_lr"}
            if unknown:
                raise StateDictError(f"{name}: unexpected hyper-parameters {sorted(unknown)}")


def _restored(saved: dict, p: Tensor, what: str, i: Any) -> dict:
    """One parameter's saved state: arrays of the parameter's shape (copied, in its dtype), numbers."""
    restored = {}
    for k, v in saved.items():
        if isinstance(v, np.ndarray) and v.ndim > 0:
            if v.shape != p.shape:
                raise StateDictError(f"{what} {k!r} of parameter {i} has shape {v.shape}, the parameter {p.shape}")
            restored[k] = v.astype(p.dtype, copy=True)
        else:
            restored[k] = v.item() if isinstance(v, np.ndarray) else copy.deepcopy(v)
    return restored
