"""One configuration: the reference op and its VJP in float64, the user's forward and backward on the
same arrays in the user's layouts, and every way the two can differ."""
from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...tensor import Tensor, grad
from .domain import Domain, LayerCheckError
from .layouts import Layouts
from .spec import Spec


@dataclass(frozen=True)
class Setup:
    """Everything about one check_layer call that stays fixed while configurations are drawn."""

    spec: Spec
    forward: Callable | None
    backward: Callable | None
    backward_takes: str
    mapping: dict  # reference hyper-parameter -> the user's keyword (or a pair of keywords)
    hparams_style: str
    layouts: Layouts
    extra: dict
    dtype: np.dtype
    square: bool

    @property
    def rtol(self) -> float:
        return 1e-4 if self.dtype == np.float32 else 1e-6

    @property
    def atol(self) -> float:
        return 1e-5 if self.dtype == np.float32 else 1e-8


@dataclass
class Difference:
    """How one output of the user's code differs from the reference (arrays in the user's layout)."""

    name: str  # out, dx, dw, ...
    kind: str  # 'values', 'shape', 'missing', 'type'
    got: Any
    expected: np.ndarray
    index: tuple = ()

    def describe(self) -> str:
        if self.kind == "missing":
            return f"{self.name} is missing (got {self.got!r})"
        if self.kind == "type":
            return f"{self.name} is a {type(self.got).__name__}, expected an ndarray of shape {self.expected.shape}"
        if self.kind == "shape":
            return f"{self.name} has shape {tuple(np.shape(self.got))}, expected {self.expected.shape}"
        g, e = np.asarray(self.got, np.float64), self.expected
        err = float(np.nanmax(np.abs(g - e))) if g.size else 0.0
        at = f"[{', '.join(map(str, self.index))}]" if self.index else ""
        return f"{self.name}{at} is {g[self.index]:.6g}, expected {e[self.index]:.6g} (largest error {err:.3g})"


@dataclass
class Outcome:
    """What one configuration gave: the user's error (with where it was raised), the differences,
    inputs the calls modified, outputs that share memory with an input; and the arrays, for diagnosis."""

    config: dict
    error: BaseException | None = None
    where: str = ""
    differences: list[Difference] = field(default_factory=list)
    modified: list[tuple[str, str]] = field(default_factory=list)  # (call, input name)
    aliases: list[tuple[str, str]] = field(default_factory=list)  # (output, input name)
    user: dict = field(default_factory=dict)  # user results, in the reference layout where the shape allows
    ref: dict = field(default_factory=dict)  # reference results and inputs, reference layout

    @property
    def ok(self) -> bool:
        return self.error is None and not self.differences and not self.modified and not self.aliases

    @property
    def wrong(self) -> list[str]:
        return [d.name for d in self.differences]

    def error_line(self) -> str:
        if self.error is None:
            return ""
        here = __file__.rsplit("/", 1)[0]
        frames = [f for f in traceback.extract_tb(self.error.__traceback__) if not f.filename.startswith(here)]
        at = f" (at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
        return f"{self.where} raised {type(self.error).__name__}: {self.error}{at}"


def user_hparams(setup: Setup, cfg: dict) -> dict:
    """The user's keyword arguments for a configuration: ints when square, else (h, w) pairs."""
    out = dict(setup.extra)
    for ref, theirs in setup.mapping.items():
        v = cfg[ref] if ref in cfg else setup.spec.hparams[ref]  # a constant such as batch norm's eps
        if isinstance(v, tuple) and setup.square:
            v = v[0]
        if isinstance(theirs, tuple):  # two keywords, such as pool_height and pool_width
            out[theirs[0]], out[theirs[1]] = (v, v) if not isinstance(v, tuple) else v
        else:
            out[theirs] = v
    return out


def _call(setup: Setup, fn: Callable, arrays: list, hp: dict) -> Any:
    if setup.hparams_style == "dict":
        return fn(*arrays, hp) if hp else fn(*arrays)
    return fn(*arrays, **hp)


def _describe_call(name: str, arrays: list, names: list, hp: dict, style: str) -> str:
    parts = [f"{n} {tuple(a.shape)}" if isinstance(a, np.ndarray) else n if isinstance(a, str)
             else f"{n}={a:.4g}" if isinstance(a, float) else f"{n}={a!r}" for n, a in zip(names, arrays)]
    if hp:
        parts.append(repr(hp) if style == "dict" else ", ".join(f"{k}={v!r}" for k, v in hp.items()))
    return f"{name}({', '.join(parts)})"


def _reference(spec: Spec, cfg: dict, rng: np.random.Generator) -> dict:
    arrays = spec.arrays(cfg, rng)
    tensors = {a.name: None if arrays[a.name] is None else Tensor(arrays[a.name], requires_grad=a.grad is not None)
               for a in spec.args}
    out = spec.reference(cfg, tensors)
    dout = rng.standard_normal(out.shape)
    diff = [(a.grad, t) for a in spec.args if a.grad and (t := tensors[a.name]) is not None]
    grads = grad(out, [t for _, t in diff], Tensor(dout))
    ref = {"inputs": arrays, "out": out.numpy(), "dout": dout}
    ref.update({name: g.numpy() for (name, _), g in zip(diff, grads)})
    return ref


class Runner:
    """Runs the reference and the user's code on one configuration (``evaluate``)."""

    def __init__(self, setup: Setup, domain: Domain | None = None) -> None:
        self.setup = setup
        self.domain = domain  # for diagnosis: which other configurations the user's code supports

    def to_user(self, role: str, a: Any) -> Any:
        if a is None:
            return None
        if role == "labels":
            return np.array(a, dtype=np.int64)
        return self.setup.layouts.to_user(role, np.asarray(a, dtype=np.float64)).astype(self.setup.dtype)

    def evaluate(self, cfg: dict) -> Outcome:
        s = self.setup
        ref = _reference(s.spec, cfg, np.random.default_rng(cfg["seed"]))
        outcome = Outcome(dict(cfg), ref=ref)
        args = [self.to_user(a.role, ref["inputs"][a.name]) for a in s.spec.args]
        snapshots = [None if a is None else a.copy() for a in args]
        hp = user_hparams(s, cfg)
        names = [a.name for a in s.spec.args]
        cache = None
        if s.forward is not None:
            try:
                result = _call(s, s.forward, args, hp)
            except Exception as e:  # the user's code: any exception is a finding
                outcome.error, outcome.where = e, "forward"
                return outcome
            out, cache = _split(result, s.backward_takes == "cache" and s.backward is not None)
            self._compare(outcome, "out", s.spec.out_role, out, ref["out"])
            self._modified(outcome, "forward", names, args, snapshots)
            self._aliases(outcome, "out", out, names, args)
        if s.backward is not None:
            self._backward(outcome, cache, args, names, hp, snapshots)
        return outcome

    def describe(self, outcome: Outcome) -> str:
        """How the user's functions were called at an outcome's configuration, for the report."""
        s, ref, calls = self.setup, outcome.ref, []
        args = [self.to_user(a.role, ref["inputs"][a.name]) for a in s.spec.args]
        names, hp = [a.name for a in s.spec.args], user_hparams(s, outcome.config)
        if s.forward is not None:
            calls.append(_describe_call("forward", args, names, hp, s.hparams_style))
        if s.backward is not None:
            dout: Any = float(ref["dout"]) if s.spec.out_role == "scalar" else np.empty(np.shape(ref["dout"]))
            if s.backward_takes == "cache":
                calls.append(_describe_call("backward", [dout, "cache"], ["dout", "cache"], {}, s.hparams_style))
            else:
                calls.append(_describe_call("backward", [dout] + args, ["dout"] + names, hp, s.hparams_style))
        return "; ".join(calls)

    def _backward(self, outcome: Outcome, cache: Any, args: list, names: list, hp: dict, snapshots: list) -> None:
        s, ref = self.setup, outcome.ref
        dout = self.to_user(s.spec.out_role, ref["dout"])
        if s.spec.out_role == "scalar":
            dout = float(ref["dout"])
        dout_copy = np.copy(dout)
        assert s.backward is not None  # evaluate calls this only with a backward
        try:
            if s.backward_takes == "cache":
                result = s.backward(dout, cache)
            else:
                result = _call(s, s.backward, [dout] + args, hp)
        except Exception as e:
            outcome.error, outcome.where = e, "backward"
            return
        wanted = [a for a in s.spec.args if a.grad]
        got = list(result) if isinstance(result, (tuple, list)) else [result]
        if len(wanted) == 1 and len(got) != 1:
            got = [result]
        for k, a in enumerate(wanted):
            value = got[k] if k < len(got) else None
            if ref["inputs"][a.name] is None or a.grad is None:
                continue  # no bias: whatever db is, it is not checked
            self._compare(outcome, a.grad, a.role, value, ref[a.grad])
            self._aliases(outcome, a.grad, value, names + ["dout"], args + [dout])
        self._modified(outcome, "backward", names + ["dout"], args + [dout], snapshots + [dout_copy])

    def _compare(self, outcome: Outcome, name: str, role: str, got: Any, expected_ref: np.ndarray) -> None:
        s = self.setup
        expected = np.asarray(expected_ref) if role == "scalar" else self.to_user(role, expected_ref).astype(np.float64)
        if got is None:
            outcome.differences.append(Difference(name, "missing", got, expected))
            return
        if role == "scalar" and np.ndim(got) == 0 or isinstance(got, (float, np.floating)):
            got = np.asarray(got, np.float64)
        if not isinstance(got, np.ndarray):
            outcome.differences.append(Difference(name, "type", got, expected))
            return
        if got.shape != expected.shape:
            outcome.differences.append(Difference(name, "shape", got, expected))
            return
        g = got.astype(np.float64)
        scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
        close = np.isclose(g, expected, rtol=s.rtol, atol=s.atol * scale, equal_nan=True)
        outcome.user[name] = g if role in ("scalar", "labels") else s.layouts.from_user(role, g)
        if not close.all():
            index = tuple(int(i) for i in np.argwhere(~close)[0])
            outcome.differences.append(Difference(name, "values", g, expected, index))

    @staticmethod
    def _modified(outcome: Outcome, call: str, names: list, arrays: list, snapshots: list) -> None:
        for n, a, before in zip(names, arrays, snapshots):
            if isinstance(a, np.ndarray) and (a.shape != before.shape or not np.array_equal(a, before, equal_nan=True)):
                if (call, n) not in outcome.modified and not any(m[1] == n for m in outcome.modified):
                    outcome.modified.append((call, n))

    @staticmethod
    def _aliases(outcome: Outcome, name: str, value: Any, names: list, arrays: list) -> None:
        if not isinstance(value, np.ndarray):
            return
        for n, a in zip(names, arrays):
            if isinstance(a, np.ndarray) and np.shares_memory(value, a):
                outcome.aliases.append((name, n))


def _split(result: Any, needs_cache: bool) -> tuple[Any, Any]:
    """``out`` or ``(out, cache)`` from a forward."""
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result[0], result[1]
    if needs_cache:
        raise LayerCheckError("check_layer: backward_takes='cache' but forward returned one value; it must return "
                              f"(out, cache), got a {type(result).__name__}")
    return result, None
