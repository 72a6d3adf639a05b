"""What check_layer knows of one layer: its arguments, their roles, the reference op and how to draw
configurations inside a user's domain (drawn directly, never filtered, so health checks pass)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from ...tensor import Tensor
from .domain import Domain, LayerCheckError

SEEDS = st.integers(0, 2 ** 16 - 1)


@dataclass(frozen=True)
class Arg:
    """One array argument of the user's function: its name, role (image, weight, bias, plain,
    labels, scalar) and the name of its gradient (None when it has none)."""

    name: str
    role: str
    grad: str | None


@dataclass
class Spec:
    """A layer check_layer knows: arguments in call order, the output's role, the reference's
    hyper-parameters with their defaults, the domain's defaults and the keys that diagnosis varies."""

    like: str
    args: tuple[Arg, ...]
    out_role: str
    hparams: dict
    domain_defaults: dict
    draw: Callable[..., dict]  # (draw, Domain, mapped hparams) -> config
    arrays: Callable[[dict, np.random.Generator], dict]
    reference: Callable[[dict, dict], Tensor]
    vary: tuple[str, ...]
    pair_hparams: frozenset = frozenset()
    unmapped_domain: frozenset = frozenset()  # domain keys allowed although hparams does not map them
    aliases: dict = field(default_factory=dict)
    min_sides: Callable[[dict], tuple[int, int]] | None = None

    @property
    def grads(self) -> tuple[str, ...]:
        return tuple(a.grad for a in self.args if a.grad)

    def strategy(self, dom: Domain, mapped: frozenset) -> st.SearchStrategy:
        @st.composite
        def configs(draw: Any) -> dict:
            cfg = self.draw(draw, dom, mapped)
            cfg["seed"] = draw(SEEDS)
            return cfg

        return configs()

    def valid(self, cfg: dict) -> bool:
        """Whether a configuration changed by diagnosis still makes a legal call of the reference."""
        if self.min_sides is None:
            return True
        mh, mw = self.min_sides(cfg)
        h, w = cfg["sides"]
        return h >= mh and w >= mw


def pick(draw: Any, values: tuple, what: str, low: int | None = None, high: int | None = None) -> Any:
    """One of ``values`` (ints) within [low, high]; a clear error when the domain leaves none."""
    allowed = [v for v in values if (low is None or v >= low) and (high is None or v <= high)]
    if not allowed:
        raise LayerCheckError(f"check_layer: the domain allows no {what} in [{low}, {high}] (allowed: "
                              f"{list(values)}); widen the domain")
    return draw(st.sampled_from(allowed))


def pair(draw: Any, dom: Domain, key: str, values: tuple | None = None, low: int | None = None,
         high: int | None = None) -> tuple[int, int]:
    """A hyper-parameter as (h, w): equal sides when the domain is square."""
    vals = dom.ints(key) if values is None else values
    a = pick(draw, vals, key, low, high)
    return (a, a) if dom.square else (a, pick(draw, vals, key, low, high))


def sides(draw: Any, dom: Domain, min_hw: tuple[int, int], extra: int = 4) -> tuple[int, int]:
    """The input's (H, W): the domain's fixed size or listed values, else a few above the smallest legal."""
    fixed = dom.fixed_sides()
    if fixed is not None:
        if fixed[0] < min_hw[0] or fixed[1] < min_hw[1]:
            raise LayerCheckError(f"check_layer: domain['sides'] = {fixed} is smaller than the window needs "
                                  f"({min_hw}); narrow kernel_size, dilation or padding")
        return fixed
    listed = dom.side_values()
    if listed is not None:
        return (pick(draw, listed, "side", low=min_hw[0]), pick(draw, listed, "side", low=min_hw[1]))
    return (min_hw[0] + draw(st.integers(0, extra)), min_hw[1] + draw(st.integers(0, extra)))


def normal(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return rng.standard_normal(shape)
