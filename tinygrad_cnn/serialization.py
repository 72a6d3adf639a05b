"""``save`` / ``load``: state dicts (and nested dicts of them) as ``.npz``, written atomically, read
with checks that turn every damaged or foreign file into one :class:`LoadError` line."""
from __future__ import annotations

import os
import secrets
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .tensor import Tensor

_SEP = "/"
TEMP_PREFIX, TEMP_SUFFIX = ".tmp-", ".npz"  # save's temporary files: ".tmp-XXXXXXXX.npz" beside the target
_MAX_EXPANSION = 200  # a compressed member may inflate this much (real float data: < 2x; a deflate bomb: ~1000x)


class StateDictError(ValueError, RuntimeError):
    """A state dict that does not fit its model, optimizer or schedule (PyTorch raises RuntimeError;
    we also say ValueError)."""


class LoadError(ValueError):
    """A checkpoint or data file that cannot be loaded: missing, not an archive, truncated,
    damaged, of the wrong kind, with the wrong keys or shapes, or too large for its content."""


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
        out[prefix.rstrip(_SEP)] = obj._data
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
    # the name is chosen before the file exists: an interruption at any moment after its creation
    # finds it in `tmp` and removes it
    tmp = os.path.join(folder, f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for any file
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **flat)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # any error, KeyboardInterrupt, or SystemExit from a SIGTERM handler
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sweep_temporaries(folder: str | os.PathLike, older_than: float | None = None) -> list[Path]:
    """Remove the temporary files that interrupted saves (kill -9) left in ``folder``: those named as
    :func:`save` names them and last modified before ``older_than`` (a time.time(); default now).
    Returns what was removed.

    >>> import tempfile
    >>> sweep_temporaries(tempfile.mkdtemp())
    []
    """
    cutoff = time.time() if older_than is None else older_than
    removed = []
    for p in Path(folder).glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if p.is_file() and p.stat().st_mtime < cutoff:
                p.unlink()
                removed.append(p)
        except OSError:  # gone already, or not ours to remove
            continue
    return removed


def _key(part: str) -> Any:
    return int(part[1:]) if part.startswith("#") else part


def _open_archive(path: Path) -> zipfile.ZipFile:
    """``path`` as a zip archive, or a LoadError saying what the file is instead."""
    if not path.exists():
        raise LoadError(f"load: {path} does not exist")
    if path.is_dir():
        raise LoadError(f"load: {path} is a directory, not a checkpoint file")
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise LoadError(f"load: {path} is empty")
    if head.startswith(b"\x93NUMPY"):
        raise LoadError(f"load: {path} is a .npy file (a single array), not an .npz archive written by save()")
    if not head.startswith(b"PK"):
        raise LoadError(f"load: {path} is not an .npz archive (it starts with {head!r}), so not a file save() wrote")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise LoadError(f"load: {path} is truncated or damaged (not a readable zip archive: {e})") from None
    if any(n.endswith("data.pkl") for n in archive.namelist()):
        archive.close()
        raise LoadError(f"load: {path} is a PyTorch checkpoint (torch.save), which holds pickled objects; convert "
                        "it to .npz as README.md's 'PyTorch checkpoints' shows")
    return archive


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One array of the archive, after checking its header against the sizes the zip declares."""
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise LoadError(f"load: {path}: {info.filename} has .npy format version {version}, not one save() writes")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read_header(f, max_header_size=10000)
        if dtype.hasobject:
            raise LoadError(f"load: {path}: {info.filename} holds pickled Python objects, which load() refuses")
        declared = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        header = f.tell()
        if declared > info.file_size - header:
            raise LoadError(f"load: {path}: {info.filename} declares {declared} bytes of data but holds "
                            f"{info.file_size - header}: truncated or inconsistent")
        if info.compress_type != zipfile.ZIP_STORED and declared > _MAX_EXPANSION * info.compress_size + (1 << 20):
            raise LoadError(f"load: {path}: {info.filename} would inflate {info.compress_size} bytes to {declared}: "
                            "too large for its declared content")
    with archive.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def load(path: str | os.PathLike) -> dict:
    """Read what :func:`save` wrote: the same nested dict, arrays as numpy arrays (bit for bit).
    Anything else (missing, not an archive, truncated, damaged, pickled, a bomb) raises LoadError."""
    path = Path(path)
    out: dict = {}
    with _open_archive(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise LoadError(f"load: {path}: unexpected member {info.filename!r}, not an array save() writes")
            try:
                array = _read_member(archive, info, path)
            except LoadError:
                raise
            except MemoryError:
                raise LoadError(f"load: {path}: {info.filename} is too large to load") from None
            except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, KeyError, OSError) as e:
                reason = " ".join(str(e).split())  # numpy's messages span lines
                raise LoadError(f"load: {path}: {info.filename} is truncated or damaged ({reason})") from None
            _insert(out, info.filename[:-len(".npy")], array)
    return _lists(out)


def _insert(out: dict, flat_key: str, array: np.ndarray) -> None:
    parts = flat_key.split(_SEP)
    parent, node = None, out
    for p in parts[:-1]:
        parent, node = node, node.setdefault(_key(p), {})
        if not isinstance(node, dict):
            raise LoadError(f"load: key {flat_key!r} nests inside an array")
    last = parts[-1]
    if last == "!none":
        parent[_key(parts[-2])] = None  # type: ignore[index]
    elif last == "!list":
        node["!list"] = True
    elif last != "!empty":
        node[_key(last)] = array


def _lists(node: Any) -> Any:
    """Turn the dicts that stood for lists back into lists."""
    if not isinstance(node, dict):
        return node
    if node.pop("!list", False):
        if sorted(node) != list(range(len(node))):
            raise LoadError(f"load: a stored list has keys {sorted(node, key=str)} instead of 0..{len(node) - 1}")
        return [_lists(node[i]) for i in range(len(node))]
    return {k: _lists(v) for k, v in node.items()}
