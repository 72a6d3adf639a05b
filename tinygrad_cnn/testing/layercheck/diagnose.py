"""Why a configuration fails: what the call did to its arguments, what shape or pattern the wrong
output has, and which neighbouring configurations pass (one hyper-parameter changed at a time)."""
from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np

from .domain import Domain
from .patterns import PATTERNS, richer
from .runner import Outcome, Runner

_FLAG_SENTENCES = {
    ("ties", True): "fails only when a window has tied maxima: PyTorch gives a tie's whole gradient to the first "
                    "maximum in the window (row-major order), not to each of them",
    ("zeros", True): "fails only where x is exactly 0: PyTorch's relu gradient at 0 is 0",
    ("bias", True): "fails only with a bias (passes without one)",
    ("bias", False): "fails only without a bias: with bias off, b is None",
}


def diagnose(runner: Runner, dom: Domain, mapped: frozenset, outcome: Outcome) -> list[str]:
    """The sentences of a report's diagnosis, most specific first."""
    found = structural(outcome) + shapes(runner, dom, outcome) + patterns(runner, outcome)
    near = neighbours(runner, dom, mapped, outcome)
    found += near
    if not near and outcome.error is None:
        found.append("every neighbouring configuration fails as well: the mistake does not depend on a "
                     "hyper-parameter or a size; compare your formula with the reference's at this configuration")
    return [s if s.endswith(".") else s + "." for s in dict.fromkeys(found)]


def _template(sentence: str) -> str:
    return re.sub(r"\d+", "#", sentence)


def patterns(runner: Runner, outcome: Outcome) -> list[str]:
    """The layer's recognisable mistakes, kept only when a richer configuration (more images, larger
    sides, other values) shows the same one: on a 1x1 input many wrong outputs look alike."""
    pattern = PATTERNS.get(runner.setup.spec.like)
    if pattern is None or outcome.error is not None:
        return []
    found = pattern(runner, outcome)
    rich = runner.evaluate(richer(runner, outcome.config))
    if rich.ok or rich.error is not None:
        return found
    seen = pattern(runner, rich)
    if not found:  # a pattern that needs more than one element to show (a constant ratio, say)
        return seen
    confirmed = {_template(s) for s in seen}
    return [s for s in found if _template(s) in confirmed]


def structural(outcome: Outcome) -> list[str]:
    """Exceptions, inputs changed in place, outputs sharing memory with inputs."""
    found = []
    if outcome.error is not None:
        found.append(f"{outcome.where} raises {type(outcome.error).__name__} at this configuration; if your code "
                     "is not meant to support it, narrow domain= to what it supports")
    for call, name in outcome.modified:
        what = "dout" if name == "dout" else f"the input {name}"
        found.append(f"input arrays modified by the call: {call} changes {what} in place; copy it first or write "
                     "into a new array")
    for out, name in outcome.aliases:
        found.append(f"{out} aliases the input {name} (they share memory), so changing one changes the other; "
                     "return a new array")
    return found


def shapes(runner: Runner, dom: Domain, outcome: Outcome) -> list[str]:
    """An output empty at padding 0 (``[p:-p]``), or one whose shape ignores the input's size."""
    found = []
    cfg = outcome.config
    for d in outcome.differences:
        if d.kind != "shape":
            continue
        got = np.shape(d.got)
        pads = cfg.get("padding")
        if 0 in got and 0 not in d.expected.shape and pads in ((0, 0), 0, "valid"):
            found.append(f"{d.name} is empty (shape {got}) at padding 0: a slice such as [pad:-pad] is empty when "
                         "pad = 0; slice [pad:pad + H] instead")
        elif "sides" in cfg and dom.fixed_sides() is None:
            found += _hard_coded(runner, cfg, d.name, got, d.expected.shape)
    return found


def _hard_coded(runner: Runner, cfg: dict, name: str, got: tuple, expected: tuple) -> list[str]:
    """The output's shape stays the same at a larger input while the expected one changes."""
    bigger = dict(cfg, sides=(cfg["sides"][0] + 2, cfg["sides"][1] + 3))
    if not runner.setup.spec.valid(bigger):
        return []
    other = runner.evaluate(bigger)
    if any(x.name == name and x.kind == "shape" and np.shape(x.got) == got and x.expected.shape != expected
           for x in other.differences):
        return [f"{name} has shape {got} whatever the input's size (sides {cfg['sides']} and {bigger['sides']} "
                "tried): a size is hard-coded"]
    return []


def _fmt(v: Any, square: bool) -> str:
    if isinstance(v, tuple) and (square or v[0] == v[1]):
        return str(v[0])
    return str(v)


def _candidates(runner: Runner, dom: Domain, cfg: dict, key: str) -> list:
    """The domain's values of ``key`` as a configuration holds them: (h, w) pairs for window
    hyper-parameters, total channels when grouped."""
    values, current = dom.values(key), cfg[key]
    if key in runner.setup.spec.pair_hparams and isinstance(current, (tuple, str)):
        return [(v, v) if isinstance(v, int) else v for v in values]
    if key in ("in_channels", "out_channels") and cfg.get("groups", 1) > 1:
        return [v * cfg["groups"] for v in values]
    return list(values)


def _number(v: Any) -> int | None:
    v = v[0] if isinstance(v, tuple) else v
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _alternatives(runner: Runner, dom: Domain, cfg: dict, key: str) -> list:
    """Up to three other numbers of ``key`` inside the domain, nearest first, then its strings and flags."""
    current = cfg[key]
    cands = [c for c in _candidates(runner, dom, cfg, key) if c != current]
    numbers = [c for c in cands if _number(c) is not None]
    base = _number(current)
    if base is not None:
        numbers.sort(key=lambda c: abs(_number(c) - base))  # type: ignore[operator]
    return numbers[:3] + [c for c in cands if _number(c) is None]


def _variant(runner: Runner, dom: Domain, cfg: dict, key: str, value: Any) -> dict | None:
    new = dict(cfg)
    new[key] = value
    if key == "groups":
        g0 = cfg["groups"]
        new["in_channels"] = cfg["in_channels"] // g0 * value
        new["out_channels"] = cfg["out_channels"] // g0 * value
    if new.get("padding") == "same":
        if key == "stride":
            return None
        new["stride"] = (1, 1)
    spec = runner.setup.spec
    if not spec.valid(new) and spec.min_sides is not None and dom.fixed_sides() is None and dom.sides is None:
        mh, mw = spec.min_sides(new)
        new["sides"] = (max(mh, new["sides"][0]), max(mw, new["sides"][1]))
    return new if spec.valid(new) else None


def _passes(runner: Runner, dom: Domain, cfg: dict) -> bool:
    """Passes at this configuration on two draws of the arrays, and on a larger input when the domain
    allows one (a smallest input can have a single window, where stride and overlap cannot show)."""
    tries = [cfg, dict(cfg, seed=cfg["seed"] + 1)]
    if "sides" in cfg and dom.sides is None:
        tries.append(dict(cfg, seed=cfg["seed"] + 2, sides=(cfg["sides"][0] + 2, cfg["sides"][1] + 3)))
    return all(runner.evaluate(c).ok for c in tries)


def neighbours(runner: Runner, dom: Domain, mapped: frozenset, outcome: Outcome) -> list[str]:
    """'passes at stride 1, fails at stride 2', 'fails only when pad = 0', ... one key changed at a time."""
    found = []
    cfg, setup = outcome.config, runner.setup
    for key in setup.spec.vary:
        fixed = key in setup.spec.hparams and key not in mapped and key not in setup.spec.unmapped_domain
        if key not in cfg or key not in dom or fixed:
            continue
        passing: list = []
        failing: list = []
        for alt in _alternatives(runner, dom, cfg, key):
            new = _variant(runner, dom, cfg, key, alt)
            if new is not None:
                (passing if _passes(runner, dom, new) else failing).append(alt)
        if passing:
            found.append(_sentence(key, setup.mapping.get(key), cfg[key], passing, failing, setup.square))
    # the input's size last, and only when no hyper-parameter explains the failure (a small input
    # with a single window passes most mistakes)
    return found or _sides(runner, dom, cfg)


def _sides(runner: Runner, dom: Domain, cfg: dict) -> list[str]:
    """'passes at sides (2, 2), (2, 4), fails at sides (2, 3)': the input's size, one side at a time."""
    if "sides" not in cfg or dom.fixed_sides() is not None:
        return []
    h, w = cfg["sides"]
    listed = dom.side_values()
    if listed is not None:
        cands = [(a, w) for a in listed if a != h] + [(h, b) for b in listed if b != w]
    else:
        cands = [(h, w + 1), (h + 1, w), (h, w - 1), (h - 1, w), (h + 1, w + 1)]
    passing: list[tuple] = []
    failing: list[tuple] = []
    for sides in cands[:5]:
        new = dict(cfg, sides=sides)
        if min(sides) >= 1 and runner.setup.spec.valid(new):
            ok = all(runner.evaluate(dict(new, seed=new["seed"] + k)).ok for k in (0, 1))
            (passing if ok else failing).append(sides)
    if not passing:
        return []
    fails = ", ".join(str(s) for s in [cfg["sides"]] + sorted(failing))
    return [f"passes at sides {', '.join(map(str, sorted(passing)))}, fails at sides {fails}"]


def _sentence(key: str, theirs: Any, value: Any, passing: list, failing: list, square: bool) -> str:
    if isinstance(value, bool):
        return _FLAG_SENTENCES.get((key, value), f"fails only with {key}={value} (passes with {key}={not value})")
    name = theirs if isinstance(theirs, str) else key
    fmt: Callable[[Any], str] = lambda v: _fmt(v, square)
    if not failing and len(passing) >= 2:
        return f"fails only when {name} = {fmt(value)} (passes at {', '.join(map(fmt, passing))})"
    fails = ", ".join(fmt(v) for v in [value] + failing)
    return f"passes at {name} {', '.join(map(fmt, passing))}, fails at {name} {fails}"
