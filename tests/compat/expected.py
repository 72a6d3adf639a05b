"""PyTorch's outputs of the snippet corpus and the ported programs, recorded in
``expected.json`` so that a run without PyTorch still compares every snippet's numbers.
Re-record with PyTorch installed: ``python -m tests.compat.expected`` (a test fails while the
file differs from what PyTorch computes)."""
import json
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("expected.json")


def encode(v):
    """A snippet's plain output (arrays, tuples, lists, numbers, strings, None) as JSON data."""
    if isinstance(v, (np.ndarray, np.generic)):
        return {"array": np.asarray(v).tolist(), "dtype": str(np.asarray(v).dtype), "shape": list(np.shape(v))}
    if isinstance(v, tuple):
        return {"tuple": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    return v


def decode(v):
    if isinstance(v, dict) and "array" in v:
        return np.array(v["array"], dtype=v["dtype"]).reshape(v["shape"])
    if isinstance(v, dict) and "tuple" in v:
        return tuple(decode(x) for x in v["tuple"])
    if isinstance(v, list):
        return [decode(x) for x in v]
    return v


def load() -> dict:
    return {k: decode(v) for k, v in json.loads(PATH.read_text()).items()} if PATH.exists() else {}


def record() -> dict:
    """Run every snippet and ported program with PyTorch; their plain outputs by name."""
    from .ported import PORTED
    from .snippets import SNIPPETS
    from .test_snippets import _plain, _run

    return {name: encode(_plain(_run(src, ours=False))) for name, src in {**SNIPPETS, **PORTED}.items()}


if __name__ == "__main__":
    outputs = record()
    PATH.write_text("{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(outputs[k])}" for k in sorted(outputs)) + "\n}\n")
    print(f"wrote {PATH}")
