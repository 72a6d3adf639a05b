"""Export to ONNX, as ``torch.onnx.export``: run the forward once in eval mode, walk the graph it
recorded and write each op as standard ONNX ops, the parameters as initializers with their
module names. Needs the ``onnx`` package (``pip install "tinygrad_cnn[onnx]"``).

>>> import tempfile, os
>>> from tinygrad_cnn import nn, randn
>>> model = nn.Sequential(nn.Linear(3, 2), nn.ReLU()).eval()
>>> path = os.path.join(tempfile.mkdtemp(), "tiny.onnx")
>>> export(model, randn(1, 3), path, input_names=["x"], output_names=["y"]) == path
True
"""
from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..engine import _topo_order
from ..modes import _modes, no_grad
from ..tensor import Tensor
from .converters import CONVERTERS

__all__ = ["export", "ExportError"]


class ExportError(ValueError):
    """The model uses something ONNX export cannot write (named in the message)."""


class _Context:
    """Names of values, initializers and nodes while one graph is written."""

    def __init__(self, params: dict[int, str], inputs: dict[int, str], batch: int | None):
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.names: dict[int, str] = {**params, **inputs}
        self.batch = batch
        self.initializers: list = []
        self.counter = itertools.count()

    def name(self, t: Tensor) -> str:
        if id(t) not in self.names:  # a constant of the graph: an initializer of its own
            self.names[id(t)] = self.constant(t.numpy(), "const")
        return self.names[id(t)]

    def output_name(self, t: Tensor, op: str) -> str:
        self.names.setdefault(id(t), f"{op}_{next(self.counter)}")
        return self.names[id(t)]

    def constant(self, value: np.ndarray, prefix: str = "shape") -> str:
        name = f"{prefix}_{next(self.counter)}"
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value), name))
        return name

    def temp(self, prefix: str) -> str:
        return f"{prefix}_{next(self.counter)}"

    def node(self, op: str, inputs: list[str], t: Tensor, **attrs: Any) -> Any:
        return self.helper.make_node(op, inputs, [self.output_name(t, op.lower())], **attrs)

    def raw(self, op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> Any:
        return self.helper.make_node(op, inputs, outputs, **attrs)

    def dynamic_batch(self, t: Tensor) -> bool:
        return self.batch is not None and bool(t.shape) and t.shape[0] == self.batch

    @staticmethod
    def unsupported(node: Any, why: str) -> ExportError:
        at = f" (created at {node.site})" if node.site else ""
        return ExportError(f"export: op '{node.name}'{at} cannot be exported to ONNX: {why}")


def _value_info(helper: Any, name: str, t: Tensor, dims: dict) -> Any:
    shape = [dims.get(i, n) for i, n in enumerate(t.shape)]
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(t.dtype), shape)


def _forward(model_or_fn: Any, inputs: tuple) -> tuple[list[Tensor], tuple]:
    """The outputs of one forward in eval mode, every op recorded (the inputs require grad), and
    the inputs as the graph holds them; the user's lines kept for error messages."""
    xs = tuple(Tensor(np.asarray(x.numpy() if isinstance(x, Tensor) else x), requires_grad=True) for x in inputs)
    anomaly = _modes.anomaly
    _modes.anomaly = True  # nodes remember the line that made them
    try:
        out = model_or_fn(*xs)
    finally:
        _modes.anomaly = anomaly
    outs = [out] if isinstance(out, Tensor) else list(out)
    return outs, xs


def export(model_or_fn: Any, example_inputs: Any, path: str | Path, input_names: list[str] | None = None,
           output_names: list[str] | None = None, dynamic_axes: dict | None = None,
           opset_version: int = 17) -> str:
    """Write ``model_or_fn``'s forward on ``example_inputs`` as an ONNX model at ``path`` (returned),
    checked by ``onnx.checker`` (full check). ``dynamic_axes={"input": {0: "batch"}}`` makes the
    batch size symbolic. Shape: the model's, as recorded for the example inputs.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("export needs the onnx package: pip install 'tinygrad_cnn[onnx]'") from None
    inputs = (example_inputs,) if isinstance(example_inputs, (Tensor, np.ndarray)) else tuple(example_inputs)
    from ..nn import Module

    training = isinstance(model_or_fn, Module) and model_or_fn.training
    if training:
        warnings.warn("export: the model is in training mode; exporting its eval-mode behaviour (as "
                      "torch.onnx.export does)", UserWarning, stacklevel=2)
        model_or_fn.eval()
    try:
        outs, xs = _forward(model_or_fn, inputs)
    finally:
        if training:
            model_or_fn.train()
    in_names = list(input_names or [f"input_{i}" if len(xs) > 1 else "input" for i in range(len(xs))])
    out_names = list(output_names or [f"output_{i}" if len(outs) > 1 else "output" for i in range(len(outs))])
    named = dict(model_or_fn.named_parameters()) if isinstance(model_or_fn, Module) else {}
    params = {id(p): n for n, p in named.items()}
    dims = {name: {int(k): str(v) for k, v in axes.items()} for name, axes in (dynamic_axes or {}).items()}
    batch = xs[0].shape[0] if any(0 in d for d in dims.values()) and xs[0].shape else None
    ctx = _Context(params, {id(x): n for x, n in zip(xs, in_names)}, batch)
    for o, n in zip(outs, out_names):
        ctx.names[id(o)] = n
    nodes = _nodes(ctx, outs)
    h = ctx.helper
    used = {n for node in nodes for n in node.input}
    param_inits = [ctx.numpy_helper.from_array(p.numpy(), name) for name, p in named.items() if name in used]
    graph = h.make_graph(nodes, "tinygrad_cnn", [_value_info(h, n, x, dims.get(n, {})) for x, n in zip(xs, in_names)],
                         [_value_info(h, n, o, _out_dims(o, batch, dims)) for o, n in zip(outs, out_names)],
                         initializer=param_inits + ctx.initializers)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset_version)], producer_name="tinygrad_cnn")
    model.ir_version = min(model.ir_version, 10)  # what current onnxruntime releases read
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return str(path)


def _out_dims(o: Tensor, batch: int | None, dims: dict) -> dict:
    """An output's symbolic batch axis: the inputs' name for it, when its first axis is the batch."""
    if batch is None or not o.shape or o.shape[0] != batch:
        return {}
    names = [d[0] for d in dims.values() if 0 in d]
    return {0: names[0]} if names else {}


def _nodes(ctx: _Context, outs: list[Tensor]) -> list:
    """The ONNX nodes of every op behind ``outs``, inputs first."""
    found: list = []
    with no_grad():
        for t in _topo_order(outs, grad_edges_only=False):
            node = t.grad_fn
            if node is None:
                continue
            convert: Callable | None = CONVERTERS.get(node.name)
            if convert is None:
                raise ctx.unsupported(node, f"no conversion (exportable: {', '.join(sorted(CONVERTERS))})")
            found += convert(ctx, t, node)
    return found
