"""What ``tinygrad-cnn check`` needs besides its arguments: loading the user's functions from a file
or module, and reading ``--hparam`` and ``--domain`` values written on a command line."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable

from .domain import LayerCheckError


def _module(name: str) -> Any:
    if name.endswith(".py"):
        path = Path(name)
        if not path.is_file():
            raise LayerCheckError(f"no file {name}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, str(path.resolve().parent))  # its own imports of neighbouring files
        try:
            spec.loader.exec_module(module)
        except Exception as e:  # the user's file: a clear line instead of a traceback
            raise LayerCheckError(f"cannot load {name}: {type(e).__name__}: {e}") from None
        finally:
            sys.path.pop(0)
        return module
    sys.path.insert(0, ".")
    try:
        return importlib.import_module(name)
    except Exception as e:
        raise LayerCheckError(f"cannot import {name}: {type(e).__name__}: {e}") from None
    finally:
        sys.path.pop(0)


def load_function(target: str, default_module: str | None = None) -> Callable:
    """``path/to/file.py:name`` or ``package.module:name`` (or a bare name inside ``default_module``).

    >>> load_function("numpy:tanh").__name__
    'tanh'
    """
    module, sep, name = target.rpartition(":")
    if not sep:
        if default_module is None:
            raise LayerCheckError(f"expected MODULE:FUNCTION or FILE.py:FUNCTION, got {target!r}")
        module, name = default_module, target
    fn = getattr(_module(module), name, None)
    if not callable(fn):
        raise LayerCheckError(f"{module} has no function {name!r}")
    return fn


def _value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(text)
    except ValueError:
        return text


def parse_domain(items: list[str]) -> dict:
    """``stride=1,2`` (a list), ``padding=0..2`` (a range), ``sides=28x28``, ``square=true``, ``bias=both``.

    >>> parse_domain(["stride=1,2", "padding=0..2", "sides=28x28", "square=true", "bias=both"])
    {'stride': [1, 2], 'padding': (0, 2), 'sides': (28, 28), 'square': True, 'bias': 'both'}
    """
    out: dict = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key or not text:
            raise LayerCheckError(f"--domain takes KEY=VALUES (stride=1,2 or padding=0..2), got {item!r}")
        if ".." in text:
            low, _, high = text.partition("..")
            out[key] = (int(low), int(high))
        elif "x" in text and all(p.isdigit() for p in text.split("x")):
            h, w = text.split("x")
            out[key] = (int(h), int(w))
        elif "," in text:
            out[key] = [_value(t) for t in text.split(",")]
        else:
            out[key] = _value(text)
    return out


def parse_hparams(items: list[str]) -> dict:
    """``stride=stride``, ``padding=pad``, ``kernel_size=pool_height,pool_width`` (two keywords).

    >>> parse_hparams(["padding=pad", "kernel_size=pool_height,pool_width"])
    {'padding': 'pad', 'kernel_size': ('pool_height', 'pool_width')}
    """
    out: dict = {}
    for item in items:
        ref, sep, theirs = item.partition("=")
        if not sep or not ref or not theirs:
            raise LayerCheckError(f"--hparam takes REFERENCE=YOURS (padding=pad), got {item!r}")
        out[ref] = tuple(theirs.split(",")) if "," in theirs else theirs
    return out
