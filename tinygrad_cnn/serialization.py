"""``save`` / ``load``: state dicts (and nested dicts of them) as ``.npz``, written atomically."""
from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from .tensor import Tensor

_SEP = "/"


def _flatten(obj: Any, prefix: str, out: dict) -> None:
    if isinstance(obj, dict):
        if not obj:
            out[prefix + "!empty"] = np.zeros(0)
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"save: dict keys must be str or int, got {type(k).__name__}")
            key = str(k) if not isinstance(k, int) else f"#{k}"
            if _SEP in key:
                raise ValueError(f"save: key {key!r} must not contain '{_SEP}'")
            _flatten(v, f"{prefix}{key}{_SEP}", out)
    elif isinstance(obj, list):
        out[prefix + "!list"] = np.zeros(0)
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}#{i}{_SEP}", out)
    elif isinstance(obj, tuple) and all(isinstance(v, (int, float, bool)) for v in obj):
        out[prefix.rstrip(_SEP)] = np.asarray(obj)
    elif isinstance(obj, str):
        out[prefix.rstrip(_SEP)] = np.asarray(obj)
    elif isinstance(obj, Tensor):
        out[prefix.rstrip(_SEP)] = obj.data
    elif isinstance(obj, (np.ndarray, np.generic, int, float, bool)):
        out[prefix.rstrip(_SEP)] = np.asarray(obj)
    elif obj is None:
        out[prefix.rstrip(_SEP) + _SEP + "!none"] = np.zeros(0)
    else:
        raise TypeError(f"save: cannot store a {type(obj).__name__} (store arrays, numbers, strings, and dicts "
                        "and lists of them)")


def save(obj: dict, path: str | os.PathLike) -> None:
    """Write a (nested) dict of arrays/Tensors/numbers/strings (lists too) to ``path`` as ``.npz``: first to a temporary
    file in the same folder, then renamed over ``path``, so a crash never leaves half a checkpoint.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> save({"w": np.arange(3.0)}, p); load(p)["w"].tolist()
    [0.0, 1.0, 2.0]
    """
    if not isinstance(obj, dict):
        raise TypeError(f"save: obj must be a dict (e.g. model.state_dict()), got {type(obj).__name__}")
    flat: dict = {}
    _flatten(obj, "", flat)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **flat)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)  # mkstemp makes the file private (0600); give it the usual permissions
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _key(part: str) -> Any:
    return int(part[1:]) if part.startswith("#") else part


def load(path: str | os.PathLike) -> dict:
    """Read what :func:`save` wrote: the same nested dict, arrays as numpy arrays (bit for bit)."""
    out: dict = {}
    with np.load(os.fspath(path), allow_pickle=False) as data:
        for flat_key in data.files:
            parts = flat_key.split(_SEP)
            parent, node = None, out
            for p in parts[:-1]:
                parent, node = node, node.setdefault(_key(p), {})
            last = parts[-1]
            if last == "!none":
                parent[_key(parts[-2])] = None  # type: ignore[index]
            elif last == "!list":
                node["!list"] = True
            elif last != "!empty":
                node[_key(last)] = data[flat_key]
    return _lists(out)


def _lists(node: Any) -> Any:
    """Turn the dicts that stood for lists back into lists."""
    if not isinstance(node, dict):
        return node
    if node.pop("!list", False):
        return [_lists(node[i]) for i in range(len(node))]
    return {k: _lists(v) for k, v in node.items()}
