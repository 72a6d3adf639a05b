"""Check your own layer: property-test a hand-written numpy forward/backward against tinygrad_cnn.

>>> import numpy as np
>>> def relu_forward(x):
...     return np.maximum(x, 0)
>>> def relu_backward(dout, x):
...     return dout * (x >= 0)          # the gradient at exactly 0 should be 0
>>> report = check_layer("relu", relu_forward, relu_backward, max_examples=30)
>>> report.ok, report.wrong
(False, ['dx'])
>>> print(report.sentences[0])
fails only where x is exactly 0: PyTorch's relu gradient at 0 is 0.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from .domain import Domain, LayerCheckError
from .image_specs import AVG_POOL2D, CONV2D, MAX_POOL2D, PAD
from .layouts import Layouts
from .other_specs import (BINARY_CROSS_ENTROPY, CROSS_ENTROPY, LINEAR, MSE_LOSS, RELU, SIGMOID, SOFTMAX, TANH,
                          batch_norm_spec)
from .report import LayerMismatch, LayerReport
from .runner import Outcome, Runner, Setup
from .spec import Spec

__all__ = ["check_layer", "assert_layer", "LayerReport", "LayerMismatch", "LayerCheckError", "LAYERS"]

_SPECS: dict[str, Spec] = {s.like: s for s in (CONV2D, MAX_POOL2D, AVG_POOL2D, PAD, LINEAR, RELU, SIGMOID, TANH,
                                                 SOFTMAX, MSE_LOSS, BINARY_CROSS_ENTROPY, CROSS_ENTROPY)}
LAYERS = tuple(_SPECS) + ("batch_norm",)
_IMAGE = ("conv2d", "max_pool2d", "avg_pool2d", "pad")


class _Failed(Exception):
    """The user's layer failed on the configuration hypothesis drew (carried out of @given)."""


def _spec(like: str, layout: str | None) -> Spec:
    if like == "batch_norm":
        return batch_norm_spec(images=layout is not None)
    if like not in _SPECS:
        raise LayerCheckError(f"check_layer: like must be one of {', '.join(LAYERS)}; got {like!r}")
    if layout is not None and like not in _IMAGE:
        raise LayerCheckError(f"check_layer: layout= applies to image layers ({', '.join(_IMAGE)}, batch_norm); "
                              f"{like} takes (batch, features) arrays")
    return _SPECS[like]


def _mapping(spec: Spec, hparams: dict | None) -> dict:
    mapping = dict(hparams or {})
    for ref, theirs in mapping.items():
        if ref not in spec.hparams:
            known = ", ".join(spec.hparams) or "none"
            raise LayerCheckError(f"check_layer: {spec.like} has no hyper-parameter {ref!r} (it has: {known}); "
                                  "hparams maps the reference's names to your keywords")
        ok = isinstance(theirs, str) or (isinstance(theirs, tuple) and len(theirs) == 2
                                         and all(isinstance(t, str) for t in theirs) and ref in spec.pair_hparams)
        if not ok:
            raise LayerCheckError(f"check_layer: hparams[{ref!r}] must be your keyword (a str) or, for an (h, w) "
                                  f"hyper-parameter, a pair of keywords; got {theirs!r}")
    return mapping


def _domain(spec: Spec, domain: dict | None, mapped: frozenset) -> Domain:
    user = dict(domain or {})
    for key in user:
        if key in spec.hparams and key not in mapped and key not in spec.unmapped_domain:
            raise LayerCheckError(f"check_layer: domain[{key!r}] is given but hparams does not map {key!r} to your "
                                  f"keyword; add hparams={{{key!r}: 'your_name'}}")
    for key in ("kernel_size", "padding"):
        if key in spec.unmapped_domain and spec.hparams.get(key, 0) is None and key not in mapped and key not in user:
            raise LayerCheckError(f"check_layer: {spec.like} needs a {key}: map it to your keyword (hparams="
                                  f"{{{key!r}: 'k'}}) or give the one your function uses (domain={{{key!r}: 2}})")
    if spec.like == "pad" and "padding" not in mapped and "padding" not in user:
        raise LayerCheckError("check_layer: pad needs the padding: hparams={'padding': 'your_name'} or "
                              "domain={'padding': p}")
    return Domain(user, spec.domain_defaults, spec.aliases)


def _check_functions(forward: Callable | None, backward: Callable | None, backward_takes: str) -> None:
    if forward is None and backward is None:
        raise LayerCheckError("check_layer: give forward=, backward= or both")
    for name, fn in (("forward", forward), ("backward", backward)):
        if fn is not None and not callable(fn):
            raise LayerCheckError(f"check_layer: {name} must be a function, got {type(fn).__name__}")
    if backward_takes not in ("inputs", "cache"):
        raise LayerCheckError(f"check_layer: backward_takes must be 'inputs' or 'cache', got {backward_takes!r}")
    if backward_takes == "cache" and (forward is None or backward is None):
        raise LayerCheckError("check_layer: backward_takes='cache' needs forward (it makes the cache) and backward")


def _setup(like: str, forward: Callable | None, backward: Callable | None, backward_takes: str, hparams: dict | None,
           hparams_style: str, layout: str | None, weight_layout: str | None, bias_layout: str, extra: dict | None,
           dtype: Any, square: bool) -> Setup:
    spec = _spec(like, layout)
    _check_functions(forward, backward, backward_takes)
    if hparams_style not in ("keywords", "dict"):
        raise LayerCheckError(f"check_layer: hparams_style must be 'keywords' or 'dict', got {hparams_style!r}")
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise LayerCheckError(f"check_layer: dtype must be float32 or float64, got {dt}")
    default_weight = "OI" if like == "linear" else "OIHW"
    layouts = Layouts.make(layout or "NCHW", weight_layout or default_weight, bias_layout)
    return Setup(spec, forward, backward, backward_takes, _mapping(spec, hparams), hparams_style, layouts,
                 dict(extra or {}), dt, square)


def _search(runner: Runner, strategy: Any, max_examples: int | None, seed: int | None) -> tuple[int, Outcome | None]:
    from hypothesis import HealthCheck, Verbosity, given, settings
    from hypothesis import seed as hseed

    state: dict = {"n": 0, "fail": None}
    n = max_examples if max_examples is not None else getattr(settings.default, "max_examples", 100)

    @settings(database=None, deadline=None, max_examples=n, derandomize=seed is None, report_multiple_bugs=False,
              suppress_health_check=[HealthCheck.too_slow], verbosity=Verbosity.quiet, print_blob=False)
    @given(strategy)
    def prop(cfg: dict) -> None:
        state["n"] += 1
        outcome = runner.evaluate(cfg)
        if not outcome.ok:
            state["fail"] = outcome
            raise _Failed()

    run = prop if seed is None else hseed(seed)(prop)
    try:
        run()
    except _Failed:
        pass
    except Exception:
        if state["fail"] is None:  # not the user's layer: a problem of the check itself
            raise
    return state["n"], state["fail"]


def check_layer(like: str, forward: Callable | None = None, backward: Callable | None = None, *,
                backward_takes: str = "inputs", hparams: dict | None = None, hparams_style: str = "keywords",
                domain: dict | None = None, layout: str | None = None, weight_layout: str | None = None,
                bias_layout: str = "vector", extra: dict | None = None, dtype: Any = "float64",
                max_examples: int | None = None, seed: int | None = None, diagnose: bool = True) -> LayerReport:
    """Check your numpy ``forward``/``backward`` of a known layer against tinygrad_cnn on configurations
    drawn by hypothesis; the report holds the smallest failing one and a diagnosis.
    Shape: your layouts (``layout``, ``weight_layout``, ``bias_layout``) -> a LayerReport.

    >>> import numpy as np
    >>> report = check_layer("sigmoid", lambda x: 1 / (1 + np.exp(-x)), max_examples=10)
    >>> report.ok
    True
    """
    from .diagnose import diagnose as run_diagnosis

    setup = _setup(like, forward, backward, backward_takes, hparams, hparams_style, layout, weight_layout,
                   bias_layout, extra, dtype, bool((domain or {}).get("square", False)))
    mapped = frozenset(setup.mapping)
    dom = _domain(setup.spec, domain, mapped)
    runner = Runner(setup, dom)
    checked = (("out",) if forward else ()) + (setup.spec.grads if backward else ())
    start = time.perf_counter()
    n, failure = _search(runner, setup.spec.strategy(dom, mapped), max_examples, seed)
    if failure is None:
        return LayerReport.passed(like, n, time.perf_counter() - start, checked)
    sentences = run_diagnosis(runner, dom, mapped, failure) if diagnose else []
    fixed = frozenset(k for k in setup.spec.hparams if k not in mapped and k not in setup.spec.unmapped_domain)
    return LayerReport.failed(like, n, time.perf_counter() - start, checked, failure, runner.describe(failure),
                              sentences, setup.square, fixed)


def assert_layer(like: str, forward: Callable | None = None, backward: Callable | None = None,
                 **kwargs: Any) -> LayerReport:
    """``check_layer`` for a test suite: raises ``LayerMismatch`` (an AssertionError) with the report.

    >>> assert_layer("tanh", np.tanh, max_examples=5).ok
    True
    """
    report = check_layer(like, forward, backward, **kwargs)
    report.raise_if_failed()
    return report
