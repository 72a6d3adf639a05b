"""Reading the IDX format of MNIST-style files, with errors that name the file and the problem."""
from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


class DatasetError(ValueError):
    """A data file that is missing, corrupt, truncated or of the wrong kind."""


def read_idx(path: str | os.PathLike, expect_magic: int) -> np.ndarray:
    """Read one gzipped (or plain) IDX file of unsigned bytes, checking its header and length.

    Shape: images (N, rows, cols) for magic 2051, labels (N,) for magic 2049; dtype uint8.
    """
    path = os.fspath(path)
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DatasetError(f"{name}: cannot read {path}: {e.strerror}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DatasetError(f"{name}: corrupt or truncated gzip data ({e})") from None
    if len(raw) < 8:
        raise DatasetError(f"{name}: file too short for an IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expect_magic:
        kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(expect_magic, "?")
        raise DatasetError(f"{name}: wrong magic number {magic} (expected {expect_magic} for an IDX {kind} file)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{name}: truncated IDX header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(dims)) if dims else 0
    got = len(raw) - header
    if got != expected:
        raise DatasetError(f"{name}: truncated or oversized data: header says {dims} = {expected} bytes, "
                           f"file holds {got}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
