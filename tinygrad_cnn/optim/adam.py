"""Adam and AdamW with PyTorch's update rules (bias correction, optional AMSGrad)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from ..ops.kernels.adam import adam_step
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (L2 weight decay added to the gradient).

    >>> from tinygrad_cnn import Tensor
    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([0.5])
    >>> Adam([p], lr=0.1).step(); round(p.item(), 6)  # the first step moves by lr
    0.9
    """

    decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))
        self._check("lr", lr)
        self._check("eps", eps)
        self._check("weight_decay", weight_decay)
        if not all(0.0 <= b < 1.0 for b in betas) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), got {betas!r}")
        self._flat: dict[tuple, tuple] = {}  # whole-group buffers, see _flat_moments

    def _step_group(self, group: dict) -> None:
        if not self._step_flat(group):
            super()._step_group(group)

    def _step_flat(self, group: dict) -> bool:
        """One update of the whole group as a few operations over concatenated gradients and
        moments (numpy's per-call cost dominates a per-parameter loop on small models). The moments stay
        available per parameter as views into the group's buffers, so state dicts are unchanged,
        and every element goes through the same arithmetic as :meth:`_update`: the results are
        bit for bit the same. Returns False (use the per-parameter path) for AMSGrad, a parameter
        without a gradient, mixed dtypes or moments at different step counts."""
        params = group["params"]
        if group["amsgrad"] or len(params) < 2 or any(p.grad is None for p in params):
            return False
        dtype = params[0]._data.dtype
        if any(p._data.dtype != dtype for p in params):
            return False
        flat = self._flat_moments(params)
        if flat is None:
            return False
        m, v, t, grad, tmp = flat
        lr, wd = group["lr"], group["weight_decay"]
        # in place into the group's scratch buffers: fresh temporaries of this size would each be
        # mmap-ed and faulted in anew under glibc's default malloc settings
        np.concatenate([self._grad_of(p).ravel() for p in params], out=grad)
        if wd:
            if self.decoupled:
                for p in params:
                    p._data *= 1.0 - lr * wd
            else:
                np.concatenate([p._data.ravel() for p in params], out=tmp)
                tmp *= wd
                grad += tmp
        update = adam_step(m, v, grad, tmp, t, group)
        start = 0
        for p in params:
            self.state[p]["step"] = t
            p._data -= update[start:start + p._data.size].reshape(p._data.shape)
            start += p._data.size
        return True

    def _flat_moments(self, params: list) -> tuple | None:
        """The group's (exp_avg, exp_avg_sq, next step, scratch, scratch): flat moment buffers whose
        pieces are the parameters' state arrays (recognised by their ``base``), made, or remade after
        load_state_dict, when needed."""
        states = [self.state[p] for p in params]
        key = tuple(id(p) for p in params)
        hit = self._flat.get(key)  # (exp_avg, exp_avg_sq, scratch, scratch), flat
        if hit is not None and all(_is_piece(s.get("exp_avg"), hit[0]) and _is_piece(s.get("exp_avg_sq"), hit[1])
                                   for s in states):
            steps = {s["step"] for s in states}
            return (hit[0], hit[1], steps.pop() + 1, hit[2], hit[3]) if len(steps) == 1 else None
        start = _moments_to_join(params, states)
        if start is None:
            return None
        (m_parts, v_parts), step = start
        m, v = np.concatenate(m_parts), np.concatenate(v_parts)
        offset = 0
        for p, s in zip(params, states):
            end = offset + p._data.size
            s.update(step=step, exp_avg=m[offset:end].reshape(p._data.shape),
                     exp_avg_sq=v[offset:end].reshape(p._data.shape))
            offset = end
        scratch = np.empty_like(m), np.empty_like(m)
        self._flat[key] = (m, v) + scratch
        return (m, v, step + 1) + scratch

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        if wd:
            if self.decoupled:
                p._data *= 1.0 - lr * wd
            else:
                grad = grad + wd * p._data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p._data)
            state["exp_avg_sq"] = np.zeros_like(p._data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p._data)
        state["step"] += 1
        t = state["step"]
        update = adam_step(state["exp_avg"], state["exp_avg_sq"], grad, np.empty_like(grad), t, group,
                            state.get("max_exp_avg_sq"))
        p._data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01), as ``torch.optim.AdamW``.

    >>> from tinygrad_cnn import Tensor
    >>> p = Tensor([1.0], requires_grad=True); p.grad = Tensor([0.0])
    >>> AdamW([p], lr=0.1, weight_decay=0.5).step(); round(p.item(), 6)
    0.95
    """

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


def _is_piece(a: Any, flat: np.ndarray) -> bool:
    """Whether a parameter's moment array is still a piece of the group's flat buffer."""
    return isinstance(a, np.ndarray) and a.base is flat


def _moments_to_join(params: list, states: list) -> tuple | None:
    """((exp_avg pieces, exp_avg_sq pieces), step) to concatenate: zeros for a fresh group, the
    saved moments when every parameter has them at one step; None otherwise (per-parameter path)."""
    if all(not s for s in states):
        zeros = [[np.zeros(p._data.size, p._data.dtype) for p in params] for _ in range(2)]
        return (zeros[0], zeros[1]), 0
    if all(s.keys() >= {"step", "exp_avg", "exp_avg_sq"} for s in states) and len({s["step"] for s in states}) == 1:
        return ([s["exp_avg"].ravel() for s in states], [s["exp_avg_sq"].ravel() for s in states]), states[0]["step"]
    return None
