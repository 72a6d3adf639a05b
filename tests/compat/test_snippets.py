"""The PyTorch snippet corpus (snippets.py), run with tinygrad_cnn aliased as ``torch`` and, when
installed, with PyTorch itself from the same source text; results compared to float32 tolerance."""
import contextlib
import sys

import numpy as np
import pytest

import tinygrad_cnn

from .expected import decode, load, record
from .ported import PORTED
from .snippets import SNIPPETS, UNSUPPORTED

RECORDED = load()

try:
    import torch as real_torch
except ImportError:  # PyTorch is an optional oracle
    real_torch = None

_ALIASES = {"torch": "", "torch.nn": ".nn", "torch.nn.functional": ".nn.functional", "torch.nn.init": ".nn.init",
            "torch.nn.utils": ".nn.utils", "torch.optim": ".optim", "torch.optim.lr_scheduler": ".optim.lr_scheduler",
            "torch.utils": ".utils", "torch.utils.data": ".utils.data", "torch.cuda": ".cuda"}


@contextlib.contextmanager
def _as_torch():
    """``import torch`` (and its submodules) gives tinygrad_cnn inside the block."""
    import importlib

    saved = {name: sys.modules.get(name) for name in _ALIASES}
    try:
        for name, suffix in _ALIASES.items():
            sys.modules[name] = importlib.import_module("tinygrad_cnn" + suffix)
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def _arrays():
    rng = np.random.default_rng(0)
    return lambda *shape: rng.standard_normal(shape).astype(np.float32)


def _run(source, ours):
    scope = {"np": np, "W": _arrays()}
    if ours:
        with _as_torch():
            exec(compile(source, "<snippet>", "exec"), scope)
    else:
        exec(compile(source, "<snippet>", "exec"), scope)
    return scope["out"]


def _plain(v):
    if isinstance(v, tinygrad_cnn.Tensor):
        return v.numpy()
    if real_torch is not None and isinstance(v, real_torch.Tensor):
        return v.detach().numpy()
    if real_torch is not None and isinstance(v, real_torch.Size):
        return tuple(v)
    if isinstance(v, (list, tuple)) and not isinstance(v, str):
        return type(v)(_plain(x) for x in v) if isinstance(v, list) else tuple(_plain(x) for x in v)
    return v


def _assert_same(ours, theirs, path="out"):
    if isinstance(ours, (list, tuple)):
        assert isinstance(theirs, (list, tuple)) and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, f"{path}[{i}]")
    elif isinstance(ours, np.ndarray) or isinstance(theirs, np.ndarray):
        a, b = np.asarray(ours), np.asarray(theirs)
        assert a.shape == b.shape, f"{path}: shape {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=2e-5, atol=2e-6, err_msg=path)
    elif isinstance(ours, float) or isinstance(theirs, float):
        assert abs(ours - theirs) <= 2e-5 * max(1.0, abs(theirs)), f"{path}: {ours} vs {theirs}"
    else:
        assert ours == theirs, f"{path}: {ours!r} vs {theirs!r}"


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet_runs_unchanged(name):
    ours = _plain(_run(SNIPPETS[name], ours=True))
    if real_torch is not None:
        _assert_same(ours, _plain(_run(SNIPPETS[name], ours=False)))
    _assert_same(ours, RECORDED[name])  # PyTorch's numbers as recorded: compared without PyTorch too


@pytest.mark.skipif(real_torch is None, reason="PyTorch records the expected outputs")
def test_recorded_outputs_are_what_torch_computes():
    live = {k: decode(v) for k, v in record().items()}
    assert set(live) == set(RECORDED), "re-record: python -m tests.compat.expected"
    for name, value in live.items():
        _assert_same(RECORDED[name], value, name)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_features_fail_clearly(name):
    source, word = UNSUPPORTED[name]
    with pytest.raises((NotImplementedError, RuntimeError, TypeError, ValueError, AttributeError)) as e:
        _run(source, ours=True)
    assert word in str(e.value)


@pytest.mark.parametrize("name", sorted(PORTED))
def test_ported_program_runs_unchanged(name):
    """A whole outside program: ours must run it; with torch installed, the same numbers."""
    ours = _plain(_run(PORTED[name], ours=True))
    if real_torch is not None:
        _assert_same(ours, _plain(_run(PORTED[name], ours=False)))
    _assert_same(ours, RECORDED[name])


def test_corpus_count(capsys):
    ran = 0
    for source in SNIPPETS.values():
        try:
            _run(source, ours=True)
            ran += 1
        except Exception:  # counted, not raised: the per-snippet tests name the failure
            pass
    total = len(SNIPPETS) + len(UNSUPPORTED)
    with capsys.disabled():
        print(f"\ncompat corpus: {ran} of {total} snippets ran unchanged ({len(UNSUPPORTED)} not supported yet)")
    assert ran == len(SNIPPETS)
