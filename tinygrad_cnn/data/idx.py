"""Reading the IDX format of MNIST-style files, with errors that name the file and the problem."""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from ..serialization import LoadError

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


class DatasetError(LoadError):
    """A data file that is missing, corrupt, truncated or of the wrong kind."""


def read_idx(path: str | os.PathLike, expect_magic: int) -> np.ndarray:
    """Read one gzipped (or plain) IDX file of unsigned bytes, checking its header and length.

    The data are decompressed straight into their final array (no intermediate copies), which keeps
    the peak memory of loading MNIST near the 47 MB the images take.
    Shape: images (N, rows, cols) for magic 2051, labels (N,) for magic 2049; dtype uint8.
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    try:
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
            return _read_stream(f, name, expect_magic)
    except OSError as e:
        if isinstance(e, (gzip.BadGzipFile,)) or not isinstance(e, FileNotFoundError) and e.errno is None:
            raise DatasetError(f"{name}: corrupt or truncated gzip data ({e})") from None
        raise DatasetError(f"{name}: cannot read {path}: {e.strerror or e}") from None
    except (EOFError, zlib.error) as e:
        raise DatasetError(f"{name}: corrupt or truncated gzip data ({e})") from None


def _read_stream(f, name: str, expect_magic: int) -> np.ndarray:
    head = f.read(4)
    if len(head) < 4:
        raise DatasetError(f"{name}: file too short for an IDX header ({len(head)} bytes)")
    magic = int.from_bytes(head, "big")
    if magic != expect_magic:
        kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(expect_magic, "?")
        raise DatasetError(f"{name}: wrong magic number {magic} (expected {expect_magic} for an IDX {kind} file)")
    ndim = head[3]
    raw_dims = f.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DatasetError(f"{name}: truncated IDX header")
    dims = tuple(int.from_bytes(raw_dims[4 * i:4 * i + 4], "big") for i in range(ndim))
    expected = int(np.prod(dims)) if dims else 0
    out = np.empty(expected, dtype=np.uint8)
    view, got = memoryview(out.data), 0
    while got < expected:  # 1 MiB at a time: one big read would decompress into a second full-size buffer
        n = f.readinto(view[got:got + (1 << 20)])
        if not n:
            break
        got += n
    extra = len(f.read(1))
    if got != expected or extra:
        held = f"{got}" if not extra else f"more than {expected}"
        raise DatasetError(f"{name}: truncated or oversized data: header says {dims} = {expected} bytes, "
                           f"file holds {held}")
    return out.reshape(dims)
