"""``save`` / ``load``: state dicts (and nested dicts of them) as ``.npz``, written atomically, read
with checks that turn every damaged or foreign file into one :class:`LoadError` line."""
from __future__ import annotations

import os
import secrets
import time
import zipfile
import zlib
from collections import OrderedDict
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


# the Tensor classes save/load keep apart, by tag; nn adds Parameter (nn imports this module, not the reverse)
TENSOR_TYPES: dict[str, type] = {"tensor": Tensor}
_FORMAT = "!format"  # a member every file of this format holds; older files (no type tags) lack it
_CONTAINERS = {"!dict": dict, "!odict": OrderedDict, "!list": list, "!tuple": tuple}


def _escape(key: Any, where: str) -> str:
    """A dict key as one member-name component that keeps its type: ``s:`` text (``%`` and ``/``
    escaped), ``i:`` int, ``b:`` bool."""
    if isinstance(key, bool):
        return f"b:{int(key)}"
    if isinstance(key, int):
        return f"i:{int(key)}"
    if isinstance(key, str):
        return "s:" + key.replace("%", "%25").replace(_SEP, "%2F").replace("\x00", "%00")
    raise TypeError(f"save: {where} has a key of type {type(key).__name__} ({key!r}); "
                    "keys must be Python str, int or bool")


def _unescape(part: str) -> Any:
    kind, text = part[:2], part[2:]
    if kind == "b:":
        return text == "1"
    if kind == "i:":
        return int(text)
    if kind == "s:":
        return text.replace("%00", "\x00").replace("%2F", _SEP).replace("%25", "%")
    raise LoadError(f"load: unexpected key component {part!r}")


def _leaf(obj: Any, where: str) -> tuple[str, np.ndarray]:
    """The type tag and the array that stand for one stored value."""
    if obj is None:
        return "!none", np.zeros(0)
    if isinstance(obj, np.generic):  # before Python's numbers: np.float64 is a float
        if obj.dtype.hasobject:
            raise TypeError(f"save: {where} is a numpy object scalar, which save() does not store")
        return "!npscalar", np.asarray(obj)
    if isinstance(obj, bool):
        return "!bool", np.asarray(obj)
    if isinstance(obj, int):
        if -2 ** 63 <= obj < 2 ** 63:
            return "!int", np.asarray(obj, dtype=np.int64)
        return "!bigint", _utf8(str(obj))
    if isinstance(obj, float):
        return "!float", np.asarray(obj, dtype=np.float64)
    if isinstance(obj, str):
        return "!str", _utf8(obj)
    if isinstance(obj, Tensor):
        kind = next((k for k, cls in TENSOR_TYPES.items() if type(obj) is cls), "tensor")
        return f"!{kind}:{int(obj.requires_grad)}", obj._data
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError(f"save: {where} is an array of Python objects, which save() does not store")
        return "!ndarray", obj
    raise TypeError(f"save: {where} is a {type(obj).__name__}, which save() cannot store (it stores dicts, lists and "
                    "tuples of arrays, Tensors, numbers, strings and None)")


def _utf8(text: str) -> np.ndarray:
    """Text as its UTF-8 bytes (numpy's unicode arrays drop trailing NULs)."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _flatten(obj: Any, parts: list, where: str, out: dict) -> None:
    """Every value of ``obj`` as ``out[member name] = array``; names end in the value's type tag."""
    name = _SEP.join(parts)
    prefix = name + _SEP if parts else ""
    if isinstance(obj, (dict, list, tuple)):
        tag = "!odict" if isinstance(obj, OrderedDict) else "!dict" if isinstance(obj, dict) else \
            "!list" if isinstance(obj, list) else "!tuple"
        out[prefix + tag] = np.zeros(0)
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for k, v in items:
            _flatten(v, parts + [_escape(k, where)], f"{where}[{k!r}]", out)
        return
    tag, array = _leaf(obj, where)
    out[prefix + tag] = array


def _build(path: tuple, tags: dict, children: dict) -> Any:
    """The value stored at ``path`` (a tuple of keys), made again with its type."""
    if path not in tags:
        raise LoadError(f"load: a stored value at {list(path)} has no type tag")
    tag, array = tags[path]
    kids = children.get(path, {})
    if tag in _CONTAINERS:
        items = [(k, _build(path + (k,), tags, children)) for k in kids]
        if tag in ("!list", "!tuple"):
            if [k for k, _ in items] != list(range(len(items))):
                raise LoadError(f"load: a stored {tag[1:]} at {list(path)} has keys {[k for k, _ in items]}")
            return _CONTAINERS[tag](v for _, v in items)
        return _CONTAINERS[tag](items)
    if kids:
        raise LoadError(f"load: a stored value at {list(path)} holds other values")
    return _value(tag, array)


def _value(tag: str, array: np.ndarray) -> Any:
    if tag == "!none":
        return None
    if tag in ("!bool", "!int", "!float"):
        return {"!bool": bool, "!int": int, "!float": float}[tag](array[()])
    if tag in ("!str", "!bigint"):
        text = array.tobytes().decode("utf-8")
        return text if tag == "!str" else int(text)
    if tag == "!ndarray":
        return array
    if tag == "!npscalar":
        return array[()]
    kind, _, grad = tag[1:].partition(":")
    if kind in TENSOR_TYPES:
        return TENSOR_TYPES[kind](array, requires_grad=grad == "1")
    raise LoadError(f"load: unknown type tag {tag!r}")


def _decode(members: list) -> dict:
    tags: dict = {}
    children: dict = {}
    for name, array in members:
        if name == _FORMAT:
            continue
        *parts, tag = name.split(_SEP)
        path = tuple(_unescape(q) for q in parts)
        tags[path] = (tag, array)
        for i in range(len(path)):
            children.setdefault(path[:i], {})[path[i]] = None
    out = _build((), tags, children)
    if not isinstance(out, dict):
        raise LoadError("load: the stored object is not a dict")
    return out


def save(obj: dict, path: str | os.PathLike) -> None:
    """Write a dict (nested dicts, lists and tuples of arrays, Tensors, Python and numpy numbers,
    strings and None; str, int or bool keys) to ``path`` as ``.npz``, each value tagged with its
    type so that :func:`load` gives back the same types; first to a temporary file in the same
    folder, then renamed over ``path``, so a crash never leaves half a checkpoint. Anything else is
    refused with the path of the item, before a file is written.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> save({"w": np.arange(3.0)}, p); load(p)["w"].tolist()
    [0.0, 1.0, 2.0]
    """
    if not isinstance(obj, dict):
        raise TypeError(f"save: obj must be a dict (e.g. model.state_dict()), got {type(obj).__name__}")
    flat: dict = {_FORMAT: np.asarray(2)}
    _flatten(obj, [], "obj", flat)
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
    """Read what :func:`save` wrote: the same nested dict with the same types (arrays bit for bit).
    Anything else (missing, not an archive, truncated, damaged, pickled, a bomb) raises LoadError."""
    path = Path(path)
    members = []
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
            members.append((info.filename[:-len(".npy")], array))
    if any(name == _FORMAT for name, _ in members):
        return _decode(members)
    out: dict = {}  # a file written before type tags: arrays and dicts, lists marked as such
    for name, array in members:
        _insert(out, name, array)
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
